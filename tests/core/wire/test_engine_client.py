"""The client role, fed bytes by hand: every decision the Wire engine makes about incoming frames and the
frames it writes back, without a socket (in the style of websockets' own protocol tests)."""

from __future__ import annotations

import pytest
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.protocol import CONNECTING
from websockets.utils import accept_key

from tests.core.wire.wirebytes import NOW, Recorder, client, close_body, deflate, frame, sent
from wsinspector.core.events import FailureKind
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import Compression, Endpoint, Handshake, Limits, ResolvedTarget
from wsinspector.core.wire.client import send_request
from wsinspector.core.wire.engine import CLOSE_GRACE_S, FAST_FRAME_MAX, HandshakeFailed, Opened

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def test_whole_frames_take_the_fast_path_and_send_nothing() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(frame(TEXT, b"hi") + frame(BINARY, b"\x00\x01") + frame(BINARY, b"x" * 300), NOW)
    assert [(s.opcode, s.payload, s.whole, s.ts_ns) for s in rec.seen] == [
        (Opcode.TEXT, b"hi", True, NOW), (Opcode.BINARY, b"\x00\x01", True, NOW),
        (Opcode.BINARY, b"x" * 300, True, NOW)]
    assert engine.data_to_send() == []


def test_the_handshake_opens_before_the_frames_read_with_it() -> None:
    rec = Recorder()
    engine = client(rec, state=CONNECTING)
    send_request(engine, _target(), "wsinspector/test", NOW)
    request = engine.data_to_send()
    assert len(request) == 1 and request[0].startswith(b"GET /feed HTTP/1.1\r\n")
    assert b"User-Agent: wsinspector/test" in request[0]
    key = next(line.split(b": ")[1] for line in request[0].split(b"\r\n") if line.startswith(b"Sec-WebSocket-Key"))
    response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept_key(key.decode()).encode() + b"\r\n\r\n")
    engine.receive_data(response + frame(TEXT, b"first") + frame(PING, b"p"), NOW)
    assert rec.order == ["Opened", "TEXT", "PING", "PONG"]
    assert isinstance(rec.events[0], Opened) and ("Upgrade", "websocket") in rec.events[0].headers
    assert rec.seen[0].whole and not rec.seen[1].whole
    assert rec.seen[2].direction is Direction.OUT and rec.seen[2].payload == b"p"


def test_a_refused_handshake_is_a_failure_and_nothing_is_read_after_it() -> None:
    rec = Recorder()
    engine = client(rec, state=CONNECTING)
    send_request(engine, _target(), "wsinspector/test", NOW)
    engine.data_to_send()
    engine.receive_data(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n" + frame(TEXT, b"x"), NOW)
    (event,) = rec.events
    assert isinstance(event, HandshakeFailed)
    assert event.failure.kind is FailureKind.HANDSHAKE_REJECTED and event.failure.http_status == 403
    assert engine.handshake_failed and rec.seen == []


def _answered(answer: bytes, *, then_eof: bool = False) -> Recorder:
    rec = Recorder()
    engine = client(rec, state=CONNECTING)
    send_request(engine, _target(), "wsinspector/test", NOW)
    engine.data_to_send()
    for start in range(0, len(answer), 1000):  # as a socket would give it, read after read
        engine.receive_data(answer[start:start + 1000], NOW)
    if then_eof:
        engine.receive_eof(NOW)
    return rec


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", ['sent 23 bytes starting "SSH-2.0-OpenSSH_9.6', "HTTP status line"]),
        (b"\x16\x03\x01", ['sent 3 bytes starting "\\x16\\x03\\x01"', "HTTP status line"]),  # no line to wait for
        (b"HTTX", ['sent 4 bytes starting "HTTX"', "HTTP status line"]),
        (b"HTTP/1.1 101 Switching Protocols\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", ["128 header lines"]),
        (b"HTTP/1.1 101 Switching Protocols\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n", ["longer than 8192 bytes"]),
        (b"HTTP/1.1 " + b"9" * 9000 + b"\r\n\r\n", ["longer than 8192 bytes"]),
    ],
)
def test_an_answer_the_client_stops_reading_says_what_came_and_which_limit(answer: bytes, says: list[str]) -> None:
    rec = _answered(answer)
    (event,) = rec.events
    assert isinstance(event, HandshakeFailed)
    assert event.failure.kind is FailureKind.HANDSHAKE_INVALID
    message = event.failure.message
    assert "we stopped reading" in message and "closed" not in message
    for fragment in says:
        assert fragment in message


