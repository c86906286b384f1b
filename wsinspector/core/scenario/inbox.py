"""Where a run finds the messages the server sent: a queue it is handed them in, or the connection's log.

A waiting step takes messages from an inbox with :meth:`take`, saying what it asks for (:class:`Want`): the
kinds of messages it checks, the kinds it passes over without counting them (pings and pongs, unless it waits
for one), and, for an exact text or binary matcher, the bytes the message must be. What the step does not
ask for is passed over in the inbox itself, counted, so a step waiting through a flood checks only the
messages that can match. :class:`LogInbox` reads the connection's :class:`~wsinspector.core.log.FrameLog` in
place: no message is copied out of it unless a step asks for it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from ..frames import Opcode
from ..log import FrameLog

#: a message as a step sees it: its opcode, its payload and when it arrived (seconds, the run's clock)
Item = tuple[Opcode, bytes, float]

_DATA = (Opcode.TEXT, Opcode.BINARY)


@dataclass(frozen=True, slots=True)
class Want:
    """What a waiting step asks of its inbox."""

    #: the messages it checks
    opcodes: frozenset[Opcode]
    #: the messages it passes over counted (the others, pings and pongs, uncounted)
    considered: frozenset[Opcode]
    #: the length a whole text or binary message must have to be checked, -1 any
    length: int = -1
    #: the bytes a whole text or binary message must be to be checked, None any (an exact matcher's)
    exact: bytes | None = None

    def asks_for(self, opcode: Opcode, payload: bytes) -> bool:
        if opcode not in self.opcodes:
            return False
        if opcode not in _DATA:
            return True
        if self.exact is not None:
            return payload == self.exact
        return self.length < 0 or len(payload) == self.length

    def mask(self) -> int:
        return _mask(self.opcodes)

    def counted_mask(self) -> int:
        return _mask(self.considered)


def _mask(opcodes: frozenset[Opcode]) -> int:
    mask = 0
    for opcode in opcodes:
        mask |= 1 << opcode
    return mask


class Inbox:
    """Messages handed to the run (:meth:`push`), in the order they arrived.

    ``passed`` counts the messages of the ``considered`` kinds that :meth:`take` passed over since the step
    began and ``last_passed`` is the last of them; the runner resets both when a step ends."""

    def __init__(self) -> None:
        self._queue: deque[Item] = deque()
        self.passed = 0
        self.last_passed: tuple[Opcode, bytes] | None = None

    def push(self, opcode: Opcode, payload: bytes, at: float) -> None:
        self._queue.append((opcode, payload, at))

    def take(self, want: Want, deadline: float) -> Item | None:
        """The next message that arrived by ``deadline`` and that ``want`` asks for, taken out; the messages
        before it are passed over. None when there is none (yet)."""
        queue = self._queue
        while queue:
            opcode, payload, at = queue[0]
            if at > deadline:
                return None
            queue.popleft()
            if want.asks_for(opcode, payload):
                return opcode, payload, at
            if opcode in want.considered:
                self.passed += 1
                self.last_passed = (opcode, payload)
        return None

    def reset_passed(self) -> None:
        self.passed, self.last_passed = 0, None


class LogInbox(Inbox):
    """The incoming messages of a live :class:`FrameLog`, read in place as a step asks for them. Frames from
    :attr:`end` on are no messages (the client refused the frame there: see ``Replay.on_protocol_error``)."""

    def __init__(self, log: FrameLog) -> None:
        super().__init__()
        self._log = log
        self._seq = 0
        self.end: int | None = None

    def push(self, opcode: Opcode, payload: bytes, at: float) -> None:
        raise TypeError("a LogInbox reads its messages from the log")

    @property
    def unread(self) -> int:
        """The first frame not read yet: the log has to keep it, and every frame after it, for a step to come."""
        return self._seq

    def pass_over(self, seq: int) -> None:
        """No step will read the frames before ``seq``: they are passed over, uncounted, and the log may let them
        go."""
        self._seq = max(self._seq, seq)

    def stop_at(self, seq: int) -> None:
        """Frames from ``seq`` on are no messages."""
        if self.end is None:
            self.end = seq

    def take(self, want: Want, deadline: float) -> Item | None:
        log = self._log
        end = len(log) if self.end is None else min(self.end, len(log))
        if self._seq >= end:
            return None
        if not math.isinf(deadline) and log.ts_ns(end - 1) > deadline * 1e9:  # some came after the deadline
            end = min(end, log.seq_at_or_after(math.floor(deadline * 1e9) + 1))
        seq, passed, last = log.next_incoming(self._seq, end, want.mask(), want.counted_mask(), want.length,
                                              want.exact)
        if passed:
            self.passed += passed
            self.last_passed = self._message(last)[:2]
        if seq >= end:
            self._seq = max(self._seq, seq)
            return None
        self._seq = seq + 1
        return self._message(seq)

    def _message(self, seq: int) -> Item:
        log = self._log
        at = log.ts_ns(seq) / 1e9
        message = log.message_for(seq)
        if message is not None:
            return message.opcode, message.payload, at
        return log.opcode(seq), log.payload(seq), at
