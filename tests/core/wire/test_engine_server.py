"""The server role, fed bytes by hand: masked frames in, unmasked frames out, the same reports."""

from __future__ import annotations

from tests.core.wire.wirebytes import NOW, Recorder, close_body, frame, sent, server
from wsinspector.core.frames import Opcode

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
