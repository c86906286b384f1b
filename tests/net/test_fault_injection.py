"""Fault injection with the Wire engine, checked against what the server actually received: messages cut into
frames of a chosen size, text that is not UTF-8, and the masking key the timeline reports. (Unsolicited pongs:
test_ping_pong; close frames with forbidden codes or no body: test_closing.)

The Qt engine cannot do any of this: each test says what it does instead."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from tests.net.conftest import WAIT_MS, Net, is_in_final
from tests.net.hostile_extra import FrameRecorder
from wsinspector.core.frames import Opcode

FAULT_COMMANDS = ("send_fragmented", "send_pong", "set_auto_pong")


def test_fault_injection_commands_exist_on_wire_only(net: Net) -> None:
    _peer, url = net.websockets_peer()
    rec = net.open(url)
    if net.sees_every_frame:
        assert all(callable(getattr(rec.conn, name)) for name in FAULT_COMMANDS)
    else:
        assert [name for name in FAULT_COMMANDS if hasattr(rec.conn, name)] == []


@pytest.mark.parametrize(
    ("data", "is_text", "frame_size", "expected"),
    [
        pytest.param(b"abcdefghij", True, 3,
                     [(0x1, False, b"abc"), (0x0, False, b"def"), (0x0, False, b"ghi"), (0x0, True, b"j")],
                     id="text-by-3"),
        pytest.param(bytes(range(8)), False, 4, [(0x2, False, bytes(range(4))), (0x0, True, bytes(range(4, 8)))],
                     id="binary-by-4-exact"),
        # cut inside the 2-byte "é" and the 3-byte "€": legal, fragments need not be valid UTF-8 on their own
        pytest.param("é€".encode(), True, 1,
                     [(0x1, False, b"\xc3"), (0x0, False, b"\xa9"), (0x0, False, b"\xe2"), (0x0, False, b"\x82"),
                      (0x0, True, b"\xac")], id="text-inside-characters"),
        pytest.param(b"short", True, 100, [(0x1, True, b"short")], id="frame-size-larger-than-message"),
        pytest.param(b"", False, 10, [(0x2, True, b"")], id="empty-message"),
    ],
)
def test_send_fragmented_frames_on_the_wire(
    net: Net, data: bytes, is_text: bool, frame_size: int, expected: list[tuple[int, bool, bytes]]
) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)
    if not net.sees_every_frame:
        assert not hasattr(rec.conn, "send_fragmented")
        return

    rec.conn.send_fragmented(data, is_text, frame_size)
    net.qtbot.waitUntil(lambda: len(recorder.frames) == len(expected), timeout=WAIT_MS)

    assert [(w.opcode, w.fin, w.payload) for w in recorder.frames] == expected
    assert all(w.masked and w.rsv == 0 for w in recorder.frames)
    # the timeline reports exactly those frames, each with the key it was masked with
    assert [(int(f.opcode), f.fin, f.payload, f.mask_key, f.payload_length) for f in rec.outgoing()] == [
        (w.opcode, w.fin, w.payload, w.mask_key, w.length) for w in recorder.frames
    ]
    assert recorder.messages() == [(0x1 if is_text else 0x2, data)]


def test_send_fragmented_refuses_a_frame_size_below_one(net: Net) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)
    if not net.sees_every_frame:
        assert not hasattr(rec.conn, "send_fragmented")
        return

    with pytest.raises(ValueError, match="at least 1 byte"):
        rec.conn.send_fragmented(b"abc", True, 0)
    net.close(rec)
    assert [w.opcode for w in recorder.frames] == [0x8]  # nothing but our close frame
    assert [f.opcode for f in rec.outgoing()] == [Opcode.CLOSE]


def test_send_fragmented_compressed_to_a_websockets_server(net: Net) -> None:
    """With permessage-deflate, a fragmented message is compressed as one stream: RSV1 on its first frame only
    (RFC 7692 6.1). The server inflates and reassembles it."""
    peer, url = net.websockets_peer(compression="deflate")
    rec = net.open(url)
    if not net.sees_every_frame:
        assert not hasattr(rec.conn, "send_fragmented")
        return
    text = "fragmented and compressed " * 40

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_fragmented(text.encode(), True, 256)

    out = rec.outgoing()
    assert len(out) == -(-len(text) // 256)
    assert [f.opcode for f in out] == [Opcode.TEXT] + [Opcode.CONTINUATION] * (len(out) - 1)
    assert [f.fin for f in out] == [False] * (len(out) - 1) + [True]
    assert [f.rsv1 for f in out] == [True] + [False] * (len(out) - 1)
    assert [f.payload for f in out] == [text.encode()[i:i + 256] for i in range(0, len(text), 256)]
    assert peer.received == [text]
    assert b"".join(f.payload for f in rec.incoming(data_only=True)) == text.encode()


def test_text_frame_with_invalid_utf8_reaches_the_server_byte_exact(net: Net) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)
    bad = b"ok \xff \xed\xa0\x80 \xc3"  # a byte never valid, an encoded surrogate, a truncated sequence

    if not net.sees_every_frame:
        # Known Qt limitation: QWebSocket sends text as a QString, so the bytes must decode first; they do not
        with pytest.raises(UnicodeDecodeError):
            rec.conn.send(bad, True)
        net.close(rec)
        assert [w.opcode for w in recorder.frames] == [0x8]
        return

    rec.conn.send(bad, True)
    net.qtbot.waitUntil(lambda: len(recorder.frames) == 1, timeout=WAIT_MS)

    [wire] = recorder.frames
    assert (wire.opcode, wire.fin, wire.payload) == (0x1, True, bad)
    [out] = rec.outgoing()
    assert (out.opcode, out.payload, out.mask_key) == (Opcode.TEXT, bad, wire.mask_key)
    assert out.note == "deliberately not valid UTF-8 (Faults ▸ Send the bytes as a text frame)"


def test_websockets_server_answers_invalid_utf8_with_1007(net: Net) -> None:
    seen: list[Any] = []

    async def record_close(ws: Any) -> None:
        try:
            async for message in ws:  # raises ConnectionClosedError here: the close is not a normal one
                seen.append(message)
        finally:
            seen.append(ws.protocol.close_sent)

    _peer, url = net.websockets_peer(record_close)
    rec = net.open(url)
    if not net.sees_every_frame:
        with pytest.raises(UnicodeDecodeError):
            rec.conn.send(b"ok \xff", True)
        assert net.close(rec).code == 1000
        return

    with net.qtbot.waitSignal(rec.conn.closed, timeout=WAIT_MS) as blocker:
        rec.conn.send(b"ok \xff", True)

    info = blocker.args[0]
    assert (info.code, info.by_peer, info.clean, info.failure) == (1007, True, True, None)
    assert "1007" in info.message
    [incoming_close] = rec.in_closes()
    assert incoming_close.close_code == 1007
    # we echoed the server's close frame, as RFC 6455 5.5.1 asks
    assert [f.payload for f in rec.outgoing() if f.opcode is Opcode.CLOSE] == [incoming_close.payload]
    net.qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    [server_close] = seen  # the server never got a message out of it
    assert server_close.code == 1007


def test_reported_mask_keys_are_the_keys_on_the_wire(net: Net) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)

    rec.conn.send_text("one")
    rec.conn.send_binary(b"two")
    rec.conn.ping(b"three")
    net.qtbot.waitUntil(lambda: len(recorder.frames) == 3, timeout=WAIT_MS)
    net.close(rec, 4000, "four")

    assert [(w.opcode, w.payload) for w in recorder.frames] == [
        (0x1, b"one"), (0x2, b"two"), (0x9, b"three"), (0x8, struct.pack("!H", 4000) + b"four")]
    assert all(w.masked and w.mask_key is not None for w in recorder.frames)
    reported = rec.outgoing()
    assert [(int(f.opcode), f.payload) for f in reported] == [(w.opcode, w.payload) for w in recorder.frames]
    assert all(f.masked for f in reported)
    if net.sees_every_frame:
        assert [f.mask_key for f in reported] == [w.mask_key for w in recorder.frames]
        assert len({w.mask_key for w in recorder.frames}) == 4  # a fresh random key for every frame
    else:
        # Known Qt limitation: QWebSocket masks with keys it does not expose
        assert [f.mask_key for f in reported] == [None] * 4
