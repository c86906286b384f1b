"""Whole-message frames take a short path through both engines (the Wire engine reads them before its protocol
library): a feed that mixes them with pings, fragmented messages, large frames and broken text must come out
exactly as sent, in order, whichever way the bytes are cut by the network."""

from __future__ import annotations

import asyncio
import struct

import pytest

from tests.net.conftest import WAIT_MS, Net
from tests.net.hostile_extra import FrameRecorder, read_client_frame
from tests.peers import Behaviour, after_upgrade, server_frame
from wsinspector.core.frames import Opcode
from wsinspector.core.wire.engine import FAST_FRAME_MAX

_BIG = bytes(range(256)) * ((FAST_FRAME_MAX + 4096) // 256)  # above the short path's limit: a 64-bit length

#: (opcode, payload, fin) of each server frame, in order
MIXED: list[tuple[int, bytes, bool]] = [
    (0x1, b"first", True),
    (0x2, bytes(300), True),  # a 16-bit length
    (0x9, b"are you there", True),
    (0x1, "h\u00e9".encode(), False),  # a fragmented message: the library reads it
    (0x0, "llo \u20ac".encode(), True),
    (0x1, "\u20ac after the fragments".encode(), True),
    (0x2, _BIG, True),
    (0x1, b"", True),
    (0x2, b"last", True),
]


def _stream() -> bytes:
    return b"".join(server_frame(op, payload, fin=fin) for op, payload, fin in MIXED)


@pytest.mark.parametrize("piece", [1 << 20, 7, 1])
def test_a_mixed_feed_comes_out_as_sent(net: Net, piece: int) -> None:
    _peer, url = net.hostile(FrameRecorder(send_first=_stream(), piece=piece, echo_close=True).behaviour())
    rec = net.open(url)
    expected = [(Opcode(op), payload, fin) for op, payload, fin in MIXED if op != 0x9]
    net.qtbot.waitUntil(lambda: len(rec.incoming(data_only=True)) == len(expected), timeout=20_000)

    assert [(f.opcode, f.payload, f.fin) for f in rec.incoming(data_only=True)] == expected
    if net.sees_every_frame:
        # the ping in the middle was seen where it came, and answered
        assert [(f.opcode, f.payload) for f in rec.incoming()][2] == (Opcode.PING, b"are you there")
        assert [(f.opcode, f.payload) for f in rec.outgoing()] == [(Opcode.PONG, b"are you there")]
        whole = [f for f in rec.incoming(data_only=True) if f.fin and f.opcode is not Opcode.CONTINUATION]
        assert all((f.rsv1, f.rsv2, f.rsv3, f.masked, f.payload_length) == (False, False, False, False,
                                                                              len(f.payload)) for f in whole)
    info = net.close(rec)
    assert info.clean and info.failure is None


def _in_lockstep(frames: list[bytes]) -> Behaviour:
    """Writes the frames cut inside each one (inside the 2-byte header, inside a 16-bit length, or a few
    bytes into the payload, in turn): the piece up to the cut in frame k, then waits for a text message from
    the client before writing on. Every read of the client then ends in the middle of a frame, at a place
    the test chooses, and the client has seen frame k - 1 whole."""
    stream = b"".join(frames)
    cuts = []
    start = 0
    for index, frame in enumerate(frames[1:], start=1):
        start += len(frames[index - 1])
        cuts.append(start + min(len(frame) - 1, (1, 3, 9)[index % 3]))

    async def then(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        written = 0
        for cut in [*cuts, len(stream)]:
            writer.write(stream[written:cut])
            await writer.drain()
            written = cut
            while True:  # until the client's text (go on) or its close frame (answered)
                frame = await read_client_frame(reader)
                if frame is None:
                    return
                if frame.opcode == 0x1:
                    break
                if frame.opcode == 0x8:
                    writer.write(server_frame(0x8, frame.payload))
                    await writer.drain()
                    return

    return after_upgrade(then)


def test_frames_cut_anywhere_by_the_network(net: Net) -> None:
    frames = [server_frame(op, payload, fin=fin) for op, payload, fin in MIXED]
    _peer, url = net.hostile(_in_lockstep(frames))
    rec = net.open(url)
    expected = [(Opcode(op), payload, fin) for op, payload, fin in MIXED if op != 0x9 or net.sees_every_frame]
    for count in range(1, len(MIXED)):
        # frames 0..count-1 have arrived whole, the next one in part (the Qt engine does not show the ping)
        seen = count - (0 if net.sees_every_frame or count <= 2 else 1)
        net.qtbot.waitUntil(lambda seen=seen: len(rec.incoming()) >= seen, timeout=WAIT_MS)
        assert len(rec.incoming()) == seen
        rec.conn.send(b"next", True)
    net.qtbot.waitUntil(lambda: len(rec.incoming()) == len(expected), timeout=WAIT_MS)

    got = [(f.opcode, f.payload, f.fin) for f in rec.incoming()]
    assert got == expected
    assert net.close(rec).failure is None


def test_invalid_text_after_whole_frames_fails_with_1007_at_that_frame(net: Net) -> None:
    bad = b"ok \xe2\x28\xa1"
    wire = (server_frame(0x1, b"one") + server_frame(0x2, b"two") + server_frame(0x1, bad)
            + server_frame(0x1, b"never read"))
    recorder = FrameRecorder(send_first=wire, echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url)

    [info] = rec.closed
    assert (info.code, info.clean) == (1007, False)
    assert [struct.unpack("!H", f.payload[:2])[0] for f in recorder.frames if f.opcode == 0x8] == [1007]
    data = [(f.opcode, f.payload) for f in rec.incoming(data_only=True)]
    if net.sees_every_frame:
        assert data == [(Opcode.TEXT, b"one"), (Opcode.BINARY, b"two"), (Opcode.TEXT, bad)]
        assert "not valid UTF-8" in rec.incoming(data_only=True)[-1].note
    else:
        assert data == [(Opcode.TEXT, b"one"), (Opcode.BINARY, b"two")]


def test_a_whole_frame_over_the_message_limit_is_refused(net: Net) -> None:
    wire = server_frame(0x2, b"fits") + server_frame(0x2, bytes(2000))
    recorder = FrameRecorder(send_first=wire, echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url, limits={"max_message_size": 1000})

    [info] = rec.closed
    assert info.code == 1009
    first = rec.incoming(data_only=True)[0]
    assert (first.opcode, first.payload) == (Opcode.BINARY, b"fits")
