"""Both engines against a QWebSocketServer peer: echo, a fragmenting server, closes both ways, the server's pings,
no permessage-deflate, leading byte order marks, and the Wire engine's fault injection as Qt's server sees it."""

from __future__ import annotations

import pytest

from tests.net.conftest import WAIT_MS, Net, is_in, is_in_final
from tests.net.qt_strings import qt_incoming, qt_outgoing
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Direction, Opcode


def test_text_and_binary_echo(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_text("ping ✓")
    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_binary(bytes(range(256)))

    assert [(f.opcode, f.payload, f.fin) for f in rec.incoming()] == [
        (Opcode.TEXT, "ping ✓".encode(), True),
        (Opcode.BINARY, bytes(range(256)), True),
    ]
    assert peer.received == ["ping ✓", bytes(range(256))]


@pytest.mark.parametrize(("kind", "first"), [("text", Opcode.TEXT), ("binary", Opcode.BINARY)])
def test_fragmenting_server_shows_every_frame(net: Net, kind: str, first: Opcode) -> None:
    _peer, url = net.qt_peer(outgoing_frame_size=1024)
    rec = net.open(url)
    payload = bytes(ord("a") + i % 26 for i in range(5000))

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        if kind == "text":
            rec.conn.send_text(payload.decode())
        else:
            rec.conn.send_binary(payload)

    frames = rec.incoming()
    assert [f.opcode for f in frames] == [first] + [Opcode.CONTINUATION] * 4
    assert [f.fin for f in frames] == [False, False, False, False, True]
    assert [len(f.payload) for f in frames] == [1024, 1024, 1024, 1024, 904]
    assert b"".join(f.payload for f in frames) == payload


def test_server_closes_with_code_and_reason(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    net.qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)

    with net.qtbot.waitSignal(rec.conn.closed, timeout=WAIT_MS) as blocker:
        peer.close_all(4001, "bye")

    info = blocker.args[0]
    assert (info.code, info.reason, info.by_peer, info.failure) == (4001, "bye", True, None)
    assert "4001" in info.message
    assert "bye" in info.message
    assert [(f.close_code, f.close_reason) for f in rec.in_closes()] == [(4001, "bye")]
    assert rec.conn.state is ConnectionState.CLOSED


def test_client_closes_with_code_and_reason(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    net.qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)

    info = net.close(rec, 4000, "done")

    assert (info.code, info.reason, info.by_peer, info.clean, info.failure) == (4000, "done", False, True, None)
    net.qtbot.waitUntil(lambda: len(peer.disconnects) == 1, timeout=WAIT_MS)
    assert peer.disconnects == [(4000, "done")]
    if net.sees_every_frame:
        # the server's answer, as it came
        assert [(f.close_code, f.close_reason) for f in rec.in_closes()] == [(4000, "done")]


def test_server_ping_is_answered(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    net.qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)

    peer.ping_all(b"heartbeat")
    net.qtbot.waitUntil(lambda: len(peer.pongs) == 1, timeout=WAIT_MS)

    assert peer.pongs == [b"heartbeat"]
    if net.sees_every_frame:
        assert [(f.direction, f.opcode, f.payload) for f in rec.frames] == [
            (Direction.IN, Opcode.PING, b"heartbeat"),
            (Direction.OUT, Opcode.PONG, b"heartbeat"),
        ]
    else:
        assert rec.frames == []  # Known Qt limitation: QWebSocket answers pings unseen


def test_auto_pong_switched_off_while_connected(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    net.qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)
    if not net.sees_every_frame:
        assert not hasattr(rec.conn, "set_auto_pong")  # Known Qt limitation: QWebSocket always answers
        return

    rec.conn.set_auto_pong(False)
    assert rec.conn.auto_pong is False
    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in(Opcode.PING)):
        peer.ping_all(b"first")
    rec.conn.set_auto_pong(True)
    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in(Opcode.PING)):
        peer.ping_all(b"second")
    net.qtbot.waitUntil(lambda: len(peer.pongs) == 1, timeout=WAIT_MS)
    net.close(rec)
    net.qtbot.waitUntil(lambda: len(peer.disconnects) == 1, timeout=WAIT_MS)

    # the server read everything we sent before our close frame: one pong, for the second ping only
    assert peer.pongs == [b"second"]
    pings = [f for f in rec.incoming() if f.opcode is Opcode.PING]
    assert [(f.payload, "not answered" in f.note) for f in pings] == [(b"first", True), (b"second", False)]
    assert [(f.opcode, f.payload) for f in rec.outgoing()] == [(Opcode.PONG, b"second"), (Opcode.CLOSE, b"\x03\xe8")]


