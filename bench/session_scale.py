"""A session of a million frames: open it, filter it, and what each live frame costs in memory.

Builds a stored session of N frames (default 1,000,000) straight through Store.create_session and
Store.append_frames, in a temporary directory: mixed directions, mostly text with some binary frames,
64-byte payloads, about 1% of them holding the needle ``needle-42``. Then measures:

1. open: StoredSession(store, record) + TimelineModel.set_source + a TimelineView shown offscreen, until
   the view has painted its first screen (target < 1 s);
2. filter by a substring: Store.filter_seqs over the whole session (the stored chunks searched as a whole,
   see core/filters.chunk_matches), for the default (case-insensitive, what the filter bar applies) and a
   case-sensitive filter; ChunkedScan over Store.scan_frames (the filter's matcher frame by frame); and the
   app's own filter task (SessionsController.filter_task) run by the event loop (target < 1 s);
3. memory per live frame beyond payload: a FrameLog of N 64-byte frames, by FrameLog.nbytes()/len and by
   tracemalloc growth per frame minus the payload bytes (target <= 100 B).

Baseline, measured interleaved with the filters: ``SELECT count(*) FROM chunks WHERE instr(payload, ?)``
on a separate sqlite3 connection to the same file, the floor cost of touching every stored payload byte. The last line
gives the open time, the default filter's time and its ratio to that bare scan.

    .venv/bin/python bench/session_scale.py [--frames 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import fmt_rate, median, qt_app
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

from wsinspector.core.filters import ChunkedScan, FrameFilter
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.model import header
from wsinspector.core.store import FrameRow, SessionRecord, SessionStatus, Store
from wsinspector.core.stored import StoredSession
from wsinspector.ui.timeline import TimelineModel, TimelineView

NEEDLE = "needle-42"
SIZE = 64
BATCH = 20_000
_FILLER = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " * 2


def payload(i: int) -> bytes:
    """64 ASCII bytes; every 100th frame (i % 100 == 42) holds the needle."""
    head = b"%09d " % i
    if i % 100 == 42:
        head += NEEDLE.encode() + b" "
    return (head + _FILLER)[:SIZE]


def shape(i: int) -> tuple[Direction, Opcode]:
    direction = Direction.OUT if i % 3 == 0 else Direction.IN
    opcode = Opcode.BINARY if i % 10 == 7 else Opcode.TEXT
    return direction, opcode


_META = {(d, o): header.pack(d, o, True, False, False, False, d is Direction.OUT) for d in Direction
         for o in (Opcode.TEXT, Opcode.BINARY)}


def build_session(store: Store, frames: int) -> SessionRecord:
    started_ns = time.monotonic_ns()
    session_id = store.create_session("scale", "ws://bench.invalid/", time.time(), started_ns)
    for first in range(0, frames, BATCH):
        rows: list[FrameRow] = []
        for i in range(first, min(first + BATCH, frames)):
            rows.append((i, started_ns + i * 1000, _META[shape(i)], SIZE, None, None, payload(i)))
        store.append_frames(session_id, rows)
    store.finish_session(session_id, SessionStatus.CLOSED, time.time(), 1000, "")
    record = store.session(session_id)
    assert record is not None
    return record


# -- 1. open to a painted timeline --------------------------------------------------------------------


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def open_round(store: Store, record: SessionRecord) -> tuple[list[float], int, int]:
    """Seconds from StoredSession() to the first painted screen, and its parts: [total, StoredSession(),
    model and view, show and paint]; rows the view shows; paint events."""
    app = qt_app()
    gc.collect()
    counter = PaintCounter()
    start = time.perf_counter()
    stored = StoredSession(store, record)
    constructed = time.perf_counter()
    model = TimelineModel()
    model.set_source(stored)
    view = TimelineView(model)
    view.viewport().installEventFilter(counter)
    view.resize(1100, 700)
    made = time.perf_counter()
    view.show()
    app.processEvents()
    if counter.paints == 0:
        view.viewport().repaint()
    end = time.perf_counter()
    parts = [end - start, constructed - start, made - constructed, end - made]
    visible = view.rowAt(view.viewport().height() - 1) - view.rowAt(0) + 1
    if model.rowCount() != record.frame_count or counter.paints == 0:
        raise RuntimeError(f"open: {model.rowCount():,} rows, {counter.paints} paints")
    view.viewport().removeEventFilter(counter)
    view.close()
    view.deleteLater()
    app.processEvents()
    return parts, visible, counter.paints


# -- 2. filter ----------------------------------------------------------------------------------------


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    count = fn()
    return time.perf_counter() - start, count


def app_filter_task(store: Store, record: SessionRecord, flt: FrameFilter) -> int:
    """The app's own path: SessionsController.filter_task over a StoredSession, run slice by slice by the
    event loop."""
    from wsinspector.app.sessions import SessionsController  # noqa: PLC0415 (app layer: being edited)

    controller = SessionsController(store)
    stored = StoredSession(store, record)
    task = controller.filter_task(stored, flt)
    loop = QEventLoop()
    result: dict[str, Any] = {}

    def done(value: object) -> None:
        result["rows"] = value
        loop.quit()

    def failed(message: str) -> None:
        result["error"] = message
        loop.quit()

    task.finished.connect(done)
    task.failed.connect(failed)
    QTimer.singleShot(120_000, loop.quit)
    task.start()
    loop.exec()
    task.deleteLater()
    if "rows" not in result:
        raise RuntimeError(result.get("error", "the filter task did not finish"))
    rows, _upto = result["rows"]
    return len(rows)


# -- 3. memory of the live log ------------------------------------------------------------------------


def live_frames(count: int) -> list[Frame]:
    """``count`` distinct frames as QtConnection reports them: outgoing ones masked (key unseen),
    incoming ones with their wire length known."""
    now = time.monotonic_ns()
    frames = []
    for i in range(count):
        direction, opcode = shape(i)
        out = direction is Direction.OUT
        frames.append(Frame(seq=-1, ts_ns=now + i * 1000, direction=direction, opcode=opcode, payload=payload(i),
                            fin=True, rsv1=False if out else None, rsv2=False if out else None,
                            rsv3=False if out else None, masked=True if out else None, payload_length=SIZE))
    return frames


def log_memory(frames: int) -> tuple[float, float, float]:
    """(FrameLog.nbytes()/len, tracemalloc growth per frame minus payload, seconds to append all).

    The log copies what it keeps out of each Frame, so a cycle of 1,000 prepared frames stands for a
    million: tracemalloc then traces the log's own allocations, not the making of a million Frames.
    """
    cycle = live_frames(1000)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    log = FrameLog()
    append = log.append
    start = time.perf_counter()
    for lap in range(0, frames, len(cycle)):
        for frame in cycle[: frames - lap]:
            append(frame)
    elapsed = time.perf_counter() - start
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(log) == frames
    return log.nbytes() / len(log), (grown - log.payload_bytes) / len(log), elapsed


# -- main ---------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:  # noqa: C901, PLR0915
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames in the session (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measurement (default 3)")
    args = parser.parse_args()
    qt_app()
    frames = args.frames
    expected = sum(1 for i in range(frames) if i % 100 == 42)

    with tempfile.TemporaryDirectory(prefix="wsi-bench-scale-") as tmp:
        path = Path(tmp) / "scale.sqlite3"
        store = Store(path)
        gc.collect()
        start = time.perf_counter()
        record = build_session(store, frames)
        built = time.perf_counter() - start
        size_mb = path.stat().st_size / 1e6
        print(f"session_scale: built {record.frame_count:,} frames ({SIZE} B payloads, {expected:,} with "
              f"{NEEDLE!r}) via Store.append_frames in {built:.1f} s ({fmt_rate(frames / built)} frames/s), "
              f"{size_mb:.0f} MB file", flush=True)

        # 1. open
        opens: list[float] = []
        parts: list[list[float]] = []
        for _ in range(args.rounds):
            timing, visible, paints = open_round(store, record)
            opens.append(timing[0])
            parts.append(timing[1:])
        split = ", ".join(f"{label} {median([p[k] for p in parts]) * 1000:.0f} ms" for k, label in
                          enumerate(("StoredSession() (counts the rows)", "model + view", "show + first paint")))
        print(f"open to painted timeline: {', '.join(f'{t * 1000:.0f}' for t in opens)} ms; medians: {split} "
              f"(first screen {visible} rows, {paints} paint event(s))", flush=True)

        # 2. filter, interleaved with the bare scan
        bare_db = sqlite3.connect(path)
        needle = NEEDLE.encode()
        last = record.frame_count - 1
        sid = record.id
        default = FrameFilter(text=NEEDLE)
        exact = FrameFilter(text=NEEDLE, case_sensitive=True)
        chunk_count = int(bare_db.execute("SELECT count(*) FROM chunks").fetchone()[0])

        def bare() -> int:
            found = int(bare_db.execute("SELECT count(*) FROM chunks WHERE instr(payload, ?)", (needle,))
                        .fetchone()[0])
            return expected if found == chunk_count else -found  # every chunk holds the needle

        def store_default() -> int:
            return len(store.filter_seqs(sid, default, 0, last))

        def store_exact() -> int:
            return len(store.filter_seqs(sid, exact, 0, last))

        def chunked() -> int:
            scan = ChunkedScan(default, record.frame_count, lambda a, b: store.scan_frames(sid, a, b))
            matches: array[int] = scan.run()
            return len(matches)

        def app_task() -> int:
            return app_filter_task(store, record, default)

        methods: list[tuple[str, Callable[[], int]]] = [
            ("bare scan: SELECT count(*) FROM chunks WHERE instr(payload, ?)", bare),
            ("Store.filter_seqs, default filter (case-insensitive)", store_default),
            ("Store.filter_seqs, case-sensitive filter", store_exact),
            ("ChunkedScan over Store.scan_frames, default filter", chunked),
            ("app: SessionsController.filter_task via the event loop", app_task),
        ]
        times: dict[str, list[float]] = {name: [] for name, _ in methods}
        skipped: dict[str, str] = {}
        bare()  # warm the page cache once for everyone
        for _ in range(args.rounds):
            for name, fn in methods:
                if name in skipped:
                    continue
                try:
                    elapsed, count = timed(fn)
                except Exception as exc:  # the app layer is being edited: report, do not stop
                    skipped[name] = f"{type(exc).__name__}: {exc}"
                    continue
                if count != expected:
                    raise RuntimeError(f"{name}: {count:,} matches, expected {expected:,}")
                times[name].append(elapsed)
        bare_db.close()
        print(f"filter {NEEDLE!r} over {record.frame_count:,} frames ({expected:,} matches), median of "
              f"{args.rounds} interleaved rounds:")
        for name, _ in methods:
            if name in skipped:
                print(f"  {name}: skipped ({skipped[name]})")
                continue
            values = times[name]
            print(f"  {name}: {median(values) * 1000:,.0f} ms  [{', '.join(f'{t * 1000:.0f}' for t in values)}]")
        store.close()

    # 3. memory
    nbytes_per, traced_per, append_s = log_memory(frames)
    print(f"live FrameLog of {frames:,} × {SIZE} B frames: nbytes()/len {nbytes_per:.1f} B/frame; tracemalloc "
          f"growth minus payload {traced_per:.1f} B/frame (appending took {append_s:.1f} s under tracemalloc)")

    open_ms = median(opens) * 1000
    filter_s = median(times[methods[1][0]])
    bare_s = median(times[methods[0][0]])
    chunk_s = median(times[methods[3][0]])
    task_s = median(times[methods[4][0]])
    print(f"targets: open < 1 s {verdict(open_ms < 1000)}; store filter < 1 s {verdict(filter_s < 1)} "
          f"(case-sensitive {verdict(median(times[methods[2][0]]) < 1)}); chunked scan < 1 s {verdict(chunk_s < 1)}; "
          f"app filter task < 1 s {verdict(task_s < 1)}; memory <= 100 B/frame "
          f"{verdict(max(nbytes_per, traced_per) <= 100)}")
    print(f"session_scale: open {open_ms:.0f} ms, filter {filter_s * 1000:.0f} ms; filter/bare-scan ratio "
          f"{filter_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
