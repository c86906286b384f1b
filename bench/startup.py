"""Start-up: from process start to the main window painted, against a minimal PySide6 window (the floor).

Three programs, started in turn (interleaved rounds, so all see the same machine load), each printing one
line when its main window first paints:
  (a) the floor: a script that opens an empty ``QMainWindow`` with a label;
  (b) wsinspector from the venv (``wsinspector --smoke-test``, which prints when the window has painted,
      and again when its pages have painted over the store: "window ready");
  (c) the frozen build in ``dist/wsinspector`` (``packaging/build.py onedir``), when it exists.
Every program gets one warm-up start first (disk caches). wsinspector runs on a data folder made once, so
it starts like a user's second start. Prints, last, the ratios of the medians against the floor
(goal: (b)/(a) <= 1.3, (c)/(a) <= 1.5), and the same for the pages.

    .venv/bin/python bench/startup.py [--rounds N] [--frozen DIR] [--platform offscreen|xcb]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _common import median  # noqa: E402

MARKER = "smoke test: window shown"
READY = "smoke test: window ready"
FLOOR = f"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

class Shown(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            print("floor: {MARKER}", flush=True)
            QTimer.singleShot(0, app.quit)
            watched.removeEventFilter(self)
        return False

app = QApplication(sys.argv)
window = QMainWindow()
window.setCentralWidget(QLabel("floor"))
window.resize(1280, 800)
shown = Shown()
window.installEventFilter(shown)
window.show()
app.exec()
"""


def time_to_window(command: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds from starting ``command`` to its line saying the window was shown, and to the line saying its
    pages were (None for a program that has none); the process is then left to finish (not timed)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    shown = ready = None
    for line in proc.stdout:
        if MARKER in line:
            shown = time.perf_counter() - start
            if command[1:2] == ["-c"]:  # the floor has no pages
                break
        elif READY in line:
            ready = time.perf_counter() - start
            break
    proc.stdout.read()
    code = proc.wait(timeout=120)
    if shown is None:
        raise SystemExit(f"{command[0]} exited {code} without showing its window")
    return shown, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--frozen", type=Path, default=ROOT / "dist" / "wsinspector",
                        help="the onedir of the frozen build (default: dist/wsinspector)")
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                        help="Qt platform plugin (offscreen, or xcb under a display)")
    args = parser.parse_args()

    env = {**os.environ, "QT_QPA_PLATFORM": args.platform}
    data_dir = Path(tempfile.mkdtemp(prefix="wsinspector-bench-startup-"))
    programs: dict[str, list[str]] = {
        "floor": [sys.executable, "-c", FLOOR],
        "venv": [str(Path(sys.executable).parent / "wsinspector"), "--smoke-test", "--data-dir", str(data_dir)],
    }
    frozen = args.frozen / ("wsinspector.exe" if os.name == "nt" else "wsinspector")
    if frozen.exists():
        programs["frozen"] = [str(frozen), "--smoke-test", "--data-dir", str(data_dir)]
    else:
        print(f"no frozen build at {frozen} (python packaging/build.py onedir): measuring (a) and (b) only")

    times: dict[str, list[float]] = {name: [] for name in programs}
    ready: dict[str, list[float]] = {name: [] for name in programs}
    for command in programs.values():  # warm-up: disk caches, the data folder's first start
        time_to_window(command, env)
    for _ in range(args.rounds):
        for name, command in programs.items():
            shown, pages = time_to_window(command, env)
            times[name].append(shown)
            if pages is not None:
                ready[name].append(pages)

    floor = median(times["floor"])
    for name, values in times.items():
        line = (f"{name:>7}: window shown, median {median(values) * 1000:7.1f} ms  "
                f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f}, {len(values)} starts)")
        if ready[name]:
            line += f"; pages shown, median {median(ready[name]) * 1000:.1f} ms"
        print(line)
    ratios = [f"venv/floor {median(times['venv']) / floor:.2f} (goal <= 1.3)"]
    if "frozen" in times:
        ratios.append(f"frozen/floor {median(times['frozen']) / floor:.2f} (goal <= 1.5)")
    pages = [f"{name}/floor {median(ready[name]) / floor:.2f}" for name in ("venv", "frozen") if ready.get(name)]
    print("; ".join(ratios) + "; pages shown: " + ", ".join(pages))


if __name__ == "__main__":
    main()
