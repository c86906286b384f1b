"""A lateness trace for the flood benchmarks: what ran in a turn of the event loop that fired a timer late.

``install()`` wraps the app's own steps on the path of a frame (the Wire engine's pump, the controller's saving
turns and its 50 ms flush, the views' updates, the rate meter, the timeline's paint) and Python's garbage
collections in timing spans, before the window is made (slots are bound when they are connected). ``late(due,
now)`` lists the spans that overlapped a late timer's wait, longest first, and what none of them accounts for.

Spans are wall-clock time, which on a busy machine includes time the thread was not running. So each late
timer also gets the scheduler's account of its wait (``/proc/self/task/<tid>/schedstat``, read when the timer
was armed and when it fired): how long the window's thread ran ("cpu"), how long it was ready to run but waited
for a core ("runqueue": the machine's other processes), and how long it was off the CPU by its own doing
("off": idle in the event loop, or waiting for the GIL), beside how long each other thread of the process ran
meanwhile (the store's writer, the checkpoint thread): the window's thread off the CPU while another thread of
ours runs is a wait for the GIL.
"""

from __future__ import annotations

import gc
import sqlite3
import time
import types
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

#: (start, end, name) of the spans of the last few seconds
SPANS: deque[tuple[float, float, str]] = deque(maxlen=20_000)
#: over the whole run: name -> [count of late turns it was in, ms it took in them]
BLAME: Counter[str] = Counter()
BLAME_MS: Counter[str] = Counter()
_gc_start = [0.0]
#: over the whole run, ms in the late timers' waits: the window's thread running, queued for a core, off the CPU;
#: each other thread running
SCHED_MS: Counter[str] = Counter()
_armed: dict[int, tuple[int, int]] = {}
#: over the whole run, the writer thread's commits: their count, and ms of wall time, running, queued, off the CPU
WRITER_MS: Counter[str] = Counter()


def _schedstat(tid: int) -> tuple[int, int]:
    """(ns run, ns waited on a run queue) of thread ``tid`` of this process."""
    try:
        with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as stat:
            run, wait, _slices = stat.read().split()
    except (OSError, ValueError):
        return (0, 0)
    return int(run), int(wait)


def _threads() -> dict[int, str]:
    import threading  # noqa: PLC0415

    return {thread.native_id: ("window" if thread is threading.main_thread() else thread.name)
            for thread in threading.enumerate() if thread.native_id is not None}


def armed() -> None:
    """The lateness timer was armed: note each thread's scheduler counters."""
    _armed_at[0] = time.perf_counter()
    _armed.clear()
    for tid in _threads():
        _armed[tid] = _schedstat(tid)


def _sched_line(waited_ms: float) -> str:
    parts = []
    for tid, name in _threads().items():
        if tid not in _armed:
            continue
        run, wait = _schedstat(tid)
        ran, queued = (run - _armed[tid][0]) / 1e6, (wait - _armed[tid][1]) / 1e6
        if name == "window":
            off = max(0.0, waited_ms - ran - queued)
            SCHED_MS["window: cpu"] += ran
            SCHED_MS["window: runqueue"] += queued
            SCHED_MS["window: off cpu"] += off
            parts.insert(0, f"window cpu {ran:.1f} runqueue {queued:.1f} off {off:.1f}")
        elif ran >= 0.5:
            SCHED_MS[f"{name}: cpu"] += ran
            parts.append(f"{name} cpu {ran:.1f}")
    return "; sched over the wait: " + ", ".join(parts)


#: over the whole run, each step's CPU time (ms of the thread running it) per call: the scheduler cannot stretch
#: these, so they say what a turn costs however busy the machine is
CPU_MS: dict[str, list[float]] = {}


