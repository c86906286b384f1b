"""The Tests page: a session saved as a test, the test edited, saved and reopened, replayed against real
servers on loopback, and what the page shows when a step fails, a file is malformed, a variable is unknown or
the server is not there."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QMessageBox, QTableView, QWidget

from tests.peers import WebsocketsPeer
from tests.ui.helpers import (
    LEFT,
    WAIT_MS,
    click,
    close_connection,
    compose,
    connect,
    press_ctrl_enter,
    replace_text,
    send_and_wait_for_echo,
    type_number,
    wait_rows,
)
from tests.ui.helpers_sessions import click_session, session_tooltip, sessions_button, show_tab
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.scenario.model import (
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Scenario,
    SendStep,
    TextMatcher,
    TextPayload,
)
from wsinspector.core.scenario.verdict import RunResult
from wsinspector.core.scenario.yaml_io import read_test
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.step_models import COL_KIND, COL_SUMMARY
from wsinspector.ui.test_editor import PairsEditor
from wsinspector.ui.tests_view import VCOL_MARK, VCOL_MESSAGE, VCOL_NAME, ScenariosView

RUN_MS = 15_000
FRAGMENTED = "0123456789abcdefghijklmnopqrstuvwxyzABCD"  # 40 bytes: frames of 16, 16 and 8


# -- helpers ------------------------------------------------------------------------------------------


def choose_combo(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    assert index >= 0, f"no item {data!r} in {combo.objectName()}"
    combo.setCurrentIndex(index)
    assert combo.currentData() == data


def click_row(qtbot: Any, table: QTableView, row: int, col: int = 1) -> None:
    index = table.model().index(row, col)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualRect(index).center())
    assert table.currentIndex().row() == row


def cell(table: QTableView, row: int, col: int) -> str:
    value = table.model().data(table.model().index(row, col), Qt.ItemDataRole.DisplayRole)
    return "" if value is None else str(value)


def _cell_editor(qtbot: Any, table: QTableView, previous: QWidget | None = None) -> QWidget:
    """The line edit a table opened on a cell, once it has the focus."""

    def ready() -> bool:
        widget = QApplication.focusWidget()
        return isinstance(widget, QLineEdit) and widget is not previous and table.isAncestorOf(widget)

    qtbot.waitUntil(ready, timeout=WAIT_MS)
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def type_pair(qtbot: Any, editor: PairsEditor, name: str, value: str) -> None:
    """Click + (the new row's first cell opens for typing), type the name, Tab, type the value, Return."""
    click(qtbot, editor.add_button)
    row = editor.model.rowCount() - 1
    line = _cell_editor(qtbot, editor.table)
    qtbot.keyClicks(line, name)
    qtbot.keyClick(line, Qt.Key.Key_Tab)
    line = _cell_editor(qtbot, editor.table, line)
    qtbot.keyClicks(line, value)
    qtbot.keyClick(line, Qt.Key.Key_Return)
    # the delegate commits what Return confirmed on the next turn of the event loop
    qtbot.waitUntil(lambda: editor.pairs()[row] == (name, value), timeout=WAIT_MS)


def verdicts(view: ScenariosView) -> list[tuple[str, str, str]]:
    table = view.verdict_table
    return [(cell(table, row, VCOL_MARK), cell(table, row, VCOL_NAME), cell(table, row, VCOL_MESSAGE))
            for row in range(view.verdicts.rowCount())]


def run_test(qtbot: Any, view: ScenariosView) -> RunResult:
    """Click Run and wait for the verdict."""
    with qtbot.waitSignal(view.run_finished, timeout=RUN_MS) as finished:
        click(qtbot, view.run_button)
        assert view.running and not view.run_button.isEnabled() and view.cancel_button.isEnabled()
    result = finished.args[0]
    assert isinstance(result, RunResult)
    assert not view.running and view.run_button.isEnabled() and not view.cancel_button.isEnabled()
    return result


def fast(view: ScenariosView) -> None:
    choose_combo(view.speed, 0.0)
    assert view.speed.currentText() == "As fast as possible"


def record_echo_session(qtbot: Any, window: MainWindow) -> None:
    """Against the built-in echo: a text, a JSON text, binary, a ping, and a text sent in three frames."""
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "hello")
    send_and_wait_for_echo(qtbot, window, '{"op": "sum", "n": [1, 2.5]}')
    compose(qtbot, window, "de ad be ef", PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 6)
    compose(qtbot, window, "knock", PayloadMode.TEXT)
    click(qtbot, window.inspector.composer.ping_button)
    wait_rows(qtbot, window, 8)
    type_number(qtbot, window.inspector.composer.frame_size, "16")
    compose(qtbot, window, FRAGMENTED)
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 12)
    assert [(r["dir"], r["opcode"]) for r in rows[8:]] == [
        ("↑ out", "text"), ("↑ out", "continuation"), ("↑ out", "continuation"), ("↓ in", "text")]


