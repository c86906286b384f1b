"""FrameLog: dense numbering, the message each data frame belongs to, protocol errors, segments."""

from __future__ import annotations

import os
import tracemalloc
from array import array

from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Direction, Frame, Opcode, close_payload
from wsinspector.core.log import OWN_BLOCK, FrameLog
from wsinspector.core.model import header
from wsinspector.core.session.interface import Columns

IN, OUT = Direction.IN, Direction.OUT


def add(log: FrameLog, direction: Direction, opcode: Opcode, payload: bytes = b"", fin: bool | None = True, *,
        seq: int = 999, ts_ns: int = 0) -> Frame:
    return log[log.append(Frame(seq=seq, ts_ns=ts_ns, direction=direction, opcode=opcode, payload=payload, fin=fin))]


def test_seq_is_dense_from_zero_whatever_the_incoming_seq() -> None:
    log = FrameLog()
    stored = [
        add(log, IN, Opcode.TEXT, b"a", seq=42),
        add(log, OUT, Opcode.PING, seq=7),
        add(log, IN, Opcode.BINARY, b"b", seq=42),
        add(log, OUT, Opcode.TEXT, b"c", seq=-1),
    ]
    assert [f.seq for f in stored] == [0, 1, 2, 3]
    assert len(log) == 4
    assert [f.seq for f in log] == [0, 1, 2, 3]
    assert [log[i].payload for i in range(4)] == [b"a", b"", b"b", b"c"]
    assert log[2] == stored[2]
    assert log[-1] == stored[3]


def test_unknown_wire_length_and_a_differing_one_are_kept() -> None:
    log = FrameLog()
    log.append(Frame(seq=0, ts_ns=1, direction=IN, opcode=Opcode.TEXT, payload=b"abc", fin=True))
    log.append(Frame(seq=0, ts_ns=2, direction=IN, opcode=Opcode.TEXT, payload=b"abcdef", fin=True,
                     payload_length=4, rsv1=True))
    assert log[0].payload_length is None and log.size(0) == 3
    assert log[1].payload_length == 4 and log.size(1) == 4
    assert log[1].rsv1 is True and log[0].rsv1 is None


def test_column_accessors_agree_with_the_frames() -> None:
    log = FrameLog(started_ns=1000)
    add(log, IN, Opcode.TEXT, b"hello world", ts_ns=5000)
    add(log, OUT, Opcode.BINARY, b"\x00\x01", ts_ns=9000)
    assert log.direction(1) is OUT and log.opcode(1) is Opcode.BINARY
    assert log.payload(0) == b"hello world" and log.payload_head(0, 5) == b"hello"
    assert log.ts_ns(1) == 9000 and log.relative_us(1) == 8.0
    assert log.seq_at_or_after(5000) == 0 and log.seq_at_or_after(5001) == 1 and log.seq_at_or_after(10**9) == 2
    assert (log.frames_in, log.bytes_in, log.bytes_out) == (1, 11, 2)


def test_append_keeps_every_other_field() -> None:
    log = FrameLog()
    original = Frame(seq=5, ts_ns=123, direction=OUT, opcode=Opcode.BINARY, payload=b"\x01", fin=True,
                     rsv1=False, masked=True, mask_key=b"abcd", payload_length=1, note="n")
    assert log.append(original) == 0
    assert log[0] == Frame(seq=0, ts_ns=123, direction=OUT, opcode=Opcode.BINARY, payload=b"\x01", fin=True,
                           rsv1=False, masked=True, mask_key=b"abcd", payload_length=1, note="n")


def test_single_frame_message() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"hello")
    message = log.message_for(0)
    assert message is not None
    assert message.payload == b"hello"
    assert message.frame_count == 1
    assert log.messages == [message]


def test_message_seqs_are_log_seqs() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"a", fin=False, seq=100)
    add(log, IN, Opcode.CONTINUATION, b"b", fin=True, seq=200)
    message = log.message_for(1)
    assert message is not None
    assert (message.first_seq, message.last_seq) == (0, 1)


