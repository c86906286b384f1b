"""How a recording proxy's session ends when the hops do not end together: messages on their way toward a hop
that has begun closing, an upstream that breaks the protocol or drops, messages the breakpoints hold when the
other hop closes or the proxy stops. Real peers over loopback: a raw client, `websockets` and raw upstreams."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.app.test_proxy import ended, stored_session
from tests.net.served import RawClient, client_frame
from tests.peers import frame_header, masked_server_frame, sends_then_drops, sends_then_waits, server_frame
from wsinspector.app.proxy import ProxiedClient
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.proxy.breakpoints import BreakRule, parse_rule
from wsinspector.core.store import Store

IN, OUT = Direction.IN, Direction.OUT
CLOSE_1000 = client_frame(0x8, struct.pack("!H", 1000))


def _closes(store: Store, client: ProxiedClient) -> list[tuple[bool, Direction, int | None, str]]:
    session = stored_session(store, client.recorded)
    return [(f.upstream, f.direction, f.close_code, f.close_reason) for f in session.frames(0, len(session) - 1)
            if f.opcode is Opcode.CLOSE]


def test_messages_let_go_toward_a_client_that_is_closing_are_counted_not_sent_and_the_session_ends(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        store: Store) -> None:
    """A breakpoint is set (it matches nothing): every message goes through the breakpoints on the window's
    thread. The client sends a burst and its close in one write and keeps its side open: the upstream's echoes
    come back toward a client hop that is closing. Nothing is sent to it, nothing raises, every message the
    client sent before its close reaches the upstream first, and the session ends with both close frames."""
    upstream = websockets_server(compression=None)
    controller, url = proxies(upstream.url, rules=[parse_rule("both:regex:7$")], store=store)
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    said: list[str] = []
    with qtbot.waitSignal(controller.client_added) as added:
        raw = run(RawClient.connect(port))
        assert run(raw.upgrade(port))[0] == 101
    client: ProxiedClient = added.args[0]
    client.said.connect(said.append)
    qtbot.waitUntil(lambda: client._relay is not None)
    burst = [b"p%d" % index for index in range(300)]

    async def burst_then_close() -> list[bytes]:
        await raw.send(b"".join(client_frame(0x2, payload) for payload in burst) + CLOSE_1000)
        echoed = []
        while (frame := await raw.frame()).opcode != 0x8:
            echoed.append(frame.payload)
        return echoed

    try:
        echoed = run(burst_then_close())
        qtbot.waitUntil(lambda: len(upstream.received) == len(burst), timeout=10_000)
        assert upstream.received == burst, "in order, each before the client's close"
        qtbot.waitUntil(lambda: any("not sent" in line for line in said), timeout=10_000)
    finally:
        raw.close()
    qtbot.waitUntil(ended(controller), timeout=10_000)
    undelivered = next(line for line in said if "not sent" in line)
    assert f"{len(burst) - len(echoed)} messages to the client not sent" in undelivered
    closes = _closes(store, client)
    assert (False, IN, 1000, "") in closes and (True, OUT, 1000, "") in closes


HOSTILE = {
    "masked": (masked_server_frame(0x1, b"masked!"), "upstream protocol error: the server sent a masked"),
    "opcode-3": (server_frame(0x3, b"x"), "upstream protocol error: the server sent a frame with the reserved"),
    "rsv2": (server_frame(0x1, b"x", rsv=2), "upstream protocol error: the server sent a text frame with RSV2"),
    "utf-8": (server_frame(0x1, b"\xce\x41"), "upstream protocol error: the server sent text that is not valid"),
    "2^62": (frame_header(0x2, 1 << 62), "upstream message too big"),
    "close-1005": (server_frame(0x8, struct.pack("!H", 1005)), "upstream protocol error: the server sent a close"),
}


@pytest.mark.parametrize(("sent", "says"), HOSTILE.values(), ids=HOSTILE.keys())
def test_an_upstream_that_breaks_the_protocol_is_the_client_s_1014_close_saying_what_it_did(
        qtbot: Any, run: Callable[..., Any], hostile: Callable[..., str], proxies: Any, store: Store, sent: bytes,
        says: str) -> None:
    controller, url = proxies(hostile(sends_then_waits(sent)), store=store)
    with qtbot.waitSignal(controller.client_added) as added:

        async def talk() -> tuple[int | None, str, bool]:
            async with connect(url) as ws:
                with contextlib.suppress(ConnectionClosed):
                    await ws.recv()
            return ws.close_code, ws.close_reason, ws.protocol.close_rcvd is not None

        code, reason, with_frame = run(talk())
    assert (code, with_frame) == (1014, True), "a close frame: 1014 bad gateway"
    assert reason.startswith(says) and len(reason.encode()) <= 123
    qtbot.waitUntil(ended(controller), timeout=5000)
    assert (False, OUT, 1014, reason) in _closes(store, added.args[0]), "recorded on the client hop"


def test_an_upstream_that_drops_mid_frame_is_the_client_s_1014_close(
        qtbot: Any, run: Callable[..., Any], hostile: Callable[..., str], proxies: Any) -> None:
    controller, url = proxies(hostile(sends_then_drops(server_frame(0x1, b"x" * 1000)[:200])))

    async def talk() -> tuple[int | None, str, bool]:
        async with connect(url) as ws:
            with contextlib.suppress(ConnectionClosed):
                await ws.recv()
        return ws.close_code, ws.close_reason, ws.protocol.close_rcvd is not None

    assert run(talk()) == (1014, "upstream connection lost", True)
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_a_client_s_close_waits_behind_its_paused_messages_and_goes_upstream_after_them(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        store: Store) -> None:
    closed_upstream: asyncio.Future[int | None] = asyncio.get_event_loop().create_future()

    async def keep_then_tell(ws: Any) -> None:
        async for message in ws:
            upstream.received.append(message)
        closed_upstream.set_result(ws.close_code)

    upstream = websockets_server(keep_then_tell)
    controller, url = proxies(upstream.url, rules=[BreakRule(OUT, "every")], store=store)
    paused: list[Any] = []
    controller.paused.connect(lambda _client, held: paused.append(held))
    with qtbot.waitSignal(controller.client_added) as added:

        async def send_three_and_close() -> int | None:
            async with connect(url) as ws:
                for text in ("one", "two", "three"):
                    await ws.send(text)
            return ws.close_code

        assert run(send_three_and_close()) == 1000, "the client's close is answered at once"
    client: ProxiedClient = added.args[0]
    qtbot.waitUntil(lambda: len(paused) == 3)
    assert upstream.received == [] and not closed_upstream.done(), "nothing passes them, the close neither"
    for held in paused:
        controller.decide(held.id, "forward")
    assert run(closed_upstream) == 1000
    assert upstream.received == ["one", "two", "three"]
    qtbot.waitUntil(ended(controller), timeout=5000)
    session = stored_session(store, client.recorded)
    to_upstream = [(f.opcode, f.payload) for f in session.frames(0, len(session) - 1)
                   if f.upstream and f.direction is OUT]
    assert to_upstream == [(Opcode.TEXT, b"one"), (Opcode.TEXT, b"two"), (Opcode.TEXT, b"three"),
                           (Opcode.CLOSE, struct.pack("!H", 1000))]


def test_paused_messages_a_stop_leaves_undecided_are_each_said_dropped(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any) -> None:
    upstream = websockets_server()
    controller, url = proxies(upstream.url, rules=[BreakRule(OUT, "every")])
    said: list[str] = []
    controller.said.connect(said.append)
    paused: list[Any] = []
    controller.paused.connect(lambda _client, held: paused.append(held))
    ws = run(connect(url))
    try:
        run(ws.send("one"))
        run(ws.send("two"))
        qtbot.waitUntil(lambda: len(paused) == 2)
        with qtbot.waitSignal(controller.stopped, timeout=5000):
            controller.stop()
    finally:
        run(ws.close())
    dropped = [line.split(": ", 1)[1] for line in said if "dropped" in line]
    assert dropped == [f"dropped #{paused[0].id}: the proxy stopped", f"dropped #{paused[1].id}: the proxy stopped"]
    assert upstream.received == []
