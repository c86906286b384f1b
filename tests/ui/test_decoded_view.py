"""The window reads what runs on top of WebSocket: a tab connected to a real Socket.IO server (python-socketio over
its plain WebSocket URL) shows the Protocol and Decoded columns, the detail pane's Decoded tab, filters on
decoded fields; the connection's settings choose another decoder; a MessagePack frame through the built-in echo
server says in one line why it is not JSON; an exported session carries the decoded form."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from tests.decoder_peers import SocketIoServer
from tests.peers import QtPeer
from tests.ui.helpers import (
    WAIT_MS,
    ModalHandler,
    cell,
    click,
    close_connection,
    compose,
    connect,
    press_ctrl_enter,
    replace_text,
    select_row,
    wait_rows,
)
from tests.ui.helpers_sessions import (
    IN_TEXT,
    LONG_WAIT_MS,
    open_stored,
    select_local_echo,
    select_peer,
    wait_filter_settled,
)
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ConnectionProfile, Decoding, Endpoint
from wsinspector.core.store import SessionStatus, Store
from wsinspector.ui import palette
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.profile_dialog import ProfileDialog
from wsinspector.ui.timeline import COL_DECODED, COL_DIR, COL_PREVIEW, COL_PROTOCOL


@pytest.fixture
def socketio_server(run: Callable[..., Any]) -> Iterator[SocketIoServer]:
    server = run(SocketIoServer().start())
    yield server
    run(server.stop())


def _send(qtbot: Any, window: MainWindow, text: str, rows: int) -> None:
    compose(qtbot, window, text)
    press_ctrl_enter(qtbot, window)
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() >= rows, timeout=WAIT_MS)


def _decoded_rows(window: MainWindow) -> list[tuple[str, str]]:
    return [(cell(window, row, COL_PROTOCOL), cell(window, row, COL_DECODED))
            for row in range(window.inspector.model.rowCount())]


def _tree_texts(tree: QTreeWidget) -> list[str]:
    found: list[str] = []

    def walk(item: QTreeWidgetItem) -> None:
        for index in range(item.childCount()):
            child = item.child(index)
            found.append(f"{child.text(0)}={child.text(1)}")
            walk(child)

    walk(tree.invisibleRootItem())
    return found


def _socketio_chat(qtbot: Any, window: MainWindow, server: SocketIoServer) -> None:
    """Connect to the server's Socket.IO endpoint, join the default namespace, say hi: six frames."""
    select_peer(window, server.url, "Socket.IO")
    connect(qtbot, window)
    wait_rows(qtbot, window, 1)  # Engine.IO's open packet
    _send(qtbot, window, "40", 3)
    _send(qtbot, window, '42["chat","hi"]', 6)  # the reply event, then its binary attachment
    wait_rows(qtbot, window, 6)