def test_every_data_frame_of_a_fragmented_message_maps_to_it_but_control_frames_do_not() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"Hel", fin=False)  # 0
    add(log, IN, Opcode.PING, b"p")  # 1
    add(log, IN, Opcode.CONTINUATION, b"lo, ", fin=False)  # 2
    add(log, OUT, Opcode.PONG, b"p")  # 3
    add(log, IN, Opcode.CONTINUATION, b"world", fin=True)  # 4
    message = log.message_for(0)
    assert message is not None
    assert message.payload == b"Hello, world"
    assert (message.first_seq, message.last_seq) == (0, 4)
    assert log.message_for(2) is message
    assert log.message_for(4) is message
    assert log.message_for(1) is None
    assert log.message_for(3) is None
    assert log.messages == [message]
    assert log.protocol_errors == []


def test_message_for_is_none_while_the_message_is_incomplete() -> None:
    log = FrameLog()
    add(log, OUT, Opcode.BINARY, b"\x00", fin=False)
    assert log.message_for(0) is None
    add(log, OUT, Opcode.CONTINUATION, b"\x01", fin=False)
    assert log.message_for(0) is None
    assert log.message_for(1) is None
    assert log.messages == []
    add(log, OUT, Opcode.CONTINUATION, b"\x02", fin=True)
    message = log.message_for(1)
    assert message is not None
    assert message.payload == b"\x00\x01\x02"
    assert message.opcode is Opcode.BINARY


def test_message_for_unknown_seq_is_none() -> None:
    log = FrameLog()
    assert log.message_for(0) is None
    add(log, IN, Opcode.TEXT, b"x")
    assert log.message_for(1) is None


def test_directions_are_assembled_independently() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"in-1 ", fin=False)  # 0
    add(log, OUT, Opcode.TEXT, b"out-1 ", fin=False)  # 1
    add(log, OUT, Opcode.CONTINUATION, b"out-2", fin=True)  # 2
    add(log, IN, Opcode.CONTINUATION, b"in-2", fin=True)  # 3
    assert log.protocol_errors == []
    assert [m.payload for m in log.messages] == [b"out-1 out-2", b"in-1 in-2"]
    assert [m.direction for m in log.messages] == [OUT, IN]


def test_data_frames_of_the_other_direction_inside_a_fragmented_message_keep_their_own_message() -> None:
    # While an incoming message is being fragmented, the user sends messages of their own.
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"in-", fin=False)  # 0
    add(log, OUT, Opcode.TEXT, b"whole out", fin=True)  # 1
    add(log, OUT, Opcode.BINARY, b"out-", fin=False)  # 2
    add(log, OUT, Opcode.CONTINUATION, b"frag", fin=True)  # 3
    add(log, IN, Opcode.CONTINUATION, b"message", fin=True)  # 4
    incoming = log.message_for(0)
    assert incoming is not None
    assert incoming.payload == b"in-message"
    assert log.message_for(4) is incoming
    for seq, payload in [(1, b"whole out"), (2, b"out-frag"), (3, b"out-frag")]:
        mine = log.message_for(seq)
        assert mine is not None
        assert mine.direction is OUT, f"frame #{seq} is shown as part of the incoming message"
        assert mine.payload == payload


def test_fragmentation_error_is_recorded_and_the_log_keeps_going() -> None:
    log = FrameLog()
    add(log, IN, Opcode.CONTINUATION, b"orphan", fin=True)  # 0
    assert len(log) == 1  # the frame is still logged
    assert len(log.protocol_errors) == 1
    assert "#0" in log.protocol_errors[0]
    assert log.message_for(0) is None
    add(log, IN, Opcode.TEXT, b"next", fin=True)  # 1
    message = log.message_for(1)
    assert message is not None
    assert message.payload == b"next"
    assert len(log.protocol_errors) == 1


def test_new_message_before_previous_finished_is_recorded_and_the_stale_part_dropped() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"stale", fin=False)  # 0
    add(log, IN, Opcode.TEXT, b"intruder", fin=True)  # 1: breaks RFC 6455 5.4
    assert len(log.protocol_errors) == 1
    assert "#1" in log.protocol_errors[0]
    assert log.message_for(0) is None
    add(log, IN, Opcode.BINARY, b"fine", fin=True)  # 2
    message = log.message_for(2)
    assert message is not None
    assert message.payload == b"fine"  # nothing of "stale" leaked in
    assert len(log.protocol_errors) == 1


