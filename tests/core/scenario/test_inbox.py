"""The run's inbox read in place from a live FrameLog: what a waiting step asks for, and what it passes over."""

from __future__ import annotations

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.model import header
from wsinspector.core.scenario.inbox import LogInbox, Want
from wsinspector.core.scenario.model import ExpectStep, OpcodeMatcher, Scenario, TextMatcher, WaitStep
from wsinspector.core.scenario.run import Finished, Replay, WaitAction
from wsinspector.core.scenario.verdict import Verdict

_TEXT = header.whole_in(Opcode.TEXT, header_known=True, length_known=True)
ALL = frozenset(Opcode)


def _log(*texts: bytes, start_ns: int = 1_000_000_000) -> FrameLog:
    log = FrameLog()
    for i, text in enumerate(texts):
        log.append_whole_in(_TEXT, text, start_ns + i)
    return log


def test_a_wait_passes_over_what_cannot_match_without_reading_it_and_counts_it():
    log = _log(b"tick 1", b"tick 2", b"done")
    log.append_fields(Direction.IN, Opcode.PING, b"", 1_000_000_010, True)
    log.append_fields(Direction.OUT, Opcode.TEXT, b"done", 1_000_000_011, True)
    inbox = LogInbox(log)
    want = Want(frozenset({Opcode.TEXT}), ALL - {Opcode.PING, Opcode.PONG}, exact=b"done")
    assert inbox.take(want, 10.0) == (Opcode.TEXT, b"done", 1.000000002)
    assert inbox.passed == 2 and inbox.last_passed == (Opcode.TEXT, b"tick 2")
    assert inbox.take(want, 10.0) is None  # a ping is not counted, our own frames are not messages
    assert inbox.passed == 2


def test_a_fragmented_message_is_given_whole_and_nothing_past_the_refused_frame_is():
    log = FrameLog()
    log.append_fields(Direction.IN, Opcode.TEXT, b"hel", 1, False)
    log.append_fields(Direction.IN, Opcode.CONTINUATION, b"lo", 2, True)
    inbox = LogInbox(log)
    inbox.stop_at(len(log) + 1)
    log.append_fields(Direction.IN, Opcode.TEXT, b"a", 3, True)
    log.append_fields(Direction.IN, Opcode.CLOSE, b"", 4, True, note="rejected")
    want = Want(ALL, ALL)
    assert inbox.take(want, 10.0) == (Opcode.TEXT, b"hello", 2e-9)
    assert inbox.take(want, 10.0) == (Opcode.TEXT, b"a", 3e-9)
    assert inbox.take(want, 10.0) is None


def test_a_replay_reads_its_messages_from_the_log_as_its_steps_ask():
    log = _log(*(b"%06d" % i for i in range(10_000)), b"last one")
    steps = (ExpectStep(TextMatcher("000000")), WaitStep(until=TextMatcher("last one")),
             ExpectStep(OpcodeMatcher(Opcode.TEXT), timeout_s=1))
    replay = Replay(Scenario("flood", "ws://x/", steps), inbox=LogInbox(log))
    action = replay.poll(1.0)
    assert isinstance(action, WaitAction)  # the third step waits for more
    result = replay.poll(action.until)
    assert isinstance(result, Finished)
    assert [s.status for s in result.result.steps] == [Verdict.PASSED, Verdict.PASSED, Verdict.FAILED]
    assert result.result.steps[1].received == "last one"


def _scan_in_windows(log: FrameLog, seq: int, end: int, *args: object) -> tuple[int, int, int]:
    """next_incoming over windows too short for the columns: the frame-by-frame reading."""
    passed_total, last_total = 0, -1
    while seq < end:
        window_end = min(end, seq + 16)
        found, passed, last = log.next_incoming(seq, window_end, *args)  # type: ignore[arg-type]
        passed_total += passed
        last_total = last if last >= 0 else last_total
        if found < window_end:
            return found, passed_total, last_total
        seq = window_end
    return end, passed_total, last_total


def test_reading_the_columns_finds_what_reading_frame_by_frame_finds():
    import random

    rng = random.Random(7)
    log = FrameLog()
    kinds = [(Direction.IN, Opcode.TEXT), (Direction.IN, Opcode.BINARY), (Direction.OUT, Opcode.TEXT),
             (Direction.IN, Opcode.PING), (Direction.IN, Opcode.PONG), (Direction.IN, Opcode.CLOSE)]
    for i in range(3000):
        direction, opcode = rng.choices(kinds, weights=[40, 30, 10, 5, 5, 1])[0]
        payload = rng.choice([b"abc", b"abd", b"xyz!", b"", b"%d" % (i % 50)])
        log.append_fields(direction, opcode, payload, i, True)
    text, binary, close, ping = (1 << op for op in (Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE, Opcode.PING))
    considered = text | binary | close
    cases = [(text | close, considered, -1, None), (text | close, considered, 3, None),
             (text | close, considered, -1, b"abd"), (binary, considered, -1, b"xyz!"), (ping, ping, -1, None),
             (text, considered, -1, b"49"), (text, considered, -1, b"not there")]
    for case in cases:
        for start in (0, 17, 1000):
            assert log.next_incoming(start, len(log), *case) == _scan_in_windows(log, start, len(log), *case), case


def test_a_replay_says_whether_a_step_to_come_reads_messages_and_the_inbox_says_what_it_has_not_read():
    log = _log(b"one", b"two", b"three")
    inbox = LogInbox(log)
    steps = (WaitStep(seconds=1), ExpectStep(TextMatcher("one")), WaitStep(seconds=1))
    replay = Replay(Scenario("reads", "ws://x/", steps), inbox=inbox)
    assert replay.reads_more and inbox.unread == 0
    action = replay.poll(1.0)
    assert isinstance(action, WaitAction) and replay.reads_more  # the expect to come reads "one"
    action = replay.poll(action.until)
    assert [s.status for s in replay.results] == [Verdict.PASSED, Verdict.PASSED]
    assert inbox.unread == 1 and not replay.reads_more  # only the last fixed wait is left
    inbox.pass_over(len(log))
    assert inbox.unread == 3 and inbox.passed == 0
    assert inbox.take(Want(ALL, ALL), 10.0) is None
