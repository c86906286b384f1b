"""Fixtures shared by the store tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wsinspector.core.store import Store


@pytest.fixture
def open_store() -> Iterator[Callable[[Path], Store]]:
    """Open a Store; every store opened through this is closed after the test."""
    opened: list[Store] = []

    def _open(path: Path) -> Store:
        store = Store(path)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return data_dir / "wsinspector.sqlite3"