def test_error_in_one_direction_does_not_disturb_the_other() -> None:
    log = FrameLog()
    add(log, OUT, Opcode.TEXT, b"out-", fin=False)  # 0
    add(log, IN, Opcode.CONTINUATION, b"orphan", fin=True)  # 1
    add(log, OUT, Opcode.CONTINUATION, b"ok", fin=True)  # 2
    assert len(log.protocol_errors) == 1
    message = log.message_for(2)
    assert message is not None
    assert message.payload == b"out-ok"


def test_new_segment_drops_unfinished_fragments() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"from the old connection", fin=False)  # 0
    add(log, OUT, Opcode.BINARY, b"old out", fin=False)  # 1
    add(log, IN, Opcode.CLOSE, close_payload(1006), fin=True)  # 2
    log.new_segment()
    add(log, IN, Opcode.TEXT, b"new", fin=True)  # 3: would be a fragmentation error without the new segment
    add(log, OUT, Opcode.TEXT, b"new out", fin=True)  # 4
    assert log.protocol_errors == []
    assert [m.payload for m in log.messages] == [b"new", b"new out"]
    assert log.message_for(0) is None
    assert log.message_for(1) is None
    assert len(log) == 5  # the old frames stay in the log


def test_continuation_after_new_segment_is_an_error() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"old", fin=False)
    log.new_segment()
    add(log, IN, Opcode.CONTINUATION, b"tail", fin=True)
    assert len(log.protocol_errors) == 1
    assert log.messages == []


def test_relative_us() -> None:
    log = FrameLog()
    later = add(log, IN, Opcode.TEXT, b"x", ts_ns=log.started_ns + 1_500_000)
    at_start = add(log, IN, Opcode.TEXT, b"y", ts_ns=log.started_ns)
    earlier = add(log, IN, Opcode.TEXT, b"z", ts_ns=log.started_ns - 2_000)
    assert log.relative_us(later) == 1500.0
    assert log.relative_us(at_start) == 0.0
    assert log.relative_us(earlier) == -2.0


def test_continuations_know_the_opcode_of_their_message_while_it_is_still_arriving() -> None:
    log = FrameLog()
    add(log, Direction.IN, Opcode.BINARY, b"\x01", fin=False)
    add(log, Direction.OUT, Opcode.TEXT, b"t", fin=False)
    add(log, Direction.IN, Opcode.CONTINUATION, b"\x02", fin=False)
    add(log, Direction.OUT, Opcode.CONTINUATION, b"u", fin=True)
    add(log, Direction.IN, Opcode.PING, b"p")
    assert [log.data_opcode(seq) for seq in range(5)] == [
        Opcode.BINARY, Opcode.TEXT, Opcode.BINARY, Opcode.TEXT, Opcode.PING,
    ]
    # a continuation with no message to continue has no message opcode to borrow
    add(log, Direction.OUT, Opcode.CONTINUATION, b"x", fin=True)
    assert log.data_opcode(5) is Opcode.CONTINUATION


def test_a_pong_gets_the_rtt_of_the_oldest_open_ping_with_its_payload() -> None:
    log = FrameLog(started_ns=0)
    add(log, OUT, Opcode.PING, b"a", ts_ns=1_000)        # 0
    add(log, OUT, Opcode.PING, b"b", ts_ns=2_000)        # 1
    add(log, OUT, Opcode.PING, b"b", ts_ns=3_000)        # 2
    add(log, IN, Opcode.PONG, b"b", ts_ns=7_000)         # 3: answers 1, acknowledges 0
    add(log, IN, Opcode.PONG, b"a", ts_ns=8_000)         # 4: 0 was acknowledged: unsolicited
    add(log, IN, Opcode.PONG, b"b", ts_ns=9_500)         # 5: answers 2
    add(log, IN, Opcode.PONG, b"zzz", ts_ns=10_000)      # 6: nobody asked
    assert [log.rtt_ns(seq) for seq in range(7)] == [None, None, None, 5_000, None, 6_500, None]
    assert [log.is_unsolicited(seq) for seq in range(7)] == [False, False, False, False, True, False, True]


