"""Both engines against a raw server that misbehaves on purpose: what the user reads and what the timeline
shows when the handshake is refused or stalls, frames are too big, the server vanishes or breaks the
protocol."""

from __future__ import annotations

import struct

import pytest
from PySide6.QtCore import QTimer

from tests.net.conftest import WAIT_MS, Net, is_in_final
from tests.net.hostile_extra import FrameRecorder, declares_oversized_frame
from tests.peers import (
    frame_header,
    http_status,
    never_answers,
    sends_then_drops,
    server_frame,
)
from wsinspector.core.events import ConnectionState, FailureKind
from wsinspector.core.frames import Opcode
from wsinspector.core.profiles import MIB

# -- handshake --------------------------------------------------------------------------------------------


def test_http_403_is_a_rejected_handshake(net: Net) -> None:
    _peer, url = net.hostile(http_status(403, "Forbidden"))
    rec = net.open_until("failed", url)

    [failure] = rec.failed
    assert failure.kind is FailureKind.HANDSHAKE_REJECTED
    assert failure.http_status == 403
    assert "403" in failure.message
    assert "Forbidden" in failure.message
    assert rec.opened == []
    assert rec.closed == []
    assert rec.conn.state is ConnectionState.CLOSED


def test_server_that_never_answers_times_out(net: Net) -> None:
    _peer, url = net.hostile(never_answers)
    rec = net.open_until("failed", url, handshake={"timeout_s": 0.5})

    [failure] = rec.failed
    assert failure.kind is FailureKind.HANDSHAKE_TIMEOUT
    assert "0.5 s" in failure.message
    assert rec.opened == []
    assert rec.conn.state is ConnectionState.CLOSED


# -- size limits --------------------------------------------------------------------------------------------


def test_oversized_frame_closes_with_message_too_big(net: Net) -> None:
    # The server announces a 2 MiB frame; the engine must refuse it from the header alone. (The payload is
    # not sent here: see test_oversized_frame_payload_is_not_parsed_as_frames for what the payload does.)
    _peer, url = net.hostile(declares_oversized_frame(2 * MIB))
    rec = net.open_until("closed", url, limits={"max_message_size": MIB, "max_frame_size": MIB})

    [info] = rec.closed
    assert info.failure is not None
    assert info.failure.kind is FailureKind.MESSAGE_TOO_BIG
    assert info.code == 1009
    assert info.by_peer is False
    assert "1.0 MiB" in info.message
    rec.refused(net.sees_every_frame, Opcode.BINARY, 2 * MIB)


def test_oversized_frame_payload_is_not_parsed_as_frames(net: Net) -> None:
    """After refusing an oversized frame the engine must stop reading, not parse the rest of its payload.

    QWebSocket (6.11) goes on parsing the payload bytes that follow the refused header as frames, including
    bytes that arrive later; every bogus frame triggers another internal close() that creates a 3-second
    QTimer child of the QWebSocket. 64 KiB of zeros make 32 768 of them; with the 2 MiB frame of
    ``tests.peers.oversized_frame`` it is about a million, and deleting them freezes the event loop (the
    whole app) for about a minute at 100% CPU. The engine's own timer plus one close timer are a handful:
    anything in the thousands is the flood. The payload comes in two parts, the second one after the
    client's close frame, as it does from a real server still busy sending."""
    size, limit = 64 * 1024, 16 * 1024
    first = 16 * 1024
    recorder = FrameRecorder(send_first=frame_header(0x2, size) + b"\0" * first,
                             send_after_close=b"\0" * (size - first), echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url, limits={"max_message_size": limit, "max_frame_size": limit})

    assert rec.closed[0].failure is not None
    assert rec.closed[0].failure.kind is FailureKind.MESSAGE_TOO_BIG
    assert [w.opcode for w in recorder.frames] == [0x8]  # the client's close (1009), nothing else
    timers = len(rec.conn.findChildren(QTimer))
    assert timers < 100, f"{timers} QTimers left under the connection after a refused {size}-byte frame"


