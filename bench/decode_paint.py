"""Painted decoded rows against painted raw rows: screens of the real timeline scrolling a million-frame Socket.IO
session.

Builds the stored Socket.IO session of bench/decode.py (N frames, default 1,000,000: events both ways, acks, binary
events with their attachments, Engine.IO pings and pongs) and shows it in two real timelines (``ui/timeline.py``'s
TimelineModel and TimelineView, offscreen, as tall as ROWS rows, default 50):

- raw: the timeline as it is without a decoder (the Protocol and Decoded columns hidden);
- decoded: the same with the tab's decoding (``ui/decoding.py`` TabDecoding, chosen from the URL) and its
  Protocol and Decoded columns shown, as a Socket.IO tab shows them.

In interleaved rounds, each view scrolls to a screen and paints it (``viewport().repaint()``: every visible cell
asked for its roles and drawn). Screens come in runs of ``--run`` (default 10), one after the other as Page Down
scrolls, each run at a new random place, raw and decoded given different runs in turn: both read the session's
pages of frame heads as they reach new ones, and the decoded screens decode each row for the first time.

Each screen is timed by the clock and by the CPU time of the thread (``time.thread_time``). The last line gives
the p99 per screen of both and their ratio (goal: decoded <= 2x raw and < 16 ms).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/decode_paint.py [--frames 1000000] [--rows 50] [--screens 300]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _common import median, percentile
from decode import URL, build_session
from PySide6.QtWidgets import QApplication

from wsinspector.core.store import Store
from wsinspector.core.stored import StoredSession
from wsinspector.ui.decoding import TabDecoding
from wsinspector.ui.launch import paint_on_one_thread
from wsinspector.ui.timeline import TimelineModel, TimelineView


def make_view(session: StoredSession, rows: int, decoding: TabDecoding | None) -> TimelineView:
    model = TimelineModel()
    if decoding is not None:
        model.set_decoding(decoding)
    model.set_source(session)
    view = TimelineView(model)
    view.show_decoded(decoding is not None)
    height = view.verticalHeader().defaultSectionSize() * rows + view.horizontalHeader().sizeHint().height() + 4
    view.resize(1600, height)
    view.show()
    return view


def paint(view: TimelineView, first: int) -> None:
    view.verticalScrollBar().setValue(first)
    view.viewport().repaint()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--screens", type=int, default=300)
    parser.add_argument("--run", type=int, default=10, help="screens scrolled one after the other at each place")
    args = parser.parse_args()
    paint_on_one_thread()  # as the app does
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.sqlite3")
        start = time.perf_counter()
        record = build_session(store, args.frames)
        print(f"built a stored Socket.IO session of {record.frame_count:,} frames in "
              f"{time.perf_counter() - start:.1f} s")
        session = StoredSession(store, record)
        decoding = TabDecoding()
        decoding.set_session(session, URL)
        assert decoding.decoder_name == "socket.io"
        views = {"raw": make_view(session, args.rows, None), "decoded": make_view(session, args.rows, decoding)}
        app.processEvents()
        shown = views["decoded"].rowAt(views["decoded"].viewport().height() - 1) + 1
        rng = random.Random(7)
        span = args.rows * args.run
        runs = rng.sample(range(0, len(session) - span, span), 2 * -(-args.screens // args.run))
        places = [start + k * args.rows for start in runs for k in range(args.run)]
        firsts = {"raw": [p for i, p in enumerate(places) if (i // args.run) % 2 == 0][:args.screens],
                  "decoded": [p for i, p in enumerate(places) if (i // args.run) % 2 == 1][:args.screens]}
        clock: dict[str, list[float]] = {"raw": [], "decoded": []}
        cpu: dict[str, list[float]] = {"raw": [], "decoded": []}
        gc.collect()
        gc.freeze()  # as the app does once its window is up (ui/launch.py)
        for round_number in range(args.screens):
            # interleaved, and in turn first, so that neither gets a warmer page cache
            for kind in (("raw", "decoded") if round_number % 2 else ("decoded", "raw")):
                began, began_cpu = time.perf_counter(), time.thread_time()
                paint(views[kind], firsts[kind][round_number])
                clock[kind].append((time.perf_counter() - began) * 1000)
                cpu[kind].append((time.thread_time() - began_cpu) * 1000)
        last = firsts["decoded"][-1]
        sample = [views["decoded"].model().index(last + i, 10).data() for i in range(3)]
        for view in views.values():
            view.close()
        store.close()
    print(f"{args.screens} screens of {shown} painted rows, {args.run} at a time from a new place; decoded rows "
          f"read like {sample[0]!r}")
    print(f"per screen: clock raw median {median(clock['raw']):.2f} ms, decoded median {median(clock['decoded']):.2f} "
          f"ms; CPU raw median {median(cpu['raw']):.2f} ms, decoded median {median(cpu['decoded']):.2f} ms")
    raw99, decoded99 = percentile(clock["raw"], 0.99), percentile(clock["decoded"], 0.99)
    raw_cpu99, decoded_cpu99 = percentile(cpu["raw"], 0.99), percentile(cpu["decoded"], 0.99)
    met = "met" if decoded99 <= 2 * raw99 and decoded99 < 16 else "NOT met"
    met_cpu = "met" if decoded_cpu99 <= 2 * raw_cpu99 and decoded_cpu99 < 16 else "NOT met"
    print(f"painted screens, p99: clock raw {raw99:.2f} ms, decoded {decoded99:.2f} ms, decoded/raw "
          f"{decoded99 / raw99:.2f}x ({met}); CPU raw {raw_cpu99:.2f} ms, decoded {decoded_cpu99:.2f} ms, "
          f"decoded/raw {decoded_cpu99 / raw_cpu99:.2f}x ({met_cpu}; goal <= 2x and < 16 ms)")


if __name__ == "__main__":
    main()
