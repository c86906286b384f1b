"""Frame and byte rates, in and out, over the last second or so of a connection's running counters."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from wsinspector.core.payloads import human_size

#: how far back a rate looks
WINDOW_S = 1.0


@dataclass(frozen=True, slots=True)
class Counters:
    """A log's running totals at one moment."""

    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass(frozen=True, slots=True)
class Rates:
    """Per second, over the span the meter looked at."""

    frames_in: float = 0.0
    frames_out: float = 0.0
    bytes_in: float = 0.0
    bytes_out: float = 0.0

    def summary(self) -> str:
        return (f"↓ {self.frames_in:,.0f} fr/s {human_size(int(self.bytes_in))}/s   "
                f"↑ {self.frames_out:,.0f} fr/s {human_size(int(self.bytes_out))}/s")


class RateMeter:
    """Turns samples of running counters into rates over the last ``window_s`` seconds.

    The rates span from the kept sample whose age is nearest to ``window_s`` to the newest one, so a timer
    that fires a little early or late never stretches the span by a whole sampling interval: a steady
    1 message/s reads 1/s, not 0.67 and 1.33 in turn. Before there is that much history, the span since the
    first sample.
    """

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, Counters]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def sample(self, now_s: float, counters: Counters) -> Rates | None:
        """Add a sample taken at ``now_s`` (a monotonic clock); the rates since the baseline, or None while
        there is no span yet (the first sample, or a clock that did not move)."""
        samples = self._samples
        if samples and now_s < samples[-1][0]:
            samples.clear()  # a clock that went back: start again rather than report nonsense
        samples.append((now_s, counters))
        window = self.window_s
        # ages fall along the deque, so their distance to the window falls, then rises: drop the samples
        # before the nearest (as samples age, the nearest only moves towards newer ones)
        while len(samples) > 2 and abs(now_s - samples[1][0] - window) <= abs(now_s - samples[0][0] - window):
            samples.popleft()
        then, first = samples[0]
        span = now_s - then
        if span <= 0:
            return None
        return Rates((counters.frames_in - first.frames_in) / span, (counters.frames_out - first.frames_out) / span,
                     (counters.bytes_in - first.bytes_in) / span, (counters.bytes_out - first.bytes_out) / span)