def test_a_socketio_tab_shows_the_protocol_the_decoded_line_and_tree_and_filters_by_event(
    qtbot: Any, window: MainWindow, socketio_server: SocketIoServer
) -> None:
    _socketio_chat(qtbot, window, socketio_server)
    page = window.inspector
    timeline = page.timeline
    assert not timeline.isColumnHidden(COL_PROTOCOL) and not timeline.isColumnHidden(COL_DECODED)
    # the decoded columns sit before the preview, which keeps the width left
    header = timeline.horizontalHeader()
    assert header.visualIndex(COL_DECODED) < header.visualIndex(COL_PREVIEW)
    rows = _decoded_rows(window)
    assert {protocol for protocol, _ in rows} == {"socket.io"}
    summaries = [summary for _, summary in rows]
    assert summaries[0].startswith("OPEN sid=")
    assert summaries[1] == "CONNECT /"
    assert summaries[2].startswith('CONNECT / {"sid":"')
    # the event painted before its attachment came is read again with it
    assert summaries[3:] == ['EVENT chat ["hi"]',
                             'EVENT reply [{"text":"hi","blob":{"$bytes":"000102"}}] (+1 binary)',
                             "ATTACHMENT 1/1 of EVENT reply (3 bytes)"]
    assert cell(window, 3, COL_PREVIEW) == '42["chat","hi"]'  # the preview is the payload as ever
    # what the view paints: the delegate asks for a cell's roles at once
    delegate = timeline.itemDelegate()
    assert isinstance(delegate, QStyledItemDelegate)
    option = QStyleOptionViewItem()
    delegate.initStyleOption(option, page.model.index(3, COL_DECODED))
    assert option.text == 'EVENT chat ["hi"]'
    option = QStyleOptionViewItem()
    delegate.initStyleOption(option, page.model.index(3, COL_DIR))
    assert option.text == "↑ out"
    assert option.palette.color(option.palette.ColorRole.Text) == palette.qcolour("out")  # the outgoing colour

    # the detail pane's Decoded tab: the event's tree, its attachment's bytes joined to it
    select_row(qtbot, window, 4)
    detail = page.detail
    detail.tabs.setCurrentWidget(detail.decoded)
    assert detail.decoded.summary.text().startswith("socket.io · EVENT reply")
    texts = _tree_texts(detail.decoded.tree)
    assert "event=reply" in texts and "text=hi" in texts
    assert detail.decoded.tree.isVisibleTo(detail)
    select_row(qtbot, window, 0)
    assert "sid" in " ".join(_tree_texts(detail.decoded.tree))

    # a filter on the event name keeps the chat event only, and the ones that come after
    replace_text(qtbot, page.filter_bar.decoded, "event=chat")
    wait_filter_settled(qtbot, window)
    assert [summary for _, summary in _decoded_rows(window)] == ['EVENT chat ["hi"]']
    assert page.counts.text() == "showing 1 of 6 frames"
    compose(qtbot, window, '42["chat","again"]')
    press_ctrl_enter(qtbot, window)
    qtbot.waitUntil(lambda: len(page.session.log) >= 9, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=WAIT_MS)
    assert [summary for _, summary in _decoded_rows(window)] == ['EVENT chat ["hi"]', 'EVENT chat ["again"]']
    # a filter that cannot be read says how to write one, in the bar
    replace_text(qtbot, page.filter_bar.decoded, "$.[")
    qtbot.waitUntil(page.filter_bar.error.isVisible, timeout=WAIT_MS)
    assert "\n" not in page.filter_bar.error.text() and "Traceback" not in page.filter_bar.error.text()
    replace_text(qtbot, page.filter_bar.decoded, "")
    wait_filter_settled(qtbot, window)
    assert page.model.rowCount() == 9
    close_connection(qtbot, window)


def _choose_decoder(qtbot: Any, name: str) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        dialog.tabs.setCurrentWidget(dialog.decoding)
        combo = dialog.decoding.decoder
        assert combo.itemText(0) == "Automatic" and combo.currentIndex() == 0
        index = combo.findData(name)
        assert index > 0
        combo.setCurrentIndex(index)
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        click(qtbot, buttons.button(QDialogButtonBox.StandardButton.Save))

    return answer


def test_the_connections_decoder_setting_reads_the_tab_again(
    qtbot: Any, window: MainWindow, socketio_server: SocketIoServer
) -> None:
    _socketio_chat(qtbot, window, socketio_server)
    page = window.inspector
    assert cell(window, 3, COL_DECODED) == 'EVENT chat ["hi"]'
    select_row(qtbot, window, 3)
    handler = ModalHandler(qtbot, _choose_decoder(qtbot, "json"))
    click(qtbot, page.edit_button)
    handler.wait()
    assert page.profile is not None and page.profile.decoding.decoder == "json"
    # read as JSON now: Socket.IO's packet type before the JSON says why not, in one line; the columns stay
    qtbot.waitUntil(lambda: cell(window, 3, COL_PROTOCOL) == "json", timeout=WAIT_MS)
    assert cell(window, 3, COL_DECODED).startswith("not json: ")
    assert not page.timeline.isColumnHidden(COL_DECODED)
    reason = page.detail.decoded.summary.text()
    assert reason.startswith("Not json: ") and "\n" not in reason
    assert not page.detail.decoded.tree.isVisibleTo(page.detail)
    close_connection(qtbot, window)


