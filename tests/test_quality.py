"""Static gates, run as part of the suite: layer contracts, strict typing of the core and the app, lint, dead
code."""

from __future__ import annotations

import ast
import subprocess
import sys
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


def test_core_and_app_are_strictly_typed():
    result = _run(sys.executable, "-m", "mypy", "--strict", "wsinspector/core", "wsinspector/app")
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
