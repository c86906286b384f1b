"""The pinned PySide6 must survive what the app does all day: many calls of void Qt methods."""

import subprocess
import sys
from pathlib import Path

import PySide6


def test_pinned_pyside_version_is_not_the_broken_one():
    assert PySide6.__version__ != "6.12.0", "PySide6 6.12.0 aborts on CPython 3.11 after a few thousand void calls"


def test_200k_void_qt_calls_do_not_crash():
    script = Path(__file__).with_name("pyside_void_calls.py")
    result = subprocess.run([sys.executable, str(script), "200000"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"PySide6 {PySide6.__version__} crashed after void Qt calls "
        f"(exit {result.returncode}):\n{result.stderr[-2000:]}"
    )
    assert result.stdout.startswith("ok 200000 calls")
