"""Pings from the server and the pongs that answer them, checked against what the server received; and pongs
nobody asked for (fault injection)."""

from __future__ import annotations

from tests.net.conftest import WAIT_MS, Net, is_in, is_in_final
from tests.net.hostile_extra import FrameRecorder
from tests.peers import server_frame
from wsinspector.core.frames import Direction, Opcode


def test_incoming_ping_is_answered_with_the_same_payload(net: Net) -> None:
    recorder = FrameRecorder(send_first=server_frame(0x9, b"are you there?"), echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.start(url)

    net.qtbot.waitUntil(lambda: len(recorder.frames) == 1, timeout=WAIT_MS)

    [pong] = recorder.frames
    assert (pong.opcode, pong.fin, pong.masked, pong.payload) == (0xA, True, True, b"are you there?")
    if net.sees_every_frame:
        # Wire shows the ping and the pong it sent by itself, with the pong's real header
        net.qtbot.waitUntil(lambda: len(rec.frames) == 2, timeout=WAIT_MS)
        ping, sent = rec.frames
        assert (ping.direction, ping.opcode, ping.payload, ping.note) == (
            Direction.IN, Opcode.PING, b"are you there?", "")
        assert (sent.direction, sent.opcode, sent.payload) == (Direction.OUT, Opcode.PONG, b"are you there?")
        assert (sent.masked, sent.mask_key, sent.payload_length) == (True, pong.mask_key, pong.length)
        assert rec.conn.auto_pong is True
    else:
        # Known Qt limitation: QWebSocket answers pings itself and tells nobody: neither frame can be shown
        assert rec.frames == []


def test_auto_pong_off_leaves_the_ping_unanswered(net: Net) -> None:
    recorder = FrameRecorder(send_first=server_frame(0x9, b"hello?"), echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())

    if net.sees_every_frame:
        rec = net.start(url, protocol={"auto_pong": False})
        net.qtbot.waitUntil(lambda: any(is_in(Opcode.PING)(f) for f in rec.frames), timeout=WAIT_MS)
        assert rec.conn.auto_pong is False
        net.close(rec)
        # TCP keeps order: had a pong been sent, the server would have read it before our close frame
        assert [w.opcode for w in recorder.frames] == [0x8]
        assert [f.opcode for f in rec.incoming()] == [Opcode.PING, Opcode.CLOSE]
        ping = rec.incoming()[0]
        assert ping.payload == b"hello?"
        assert "not answered" in ping.note
        assert [f.opcode for f in rec.outgoing()] == [Opcode.CLOSE]
    else:
        # Known Qt limitation: the profile field is ignored, QWebSocket always answers
        rec = net.start(url, protocol={"auto_pong": False})
        net.qtbot.waitUntil(lambda: len(recorder.frames) == 1, timeout=WAIT_MS)
        assert [(w.opcode, w.payload) for w in recorder.frames] == [(0xA, b"hello?")]
        assert not hasattr(rec.conn, "set_auto_pong")


def test_unsolicited_pong(net: Net) -> None:
    """Fault injection (Wire): a pong nobody asked for. RFC 6455 5.5.3 allows it: the server ignores it and the
    connection goes on."""
    peer, url = net.websockets_peer()
    rec = net.open(url)
    if not net.sees_every_frame:
        assert not hasattr(rec.conn, "send_pong")  # QWebSocket sends pongs only to answer pings
        return

    rec.conn.send_pong(b"unasked")
    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_text("still fine")

    assert rec.frames[0].note == "sent by hand (Faults ▸ Send an unsolicited pong)"
    assert [(f.direction, f.opcode, f.payload) for f in rec.frames] == [
        (Direction.OUT, Opcode.PONG, b"unasked"),
        (Direction.OUT, Opcode.TEXT, b"still fine"),
        (Direction.IN, Opcode.TEXT, b"still fine"),
    ]
    assert peer.received == ["still fine"]
    assert rec.closed == []


def test_unsolicited_pong_on_the_wire(net: Net) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)
    if not net.sees_every_frame:
        assert not hasattr(rec.conn, "send_pong")
        return

    rec.conn.send_pong(b"")
    rec.conn.send_pong(b"x" * 125)  # the largest a control frame may carry
    net.qtbot.waitUntil(lambda: len(recorder.frames) == 2, timeout=WAIT_MS)

    assert [(w.opcode, w.fin, w.payload) for w in recorder.frames] == [(0xA, True, b""), (0xA, True, b"x" * 125)]
    assert [(f.opcode, f.payload, f.mask_key, f.payload_length) for f in rec.outgoing()] == [
        (Opcode.PONG, w.payload, w.mask_key, w.length) for w in recorder.frames
    ]
