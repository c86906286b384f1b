"""Composing in the window against real peers: the history (Up/Down, the History dialog, kept across a
restart), saved messages (one click, Alt+digit, the manager, shared ones, secrets kept as names), the ping's own
payload, periodic sends in the tab's header and auto-reply rules, each such frame marked in the timeline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QLineEdit, QSpinBox, QWidget

from tests.peers import QtPeer
from tests.ui.helpers import (
    WAIT_MS,
    MenuPicker,
    ModalHandler,
    click,
    close_connection,
    compose,
    connect,
    control_payload,
    focus,
    press_ctrl_enter,
    replace_text,
    select_row,
    send_and_wait_for_echo,
    show_window,
    wait_rows,
)
from tests.ui.helpers_sessions import select_peer
from wsinspector.app.context import AppContext
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.sending import SHARED_MESSAGES_SETTING
from wsinspector.ui.automation import AutoReplyDialog
from wsinspector.ui.composer import Composer
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.saved_messages import HistoryDialog, SavedMessagesDialog


def _ok(qtbot: Any, dialog: QWidget) -> None:
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    click(qtbot, buttons.button(QDialogButtonBox.StandardButton.Ok))


def _editor_after(qtbot: Any, composer: Composer, key: Qt.Key) -> str:
    qtbot.keyClick(composer.editor, key)
    return composer.editor.toPlainText()


def _choose(qtbot: Any, button: Any, action: Any) -> None:
    picker = MenuPicker(qtbot, button.menu(), action)
    click(qtbot, button)
    picker.wait()


def _action(button: Any, text: str) -> Any:
    return next(a for a in button.menu().actions() if a.text().startswith(text))


# -- the history --------------------------------------------------------------------------------------------


def test_up_and_down_walk_the_sent_messages_and_they_are_there_after_a_restart(qtbot: Any, data_dir: Path) -> None:
    context = AppContext(data_dir)
    window = MainWindow(context)
    try:
        show_window(qtbot, window)
        connect(qtbot, window)
        for text in ("first", "second", "third"):
            send_and_wait_for_echo(qtbot, window, text)
        composer = window.inspector.composer
        compose(qtbot, window, "a draft")
        focus(qtbot, composer.editor)
        assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "third"
        assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "second"
        assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "first"
        assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "first"  # the oldest
        assert _editor_after(qtbot, composer, Qt.Key.Key_Down) == "second"
        assert _editor_after(qtbot, composer, Qt.Key.Key_Down) == "third"
        assert _editor_after(qtbot, composer, Qt.Key.Key_Down) == "a draft"  # the draft was kept

        # the History dialog filters as you type, and loads the one chosen
        def pick(dialog: QWidget) -> None:
            assert isinstance(dialog, HistoryDialog)
            assert dialog.visible_texts() == ["third", "second", "first"]  # newest first
            replace_text(qtbot, dialog.filter, "SEC")
            assert dialog.visible_texts() == ["second"]
            qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)

        handler = ModalHandler(qtbot, pick)
        click(qtbot, composer.history_button)
        handler.wait()
        assert composer.editor.toPlainText() == "second"
        close_connection(qtbot, window)
    finally:
        window.close()
        context.shutdown()

    context = AppContext(data_dir)
    window = MainWindow(context)
    try:
        show_window(qtbot, window)
        composer = window.inspector.composer
        assert composer.editor.toPlainText() == ""
        focus(qtbot, composer.editor)
        assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "third"
        assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "second"
    finally:
        window.close()
        context.shutdown()


def test_up_on_a_later_line_moves_the_cursor_not_the_history(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "sent")
    composer = window.inspector.composer
    compose(qtbot, window, "line one\nline two")
    assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "line one\nline two"
    assert composer.editor.textCursor().blockNumber() == 0
    assert _editor_after(qtbot, composer, Qt.Key.Key_Up) == "sent"


# -- saved messages -----------------------------------------------------------------------------------------


def _save_dialog_answer(qtbot: Any, name: str, shared: bool) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        assert dialog.objectName() == "saveMessageDialog"
        replace_text(qtbot, dialog.findChild(QLineEdit, "savedMessageName"), name)
        box = dialog.findChild(QCheckBox, "savedMessageShared")
        if box.isChecked() != shared:
            click(qtbot, box)
        _ok(qtbot, dialog)

    return answer


def test_a_saved_message_is_sent_with_one_click_or_alt_and_its_number(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    composer = window.inspector.composer
    compose(qtbot, window, "hello {{$counter}}")
    handler = ModalHandler(qtbot, _save_dialog_answer(qtbot, "Hello", shared=False))
    _choose(qtbot, composer.saved_button, _action(composer.saved_button, "Save this message"))
    handler.wait()
    echo = window.inspector.profile
    assert echo is not None and echo.messages == (("Hello", "text", "hello {{$counter}}"),)
    assert composer.saved_messages == [("Hello", "text", "hello {{$counter}}")]
    compose(qtbot, window, "something else")

    focus(qtbot, composer.editor)
    qtbot.keyClick(composer.editor, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    rows = wait_rows(qtbot, window, 2)
    assert [(r["dir"], r["preview"]) for r in rows] == [("↑ out", "hello 1"), ("↓ in", "hello 1")]
    _choose(qtbot, composer.saved_button, _action(composer.saved_button, "Hello"))
    rows = wait_rows(qtbot, window, 4)
    assert [r["preview"] for r in rows[2:]] == ["hello 2", "hello 2"]
    assert composer.editor.toPlainText() == "something else"  # the editor is left alone
    assert window.session.composing.history[-2:] == [("text", "hello {{$counter}}")] * 2  # as written
    focus(qtbot, composer.editor)
    qtbot.keyClick(composer.editor, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert composer.error.text() == "There is no saved message 2: Saved ▸ Manage saved messages… adds one"


def test_the_manager_renames_edits_shares_adds_and_deletes(qtbot: Any, window: MainWindow) -> None:
    context = window.context
    composer = window.inspector.composer
    window.inspector.composing.save_message("Old", "text", "old", False)
    window.inspector.composing.save_message("Doomed", "text", "x", True)

    def manage(dialog: QWidget) -> None:
        assert isinstance(dialog, SavedMessagesDialog)
        assert [dialog.list.item(r).text() for r in range(dialog.list.count())] == \
            ["Old — Local echo", "Doomed — shared"]
        dialog.list.setCurrentRow(0)
        replace_text(qtbot, dialog.name_edit, "Greeting")
        replace_text(qtbot, dialog.payload, '{"hi": "{{$uuid}}"}')
        dialog.kind.setCurrentText("json")
        click(qtbot, dialog.shared)
        dialog.list.setCurrentRow(1)
        click(qtbot, dialog.delete_button)
        click(qtbot, dialog.new_button)
        replace_text(qtbot, dialog.name_edit, "Bye")
        replace_text(qtbot, dialog.payload, "bye")
        _ok(qtbot, dialog)

    handler = ModalHandler(qtbot, manage)
    _choose(qtbot, composer.saved_button, _action(composer.saved_button, "Manage saved messages"))
    handler.wait()
    assert context.connections.shared_messages() == (("Greeting", "json", '{"hi": "{{$uuid}}"}'),)
    echo = next(p for p in context.connections.profiles if p.builtin)
    assert echo.messages == (("Bye", "text", "bye"),)
    assert composer.saved_messages == [("Bye", "text", "bye"), ("Greeting", "json", '{"hi": "{{$uuid}}"}')]
    # every connection has the shared one
    select_peer(window, "ws://127.0.0.1:9/", "Other")
    assert composer.saved_messages == [("Greeting", "json", '{"hi": "{{$uuid}}"}')]


def test_a_sent_message_saved_as_shared_keeps_the_secret_as_its_name(qtbot: Any, window: MainWindow) -> None:
    context = window.context
    profile = context.connections.save(ConnectionProfile(
        name="Secret echo", endpoint=Endpoint(context.echo_url), variables=(("token", "TOPSECRET99"),),
        secret_variables=("token",)))
    window.connections.select(profile.id)
    connect(qtbot, window)
    composer = window.inspector.composer
    handler = ModalHandler(qtbot, _save_dialog_answer(qtbot, "Auth", shared=True))
    composer.save_as_saved_message(b'{"auth": "TOPSECRET99"}', False)
    handler.wait()
    assert context.connections.shared_messages() == (("Auth", "text", '{"auth": "{{token}}"}'),)
    stored = context.store.setting(SHARED_MESSAGES_SETTING) or ""
    assert "{{token}}" in stored and "TOPSECRET99" not in stored
    handler = ModalHandler(qtbot, _save_dialog_answer(qtbot, "Raw", shared=False))
    composer.save_as_saved_message(b"\x00\xff", True)
    handler.wait()
    assert window.inspector.profile is not None
    assert window.inspector.profile.messages == (("Raw", "base64", "AP8="),)
    # sent again with one click, the secret is expanded on the wire only
    _choose(qtbot, composer.saved_button, _action(composer.saved_button, "Auth"))
    rows = wait_rows(qtbot, window, 2)
    assert rows[0]["preview"] == '{"auth": "TOPSECRET99"}'


# -- ping ---------------------------------------------------------------------------------------------------


def test_ping_takes_its_own_payload_never_the_message(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    compose(qtbot, window, "a message, not a ping payload")
    click(qtbot, window.inspector.composer.ping_button)
    rows = wait_rows(qtbot, window, 2)
    assert [(r["opcode"], r["size"]) for r in rows] == [("ping", "0"), ("pong", "0")]
    control_payload(qtbot, window, "hb-1")
    click(qtbot, window.inspector.composer.ping_button)
    rows = wait_rows(qtbot, window, 4)
    assert [(r["opcode"], r["size"], r["preview"]) for r in rows[2:3]] == [("ping", "4", "hb-1")]
    control_payload(qtbot, window, "zz", PayloadMode.HEX)
    click(qtbot, window.inspector.composer.ping_button)
    assert window.inspector.composer.error.text() == "The ping payload: Not a hex digit: 'z' at position 1"
    assert window.inspector.composer.editor.toPlainText() == "a message, not a ping payload"


# -- periodic sends -----------------------------------------------------------------------------------------


def _schedule_answer(qtbot: Any, interval: int, count: int) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        assert dialog.objectName() == "scheduleDialog"
        dialog.findChild(QSpinBox, "scheduleInterval").setValue(interval)
        dialog.findChild(QSpinBox, "scheduleCount").setValue(count)
        _ok(qtbot, dialog)

    return answer


def test_periodic_sends_show_in_the_header_are_marked_and_stop(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    inspector = window.inspector
    composer, indicator = inspector.composer, inspector.composing.indicator
    assert not indicator.isVisible()
    compose(qtbot, window, "tick {{$counter}}")
    handler = ModalHandler(qtbot, _schedule_answer(qtbot, 20, 0))
    _choose(qtbot, composer.automate_button, composer.schedule_action)
    handler.wait()
    compose(qtbot, window, "tock")
    handler = ModalHandler(qtbot, _schedule_answer(qtbot, 15, 3))
    _choose(qtbot, composer.automate_button, composer.schedule_action)
    handler.wait()
    qtbot.waitUntil(lambda: indicator.isVisible() and indicator.text() == "2 schedules", timeout=WAIT_MS)
    # the three tocks end by themselves; the ticks go on
    qtbot.waitUntil(lambda: indicator.text() == "1 schedule", timeout=WAIT_MS)
    def previews() -> list[str]:
        return [inspector.model.data(inspector.model.index(row, 6)) for row in range(inspector.model.rowCount())]

    qtbot.waitUntil(lambda: previews().count("tock") == 3, timeout=WAIT_MS)  # the echoes are not marked
    assert previews().count("◷ tock") == 3
    shown = previews()
    assert "◷ tick 1" in shown
    tip = inspector.model.data(inspector.model.index(shown.index("◷ tock"), 6), Qt.ItemDataRole.ToolTipRole)
    assert tip == "Sent by a periodic send (◷)"
    _choose(qtbot, indicator, _action(indicator, "Stop 'tick {{$counter}}' every 20 ms"))
    qtbot.waitUntil(lambda: not indicator.isVisible(), timeout=WAIT_MS)
    assert window.session.composing.schedules == {}
    # one more, then a disconnect stops it
    compose(qtbot, window, "again")
    handler = ModalHandler(qtbot, _schedule_answer(qtbot, 20, 0))
    _choose(qtbot, composer.automate_button, composer.schedule_action)
    handler.wait()
    qtbot.waitUntil(indicator.isVisible, timeout=WAIT_MS)
    close_connection(qtbot, window)
    assert not indicator.isVisible() and window.session.composing.schedules == {}


# -- auto-replies -------------------------------------------------------------------------------------------


def test_an_auto_reply_rule_made_in_its_dialog_answers_the_servers_ping(qtbot: Any, window: MainWindow,
                                                                        qt_peer: Callable[..., QtPeer]) -> None:
    peer = qt_peer()
    profile = select_peer(window, peer.listen(), "App pings")
    composer = window.inspector.composer

    def rules(dialog: QWidget) -> None:
        assert isinstance(dialog, AutoReplyDialog)
        click(qtbot, dialog.new_button)
        replace_text(qtbot, dialog.name_edit, "answer pings")
        dialog.match.setCurrentIndex(dialog.match.findData("regex"))
        replace_text(qtbot, dialog.pattern, "(")
        _ok(qtbot, dialog)
        assert dialog.isVisible() and dialog.error.text().startswith("Rule “answer pings”: not a regular expression")
        dialog.match.setCurrentIndex(dialog.match.findData("json"))
        replace_text(qtbot, dialog.path, "$.type")
        replace_text(qtbot, dialog.pattern, "ping")
        dialog.reply_kind.setCurrentText("json")
        replace_text(qtbot, dialog.reply, '{"type": "pong", "n": {{$counter}}}')
        _ok(qtbot, dialog)

    handler = ModalHandler(qtbot, rules)
    _choose(qtbot, composer.automate_button, composer.auto_replies_action)
    handler.wait()
    saved = window.context.connections.get(profile.id)
    assert saved is not None
    assert saved.auto_replies == (("answer pings", "json", "ping", "$.type", "json",
                                   '{"type": "pong", "n": {{$counter}}}', True),)
    connect(qtbot, window)
    peer.send_text_to_all('{"type": "ping"}')
    qtbot.waitUntil(lambda: peer.received == ['{"type": "pong", "n": 1}'], timeout=WAIT_MS)
    inspector = window.inspector
    rows = wait_rows(qtbot, window, 3)  # the peer echoes the reply
    assert [(r["dir"], r["preview"]) for r in rows] == [("↓ in", '{"type": "ping"}'),
                                                        ("↑ out", '↩ {"type": "pong", "n": 1}'),
                                                        ("↓ in", '{"type": "pong", "n": 1}')]
    indicator = inspector.composing.indicator
    qtbot.waitUntil(lambda: indicator.text() == "1 auto-reply", timeout=WAIT_MS)
    # switched off from the header, the next ping goes unanswered
    _choose(qtbot, indicator, _action(indicator, "Auto-replies on"))
    assert indicator.text() == "auto-reply off"
    peer.send_text_to_all('{"type": "ping"}')
    qtbot.waitUntil(lambda: inspector.model.rowCount() == 4, timeout=WAIT_MS)
    window.session.flush()
    send_and_wait_for_echo(qtbot, window, "nothing else")
    assert peer.received == ['{"type": "pong", "n": 1}', "nothing else"]


# -- dynamic values in the editor ---------------------------------------------------------------------------


def test_dynamic_values_typed_in_the_editor_are_new_at_each_send_and_a_typo_is_named(qtbot: Any,
                                                                                     window: MainWindow) -> None:
    connect(qtbot, window)
    composer = window.inspector.composer
    compose(qtbot, window, '{"n": {{$counter}}, "r": {{$randomInt}}}', PayloadMode.JSON)
    assert composer.error.isHidden()  # a JSON number written as a dynamic value is no JSON error
    press_ctrl_enter(qtbot, window)
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 4)
    sent = [json.loads(r["preview"]) for r in rows if r["dir"] == "↑ out"]
    assert [m["n"] for m in sent] == [1, 2] and all(0 <= m["r"] <= 1000 for m in sent)
    compose(qtbot, window, "{{$uuid}} {{$UUID}}")
    press_ctrl_enter(qtbot, window)
    assert composer.error.text() == ("Unknown dynamic value {{$UUID}} (known: {{$uuid}}, {{$timestamp}}, "
                                     "{{$isoTimestamp}}, {{$randomInt}}, {{$counter}}): nothing was sent")
    assert window.session.composing.history[-1] == ("json", '{"n": {{$counter}}, "r": {{$randomInt}}}')


def test_a_timeline_row_is_saved_as_a_saved_message_from_its_menu(qtbot: Any, window: MainWindow) -> None:
    from tests.ui.helpers_rows import row_menu, row_menu_items

    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "keep me")
    close_connection(qtbot, window)
    select_row(qtbot, window, 1)
    assert row_menu_items(qtbot, window, 1)["Save as saved message…"] is True
    handler = ModalHandler(qtbot, _save_dialog_answer(qtbot, "Kept", shared=True))
    row_menu(qtbot, window, 1, "Save as saved message…")
    handler.wait()
    assert window.context.connections.shared_messages() == (("Kept", "text", "keep me"),)