# -- the server ends the connection --------------------------------------------------------------------------


def test_server_close_frame_with_code_and_reason(net: Net) -> None:
    # The server sends 4001 "bye", reads the client's answer and never drops TCP itself.
    recorder = FrameRecorder(send_first=server_frame(0x8, struct.pack("!H", 4001) + b"bye"), drop_after_close=False)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url)

    [incoming_close] = rec.in_closes()
    assert (incoming_close.close_code, incoming_close.close_reason) == (4001, "bye")
    [info] = rec.closed
    assert (info.code, info.reason, info.by_peer, info.clean, info.failure) == (4001, "bye", True, True, None)
    assert "4001" in info.message
    assert "bye" in info.message
    # both engines answer with the same close frame, then drop TCP themselves (Wire after a 1 s grace)
    net.qtbot.waitUntil(lambda: recorder.client_hung_up, timeout=WAIT_MS)
    assert [w.payload for w in recorder.frames] == [struct.pack("!H", 4001) + b"bye"]
    if net.sees_every_frame:
        # the real frame, and the reply the protocol sent by itself, both in the timeline
        assert incoming_close.note == ""
        assert [(f.opcode, f.payload) for f in rec.outgoing()] == [(Opcode.CLOSE, recorder.frames[0].payload)]
    else:
        # QWebSocket hides both the incoming close frame and its automatic reply
        assert "reconstructed" in incoming_close.note
        assert rec.outgoing() == []
    assert rec.conn.state is ConnectionState.CLOSED


def test_server_vanishes_after_a_frame(net: Net) -> None:
    _peer, url = net.hostile(sends_then_drops(server_frame(0x1, b"last words")))
    rec = net.open_until("closed", url)

    assert [(f.opcode, f.payload, f.fin) for f in rec.incoming(data_only=True)] == [(Opcode.TEXT, b"last words", True)]
    [info] = rec.closed
    assert info.failure is not None
    assert info.failure.kind is FailureKind.CONNECTION_LOST
    assert info.code == 1006
    assert info.clean is False
    assert "Server gone" in info.message
    assert "1006" in info.message
    assert rec.in_closes() == []  # no close frame was received, none may be shown


def test_fragments_with_an_interleaved_ping(net: Net) -> None:
    wire = server_frame(0x1, b"abc", fin=False) + server_frame(0x9, b"P") + server_frame(0x0, b"def")
    recorder = FrameRecorder(send_first=wire, echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.start(url)
    net.qtbot.waitUntil(lambda: any(is_in_final(f) for f in rec.frames), timeout=WAIT_MS)
    # both engines answer the ping by themselves, between the fragments
    net.qtbot.waitUntil(lambda: len(recorder.frames) == 1, timeout=WAIT_MS)
    [pong] = recorder.frames
    assert (pong.opcode, pong.payload) == (0xA, b"P")

    if net.sees_every_frame:
        # Wire shows the ping where it arrived, between the two fragments, and the pong it sent
        assert [(f.opcode, f.payload, f.fin) for f in rec.incoming()] == [
            (Opcode.TEXT, b"abc", False),
            (Opcode.PING, b"P", True),
            (Opcode.CONTINUATION, b"def", True),
        ]
        assert [(f.opcode, f.payload, f.mask_key) for f in rec.outgoing()] == [(Opcode.PONG, b"P", pong.mask_key)]
    else:
        # QWebSocket answers pings itself and has no signal for an incoming ping: the server's ping between the
        # two fragments cannot appear in the timeline, nor the pong. Only the two data frames do, in order.
        assert [(f.opcode, f.payload, f.fin) for f in rec.incoming()] == [
            (Opcode.TEXT, b"abc", False),
            (Opcode.CONTINUATION, b"def", True),
        ]
        assert rec.outgoing() == []
    assert rec.closed == []


# -- truthfulness of reconstructed close frames and protocol errors ------------------------------------------


def test_client_close_shows_no_close_frame_the_server_did_not_send(net: Net) -> None:
    """The server answers our 4000 "done" with 1000 "other". QWebSocket does not expose that reply; the
    timeline may leave it out, but it must not show an incoming close frame the server never sent."""
    reply = struct.pack("!H", 1000) + b"other"
    recorder = FrameRecorder(close_reply=reply, drop_after_close=False)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)

    info = net.close(rec, 4000, "done")

    assert [w.payload for w in recorder.frames if w.opcode == 0x8] == [struct.pack("!H", 4000) + b"done"]
    assert info.by_peer is False
    invented = [(f.close_code, f.close_reason) for f in rec.in_closes() if f.payload != reply]
    assert invented == [], "incoming close frame(s) that the server never sent"


