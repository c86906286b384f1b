"""Frames: close bodies, close codes, payload splitting, the Frame record and message assembly."""

from __future__ import annotations

import pytest

from wsinspector.core.frames import (
    Direction,
    FragmentationError,
    Frame,
    MessageAssembler,
    Opcode,
    close_payload,
    describe_close_code,
    is_sendable_close_code,
    parse_close_payload,
    split_payload,
)


def frame(
    seq: int,
    opcode: Opcode,
    payload: bytes = b"",
    fin: bool | None = True,
    direction: Direction = Direction.IN,
    **extra: object,
) -> Frame:
    return Frame(seq=seq, ts_ns=1_000 * seq, direction=direction, opcode=opcode, payload=payload, fin=fin,
                 **extra)  # type: ignore[arg-type]


# -- close bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1000, ""),
        (1001, "going away"),
        (3000, "registered"),
        (4999, "héllo ✓ — ünïcødé"),
        (1011, "x" * 123),  # the longest reason that fits a 125-byte control frame
    ],
)
def test_close_payload_round_trips(code: int, reason: str) -> None:
    body = close_payload(code, reason)
    assert parse_close_payload(body) == (code, reason)


def test_close_payload_is_big_endian_code_then_utf8_reason() -> None:
    assert close_payload(1000, "bye") == b"\x03\xe8bye"
    assert close_payload(4001, "é") == b"\x0f\xa1\xc3\xa9"


def test_close_without_code_has_an_empty_body_and_drops_the_reason() -> None:
    # A reason can only follow a code; an empty body is what makes the peer see 1005.
    assert close_payload(None) == b""
    assert close_payload(None, "ignored") == b""
    assert parse_close_payload(close_payload(None, "ignored")) == (None, "")


@pytest.mark.parametrize("body", [b"", b"\x03"], ids=["empty", "one-byte"])
def test_parse_close_payload_too_short_for_a_code(body: bytes) -> None:
    assert parse_close_payload(body) == (None, "")


def test_parse_close_payload_non_utf8_reason_is_replaced_not_raised() -> None:
    code, reason = parse_close_payload(b"\x03\xe8ok\xff\xfeend")
    assert code == 1000
    assert reason == "ok\ufffd\ufffdend"


def test_parse_close_payload_code_only() -> None:
    assert parse_close_payload(b"\x0f\xa0") == (4000, "")


@pytest.mark.parametrize(
    ("code", "sendable"),
    [
        (999, False),
        (1000, True),
        (1001, True),
        (1002, True),
        (1003, True),
        (1004, False),  # reserved
        (1005, False),  # must never be sent: "no status"
        (1006, False),  # must never be sent: "abnormal closure"
        (1007, True),
        (1008, True),
        (1009, True),
        (1010, True),
        (1011, True),
        (1015, False),  # must never be sent: TLS failure
        (2999, False),
        (3000, True),
        (3999, True),
        (4000, True),
        (4999, True),
        (5000, False),
        (0, False),
        (65535, False),
    ],
)
def test_is_sendable_close_code(code: int, sendable: bool) -> None:
    assert is_sendable_close_code(code) is sendable


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (None, "no code"),
        (1000, "1000 (normal closure)"),
        (1005, "1005 (no status code)"),
        (1006, "1006 (abnormal closure)"),
        (1009, "1009 (message too big)"),
        (1015, "1015 (TLS handshake failure)"),
        (3000, "3000 (registered)"),
        (3999, "3999 (registered)"),
        (4000, "4000 (application)"),
        (4404, "4404 (application)"),
        (4999, "4999 (application)"),
        (1004, "1004"),
        (2000, "2000"),
        (5000, "5000"),
    ],
)
def test_describe_close_code(code: int | None, text: str) -> None:
    assert describe_close_code(code) == text


