"""Our side of the closing handshake: a server that never answers our close frame, and close frames with codes
RFC 6455 forbids (fault injection), checked against what the server received."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from PySide6.QtNetwork import QAbstractSocket

from tests.net.conftest import WAIT_MS, Net
from tests.net.hostile_extra import FrameRecorder
from wsinspector.core.events import ConnectionState, FailureKind
from wsinspector.core.frames import Opcode


def test_server_that_never_answers_our_close_frame(net: Net) -> None:
    """The server reads our close frame and says nothing, keeping TCP open. After ``close_timeout_s`` the client
    drops the connection and says why: the closing handshake did not complete, so the close is not clean."""
    recorder = FrameRecorder(close_reply=None, drop_after_close=False)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url, protocol={"close_timeout_s": 0.3})

    with net.qtbot.waitSignal(rec.conn.closed, timeout=WAIT_MS) as blocker:
        rec.conn.close(1000, "bye")

    assert [w.payload for w in recorder.frames] == [struct.pack("!H", 1000) + b"bye"]
    info = blocker.args[0]
    assert rec.closed == [info]
    assert info.by_peer is False
    assert info.clean is False, f"a close handshake the server never answered reported as clean: {info.message!r}"
    assert info.failure is not None, f"no failure reported: {info.message!r}"
    assert info.failure.kind is FailureKind.CLOSE_TIMEOUT
    assert info.failure.timeout_s == 0.3
    assert "0.3 s" in info.message
    assert rec.conn.state is ConnectionState.CLOSED
    assert rec.states[-1] is ConnectionState.CLOSED
    assert rec.in_closes() == []
    # the socket is gone: closed on our side, and the server saw the TCP connection end
    sockets = rec.conn.findChildren(QAbstractSocket)
    assert all(s.state() is QAbstractSocket.SocketState.UnconnectedState for s in sockets)
    net.qtbot.waitUntil(lambda: recorder.client_hung_up, timeout=WAIT_MS)


BAD_CODE_REPLY = struct.pack("!H", 1002) + b"bad close code"


@pytest.mark.parametrize("code", [999, 1005, 5000])
def test_close_with_a_code_rfc_6455_forbids(net: Net, code: int) -> None:
    """Fault injection: the code goes on the wire as given. The server answers as a conforming one would, with
    1002; the connection ends cleanly and says we closed it with our code.

    Both engines put these codes on the wire (QtConnection passes any number to QWebSocket; the app only
    offers invalid codes with the Wire engine)."""
    recorder = FrameRecorder(close_reply=BAD_CODE_REPLY)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)

    info = net.close(rec, code, "x")

    sent = struct.pack("!H", code) + b"x"
    assert [(w.opcode, w.payload) for w in recorder.frames] == [(0x8, sent)]
    out_closes = [f for f in rec.outgoing() if f.opcode is Opcode.CLOSE]
    assert [f.payload for f in out_closes] == [sent]
    assert (info.code, info.reason, info.by_peer, info.failure) == (code, "x", False, None)
    assert str(code) in info.message
    if net.sees_every_frame:
        assert [f.payload for f in rec.in_closes()] == [BAD_CODE_REPLY]
        assert out_closes[0].mask_key == recorder.frames[0].mask_key
        assert out_closes[0].note == ("deliberately a code RFC 6455 forbids on the wire "
                                      "(Faults ▸ Close with this code, unchecked)")
        assert info.reply == (1002, "bad close code")
        assert info.message.endswith('; the server answered 1002 (protocol error) "bad close code"')


def test_server_echoing_our_forbidden_code(net: Net) -> None:
    """The server echoes our 999. The client has sent its close frame already, so it sends no other: whatever it
    reports must not claim a close frame that never crossed the wire."""
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)

    info = net.close(rec, 999, "x")

    assert [(w.opcode, w.payload) for w in recorder.frames] == [(0x8, struct.pack("!H", 999) + b"x")]
    assert [f.close_code for f in rec.outgoing()] == [999]
    assert (info.code, info.by_peer) == (999, False)
    if net.sees_every_frame:
        # the echoed 999 is not a close frame websockets can read: the handshake did not complete properly
        assert info.clean is False
        assert info.failure is not None
        assert info.failure.kind is FailureKind.PROTOCOL
        assert "1002" not in info.message, f"claims a 1002 close frame that was never sent: {info.message!r}"
    else:
        # Known Qt limitation: the reply is not visible; QWebSocket reports the close we started
        assert (info.clean, info.failure) == (True, None)


def test_close_frame_without_a_body(net: Net) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)

    if not net.sees_every_frame:
        # QtConnection always sends a code: a close frame with no body is a Wire fault injection
        with pytest.raises(ValueError, match="not a valid"):
            rec.conn.close(None)
        assert recorder.frames == []
        return

    info = net.close(rec, None)

    assert [(w.opcode, w.payload, w.length) for w in recorder.frames] == [(0x8, b"", 0)]
    assert [(f.opcode, f.payload, f.payload_length) for f in rec.outgoing()] == [(Opcode.CLOSE, b"", 0)]
    assert [f.payload for f in rec.in_closes()] == [b""]  # the server echoed the empty body
    assert (info.code, info.by_peer, info.clean, info.failure) == (None, False, True, None)
    assert "no code" in info.message


@pytest.mark.parametrize("code", [999, 5000, None])
def test_websockets_server_answers_a_bad_close(net: Net, code: int | None) -> None:
    """What a real server does with it: `websockets` fails the connection with 1002 on an invalid code (it cannot
    read the frame as a close frame), and echoes an empty body (which it reads as 1005, no status)."""
    seen: list[Any] = []

    async def record_close(ws: Any) -> None:
        await ws.wait_closed()
        seen.append((ws.protocol.close_rcvd, ws.protocol.close_sent))

    _peer, url = net.websockets_peer(record_close)
    rec = net.open(url)
    if not net.sees_every_frame and code is None:
        with pytest.raises(ValueError, match="not a valid"):
            rec.conn.close(None)
        return

    info = net.close(rec, code)

    assert info.by_peer is False
    assert info.code == code
    net.qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    [(received, sent)] = seen
    if code is None:
        assert (received.code, sent.code) == (1005, 1005)
        expected_reply: int | None = None
    else:
        assert received is None  # not a close frame it could read
        assert sent.code == 1002
        expected_reply = 1002
    if net.sees_every_frame:
        assert [f.close_code for f in rec.in_closes()] == [expected_reply]