def test_a_whole_incoming_frame_is_the_same_frame_by_the_short_way() -> None:
    short, long = FrameLog(), FrameLog()
    for header_known in (True, False):
        for opcode, payload in ((Opcode.TEXT, b"caf\xc3\xa9"), (Opcode.BINARY, b"\x00\x01")):
            short.append_whole_in(header.whole_in(opcode, header_known=header_known, length_known=True), payload, 7)
            known = False if header_known else None
            long.append_fields(IN, opcode, payload, 7, True, known, known, known, known, len(payload))
    short.append_whole_in(header.whole_in(Opcode.TEXT, header_known=False, length_known=False), b"t", 8)
    long.append_fields(IN, Opcode.TEXT, b"t", 8, True)
    assert list(short) == list(long)
    assert [short.message_for(seq) for seq in range(len(short))] == [long.message_for(s) for s in range(len(long))]
    assert [short.meta(s) for s in range(len(short))] == [long.meta(s) for s in range(len(long))]


def test_a_whole_frame_inside_a_fragmented_message_is_still_an_error() -> None:
    log = FrameLog()
    add(log, IN, Opcode.TEXT, b"stale", fin=False)
    log.append_whole_in(header.whole_in(Opcode.TEXT, header_known=True, length_known=True), b"intruder", 1)
    assert len(log.protocol_errors) == 1 and "#1" in log.protocol_errors[0]
    assert log.message_for(0) is None
    log.append_whole_in(header.whole_in(Opcode.BINARY, header_known=True, length_known=True), b"fine", 2)
    message = log.message_for(2)
    assert message is not None and message.payload == b"fine"
    assert len(log.protocol_errors) == 1


def test_counters_follow_every_way_of_appending() -> None:
    log = FrameLog()
    add(log, OUT, Opcode.TEXT, b"hello")
    assert (log.frames_in, log.bytes_in, log.bytes_out) == (0, 0, 5)
    log.append_whole_in(header.whole_in(Opcode.BINARY, header_known=True, length_known=True), b"\x00" * 300, 1)
    add(log, IN, Opcode.PING, b"p")
    assert (log.frames_in, log.bytes_in, log.bytes_out) == (2, 301, 5)
    assert log.counts(0, 2) == (2, 1, 301, 5) and log.counts(1, 1) == (1, 0, 300, 0) and log.counts(2, 1) == (0,) * 4


def _flood(log: FrameLog, count: int, start_ts: int = 0) -> None:
    for i in range(count):
        log.append_whole_in(header.whole_in(Opcode.TEXT, header_known=True, length_known=True),
                            b"m%d" % (len(log)), start_ts + i)


def test_a_log_that_does_not_record_keeps_its_newest_frames_and_says_it_dropped_the_rest() -> None:
    log = FrameLog(started_ns=0)
    _flood(log, 100)
    assert not log.keep_window(60, 1 << 20, len(log), 0)  # not over twice the window yet
    add(log, OUT, Opcode.PING, b"hb", ts_ns=100)
    add(log, IN, Opcode.PONG, b"hb", ts_ns=105)
    add(log, IN, Opcode.TEXT, b"part ", fin=False, ts_ns=106)
    add(log, IN, Opcode.CONTINUATION, b"two", fin=True, ts_ns=107)
    _flood(log, 100, start_ts=200)
    assert log.keep_window(60, 1 << 20, len(log), 0)
    assert len(log) == 204 and log.first_held == 144 and log.dropped == range(0, 144)
    assert log.payload_bytes == sum(len(b"m%d" % seq) for seq in range(144, 204))
    # the newest frames read as before, the dropped ones as empty frames
    assert log.payload(203) == b"m203" and log[203].seq == 203 and log.ts_ns(144) == 240
    assert log.payload(5) == b"" and log.size(5) == 0 and log.frame(5).note == "dropped: not recorded"
    assert log.message_for(102) is None and log.message_for(190) is not None
    # filters and find pass the dropped frames by; the times and RTTs over the whole session stay
    assert log.match_seqs(FrameFilter(text="m1"), 0, 203) == [seq for seq in range(144, 204) if b"m1" in b"m%d" % seq]
    assert log.match_seqs(FrameFilter(), 130, 170) == list(range(144, 171))
    assert [seq for seq, _, _ in log.scan(0, 170)] == list(range(144, 171))
    assert log.seq_at_or_after(50) == 0 and log.seq_at_or_after(239) == 0 and log.seq_at_or_after(240) == 144
    assert log.rtt_ns(101) == 5 and [s[0] for s in log.rtt_samples] == [101]
    assert log.frames_in == 203 and [m.last_seq for m in log.iter_messages()] == list(range(144, 204))


