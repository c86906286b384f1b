"""The stored sessions of a data folder, opened for a command that reads them (`messages`, `handshake`); only
those commands import it, never the window's start."""

from __future__ import annotations

import argparse
from pathlib import Path

from wsinspector.app.context import DB_NAME, default_data_dir
from wsinspector.cli_output import err
from wsinspector.core.store import Store, StoreError

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2


def open_sessions_store(args: argparse.Namespace) -> Store | int:
    """The store of ``args.data_dir`` (or the default data folder), or the exit status once the reason it cannot
    be read is printed: 1 when it holds no sessions, 2 when it cannot be opened."""
    path = (getattr(args, "data_dir", None) or default_data_dir()) / DB_NAME
    if not Path(path).is_file():
        err(f"no sessions stored in {path.parent}")
        return EXIT_NOT_FOUND
    try:
        return Store(path)
    except StoreError as exc:
        err(str(exc))
        return EXIT_USAGE
