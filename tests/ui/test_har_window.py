"""HAR through the window: a recorded session exported from the Sessions page as HAR, imported back with File ▸
Import session, opened in a tab of its own, saved as a test; the timeline's selection exported as HAR; a big HAR's
import cancelled leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.ui.helpers import WAIT_MS, all_rows, click, replace_text, select_row
from tests.ui.helpers_sessions import (
    TaskOutcome,
    echo_round,
    frame_total,
    open_stored,
    session_ids,
    show_tab,
    store_big_session,
)
from wsinspector.app.context import AppContext
from wsinspector.ui.main_window import MainWindow


def _record(qtbot: Any, window: MainWindow, context: AppContext, messages: list[str]) -> int:
    assert context.echo_url is not None
    replace_text(qtbot, window.inspector.url, f"{context.echo_url}room?token=hunter2")
    return echo_round(qtbot, window, messages)


def test_a_session_exported_as_har_comes_back_through_file_import(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path
) -> None:
    original = _record(qtbot, window, context, ["hello har", '{"n": 1}'])
    path = tmp_path / "session.har"
    outcome = TaskOutcome(window.export_session(original, path)).wait(qtbot)
    assert outcome.kind == "finished", outcome.value
    assert window.statusBar().currentMessage() == f"Exported to {path}"
    text = path.read_text("utf-8")
    assert "hunter2" not in text, [text[max(0, i - 300):i + 50] for i in [text.find("hunter2")]]
    [entry] = json.loads(text)["log"]["entries"]
    assert [(m["type"], m["data"]) for m in entry["_webSocketMessages"]] == [
        ("send", "hello har"), ("receive", "hello har"), ("send", '{"n": 1}'), ("receive", '{"n": 1}')]
    assert [f["opcode"] for f in entry["_wsinspectorFrames"]] == [8, 8]  # the close handshake

    # File ▸ Import session or HAR… is in the File menu; it runs what window.import_session does
    file_menu = window.menuBar().actions()[0].menu()
    assert window.session_files.import_action in file_menu.actions()
    show_tab(qtbot, window, "Sessions")
    before = session_ids(window)
    outcome = TaskOutcome(window.import_session(path, show=True)).wait(qtbot)
    assert outcome.kind == "finished", outcome.value
    imported = outcome.value
    assert isinstance(imported, int) and imported not in before
    assert window.statusBar().currentMessage() == "Imported 1 session from session.har"
    # the imported session opened in a tab of its own and reads like the original
    qtbot.waitUntil(lambda: window.inspector.viewing is not None
                    and window.inspector.viewing.session_id == imported, timeout=WAIT_MS)
    shown = all_rows(window)
    open_stored(qtbot, window, original)
    assert all_rows(window) == shown

    # and it makes a test like any recorded session
    test_path = tmp_path / "from-har.yaml"
    assert window.save_session_as_test(imported, test_path)
    saved = test_path.read_text("utf-8")
    assert "hello har" in saved and "hunter2" not in saved


def test_the_timelines_selection_exports_as_har(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path
) -> None:
    original = _record(qtbot, window, context, ["first", "second", "third"])
    open_stored(qtbot, window, original)
    page = window.inspector
    select_row(qtbot, window, 2)  # "second", sent
    page.row_actions.update_actions()
    action = next(a for a in page.row_actions._groups["copy"] if a.objectName() == "exportSelectionHar")
    assert action.isEnabled()
    path = tmp_path / "selection.har"
    outcome = TaskOutcome(window.session_files.export_selection(page, path)).wait(qtbot)
    assert outcome.kind == "finished", outcome.value
    [entry] = json.loads(path.read_text("utf-8"))["log"]["entries"]
    assert [(m["type"], m["data"]) for m in entry["_webSocketMessages"]] == [("send", "second")]
    assert entry["_wsinspectorFrames"] == []


def test_a_bad_har_is_one_line_and_a_big_one_can_be_cancelled(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path
) -> None:
    store = context.store
    plain = tmp_path / "plain.har"
    plain.write_text('{"log": {"version": "1.2", "entries": [{"request": {"url": "https://x/"}}]}}')
    outcome = TaskOutcome(window.import_session(plain)).wait(qtbot)
    assert outcome.kind == "failed"
    assert window.banner.text == ("Importing plain.har failed: plain.har: the HAR file has no WebSocket entries "
                                  "(1 other request)")

    big = store_big_session(store, 60_000)
    path = tmp_path / "big.har"
    assert TaskOutcome(window.export_session(big, path)).wait(qtbot).kind == "finished"
    show_tab(qtbot, window, "Sessions")
    before_ids, before_frames = session_ids(window), frame_total(store)
    task = window.import_session(path)
    outcome = TaskOutcome(task)
    outcome.wait_progress(qtbot)
    assert task is not None and window.tasks.cancel_button.isVisible()
    with qtbot.waitSignal(task.cancelled, timeout=WAIT_MS):
        click(qtbot, window.tasks.cancel_button)
    assert outcome.kind == "cancelled"
    assert session_ids(window) == before_ids
    assert [r.id for r in store.sessions()] == before_ids
    assert frame_total(store) == before_frames


def test_a_har_opened_from_the_desktop_is_imported_and_shown(qtbot: Any, window: MainWindow) -> None:
    from tests.core.formats.conftest import SAMPLES

    window.open_paths([SAMPLES / "chrome.har"])  # `wsinspector capture.har`, or a double-click
    qtbot.waitUntil(lambda: window.inspector.viewing_bar.isVisible(), timeout=WAIT_MS)  # noqa: PLW0108  (the tab opened later)
    assert "app.example.com/socket" in window.inspector.viewing_label.text()
    assert [row["opcode"] for row in all_rows(window)] == ["text", "text", "binary"]
    assert window.statusBar().currentMessage() == "Imported 1 session from chrome.har"


def test_the_sessions_pages_export_offers_har(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QFileDialog, QLineEdit, QWidget

    from tests.ui.helpers import ModalHandler
    from tests.ui.helpers_sessions import click_session
    from wsinspector.ui.session_files import HAR_FILTER

    original = _record(qtbot, window, context, ["offered"])
    show_tab(qtbot, window, "Sessions")
    click_session(qtbot, window, original)
    target = tmp_path / "chosen.wssession.json"  # the session file's name, with HAR chosen as the type

    def choose_har(dialog: QWidget) -> None:
        assert isinstance(dialog, QFileDialog)
        assert HAR_FILTER in dialog.nameFilters()
        dialog.selectNameFilter(HAR_FILTER)
        dialog.findChild(QLineEdit, "fileNameEdit").setText(str(target))  # typed over the suggested name
        dialog.accept()

    handler = ModalHandler(qtbot, choose_har)
    click(qtbot, window.sessions_view.export_button)
    handler.wait()
    written = tmp_path / "chosen.har"
    qtbot.waitUntil(written.is_file, timeout=WAIT_MS)
    [entry] = json.loads(written.read_text("utf-8"))["log"]["entries"]
    assert [m["data"] for m in entry["_webSocketMessages"]] == ["offered", "offered"]


def test_the_sessions_pages_export_writes_a_load_test_for_the_file_type_chosen(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QFileDialog, QLineEdit, QWidget

    from tests.ui.helpers import ModalHandler
    from tests.ui.helpers_sessions import click_session
    from wsinspector.ui.session_files import ARTILLERY_FILTER, K6_FILTER

    original = _record(qtbot, window, context, ["load me", '{"n": 2}'])
    show_tab(qtbot, window, "Sessions")
    click_session(qtbot, window, original)
    target = tmp_path / "chosen.wssession.json"  # the session file's name, with Artillery chosen as the type

    def choose_artillery(dialog: QWidget) -> None:
        assert isinstance(dialog, QFileDialog)
        assert {K6_FILTER, ARTILLERY_FILTER} <= set(dialog.nameFilters())
        dialog.selectNameFilter(ARTILLERY_FILTER)
        dialog.findChild(QLineEdit, "fileNameEdit").setText(str(target))
        dialog.accept()

    handler = ModalHandler(qtbot, choose_artillery)
    click(qtbot, window.sessions_view.export_button)
    handler.wait()
    written = tmp_path / "chosen.yml"
    qtbot.waitUntil(written.is_file, timeout=WAIT_MS)
    scenario = written.read_text("utf-8")
    assert "engine: ws" in scenario and "payload: load me" in scenario
    assert "hunter2" not in scenario and "token={{ $processEnvironment.TOKEN }}" in scenario
    assert window.statusBar().currentMessage() == (
        f"Exported an Artillery load test to {written}; set TOKEN in the environment")

    k6 = tmp_path / "session.js"
    assert window.export_session(original, k6) is None  # written at once: no task
    script = k6.read_text("utf-8")
    assert "k6/websockets" in script and '"load me"' in script and "hunter2" not in script
    assert window.statusBar().currentMessage() == f"Exported a k6 load test to {k6}; set TOKEN in the environment"
