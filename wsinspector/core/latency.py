"""Round-trip times measured by us: each ping carries a unique payload, remembered with its send time.

A pong closes the ping whose payload it echoes; by RFC 6455 it also acknowledges every earlier ping still
open (those get no RTT of their own: the pong answered a later ping). A pong that matches no open ping is
unsolicited: shown, never counted.
"""

from __future__ import annotations

import itertools
import math
import os
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PAYLOAD_PREFIX = b"wsi:"


@dataclass(frozen=True, slots=True)
class RttSample:
    ping_ns: int  # monotonic time the ping was sent
    rtt_ns: int

    @property
    def rtt_ms(self) -> float:
        return self.rtt_ns / 1e6


@dataclass(frozen=True, slots=True)
class PongResult:
    """What one pong meant."""

    sample: RttSample | None  # the RTT of the ping it answered, if it answered one
    acknowledged: tuple[bytes, ...] = ()  # earlier open pings it closed without an RTT
    unsolicited: bool = False


class PongMatcher:
    """Pairs the pongs of a frame stream with the pings they answer, as the frames come.

    A pong answers the oldest open outgoing ping with its payload and acknowledges every ping sent before
    that one. ``rtt[pong_seq]`` is the time between them, or None for an unsolicited pong.
    """

    def __init__(self) -> None:
        self._open: dict[int, tuple[bytes, int]] = {}  # ping seq -> (payload, send time), in send order
        self.rtt: dict[int, int | None] = {}
        #: (pong seq, pong time, rtt) of every answered ping, in the order the pongs came
        self.samples: list[tuple[int, int, int]] = []

    @property
    def open_count(self) -> int:
        return len(self._open)

    def is_open(self, payload: bytes) -> bool:
        return any(sent == payload for sent, _ in self._open.values())

    def ping_sent(self, seq: int, payload: bytes, ts_ns: int) -> None:
        self._open[seq] = (payload, ts_ns)

    def answer(self, payload: bytes) -> tuple[int | None, list[bytes]]:
        """Close the ping a pong with ``payload`` answers: its send time (None: unsolicited), and the payloads
        of the earlier pings the pong acknowledges with it."""
        answered = next((ping for ping, (sent, _) in self._open.items() if sent == payload), None)
        if answered is None:
            return None, []
        sent_ns = self._open[answered][1]
        earlier = [ping for ping in self._open if ping < answered]
        acknowledged = [self._open.pop(ping)[0] for ping in earlier]
        del self._open[answered]
        return sent_ns, acknowledged

    def pong_received(self, seq: int, payload: bytes, ts_ns: int) -> int | None:
        sent_ns, _ = self.answer(payload)
        if sent_ns is None:
            self.rtt[seq] = None
            return None
        rtt = self.rtt[seq] = ts_ns - sent_ns
        self.samples.append((seq, ts_ns, rtt))
        return rtt

    def expire(self, now_ns: int, timeout_ns: int) -> list[tuple[bytes, int]]:
        """Close and return the pings open for longer than ``timeout_ns`` (payload, send time)."""
        late = [ping for ping, (_, sent) in self._open.items() if now_ns - sent > timeout_ns]
        return [self._open.pop(ping) for ping in late]

    def oldest_open_ns(self) -> int | None:
        """Send time of the oldest ping still waiting for its pong."""
        return next(iter(self._open.values()))[1] if self._open else None

    def reset(self) -> None:
        """A new connection: pings of the old one will never be answered."""
        self._open.clear()


class PingTracker:
    """Pings of one client by payload: a :class:`PongMatcher` that also makes unique payloads and refuses a
    payload still open (its RTT could not be told apart)."""

    def __init__(self) -> None:
        self._matcher = PongMatcher()
        self._seq = itertools.count()
        self._counter = itertools.count(1)
        self._session = os.urandom(4).hex().encode()
        self.unsolicited = 0

    def next_payload(self) -> bytes:
        """A payload no other ping of this tracker carries (short: control frames hold at most 125 bytes)."""
        return PAYLOAD_PREFIX + self._session + b":" + str(next(self._counter)).encode()

    @property
    def open_pings(self) -> int:
        return self._matcher.open_count

    def sent(self, payload: bytes, ts_ns: int) -> None:
        if len(payload) > 125:
            raise ValueError("a ping payload can be at most 125 bytes")
        if self._matcher.is_open(payload):
            raise ValueError("a ping with this payload is still open: RTTs could not be told apart")
        self._matcher.ping_sent(next(self._seq), payload, ts_ns)

    def pong(self, payload: bytes, ts_ns: int) -> PongResult:
        sent, acknowledged = self._matcher.answer(payload)
        if sent is None:
            self.unsolicited += 1
            return PongResult(None, unsolicited=True)
        return PongResult(RttSample(sent, max(0, ts_ns - sent)), tuple(acknowledged))

    def expired(self, now_ns: int, timeout_ns: int) -> list[tuple[bytes, int]]:
        """Close and return the pings open for longer than ``timeout_ns`` (payload, send time)."""
        return self._matcher.expire(now_ns, timeout_ns)

    def reset(self) -> None:
        """The connection ended: open pings will never be answered."""
        self._matcher.reset()


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``sorted_values`` ascending, non-empty."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


@dataclass(frozen=True, slots=True)
class RttStats:
    count: int
    min_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    #: mean absolute difference between consecutive RTTs
    jitter_ms: float


def rtt_stats(rtts_ms: Iterable[float]) -> RttStats | None:
    """Statistics of RTTs in the order measured; None when there are none."""
    values = list(rtts_ms)
    if not values:
        return None
    return _stats(values, sorted(values))


def _stats(in_order: Sequence[float], ordered: Sequence[float]) -> RttStats:
    """Statistics from the same RTTs in the order measured (for jitter) and sorted (for the rest)."""
    diffs = [abs(b - a) for a, b in itertools.pairwise(in_order)]
    return RttStats(
        count=len(ordered),
        min_ms=ordered[0],
        p50_ms=percentile(ordered, 50),
        p95_ms=percentile(ordered, 95),
        p99_ms=percentile(ordered, 99),
        max_ms=ordered[-1],
        jitter_ms=sum(diffs) / len(diffs) if diffs else 0.0,
    )


class RollingRtt:
    """The RTTs of the last ``window_ns`` of pings, kept sorted for percentiles as samples come and go."""

    def __init__(self, window_ns: int) -> None:
        if window_ns <= 0:
            raise ValueError("window must be positive")
        self.window_ns = window_ns
        self._samples: deque[RttSample] = deque()
        self._sorted: list[float] = []

    def add(self, sample: RttSample) -> None:
        self._samples.append(sample)
        insort(self._sorted, sample.rtt_ms)
        self._trim(sample.ping_ns)

    def _trim(self, now_ns: int) -> None:
        while self._samples and now_ns - self._samples[0].ping_ns > self.window_ns:
            old = self._samples.popleft()
            del self._sorted[bisect_left(self._sorted, old.rtt_ms)]

    def stats(self, now_ns: int | None = None) -> RttStats | None:
        """Statistics of the window (ending at ``now_ns`` when given, else at the newest sample)."""
        if now_ns is not None:
            self._trim(now_ns)
        if not self._samples:
            return None
        return _stats([sample.rtt_ms for sample in self._samples], self._sorted)

    def __len__(self) -> int:
        return len(self._samples)
