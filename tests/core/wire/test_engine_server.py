"""The server role, fed bytes by hand: masked frames in, unmasked frames out, the same reports."""

from __future__ import annotations

from typing import Any

from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode

from tests.core.wire.wirebytes import NOW, Recorder, close_body, frame, sent, server
from wsinspector.core.frames import Direction, Opcode

KEY = b"\x0a\x0b\x0c\x0d"


def test_masked_frames_come_in_with_their_keys() -> None:
    rec = Recorder()
    engine = server(rec)
    engine.receive_data(frame(0x1, b"hello", key=KEY) + frame(0x2, b"\x00" * 300, key=KEY), NOW)
    got = [(s.opcode, s.payload, s.masked, s.key, s.length, s.whole) for s in rec.seen]
    assert got == [(Opcode.TEXT, b"hello", True, KEY, 5, False), (Opcode.BINARY, b"\x00" * 300, True, KEY, 300, False)]
    assert engine.data_to_send() == []


def test_a_ping_is_answered_unmasked() -> None:
    rec = Recorder()
    engine = server(rec)
    engine.receive_data(frame(0x9, b"hb", key=KEY), NOW)
    assert sent(engine) == [(0x8A, b"hb")]
    pong = rec.outgoing()[0]
    assert pong.opcode is Opcode.PONG and not pong.masked and pong.key is None


def test_an_unmasked_frame_from_a_client_is_rejected() -> None:
    rec = Recorder()
    engine = server(rec)
    engine.receive_data(frame(0x1, b"plain"), NOW)
    (seen,) = rec.incoming()
    assert seen.note == "rejected: incorrect masking; payload not shown"
    assert sent(engine) == [(0x88, close_body(1002, "incorrect masking")), (-1, b"")]


def test_a_client_close_is_answered_and_the_stream_ended() -> None:
    rec = Recorder()
    engine = server(rec)
    engine.receive_data(frame(0x8, close_body(1000, "bye"), key=KEY), NOW)
    assert sent(engine) == [(0x88, close_body(1000, "bye")), (-1, b"")]
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.clean and info.by_peer and info.code == 1000


def test_a_client_close_answered_with_another_code_when_told() -> None:
    rec = Recorder()
    engine = server(rec)
    engine.answer_close_with(1001, "going away")
    engine.receive_data(frame(0x8, close_body(4000, "bye"), key=KEY), NOW)
    assert sent(engine) == [(0x88, close_body(1001, "going away")), (-1, b"")]
    assert [s.payload for s in rec.outgoing()] == [close_body(1001, "going away")]
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.clean and info.by_peer and info.code == 4000  # the client's code ends it; it closed first


def test_a_bad_close_frame_is_still_refused_when_told_to_answer_with_another_code() -> None:
    rec = Recorder()
    engine = server(rec)
    engine.answer_close_with(1001)
    engine.receive_data(frame(0x8, close_body(1005), key=KEY), NOW)  # 1005 is never sent on the wire
    assert sent(engine)[0] == (0x88, close_body(1002, "invalid status code"))


def test_masked_frames_read_in_any_pieces_are_reported_as_when_read_whole() -> None:
    """A client's frames, the largest a 64 KiB message, cut at every kind of place (inside a header, a mask
    key, a payload): each is reported once, unmasked, with its key, as when the stream comes in one read."""
    messages = [(0x1, b"caf\xc3\xa9"), (0x2, bytes(range(256)) * 256), (0x2, b""), (0x1, b"x" * 200)]
    stream = b"".join(frame(op, payload, key=KEY) for op, payload in messages)
    whole = Recorder()
    server(whole).receive_data(stream, NOW)
    expected = [(Opcode(op), payload, True, KEY, len(payload)) for op, payload in messages]
    assert [(s.opcode, s.payload, s.masked, s.key, s.length) for s in whole.seen] == expected
    for step in (1, 3, 7, 1000, 40_000):
        pieces = Recorder()
        engine = server(pieces)
        for i in range(0, len(stream), step):
            engine.receive_data(stream[i:i + step], NOW)
        assert [(s.opcode, s.payload, s.masked, s.key, s.length) for s in pieces.seen] == expected, step
        assert engine.data_to_send() == []


