"""The connections panel: new, edit, duplicate, rename and delete, through the real dialogs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QDialogButtonBox, QInputDialog, QLineEdit, QMessageBox, QPushButton, QWidget

from tests.peers import WebsocketsPeer
from tests.ui.helpers import (
    WAIT_MS,
    ModalHandler,
    click,
    close_connection,
    connect,
    replace_text,
    send_and_wait_for_echo,
    toggle_check_box,
    tool_button,
    type_number,
)
from tests.ui.helpers_connections import current_name, names, profile_index, tooltip
from wsinspector.app.context import AppContext
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE, Compression, ConnectionProfile, Endpoint, Protocol
from wsinspector.core.store import Store
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.profile_dialog import PairTable, ProfileDialog


def _names(window: MainWindow) -> list[str]:
    return names(window.connections)


def _current_name(window: MainWindow) -> str:
    return current_name(window.connections)


def _stored(context: AppContext) -> list[ConnectionProfile]:
    """What a fresh Store on the same file holds (the app's own store stays open; WAL makes this safe)."""
    store = Store(context.db_path)
    try:
        return store.profiles()
    finally:
        store.close()


def _save_button(dialog: QWidget) -> Any:
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)


def _cancel_button(dialog: QWidget) -> Any:
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel)


def _add_pair(qtbot: Any, pairs: PairTable, name: str, value: str) -> None:
    """Click Add, type the name in the cell editor that opens, Tab to the value, type it, press Return."""
    table = pairs.table
    row = table.rowCount()
    click(qtbot, next(b for b in pairs.findChildren(QPushButton) if b.text() == "Add"))
    assert table.rowCount() == row + 1
    name_editor = table.indexWidget(table.model().index(row, 0))
    assert name_editor is not None, "Add should open the name cell for editing"
    qtbot.keyClicks(name_editor, name)
    qtbot.keyClick(name_editor, Qt.Key.Key_Tab)
    value_index: QModelIndex = table.model().index(row, 1)
    qtbot.waitUntil(lambda: table.indexWidget(value_index) is not None)
    value_editor = table.indexWidget(value_index)
    qtbot.keyClicks(value_editor, value)
    qtbot.keyClick(value_editor, Qt.Key.Key_Return)
    # the delegate commits what Return confirmed on the next turn of the event loop
    qtbot.waitUntil(lambda: table.indexWidget(value_index) is None)
    assert (table.item(row, 0).text(), table.item(row, 1).text()) == (name, value)


def _fill_and_save(qtbot: Any, **fields: str) -> Callable[[QWidget], None]:
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        for name, text in fields.items():
            replace_text(qtbot, getattr(dialog, name), text)
        click(qtbot, _save_button(dialog))
        assert not dialog.isVisible(), dialog.error.text()

    return fill