EXPECTED_STEPS = [
    ("send text", TextPayload("hello")),
    ("expect text", TextMatcher("hello")),
    ("send json", JsonPayload({"op": "sum", "n": [1, 2.5]})),
    ("expect json", JsonMatcher({"op": "sum", "n": [1, 2.5]})),
    ("send binary", BinaryPayload(bytes.fromhex("deadbeef"))),
    ("expect binary", BytesMatcher(bytes.fromhex("deadbeef"))),
    ("send text", TextPayload(FRAGMENTED)),
    ("expect text", TextMatcher(FRAGMENTED)),
]


def save_live_session_as_test(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch,
                              path: Path) -> ScenariosView:
    """Session ▸ Save as test…, answering the file dialog with ``path``."""
    view = window.tests_view
    asked: list[Path] = []

    def answer(suggested: Path) -> Path:
        asked.append(suggested)
        return path

    monkeypatch.setattr(view, "ask_save_path", answer)
    window.save_as_test_action.trigger()
    assert window.tabs.currentWidget() is window.tests_page
    assert len(asked) == 1 and asked[0].name == "Local-echo.wstest.yaml"
    return view


# -- tests --------------------------------------------------------------------------------------------


def test_a_live_session_saved_as_a_test_reads_back_identical(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, qtmodeltester: Any):
    record_echo_session(qtbot, window)
    view = save_live_session_as_test(qtbot, window, monkeypatch, tmp_path / "echo")

    # the messages became steps, whole (the fragmented text is one step); the ping and pong are left out
    model = view.editor.model
    assert [cell(view.editor.table, row, COL_KIND) for row in range(model.rowCount())] == [
        kind for kind, _ in EXPECTED_STEPS]
    steps = [draft.step for draft in model.drafts]
    assert [s.payload if isinstance(s, SendStep) else s.matcher for s in steps  # type: ignore[union-attr]
            ] == [what for _, what in EXPECTED_STEPS]
    assert all(isinstance(s, SendStep) and s.delay_s is not None for s in steps[::2])
    assert all(isinstance(s, ExpectStep) for s in steps[1::2])
    assert cell(view.editor.table, 3, COL_SUMMARY) == '= {"op":"sum","n":[1,2.5]}'
    qtmodeltester.check(model)

    # saved where the dialog said, with the suffix added
    path = tmp_path / "echo.wstest.yaml"
    assert view.path == path and path.is_file() and not view.dirty
    assert str(path) in view.title.text()
    test = view.test()
    assert test.url == window.context.echo_url and test.name == "Local echo"
    assert read_test(path) == test

    # a new test, then the file opened again: identical
    click(qtbot, view.new_button)
    assert view.test().steps == ()
    monkeypatch.setattr(view, "ask_open_path", lambda: path)
    click(qtbot, view.open_button)
    assert view.path == path and not view.dirty
    assert view.test() == test
    show_tab(qtbot, window, "Inspector")
    close_connection(qtbot, window)


