"""The window under a flood that lasts: how long it freezes, and how much memory it takes, per engine.

The flood server (``_common.py``, in its own process) writes 64-byte binary frames as fast as the client reads
them for ``--seconds`` (10 by default), then a close frame. Each engine is measured in a fresh process of its
own (so that its peak memory is its own): the app (AppContext, a temporary data dir, the MainWindow shown
offscreen) connects through ConnectionController.connect_to and records every frame (log, SQLite, timeline).

A 10 ms single-shot timer, re-armed on every timeout, records how late each timeout fires from the handshake
until the connection has closed: its worst lateness is the longest the window could not paint or take input.
Peak memory is the process's peak resident size (``ru_maxrss``).

The Wire engine is the baseline; the last line is the ratio of the worst lateness, Qt engine / Wire engine.

    .venv/bin/python bench/flood_window.py [--seconds 10] [--size 64] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import flood_server, flood_url, median, percentile, qt_app
from ingest import LatenessProbe, _run_loop
from PySide6.QtCore import QEventLoop

from wsinspector.app.context import AppContext
from wsinspector.core.events import ConnectionState
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Protocol
from wsinspector.ui.main_window import MainWindow

BATCH_FRAMES = 10_000  # the frames the server sends again and again (its writes are 1 MiB at a time)


def _child(engine: str, url: str) -> None:
    app = qt_app()
    with tempfile.TemporaryDirectory() as data_dir:
        context = AppContext(Path(data_dir))
        window = MainWindow(context)
        window.show()
        app.processEvents()
        session = context.session
        probe = LatenessProbe()
        loop = QEventLoop()
        marks: dict[str, float] = {}
        session.opened.connect(lambda _info: (marks.__setitem__("open", time.perf_counter()), probe.start()))
        session.state_changed.connect(lambda state: loop.quit() if state is ConnectionState.CLOSED else None)
        profile = ConnectionProfile(name="flood", endpoint=Endpoint(url), protocol=Protocol(engine=engine))
        if not session.connect_to(profile):
            raise SystemExit("the app refused the flood URL")
        _run_loop(loop, f"{engine} engine")
        probe.stop()
        elapsed = time.perf_counter() - marks.get("open", time.perf_counter())
        frames = len(session.log)
        samples = probe.samples or [0.0]
        result = {"engine": engine, "frames": frames, "seconds": elapsed, "worst_ms": max(samples),
                  "p99_ms": percentile(samples, 0.99), "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                  / (1024 * 1024 if sys.platform == "darwin" else 1024)}
        window.close()
        context.shutdown()
    print("RESULT " + json.dumps(result), flush=True)


def _measure(engine: str, url: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", engine, url], capture_output=True, text=True,
                         check=False, timeout=600)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, float] = json.loads(line[len("RESULT "):])
            return result
    raise RuntimeError(f"{engine} engine round failed:\n{out.stdout}\n{out.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    worst: dict[str, list[float]] = {"wire": [], "qt": []}
    with flood_server([(BATCH_FRAMES, args.size, False)]) as base:
        url = flood_url(base, BATCH_FRAMES, args.size, False, seconds=args.seconds)
        for _ in range(args.rounds):
            for engine in ("wire", "qt"):
                r = _measure(engine, url)
                worst[engine].append(r["worst_ms"])
                print(f"{engine:>4} engine: {r['frames']:>10,.0f} frames in {r['seconds']:5.1f} s, window late by "
                      f"at most {r['worst_ms']:7.0f} ms (p99 {r['p99_ms']:5.0f} ms), peak memory "
                      f"{r['peak_mib']:5.0f} MiB", flush=True)
    ratio = median(worst["qt"]) / max(median(worst["wire"]), 1e-9)
    print(f"worst lateness under a {args.seconds:g} s flood, Qt engine / Wire engine: {ratio:.2f}x")


if __name__ == "__main__":
    main()
