"""The proxy's plain TCP hops read on threads of their own once both are open (net/relay.py,
net/hop_thread.py), against real `websockets` peers over loopback: what the hand-over from Qt must not lose or
reorder, a client that stops reading while its upstream floods it (the window's thread never waits for it),
and every thread and descriptor released once the hops end."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from websockets.asyncio.client import connect
from websockets.sync.client import connect as sync_connect
from websockets.sync.server import serve

from tests.app.test_proxy import ended, stored_session
from tests.peers import frame_header, mask_payload
from wsinspector.app.proxy import ProxiedClient
from wsinspector.app.proxy_server import ProxyController
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.proxy.breakpoints import BreakRule, parse_rule
from wsinspector.core.store import Store

IN, OUT = Direction.IN, Direction.OUT


def _hop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("wsinspector-hop")]


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def _binary_from_upstream(client: ProxiedClient, first: int, last: int) -> list[int]:
    """The seqs from ``first`` to ``last`` of the binary frames the proxy read from the upstream."""
    log = client.log
    return [seq for seq in range(first, last + 1) if header.upstream(log.origin(seq))
            and not header.is_out(log.meta(seq)) and header.opcode(log.meta(seq)) is Opcode.BINARY]


def test_what_the_upstream_sends_as_it_opens_comes_whole_and_in_order_across_the_hand_over(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        store: Store) -> None:
    """The upstream writes a burst the moment it opens, while the proxy is still answering the client and
    moving both hops from Qt to their threads: every message arrives once, in order, and is recorded."""
    burst = [f"greeting {index}" for index in range(20000)]

    async def greet(ws: Any) -> None:
        for message in burst:
            await ws.send(message)
        async for message in ws:
            await ws.send(message)

    upstream = websockets_server(greet)
    controller, url = proxies(upstream.url, store=store)
    with qtbot.waitSignal(controller.client_added) as added:

        async def talk() -> list[object]:
            async with connect(url) as ws:
                got = [await ws.recv() for _ in burst]
                await ws.send("and back")
                got.append(await ws.recv())
                return got

        got = run(talk())
    assert got == [*burst, "and back"]
    client = added.args[0]
    assert client._relay is not None, "plain TCP hops are read on threads"
    qtbot.waitUntil(ended(controller), timeout=5000)
    session = stored_session(store, client.recorded)
    texts = [f.payload.decode() for f in session.frames(0, len(session) - 1)
             if f.opcode is Opcode.TEXT and f.upstream and f.direction is IN]
    assert texts == [*burst, "and back"]


def test_a_client_that_stops_reading_holds_up_neither_the_window_nor_another_client(
        qtbot: Any, run: Callable[..., Any], flood_server: Callable[..., Any], proxies: Any) -> None:
    """The upstream floods a client that reads nothing: what its socket cannot take waits in the proxy, in
    order, while the window's thread injects a message to that client without waiting, and a second client
    of the same proxy is answered. Once the first client reads, it gets the flood, then the injected message."""
    flood = [bytes([index]) * (1024 * 1024) for index in range(32)]  # more than the sockets between hold
    upstream = flood_server(flood)
    controller, url = proxies(upstream.url)
    with qtbot.waitSignal(controller.client_added) as added:
        slow = run(connect(url, max_size=None, max_queue=1, compression=None))
    client: ProxiedClient = added.args[0]
    read_upstream = []

    client.frames_appended.connect(lambda first, last: read_upstream.extend(_binary_from_upstream(client, first, last)))
    run(slow.send("flood me"))
    qtbot.waitUntil(upstream.sent.is_set, timeout=30_000)
    # the proxy read the whole flood from the upstream; the slow client's socket holds a little of it
    qtbot.waitUntil(lambda: len(read_upstream) == len(flood), timeout=30_000)
    # the window's thread is not waiting on the slow client's socket: it injects, and serves another client
    client.inject(IN, Opcode.TEXT, b"injected")

    async def other() -> object:
        async with connect(url) as ws:
            await ws.send("still answered")
            return await ws.recv()

    assert run(other()) == "still answered"

    async def read_all() -> list[object]:
        return [await slow.recv() for _ in range(len(flood) + 1)]

    assert run(read_all(), timeout=30) == [*flood, "injected"]
    run(slow.close())
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_every_hop_thread_and_descriptor_is_released_once_the_hops_end(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        store: Store) -> None:
    upstream = websockets_server()
    controller, url = proxies(upstream.url, store=store)

    async def talk(close_first: bool) -> object:
        ws = await connect(url)
        await ws.send("ping")
        answer = await ws.recv()
        if close_first:
            await ws.close()
        else:  # the client goes without a closing handshake
            ws.transport.abort()
        return answer

    assert run(talk(True)) == "ping"  # the first opens what a proxy keeps open for good (its store's writer…)
    qtbot.waitUntil(lambda: ended(controller)() and not _hop_threads(), timeout=5000)
    before = _descriptors()
    for index in range(6):
        assert run(talk(index % 2 == 0)) == "ping"
    qtbot.waitUntil(lambda: ended(controller)() and not _hop_threads(), timeout=5000)
    qtbot.waitUntil(lambda: _descriptors() <= before, timeout=5000)


class _FloodServer:
    """An upstream on threads of its own over blocking sockets, away from the tests' event loop (so what it
    writes waits only for the proxy): it upgrades each client, answers a text message "flood me" with
    ``flood`` as binary messages (``sent`` once the system took all of them), echoes any other text, and
    answers a close."""

    def __init__(self, flood: list[bytes]) -> None:
        self.flood = flood
        self.sent = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/"
        threading.Thread(target=self._serve, name="flood-server", daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the thread waiting in accept
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), name="flood-server", daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            request, rest = request.split(b"\r\n\r\n", 1)
            found = re.search(rb"(?im)^sec-websocket-key: *(\S+)", request)
            assert found is not None
            accept = base64.b64encode(hashlib.sha1(found.group(1) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            reader = conn.makefile("rb")
            pending = io.BytesIO(rest)

            def read(size: int) -> bytes:
                data = pending.read(size)
                return data + reader.read(size - len(data)) if len(data) < size else data

            while True:
                head = read(2)
                if len(head) < 2:
                    return
                length = head[1] & 0x7F
                if length >= 126:
                    length = int.from_bytes(read(2 if length == 126 else 8), "big")
                key = read(4)
                payload = mask_payload(read(length), key)
                opcode = head[0] & 0x0F
                if opcode == 8:
                    conn.sendall(frame_header(8, len(payload)) + payload)
                    return
                if payload == b"flood me":
                    for data in self.flood:
                        conn.sendall(frame_header(2, len(data)) + data)
                    self.sent.set()
                elif opcode == 1:
                    conn.sendall(frame_header(1, len(payload)) + payload)


@pytest.fixture
def flood_server() -> Iterator[Callable[[list[bytes]], _FloodServer]]:
    made: list[_FloodServer] = []

    def start(flood: list[bytes]) -> _FloodServer:
        made.append(_FloodServer(flood))
        return made[-1]

    yield start
    for server in made:
        server.close()


async def _raw_client(url: str, first: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client over a bare stream: the upgrade, then ``first`` as one masked text frame; it reads nothing more
    unless asked (its reader's buffer full, TCP holds the proxy back)."""
    from tests.peers import mask_payload

    port = int(url.rsplit(":", 1)[1].strip("/"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=4096)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    answer = await reader.readuntil(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 101")
    key = b"\x37\xfa\x21\x3d"
    writer.write(bytes((0x81, 0x80 | len(first))) + key + mask_payload(first, key))
    await writer.drain()
    return reader, writer


async def _read_binary(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    """``count`` unmasked binary messages of 1 MiB each, as a server frames them (a 64-bit length)."""
    got = []
    for _ in range(count):
        head = await reader.readexactly(10)
        assert head[:2] == b"\x82\x7f"
        got.append(await reader.readexactly(int.from_bytes(head[2:], "big")))
    return got


@dataclass
class _Flooded:
    """A proxied raw client that asked its upstream for a flood of 1 MiB binary messages and reads nothing."""

    flood: list[bytes]
    upstream: _FloodServer
    controller: ProxyController
    url: str
    client: ProxiedClient
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


def _flooded(qtbot: Any, run: Callable[..., Any], flood_server: Callable[..., _FloodServer], proxies: Any,
             megabytes: int, rules: list[BreakRule] | None = None) -> _Flooded:
    flood = [bytes([index]) * (1024 * 1024) for index in range(megabytes)]
    upstream = flood_server(flood)
    controller, url = proxies(upstream.url, rules=rules)
    with qtbot.waitSignal(controller.client_added) as added:
        reader, writer = run(_raw_client(url, b"flood me"))
    return _Flooded(flood, upstream, controller, url, added.args[0], reader, writer)


def test_a_client_that_ends_its_side_without_reading_a_flood_lets_the_window_go_on(
        qtbot: Any, run: Callable[..., Any], flood_server: Callable[..., Any], proxies: Any) -> None:
    """The client asks for a flood, reads none of it and shuts its side of the connection: its hop ends while
    the proxy still has megabytes it cannot write. The window's thread does not wait for a reader that will
    never come: the hop is let go of, the upstream closed, and the next client is answered."""
    flooded = _flooded(qtbot, run, flood_server, proxies, 32)
    flood, controller, client, writer = flooded.flood, flooded.controller, flooded.client, flooded.writer
    read_upstream: list[int] = []
    client.frames_appended.connect(lambda first, last: read_upstream.extend(_binary_from_upstream(client, first, last)))
    qtbot.waitUntil(lambda: len(read_upstream) == len(flood), timeout=30_000)
    relay = client._relay
    assert relay is not None and relay.hops is not None
    assert relay.hops[0].waiting_bytes > 0, "the proxy holds what the client has not read"
    writer.write_eof()
    qtbot.waitUntil(ended(controller), timeout=10_000)

    async def other() -> object:
        async with connect(flooded.url) as ws:
            await ws.send("still answered")
            return await ws.recv()

    assert run(other()) == "still answered"
    writer.close()


def test_a_flood_to_a_client_that_does_not_read_waits_in_the_proxy_only_up_to_its_bound(
        qtbot: Any, run: Callable[..., Any], flood_server: Callable[..., Any], proxies: Any,
        monkeypatch: Any) -> None:
    """While the client does not read, what waits for it in the proxy stays under the outbox's bound (the
    thread forwarding more waits, and TCP holds the upstream back), however much the upstream sends; once the
    client reads, it gets every message in order."""
    from wsinspector.net import hop_thread

    monkeypatch.setattr(hop_thread, "OUTBOX_MOST", 1024 * 1024)
    flooded = _flooded(qtbot, run, flood_server, proxies, 48)
    flood, client, writer = flooded.flood, flooded.client, flooded.writer
    most = 0
    read_upstream: list[int] = []

    def look(first: int, last: int) -> None:
        nonlocal most
        relay = client._relay
        if relay is not None and relay.hops is not None:
            most = max(most, relay.hops[0].waiting_bytes)
        read_upstream.extend(_binary_from_upstream(client, first, last))

    client.frames_appended.connect(look)
    qtbot.waitUntil(lambda: len(read_upstream) >= 4, timeout=30_000)

    assert run(_read_binary(flooded.reader, len(flood)), timeout=60) == flood
    # a forwarding thread stops at the first read past the bound: one read (a frame and the start of the next)
    assert most <= 4 * 1024 * 1024, f"{most} bytes waited in the proxy for a client that did not read"
    writer.close()
    qtbot.waitUntil(flooded.upstream.sent.is_set, timeout=30_000)


def test_with_a_breakpoint_set_a_client_that_does_not_read_holds_its_upstream_back(
        qtbot: Any, run: Callable[..., Any], flood_server: Callable[..., Any], proxies: Any,
        monkeypatch: Any) -> None:
    """With a rule on what the upstream sends, each message goes on from the window's thread, which never waits
    for a peer to read: once more than the bound waits for the client, the upstream hop is no longer read (TCP
    holds the upstream back) until the client has read it down; then every message arrives, in order."""
    from wsinspector.app import proxy as proxy_module

    monkeypatch.setattr(proxy_module, "OUTBOX_MOST", 1024 * 1024)
    flooded = _flooded(qtbot, run, flood_server, proxies, 48, rules=[parse_rule("in:contains:never sent")])
    flood, client, writer = flooded.flood, flooded.client, flooded.writer
    qtbot.waitUntil(lambda: client._holding == (False, True), timeout=30_000)
    assert not flooded.upstream.sent.is_set(), "the upstream is held back before it has sent everything"

    assert run(_read_binary(flooded.reader, len(flood)), timeout=60) == flood
    qtbot.waitUntil(flooded.upstream.sent.is_set, timeout=30_000)
    writer.close()


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY], ids=["text", "binary"])
def test_a_message_paused_for_the_breakpoints_keeps_the_fragments_read_before_the_hand_over(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        monkeypatch: Any, opcode: Opcode) -> None:
    """With a rule on what the client sends, its message's first fragment is read through Qt, the hops then
    move to their threads, and the last fragment comes: the message offered to the breakpoints is the whole
    of it, with its own opcode, and once let go the upstream gets all of it."""
    hand_over = ProxiedClient._relay_on_threads
    monkeypatch.setattr(ProxiedClient, "_relay_on_threads", lambda self: None)  # hops kept on Qt for now
    upstream = websockets_server()
    controller, url = proxies(upstream.url, rules=[parse_rule("out:every")])
    key = b"\x0b\xad\xf0\x0d"
    with qtbot.waitSignal(controller.client_added) as added:
        reader, writer = run(_raw_client(url, b""))  # an empty text message first: let go by nobody
    client: ProxiedClient = added.args[0]
    qtbot.waitUntil(lambda: len(client.held) == 1, timeout=5000)
    controller.decide(client.held[0].id, "forward")
    assert run(reader.readexactly(2)) == b"\x81\x00"

    writer.write(bytes((opcode, 0x80 | 6)) + key + mask_payload(b"first ", key))
    qtbot.waitUntil(lambda: client.log.incoming_so_far() is not None, timeout=5000)
    hand_over(client)
    assert client._relay is not None, "the hops are read on threads from here on"
    writer.write(bytes((0x80, 0x80 | 6)) + key + mask_payload(b"second", key))
    qtbot.waitUntil(lambda: len(client.held) == 1, timeout=5000)
    held = client.held[0]
    assert (held.opcode, held.payload) == (opcode, b"first second")

    controller.decide(held.id, "forward")
    assert run(reader.readexactly(14)) == bytes((0x80 | opcode, 12)) + b"first second"  # the upstream's echo
    writer.close()
    qtbot.waitUntil(ended(controller), timeout=5000)


_CUT = [(0x01, b"first "), (0x81, b"a new message: the first is cut")]


@pytest.mark.parametrize(("on_threads", "rules", "frames", "code", "sent_on"), [
    (True, [], _CUT, 1002, [b"hello", b"first "]),
    (False, [], _CUT, 1002, [b"hello", b"first "]),
    (True, ["out:contains:never"], _CUT, 1002, [b"hello"]),
    (False, ["out:contains:never"], _CUT, 1002, [b"hello"]),
    (True, ["out:every"], _CUT, 1002, [b"hello"]),
    (True, [], [(0x81, b"\xff not UTF-8")], 1007, [b"hello"]),
    (False, [], [(0x81, b"\xff not UTF-8")], 1007, [b"hello"]),
], ids=["cut-streaming-threads", "cut-streaming-qt", "cut-held-back-threads", "cut-held-back-qt",
        "cut-every-message-held-threads", "invalid-utf8-threads", "invalid-utf8-qt"])
def test_what_the_proxy_refuses_from_a_client_never_goes_on_to_the_upstream(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        monkeypatch: Any, on_threads: bool, rules: list[str], frames: list[tuple[int, bytes]], code: int,
        sent_on: list[bytes]) -> None:
    """A client breaks the protocol (a new message before its fragmented one ended; text that is not UTF-8): the
    proxy fails the client's hop with the code that says so and sends the upstream nothing of it: not what the
    refused frame carried, nor, where the breakpoints wait for whole messages, the fragments before it (sent on
    as they came when nothing waits for them) — whether the hops are on threads or on Qt."""
    if not on_threads:
        monkeypatch.setattr(ProxiedClient, "_relay_on_threads", lambda self: None)
    upstream = websockets_server()
    controller, url = proxies(upstream.url, rules=[parse_rule(rule) for rule in rules])
    key = b"\x0b\xad\xf0\x0d"
    with qtbot.waitSignal(controller.client_added) as added:
        reader, writer = run(_raw_client(url, b"hello"))
    client: ProxiedClient = added.args[0]
    if rules == ["out:every"]:  # the first message waits for the breakpoints: let it go
        qtbot.waitUntil(lambda: len(client.held) == 1, timeout=5000)
        controller.decide(client.held[0].id, "forward")
    assert run(reader.readexactly(7)) == b"\x81\x05hello"  # the upstream's echo
    assert (client._relay is not None) is on_threads
    for b0, payload in frames:
        writer.write(bytes((b0, 0x80 | len(payload))) + key + mask_payload(payload, key))
    head = run(reader.readexactly(2))
    assert head[0] == 0x88
    assert int.from_bytes(run(reader.readexactly(head[1] & 0x7F))[:2], "big") == code
    writer.close()
    qtbot.waitUntil(ended(controller), timeout=5000)
    log = client.log
    upstream_out = [log.payload(seq) for seq in range(len(log)) if header.upstream(log.origin(seq))
                    and header.is_out(log.meta(seq)) and not header.opcode(log.meta(seq)).is_control]
    assert upstream_out == sent_on
    assert client.held == []


def test_clients_leaving_together_have_the_heaps_trimmed_once_after_the_last(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        monkeypatch: Any) -> None:
    """Three clients leave at once: what their traffic freed is given back once, a second after the last went
    (trimming walks every heap), not once per client and not never."""
    from wsinspector.app import bursts

    trims: list[int] = []
    monkeypatch.setattr(bursts, "give_back", lambda: trims.append(len(controller.clients)) or True)
    controller, url = proxies(websockets_server().url)

    async def three() -> None:
        sockets = [await connect(url) for _ in range(3)]
        for ws in sockets:
            await ws.send("hello")
            await ws.recv()
        for ws in sockets:
            await ws.close()

    run(three())
    qtbot.waitUntil(ended(controller), timeout=5000)
    qtbot.waitUntil(lambda: trims == [0], timeout=3 * bursts.QUIET_MS)


class _Keeper:
    """A `websockets` upstream on threads of its own (the sync server, away from the window's thread, so a
    stall of that thread does not stall it): it keeps a digest of each message it receives, in order, and
    answers nothing."""

    def __init__(self) -> None:
        self.got: list[bytes] = []
        self.server = serve(self._keep, "127.0.0.1", 0, max_size=None, compression=None)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/"
        threading.Thread(target=self.server.serve_forever, name="keeper-server", daemon=True).start()

    def _keep(self, ws: Any) -> None:
        for message in ws:
            self.got.append(hashlib.sha1(message).digest())


class _Flooder(threading.Thread):
    """A `websockets` client on a thread of its own: it connects, waits for ``go``, then sends ``count`` binary
    messages of ``size`` bytes as fast as its socket takes them (``sent``: how many writes completed), and
    closes."""

    def __init__(self, url: str, count: int, size: int) -> None:
        super().__init__(name="flooder", daemon=True)
        self.url, self.count, self.size = url, count, size
        self.connected, self.go = threading.Event(), threading.Event()
        self.sent = 0
        self.failed: BaseException | None = None

    def message(self, index: int) -> bytes:
        return index.to_bytes(4, "big") * (self.size // 4)

    def run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", int(self.url.rsplit(":", 1)[1].strip("/"))))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 256 * 1024)
        try:
            with sync_connect(self.url, sock=sock, max_size=None, compression=None) as ws:
                self.connected.set()
                self.go.wait()
                for index in range(self.count):
                    ws.send(self.message(index))
                    self.sent += 1
        except BaseException as exc:  # said by the test
            self.failed = exc


def test_a_stalled_window_holds_a_flooding_client_back_and_loses_no_frame(
        qtbot: Any, proxies: Any, store: Store, monkeypatch: Any) -> None:
    """The window's thread stalls (busy in a slot: it drains nothing the hops' threads report) while a client
    floods the upstream with large messages: what waits for the window's thread stays within the bound and one
    read's worth (one message, read from the client and sent on to the upstream), the client hop's thread
    reads no more, the upstream gets nothing more and the client's writes stop completing, held back by TCP.
    Once the window's thread goes on, every message arrives at the upstream, in order, and is recorded."""
    from wsinspector.net import relay as relay_module

    most, size, count = 4 * 1024 * 1024, 1024 * 1024, 64  # well past what the sockets between hold
    monkeypatch.setattr(relay_module, "QUEUED_MOST", most)
    upstream = _Keeper()
    try:
        controller, url = proxies(upstream.url, store=store)
        flooder = _Flooder(url, count, size)
        with qtbot.waitSignal(controller.client_added) as added:
            flooder.start()
        client: ProxiedClient = added.args[0]
        qtbot.waitUntil(lambda: flooder.connected.is_set() and client._relay is not None, timeout=5000)
        relay = client._relay
        assert relay is not None
        seen: dict[str, Any] = {}

        def stall() -> None:
            """Busy on the window's thread until the flood stopped moving (the client hop's thread waiting for a
            drain, and neither the upstream nor the client getting further for 20 looks in a row), or the
            client sent everything (the flood was not held back)."""
            flooder.go.set()
            largest, still, last = 0, 0, None
            looked = threading.Event()
            while still < 20 and flooder.sent < count and flooder.failed is None:
                largest = max(largest, relay.queued_bytes)
                now = (relay.held_back[0], len(upstream.got), flooder.sent)
                still = still + 1 if now == last and now[0] else 0
                last = now
                looked.wait(0.02)
            seen.update(largest=largest, queued=relay.queued_bytes, held_back=relay.held_back,
                        sent=flooder.sent, got=len(upstream.got))

        QTimer.singleShot(0, stall)
        qtbot.waitUntil(lambda: bool(seen), timeout=120_000)
        assert flooder.failed is None
        one_read = 2 * (size + relay_module.FRAME_COST)
        assert seen["largest"] <= most + one_read, f"{seen['largest']} bytes waited for the window's thread"
        assert seen["queued"] > most and seen["held_back"] == (True, False), "the client hop's thread waits"
        assert seen["sent"] < count, "the client's writes stopped completing"
        assert seen["got"] < count

        qtbot.waitUntil(lambda: flooder.sent == count and len(upstream.got) == count, timeout=120_000)
        assert upstream.got == [hashlib.sha1(flooder.message(index)).digest() for index in range(count)]
        flooder.join(30)
        qtbot.waitUntil(ended(controller), timeout=30_000)
    finally:
        upstream.server.shutdown()
    session = stored_session(store, client.recorded)
    for upstream_hop, direction in ((False, IN), (True, OUT)):
        digests = [hashlib.sha1(f.payload).digest() for f in session.frames(0, len(session) - 1)
                   if f.opcode is Opcode.BINARY and f.upstream is upstream_hop and f.direction is direction]
        assert digests == upstream.got


def test_a_hop_that_ends_while_the_other_hops_end_is_told_is_told_too(
        qtbot: Any, proxies: Any, monkeypatch: Any) -> None:
    """The upstream says "hi" and closes; the client closes once it has it. When the client hop's thread ends
    while the window's thread is telling the upstream hop's end (the client hop looked at already, in the same
    wake), the client hop's end is told all the same: the proxied client finishes, with the client's close, and
    both hops' descriptors are released. (The relay stopped listening for wakes once it saw both ended, after
    telling them: the client hop's end, and its thread's last wake, were lost, and no close timer was armed for
    that hop, so the proxied client never finished and a stop waited for it for good.)"""
    from wsinspector.net.wire import WireConnection

    relayed, go = threading.Event(), threading.Event()

    def hello(ws: Any) -> None:  # once both hops are on threads: "hi", then the close
        relayed.wait(10)
        ws.send("hi")

    upstream = serve(hello, "127.0.0.1", 0)
    threading.Thread(target=upstream.serve_forever, name="hello-server", daemon=True).start()
    try:
        controller, url = proxies(f"ws://127.0.0.1:{upstream.socket.getsockname()[1]}/")
        got: list[object] = []

        def visit() -> None:  # on a thread of its own: it closes while the window's thread is busy
            with sync_connect(url) as ws:
                got.append(ws.recv())
                go.wait(10)

        tell_upstream_end = WireConnection.after_thread

        def after_thread(pump: WireConnection) -> None:
            """The upstream hop's end about to be told: the client hop (looked at already) ends first."""
            relay = pump.parent()._relay
            if relay is not None and relay.hops is not None and not go.is_set():
                client_hop, upstream_hop = relay.hops
                if upstream_hop.ended and not client_hop.ended:
                    go.set()
                    client_hop._thread.join(10)
                    assert client_hop.ended
            tell_upstream_end(pump)

        monkeypatch.setattr(WireConnection, "after_thread", after_thread)
        visitor = threading.Thread(target=visit, name="visitor", daemon=True)
        with qtbot.waitSignal(controller.client_added) as added:
            visitor.start()
        client: ProxiedClient = added.args[0]
        told: list[tuple[str, Any]] = []
        client.told.connect(lambda event, fields: told.append((event, fields)))
        qtbot.waitUntil(lambda: client._relay is not None, timeout=5000)
        relay = client._relay
        assert relay is not None and relay.hops is not None
        relayed.set()
        qtbot.waitUntil(go.is_set, timeout=10_000)
        qtbot.waitUntil(ended(controller), timeout=5000)
        visitor.join(10)
        assert got == ["hi"]
        closes = {fields["hop"]: fields["code"] for event, fields in told if event == "closed"}
        assert closes == {"upstream": 1000, "client": 1000}
        qtbot.waitUntil(lambda: not _hop_threads(), timeout=5000)
        assert [hop.sock.fileno() for hop in relay.hops] == [-1, -1], "both descriptors released"
    finally:
        upstream.shutdown()
