"""Round-trip times measured by us: each ping carries a unique payload, remembered with its send time.

A pong closes the ping whose payload it echoes; by RFC 6455 it also acknowledges every earlier ping still
open (those get no RTT of their own: the pong answered a later ping). A pong that matches no open ping is
unsolicited: shown, never counted.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PAYLOAD_PREFIX = b"wsi:"


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

    def ping_sent(self, seq: int, payload: bytes, ts_ns: int) -> None:
        self._open[seq] = (payload, ts_ns)

    def pong_received(self, seq: int, payload: bytes, ts_ns: int) -> int | None:
        """The RTT of the ping this pong answers (None: unsolicited); the pings sent before that one are closed
        without an RTT."""
        answered = next((ping for ping, (sent, _) in self._open.items() if sent == payload), None)
        if answered is None:
            self.rtt[seq] = None
            return None
        sent_ns = self._open[answered][1]
        for ping in [ping for ping in self._open if ping <= answered]:
            del self._open[ping]
        rtt = self.rtt[seq] = ts_ns - sent_ns
        self.samples.append((seq, ts_ns, rtt))
        return rtt

    def oldest_open_ns(self) -> int | None:
        """Send time of the oldest ping still waiting for its pong."""
        return next(iter(self._open.values()))[1] if self._open else None

    def reset(self) -> None:
        """A new connection: pings of the old one will never be answered."""
        self._open.clear()


class PingPayloads:
    """The payloads of one client's own pings: each unique, so that its pong tells which ping it answers."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._session = os.urandom(4).hex().encode()

    def next_payload(self) -> bytes:
        """A payload no other ping of this client carries (short: control frames hold at most 125 bytes)."""
        return PAYLOAD_PREFIX + self._session + b":" + str(next(self._counter)).encode()


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
    """Statistics of RTTs in the order measured; None when there are none. This is their definition: the
    latency graph keeps the same figures for its sliding window incrementally (``ui.latency_graph.RttSeries``)."""
    in_order = list(rtts_ms)
    if not in_order:
        return None
    ordered = sorted(in_order)
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