@pytest.mark.parametrize("server_echoes_close", [True, False], ids=["server-echoes-close", "server-hangs-up"])
@pytest.mark.parametrize(
    ("wire", "code"),
    [
        pytest.param(server_frame(0x1, b"ok\xff"), 1007, id="invalid-utf8"),
        pytest.param(frame_header(0x1, 2, rsv=4) + b"hi", 1002, id="rsv1-without-extension"),
        pytest.param(server_frame(0x0, b"hi"), 1002, id="orphan-continuation"),
        pytest.param(frame_header(0x1, 2, rsv=2) + b"hi", 1002, id="rsv2-without-extension"),
        pytest.param(frame_header(0x1, 2, rsv=1) + b"hi", 1002, id="rsv3-without-extension"),
        pytest.param(server_frame(0x3, b"hi"), 1002, id="reserved-opcode"),
        pytest.param(server_frame(0x8, struct.pack("!H", 1000) + b"bye \xff"), 1007, id="invalid-utf8-close-reason"),
        pytest.param(server_frame(0x9, b"p" * 126), 1002, id="control-frame-over-125-bytes"),
        pytest.param(server_frame(0x9, b"p", fin=False), 1002, id="fragmented-control-frame"),
        pytest.param(server_frame(0x1, b"a", fin=False) + server_frame(0x2, b"b"), 1002, id="new-message-mid-message"),
        pytest.param(server_frame(0x8, b"\x03"), 1002, id="one-byte-close-payload"),
        pytest.param(server_frame(0x8, struct.pack("!H", 1005)), 1002, id="close-code-1005-on-the-wire"),
        pytest.param(server_frame(0x8, struct.pack("!H", 999) + b"x"), 1002, id="close-code-999"),
        pytest.param(server_frame(0xB, b"hi"), 1002, id="reserved-control-opcode"),
    ],
)
def test_server_protocol_violation_is_reported_as_such(
    net: Net, wire: bytes, code: int, server_echoes_close: bool
) -> None:
    """The client fails the connection (RFC 6455 7.1.7) by sending the close frame; the server then either
    echoes it, as a conforming server does, or just hangs up. Either way the user must read that the server
    broke the protocol, not that the server closed the connection."""
    recorder = FrameRecorder(send_first=wire, echo_close=server_echoes_close, close_reply=None)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url)
    # after a close frame from the server (the bad close reason) Qt does not wait for the server's answer
    net.qtbot.waitUntil(lambda: recorder.client_hung_up or any(w.opcode == 0x8 for w in recorder.frames),
                        timeout=WAIT_MS)

    # what crossed the wire: the client sent the first close frame, with the protocol-error code
    assert [struct.unpack("!H", w.payload[:2])[0] for w in recorder.frames if w.opcode == 0x8] == [code]
    [info] = rec.closed
    assert info.code == code
    assert info.by_peer is False, f"reported as closed by the server: {info.message!r}"
    assert info.failure is not None, f"no failure reported: {info.message!r}"
    assert info.failure.kind is FailureKind.PROTOCOL
    assert info.message.startswith("Protocol error from the server")
    if not server_echoes_close and wire[0] & 0x0F != 0x8:
        assert rec.in_closes() == [], "an incoming close frame the server never sent"