def test_new_connection_is_listed_selected_and_saved(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    panel = window.connections

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        assert dialog.name.text() == "New connection"
        replace_text(qtbot, dialog.name, "Staging")
        replace_text(qtbot, dialog.url, "ws://127.0.0.1:9/feed")
        _add_pair(qtbot, dialog.headers, "X-Token", "s3cret")
        replace_text(qtbot, dialog.subprotocols, "chat, v2")
        click(qtbot, _save_button(dialog))
        assert not dialog.isVisible(), dialog.error.text()

    handler = ModalHandler(qtbot, fill)
    click(qtbot, tool_button(panel, panel.new_action))
    handler.wait()
    assert handler.dialog_title == "Connection — New connection"

    assert _names(window) == ["Local echo", "Staging"]
    assert _current_name(window) == "Staging"
    assert window.inspector.url.text() == "ws://127.0.0.1:9/feed"
    assert window.inspector.profile_name.text() == "<b>Staging</b>"

    context.shutdown()
    saved = [p for p in _stored(context) if p.name == "Staging"]
    assert len(saved) == 1
    assert saved[0].url == "ws://127.0.0.1:9/feed"
    # X-Token is named like a secret: marked so as it was typed, its value kept by the keeper, not the store
    assert saved[0].handshake.headers == (("X-Token", ""),)
    assert saved[0].handshake.secret_headers == ("X-Token",) and saved[0].kept_secrets == ("headers/X-Token",)
    assert context.secrets.get(f"connection/{saved[0].id}/headers/X-Token") == "s3cret"
    assert saved[0].handshake.subprotocols == ("chat", "v2")


def test_new_connection_headers_and_subprotocols_reach_the_server(
    qtbot: Any, window: MainWindow, context: AppContext, run: Callable[..., Any]
) -> None:
    peer = WebsocketsPeer(subprotocols=["chat"])
    url = run(peer.start())
    try:
        panel = window.connections

        def fill(dialog: QWidget) -> None:
            assert isinstance(dialog, ProfileDialog)
            replace_text(qtbot, dialog.name, "Chat server")
            replace_text(qtbot, dialog.url, url)
            _add_pair(qtbot, dialog.headers, "X-Token", "s3cret")
            replace_text(qtbot, dialog.subprotocols, "v2, chat")
            click(qtbot, _save_button(dialog))
            assert not dialog.isVisible(), dialog.error.text()

        handler = ModalHandler(qtbot, fill)
        click(qtbot, tool_button(panel, panel.new_action))
        handler.wait()
        assert _current_name(window) == "Chat server"
        connect(qtbot, window)
        assert "subprotocol: chat" in window.inspector.info.text()
        assert peer.request_headers["X-Token"] == "s3cret"
        assert peer.request_headers["Sec-WebSocket-Protocol"] == "v2, chat"
        send_and_wait_for_echo(qtbot, window, "hi chat")
        assert peer.received == ["hi chat"]
        close_connection(qtbot, window)
    finally:
        run(peer.stop())


def test_edit_changes_the_url(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    profile = context.connections.save(ConnectionProfile(name="Editable", endpoint=Endpoint("ws://127.0.0.1:9/old")))
    window.connections.select(profile.id)
    assert window.inspector.url.text() == "ws://127.0.0.1:9/old"

    handler = ModalHandler(qtbot, _fill_and_save(qtbot, url="ws://127.0.0.1:9/new"))
    click(qtbot, tool_button(window.connections, window.connections.edit_action))
    handler.wait()
    assert handler.dialog_title == "Connection — Editable"

    assert window.inspector.url.text() == "ws://127.0.0.1:9/new"
    assert _names(window) == ["Local echo", "Editable"]
    assert _current_name(window) == "Editable"
    assert tooltip(window.connections) == "ws://127.0.0.1:9/new"
    assert [p.url for p in _stored(context) if p.id == profile.id] == ["ws://127.0.0.1:9/new"]


def test_settings_button_edits_too(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    handler = ModalHandler(qtbot, _fill_and_save(qtbot, name="My echo"))
    click(qtbot, window.inspector.edit_button)
    handler.wait()
    assert _names(window) == ["My echo"]
    assert window.inspector.profile_name.text() == "<b>My echo</b>"


def test_invalid_url_keeps_the_dialog_open(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    seen: dict[str, Any] = {}

    def try_invalid(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        replace_text(qtbot, dialog.name, "Broken")
        replace_text(qtbot, dialog.url, "http://x")
        click(qtbot, _save_button(dialog))
        seen["open_after_save"] = dialog.isVisible()
        seen["error"] = dialog.error.text()
        seen["error_visible"] = dialog.error.isVisible()
        click(qtbot, _cancel_button(dialog))

    handler = ModalHandler(qtbot, try_invalid)
    click(qtbot, tool_button(window.connections, window.connections.new_action))
    handler.wait()
    assert seen == {
        "open_after_save": True,
        "error": "WebSocket URLs start with ws:// or wss:// (did you mean ws://?)",
        "error_visible": True,
    }
    assert _names(window) == ["Local echo"]
    assert [p.name for p in _stored(context)] == ["Local echo"]


def test_duplicate_and_rename(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    panel = window.connections
    click(qtbot, tool_button(panel, panel.duplicate_action))
    assert _names(window) == ["Local echo", "Local echo (copy)"]
    assert _current_name(window) == "Local echo (copy)"
    copy = panel.current_profile()
    assert copy is not None and copy.builtin == ""
    assert window.inspector.url.text() == context.echo_url

    def rename(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        assert dialog.textValue() == "Local echo (copy)"
        replace_text(qtbot, dialog.findChild(QLineEdit), "Echo twin")
        click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))

    handler = ModalHandler(qtbot, rename)
    panel.rename_action.trigger()  # Connection menu › Rename…
    handler.wait()
    assert handler.dialog_title == "Rename connection"
    assert _names(window) == ["Local echo", "Echo twin"]
    assert _current_name(window) == "Echo twin"
    assert window.inspector.profile_name.text() == "<b>Echo twin</b>"
    assert sorted(p.name for p in _stored(context)) == ["Echo twin", "Local echo"]

    # the renamed copy connects to the echo like the original
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "twin")
    close_connection(qtbot, window)


def _answer(qtbot: Any, button: QMessageBox.StandardButton, seen: dict[str, str]) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, QMessageBox)
        seen["text"] = dialog.text()
        click(qtbot, dialog.button(button))

    return answer


def test_delete_asks_first(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    panel = window.connections
    doomed = context.connections.save(ConnectionProfile(name="Doomed", endpoint=Endpoint("ws://127.0.0.1:9/")))
    panel.select(doomed.id)
    delete = tool_button(panel, panel.delete_action)

    seen: dict[str, str] = {}
    handler = ModalHandler(qtbot, _answer(qtbot, QMessageBox.StandardButton.No, seen))
    click(qtbot, delete)
    handler.wait()
    assert seen["text"] == "Delete the saved connection “Doomed”?"
    assert _names(window) == ["Local echo", "Doomed"]
    assert _current_name(window) == "Doomed"
    assert "Doomed" in [p.name for p in _stored(context)]

    handler = ModalHandler(qtbot, _answer(qtbot, QMessageBox.StandardButton.Yes, seen))
    click(qtbot, delete)
    handler.wait()
    assert _names(window) == ["Local echo"]
    assert _current_name(window) == "Local echo"
    assert window.inspector.url.text() == context.echo_url
    assert [p.name for p in _stored(context)] == ["Local echo"]


def test_deleting_the_last_connection_empties_the_bar(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    panel = window.connections
    seen: dict[str, str] = {}
    handler = ModalHandler(qtbot, _answer(qtbot, QMessageBox.StandardButton.Yes, seen))
    click(qtbot, tool_button(panel, panel.delete_action))
    handler.wait()
    assert _names(window) == []
    assert window.inspector.url.text() == ""
    assert window.inspector.profile_name.text() == ""
    assert not tool_button(panel, panel.delete_action).isEnabled()
    click(qtbot, window.inspector.connect_button)
    assert window.banner.level == "warning"
    assert window.banner.text == "Select or create a connection first"


def test_double_click_connects(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    other = context.connections.save(ConnectionProfile(name="Elsewhere", endpoint=Endpoint("ws://127.0.0.1:9/")))
    window.connections.select(other.id)
    items = window.connections.tree
    pos = items.visualRect(profile_index(window.connections, "Local echo")).center()
    with qtbot.waitSignal(window.session.opened, timeout=WAIT_MS):
        # a double click is a click and then a second press that Qt reports as a double click
        qtbot.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(items.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert _current_name(window) == "Local echo"
    assert window.inspector.state_label.text() == "Open"
    assert window.windowTitle() == "Local echo — Open — wsinspector"
    send_and_wait_for_echo(qtbot, window, "double")
    close_connection(qtbot, window)


def _show_dialog_tab(qtbot: Any, dialog: ProfileDialog, title: str) -> None:
    bar = dialog.tabs.tabBar()
    index = next((i for i in range(bar.count()) if bar.tabText(i) == title), -1)
    assert index >= 0, f"no tab {title!r}"
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def _deflate_widgets(dialog: ProfileDialog) -> list[QWidget]:
    return [dialog.server_window, dialog.client_window, dialog.server_no_context, dialog.client_no_context]


def test_engine_settings_round_trip_through_the_dialog_and_the_store(
    qtbot: Any, window: MainWindow, context: AppContext
) -> None:
    profile = context.connections.save(ConnectionProfile(name="Tuned", endpoint=Endpoint("ws://127.0.0.1:9/feed")))
    window.connections.select(profile.id)
    seen: dict[str, Any] = {}

    def tune(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
        assert tabs == ["Connection", "Auth", "Protocol", "TLS", "Proxy", "Health", "Decoding"]
        _show_dialog_tab(qtbot, dialog, "Protocol")
        # the defaults: Wire, deflate offered with no parameters, automatic pongs, 5 s to close
        seen["defaults"] = (dialog.engine.currentData(), dialog.deflate.isChecked(), dialog.server_window.text(),
                            dialog.client_window.text(), dialog.server_no_context.isChecked(),
                            dialog.client_no_context.isChecked(), dialog.auto_pong.isChecked(),
                            dialog.close_timeout.value())
        seen["enabled"] = [w.isEnabled() for w in [dialog.deflate, *_deflate_widgets(dialog), dialog.auto_pong,
                                                    dialog.close_timeout]]
        type_number(qtbot, dialog.server_window, "10")
        type_number(qtbot, dialog.client_window, "9")
        toggle_check_box(qtbot, dialog.server_no_context)
        toggle_check_box(qtbot, dialog.client_no_context)
        toggle_check_box(qtbot, dialog.auto_pong)
        type_number(qtbot, dialog.close_timeout, "2.5")
        click(qtbot, _save_button(dialog))
        assert not dialog.isVisible(), dialog.error.text()

    handler = ModalHandler(qtbot, tune)
    click(qtbot, tool_button(window.connections, window.connections.edit_action))
    handler.wait()
    assert seen["defaults"] == (ENGINE_WIRE, True, "any", "any", False, False, True, 5.0)
    assert seen["enabled"] == [True] * 7
    tuned = (Protocol(engine=ENGINE_WIRE, auto_pong=False, close_timeout_s=2.5),
             Compression(deflate=True, server_max_window_bits=10, client_max_window_bits=9,
                         server_no_context_takeover=True, client_no_context_takeover=True))
    [saved] = [p for p in _stored(context) if p.id == profile.id]  # what a restart reads back
    assert (saved.protocol, saved.compression) == tuned
    # the window took it: the next connection starts with automatic pongs off
    assert not window.inspector.composer.auto_pong_action.isChecked()

    def to_qt(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        _show_dialog_tab(qtbot, dialog, "Protocol")
        # the saved values are shown again
        seen["reopened"] = (dialog.engine.currentData(), dialog.deflate.isChecked(), dialog.server_window.value(),
                            dialog.client_window.value(), dialog.server_no_context.isChecked(),
                            dialog.client_no_context.isChecked(), dialog.auto_pong.isChecked(),
                            dialog.close_timeout.value())
        # no deflate offered: its parameters are off, the offer itself can be made again
        toggle_check_box(qtbot, dialog.deflate)
        seen["deflate off"] = [w.isEnabled() for w in [dialog.deflate, *_deflate_widgets(dialog)]]
        toggle_check_box(qtbot, dialog.deflate)
        seen["deflate on"] = [w.isEnabled() for w in [dialog.deflate, *_deflate_widgets(dialog)]]
        # the Qt engine: compression and leaving pings unanswered need the Wire engine; both engines wait for
        # the server's close frame
        dialog.engine.setCurrentIndex(dialog.engine.findData(ENGINE_QT))
        seen["qt"] = [w.isEnabled() for w in [dialog.deflate, *_deflate_widgets(dialog), dialog.auto_pong,
                                              dialog.close_timeout]]
        seen["note"] = dialog.engine_note.text()
        click(qtbot, _save_button(dialog))
        assert not dialog.isVisible(), dialog.error.text()

    handler = ModalHandler(qtbot, to_qt)
    click(qtbot, tool_button(window.connections, window.connections.edit_action))
    handler.wait()
    assert seen["reopened"] == (ENGINE_WIRE, True, 10, 9, True, True, False, 2.5)
    assert seen["deflate off"] == [True, False, False, False, False]
    assert seen["deflate on"] == [True] * 5
    assert seen["qt"] == [False] * 6 + [True]
    assert seen["note"].startswith("QtWebSockets negotiates no compression")
    [saved] = [p for p in _stored(context) if p.id == profile.id]
    # the engine changed; the Wire settings are kept for when it is chosen again
    assert (saved.protocol, saved.compression) == (replace(tuned[0], engine=ENGINE_QT), tuned[1])
    assert saved.resolved().protocol.engine == ENGINE_QT
    assert not window.inspector.composer.frame_size.isEnabled()