# -- splitting a payload into frames ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "frame_size", "parts"),
    [
        (b"", 4, [b""]),
        (b"", 1, [b""]),
        (b"abc", 10, [b"abc"]),
        (b"abcd", 4, [b"abcd"]),
        (b"abcdefgh", 4, [b"abcd", b"efgh"]),
        (b"abcdefghi", 4, [b"abcd", b"efgh", b"i"]),
        (b"abc", 1, [b"a", b"b", b"c"]),
    ],
)
def test_split_payload(payload: bytes, frame_size: int, parts: list[bytes]) -> None:
    assert split_payload(payload, frame_size) == parts
    assert b"".join(parts) == payload


@pytest.mark.parametrize("frame_size", [0, -1])
def test_split_payload_rejects_non_positive_frame_size(frame_size: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        split_payload(b"abc", frame_size)


# -- the Frame record -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "payload_length", "size"),
    [
        (b"abc", None, 3),
        (b"", None, 0),
        (b"abc", 1000, 1000),  # the wire length wins when the engine reports it
        (b"abc", 0, 0),  # a known length of 0 is still known
    ],
)
def test_frame_size(payload: bytes, payload_length: int | None, size: int) -> None:
    assert frame(0, Opcode.BINARY, payload, payload_length=payload_length).size == size


def test_close_code_and_reason_of_a_close_frame() -> None:
    f = frame(0, Opcode.CLOSE, close_payload(4001, "kicked"))
    assert f.close_code == 4001
    assert f.close_reason == "kicked"


def test_empty_close_frame_has_no_code() -> None:
    f = frame(0, Opcode.CLOSE, b"")
    assert f.close_code is None
    assert f.close_reason == ""


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.PONG, Opcode.CONTINUATION])
def test_close_code_only_on_close_frames(opcode: Opcode) -> None:
    # The same bytes that would be "1000 bye" in a close frame mean nothing special elsewhere.
    f = frame(0, opcode, b"\x03\xe8bye", fin=True)
    assert f.close_code is None
    assert f.close_reason == ""


@pytest.mark.parametrize(
    ("opcode", "control"),
    [
        (Opcode.CONTINUATION, False),
        (Opcode.TEXT, False),
        (Opcode.BINARY, False),
        (Opcode.CLOSE, True),
        (Opcode.PING, True),
        (Opcode.PONG, True),
    ],
)
def test_opcode_is_control(opcode: Opcode, control: bool) -> None:
    assert opcode.is_control is control


def test_every_opcode_has_a_label() -> None:
    labels = [op.label for op in Opcode]
    assert labels == ["continuation", "text", "binary", "close", "ping", "pong"]


# -- message assembly -------------------------------------------------------------------------------


def test_single_frame_message() -> None:
    asm = MessageAssembler(Direction.IN)
    message = asm.feed(frame(5, Opcode.TEXT, b"hello"))
    assert message is not None
    assert message.opcode is Opcode.TEXT
    assert message.direction is Direction.IN
    assert message.payload == b"hello"
    assert (message.first_seq, message.last_seq) == (5, 5)
    assert message.frame_count == 1
    assert not asm.in_progress


def test_text_then_continuations_until_fin() -> None:
    asm = MessageAssembler(Direction.IN)
    assert asm.feed(frame(0, Opcode.TEXT, b"hel", fin=False)) is None
    assert asm.in_progress
    assert asm.feed(frame(1, Opcode.CONTINUATION, b"lo ", fin=False)) is None
    assert asm.in_progress
    message = asm.feed(frame(2, Opcode.CONTINUATION, b"world", fin=True))
    assert message is not None
    assert message.opcode is Opcode.TEXT  # the message type comes from the first frame
    assert message.payload == b"hello world"
    assert (message.first_seq, message.last_seq) == (0, 2)
    assert message.frame_count == 3
    assert not asm.in_progress


def test_binary_fragmented_message_keeps_binary_opcode() -> None:
    asm = MessageAssembler(Direction.OUT)
    asm.feed(frame(0, Opcode.BINARY, b"\x00\x01", fin=False, direction=Direction.OUT))
    message = asm.feed(frame(1, Opcode.CONTINUATION, b"\x02", fin=True, direction=Direction.OUT))
    assert message is not None
    assert message.opcode is Opcode.BINARY
    assert message.payload == b"\x00\x01\x02"