def test_a_large_body_is_a_rejection_whose_reading_stopped_at_the_limit() -> None:
    rec = _answered(b"HTTP/1.1 403 Forbidden\r\nWWW-Authenticate: Basic\r\nContent-Length: 2000000\r\n\r\nzz")
    (event,) = rec.events
    assert isinstance(event, HandshakeFailed)
    failure = event.failure
    assert (failure.kind, failure.http_status) == (FailureKind.HANDSHAKE_REJECTED, 403)
    assert "we stopped reading" in failure.message and "1.0 MiB" in failure.message
    assert "WWW-Authenticate: Basic" in failure.message


@pytest.mark.parametrize(("answer", "says"), [(b"", "without answering"), (b"HTTP/1.1 101 OK\r\n", "after sending 17")])
def test_a_server_that_hangs_up_during_the_answer_closed_the_connection(answer: bytes, says: str) -> None:
    rec = _answered(answer, then_eof=True)
    (event,) = rec.events
    assert isinstance(event, HandshakeFailed)
    assert "the server closed the connection" in event.failure.message and says in event.failure.message


def test_a_rejection_keeps_its_headers_and_the_start_of_its_body() -> None:
    body = b"<html>" + b"m" * 500
    rec = _answered(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/feed\r\nContent-Length: %d\r\n\r\n" % len(body)
                    + body)
    (event,) = rec.events
    assert isinstance(event, HandshakeFailed)
    failure = event.failure
    assert failure.response_headers is not None and ("Location", "/v2/feed") in failure.response_headers
    assert failure.body_size == len(body) and failure.response_body == body[:200]
    assert "Location: /v2/feed" in failure.message and "of 506 bytes" in failure.message


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_headers_split_across_reads_change_nothing(step: int) -> None:
    stream = (frame(TEXT, b"a") + frame(BINARY, b"b" * 200) + frame(PING, b"pp") + frame(TEXT, b"c", fin=False)
              + frame(CONT, b"d") + frame(BINARY, b"e" * 70000) + frame(BINARY, b"f", wide=True) + frame(TEXT, b"g"))
    whole = Recorder()
    client(whole).receive_data(stream, NOW)
    pieces = Recorder()
    engine = client(pieces)
    for i in range(0, len(stream), step):
        engine.receive_data(stream[i:i + step], NOW)
    strip = [(s.direction, s.opcode, s.payload, s.fin, s.length, s.whole) for s in whole.seen]
    assert strip == [(s.direction, s.opcode, s.payload, s.fin, s.length, s.whole) for s in pieces.seen]
    assert [s.opcode for s in whole.incoming()] == [Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.TEXT,
                                                    Opcode.CONTINUATION, Opcode.BINARY, Opcode.BINARY, Opcode.TEXT]


def test_the_library_takes_what_the_fast_path_does_not_then_hands_back() -> None:
    rec = Recorder()
    engine = client(rec)
    big = b"L" * (FAST_FRAME_MAX + 1)
    engine.receive_data(frame(TEXT, b"one") + frame(PING, b"?") + frame(TEXT, b"frag", fin=False)
                        + frame(CONT, b"ment") + frame(BINARY, big) + frame(BINARY, b"f", wide=True)
                        + frame(TEXT, b"two"), NOW)
    got = [(s.opcode, s.whole) for s in rec.incoming()]
    assert got == [(Opcode.TEXT, True), (Opcode.PING, False), (Opcode.TEXT, False), (Opcode.CONTINUATION, False),
                   (Opcode.BINARY, False), (Opcode.BINARY, True), (Opcode.TEXT, True)]
    assert rec.incoming()[4].length == len(big)  # a 64-bit length within the limit is the fast path's too
    assert [op for op, _ in sent(engine)] == [0x8A]  # the automatic pong, masked as a client's
    (pong,) = rec.outgoing()
    assert pong.opcode is Opcode.PONG and pong.payload == b"?" and pong.masked and pong.key is not None


