"""Both engines against a raw server that breaks RFC 6455 in ways a client must catch: masked frames, text that
stops being UTF-8 in the middle of a message, a frame announcing 2^63-1 bytes, and a message cut into 65,536
one-byte fragments (legal, but a load)."""

from __future__ import annotations

import struct
import sys

from tests.net.conftest import WAIT_MS, Net, is_in_final
from tests.net.hostile_extra import FrameRecorder
from tests.peers import frame_header, masked_server_frame, server_frame
from wsinspector.core.events import ConnectionState, FailureKind
from wsinspector.core.frames import Opcode
from wsinspector.core.profiles import MIB


def _close_codes(recorder: FrameRecorder) -> list[int]:
    """The codes of the close frames the server received."""
    return [struct.unpack("!H", w.payload[:2])[0] for w in recorder.frames if w.opcode == 0x8]


def _peak_memory_mib() -> float | None:
    """The process's peak resident size so far; None where the platform does not say (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def test_masked_frame_from_the_server(net: Net) -> None:
    # RFC 6455 5.1: "A client MUST close a connection if it detects a masked frame."
    recorder = FrameRecorder(send_first=masked_server_frame(0x1, b"hello"), echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())

    if net.sees_every_frame:
        rec = net.open_until("closed", url)
        assert _close_codes(recorder) == [1002]
        [out_close] = [f for f in rec.outgoing() if f.opcode is Opcode.CLOSE]
        assert out_close.close_code == 1002
        [info] = rec.closed
        assert (info.code, info.by_peer, info.clean) == (1002, False, False)
        assert info.failure is not None
        assert info.failure.kind is FailureKind.PROTOCOL
        assert "mask" in info.failure.detail
        assert info.message.startswith("Protocol error from the server")
        rec.refused(True, Opcode.TEXT, 5, masked=True)  # the masked frame is refused, shown, not delivered
    else:
        # Known Qt limitation: QWebSocket unmasks the server's frame and delivers it as if nothing were wrong.
        rec = net.start(url)
        net.qtbot.waitUntil(lambda: any(is_in_final(f) for f in rec.frames), timeout=WAIT_MS)
        assert [(f.opcode, f.payload, f.fin) for f in rec.incoming()] == [(Opcode.TEXT, b"hello", True)]
        assert rec.closed == []
        assert rec.conn.state is ConnectionState.OPEN
        assert net.close(rec).failure is None
        assert _close_codes(recorder) == [1000]


def test_invalid_utf8_completed_in_the_second_fragment(net: Net) -> None:
    # "ok €" cut inside the euro sign (E2 82 | AC) is fine; here the second fragment completes it with "(",
    # which makes E2 82 28: invalid. The third fragment must never be processed.
    first, second, third = b"ok \xe2\x82", b"( more", b"third"
    wire = server_frame(0x1, first, fin=False) + server_frame(0x0, second, fin=False) + server_frame(0x0, third)
    recorder = FrameRecorder(send_first=wire, echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url)

    assert _close_codes(recorder) == [1007]
    [info] = rec.closed
    assert (info.code, info.by_peer, info.clean) == (1007, False, False)
    assert info.failure is not None
    assert info.failure.kind is FailureKind.PROTOCOL
    incoming = rec.incoming()
    if net.sees_every_frame:
        # the first fragment as it came, then the one that broke the text, marked; the third never processed
        assert [(f.opcode, f.payload, f.fin) for f in incoming] == [
            (Opcode.TEXT, first, False),
            (Opcode.CONTINUATION, second, False),
        ]
        assert incoming[0].note == ""
        assert "not valid UTF-8" in incoming[1].note
        assert "1007" in info.message
        assert [f.close_code for f in rec.outgoing()] == [1007]
    else:
        # Known Qt limitation: QWebSocket decodes text frame by frame and holds back the incomplete character,
        # so the first fragment shows without its last two bytes; the second is never delivered.
        assert [(f.opcode, f.payload, f.fin) for f in incoming] == [(Opcode.TEXT, b"ok ", False)]
        assert "Invalid UTF-8" in info.message


def test_invalid_utf8_in_a_single_frame_is_shown_and_fails_the_connection(net: Net) -> None:
    recorder = FrameRecorder(send_first=server_frame(0x1, b"ok\xff") + server_frame(0x1, b"after"), echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url)

    assert _close_codes(recorder) == [1007]
    [info] = rec.closed
    assert info.code == 1007
    assert info.failure is not None
    assert info.failure.kind is FailureKind.PROTOCOL
    if net.sees_every_frame:
        # the bad frame is shown, with its bytes and a note; the frame after it is not processed
        [bad] = rec.incoming()
        assert (bad.opcode, bad.payload, bad.fin) == (Opcode.TEXT, b"ok\xff", True)
        assert "not valid UTF-8" in bad.note
        assert "text that is not valid UTF-8" in info.message
    else:
        # QWebSocket drops the frame it cannot decode: nothing to show
        assert rec.incoming() == []


def test_invalid_utf8_in_a_close_reason(net: Net) -> None:
    recorder = FrameRecorder(send_first=server_frame(0x8, struct.pack("!H", 4000) + b"bye \xff"), echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url)
    net.qtbot.waitUntil(lambda: bool(recorder.frames), timeout=WAIT_MS)

    # the client does not echo the server's 4000: it fails the connection with 1007
    assert _close_codes(recorder) == [1007]
    [info] = rec.closed
    assert (info.code, info.by_peer, info.clean) == (1007, False, False)
    assert info.failure is not None
    assert info.failure.kind is FailureKind.PROTOCOL
    if net.sees_every_frame:
        assert "close reason that is not valid UTF-8" in info.message


def test_frame_announcing_2_to_the_63_minus_1_bytes(net: Net) -> None:
    """A 64-bit length of 2^63-1 (the largest RFC 6455 allows): refused from the header, nothing allocated for
    it, and the app goes on working. The server follows the header with 64 KiB of payload to be skipped."""
    header = frame_header(0x2, 2**63 - 1)
    assert header[1] == 127 and header[2:] == b"\x7f" + b"\xff" * 7
    recorder = FrameRecorder(send_first=header + b"\0" * 65536, echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    peak_before = _peak_memory_mib()

    rec = net.open_until("closed", url, limits={"max_message_size": MIB, "max_frame_size": MIB})

    [info] = rec.closed
    assert info.failure is not None
    assert info.failure.kind is FailureKind.MESSAGE_TOO_BIG
    assert (info.code, info.by_peer, info.clean) == (1009, False, False)
    assert "1.0 MiB" in info.message
    rec.refused(net.sees_every_frame, Opcode.BINARY, 2**63 - 1)
    assert [w.opcode for w in recorder.frames] == [0x8]
    assert _close_codes(recorder) == [1009]
    if net.sees_every_frame:
        assert str(2**63 - 1) in info.failure.detail  # the announced size, as read from the header
    # no memory blow-up: the process's peak resident size did not grow by anything like a buffer for the frame
    peak_after = _peak_memory_mib()
    if peak_before is not None and peak_after is not None:
        assert peak_after - peak_before < 64, f"peak memory grew by {peak_after - peak_before:.0f} MiB"

    # and the app is still usable: a new connection works
    _echo, echo_url = net.websockets_peer()
    again = net.open(echo_url)
    with net.qtbot.waitSignal(again.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        again.conn.send_text("still here")
    assert [f.payload for f in again.incoming()] == [b"still here"]


def test_frame_length_with_the_most_significant_bit_set(net: Net) -> None:
    # RFC 6455 5.2: the most significant bit of a 64-bit length MUST be 0. Both engines refuse the frame; they
    # say it differently.
    recorder = FrameRecorder(send_first=frame_header(0x2, 2**63) + b"abc", echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.open_until("closed", url, limits={"max_message_size": MIB, "max_frame_size": MIB})

    [info] = rec.closed
    assert info.failure is not None
    rec.refused(net.sees_every_frame, Opcode.BINARY, 2**63)
    if net.sees_every_frame:
        # Wire (websockets) reads it as 2^63 bytes: too big
        assert (info.code, info.failure.kind) == (1009, FailureKind.MESSAGE_TOO_BIG)
        assert _close_codes(recorder) == [1009]
    else:
        # QWebSocket checks the bit: a protocol error
        assert (info.code, info.failure.kind) == (1002, FailureKind.PROTOCOL)
        assert _close_codes(recorder) == [1002]
        assert "Highest bit" in info.failure.detail


def test_65536_one_byte_fragments_make_one_message(net: Net) -> None:
    count = 65536
    payload = bytes(ord("a") + i % 26 for i in range(count))
    wire = b"".join(
        server_frame(0x1 if i == 0 else 0x0, payload[i:i + 1], fin=i == count - 1) for i in range(count)
    )
    recorder = FrameRecorder(send_first=wire, echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.start(url)
    net.qtbot.waitUntil(lambda: any(is_in_final(f) for f in rec.frames), timeout=4 * WAIT_MS)

    frames = rec.incoming()
    # every fragment is reported, in order, and they make the whole message (both engines report data frames
    # one by one; Qt's timeline has no wire header fields)
    assert len(frames) == count
    assert frames[0].opcode is Opcode.TEXT
    assert {f.opcode for f in frames[1:]} == {Opcode.CONTINUATION}
    assert [f.fin for f in frames] == [False] * (count - 1) + [True]
    assert b"".join(f.payload for f in frames) == payload
    if net.sees_every_frame:
        assert {f.payload_length for f in frames} == {1}
        assert {f.masked for f in frames} == {False}
    assert rec.closed == []
    # the connection is still healthy afterwards
    assert net.close(rec).failure is None
    assert _close_codes(recorder) == [1000]
