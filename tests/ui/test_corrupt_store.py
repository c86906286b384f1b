"""A damaged database file: the app starts anyway, says so, works without saving and leaves the file alone."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.helpers import close_connection, connect, send_and_wait_for_echo, show_window
from tests.ui.helpers_connections import names
from wsinspector.app.context import AppContext
from wsinspector.ui.main_window import MainWindow


@pytest.fixture
def corrupt_db(data_dir: Path) -> tuple[Path, bytes]:
    path = data_dir / "wsinspector.sqlite3"
    junk = random.Random(6455).randbytes(8192)
    path.write_bytes(junk)
    return path, junk


@pytest.fixture
def started(qtbot: Any, data_dir: Path, corrupt_db: tuple[Path, bytes]) -> Iterator[MainWindow]:
    context = AppContext(data_dir)
    window = MainWindow(context)
    show_window(qtbot, window)
    yield window
    window.close()
    context.shutdown()


def test_corrupt_database_is_reported_in_a_warning_banner(started: MainWindow, corrupt_db: tuple[Path, bytes]) -> None:
    window = started
    path, _ = corrupt_db
    assert window.banner.level == "warning", (window.banner.level, window.banner.text)
    assert str(path) in window.banner.text
    assert "left untouched" in window.banner.text
    assert "Working without saving" in window.banner.text


def test_corrupt_database_local_echo_works_and_file_is_unchanged(
    qtbot: Any, started: MainWindow, corrupt_db: tuple[Path, bytes]
) -> None:
    window = started
    path, junk = corrupt_db
    assert names(window.connections) == ["Local echo"]
    assert window.inspector.url.text() == window.context.echo_url
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "nothing is saved")
    close_connection(qtbot, window)
    window.close()
    window.context.shutdown()
    assert path.read_bytes() == junk
    assert sorted(p.name for p in path.parent.iterdir()) == ["wsinspector.sqlite3"]