def test_a_frame_over_the_frame_limit_is_rejected_with_its_header() -> None:
    rec = Recorder()
    engine = client(rec, max_size=1000, frame_max=100)
    engine.receive_data(frame(BINARY, b"ok") + frame(BINARY, b"z" * 101) + frame(TEXT, b"never"), NOW)
    rejected = rec.incoming()[-1]
    assert rejected.opcode is Opcode.BINARY and rejected.payload == b"" and rejected.length == 101
    assert rejected.note == "rejected: frame with 101 bytes exceeds limit of 100 bytes; payload not shown"
    assert sent(engine) == [(0x88, close_body(1009, "frame with 101 bytes exceeds limit of 100 bytes"))]
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.failure is not None and info.failure.kind is FailureKind.MESSAGE_TOO_BIG
    assert info.failure.limit == 1000 and info.failure.inflated_from is None


def test_a_message_over_the_message_limit_fails_at_the_fragment_that_passes_it() -> None:
    rec = Recorder()
    engine = client(rec, max_size=10)
    engine.receive_data(frame(TEXT, b"123456", fin=False) + frame(CONT, b"78901"), NOW)
    assert [s.opcode for s in rec.incoming()] == [Opcode.TEXT, Opcode.CONTINUATION]
    assert rec.incoming()[-1].note.startswith("rejected: frame with 5 bytes after reading 6 bytes exceeds")
    assert sent(engine)[0][0] == 0x88


def test_invalid_utf8_in_a_whole_frame_is_shown_then_fails_with_1007() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(frame(TEXT, b"ok") + frame(TEXT, b"bad \xff") + frame(TEXT, b"after"), NOW)
    assert [(s.payload, s.whole) for s in rec.incoming()] == [(b"ok", True), (b"bad \xff", False)]
    assert rec.incoming()[1].note == "not valid UTF-8: the connection is failed with 1007"
    assert sent(engine) == [(0x88, close_body(1007, "invalid start byte at position 4"))]
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.failure is not None and "the server sent text that is not valid UTF-8" in info.failure.detail


def test_invalid_utf8_fails_at_the_fragment_that_breaks_it() -> None:
    rec = Recorder()
    engine = client(rec)
    euro = "€".encode()
    engine.receive_data(frame(TEXT, euro[:2], fin=False) + frame(CONT, euro[2:] + b"\xc3", fin=False)
                        + frame(CONT, b"\x28"), NOW)
    assert [s.note for s in rec.incoming()] == ["", "", "not valid UTF-8: the connection is failed with 1007"]
    assert sent(engine)[0][0] == 0x88 and sent(engine) == []


def test_a_masked_frame_from_the_server_is_rejected_with_its_key() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(frame(TEXT, b"masked", key=b"\x01\x02\x03\x04"), NOW)
    (seen,) = rec.incoming()
    assert seen.masked and seen.key == b"\x01\x02\x03\x04" and seen.length == 6
    assert seen.note == "rejected: incorrect masking; payload not shown"
    assert sent(engine) == [(0x88, close_body(1002, "incorrect masking"))]


@pytest.mark.parametrize(("rsv", "field"), [(4, "rsv1"), (2, "rsv2"), (1, "rsv3")])
def test_a_frame_with_an_rsv_bit_nothing_negotiated_is_rejected(rsv: int, field: str) -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(frame(BINARY, b"r", rsv=rsv), NOW)
    (seen,) = rec.incoming()
    assert getattr(seen, field) and seen.note.startswith("rejected: reserved bits must be 0")
    assert sent(engine)[0] == (0x88, close_body(1002, "reserved bits must be 0"))


def test_a_reserved_opcode_is_rejected_and_named() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(b"\x83\x00", NOW)
    (seen,) = rec.incoming()
    assert seen.note == "rejected (opcode 0x3, reserved): invalid opcode; payload not shown"