def test_a_replay_against_the_echo_passes_and_is_recorded_as_a_session(qtbot: Any, window: MainWindow,
                                                                        tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        qtmodeltester: Any):
    record_echo_session(qtbot, window)
    close_connection(qtbot, window)
    view = save_live_session_as_test(qtbot, window, monkeypatch, tmp_path / "echo.wstest.yaml")
    fast(view)
    result = run_test(qtbot, view)
    assert result.ok, result
    assert [mark for mark, _, _ in verdicts(view)] == ["✓"] * len(EXPECTED_STEPS)
    assert view.status.text().startswith("PASSED: 8 passed")
    assert view.progress.value() == view.progress.maximum() == len(EXPECTED_STEPS)
    qtmodeltester.check(view.verdicts)

    # the run is a new session on the Sessions page, linked to the test file
    session_id = view.recorded_session
    assert session_id is not None
    show_tab(qtbot, window, "Sessions")
    record = window.sessions_view.model.record(window.sessions_view.model.row_of(session_id) or 0)
    assert record is not None and record.id == session_id
    assert record.replay_of == str(tmp_path / "echo.wstest.yaml")
    assert record.name == "Replay: Local echo"
    assert f"Replay of the test {tmp_path / 'echo.wstest.yaml'}" in session_tooltip(window, session_id)

    # and it opens in the timeline from the Tests page
    show_tab(qtbot, window, "Tests")
    click(qtbot, view.open_session_button)
    assert window.inspector.viewing is not None and window.inspector.viewing.session_id == session_id
    assert window.tabs.currentIndex() == 0
    assert window.inspector.model.rowCount() == record.frame_count


def test_a_changed_expectation_fails_with_both_sides_and_the_diff(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch):
    record_echo_session(qtbot, window)
    close_connection(qtbot, window)
    view = save_live_session_as_test(qtbot, window, monkeypatch, tmp_path / "echo.wstest.yaml")
    editor = view.editor
    click_row(qtbot, editor.table, 1)
    assert editor.step_editor.pattern.isVisible()
    replace_text(qtbot, editor.step_editor.pattern, "goodbye")
    assert cell(editor.table, 1, COL_SUMMARY) == "= goodbye"
    assert view.dirty and "modified" in view.title.text()
    fast(view)

    result = run_test(qtbot, view)
    assert result.exit_code == 1
    rows = verdicts(view)
    assert rows[0][0] == "✓"
    assert rows[1][:2] == ("✗", "steps[1] expect text")
    assert "the text differs from character 1" in rows[1][2]
    assert [mark for mark, _, _ in rows[2:]] == ["–"] * 6
    assert {message for _, _, message in rows[2:]} == {"skipped"}
    assert view.status.text().startswith("FAILED: 1 passed, 1 failed, 0 errors, 6 skipped")

    # the failed step is selected: expected and received side by side, and the diff
    assert view.verdict_table.currentIndex().row() == 1
    click_row(qtbot, view.verdict_table, 0)
    assert view.expected.toPlainText() == "hello"  # the passed send: what was sent
    click_row(qtbot, view.verdict_table, 1)
    assert view.expected.isVisible() and view.received.isVisible()
    assert view.expected.isReadOnly() and view.received.isReadOnly()
    assert view.expected.toPlainText() == "goodbye"
    assert view.received.toPlainText() == "hello"
    diff = view.diff.toPlainText().splitlines()
    assert "-goodbye" in diff and "+hello" in diff
    assert "✗ steps[1] expect text: failed" in view.detail_title.text()


async def stamping_echo(ws: Any) -> None:
    """Echoes JSON with a field of its own making: ``ts``, 1001 for the first message of a connection."""
    stamp = 1000
    async for message in ws:
        document = json.loads(message)
        stamp += 1
        document["ts"] = stamp
        await ws.send(json.dumps(document))


