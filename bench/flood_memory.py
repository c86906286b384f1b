"""Memory under an endless flood: the app's RSS stays flat however long a session runs.

A flood server in another process (see ``_common.py``) sends tiny frames (3 bytes of payload by default) at
the highest rate the client takes, without end. The full app path receives them: AppContext (temporary data
dir) and a MainWindow shown offscreen, connected through ConnectionController.connect_to; every frame goes into
the live log, the 50 ms flush records it to SQLite and feeds the timeline, and the log keeps only a window of
its newest frames in memory (``--no-record``: the connection is not recorded, a live view only).

RSS (VmRSS of this process) is read when the connection opens and then every second. A 10 ms single-shot
timer, re-armed on every timeout, records how late each timeout fires: the event loop must never be more than
50 ms late. At the end the recorded session is read back from the live log at its first, middle and last
frames, to show the frames that left memory are all there.

The last line is the RSS growth and the lateness p99 against their goals (growth < 100 MiB over 60 s, p99
lateness <= 50 ms).

``--trace`` prints each timer that fired more than 16 ms late with what ran meanwhile and the scheduler's account
of its wait (see ``_trace.py``), which steps were in the late turns over the whole run, and each step's CPU time
per call.

    .venv/bin/python bench/flood_memory.py [--seconds 60] [--size 3] [--no-record] [--trace]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path

import _trace
from _common import flood_server, flood_url, fmt_rate, percentile, qt_app
from ingest import LatenessProbe, lateness_line
from PySide6.QtCore import QEventLoop, QTimer, qVersion

from wsinspector.app.connection import WINDOW_BYTES, WINDOW_FRAMES
from wsinspector.app.context import AppContext
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui.main_window import MainWindow

#: frames in the flood server's buffer, sent again and again
BUFFER_FRAMES = 100_000
GOAL_GROWTH_MIB = 100
GOAL_LATENESS_MS = 50
#: --trace: a timer this late has what ran meanwhile printed
TRACE_LATE_MS = 16


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the flood runs (default 60)")
    parser.add_argument("--size", type=int, default=3, help="payload bytes per frame (default 3)")
    parser.add_argument("--no-record", action="store_true", help="a connection that is not recorded")
    parser.add_argument("--trace", action="store_true", help="print what ran in each turn over 16 ms late")
    args = parser.parse_args()
    if args.trace:
        _trace.install()

    app = qt_app()
    with flood_server() as base, \
            tempfile.TemporaryDirectory(prefix="wsi-bench-flood-") as tmp:
        url = flood_url(base, BUFFER_FRAMES, args.size, False, endless=True)
        print(f"flood memory: {args.size} B binary frames without end for {args.seconds:g} s, "
              f"{'not recorded' if args.no_record else 'recorded'}; window {WINDOW_FRAMES:,} frames / "
              f"{WINDOW_BYTES >> 20} MiB; Qt {qVersion()}, platform {app.platformName()}, pid {os.getpid()}",
              flush=True)
        context = AppContext(Path(tmp) / "data")
        window = MainWindow(context)
        window.show()
        app.processEvents()
        gc.collect()
        gc.freeze()  # as the app does once its window is up (wsinspector/cli.py)
        session = context.session
        probe = LatenessProbe(on_late=_trace.late if args.trace else None,
                              on_arm=_trace.armed if args.trace else None)
        opened = QEventLoop()
        session.opened.connect(lambda _info: opened.quit())
        profile = ConnectionProfile(name="flood", endpoint=Endpoint(url))
        if args.no_record:
            profile = profile.with_changes(health={"record": False})
        if not session.connect_to(profile):
            raise RuntimeError("the app refused the flood URL")
        opened.exec()
        start_rss, start = rss_mib(), time.perf_counter()
        probe.start()
        samples: list[tuple[float, int, float]] = []
        while (elapsed := time.perf_counter() - start) < args.seconds:
            wait(1000)
            samples.append((time.perf_counter() - start, len(session.log), rss_mib()))
            if len(samples) % 10 == 0:
                t, frames, rss = samples[-1]
                print(f"  {t:5.1f} s: {frames:>12,} frames, RSS {rss:7.1f} MiB (+{rss - start_rss:.1f}), "
                      f"in memory from seq {session.log.first_held:,}", flush=True)
        probe.stop()
        log, session_id = session.log, session.session_id
        frames = len(log)
        end_rss = rss_mib()
        # the frames that left memory read back through the live session
        spot = [0, frames // 2, frames - 1]
        payloads = [log.payload(seq) for seq in spot]
        dropped = len(log.dropped)
        session.shutdown()
        stored = context.store.stored_frame_count(session_id) if session_id is not None else 0
        window.close()
        context.shutdown()
        window.deleteLater()
        app.processEvents()

    report(samples, elapsed, frames, stored, dropped, spot, payloads, start_rss, end_rss, probe, args.trace)


def report(samples: list[tuple[float, int, float]], elapsed: float, frames: int, stored: int, dropped: int,
           spot: list[int], payloads: list[bytes], start_rss: float, end_rss: float, probe: LatenessProbe,
           trace: bool) -> None:
    seconds = samples[-1][0] if samples else elapsed
    peak = max(rss for _, _, rss in samples) if samples else end_rss
    half = [rss for t, _, rss in samples if t >= seconds / 2]
    print()
    print(f"frames received: {frames:,} in {seconds:.1f} s ({fmt_rate(frames / seconds)} frames/s); "
          f"stored {stored:,}; dropped (not recorded) {dropped:,}")
    print(f"frames read back at seqs {spot}: {[p.hex() for p in payloads]}")
    print(f"RSS: {start_rss:.1f} MiB at open, {end_rss:.1f} MiB at the end, peak {peak:.1f} MiB; "
          f"second half {min(half, default=end_rss):.1f}..{max(half, default=end_rss):.1f} MiB")
    if trace:
        print(f"steps in the turns over {TRACE_LATE_MS} ms late:\n{_trace.summary()}")
    print(f"event-loop lateness, {probe.interval_ms} ms timer: {lateness_line(probe.samples)}")
    growth = end_rss - start_rss
    p99 = percentile(probe.samples, 0.99)
    print(f"RSS growth over {seconds:.0f} s flood: {growth:.1f} MiB (goal < {GOAL_GROWTH_MIB} MiB: "
          f"{'met' if growth < GOAL_GROWTH_MIB else 'NOT met'}); lateness p99 {p99:.1f} ms "
          f"(goal <= {GOAL_LATENESS_MS} ms: {'met' if p99 <= GOAL_LATENESS_MS else 'NOT met'})")



if __name__ == "__main__":
    main()
