"""Static gates, run as part of the suite: layer contracts, strict typing of the core and the app, lint, dead
code, dependencies, item models."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_contracts_hold():
    """The core imports no Qt and no outer layer; ui > app > net > core; net takes no storage bits from the log."""
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_imports_without_qt():
    """Every core module, in subpackages too, loads in an interpreter where PySide6 cannot be imported at all."""
    code = (
        "import sys, pkgutil, importlib\n"
        "for name in ('PySide6', 'shiboken6', 'qasync'): sys.modules[name] = None\n"
        "import wsinspector.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'wsinspector.core.'): importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_core_net_and_app_are_strictly_typed():
    result = _run(sys.executable, "-m", "mypy", "--strict", "wsinspector/core", "wsinspector/net", "wsinspector/app")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("target", ["wsinspector", "tests", "bench", "packaging"])
def test_ruff_clean(target: str):
    result = _run(sys.executable, "-m", "ruff", "check", target)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_dead_code():
    """Everything in wsinspector is used by the product, its tests or the benchmarks. What only a library calls
    by name (Qt's virtual methods, mostly) is listed in tests/vulture_whitelist.py."""
    result = _run(sys.executable, "-m", "vulture", "wsinspector", "tests", "bench", "packaging",
                  "tests/vulture_whitelist.py")
    dead = [line for line in result.stdout.splitlines() if line.startswith("wsinspector")]
    assert not dead, "\n".join(dead)


#: what product code imports from each runtime dependency in pyproject.toml
DEPENDENCY_MODULES = {
    "PySide6-Essentials": "PySide6.QtCore",
    "PySide6-Addons": "PySide6.QtWebSockets",
    "platformdirs": "platformdirs",
    "pyqtgraph": "pyqtgraph",
    "numpy": "numpy",
    "websockets": "websockets",
    "PyYAML": "yaml",
    "keyring": "keyring",
    "SecretStorage": "secretstorage",
    "jeepney": "jeepney.wrappers",
    "msgpack": "msgpack",
    "cbor2": "cbor2",
    "protobuf": "google.protobuf",
    "mcp": "mcp.server",
    "qasync": "qasync",
    "cryptography": "cryptography.x509",
}


def test_every_dependency_is_imported_by_the_product():
    """A runtime dependency is there because wsinspector imports it; one nothing imports is dropped."""
    with (ROOT / "pyproject.toml").open("rb") as fp:
        specs = tomllib.load(fp)["project"]["dependencies"]
    declared = {re.match(r"[A-Za-z0-9._-]+", spec).group(0) for spec in specs}  # type: ignore[union-attr]
    assert declared == set(DEPENDENCY_MODULES), "say in DEPENDENCY_MODULES what each dependency is imported as"
    imported: set[str] = set()
    for path in (ROOT / "wsinspector").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    unused = [dist for dist, module in DEPENDENCY_MODULES.items()
              if not any(name == module or name.startswith(module + ".") for name in imported)]
    assert not unused, f"dependencies nothing in wsinspector imports: {unused}"


#: every item model in the ui, and a test that runs qtmodeltester over it with rows in it
MODEL_TESTS = {
    "TimelineModel": "tests/ui/test_filter_find.py::test_the_same_filters_on_the_stored_session",
    "SessionsModel": "tests/ui/test_export_import.py::test_export_then_import_round_trip",
    "VerdictModel": "tests/ui/test_tests_view.py::test_a_replay_against_the_echo_passes_and_is_recorded_as_a_session",
    "StepsModel": "tests/ui/test_tests_view.py::test_a_live_session_saved_as_a_test_reads_back_identical",
    "PairsModel": "tests/ui/test_tests_view.py::test_a_json_expectation_ignores_a_path_and_names_it_when_it_does_not",
    "ConnectionsModel":
        "tests/ui/test_connection_folders.py::test_folders_and_recent_in_the_tree_pass_the_model_tester",
    "VariablesModel": "tests/ui/test_environments.py::test_the_dialog_edits_variables_and_keeps_secrets_in_the_keeper",
    "ProbesModel": "tests/ui/test_probe_page.py::test_a_probe_from_the_page_shows_its_row_and_opens_its_evidence",
}


def test_every_item_model_is_checked_by_qtmodeltester():
    """A class of wsinspector/ui that derives from a Qt item model (or from one of ours) is named in MODEL_TESTS
    with a test that calls ``qtmodeltester.check``."""
    bases: dict[str, list[str]] = {}
    for path in (ROOT / "wsinspector" / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases]

    def is_model(name: str) -> bool:
        return any(re.fullmatch(r"Q\w*Model", base) or is_model(base) for base in bases.get(name, []))

    concrete = {name for name in bases if is_model(name) and not any(name in b for b in bases.values())}
    assert concrete == set(MODEL_TESTS), "name each item model's qtmodeltester test in MODEL_TESTS"
    for model, test in MODEL_TESTS.items():
        file, function = test.split("::")
        tree = ast.parse((ROOT / file).read_text(encoding="utf-8"))
        body = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function)
        assert "qtmodeltester.check(" in ast.unparse(body), f"{test} does not check the {model}"


def test_nothing_in_the_product_passes_for_a_pytest_test():
    """No module-level class or function of wsinspector has a name pytest collects (``Test*``, ``test*``) from a
    test module that imports it, so none needs ``__test__ = False`` to say it is not a test."""
    found = []
    for path in sorted((ROOT / "wsinspector").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} class {node.name}")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} def {node.name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Name) and node.id == "__test__") or (
                    isinstance(node, ast.Attribute) and node.attr == "__test__"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} __test__")
    assert not found, "\n".join(found)


def test_no_module_grows_past_800_lines():
    """A module that long holds more than one concern: split it where the concerns part."""
    long = {str(path.relative_to(ROOT)): n for path in (ROOT / "wsinspector").rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 800}
    assert not long, long


def test_the_suite_collects_the_same_tests_whatever_the_hash_seed(request: pytest.FixtureRequest) -> None:
    """Each test worker (pytest-xdist) runs with its own hash seed and must collect the same ids in the same
    order: an id made from a set's repr differs between them and the whole run fails. A collection of the
    suite under another hash seed, from the same arguments, against this run's own (in its order, as far as
    this run selected)."""
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": seed, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist",
                             *request.config.args], capture_output=True, text=True, env=env,
                            cwd=request.config.invocation_params.dir, timeout=300)
    ours = [item.nodeid for item in request.session.items]
    theirs = [line for line in result.stdout.splitlines() if "::" in line]
    assert theirs, result.stderr
    collected, selected = set(theirs), set(ours)
    assert [nodeid for nodeid in ours if nodeid not in collected] == []
    assert [nodeid for nodeid in theirs if nodeid in selected] == ours
