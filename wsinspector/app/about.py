"""What About and ``--version`` say: the version, the Qt and Python it runs on, the data folder, the keyring
support, the licence."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import PySide6
from PySide6.QtCore import qVersion

from wsinspector import APP_NAME, __version__

LICENCE = "MIT"
HOMEPAGE = "https://github.com/wsinspector/wsinspector"


def keyring_support() -> str:
    """Which OS keyring this build can keep secrets in, without asking it anything (whether one runs is said
    at start, when the app first needs it)."""
    if sys.platform == "darwin":
        return "macOS Keychain"
    if sys.platform == "win32":
        return "Windows Credential Manager"
    try:
        import wsinspector.app.secret_service  # noqa: F401  (the Secret Service's libraries load)
    except ImportError as exc:
        return f"no Secret Service support in this build ({type(exc).__name__}: {exc})"
    return "Secret Service (GNOME Keyring, KeePassXC, KWallet)"


def about_lines(data_dir: Path) -> list[tuple[str, str]]:
    """``(label, value)`` pairs, the version first."""
    build = "installed build" if getattr(sys, "frozen", False) else f"Python package in {sys.prefix}"
    return [
        (APP_NAME, __version__),
        ("Build", build),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {platform.machine()})"),
        ("Data folder", str(data_dir)),
        ("Keyring", keyring_support()),
        ("Licence", LICENCE),
        ("Home page", HOMEPAGE),
    ]


def version_text(data_dir: Path) -> str:
    """What ``--version`` prints: ``wsinspector X.Y.Z`` on the first line, then the rest as ``Label: value``."""
    first, *rest = about_lines(data_dir)
    return "\n".join([f"{first[0]} {first[1]}", *(f"{label}: {value}" for label, value in rest)])