def test_a_msgpack_frame_says_in_one_line_why_it_is_not_json_and_shows_decoded(
    qtbot: Any, window: MainWindow
) -> None:
    select_local_echo(window)
    connect(qtbot, window)
    packed = msgpack.packb({"event": "tick", "n": [1, 2]})
    compose(qtbot, window, packed.hex(), PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    select_row(qtbot, window, 1)  # the echo
    detail = window.inspector.detail
    error = detail.json_error.text()
    assert error.startswith("Not JSON: not UTF-8 text (byte 0 is 0x82)")
    assert "\n" not in error and "codec" not in error and "Traceback" not in error
    assert detail.decoded.summary.text() == 'msgpack · {"event":"tick","n":[1,2]}'
    assert "event=tick" in _tree_texts(detail.decoded.tree)
    assert cell(window, 1, COL_PROTOCOL) == "msgpack"
    close_connection(qtbot, window)


def test_an_exported_session_carries_the_decoded_form_beside_the_payload(
    qtbot: Any, window: MainWindow, socketio_server: SocketIoServer, tmp_path: Path
) -> None:
    _socketio_chat(qtbot, window, socketio_server)
    session_id = window.session.session_id
    assert session_id is not None
    close_connection(qtbot, window)
    path = tmp_path / "chat.wssession.json"
    task = window.export_session(session_id, path)
    assert task is not None
    qtbot.waitUntil(lambda: path.exists() and not task.running, timeout=WAIT_MS)
    frames = json.loads(path.read_text("utf-8"))["frames"]
    chat = next(f for f in frames if f.get("text") == '42["chat","hi"]')
    assert chat["decoded"]["protocol"] == "socket.io"
    assert chat["decoded"]["summary"] == 'EVENT chat ["hi"]'
    assert chat["decoded"]["fields"]["event"] == "chat"
    attachment = next(f for f in frames if f["opcode"] == "binary")
    assert attachment["decoded"]["summary"] == "ATTACHMENT 1/1 of EVENT reply (3 bytes)"
    # the close frame is not a message: nothing decoded beside it
    assert all("decoded" not in f for f in frames if f["opcode"] == "close")

    # the decoded form is extra: the file imports as before, payloads byte for byte
    imported = window.import_session(path)
    assert imported is not None
    qtbot.waitUntil(lambda: not imported.running, timeout=WAIT_MS)
    records = [r for r in window.context.sessions.sessions() if r.id != session_id]
    assert records and records[0].frame_count == len(frames)


def test_a_fragmented_message_reads_on_its_last_frame_and_on_its_message_row_live_and_stored(
    qtbot: Any, window: MainWindow, qt_peer: Callable[..., QtPeer]
) -> None:
    """A server that fragments what it sends (QWebSocketServer, 16-byte frames), its connection set to read
    Socket.IO in its settings: the message is decoded where it is whole."""
    url = qt_peer(outgoing_frame_size=16).listen()
    profile = window.context.connections.save(ConnectionProfile(
        name="Fragments", endpoint=Endpoint(url), decoding=Decoding("socket.io")))
    window.connections.select(profile.id)
    connect(qtbot, window)
    text = '42["chat","a message longer than one frame"]'  # 44 bytes: echoed as frames of 16, 16 and 12
    compose(qtbot, window, text)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 4)
    summary = 'EVENT chat ["a message longer than one frame"]'
    assert [decoded for _, decoded in _decoded_rows(window)] == [summary, "", "", summary]
    assert not window.inspector.timeline.isColumnHidden(COL_DECODED)
    select_row(qtbot, window, 1)  # the echo's first frame: the whole message decoded in the pane
    assert window.inspector.detail.decoded.summary.text() == f"socket.io · {summary}"

    click(qtbot, window.inspector.view_bar.messages_button)
    wait_rows(qtbot, window, 2)
    assert _decoded_rows(window) == [("socket.io", summary), ("socket.io", summary)]
    click(qtbot, window.inspector.view_bar.frames_button)
    wait_rows(qtbot, window, 4)
    session_id = window.session.session_id
    assert session_id is not None
    close_connection(qtbot, window)

    # the stored session reads as its connection's settings say
    open_stored(qtbot, window, session_id)
    rows = _decoded_rows(window)
    assert rows[:4] == [("socket.io", summary), ("", ""), ("", ""), ("socket.io", summary)]
    assert all(decoded == "" for _, decoded in rows[4:])  # the close frames


