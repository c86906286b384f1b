"""The message view over a stored session of a million frames: switching to it, painting it, scrolling it.

Builds a stored session of N frames (default 1,000,000) in a temporary directory: 64-byte text frames in both
directions, every tenth message sent as three fragments (text, continuation, continuation). Then measures, for
a TimelineModel and TimelineView over a StoredSession shown offscreen:

1. switch: ``TimelineModel.set_messages(True)`` (the rows read from the chunks' header columns alone, with
   numpy) until the view has painted again (target < 1 s);
2. scroll: jump to the last row, the middle and the first, each painted (target < 100 ms each);
3. memory: the bytes the rows take (8 per row; no object per row).

The baseline, measured in the same run: opening the frame view of the same session and painting it. The
last line gives the switch's time and its ratio to that baseline.

    .venv/bin/python bench/message_view.py [--frames 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import qt_app

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.store import FrameRow, SessionRecord, SessionStatus, Store
from wsinspector.core.stored import StoredSession
from wsinspector.ui.timeline import TimelineModel, TimelineView

BATCH = 20_000
SIZE = 64


def shape(i: int) -> tuple[Direction, Opcode, bool]:
    """Direction, opcode and FIN of frame ``i``: frames 30k..30k+2 are one message in three fragments."""
    direction = Direction.OUT if (i // 3) % 2 else Direction.IN
    if i % 30 < 3:
        return direction, (Opcode.TEXT if i % 30 == 0 else Opcode.CONTINUATION), i % 30 == 2
    return (Direction.OUT if i % 3 == 0 else Direction.IN), Opcode.TEXT, True


def build_session(store: Store, frames: int) -> SessionRecord:
    started_ns = time.monotonic_ns()
    session_id = store.create_session("messages", "ws://bench.invalid/", time.time(), started_ns)
    for first in range(0, frames, BATCH):
        rows: list[FrameRow] = []
        for i in range(first, min(first + BATCH, frames)):
            direction, opcode, fin = shape(i)
            meta = header.pack(direction, opcode, fin, False, False, False, direction is Direction.OUT)
            rows.append((i, started_ns + i * 1000, meta, SIZE, None, None, (b"%09d " % i).ljust(SIZE, b"x")))
        store.append_frames(session_id, rows)
    store.finish_session(session_id, SessionStatus.CLOSED, time.time(), 1000, "")
    record = store.session(session_id)
    assert record is not None
    return record


def painted(view: TimelineView) -> None:
    view.viewport().repaint()
    qt_app().processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1_000_000)
    args = parser.parse_args()
    qt_app()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.db")
        t0 = time.perf_counter()
        record = build_session(store, args.frames)
        print(f"built {args.frames:,} frames in {time.perf_counter() - t0:.1f} s")
        store.close()
        store = Store(Path(folder) / "bench.db")
        stored = StoredSession(store, record)
        model = TimelineModel()
        view = TimelineView(model)
        view.resize(1100, 700)
        view.show()
        painted(view)
        # the baseline: the frame view of the same session, opened and painted
        start = time.perf_counter()
        model.set_source(stored)
        painted(view)
        baseline = time.perf_counter() - start
        print(f"frame view opened: {baseline * 1000:.0f} ms")

        start = time.perf_counter()
        model.set_messages(True)
        painted(view)
        switch = time.perf_counter() - start
        rows = model.rowCount()
        expected = args.frames - 2 * (args.frames // 30)
        if abs(rows - expected) > 2:
            raise RuntimeError(f"{rows:,} message rows, expected about {expected:,}")
        print(f"switch to messages: {switch * 1000:.0f} ms for {rows:,} rows ({'ok' if switch < 1 else 'SLOW'})")

        for name, row in (("last", rows - 1), ("middle", rows // 2), ("first", 0)):
            start = time.perf_counter()
            view.scrollTo(model.index(row, 0))
            painted(view)
            took = time.perf_counter() - start
            print(f"scroll to the {name} row: {took * 1000:.1f} ms ({'ok' if took < 0.1 else 'SLOW'})")
        shown = model.data(model.index(0, 3))
        print(f"first row: {shown!r}; rows take {rows * 8 / 1e6:.1f} MB (8 bytes a row)")
        start = time.perf_counter()
        model.set_messages(False)
        painted(view)
        print(f"back to frames: {(time.perf_counter() - start) * 1000:.0f} ms")
        print(f"RESULT message view over {args.frames:,} stored frames: switch {switch * 1000:.0f} ms, "
              f"{switch / baseline:.1f}x opening the frame view")
        view.close()
        store.close()


if __name__ == "__main__":
    main()