def _wrap(owner: type, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            SPANS.append((start, time.perf_counter(), label))
            CPU_MS.setdefault(label, []).append((time.thread_time() - cpu) * 1000)

    timed.__name__ = original.__name__
    setattr(owner, name, timed)


def _gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_start[0] = time.perf_counter()
    else:
        SPANS.append((_gc_start[0], time.perf_counter(), f"gc gen{info.get('generation')}"))


def install() -> None:
    from wsinspector.app.connection import ConnectionController  # noqa: PLC0415
    from wsinspector.net.wire import WireConnection  # noqa: PLC0415
    from wsinspector.ui.inspector import InspectorPage  # noqa: PLC0415
    from wsinspector.ui.main_window import MainWindow  # noqa: PLC0415
    from wsinspector.ui.timeline import TimelineView  # noqa: PLC0415

    for owner, name, label in (
        (WireConnection, "_pump", "pump"),
        (ConnectionController, "_save_backlog", "save turn"),
        (ConnectionController, "_flush_slice", "flush"),
        (ConnectionController, "_on_received", "after pump"),
        (ConnectionController, "_sample_rates", "rates"),
        (InspectorPage, "on_frames_appended", "page: frames appended"),
        (InspectorPage, "on_rates", "page: rates"),
        (MainWindow, "_on_frames_appended", "window: frames appended"),
        (MainWindow, "_on_rates_changed", "window: rates"),
        (TimelineView, "paintEvent", "timeline paint"),
    ):
        if hasattr(owner, name):
            _wrap(owner, name, label)
    # steps inside those (counted apart: "in ..." spans are part of an outer one)
    from wsinspector.core import store  # noqa: PLC0415
    from wsinspector.core.log import FrameLog  # noqa: PLC0415

    for owner, name, label in (
        (store.Store, "append_live", "in save: store write"),
        (store.Store, "stored_bytes", "in: stored bytes"),
        (FrameLog, "columns", "in save: log columns"),
        (FrameLog, "keep_window", "in flush: keep window"),
        (store._Transaction, "__exit__", "in save: commit"),
    ):
        _wrap(owner, name, label)
    _wrap_function(store, "pack_columns", "in save: pack")
    from wsinspector.core import writer  # noqa: PLC0415

    batched = hasattr(writer.FrameWriter, "_commit_batch")
    commit = writer.FrameWriter._commit_batch if batched else writer.FrameWriter._commit

    def timed_commit(*args: Any) -> Any:
        import threading  # noqa: PLC0415

        tid = threading.get_native_id()
        start, (run, queued) = time.perf_counter(), _schedstat(tid)
        try:
            return commit(*args)
        finally:
            end, (run_end, queued_end) = time.perf_counter(), _schedstat(tid)
            SPANS.append((start, end, "thread: writer commit"))
            ran, waited = (run_end - run) / 1e6, (queued_end - queued) / 1e6
            WRITER_MS["commits"] += 1
            WRITER_MS["wall"] += (end - start) * 1000
            WRITER_MS["cpu"] += ran
            WRITER_MS["runqueue"] += waited
            WRITER_MS["off cpu (GIL, disk)"] += max(0.0, (end - start) * 1000 - ran - waited)

    if batched:
        writer.FrameWriter._commit_batch = timed_commit  # type: ignore[method-assign]
    else:
        writer.FrameWriter._commit = staticmethod(timed_commit)  # type: ignore[method-assign]
    gc.callbacks.append(_gc)
    _time_checkpoints()


class _TimedConnection:
    """The checkpoint thread's connection, its statements timed ("thread:" spans run beside the window's)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return self._db.execute(sql, *args)
        finally:
            SPANS.append((start, time.perf_counter(), "thread: checkpoint"))

    def close(self) -> None:
        self._db.close()


def _time_checkpoints() -> None:
    from wsinspector.app import checkpoint  # noqa: PLC0415

    connect = sqlite3.connect
    checkpoint.sqlite3 = types.SimpleNamespace(  # type: ignore[assignment]
        connect=lambda *args, **kwargs: _TimedConnection(connect(*args, **kwargs)), Error=sqlite3.Error)


def _wrap_function(module: Any, name: str, label: str) -> None:
    original = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            SPANS.append((start, time.perf_counter(), label))
            CPU_MS.setdefault(label, []).append((time.thread_time() - cpu) * 1000)

    setattr(module, name, timed)


def late(due: float, now: float) -> str:
    """The spans that overlapped the wait from ``due`` to ``now``, longest first, as one line."""
    took: Counter[str] = Counter()
    for start, end, name in list(SPANS):
        overlap = min(end, now) - max(start, due)
        if overlap > 0:
            took[name] += overlap * 1000
    for name, ms in took.items():
        BLAME[name] += 1
        BLAME_MS[name] += ms
    accounted = sum(ms for name, ms in took.items() if not name.startswith(("gc", "in", "thread")))
    parts = [f"{name} {ms:.1f}" for name, ms in took.most_common() if ms >= 0.5]
    return (f"{(now - due) * 1000:6.1f} ms late: " + ", ".join(parts)
            + f"; not in a span {max(0.0, (now - due) * 1000 - accounted):.1f}" + _sched_line(_waited_ms(now)))


def _waited_ms(now: float) -> float:
    return (now - _armed_at[0]) * 1000


_armed_at = [0.0]


def summary() -> str:
    return "\n".join([f"  {name}: in {BLAME[name]} late turns, {BLAME_MS[name]:.0f} ms in all"
                      for name, _ in BLAME_MS.most_common()]
                     + ["  the scheduler over those timers' waits (armed to fired): "
                        + ", ".join(f"{name} {ms:.0f} ms" for name, ms in SCHED_MS.most_common()),
                        "  CPU ms per call over the whole run (p50 / p99 / max, calls):"]
                     + [f"    {name}: {_pct(ms, 0.5):.2f} / {_pct(ms, 0.99):.2f} / {max(ms):.2f}, {len(ms):,}"
                        for name, ms in sorted(CPU_MS.items(), key=lambda item: -max(item[1]))]
                     + ["  the writer's commits over the whole run: "
                        + ", ".join(f"{name} {ms:.0f}" for name, ms in WRITER_MS.items())])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
