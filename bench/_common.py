"""Shared bench helpers: statistics, a Qt application, a loopback WebSocket flood server, and a relay that only
copies bytes.

The flood server runs in its own process (``python bench/_common.py flood ...``) so it never competes with
the measured client for the interpreter. It completes the WebSocket handshake by hand and then writes a
pre-encoded buffer of N unmasked server frames, and a close frame, in large writes. Only the standard
library is imported here, so the server process starts fast.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
WRITE_CHUNK = 1 << 20


# -- statistics ---------------------------------------------------------------------------------------


#: a relay that copies bytes both ways and parses nothing (``python -c BYTES_RELAY UPSTREAM_PORT`` prints its
#: port): what any extra process in the path costs (bench/proxy.py, bench/relay_floor.py)
BYTES_RELAY = """
import socket, sys, threading
from wsinspector.core.allocator import keep_freed_memory
keep_freed_memory()  # as the proxy's process: the floor runs on the same allocator settings
upstream = int(sys.argv[1])
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
def copy(source, target):
    try:
        while data := source.recv(1 << 20):
            target.sendall(data)
    except OSError:
        pass
    target.close()
while True:
    client, _ = listener.accept()
    server = socket.create_connection(("127.0.0.1", upstream))
    for end in (client, server):
        end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for pair in ((client, server), (server, client)):
        threading.Thread(target=copy, args=pair, daemon=True).start()
"""


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def fmt_rate(per_s: float) -> str:
    return f"{per_s:,.0f}"


# -- Qt -----------------------------------------------------------------------------------------------


def qt_app() -> Any:
    """The QApplication, offscreen unless a platform was chosen, in a process set up as ``wsinspector``'s entry
    point sets up its own (the allocator: ``core/allocator.py``); imports Qt only when called (the flood server
    process stays free of it)."""
    from wsinspector.core.allocator import keep_freed_memory  # noqa: PLC0415

    keep_freed_memory()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("WSINSPECTOR_KEYRING", "memory")  # no keyring prompt, no warning: nothing secret here
    from PySide6.QtCore import qInstallMessageHandler  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    app = QApplication.instance()
    if app is not None:
        return app
    previous = None

    def quiet(mode: Any, context: Any, message: str) -> None:
        # the offscreen plugin says this whenever a window's size constraints change: noise here
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(quiet)
    return QApplication([sys.argv[0]])


# -- WebSocket frames ---------------------------------------------------------------------------------


def accept_key(key: bytes) -> str:
    return base64.b64encode(hashlib.sha1(key.strip() + GUID).digest()).decode("ascii")


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """One unmasked (server-to-client) frame."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