def test_the_window_is_bounded_by_payload_bytes_too_and_keeps_what_is_not_recorded_yet() -> None:
    log = FrameLog(started_ns=0)
    for i in range(10):
        add(log, IN, Opcode.BINARY, bytes([i]) * 1000, ts_ns=i)
    # at most 2,500 bytes: the newest two frames, but never a frame at or after seq 5 (not recorded yet)
    assert log.window_start(100, 2500) == 8
    assert log.payload_bytes_from(5) == 5000 and log.payload_bytes_from(0) == 10_000
    assert log.keep_window(100, 1000, 5, 5)
    assert log.first_held == 5 and log.payload(5) == bytes([5]) * 1000 and log.size(9) == 1000
    # what is not recorded yet, counted the same once older frames left memory
    assert log.payload_bytes_from(7) == 3000 and log.payload_bytes_from(0) == 5000
    assert log.payload_bytes_from(10) == 0
    assert log.keep_window(100, 1000, 10, 5)
    assert log.first_held == 9 and log.dropped == range(0, 9) and log.payload(9) == bytes([9]) * 1000
    assert log.columns(9, 10).payload == bytes([9]) * 1000
    add(log, OUT, Opcode.TEXT, b"after", ts_ns=20)
    assert log.counts(9, 10) == (1, 1, 1000, 5) and log.payload(10) == b"after"


def _feed_both(logs: tuple[FrameLog, FrameLog], count: int, window: int) -> None:
    """The same flood into both logs; the first keeps a window of ``window`` frames every 250 frames, as the
    flush does, the second keeps everything."""
    whole = header.whole_in(Opcode.TEXT, header_known=True, length_known=True)
    for i in range(count):
        ts = 1000 + 3 * i
        for log in logs:
            if i % 97 == 5:
                add(log, IN, Opcode.TEXT, b"frag-", fin=False, ts_ns=ts)
                add(log, OUT, Opcode.PING, b"hb%d" % i, ts_ns=ts)
                add(log, IN, Opcode.CONTINUATION, b"end", fin=True, ts_ns=ts)
                add(log, IN, Opcode.PONG, b"hb%d" % i, ts_ns=ts + 1)
            else:
                log.append_whole_in(whole, b"n%d" % (i % 1000) * (1 + i % 3), ts)
        if i % 250 == 0:
            logs[0].keep_window(window, 1 << 20, len(logs[0]), 0)


