"""What the timeline says the client sent must be what crossed the wire: a raw server records the frames."""

from __future__ import annotations

import pytest

from tests.net.conftest import Net
from tests.net.hostile_extra import FrameRecorder
from wsinspector.core.frames import Opcode

#: QtConnection's frame size (QWebSocket's default outgoing frame size)
QT_FRAME_SIZE = 512 * 1024


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_large_message_reported_as_the_frames_on_the_wire(net: Net, kind: str) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)
    # Qt cuts every message into frames of outgoing_frame_size; Wire sends a message as one frame, whatever
    # its size (0: no cutting), unless asked to fragment it (send_fragmented, see test_fault_injection).
    assert rec.conn.outgoing_frame_size == (0 if net.sees_every_frame else QT_FRAME_SIZE)
    # 2.5 Qt frames' worth; the text mixes 1-, 2- and 3-byte UTF-8 characters so frame cuts fall inside some.
    unit = "héllo-€-" if kind == "text" else "\x00\xff\x10"
    message = (unit * (QT_FRAME_SIZE * 5 // 2 // len(unit.encode()) + 1)).encode()
    assert len(message) > 2 * QT_FRAME_SIZE

    if kind == "text":
        rec.conn.send_text(message.decode())
    else:
        rec.conn.send_binary(message)
    net.qtbot.waitUntil(lambda: len(recorder.messages()) == 1, timeout=5000)

    reported = rec.outgoing()
    first = Opcode.TEXT if kind == "text" else Opcode.BINARY
    if net.sees_every_frame:
        assert [(f.opcode, f.fin) for f in reported] == [(first, True)]
    else:
        assert [f.opcode for f in reported] == [first, Opcode.CONTINUATION, Opcode.CONTINUATION]
        assert [f.fin for f in reported] == [False, False, True]
    assert b"".join(f.payload for f in reported) == message
    # the truth: the same frames, in the same order, with the same payloads, reached the server
    assert [(int(f.opcode), f.fin, f.payload) for f in reported] == [
        (w.opcode, w.fin, w.payload) for w in recorder.frames
    ]
    assert all(w.masked for w in recorder.frames)
    assert all(f.masked for f in reported)
    assert recorder.messages() == [(int(first), message)]
    if net.sees_every_frame:
        # Wire reports each frame's real masking key and wire length
        assert [(f.mask_key, f.payload_length) for f in reported] == [(w.mask_key, w.length) for w in recorder.frames]
    else:
        # QWebSocket picks the masking key itself and does not tell: known, unknown
        assert [f.mask_key for f in reported] == [None] * len(reported)


def test_small_message_is_one_frame(net: Net) -> None:
    recorder = FrameRecorder(echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open(url)

    rec.conn.send_text("short")
    rec.conn.send_binary(b"")
    net.qtbot.waitUntil(lambda: len(recorder.messages()) == 2, timeout=5000)

    assert [(int(f.opcode), f.fin, f.payload) for f in rec.outgoing()] == [
        (w.opcode, w.fin, w.payload) for w in recorder.frames
    ] == [(0x1, True, b"short"), (0x2, True, b"")]
    if net.sees_every_frame:
        assert [f.mask_key for f in rec.outgoing()] == [w.mask_key for w in recorder.frames]
        assert len({w.mask_key for w in recorder.frames}) == 2  # a fresh key per frame