def flood_payload(index: int, size: int) -> bytes:
    """``size`` ASCII bytes (valid UTF-8 for text frames) starting with the frame's number."""
    head = b"%09d " % index
    filler = b"abcdefghijklmnopqrstuvwxyz0123456789" * (size // 36 + 1)
    return (head + filler)[:size]


def flood_buffer(frames: int, size: int, text: bool, endless: bool = False) -> bytes:
    """``frames`` frames and a close frame; ``endless``: no close frame (the buffer is sent again and again)."""
    opcode = OP_TEXT if text else OP_BINARY
    parts = [server_frame(opcode, flood_payload(i, size)) for i in range(frames)]
    if not endless:
        parts.append(server_frame(OP_CLOSE, struct.pack("!H", 1000) + b"flood done"))
    return b"".join(parts)


# -- the flood server (runs in its own process) ------------------------------------------------------


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    return data


class _Buffers:
    """Pre-encoded floods by (frames, size, text, endless), built once each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[tuple[int, int, bool, bool], bytes] = {}

    def get(self, frames: int, size: int, text: bool, endless: bool = False) -> bytes:
        with self._lock:
            key = (frames, size, text, endless)
            if key not in self._built:
                self._built[key] = flood_buffer(frames, size, text, endless)
            return self._built[key]


def flood_url(base: str, frames: int, size: int, text: bool, seconds: float = 0, endless: bool = False) -> str:
    """The URL of a flood of ``frames`` frames; ``seconds``: those frames again and again for that long, then
    the close frame; ``endless``: again and again until the client goes away."""
    return (f"{base}flood?frames={frames}&size={size}&text={int(text)}&seconds={seconds:g}"
            + ("&endless=1" if endless else ""))


def _send_flood(conn: socket.socket, view: memoryview, seconds: float, endless: bool) -> None:
    """Once; or, for ``seconds``, again and again, then the close frame; or, ``endless``, until the client goes
    away (that buffer holds no close frame)."""
    if endless:
        while True:
            for start in range(0, len(view), WRITE_CHUNK):
                conn.sendall(view[start : start + WRITE_CHUNK])
    if seconds > 0:
        close = len(server_frame(OP_CLOSE, struct.pack("!H", 1000) + b"flood done"))
        frames, end = view[:-close], time.monotonic() + seconds
        while time.monotonic() < end:
            for start in range(0, len(frames), WRITE_CHUNK):
                conn.sendall(frames[start : start + WRITE_CHUNK])
        view = view[-close:]
    for start in range(0, len(view), WRITE_CHUNK):
        conn.sendall(view[start : start + WRITE_CHUNK])


def _serve_one(conn: socket.socket, buffers: _Buffers) -> None:
    with conn:
        request = _read_request(conn)
        if request is None:
            return
        lines = request.split(b"\r\n")
        target = lines[0].split(b" ")[1].decode("latin-1") if len(lines[0].split(b" ")) > 1 else "/"
        query = parse_qs(urlsplit(target).query)
        key = b""
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        if not key:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        # build (or reuse) the flood before answering: the client's clock starts at the handshake
        endless = query.get("endless", ["0"])[0] == "1"
        buffer = buffers.get(int(query.get("frames", ["1000"])[0]), int(query.get("size", ["64"])[0]),
                             query.get("text", ["0"])[0] == "1", endless)
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(key).encode("ascii") + b"\r\n\r\n"
        )
        view = memoryview(buffer)
        seconds = float(query.get("seconds", ["0"])[0])
        try:
            _send_flood(conn, view, seconds, endless)
            # wait for the client's close frame (or its going away), then end the TCP connection
            conn.settimeout(120)
            conn.recv(4096)
        except OSError:
            return
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)


def run_flood_server(prebuild: list[tuple[int, int, bool]]) -> None:
    buffers = _Buffers()
    for frames, size, text in prebuild:
        buffers.get(frames, size, text)
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    port = listener.getsockname()[1]
    print(f"PORT {port}", flush=True)
    # the parent closes our stdin when it is done with us
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve_one, args=(conn, buffers), daemon=True).start()


@contextlib.contextmanager
def flood_server(prebuild: Sequence[tuple[int, int, bool]] = ()) -> Iterator[str]:
    """Start the flood server process (pre-building the given (frames, size, text) floods); yields its base
    ws:// URL. Ask for a flood with :func:`flood_url`."""
    spec = [f"{frames}:{size}:{int(text)}" for frames, size, text in prebuild]
    with server_process([sys.executable, str(Path(__file__).resolve()), "flood", *spec], "flood server") as url:
        yield url


@contextlib.contextmanager
def server_process(command: list[str], what: str) -> Iterator[str]:
    """Run a server process that prints ``PORT <n>`` once it listens on 127.0.0.1 and ends when its standard
    input closes; yields its ws:// URL, and stops it (killed if it lingers)."""
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            raise RuntimeError(f"the {what} did not start: {line!r}")
        yield f"ws://127.0.0.1:{line[1]}/"
    finally:
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _main() -> None:
    parser = argparse.ArgumentParser(description="bench helpers")
    sub = parser.add_subparsers(dest="command", required=True)
    flood = sub.add_parser("flood", help="serve pre-encoded frame floods to WebSocket clients on 127.0.0.1 "
                           "(GET /flood?frames=N&size=S&text=0|1)")
    flood.add_argument("prebuild", nargs="*", help="FRAMES:SIZE:TEXT floods to build before listening")
    args = parser.parse_args()
    if args.command == "flood":
        prebuild = []
        for item in args.prebuild:
            frames, size, text = item.split(":")
            prebuild.append((int(frames), int(size), text == "1"))
        run_flood_server(prebuild)


if __name__ == "__main__":
    _main()
