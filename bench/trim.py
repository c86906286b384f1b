"""What keeping the live log's window costs a flush: the log lets old frames go in whole blocks, so the cost must
not grow with the window.

A log is flooded with whole incoming frames (3 bytes of payload, as ``flood_memory.py`` sends; ``--size``) and
keeps its window every 30,000 frames, as the 50 ms flush does under a flood of 600k frames/s. For windows of
25,000 to 400,000 frames it times each ``keep_window`` that let frames go; the baseline, measured in the same
run, is copying the kept window's columns and payloads once (what letting frames go cost while the log held
one buffer). A trim frees the blocks it lets go of, so it costs with what leaves (a window's worth every
``window / 30,000`` flushes), never with what stays; spread over the flushes it is about the same at every
window. The last line is the median trim against copying the window, at the largest window (goal: far below
1x).

    .venv/bin/python bench/trim.py [--size 3] [--rounds 60]
"""

from __future__ import annotations

import argparse
import time
from array import array

from _common import median, percentile

from wsinspector.core.frames import Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.model import header

WINDOWS = (25_000, 100_000, 400_000)
#: frames between two keeps (a 50 ms flush at 600k frames/s)
PER_FLUSH = 30_000


def trims(window: int, size: int, rounds: int) -> tuple[list[float], list[float], float]:
    """(ms of each of ``rounds`` keeps that let frames go, ms of copying the kept window once after each, ms of
    keeping per flush on average)."""
    log = FrameLog()
    meta = header.whole_in(Opcode.BINARY, header_known=True, length_known=True)
    payload = b"x" * size
    kept: list[float] = []
    copied: list[float] = []
    flushes = 0
    while len(kept) < rounds:
        flushes += 1
        for i in range(PER_FLUSH):
            log.append_whole_in(meta, payload, i)
        start = time.perf_counter()
        released = log.keep_window(window, 1 << 40, len(log), 0)
        took = time.perf_counter() - start
        if released:
            kept.append(took * 1000)
            held = len(log) - log.first_held
            start = time.perf_counter()
            _copy(array("q", range(held)), array("I", bytes(4 * held)), bytearray(payload * held))
            copied.append((time.perf_counter() - start) * 1000)
    return kept, copied, sum(kept) / flushes


def _copy(ts: array[int], metas: array[int], data: bytearray) -> None:
    ts[1:], metas[1:], data[1:], array("q", ts[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=3, help="payload bytes per frame (default 3)")
    parser.add_argument("--rounds", type=int, default=20, help="trims measured per window (default 20)")
    args = parser.parse_args()
    import numpy  # noqa: F401, PLC0415  (the app has it loaded before a flood: app/preload.py)

    print(f"keeping the log's window: {args.size} B frames, a keep every {PER_FLUSH:,} frames")
    medians = {}
    copies = {}
    for window in WINDOWS:
        kept, copied, per_flush = trims(window, args.size, args.rounds)
        medians[window], copies[window] = median(kept), median(copied)
        print(f"  window {window:>7,} frames: trim p50 {median(kept):.3f} ms, p99 {percentile(kept, 0.99):.3f} ms, "
              f"max {max(kept):.3f} ms ({len(kept)} trims), {per_flush:.3f} ms per flush; copying the window "
              f"once p50 {median(copied):.3f} ms")
    large = WINDOWS[-1]
    print(f"trim p50 / copying the window, at {large:,} frames: {medians[large]:.3f} / {copies[large]:.3f} ms = "
          f"{medians[large] / copies[large]:.3f}x (goal: far below 1x)")


if __name__ == "__main__":
    main()