def test_a_close_between_fragments_closes_cleanly() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(frame(TEXT, b"half", fin=False) + frame(CLOSE, close_body(1001, "bye")), NOW)
    assert [s.opcode for s in rec.incoming()] == [Opcode.TEXT, Opcode.CLOSE]
    assert sent(engine) == [(0x88, close_body(1001, "bye"))]
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.clean and info.by_peer and info.code == 1001 and info.reason == "bye"


def test_a_compressed_frame_shows_both_lengths() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.protocol.extensions = [PerMessageDeflate(False, False, 15, 15)]
    body = deflate(b"a" * 1000)
    engine.receive_data(frame(TEXT, body, rsv=4), NOW)
    (seen,) = rec.incoming()
    assert seen.payload == b"a" * 1000 and seen.rsv1 and seen.length == len(body) < 1000


def test_a_deflate_bomb_stops_at_the_limit_and_names_its_wire_size() -> None:
    rec = Recorder()
    engine = client(rec, max_size=4096)
    engine.protocol.extensions = [PerMessageDeflate(False, False, 15, 15)]
    body = deflate(b"\x00" * 1_000_000)
    engine.receive_data(frame(BINARY, body, rsv=4), NOW)
    (seen,) = rec.incoming()
    assert seen.note.startswith("rejected: ") and seen.length == len(body)
    assert sent(engine)[0][0] == 0x88
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.failure is not None and info.failure.kind is FailureKind.MESSAGE_TOO_BIG
    assert info.failure.inflated_from == len(body)


def test_closing_names_its_deadlines_and_a_silent_peer_times_out() -> None:
    rec = Recorder()
    engine = client(rec, close_timeout_s=2.0)
    assert engine.close_deadline_ns is None
    assert engine.close(1000, "done", NOW)
    assert engine.is_closing and engine.close_deadline_ns == NOW + 2_000_000_000
    (out,) = rec.outgoing()
    assert out.opcode is Opcode.CLOSE and out.payload == close_body(1000, "done") and out.masked
    info = engine.close_info(aborted=False, timed_out=True, lost_detail="")
    assert info.failure is not None and info.failure.kind is FailureKind.CLOSE_TIMEOUT and info.code == 1000


def test_once_both_close_frames_crossed_the_peer_gets_a_short_grace() -> None:
    rec = Recorder()
    engine = client(rec, close_timeout_s=5.0)
    engine.close(1000, "", NOW)
    engine.receive_data(frame(CLOSE, close_body(1000)), NOW + 10)
    assert engine.close_deadline_ns == NOW + 10 + int(CLOSE_GRACE_S * 1e9)
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.clean and not info.by_peer and info.code == 1000 and info.reply is None


def test_the_stream_ending_in_a_frame_is_a_lost_connection() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(frame(BINARY, b"x" * 100)[:50], NOW)
    engine.receive_eof(NOW)
    assert rec.seen == []
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="gone")
    assert info.code == 1006 and info.failure is not None and info.failure.kind is FailureKind.CONNECTION_LOST


def test_a_binary_frame_read_in_pieces_is_whole_once_and_what_follows_it_is_read_on() -> None:
    """A large binary frame cut over several reads: each read says how much of it is still wanted, nothing is
    reported until its last byte, then it is reported whole, and the frames that came in the same read behind it
    are read too."""
    payload = bytes(range(256)) * 300
    stream = frame(BINARY, payload) + frame(TEXT, b"next") + frame(PING, b"p")
    rec = Recorder()
    engine = client(rec)
    size = len(frame(BINARY, payload))
    engine.receive_data(stream[:3], NOW)  # not even its header
    assert engine.wanted == 0
    for lo, hi in ((3, 10), (10, 20_000), (20_000, 40_000)):
        engine.receive_data(stream[lo:hi], NOW)
        assert rec.seen == [] and engine.wanted == size - hi
    engine.receive_data(stream[40_000:], NOW)
    assert [(s.opcode, s.payload) for s in rec.incoming()] == [
        (Opcode.BINARY, payload), (Opcode.TEXT, b"next"), (Opcode.PING, b"p")]
    assert engine.wanted == 0