def test_a_windowed_log_lets_go_of_whole_blocks_and_reads_the_newest_frames_as_before() -> None:
    """Letting frames go copies nothing: the log holds its frames in blocks sealed at each flush and drops whole
    ones. What stays reads exactly as in a log that kept everything: frames, payloads, runs for the store across
    blocks, counts, message starts, times, what a waiting step finds."""
    windowed, everything = FrameLog(started_ns=0), FrameLog(started_ns=0)
    windowed.seal_frames = 100
    _feed_both((windowed, everything), 10_000, 1000)
    total, held = len(windowed), windowed.first_held
    assert total == len(everything) and 1000 <= total - held <= 2000 + 250 + 4 * 3
    assert windowed.dropped == range(0, held) and windowed.payload(held - 1) == b""
    assert [windowed.frame(seq) for seq in range(held, total)] == list(everything.frames(held, total - 1))
    assert windowed.payload_bytes == everything.payload_bytes_from(held)
    for first, end in ((held, total), (held + 7, held + 393), (total - 300, total)):
        assert _rebased(windowed.columns(first, end)) == _rebased(everything.columns(first, end))
        assert windowed.counts(first, end - 1) == everything.counts(first, end - 1)
        assert windowed.message_starts(first, end - 1) == everything.message_starts(first, end - 1)
        assert windowed.payload_bytes_from(first) == everything.payload_bytes_from(first)
    assert windowed.window_start(800, 1 << 20) == everything.window_start(800, 1 << 20) == total - 800
    assert windowed.window_start(800, 900) == everything.window_start(800, 900)
    for seq in (held, held + 1, held + 500, total - 1):
        assert windowed.seq_at_or_after(everything.ts_ns(seq)) == everything.seq_at_or_after(everything.ts_ns(seq))
    assert [m.last_seq for m in windowed.iter_messages()] == [m.last_seq for m in everything.iter_messages()
                                                             if m.first_seq >= held]
    wanted = (1 << Opcode.TEXT) | (1 << Opcode.PONG)
    for exact in (None, b"n999n999n999", b"n5"):
        assert (windowed.next_incoming(held, total, wanted, 1 << Opcode.TEXT, exact=exact)
                == everything.next_incoming(held, total, wanted, 1 << Opcode.TEXT, exact=exact))


def _rebased(columns: Columns) -> Columns:
    """The same run with its payload offsets counted from its first payload (as a run across blocks has them)."""
    start = columns.offsets[0]
    return columns._replace(offsets=array("q", (end - start for end in columns.offsets)))


def test_frames_not_recorded_yet_stay_in_memory_whatever_blocks_the_log_holds() -> None:
    """A recording that has fallen behind (releasable before the frames held) lets nothing go, and one that
    has caught up lets go of whole blocks only, never a frame it has not recorded."""
    log = FrameLog(started_ns=0)
    log.seal_frames = 10
    for _ in range(10):
        _flood(log, 10)
        assert not log.keep_window(1000, 1 << 20, 0, 0)  # seals a block of ten
    _flood(log, 200)
    assert log.keep_window(20, 1 << 20, 50, 50)
    assert log.first_held == 50
    assert not log.keep_window(20, 1 << 20, 40, 40)  # behind what is held: nothing more goes
    assert log.first_held == 50 and log.payload(50) == b"m50" and log.payload(299) == b"m299"
    assert log.keep_window(20, 1 << 20, 75, 75)  # up to the block that holds seq 75, which stays whole
    assert log.first_held == 70 and [log.payload(seq) for seq in (70, 75)] == [b"m70", b"m75"]


def test_megabytes_appended_between_two_flushes_read_back_whole_by_every_way_of_appending() -> None:
    """A flood of large frames between two flushes: the log keeps them in buffers of bounded size, and every
    frame, message, column and count reads back as it came, in order."""
    log = FrameLog()
    _sink, whole_in = log.upstream_sinks()
    payloads = [bytes([i]) * (300_000 + i) for i in range(24)]  # about 7 MiB
    for i, payload in enumerate(payloads):
        if i % 3 == 0:
            log.append_whole_in(header.whole_in(Opcode.BINARY, header_known=True, length_known=True), payload, i)
        elif i % 3 == 1:
            log.append_fields(OUT, Opcode.BINARY, payload, i, True)
        else:
            whole_in(header.whole_in(Opcode.BINARY, header_known=True, length_known=True), payload, i)
    assert [log.payload(seq) for seq in range(len(log))] == payloads
    assert [log[seq].ts_ns for seq in range(len(log))] == list(range(24))
    assert [log[seq].upstream for seq in range(len(log))] == [i % 3 == 2 for i in range(24)]
    assert [m.payload for m in log.messages] == payloads
    columns = log.columns(2, 20)
    assert columns.payload == b"".join(payloads[2:20])
    assert list(columns.offsets) == [sum(map(len, payloads[2:k])) for k in range(2, 21)]
    assert log.counts(0, 23)[2:] == (sum(len(p) for i, p in enumerate(payloads) if i % 3 != 1),
                                     sum(len(p) for i, p in enumerate(payloads) if i % 3 == 1))
    assert log.payload_bytes == sum(map(len, payloads))


