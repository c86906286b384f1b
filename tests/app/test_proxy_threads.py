"""The proxy's plain TCP hops read on threads of their own once both are open (net/relay.py,
net/hop_thread.py), against real `websockets` peers over loopback: what the hand-over from Qt must not lose or
reorder, a client that stops reading while its upstream floods it (the window's thread never waits for it),
and every thread and descriptor released once the hops end."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import connect

from tests.app.test_proxy import ended, stored_session
from wsinspector.app.proxy import ProxiedClient
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.proxy.breakpoints import parse_rule
from wsinspector.core.store import Store

IN, OUT = Direction.IN, Direction.OUT


def _hop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("wsinspector-hop")]


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


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
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any) -> None:
    """The upstream floods a client that reads nothing: what its socket cannot take waits in the proxy, in
    order, while the window's thread injects a message to that client without waiting, and a second client
    of the same proxy is answered. Once the first client reads, it gets the flood, then the injected message."""
    flood = [bytes([index]) * (1024 * 1024) for index in range(32)]  # more than the sockets between hold
    flooded = asyncio.Event()

    async def handler(ws: Any) -> None:
        first = await ws.recv()
        if first == "flood me":
            for message in flood:
                await ws.send(message)
            flooded.set()
        else:
            await ws.send(first)
        async for message in ws:
            await ws.send(message)

    upstream = websockets_server(handler, max_size=None, compression=None)
    controller, url = proxies(upstream.url)
    with qtbot.waitSignal(controller.client_added) as added:
        slow = run(connect(url, max_size=None, max_queue=1, compression=None))
    client: ProxiedClient = added.args[0]
    read_upstream = []

    def count(first: int, last: int) -> None:
        for seq in range(first, last + 1):
            meta = client.log.meta(seq)
            if header.upstream(client.log.origin(seq)) and not header.is_out(meta) and \
                    header.opcode(meta) is Opcode.BINARY:
                read_upstream.append(seq)

    client.frames_appended.connect(count)
    run(slow.send("flood me"))
    run(flooded.wait(), timeout=30)
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


def _flooding(flood: list[bytes], flooded: asyncio.Event) -> Callable[[Any], Any]:
    async def handler(ws: Any) -> None:
        async for message in ws:
            if message == "flood me":
                for data in flood:
                    await ws.send(data)
                flooded.set()
            else:
                await ws.send(message)

    return handler


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


def test_a_client_that_ends_its_side_without_reading_a_flood_lets_the_window_go_on(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any) -> None:
    """The client asks for a flood, reads none of it and shuts its side of the connection: its hop ends while
    the proxy still has megabytes it cannot write. The window's thread does not wait for a reader that will
    never come: the hop is let go of, the upstream closed, and the next client is answered."""
    flood = [bytes([index]) * (1024 * 1024) for index in range(32)]
    flooded = asyncio.Event()
    upstream = websockets_server(_flooding(flood, flooded), max_size=None, compression=None)
    controller, url = proxies(upstream.url)
    with qtbot.waitSignal(controller.client_added) as added:
        _reader, writer = run(_raw_client(url, b"flood me"))
    client: ProxiedClient = added.args[0]
    read_upstream: list[int] = []
    client.frames_appended.connect(lambda first, last: read_upstream.extend(
        seq for seq in range(first, last + 1) if header.upstream(client.log.origin(seq))
        and header.opcode(client.log.meta(seq)) is Opcode.BINARY and not header.is_out(client.log.meta(seq))))
    qtbot.waitUntil(lambda: len(read_upstream) == len(flood), timeout=30_000)
    relay = client._relay
    assert relay is not None and relay.hops is not None
    assert relay.hops[0].waiting_bytes > 0, "the proxy holds what the client has not read"
    writer.write_eof()
    qtbot.waitUntil(ended(controller), timeout=10_000)

    async def other() -> object:
        async with connect(url) as ws:
            await ws.send("still answered")
            return await ws.recv()

    assert run(other()) == "still answered"
    writer.close()


def test_a_flood_to_a_client_that_does_not_read_waits_in_the_proxy_only_up_to_its_bound(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        monkeypatch: Any) -> None:
    """While the client does not read, what waits for it in the proxy stays under the outbox's bound (the
    thread forwarding more waits, and TCP holds the upstream back), however much the upstream sends; once the
    client reads, it gets every message in order."""
    from wsinspector.net import hop_thread

    monkeypatch.setattr(hop_thread, "OUTBOX_MOST", 1024 * 1024)
    flood = [bytes([index]) * (1024 * 1024) for index in range(48)]
    flooded = asyncio.Event()
    upstream = websockets_server(_flooding(flood, flooded), max_size=None, compression=None)
    controller, url = proxies(upstream.url)
    with qtbot.waitSignal(controller.client_added) as added:
        reader, writer = run(_raw_client(url, b"flood me"))
    client: ProxiedClient = added.args[0]
    most = 0
    read_upstream: list[int] = []

    def look(first: int, last: int) -> None:
        nonlocal most
        relay = client._relay
        if relay is not None and relay.hops is not None:
            most = max(most, relay.hops[0].waiting_bytes)
        read_upstream.extend(seq for seq in range(first, last + 1) if header.upstream(client.log.origin(seq))
                             and header.opcode(client.log.meta(seq)) is Opcode.BINARY
                             and not header.is_out(client.log.meta(seq)))

    client.frames_appended.connect(look)
    qtbot.waitUntil(lambda: len(read_upstream) >= 4, timeout=30_000)

    async def read_all() -> list[bytes]:
        got = []
        for data in flood:
            head = await reader.readexactly(10)
            assert head[:2] == b"\x82\x7f"
            got.append(await reader.readexactly(len(data)))
        return got

    assert run(read_all(), timeout=60) == flood
    # a forwarding thread stops at the first read past the bound: one read (a frame and the start of the next)
    assert most <= 4 * 1024 * 1024, f"{most} bytes waited in the proxy for a client that did not read"
    writer.close()
    run(flooded.wait())


def test_with_a_breakpoint_set_a_client_that_does_not_read_holds_its_upstream_back(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        monkeypatch: Any) -> None:
    """With a rule on what the upstream sends, each message goes on from the window's thread, which never waits
    for a peer to read: once more than the bound waits for the client, the upstream hop is no longer read (TCP
    holds the upstream back) until the client has read it down; then every message arrives, in order."""
    from wsinspector.app import proxy as proxy_module

    monkeypatch.setattr(proxy_module, "OUTBOX_MOST", 1024 * 1024)
    flood = [bytes([index]) * (1024 * 1024) for index in range(48)]
    flooded = asyncio.Event()
    upstream = websockets_server(_flooding(flood, flooded), max_size=None, compression=None)
    controller, url = proxies(upstream.url, rules=[parse_rule("in:contains:never sent")])
    with qtbot.waitSignal(controller.client_added) as added:
        reader, writer = run(_raw_client(url, b"flood me"))
    client: ProxiedClient = added.args[0]
    qtbot.waitUntil(lambda: client._holding == (False, True), timeout=30_000)
    assert not flooded.is_set(), "the upstream is held back before it has sent everything"

    async def read_all() -> list[bytes]:
        got = []
        for data in flood:
            head = await reader.readexactly(10)
            assert head[:2] == b"\x82\x7f"
            got.append(await reader.readexactly(len(data)))
        return got

    assert run(read_all(), timeout=60) == flood
    run(flooded.wait())
    writer.close()
