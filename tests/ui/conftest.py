"""Fixtures for the window tests: a real AppContext (store, built-in echo server) and a shown MainWindow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6

from tests.peers import QtPeer
from tests.ui.helpers import show_window
from tests.ui.helpers_restarts import Restarts
from wsinspector.app.context import AppContext
from wsinspector.ui.main_window import MainWindow

UI_DIR = Path(__file__).parent
#: The offscreen platform plugin warns whenever a top-level window's size constraints change, and when a popup
#: menu opens (it can neither raise a window nor grab the keyboard); those are limits of the test platform,
#: not something the app did wrong.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)$"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if UI_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture
def context(qtbot: Any, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir)
    yield ctx
    ctx.shutdown()


@pytest.fixture
def window(qtbot: Any, context: AppContext) -> Iterator[MainWindow]:
    win = MainWindow(context)
    show_window(qtbot, win)
    yield win
    # pytest-qt has closed it already and asked for its deletion, which the events it processed may have done
    if not shiboken6.isValid(win):
        return
    if win.tests_page.loaded:
        win.tests_view.dirty = False  # whatever a test left unsaved on the Tests page: no question on closing
    win.close()




@pytest.fixture
def qt_peer() -> Iterator[Callable[..., QtPeer]]:
    """``qt_peer(**kwargs)`` makes a listening QtPeer; all are stopped afterwards."""
    peers: list[QtPeer] = []

    def make(**kwargs: Any) -> QtPeer:
        peer = QtPeer(**kwargs)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.stop()


@pytest.fixture
def restarts(qtbot: Any, data_dir: Path, tmp_path: Path) -> Iterator[Restarts]:
    """Opens and closes the window over the test's data folder and a settings file of its own; every context
    it opened is shut down after the test."""
    made = Restarts(qtbot, data_dir, tmp_path / "settings.ini")
    yield made
    for context in made.contexts:
        context.shutdown()