def test_a_json_expectation_ignores_a_path_and_names_it_when_it_does_not(qtbot: Any, window: MainWindow,
                                                                         peer: Callable[..., str],
                                                                         qtmodeltester: Any):
    url = peer(stamping_echo)
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    editor = view.editor
    form = editor.step_editor
    replace_text(qtbot, editor.url, url)
    replace_text(qtbot, editor.name, "stamped")

    click(qtbot, editor.add_send)
    choose_combo(form.send_kind, "json")
    replace_text(qtbot, form.payload, '{"op": "hi", "ts": 0}')
    click(qtbot, editor.add_expect)
    assert editor.current_row == 1
    choose_combo(form.match_kind, "json")
    assert form.ignore.isVisible() and not form.delay.isVisible()
    replace_text(qtbot, form.pattern, '{"ts": 0, "op": "hi"}')
    replace_text(qtbot, form.ignore, "$.ts")
    assert cell(editor.table, 1, COL_SUMMARY) == '= {"ts":0,"op":"hi"}  (ignoring $.ts)'
    type_pair(qtbot, form.capture, "stamp", "$.ts")
    qtmodeltester.check(form.capture.model)
    qtmodeltester.check(editor.model)

    # reorder: the expectation up, then back down
    kinds = ["send json", "expect json"]
    assert not editor.down_button.isEnabled()
    click(qtbot, editor.up_button)
    assert [cell(editor.table, row, COL_KIND) for row in range(2)] == kinds[::-1] and editor.current_row == 0
    click(qtbot, editor.down_button)
    assert [cell(editor.table, row, COL_KIND) for row in range(2)] == kinds and editor.current_row == 1
    assert form.capture.pairs() == [("stamp", "$.ts")]

    result = run_test(qtbot, view)
    assert result.ok, result
    assert verdicts(view)[1][0] == "✓" and verdicts(view)[1][2] == "captured stamp=1001"

    click_row(qtbot, editor.table, 1)
    replace_text(qtbot, form.ignore, "")
    result = run_test(qtbot, view)
    assert not result.ok
    assert verdicts(view)[1][:2] == ("✗", "steps[1] expect json")
    assert "$.ts: expected 0, got 1001" in verdicts(view)[1][2]
    assert view.diff.toPlainText() == "$.ts: expected 0, got 1001"
    assert json.loads(view.received.toPlainText()) == {"op": "hi", "ts": 1001}


def test_invalid_fields_say_what_is_wrong_next_to_them(qtbot: Any, window: MainWindow, tmp_path: Path):
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    editor = view.editor
    form = editor.step_editor
    click(qtbot, editor.add_send)
    choose_combo(form.send_kind, "json")
    replace_text(qtbot, form.payload, '{"op": }')
    assert form.payload_error.isVisible()
    assert form.payload_error.text() == "Invalid JSON: Expecting value at line 1, column 8"
    assert cell(editor.table, 0, COL_SUMMARY).startswith("⚠ Invalid JSON")
    assert editor.step_count.text() == "1 step, 1 invalid"
    replace_text(qtbot, form.delay, "soon")
    assert not form.delay_error.isVisible()  # one mistake at a time: the payload's first
    replace_text(qtbot, form.payload, '{"op": 1}')
    assert not form.payload_error.isVisible()
    assert form.delay_error.isVisible() and "“soon” is not a number of seconds" in form.delay_error.text()
    replace_text(qtbot, form.delay, "0.5")
    assert not form.delay_error.isVisible() and editor.step_count.text() == "1 step"

    click(qtbot, editor.add_expect)
    choose_combo(form.match_kind, "regex")
    replace_text(qtbot, form.pattern, "^pong (")
    assert form.pattern_error.isVisible() and "invalid regular expression" in form.pattern_error.text()
    choose_combo(form.match_kind, "json")
    replace_text(qtbot, form.pattern, '{"a": 1}')
    replace_text(qtbot, form.ignore, "$.ok\n$.items[")
    assert form.ignore_error.isVisible() and form.ignore_error.text().startswith("line 2: '$.items['")
    replace_text(qtbot, form.ignore, "$.ok")
    replace_text(qtbot, form.timeout, "0")
    assert form.timeout_error.text() == "must be a positive number of seconds"

    # Save names the step and the field; nothing is written
    target = tmp_path / "broken.wstest.yaml"
    assert not view.save(target)
    assert window.banner.text == ("The test cannot be saved yet: steps[1]: timeout: must be a positive number "
                                  "of seconds")
    assert not target.exists()
    assert editor.current_row == 1

    replace_text(qtbot, editor.timeout, "-1")
    assert editor.timeout_error.isVisible() and "positive" in editor.timeout_error.text()
    replace_text(qtbot, editor.timeout, "5")
    type_pair(qtbot, editor.variables, "1st", "x")
    assert editor.variables.error.isVisible() and "'1st' is not a variable name" in editor.variables.error.text()
    click(qtbot, editor.variables.remove_button)
    assert editor.variables.pairs() == [] and not editor.variables.error.isVisible()
    replace_text(qtbot, editor.url, "http://example.com/")
    assert editor.url_error.isVisible()
    assert editor.url_error.text() == "WebSocket URLs start with ws:// or wss:// (did you mean ws://?)"
    replace_text(qtbot, editor.url, "")
    assert editor.url_error.text() == "must not be empty"

    # remove both steps
    click(qtbot, editor.remove_button)
    click(qtbot, editor.remove_button)
    assert editor.model.rowCount() == 0 and not editor.remove_button.isEnabled()
    assert not form.isEnabled() and editor.step_count.text() == "0 steps"