def test_the_stream_ending_in_a_frame_read_in_pieces_is_a_lost_connection() -> None:
    rec = Recorder()
    engine = client(rec)
    cut_short = frame(BINARY, b"x" * 50_000)[:30_000]
    for lo in range(0, len(cut_short), 7_000):
        engine.receive_data(cut_short[lo:lo + 7_000], NOW)
    engine.receive_eof(NOW)
    assert rec.seen == []
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="gone")
    assert info.code == 1006 and info.failure is not None and info.failure.kind is FailureKind.CONNECTION_LOST


def test_every_frame_sent_has_a_mask_key_of_its_own_that_unmasks_it() -> None:
    """Frames of every size the fast path frames (small ones whole, larger ones as header then payload), each
    masked with a key no other frame had, which the frame reports and which unmasks what went on the wire."""
    rec = Recorder()
    engine = client(rec)
    payloads = [bytes([n % 256]) * size for n, size in enumerate([0, 1, 125, 126, 2047, 2048, 40_000, 70_000] * 40)]
    for payload in payloads:
        engine.send(payload, False, NOW)
    assert sent(engine) == [(0x82, payload) for payload in payloads]
    keys = [s.key for s in rec.outgoing()]
    assert all(key is not None and len(key) == 4 for key in keys) and len(set(keys)) == len(payloads)


def test_faults_go_out_as_asked_with_a_note() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.send(b"\xff\xfe", True, NOW)
    engine.send_pong(b"unasked", NOW)
    engine.send_fragmented(b"abcde", False, 2, NOW)
    engine.close(1005, "", NOW)
    notes = [(s.opcode, s.payload, s.fin, s.note.split(" (")[0]) for s in rec.outgoing()]
    assert notes == [
        (Opcode.TEXT, b"\xff\xfe", True, "deliberately not valid UTF-8"),
        (Opcode.PONG, b"unasked", True, "sent by hand"),
        (Opcode.BINARY, b"ab", False, ""), (Opcode.CONTINUATION, b"cd", False, ""),
        (Opcode.CONTINUATION, b"e", True, ""),
        (Opcode.CLOSE, b"\x03\xed", True, "deliberately a code RFC 6455 forbids on the wire")]
    assert [op for op, _ in sent(engine)] == [0x81, 0x8A, 0x02, 0x00, 0x80, 0x88]


def test_pings_can_be_left_unanswered() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.auto_pong = False
    engine.receive_data(frame(PING, b"1"), NOW)
    (seen,) = rec.seen
    assert seen.note == "not answered: automatic pongs are off for this connection"
    assert engine.data_to_send() == []


def test_commands_need_an_open_connection() -> None:
    engine = client(Recorder(), state=CONNECTING)
    with pytest.raises(RuntimeError):
        engine.send(b"x", False, NOW)
    assert not engine.close(1000, "", NOW)


def _target() -> ResolvedTarget:
    return ResolvedTarget(endpoint=Endpoint(url="ws://example.test/feed"), handshake=Handshake(timeout_s=5.0),
                          limits=Limits(max_message_size=1 << 20, max_frame_size=1 << 20),
                          compression=Compression(deflate=False))


def test_a_compressed_fragmented_text_read_in_small_pieces_is_not_taken_for_bad_text() -> None:
    """permessage-deflate sets RSV1 on a message's first frame only: its continuations carry compressed bytes
    with RSV1 clear, and reading one in pieces must not check those bytes as text."""
    rec = Recorder()
    engine = client(rec)
    engine.protocol.extensions = [PerMessageDeflate(False, False, 15, 15)]
    text = "".join(f'{{"id": {i}, "name": "ünïcødé {i * 7919 % 1000}"}}' for i in range(400)).encode()
    body = deflate(text)
    wire = frame(TEXT, body[:100], fin=False, rsv=4) + frame(CONT, body[100:])
    for at in range(0, len(wire), 7):
        engine.receive_data(wire[at:at + 7], NOW)
    seen = rec.incoming()
    assert [s.note for s in seen] == ["", ""] and sent(engine) == []
    assert b"".join(s.payload for s in seen) == text