def test_no_compression_with_a_qt_server(net: Net) -> None:
    # QWebSocketServer supports no extension: the Wire engine's offer is declined, frames go uncompressed
    _peer, url = net.qt_peer()
    rec = net.open(url)
    payload = b"z" * 2000

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_text(payload.decode())

    assert rec.opened[0].extensions == ""
    [out] = rec.outgoing()
    [back] = rec.incoming()
    assert (out.rsv1, out.payload_length) == (False, len(payload))
    assert back.payload == payload
    if net.sees_every_frame:
        assert (back.rsv1, back.payload_length) == (False, len(payload))


@pytest.mark.parametrize("text", ["\ufeffhi ✓", "\ufffehi ✓"], ids=["leading-U+FEFF", "leading-U+FFFE"])
def test_leading_byte_order_marks_through_a_qt_server(net: Net, text: str) -> None:
    """The QtPeer is QWebSocketServer driven from Python: it alters a leading U+FEFF / U+FFFE like the Qt engine
    does (tests/net/qt_strings.py), on the way in and again when it echoes."""
    peer, url = net.qt_peer()
    rec = net.open(url)

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_text(text)

    on_the_wire = text if net.sees_every_frame else qt_outgoing(text)
    assert peer.received == [qt_incoming(on_the_wire)]
    echoed = qt_outgoing(qt_incoming(on_the_wire))
    [back] = rec.incoming()
    if net.sees_every_frame:
        assert [f.payload for f in rec.outgoing()] == [text.encode()]
        assert back.payload == echoed.encode()  # what the server really sent back
    else:
        assert back.payload == qt_incoming(echoed).encode()


def test_fragmented_message_to_a_qt_server(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    if not net.sees_every_frame:
        assert not hasattr(rec.conn, "send_fragmented")
        return
    text = "fragments for Qt ✓"

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_fragmented(text.encode(), True, 4)

    data = text.encode()
    parts = [data[i:i + 4] for i in range(0, len(data), 4)]
    # QWebSocket hands over each frame's text as it decodes: the "✓" (3 bytes) cut across frames shows up whole in
    # the frame that completes it, so compare the joined frames and the frame count
    assert len(peer.frames_received) == len(parts)
    assert [last for _, last in peer.frames_received] == [False] * (len(parts) - 1) + [True]
    assert b"".join(payload for payload, _ in peer.frames_received) == data
    assert peer.received == [text]
    assert [f.payload for f in rec.outgoing()] == parts
    assert b"".join(f.payload for f in rec.incoming(data_only=True)) == data


def test_invalid_utf8_to_a_qt_server(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    net.qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)
    if not net.sees_every_frame:
        with pytest.raises(UnicodeDecodeError):  # Known Qt limitation: text must decode before QWebSocket sends it
            rec.conn.send(b"ok \xff", True)
        return

    with net.qtbot.waitSignal(rec.conn.closed, timeout=WAIT_MS) as blocker:
        rec.conn.send(b"ok \xff", True)

    info = blocker.args[0]
    assert (info.code, info.by_peer, info.failure) == (1007, True, None)
    assert peer.received == []
    net.qtbot.waitUntil(lambda: len(peer.disconnects) == 1, timeout=WAIT_MS)
    assert peer.disconnects[0][0] == 1007


def test_forbidden_close_code_to_a_qt_server(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    net.qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)

    info = net.close(rec, 999, "")

    assert (info.code, info.by_peer) == (999, False)
    net.qtbot.waitUntil(lambda: len(peer.disconnects) == 1, timeout=WAIT_MS)
    assert peer.disconnects[0][0] == 1002  # QWebSocketServer refuses the code as a protocol error
    if net.sees_every_frame:
        assert [f.close_code for f in rec.in_closes()] == [1002]
