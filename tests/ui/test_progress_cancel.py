"""Long exports and imports show their progress in the status bar and can be cancelled, leaving nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.ui.helpers import WAIT_MS, click, focus
from tests.ui.helpers_sessions import (
    LONG_WAIT_MS,
    TaskOutcome,
    echo_round,
    frame_total,
    session_ids,
    session_rows,
    show_tab,
    store_big_session,
    write_big_file,
)
from wsinspector.app.context import AppContext
from wsinspector.ui.main_window import MainWindow

BIG = 300_000


@pytest.fixture
def big_session(context: AppContext) -> int:
    return store_big_session(context.store, BIG)


@pytest.fixture
def big_file(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "files"
    folder.mkdir()
    path = folder / "big.json"
    write_big_file(path, BIG)
    yield path


def _progress_shown(window: MainWindow, title: str) -> None:
    assert window.tasks.label.isVisible() and window.tasks.label.text() == f"{title}…"
    bar = window.tasks.progress
    assert bar.isVisible()
    assert bar.maximum() == 1000 and 0 < bar.value() < 1000, (bar.minimum(), bar.value(), bar.maximum())
    assert window.tasks.cancel_button.isVisible() and window.tasks.cancel_button.isEnabled()


def _progress_hidden(window: MainWindow) -> None:
    for widget in (window.tasks.label, window.tasks.progress, window.tasks.cancel_button):
        assert not widget.isVisible(), widget.objectName() or widget


def test_cancel_an_export_of_a_big_session(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path, big_session: int
) -> None:
    show_tab(qtbot, window, "Sessions")
    (row,) = session_rows(window)
    assert (row["Name"], row["Frames ↓"], row["Frames ↑"]) == ("Big session", "150,000", "150,000")
    path = tmp_path / "big.json"
    part = tmp_path / "big.json.part"

    task = window.export_session(big_session, path)
    outcome = TaskOutcome(task)
    outcome.wait_progress(qtbot)
    _progress_shown(window, "Exporting “Big session”")
    assert part.exists() and not path.exists()  # written to a temporary file first

    assert task is not None
    with qtbot.waitSignal(task.cancelled, timeout=WAIT_MS):
        click(qtbot, window.tasks.cancel_button)
    assert outcome.kind == "cancelled"
    assert not path.exists()
    assert not part.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    _progress_hidden(window)
    assert window.statusBar().currentMessage() == "Exporting “Big session”: cancelled"
    assert window.banner.level != "error"  # cancelling is not an error

    # a second export of the same session runs to the end
    outcome = TaskOutcome(window.export_session(big_session, path)).wait(qtbot, LONG_WAIT_MS)
    assert outcome.kind == "finished", outcome.value
    assert path.is_file() and not part.exists()
    assert path.read_text("utf-8").count('"dir": ') == BIG


def test_cancel_an_import_of_a_big_file(
    qtbot: Any, window: MainWindow, context: AppContext, big_file: Path
) -> None:
    store = context.store
    echo_round(qtbot, window, ["already here"])
    show_tab(qtbot, window, "Sessions")
    before_ids, before_rows, before_frames = session_ids(window), session_rows(window), frame_total(store)

    task = window.import_session(big_file)
    outcome = TaskOutcome(task)
    outcome.wait_progress(qtbot)
    _progress_shown(window, "Importing big.json")

    assert task is not None
    with qtbot.waitSignal(task.cancelled, timeout=WAIT_MS):
        click(qtbot, window.tasks.cancel_button)
    assert outcome.kind == "cancelled"
    _progress_hidden(window)
    assert window.statusBar().currentMessage() == "Importing big.json: cancelled"
    assert session_ids(window) == before_ids
    assert session_rows(window) == before_rows
    assert [r.id for r in store.sessions()] == before_ids
    assert frame_total(store) == before_frames  # no frames of a partial session either
    show_tab(qtbot, window, "Inspector")
    show_tab(qtbot, window, "Sessions")
    assert session_ids(window) == before_ids


def test_a_cancelled_import_leaves_no_row_after_the_list_was_refreshed_meanwhile(
    qtbot: Any, window: MainWindow, context: AppContext, big_file: Path
) -> None:
    """While a big import runs the user looks at the Inspector and comes back to Sessions (the list is
    re-read), then cancels: no half-imported session may stay listed."""
    echo_round(qtbot, window, ["already here"])
    show_tab(qtbot, window, "Sessions")
    before_ids = session_ids(window)

    task = window.import_session(big_file)
    outcome = TaskOutcome(task)
    outcome.wait_progress(qtbot)
    show_tab(qtbot, window, "Inspector")
    show_tab(qtbot, window, "Sessions")
    assert task is not None
    with qtbot.waitSignal(task.cancelled, timeout=WAIT_MS):
        click(qtbot, window.tasks.cancel_button)
    assert [r.id for r in context.store.sessions()] == before_ids
    listed = {sid: row["Status"] for sid, row in zip(session_ids(window), session_rows(window), strict=True)}
    assert session_ids(window) == before_ids, f"listed after the cancel: {listed}"


def test_filtering_during_an_export_keeps_its_progress_and_cancel(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path, big_session: int
) -> None:
    echo_round(qtbot, window, ["alpha", "beta"])
    path = tmp_path / "big.json"
    task = window.export_session(big_session, path)
    outcome = TaskOutcome(task)
    outcome.wait_progress(qtbot)

    # the user filters the timeline meanwhile (Return applies at once)
    search = window.inspector.filter_bar.search
    focus(qtbot, search)
    qtbot.keyClicks(search, "beta")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.inspector.model.is_filtered, timeout=WAIT_MS)
    assert window.inspector.model.rowCount() == 2
    assert outcome.kind == "", "the export should still be running"

    _progress_shown(window, "Exporting “Big session”")
    assert task is not None
    with qtbot.waitSignal(task.cancelled, timeout=WAIT_MS):
        click(qtbot, window.tasks.cancel_button)
    assert not path.exists() and not (tmp_path / "big.json.part").exists()