def test_masked_text_trickling_in_is_checked_piece_by_piece_and_reported_once() -> None:
    """A client's text frame a few bytes at a time (pieces that cut characters and the mask key's turn): reported
    once, whole and unmasked, as when read in one go; the frames behind it are read on."""
    text = ("héllo wörld ✓ " * 1500).encode()
    stream = frame(0x1, text, key=KEY) + frame(0x2, b"next", key=KEY)
    for step in (1, 3, 7, 4093):
        rec = Recorder()
        engine = server(rec)
        for i in range(0, len(stream), step):
            engine.receive_data(stream[i:i + step], NOW)
        assert [(s.opcode, s.payload, s.key) for s in rec.seen] == [
            (Opcode.TEXT, text, KEY), (Opcode.BINARY, b"next", KEY)], step
        assert engine.data_to_send() == [] and engine.wanted == 0


def test_masked_text_that_breaks_partway_fails_the_connection_before_the_rest_comes() -> None:
    """The piece that makes a held text frame invalid UTF-8 fails the connection with 1007 at once, not when
    the frame's last byte comes."""
    text = "ok ✓ ".encode() * 4000 + b"\xff" + b"more" * 4000
    stream = frame(0x1, text, key=KEY)
    bad = len(stream) - len(text) + text.index(b"\xff")  # where the broken byte sits in the stream
    rec = Recorder()
    engine = server(rec)
    for i in range(0, bad, 999):
        engine.receive_data(stream[i:min(i + 999, bad)], NOW)
    assert engine.data_to_send() == [] and rec.seen == []  # valid so far: held, nothing said
    engine.receive_data(stream[bad:bad + 5], NOW)  # the broken byte, long before the frame's end
    (close,) = [(b0, body) for b0, body in sent(engine) if b0 == 0x88]
    assert close[1][:2] == (1007).to_bytes(2, "big")
    assert "not valid UTF-8" in rec.incoming()[-1].note


def test_the_rest_of_a_large_masked_frame_is_asked_for_in_one_read() -> None:
    rec = Recorder()
    engine = server(rec)
    data = frame(0x2, b"z" * 65_536, key=KEY)
    engine.receive_data(data[:16_384], NOW)
    assert engine.wanted == len(data) - 16_384 and rec.seen == []
    engine.receive_data(data[16_384:], NOW)
    assert engine.wanted == 0 and [s.payload for s in rec.seen] == [b"z" * 65_536]


def test_masked_text_that_is_not_utf8_fails_the_connection_with_1007() -> None:
    rec = Recorder()
    engine = server(rec)
    engine.receive_data(frame(0x1, b"ok", key=KEY) + frame(0x1, b"bad \xff", key=KEY), NOW)
    assert [s.payload for s in rec.incoming()] == [b"ok", b"bad \xff"]
    assert "not valid UTF-8" in rec.incoming()[1].note
    assert sent(engine)[0][0] == 0x88 and sent(engine) == []  # our close frame (1007), once


def test_a_whole_message_sent_goes_out_framed_as_the_library_frames_it() -> None:
    rec = Recorder()
    engine = server(rec)
    for size in (0, 125, 126, 65_535, 65_536):
        engine.send(b"m" * size, False, NOW)
        wire = b"".join(engine.data_to_send())
        assert wire == WsFrame(WsOpcode.BINARY, b"m" * size).serialize(mask=False, extensions=[]), size
    engine.send("é".encode(), True, NOW)
    assert b"".join(engine.data_to_send()) == b"\x81\x02" + "é".encode()
    assert [(s.opcode, len(s.payload), s.masked, s.key) for s in rec.outgoing()][-2:] == [
        (Opcode.BINARY, 65_536, False, None), (Opcode.TEXT, 2, False, None)]


def test_a_reply_sent_from_the_sink_is_reported_as_itself_after_the_pong_the_read_owes() -> None:
    """A ping between a message's fragments is answered by the protocol as it is read; a reply to the message,
    sent from the sink, goes out after that pong, and each is reported with its own payload."""
    rec = Recorder()
    engine = server(rec)
    sink = rec.sink

    def answering(direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                  *fields: Any) -> None:
        sink(direction, opcode, payload, ts_ns, fin, *fields)
        if direction is Direction.IN and opcode is Opcode.CONTINUATION and fin:
            engine.send(b"fragmented", True, ts_ns)

    engine._sink = answering
    engine.receive_data(frame(0x1, b"frag", fin=False, key=KEY) + frame(0x9, b"beat", key=KEY)
                        + frame(0x0, b"mented", key=KEY), NOW)
    assert sent(engine) == [(0x8A, b"beat"), (0x81, b"fragmented")]
    assert [(s.opcode, s.payload) for s in rec.outgoing()] == [(Opcode.PONG, b"beat"), (Opcode.TEXT, b"fragmented")]
