"""What About and ``--version`` say: the version, the Qt and Python it runs on, the data folder, the keyring
support, the licence."""

from __future__ import annotations

import os
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


def secrets_kept(where: str | None) -> str | None:
    """Where this run keeps secrets: ``where`` (the running app's keeper says it), or, for ``--version``, which
    asks no keyring, only what ``WSINSPECTOR_KEYRING`` decides; None when that is not known without asking."""
    from wsinspector.app.secrets import KEEPER_ENV  # (it imports keyring: not for every --version)

    if where is not None:
        return where
    if os.environ.get(KEEPER_ENV, "").strip().lower() == "memory":
        return f"memory, only while wsinspector runs ({KEEPER_ENV}=memory: no keyring is asked)"
    return None


def about_lines(data_dir: Path, secrets_where: str | None = None) -> list[tuple[str, str]]:
    """``(label, value)`` pairs, the version first; ``secrets_where``: where the running app keeps secrets."""
    build = "installed build" if getattr(sys, "frozen", False) else f"Python package in {sys.prefix}"
    kept = secrets_kept(secrets_where)
    return [
        (APP_NAME, __version__),
        ("Build", build),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {platform.machine()})"),
        ("Data folder", str(data_dir)),
        ("Keyring", keyring_support()),
        *([("Secrets kept in", kept)] if kept is not None else []),
        ("Licence", LICENCE),
        ("Home page", HOMEPAGE),
    ]


def version_text(data_dir: Path, secrets_where: str | None = None) -> str:
    """What ``--version`` prints: ``wsinspector X.Y.Z`` on the first line, then the rest as ``Label: value``."""
    first, *rest = about_lines(data_dir, secrets_where)
    return "\n".join([f"{first[0]} {first[1]}", *(f"{label}: {value}" for label, value in rest)])
