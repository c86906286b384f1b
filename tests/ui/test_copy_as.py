"""Copy as in the window: the timeline's "Copy as ▸" submenu on chosen rows (a wscat command that sends them,
NDJSON), and the tab's "Copy as" button with the connection's forms, read back from the clipboard."""

from __future__ import annotations

import json
from typing import Any

from tests.ui.helpers import LEFT, connect, select_row, send_and_wait_for_echo
from tests.ui.helpers_rows import PopupPicker, clipboard, right_click, row_point, shift_click_row
from wsinspector.ui.main_window import MainWindow


def _copy_rows_as(qtbot: Any, window: MainWindow, row: int, text: str) -> None:
    """Right-click ``row``, open Copy as and choose ``text``."""
    submenu = PopupPicker(qtbot, "copyAsRowsMenu", text)
    menu = PopupPicker(qtbot, "timelineMenu", "Copy as")
    right_click(qtbot, window.inspector.timeline.viewport(), row_point(window, row))
    menu.wait()
    submenu.wait()


def test_chosen_rows_copy_as_a_command_and_as_ndjson(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "first 'one'")
    send_and_wait_for_echo(qtbot, window, '{"op": 2}')
    url = window.inspector.url.text()
    select_row(qtbot, window, 0)
    shift_click_row(qtbot, window, 3)

    _copy_rows_as(qtbot, window, 3, "wscat")
    # the messages we sent, in order; the echoes are what the server answers
    assert clipboard() == f"""wscat -c {url} -x 'first '"'"'one'"'"'' -x '{{"op": 2}}' -w -1"""
    assert window.statusBar().currentMessage() == "Copied 2 rows as a wscat command"

    _copy_rows_as(qtbot, window, 3, "NDJSON")
    rows = [json.loads(line) for line in clipboard().splitlines()]
    assert [(r["direction"], r["opcode"], r["fin"], r["payload"]) for r in rows] == [
        ("out", "text", True, "first 'one'"), ("in", "text", True, "first 'one'"),
        ("out", "text", True, '{"op": 2}'), ("in", "text", True, '{"op": 2}')]


def test_the_connection_copies_as_a_python_snippet(qtbot: Any, window: MainWindow) -> None:
    page = window.inspector
    picker = PopupPicker(qtbot, "copyAsConnectionMenu", "Python")
    qtbot.mouseClick(page.copy_as.button, LEFT)
    picker.wait()
    snippet = clipboard()
    assert f"async with connect({page.url.text()!r}) as ws:" in snippet
    compile(snippet, "snippet.py", "exec")
    assert window.statusBar().currentMessage() == "Copied the connection as Python"


def test_a_url_typed_in_the_bar_is_the_one_copied(qtbot: Any, window: MainWindow) -> None:
    """The tab's URL as the user typed it, not yet saved, is what the command connects to; the saved
    connection keeps its own."""
    page = window.inspector
    saved = page.url.text()
    typed = "ws://127.0.0.1:1/typed?room=7"
    page.url.setText(typed)
    picker = PopupPicker(qtbot, "copyAsConnectionMenu", "wscat")
    qtbot.mouseClick(page.copy_as.button, LEFT)
    picker.wait()
    assert clipboard().startswith(f"wscat -c '{typed}'")
    assert window.statusBar().currentMessage() == "Copied the connection as wscat"
    assert page.profile is not None and page.profile.url == saved