def _socketio_session(store: Store, count: int) -> int:
    """A stored Socket.IO session of ``count`` events, ``chat`` and ``tick`` in turn, written straight to the
    store."""
    session_id = store.create_session("Events", "ws://127.0.0.1:9/socket.io/?EIO=4&transport=websocket",
                                      time.time() - 60, 1_000)
    frames = [(seq, 1_000 + seq * 1_000, IN_TEXT, None, None, None,
               b'42["%s",{"n":%d}]' % (b"chat" if seq % 2 else b"tick", seq)) for seq in range(count)]
    store.append_frames(session_id, frames)
    store.finish_session(session_id, SessionStatus.CLOSED, time.time(), 1000, "")
    return session_id


def test_a_decoded_filter_over_a_big_stored_session_shows_progress_and_can_be_cancelled(
    qtbot: Any, window: MainWindow
) -> None:
    count = 60_000
    session_id = _socketio_session(window.context.store, count)
    open_stored(qtbot, window, session_id)
    page = window.inspector
    assert cell(window, 1, COL_DECODED) == 'EVENT chat [{"n":1}]'
    bar = page.filter_bar
    replace_text(qtbot, bar.decoded, "event=chat")
    qtbot.waitUntil(lambda: page.is_filtering and "%" in bar.status.text(), timeout=WAIT_MS)
    assert bar.cancel.isVisible()
    click(qtbot, bar.cancel)
    qtbot.waitUntil(lambda: not page.is_filtering, timeout=WAIT_MS)
    assert bar.error.text() == "Filtering cancelled: showing all frames"
    assert page.model.rowCount() == count

    bar.decoded.setText("$.socketio.args[0].n = 7")
    bar.apply()
    qtbot.waitUntil(lambda: not page.is_filtering, timeout=LONG_WAIT_MS)
    assert _decoded_rows(window) == [("socket.io", 'EVENT chat [{"n":7}]')]


def _tick_schema(path: Path) -> type:
    """A descriptor set as ``protoc --include_imports --descriptor_set_out`` writes it (``demo.Tick``: a symbol
    and a price), and the message class the protobuf library makes from it."""
    file = descriptor_pb2.FileDescriptorProto(name="ticks.proto", package="demo", syntax="proto3")
    tick = file.message_type.add(name="Tick")
    for name, number, kind in (("symbol", 1, descriptor_pb2.FieldDescriptorProto.TYPE_STRING),
                               ("price", 2, descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE)):
        tick.field.add(name=name, number=number, type=kind, label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    path.write_bytes(descriptor_pb2.FileDescriptorSet(file=[file]).SerializeToString())
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("demo.Tick"))


def test_a_protobuf_schema_set_in_the_connections_settings_names_the_fields(
    qtbot: Any, window: MainWindow, qt_peer: Callable[..., QtPeer], tmp_path: Path
) -> None:
    schema = tmp_path / "ticks.desc"
    tick = _tick_schema(schema)(symbol="ACME", price=3.5)
    select_peer(window, qt_peer().listen(), "Ticks")
    seen: list[str] = []

    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        fields = dialog.decoding
        fields.decoder.setCurrentIndex(fields.decoder.findData("protobuf"))
        fields.descriptors.edit.setText(str(tmp_path / "missing.desc"))
        fields.message.setText("demo.Tick")
        save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
        click(qtbot, save)
        seen.append(dialog.error.text())  # the dialog stays open on the Decoding tab, saying why
        assert dialog.isVisible() and dialog.tabs.currentWidget() is fields
        fields.descriptors.edit.setText(str(schema))
        click(qtbot, save)

    handler = ModalHandler(qtbot, answer)
    click(qtbot, window.inspector.edit_button)
    handler.wait()
    assert seen[0].startswith("Decoding: cannot read the descriptor set") and "\n" not in seen[0]
    saved = window.inspector.profile
    assert saved is not None and saved.decoding.decoder == "protobuf"
    assert dict(saved.decoding.options) == {"descriptors": str(schema), "message": "demo.Tick"}

    connect(qtbot, window)
    compose(qtbot, window, tick.SerializeToString().hex(), PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    select_row(qtbot, window, 1)
    decoded = window.inspector.detail.decoded
    assert decoded.summary.text().startswith('protobuf · demo.Tick {"symbol":"ACME"')
    assert "symbol=ACME" in _tree_texts(decoded.tree)
    close_connection(qtbot, window)