def test_a_malformed_file_is_named_in_the_banner_and_the_page_goes_on(qtbot: Any, window: MainWindow,
                                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    replace_text(qtbot, view.editor.name, "kept")
    view.dirty = False  # nothing to ask about before opening
    bad = tmp_path / "bad.wstest.yaml"
    bad.write_text("version: 1\nurl: ws://127.0.0.1:9/\nsteps:\n  - send:\n      text: hi\n"
                   "  - expect:\n      text: hi\n      timeout: soon\n", encoding="utf-8")
    monkeypatch.setattr(view, "ask_open_path", lambda: bad)
    click(qtbot, view.open_button)
    assert window.banner.isVisible() and window.banner.level == "error"
    assert window.banner.text == ("Cannot open the test bad.wstest.yaml: line 8, column 16: "
                                  "steps[1].expect.timeout: must be a number of seconds, not 'soon'")
    assert view.editor.name.text() == "kept" and view.path is None

    # the page still works: edit, then open a good file
    click(qtbot, view.editor.add_wait)
    assert cell(view.editor.table, 0, COL_KIND) == "wait"
    good = tmp_path / "good.wstest.yaml"
    good.write_text("version: 1\nname: good\nurl: ws://127.0.0.1:9/\nsteps:\n  - wait: 0.5\n", encoding="utf-8")
    view.dirty = False
    monkeypatch.setattr(view, "ask_open_path", lambda: good)
    click(qtbot, view.open_button)
    assert view.path == good and view.editor.name.text() == "good"
    assert not window.banner.isVisible()


def test_an_unknown_variable_is_named_before_anything_connects(qtbot: Any, window: MainWindow,
                                                               peer: Callable[..., str]):
    url = peer()
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    editor = view.editor
    replace_text(qtbot, editor.url, url)
    click(qtbot, editor.add_send)
    replace_text(qtbot, editor.step_editor.payload, "hi {{who}}")
    sessions_before = len(window.context.store.sessions())

    click(qtbot, view.run_button)
    assert view.runner is None and not view.running
    assert view.status.isVisible()
    assert view.status.text() == ("Unknown variable: {{who}} (used in steps[0].send.text). Define it in the test's "
                                  "variables, the active environment or as an override for this run.")
    assert view.verdicts.rowCount() == 0
    assert len(window.context.store.sessions()) == sessions_before  # nothing was recorded: nothing connected

    # an override for this run defines it
    type_pair(qtbot, view.overrides, "who", "world")
    fast(view)
    result = run_test(qtbot, view)
    assert result.ok, result


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_dead_server_ends_the_run_with_an_error_and_its_reason(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, qtmodeltester: Any):
    record_echo_session(qtbot, window)
    close_connection(qtbot, window)
    view = save_live_session_as_test(qtbot, window, monkeypatch, tmp_path / "echo.wstest.yaml")
    replace_text(qtbot, view.url_override, f"ws://127.0.0.1:{_dead_port()}/")
    result = run_test(qtbot, view)
    assert result.exit_code == 2 and "refused" in result.error
    rows = verdicts(view)
    assert rows[0][:2] == ("✗", "connection") and "refused" in rows[0][2]
    assert [mark for mark, _, _ in rows[1:]] == ["–"] * len(EXPECTED_STEPS)
    assert view.status.text().startswith("ERROR: ") and "refused" in view.status.text()
    assert view.verdict_table.currentIndex().row() == 0
    assert "refused" in view.detail_title.text()
    qtmodeltester.check(view.verdicts)


def test_a_stored_session_becomes_a_test_from_the_sessions_page(qtbot: Any, window: MainWindow,
                                                                 monkeypatch: pytest.MonkeyPatch):
    record_echo_session(qtbot, window)
    session_id = window.session.session_id
    assert session_id is not None
    with qtbot.waitSignal(window.session.session_saved, timeout=WAIT_MS):
        close_connection(qtbot, window)
    show_tab(qtbot, window, "Sessions")
    click_session(qtbot, window, session_id)
    view = window.tests_view
    monkeypatch.setattr(view, "ask_save_path", lambda _suggested: None)  # the user cancels the file dialog
    click(qtbot, sessions_button(window, "Save as test…"))

    # read back from the store, the messages are the same steps; the test stays open, not saved
    assert window.tabs.currentWidget() is window.tests_page
    assert view.path is None and view.dirty
    assert view.title.text() == "Local echo — not saved yet · made from session “Local echo”"
    steps = [draft.step for draft in view.editor.model.drafts]
    assert [s.payload if isinstance(s, SendStep) else s.matcher for s in steps  # type: ignore[union-attr]
            ] == [what for _, what in EXPECTED_STEPS]
    assert view.test().url == window.context.echo_url


def test_cancel_ends_a_run_that_waits(qtbot: Any, window: MainWindow):
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    editor = view.editor
    assert editor.url.text() == window.context.echo_url  # a new test points at the built-in echo server
    click(qtbot, editor.add_expect)
    replace_text(qtbot, editor.step_editor.timeout, "60")
    click(qtbot, view.run_button)
    qtbot.waitUntil(lambda: cell(view.verdict_table, 0, VCOL_MARK) == "▶", timeout=WAIT_MS)
    assert cell(view.verdict_table, 0, VCOL_MESSAGE) == "running…"
    assert view.progress.text() == "0 / 1 step"
    with qtbot.waitSignal(view.run_finished, timeout=RUN_MS) as finished:
        click(qtbot, view.cancel_button)
    result = finished.args[0]
    assert result.error == "cancelled by you" and result.exit_code == 2
    assert verdicts(view) == [("✗", "steps[0] expect text", "cancelled by you")]
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()


def answer_unsaved_question(monkeypatch: pytest.MonkeyPatch, answer: QMessageBox.StandardButton) -> list[str]:
    """The "Unsaved test" question, answered with ``answer``; the texts it asked."""
    asked: list[str] = []

    def question(_parent: Any, title: str, text: str, *_args: Any) -> QMessageBox.StandardButton:
        asked.append(f"{title}: {text}")
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_closing_the_window_mid_run_ends_the_run_and_its_recording(qtbot: Any, window: MainWindow,
                                                                   monkeypatch: pytest.MonkeyPatch):
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    click(qtbot, view.editor.add_expect)
    replace_text(qtbot, view.editor.step_editor.timeout, "60")
    click(qtbot, view.run_button)
    qtbot.waitUntil(lambda: cell(view.verdict_table, 0, VCOL_MARK) == "▶", timeout=WAIT_MS)
    runner = view.runner
    assert runner is not None and runner.session_id is not None
    asked = answer_unsaved_question(monkeypatch, QMessageBox.StandardButton.Discard)
    window.close()
    assert asked == ["Unsaved test: “New test” has changes that are not saved. Save them first?"]
    assert not window.isVisible()
    assert runner.done  # before the store closes
    record = window.context.store.session(runner.session_id)
    assert record is not None and record.status != "live"


def test_closing_the_window_with_an_unsaved_test_asks_first(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    click(qtbot, view.editor.add_expect)
    assert view.dirty
    asked = answer_unsaved_question(monkeypatch, QMessageBox.StandardButton.Cancel)
    window.close()
    assert len(asked) == 1
    assert window.isVisible() and window.tabs.currentWidget() is window.tests_page  # still open, the test still there
    assert view.editor.model.rowCount() == 1

    # Save: the file dialog, then the window closes with the test on disk
    answer_unsaved_question(monkeypatch, QMessageBox.StandardButton.Save)
    monkeypatch.setattr(view, "ask_save_path", lambda _suggested: tmp_path / "kept")
    window.close()
    assert not window.isVisible()
    assert len(read_test(tmp_path / "kept.wstest.yaml").steps) == 1


def test_credentials_stay_out_of_the_file_and_the_run_here_still_passes(qtbot: Any, window: MainWindow,
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch):
    echo = window.context.echo_url
    assert echo is not None
    replace_text(qtbot, window.inspector.url, f"{echo}feed?access_token=s3cret-token&room=lobby")
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, '{"op": "login", "user": "ann", "password": "hunter22"}')
    send_and_wait_for_echo(qtbot, window, "still hunter22?")
    close_connection(qtbot, window)
    view = window.tests_view
    monkeypatch.setattr(view, "ask_save_path", lambda _suggested: tmp_path / "login")
    window.save_as_test_action.trigger()

    text = (tmp_path / "login.wstest.yaml").read_text("utf-8")
    assert "s3cret-token" not in text and "hunter22" not in text
    test = read_test(tmp_path / "login.wstest.yaml")
    assert test.url == f"{echo}feed?access_token={{{{access_token}}}}&room=lobby"
    assert test.steps[0] == SendStep(JsonPayload({"op": "login", "user": "ann", "password": "{{password}}"}),
                                     delay_s=test.steps[0].delay_s)  # type: ignore[union-attr]
    assert test.steps[3] == ExpectStep(TextMatcher("still {{password}}?"))
    # the page says so, and keeps the values for runs here
    assert "Credentials are kept out of the test file: {{access_token}}, {{password}}" in view.status.text()
    assert view.overrides.pairs() == [("access_token", "s3cret-token"), ("password", "hunter22")]
    fast(view)
    result = run_test(qtbot, view)
    assert result.ok, result

    # reopening the saved file keeps them; another test drops them (a user's own overrides stay)
    view.overrides.set_pairs([*view.overrides.pairs(), ("room", "lobby")])
    assert view.open_file(tmp_path / "login.wstest.yaml")
    assert ("password", "hunter22") in view.overrides.pairs()
    click(qtbot, view.new_button)
    assert view.overrides.pairs() == [("room", "lobby")]
    assert view.open_file(tmp_path / "login.wstest.yaml")

    # without them, the run stops before connecting and names what is missing
    view.overrides.set_pairs([])
    view.run()
    assert not view.running
    assert view.status.text() == (
        "Unknown variables: {{access_token}} (used in url); {{password}} (used in steps[0].send.json, "
        "steps[1].expect.json, steps[2].send.text, steps[3].expect.text). Define them in the test's variables, "
        "the active environment or as an override for this run.")


async def handshake_echo(ws: Any) -> None:
    """Answers with what the handshake carried: a header and the negotiated subprotocol."""
    await ws.send(json.dumps({"client": ws.request.headers.get("X-Client"), "protocol": ws.subprotocol}))
    async for _ in ws:
        pass


def test_handshake_headers_and_subprotocols_are_edited_on_the_page(qtbot: Any, window: MainWindow,
                                                                   run: Callable[..., Any], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    peer = WebsocketsPeer(handshake_echo, subprotocols=["chat.v2"])
    url = str(run(peer.start()))
    try:
        show_tab(qtbot, window, "Tests")
        view = window.tests_view
        editor = view.editor
        expect = ExpectStep(JsonMatcher({"client": "qa-ann", "protocol": "chat.v2"}))
        editor.set_test(Scenario("handshake", url, (expect,), variables=(("who", "ann"),)))
        assert editor.header_tabs.tabText(0) == "Variables (1)" and editor.header_tabs.tabText(1) == "Headers (0)"
        editor.header_tabs.setCurrentWidget(editor.headers)
        type_pair(qtbot, editor.headers, "X-Client", "qa-{{who}}")
        assert editor.header_tabs.tabText(1) == "Headers (1)"
        replace_text(qtbot, editor.subprotocols, "chat.v1,  chat.v2")
        assert view.dirty

        result = run_test(qtbot, view)
        assert result.ok, result
        assert peer.request_headers["X-Client"] == "qa-ann"
        assert peer.request_headers["Sec-WebSocket-Protocol"] == "chat.v1, chat.v2"

        # the same through the Qt engine
        assert view.engine.currentData() == "wire"
        choose_combo(view.engine, "qt")
        peer.request_headers = None
        result = run_test(qtbot, view)
        assert result.ok, result
        assert view.runner is not None and view.runner.profile.protocol.engine == "qt"
        assert peer.request_headers["X-Client"] == "qa-ann"

        # saved and read back as typed
        monkeypatch.setattr(view, "ask_save_path", lambda _suggested: tmp_path / "handshake")
        assert view.save()
        saved = read_test(tmp_path / "handshake.wstest.yaml")
        assert saved.headers == (("X-Client", "qa-{{who}}"),) and saved.subprotocols == ("chat.v1", "chat.v2")

        # mistakes are named next to the field, and stop the run before it connects
        replace_text(qtbot, editor.subprotocols, "chat.v1, chat.v1")
        assert editor.subprotocols_error.text() == "a subprotocol is offered twice"
        assert editor.subprotocols_error.isVisible()
        replace_text(qtbot, editor.subprotocols, "chat.v2")
        assert not editor.subprotocols_error.isVisible()
        type_pair(qtbot, editor.headers, "X-Client", "again")
        assert "'X-Client' appears twice" in editor.headers.error.text()
        assert editor.header_tabs.tabText(1) == "Headers (2) ⚠"
        assert view.run() is None
        assert "'X-Client' appears twice" in view.status.text()
    finally:
        run(peer.stop())


def test_a_run_in_the_window_reports_a_refused_frame_and_a_silent_close_as_the_command_does(
        qtbot: Any, hostile: Any, window: MainWindow, tmp_path: Path):
    from tests.net.hostile_extra import upgrades_with
    from tests.peers import sends_then_waits, server_frame
    from tests.rejected_frames import REJECTED

    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    path = tmp_path / "hostile.wstest.yaml"
    url = hostile(upgrades_with(REJECTED["close code 1005"].data))
    path.write_text(f"version: 1\nname: hostile\nurl: {url}\nsteps:\n  - name: server closes\n    expect:\n"
                    "      opcode: close\n", encoding="utf-8")
    assert view.open_file(path)
    result = run_test(qtbot, view)
    assert result.exit_code == 2
    rows = verdicts(view)
    assert rows[0][:2] == ("✗", "server closes")
    assert "a close frame with the code 1005" in rows[0][2]
    assert view.status.text().startswith("ERROR: ")

    url = hostile(sends_then_waits(server_frame(0x1, b"hello")))  # never answers our close frame
    path.write_text(f"version: 1\nname: silent\nurl: {url}\nsteps:\n  - expect:\n      text: hello\n",
                    encoding="utf-8")
    assert view.open_file(path)
    result = run_test(qtbot, view)
    rows = verdicts(view)
    assert rows[0][0] == "✓" and rows[-1][:2] == ("✗", "closing")
    assert rows[-1][2].startswith("Closing handshake timed out")
    assert view.status.text().startswith("ERROR: Closing handshake timed out")
