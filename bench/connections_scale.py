"""Ten thousand saved connections: importing them (window and command line) and renaming their folder.

Writes a wsinspector connections file of N connections (default 10,000), each in a folder of its own under
"Bulk" (``Bulk/F0`` … ``Bulk/F9999``), and measures, in a fresh data folder each round:

1. the floor: reading the file alone (``core.formats.import_path``), what every import has to do;
2. ``wsinspector import FILE`` as a subprocess, start to exit;
3. File ▸ Import in the window (``MainWindow.transfer.import_files``) until the connections are in the list,
   and the longest the event loop went without turning meanwhile (a 5 ms timer's largest gap: the freeze);
4. renaming the folder "Bulk" in the window (``ConnectionsController.rename_folder``) until the list shows
   the new name, and the longest stall.

``--source DIR`` measures the code of another checkout, with its own ``.venv`` (e.g. ``--source ../main`` for
the code before a change); ``--against DIR`` runs the same rounds for both, interleaved, and prints, last, this
tree's figures as ratios of the other's.

    .venv/bin/python bench/connections_scale.py [--count 10000] [--rounds 2] [--against DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("floor", "cli", "window_import", "window_import_stall", "rename", "rename_stall")


def write_file(path: Path, count: int) -> None:
    connections = [{"folder": ["Bulk", f"F{i}"],
                    "profile": {"version": 2, "name": f"c{i}", "endpoint": {"url": f"ws://127.0.0.1:1/{i}"}}}
                   for i in range(count)]
    path.write_text(json.dumps({"format": "wsinspector-connections", "version": 1, "connections": connections}))


def measure(source: Path, file: Path, count: int) -> dict[str, float]:
    """One round against the code in ``source`` (run in a process of its own)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WSINSPECTOR_KEYRING": "memory"}
    python = str(source / ".venv" / "bin" / "python")  # each checkout's own venv imports its own code
    out = subprocess.run([python, str(Path(__file__).resolve()), "--child", str(file), str(count)], env=env,
                         capture_output=True, text=True, timeout=1800, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"round against {source} failed:\n{out.stdout}\n{out.stderr}")
    figures: dict[str, float] = json.loads(lines[-1])
    with tempfile.TemporaryDirectory() as data:
        start = time.perf_counter()
        cli = subprocess.run([python, "-m", "wsinspector", "--data-dir", data, "import", str(file)],
                             env=env, capture_output=True, text=True, timeout=1800, check=False,
                             cwd=source)  # ``-m`` imports from the working folder first
        figures["cli"] = time.perf_counter() - start
        if cli.returncode != 0:
            raise SystemExit(f"wsinspector import failed against {source}:\n{cli.stderr}")
    return figures


def child(file: Path, count: int) -> None:
    """The measurements that need the window, printed as one JSON line."""
    from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from wsinspector.app.context import AppContext  # noqa: PLC0415
    from wsinspector.core.formats import import_path  # noqa: PLC0415
    from wsinspector.ui.main_window import MainWindow  # noqa: PLC0415

    app = QApplication.instance() or QApplication([sys.argv[0]])
    figures: dict[str, float] = {}
    start = time.perf_counter()
    import_path(file)
    figures["floor"] = time.perf_counter() - start

    gaps: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(5)

    def tick() -> None:
        gaps.append(clock.restart() / 1000)

    ticker.timeout.connect(tick)

    def until(action: Any, done: Any, what: str) -> tuple[float, float]:
        """Seconds from ``action()`` until ``done()``, and the longest stall of the event loop meanwhile (the
        action's own time included: before, the whole work happened in that call)."""
        gaps.clear()
        begin = time.perf_counter()
        clock.start()
        ticker.start()
        action()
        while not done():
            app.processEvents()
            if time.perf_counter() - begin > 1800:
                raise SystemExit(f"{what}: not done after 30 minutes")
        gaps.append(clock.elapsed() / 1000)
        ticker.stop()
        return time.perf_counter() - begin, max(gaps)

    with tempfile.TemporaryDirectory() as data:
        context = AppContext(Path(data))
        window = MainWindow(context)
        window.show()
        for _ in range(50):
            app.processEvents()
        controller = context.connections
        wanted = len(controller.profiles) + count

        def imported() -> bool:
            return len(controller.profiles) >= wanted and not getattr(window.tasks, "busy", None)

        figures["window_import"], figures["window_import_stall"] = until(
            lambda: window.transfer.import_files([file]), imported, "import")
        renamed: list[str] = []
        controller.profiles_changed.connect(lambda: renamed.append("Bulk2") if "Bulk2" in controller.folders else None)
        figures["rename"], figures["rename_stall"] = until(
            lambda: controller.rename_folder("Bulk", "Bulk2"), lambda: bool(renamed), "rename")
        window.close()
        context.shutdown()
    print(json.dumps(figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--against", type=Path, help="another checkout, measured in the same rounds")
    args = parser.parse_args()
    trees = {"this": args.source.resolve()}
    if args.against is not None:
        trees["other"] = args.against.resolve()
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "connections.json"
        write_file(file, args.count)
        for round_number in range(args.rounds):
            for name, tree in trees.items():
                figures = measure(tree, file, args.count)
                results[name].append(figures)
                shown = "  ".join(f"{key} {figures[key]:.2f}s" for key in MEASURES)
                print(f"round {round_number + 1} {name} ({tree}): {shown}", flush=True)
    best = {name: {key: min(r[key] for r in rounds) for key in MEASURES} for name, rounds in results.items()}
    for name, figures in best.items():
        print(f"best of {args.rounds}, {name}: " + "  ".join(f"{key} {figures[key]:.2f}s" for key in MEASURES))
    if "other" in best:
        print("this/other: " + "  ".join(f"{key} {best['this'][key] / best['other'][key]:.3f}" for key in MEASURES))
    else:
        floor = best["this"]["floor"]
        print("against reading the file: " + "  ".join(f"{key} {best['this'][key] / floor:.1f}x"
                                                       for key in MEASURES if key != "floor"))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
