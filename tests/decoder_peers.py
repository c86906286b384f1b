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


# -- SignalR and Phoenix, as their specifications say -----------------------------------------------------
# Their real servers need .NET and Elixir, which no registry here has: these `websockets` servers answer as the
# protocols' specifications say (the ASP.NET Core SignalR hub protocol, JSON; Phoenix channels' V2 serializer).

class _SpecServer:
    """A `websockets` server on 127.0.0.1 at a free port; ``url`` says where."""

    path = "/"

    def __init__(self) -> None:
        self.server: Any = None
        self.port = 0
        #: every message received, as text
        self.received: list[str] = []

    async def start(self) -> Any:
        from websockets.asyncio.server import serve

        self.server = await serve(self._serve, "127.0.0.1", 0, compression=None)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}"

    async def _serve(self, ws: Any) -> None:
        import contextlib

        from websockets.exceptions import ConnectionClosed

        # the client went without a close frame: as a server sees it every day
        with contextlib.suppress(ConnectionClosed):
            await self._talk(ws)

    async def _talk(self, ws: Any) -> None:
        raise NotImplementedError


class SignalRHub(_SpecServer):
    """A SignalR hub (JSON protocol): the handshake, ``Add(a, b)`` completes with the sum, ``Broadcast(text)``
    invokes ``ReceiveMessage(text)`` on the caller (and completes when it had an id), the stream ``Counter(n)``
    yields 1..n then completes; an unknown method completes with an error."""

    path = "/hub"

    async def _talk(self, ws: Any) -> None:
        import json

        def record(message: dict[str, Any]) -> str:
            return json.dumps(message, separators=(",", ":")) + "\x1e"

        async for text in ws:
            self.received.append(text)
            for raw in text.split("\x1e")[:-1]:
                message = json.loads(raw)
                kind, ident = message.get("type"), message.get("invocationId")
                if kind is None:
                    ok = message.get("protocol") == "json"
                    await ws.send(record({} if ok else {"error": "Only the JSON protocol is served"}))
                elif kind == 1 and message["target"] == "Add":
                    await ws.send(record({"type": 3, "invocationId": ident, "result": sum(message["arguments"])}))
                elif kind == 1 and message["target"] == "Broadcast":
                    await ws.send(record({"type": 1, "target": "ReceiveMessage", "arguments": message["arguments"]}))
                    if ident is not None:
                        await ws.send(record({"type": 3, "invocationId": ident}))
                elif kind == 4 and message["target"] == "Counter":
                    for n in range(1, message["arguments"][0] + 1):
                        await ws.send(record({"type": 2, "invocationId": ident, "item": n}))
                    await ws.send(record({"type": 3, "invocationId": ident}))
                elif kind in (1, 4) and ident is not None:
                    await ws.send(record({"type": 3, "invocationId": ident,
                                          "error": f"Unknown hub method '{message['target']}'"}))


class PhoenixEndpoint(_SpecServer):
    """A Phoenix socket (V2 JSON): heartbeats answered; ``room:*`` topics joined (``room:private`` only with the
    payload's ``token`` "t0k"); ``shout`` broadcast to the topic's members and replied ``ok``, ``ping`` replied
    with ``{"pong": payload}``; ``phx_leave`` replied and closed; a push to a topic not joined is refused."""

    path = "/socket/websocket?vsn=2.0.0"

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[str, list[tuple[Any, str]]] = {}

    async def _talk(self, ws: Any) -> None:
        joined: dict[str, str] = {}
        try:
            async for text in ws:
                self.received.append(text)
                await self._answer(ws, joined, text)
        finally:
            for members in self.members.values():
                members[:] = [m for m in members if m[0] is not ws]

    async def _answer(self, ws: Any, joined: dict[str, str], text: str) -> None:
        import json

        async def send(join_ref: Any, ref: Any, topic: str, event: str, payload: Any) -> None:
            await ws.send(json.dumps([join_ref, ref, topic, event, payload], separators=(",", ":")))

        async def reply(status: str, response: Any) -> None:
            await send(join_ref, ref, topic, "phx_reply", {"status": status, "response": response})

        join_ref, ref, topic, event, payload = json.loads(text)
        if topic == "phoenix" and event == "heartbeat":
            await reply("ok", {})
        elif event == "phx_join":
            if not topic.startswith("room:") or (topic == "room:private" and payload.get("token") != "t0k"):
                await reply("error", {"reason": "unauthorized"})
                return
            joined[topic] = join_ref
            self.members.setdefault(topic, []).append((ws, join_ref))
            await reply("ok", {"joined": topic})
        elif topic not in joined:
            await reply("error", {"reason": "unmatched topic"})
        elif event == "phx_leave":
            self.members[topic] = [m for m in self.members[topic] if m[0] is not ws]
            del joined[topic]
            await reply("ok", {})
            await send(join_ref, join_ref, topic, "phx_close", {})
        elif event == "shout":
            for member, member_join_ref in self.members[topic]:
                await member.send(json.dumps([member_join_ref, None, topic, "shout", payload]))
            await reply("ok", {})
        elif event == "ping":
            await reply("ok", {"pong": payload})
        else:
            await reply("error", {"reason": f"no handler for {event}"})
