"""A lateness trace for the flood benchmarks: what ran in a turn of the event loop that fired a timer late.

``install()`` wraps the app's own steps on the path of a frame (the Wire engine's pump, the controller's saving
turns and its 50 ms flush, the views' updates, the rate meter, the timeline's paint) and Python's garbage
collections in timing spans, before the window is made (slots are bound when they are connected). ``late(due,
now)`` lists the spans that overlapped a late timer's wait, longest first, and what none of them accounts for.
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


def _wrap(owner: type, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SPANS.append((start, time.perf_counter(), label))

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
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SPANS.append((start, time.perf_counter(), label))

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
            + f"; not in a span {max(0.0, (now - due) * 1000 - accounted):.1f}")


def summary() -> str:
    return "\n".join(f"  {name}: in {BLAME[name]} late turns, {BLAME_MS[name]:.0f} ms in all"
                     for name, _ in BLAME_MS.most_common())
