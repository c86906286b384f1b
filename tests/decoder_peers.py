"""Real servers of the protocols the decoders read, on 127.0.0.1: a python-socketio server (aiohttp), Debian's
mosquitto with a websockets listener, and graphql-ws (npm) in node; and a WebSocket client that records every
message both ways, as a session the decoders read."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from wsinspector.core.decoders.base import FrameView

ROOT = Path(__file__).resolve().parents[1]
NODE_PEERS = ROOT / "tests" / "node_peers"


@dataclass
class Recording:
    """The messages of one connection in order, both ways, and its negotiated subprotocol."""

    frames: list[FrameView] = field(default_factory=list)
    subprotocol: str = ""

    def add(self, outgoing: bool, message: str | bytes) -> None:
        text = isinstance(message, str)
        payload = message.encode() if isinstance(message, str) else bytes(message)
        self.frames.append(FrameView(payload, text, outgoing, len(self.frames)))

    def frame(self, index: int) -> FrameView | None:
        return self.frames[index] if 0 <= index < len(self.frames) else None


class RecordingClient:
    """A `websockets` client that records what it sends and receives."""

    def __init__(self, url: str, subprotocols: list[str] | None = None) -> None:
        self.url = url
        self.subprotocols = subprotocols
        self.recording = Recording()
        self.ws: Any = None

    async def __aenter__(self) -> RecordingClient:
        self.ws = await connect(self.url, subprotocols=self.subprotocols, open_timeout=10, compression=None)
        self.recording.subprotocol = self.ws.subprotocol or ""
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, message: str | bytes) -> None:
        self.recording.add(True, message)
        await self.ws.send(message)

    async def recv(self) -> str | bytes:
        message = await self.ws.recv()
        self.recording.add(False, message)
        return message


# -- Socket.IO (python-socketio) -------------------------------------------------------------------

class SocketIoServer:
    """python-socketio's AsyncServer on aiohttp: ``chat`` answers with a ``reply`` event carrying bytes, ``ask``
    acknowledges with a value and bytes, and the ``/admin`` namespace takes a token."""

    def __init__(self, **options: Any) -> None:
        """``options`` go to the server (``ping_interval``, ``ping_timeout`` in seconds)."""
        import socketio

        self.sio = socketio.AsyncServer(async_mode="aiohttp", **options)
        self.runner: Any = None
        self.port = 0
        self.auth: list[Any] = []
        #: every ``ask`` event's arguments, as the server received them
        self.asked: list[Any] = []

        @self.sio.on("chat")
        async def chat(sid: str, text: str) -> None:
            await self.sio.emit("reply", {"text": text, "blob": b"\x00\x01\x02"}, to=sid)

        @self.sio.on("ask")
        async def ask(sid: str, number: int) -> tuple[dict[str, int], bytes]:
            self.asked.append(number)
            return {"double": number * 2}, b"\xff\xfe"

        @self.sio.on("connect", namespace="/admin")
        async def admin(sid: str, environ: dict[str, Any], auth: Any) -> None:
            self.auth.append(auth)

    async def start(self) -> SocketIoServer:
        from aiohttp import web

        app = web.Application()
        self.sio.attach(app)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"


# -- mosquitto --------------------------------------------------------------------------------------

def mosquitto_binary() -> str:
    """Debian's mosquitto, which scripts/test installs (scripts/qt-system-packages.sh mosquitto)."""
    found = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if Path(p).exists()), None)
    if found is None:
        raise AssertionError("mosquitto is not installed: run scripts/qt-system-packages.sh mosquitto "
                             "(scripts/test does) for the MQTT over WebSocket tests")
    return found


def mosquitto_config(path: Path, port: int, tcp_port: int) -> Path:
    """A websockets listener on ``port``. mosquitto 2.0.11 (Debian 12) refuses to start with a websockets
    listener alone ("Unable to start any listening sockets"), so a plain MQTT listener on ``tcp_port`` goes with
    it; its libwebsockets binds the websockets port on every address, whatever address the listener names."""
    path.write_text(f"listener {tcp_port} 127.0.0.1\nlistener {port} 127.0.0.1\nprotocol websockets\n"
                    "allow_anonymous true\npersistence false\nlog_dest stderr\n")
    return path


# -- graphql-ws (npm) --------------------------------------------------------------------------------

def node_peers_ready() -> Path:
    """tests/node_peers with its node_modules, which scripts/node-peers.sh installs (scripts/test runs it)."""
    if not (NODE_PEERS / "node_modules" / "graphql-ws").is_dir() or shutil.which("node") is None:
        raise AssertionError("graphql-ws is not installed: run scripts/node-peers.sh (scripts/test does; it needs "
                             "node and npm) for the GraphQL over WebSocket tests")
    return NODE_PEERS
