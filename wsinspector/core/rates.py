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

    The oldest sample kept is the newest one at least ``window_s`` old, so a rate always spans a little
    more than the window once there is history, and the span since the first sample before that.
    """

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, Counters]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def sample(self, now_s: float, counters: Counters) -> Rates | None:
        """Add a sample taken at ``now_s`` (a monotonic clock); the rates since the oldest kept one, or
        None while there is no span yet (the first sample, or a clock that did not move)."""
        samples = self._samples
        if samples and now_s < samples[-1][0]:
            samples.clear()  # a clock that went back: start again rather than report nonsense
        samples.append((now_s, counters))
        while len(samples) > 2 and now_s - samples[1][0] >= self.window_s:
            samples.popleft()
        then, first = samples[0]
        span = now_s - then
        if span <= 0:
            return None
        return Rates((counters.frames_in - first.frames_in) / span, (counters.frames_out - first.frames_out) / span,
                     (counters.bytes_in - first.bytes_in) / span, (counters.bytes_out - first.bytes_out) / span)