def test_control_frames_between_fragments_are_ignored_and_keep_their_seq() -> None:
    asm = MessageAssembler(Direction.IN)
    assert asm.feed(frame(10, Opcode.TEXT, b"ab", fin=False)) is None
    assert asm.feed(frame(11, Opcode.PING, b"ping-data")) is None
    assert asm.in_progress
    assert asm.feed(frame(12, Opcode.CONTINUATION, b"cd", fin=False)) is None
    assert asm.feed(frame(13, Opcode.PONG, b"pong-data")) is None
    message = asm.feed(frame(14, Opcode.CONTINUATION, b"ef", fin=True))
    assert message is not None
    assert message.payload == b"abcdef"  # no ping/pong bytes leak into the message
    assert (message.first_seq, message.last_seq) == (10, 14)


def test_frame_count_counts_only_the_data_frames_of_the_message() -> None:
    # Three data frames carry this message; the two interleaved control frames are not part of it.
    asm = MessageAssembler(Direction.IN)
    asm.feed(frame(0, Opcode.TEXT, b"a", fin=False))
    asm.feed(frame(1, Opcode.PING, b""))
    asm.feed(frame(2, Opcode.CONTINUATION, b"b", fin=False))
    asm.feed(frame(3, Opcode.PING, b""))
    message = asm.feed(frame(4, Opcode.CONTINUATION, b"c", fin=True))
    assert message is not None
    assert message.frame_count == 3


def test_control_frame_alone_is_not_a_message() -> None:
    asm = MessageAssembler(Direction.IN)
    assert asm.feed(frame(0, Opcode.CLOSE, close_payload(1000))) is None
    assert not asm.in_progress


def test_unknown_fin_completes_the_message() -> None:
    # An engine that cannot see FIN delivers whole messages: a data frame with fin=None is final.
    asm = MessageAssembler(Direction.IN)
    message = asm.feed(frame(0, Opcode.TEXT, b"whole", fin=None))
    assert message is not None
    assert message.payload == b"whole"


def test_consecutive_messages_do_not_share_parts() -> None:
    asm = MessageAssembler(Direction.IN)
    asm.feed(frame(0, Opcode.TEXT, b"first-", fin=False))
    first = asm.feed(frame(1, Opcode.CONTINUATION, b"message", fin=True))
    second = asm.feed(frame(2, Opcode.BINARY, b"second", fin=True))
    assert first is not None
    assert second is not None
    assert first.payload == b"first-message"
    assert second.payload == b"second"
    assert second.opcode is Opcode.BINARY
    assert (second.first_seq, second.last_seq) == (2, 2)


def test_continuation_without_start_raises() -> None:
    asm = MessageAssembler(Direction.IN)
    with pytest.raises(FragmentationError, match="#7"):
        asm.feed(frame(7, Opcode.CONTINUATION, b"orphan", fin=True))


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
def test_new_data_frame_before_previous_message_finished_raises(opcode: Opcode) -> None:
    asm = MessageAssembler(Direction.IN)
    asm.feed(frame(0, Opcode.TEXT, b"unfinished", fin=False))
    with pytest.raises(FragmentationError, match=rf"new {opcode.label} frame #1"):
        asm.feed(frame(1, opcode, b"new", fin=True))


def test_frame_of_the_other_direction_raises() -> None:
    asm = MessageAssembler(Direction.IN)
    with pytest.raises(ValueError, match="other direction"):
        asm.feed(frame(0, Opcode.TEXT, b"x", direction=Direction.OUT))
    # and it was not taken into a message
    assert not asm.in_progress


def test_reset_drops_the_unfinished_message() -> None:
    asm = MessageAssembler(Direction.IN)
    asm.feed(frame(0, Opcode.TEXT, b"stale", fin=False))
    asm.reset()
    assert not asm.in_progress
    with pytest.raises(FragmentationError):
        asm.feed(frame(1, Opcode.CONTINUATION, b"x", fin=True))
    message = asm.feed(frame(2, Opcode.TEXT, b"fresh", fin=True))
    assert message is not None
    assert message.payload == b"fresh"
