"""A test run waiting through a flood, against the window's app path on the same flood.

A flood server in another process (see ``_common.py``) writes N pre-encoded server frames and a close frame
right behind its 101 answer. Interleaved rounds (a, b, a, b, ...) measure:

(a) the window's app path, as ``ingest.py`` does: AppContext and a MainWindow shown offscreen, connected
    through ConnectionController.connect_to; the clock stops when the flush that carries the N-th frame has
    written it to SQLite and told the views;
(b) ``wsinspector run``'s path: a ReplayController (recording into a store, as the command does by default)
    running a test of one step, a ``wait`` until the flood's last message (an exact ``binary``, or ``text``
    with ``--text``, matcher); the clock stops when that step passes.

Both clocks start when the handshake completes. The last line is the ratio of the medians, run/app (goal:
0.8 or more).

    .venv/bin/python bench/replay_flood.py [--frames 300000] [--size 64] [--text] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import flood_payload, flood_server, flood_url, fmt_rate, median, qt_app
from ingest import AppRun, RoundResult, _run_loop
from PySide6.QtCore import QEventLoop, qVersion

from wsinspector.app.replayer import ReplayController
from wsinspector.core.scenario.model import BytesMatcher, Scenario, TextMatcher, WaitStep
from wsinspector.core.scenario.verdict import Verdict
from wsinspector.core.store import Store

ROUND_TIMEOUT_S = 120


def run_round(url: str, frames: int, size: int, text: bool, store: Store) -> RoundResult:
    last = flood_payload(frames - 1, size)
    matcher = TextMatcher(last.decode("ascii")) if text else BytesMatcher(last)
    test = Scenario("flood", url, (WaitStep(until=matcher, timeout_s=ROUND_TIMEOUT_S, name="the last message"),))
    controller = ReplayController(test, store=store, replay_of="bench/replay_flood.py")
    marks: dict[str, float] = {}
    verdicts: list[Verdict] = []
    loop = QEventLoop()

    def on_step(step: object) -> None:
        marks.setdefault("done", time.perf_counter())
        verdicts.append(step.status)  # type: ignore[attr-defined]

    controller.opened.connect(lambda _info: marks.setdefault("open", time.perf_counter()))
    controller.step_finished.connect(on_step)
    controller.finished.connect(lambda _result: loop.quit())
    controller.start()
    _run_loop(loop, "run path")
    result = controller.result
    controller.deleteLater()
    if verdicts != [Verdict.PASSED] or "open" not in marks:
        raise RuntimeError(f"the run did not pass: {result}")
    return RoundResult(frames, marks["done"] - marks["open"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300_000, help="frames per round (default 300,000)")
    parser.add_argument("--size", type=int, default=64, help="payload bytes per frame (default 64)")
    parser.add_argument("--text", action="store_true", help="text frames instead of binary")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each path (default 3)")
    args = parser.parse_args()

    app = qt_app()
    kind = "text" if args.text else "binary"
    warm = max(1000, args.frames // 10)
    with flood_server([(args.frames, args.size, args.text), (warm, args.size, args.text)]) as base, \
            tempfile.TemporaryDirectory(prefix="wsi-bench-replay-") as tmp:
        url = flood_url(base, args.frames, args.size, args.text)
        warm_url = flood_url(base, warm, args.size, args.text)
        print(f"replay_flood: {args.frames:,} × {args.size} B {kind} frames per round, {args.rounds} rounds of "
              f"each path, interleaved; Qt {qVersion()}, platform {app.platformName()}, pid {os.getpid()}")
        window = AppRun(Path(tmp) / "data", "wire")
        store = Store(Path(tmp) / "run.sqlite3")
        try:
            window.round(warm_url, warm)
            run_round(warm_url, warm, args.size, args.text, store)
            apps: list[RoundResult] = []
            runs: list[RoundResult] = []
            for number in range(1, args.rounds + 1):
                a = window.round(url, args.frames)
                apps.append(a)
                b = run_round(url, args.frames, args.size, args.text, store)
                runs.append(b)
                print(f"  round {number}: (a) app {fmt_rate(a.rate)} frames/s ({a.seconds:.2f} s)   "
                      f"(b) run {fmt_rate(b.rate)} frames/s ({b.seconds:.2f} s)   b/a {b.rate / a.rate:.2f}",
                      flush=True)
        finally:
            store.close()
            window.close()

    app_rate = median([r.rate for r in apps])
    run_rate = median([r.rate for r in runs])
    ratio = run_rate / app_rate
    print()
    print(f"(a) the window's app path (log + SQLite + timeline): median {fmt_rate(app_rate)} frames/s")
    print(f"(b) wsinspector run, a wait through the flood:       median {fmt_rate(run_rate)} frames/s")
    print(f"target: (b)/(a) >= 0.8 {'met' if ratio >= 0.8 else 'NOT met'}")
    print(f"replay ratio run/app ({args.size} B {kind} frames): {ratio:.2f}")


if __name__ == "__main__":
    main()
