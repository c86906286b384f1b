"""Ten busy tabs against one: how late the window's event loop runs when every tab receives 1,000 messages/s.

A paced server (this script with ``--serve``, in its own process) answers each WebSocket client with 64-byte
binary frames at ``--rate`` frames per second (1,000 by default: 10 every 10 ms) for ``--seconds`` (10), then a
close frame. The app (AppContext in a temporary data dir, the MainWindow shown offscreen, recording every frame:
log, SQLite, timeline) opens one saved connection per tab through the window, as a double-click in the list
does, and all connect at once.

A 10 ms single-shot timer, re-armed on every timeout (``ingest.py``'s LatenessProbe), records how late each
timeout fires while the tabs receive: its p99 is how late the window usually answers input at the worst.

Each case runs in a fresh process of its own. The baseline is one busy tab; the last line is the p99 lateness
with ten busy tabs, against one (the goal: ten tabs' p99 under 50 ms).

    .venv/bin/python bench/tabs.py [--tabs 10] [--rate 1000] [--seconds 10] [--rounds 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from _common import (
    OP_BINARY,
    OP_CLOSE,
    _read_request,
    accept_key,
    flood_payload,
    median,
    percentile,
    qt_app,
    server_frame,
    server_process,
)

GOAL_P99_MS = 50.0
TICK_S = 0.01  # the server sends a tick's share of the rate every 10 ms


# -- the paced server (its own process) ---------------------------------------------------------------


def _serve_one(conn: socket.socket, rate: int, seconds: float) -> None:
    with conn:
        request = _read_request(conn)
        if request is None:
            return
        key = b""
        for line in request.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept_key(key).encode("ascii") + b"\r\n\r\n")
        per_tick = max(1, round(rate * TICK_S))
        sent, start = 0, time.monotonic()
        try:
            while (now := time.monotonic()) < start + seconds:
                due = int((now - start) / TICK_S + 1) * per_tick  # catch up after a late tick
                conn.sendall(b"".join(server_frame(OP_BINARY, flood_payload(i, 64)) for i in range(sent, due)))
                sent = due
                time.sleep(max(0.0, start + (due // per_tick) * TICK_S - time.monotonic()))
            conn.sendall(server_frame(OP_CLOSE, b"\x03\xe8" + b"done"))
            conn.settimeout(30)
            conn.recv(4096)
        except OSError:
            return
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)


def _serve(rate: int, seconds: float) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve_one, args=(conn, rate, seconds), daemon=True).start()


@contextlib.contextmanager
def paced_server(rate: int, seconds: float) -> Iterator[str]:
    with server_process([sys.executable, __file__, "--serve", str(rate), str(seconds)], "paced server") as url:
        yield url


# -- one case: N tabs in the window -------------------------------------------------------------------


def _child(tabs: int, url: str) -> None:
    app = qt_app()
    from ingest import LatenessProbe, _run_loop  # noqa: PLC0415  (Qt: in the measured process only)
    from PySide6.QtCore import QEventLoop  # noqa: PLC0415

    from wsinspector.app.context import AppContext  # noqa: PLC0415
    from wsinspector.core.profiles import ConnectionProfile, Endpoint  # noqa: PLC0415
    from wsinspector.ui.main_window import MainWindow  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as data_dir:
        context = AppContext(Path(data_dir), start_echo=False)
        window = MainWindow(context)
        window.show()
        app.processEvents()
        probe, loop = LatenessProbe(), QEventLoop()
        opened: set[int] = set()
        closed: set[int] = set()
        for index in range(tabs):
            profile = context.connections.save(ConnectionProfile(name=f"tab {index + 1}",
                                                                 endpoint=Endpoint(f"{url}?tab={index}")))
            window.on_connect_requested(profile)
            page = window.inspector
            page.session.opened.connect(lambda _info, i=index: (opened.add(i), len(opened) == tabs and probe.start()))
            page.session.closed.connect(lambda _info, i=index: (closed.add(i), len(closed) == tabs and loop.quit()))
        assert len(window.connection_tabs.pages()) == tabs, "each connection has a tab of its own"
        start = time.perf_counter()
        _run_loop(loop, f"{tabs} tabs")
        probe.stop()
        elapsed = time.perf_counter() - start
        frames = sum(len(page.session.log) for page in window.connection_tabs.pages())
        samples = probe.samples or [0.0]
        result = {"tabs": tabs, "frames": frames, "seconds": elapsed, "p99_ms": percentile(samples, 0.99),
                  "worst_ms": max(samples)}
        window.close()
        context.shutdown()
    print("RESULT " + json.dumps(result), flush=True)


def _measure(tabs: int, url: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(tabs), url], capture_output=True, text=True,
                         check=False, timeout=600)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, float] = json.loads(line[len("RESULT "):])
            return result
    raise RuntimeError(f"the {tabs}-tab round failed:\n{out.stdout}\n{out.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--rate", type=int, default=1000, help="frames per second to each tab")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("TABS", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("RATE", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(int(args.serve[0]), float(args.serve[1]))
        return
    if args.child:
        _child(int(args.child[0]), args.child[1])
        return
    p99: dict[int, list[float]] = {1: [], args.tabs: []}
    with paced_server(args.rate, args.seconds) as url:
        for _ in range(args.rounds):
            for tabs in (1, args.tabs):
                r = _measure(tabs, url)
                p99[tabs].append(r["p99_ms"])
                print(f"{tabs:>3} busy tab{'s' if tabs > 1 else ' '}: {r['frames']:>9,.0f} frames in "
                      f"{r['seconds']:5.1f} s ({r['frames'] / max(r['seconds'], 1e-9):>7,.0f}/s), event loop late by "
                      f"p99 {r['p99_ms']:6.1f} ms, at worst {r['worst_ms']:6.1f} ms", flush=True)
    many, one = median(p99[args.tabs]), median(p99[1])
    verdict = "met" if many < GOAL_P99_MS else "NOT met"
    print(f"event-loop lateness p99, {args.tabs} busy tabs / 1 busy tab ({args.rate:,} messages/s each): "
          f"{many / max(one, 1e-9):.2f}x ({many:.1f} ms vs {one:.1f} ms; goal p99 < {GOAL_P99_MS:.0f} ms: {verdict})")


if __name__ == "__main__":
    main()