def _large_and_small(log: FrameLog, payloads: list[bytes], copy: bool, start: int = 0) -> None:
    """``payloads`` (from the ``start``-th on) by every way of appending, large ones among small ones and
    fragments; ``copy``: each handed over as a bytearray, which the log copies whatever its size."""
    sink, whole_in = log.upstream_sinks()
    whole = header.whole_in(Opcode.BINARY, header_known=True, length_known=True)
    for i, payload in enumerate(payloads, start):
        data = bytearray(payload) if copy else payload
        way = i % 5
        if way == 0:
            log.append_whole_in(whole, data, i)
        elif way == 1:
            log.append_fields(OUT, Opcode.BINARY, data, i, True, False, False, False, True, len(data), b"kkkk")
        elif way == 2:
            whole_in(whole, data, i)
        elif way == 3:
            sink(OUT, Opcode.BINARY, data, i, True, False, False, False, True, len(data), b"uuuu")
        else:  # a fragment of a message that ends with the next small frame
            log.append_fields(IN, Opcode.BINARY, data, i, False)
            log.append_fields(IN, Opcode.CONTINUATION, b"end", i, True)
        if i % 7 == 0:
            add(log, OUT, Opcode.PING, b"p%d" % i, ts_ns=i)


def test_large_payloads_kept_as_they_came_read_back_as_copied_ones_do() -> None:
    """Payloads of ``OWN_BLOCK`` bytes or more are kept as they came, a block each, among small frames, fragments
    and both hops' frames: a log that keeps a window of them reads back every frame, run for the store, count,
    message start and message exactly as a log that copied every payload and kept everything."""
    sizes = [OWN_BLOCK, 5, OWN_BLOCK - 1, 3 * OWN_BLOCK, 0, OWN_BLOCK + 7, 200] * 12
    payloads = [os.urandom(size) for size in sizes]
    kept, copied = FrameLog(started_ns=0), FrameLog(started_ns=0)
    kept.seal_frames = 4
    for start in range(0, len(payloads), 6):
        _large_and_small(kept, payloads[start:start + 6], copy=False, start=start)
        kept.keep_window(12, 6 * OWN_BLOCK, len(kept), 0)
    _large_and_small(copied, payloads, copy=True)
    total, held = len(kept), kept.first_held
    assert total == len(copied) and 0 < held < total - 12
    assert [kept.frame(seq) for seq in range(held, total)] == list(copied.frames(held, total - 1))
    assert kept.payload_bytes == copied.payload_bytes_from(held)
    for first, end in ((held, total), (held + 1, held + 9), (total - 5, total), (total - 1, total)):
        assert _rebased(kept.columns(first, end)) == _rebased(copied.columns(first, end))
        assert kept.counts(first, end - 1) == copied.counts(first, end - 1)
        assert kept.message_starts(first, end - 1) == copied.message_starts(first, end - 1)
    assert [(m.last_seq, m.payload) for m in kept.iter_messages()] == [
        (m.last_seq, m.payload) for m in copied.iter_messages() if m.first_seq >= held]
    assert (kept.frames_in, kept.bytes_in, kept.bytes_out) == (copied.frames_in, copied.bytes_in, copied.bytes_out)


def test_a_large_payload_forwarded_by_a_proxy_is_held_once_for_both_hops() -> None:
    """The message a recording proxy reads on one hop and sends on the other is one payload: the log keeps it
    without a copy, so 4 MiB forwarded costs the log a few hundred bytes, not 8 MiB."""
    log = FrameLog()
    upstream, _whole = log.upstream_sinks()
    payload = os.urandom(4 << 20)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        log.append_fields(IN, Opcode.BINARY, payload, 1, True, False, False, False, True, len(payload), b"kkkk")
        upstream(OUT, Opcode.BINARY, payload, 2, True, False, False, False, True, len(payload), b"uuuu")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024
    assert log.payload(0) is log.payload(1) is payload  # read back without a copy too
    assert log.payload_bytes == 2 * len(payload)
