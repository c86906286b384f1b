"""Reading a data folder the way an attacker with the disk would: every byte of the store's files."""

from __future__ import annotations

from pathlib import Path

from wsinspector.app.context import DB_NAME, AppContext


def raw(data_dir: Path) -> bytes:
    """Every byte of the database file and its write-ahead log."""
    return b"".join(path.read_bytes() for path in data_dir.glob(f"{DB_NAME}*") if path.is_file())


def start(contexts: list[AppContext], data_dir: Path) -> AppContext:
    """An app context over ``data_dir`` (no echo server), shut down after the test (the ``contexts`` fixture)."""
    context = AppContext(data_dir, start_echo=False)
    contexts.append(context)
    return context
