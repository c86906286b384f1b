"""Static gates, run as part of the suite: layer contracts, strict typing of the core, lint."""

from __future__ import annotations

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
    """Every core module loads in an interpreter where PySide6 cannot be imported at all."""
    code = (
        "import sys, pkgutil, importlib\n"
        "for name in ('PySide6', 'shiboken6', 'qasync'): sys.modules[name] = None\n"
        "import wsinspector.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'wsinspector.core.'): importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_core_is_strictly_typed():
    result = _run(sys.executable, "-m", "mypy", "--strict", "wsinspector/core")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("target", ["wsinspector", "tests", "bench"])
def test_ruff_clean(target: str):
    result = _run(sys.executable, "-m", "ruff", "check", target)
    assert result.returncode == 0, result.stdout + result.stderr
