"""Latency graph redraw cost: a LatencyGraph shown offscreen at 1200x600 with 1,000,000 RTT samples.

A redraw is what the widget's throttle timer does when data came (``redraw()``: the curves take the data,
pyqtgraph clips and peak-downsamples it to the view, the view follows, the statistics are recomputed) plus
painting the widget (``grab()``). Measured, median of several, in two views:

- following the default window (last 1 min: the newest 6,000 samples in view, statistics over them);
- the whole session (all 1,000,000 samples in view, statistics over all of them): the worst case, and the
  figure of the last line.

Then live use: 200 frames of 100 new samples each, then a redraw, in ms per frame.
The baseline of the last line is the same widget, same view, with 1,000 samples, measured in the same run.

    .venv/bin/python bench/graph.py [--samples 1000000] [--repeat 15] [--frames 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _common import median, qt_app

from wsinspector.ui.latency_graph import WINDOWS, LatencyGraph

SPACING_S = 0.01  # a sample every 10 ms
WHOLE_SESSION = len(WINDOWS) - 1


def series(count: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(count) * SPACING_S
    rtt = rng.gamma(2.0, 15.0, count) + np.where(rng.random(count) < 0.001, 500.0, 0.0)
    return t, rtt


def make_graph(app: object, count: int, window: int) -> LatencyGraph:
    graph = LatencyGraph()
    graph.resize(1200, 600)
    graph.window_combo.setCurrentIndex(window)
    graph.show()
    graph.set_rtts(*series(count))
    for second in range(int(count * SPACING_S)):
        graph.add_rates(float(second), 100.0, 50.0, 64_000.0, 3_200.0)
    for t in np.linspace(0, count * SPACING_S, 20):
        graph.add_marker(float(t), "disconnect", "bench")
    app.processEvents()  # type: ignore[attr-defined]
    graph.redraw()
    graph.grab()
    return graph


def timed_redraw(graph: LatencyGraph, new_t: float) -> float:
    """One sample arrives (outside the clock), then the redraw and the paint are timed; in ms."""
    graph.add_rtts([new_t], [20.0])
    start = time.perf_counter()
    graph.redraw()
    graph.grab()
    return (time.perf_counter() - start) * 1e3


def redraw_ms(app: object, count: int, window: int, repeat: int) -> float:
    graph = make_graph(app, count, window)
    try:
        t = count * SPACING_S
        samples = []
        for i in range(repeat):
            samples.append(timed_redraw(graph, t + i * SPACING_S))
        return median(samples)
    finally:
        close(app, graph)


def frames_ms(app: object, count: int, window: int, frames: int) -> float:
    """Append 100 samples, redraw and paint; median ms per frame (appending included)."""
    graph = make_graph(app, count, window)
    try:
        rng = np.random.default_rng(2)
        t0 = count * SPACING_S
        samples = []
        for frame in range(frames):
            t = t0 + (frame * 100 + np.arange(100)) * SPACING_S
            rtt = rng.gamma(2.0, 15.0, 100)
            start = time.perf_counter()
            graph.add_rtts(t, rtt)
            graph.redraw()
            graph.grab()
            samples.append((time.perf_counter() - start) * 1e3)
        return median(samples)
    finally:
        close(app, graph)


def short(count: int) -> str:
    """1000000 -> 1M, 1000 -> 1k."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= size and count % size == 0:
            return f"{count // size}{suffix}"
    return str(count)


def close(app: object, graph: LatencyGraph) -> None:
    graph.stop()
    graph.close()
    graph.deleteLater()
    app.processEvents()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    app = qt_app()
    big, small = f"{args.samples:,}", f"{args.baseline:,}"

    follow_big = redraw_ms(app, args.samples, 1, args.repeat)
    follow_small = redraw_ms(app, args.baseline, 1, args.repeat)
    whole_small = redraw_ms(app, args.baseline, WHOLE_SESSION, args.repeat)
    whole_big = redraw_ms(app, args.samples, WHOLE_SESSION, args.repeat)
    live_follow = frames_ms(app, args.samples, 1, args.frames)
    live_whole = frames_ms(app, args.samples, WHOLE_SESSION, args.frames)

    print(f"redraw, following the last 1 min:   {big} samples {follow_big:.1f} ms; {small} samples "
          f"{follow_small:.1f} ms (median of {args.repeat})")
    print(f"redraw, whole session in view:      {big} samples {whole_big:.1f} ms; {small} samples "
          f"{whole_small:.1f} ms (median of {args.repeat})")
    print(f"live, +100 samples then redraw:     {live_follow:.1f} ms/frame following the last 1 min, "
          f"{live_whole:.1f} ms/frame whole session in view ({big} samples and growing, median of "
          f"{args.frames} frames)")
    print(f"graph: redraw with {big} samples {whole_big:.1f} ms (target < 30 ms); "
          f"{short(args.samples)}/{short(args.baseline)} ratio {whole_big / whole_small:.2f}")
    sys.stdout.flush()
    os._exit(0)  # skip Qt's teardown at interpreter exit (pyqtgraph and PySide6 may crash there)


if __name__ == "__main__":
    main()
