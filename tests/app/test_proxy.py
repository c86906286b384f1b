"""The recording reverse proxy over loopback: a `websockets` client connects to the proxy, which forwards to a
`websockets` server upstream; what each end receives, the close codes, the HTTP error of an upstream that
refuses or is not there, breakpoints, and the one stored session holding every frame of both hops."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import free_port
from tests.net.served import RawClient, client_frame
from wsinspector.app.proxy import ProxiedClient
from wsinspector.app.proxy_server import ProxyController, ProxyError
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.handshake import HANDSHAKE_EVENT, last_handshake
from wsinspector.core.handshake import Handshake as Handshake_
from wsinspector.core.profiles import ConnectionProfile, Handshake, Protocol
from wsinspector.core.proxy.breakpoints import BreakRule, parse_rule
from wsinspector.core.store import Store
from wsinspector.core.stored import StoredSession

IN, OUT = Direction.IN, Direction.OUT


def ended(controller: ProxyController) -> Callable[[], bool]:
    return lambda: not controller.clients


def stored_session(store: Store, session_id: int | None) -> StoredSession:
    assert session_id is not None
    record = store.session(session_id)
    assert record is not None
    return StoredSession(store, record)


def test_messages_subprotocols_headers_and_close_codes_pass_both_ways_and_both_hops_are_recorded(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        store: Store) -> None:
    upstream = websockets_server(subprotocols=["superchat", "chat"])
    controller, url = proxies(upstream.url, store=store)
    with qtbot.waitSignal(controller.client_added) as added:

        async def talk() -> tuple[str | None, list[object], int | None, str]:
            async with connect(url, subprotocols=["chat", "superchat"],  # type: ignore[list-item]
                               additional_headers={"Cookie": "session=abc"}) as ws:
                await ws.send("hello through")
                first = await ws.recv()
                await ws.send(b"\x00\x01\xff")
                second = await ws.recv()
                await ws.close(4001, "done here")
                return ws.subprotocol, [first, second], ws.close_code, ws.close_reason

        subprotocol, echoed, _code, _reason = run(talk())
    client: ProxiedClient = added.args[0]
    assert subprotocol == "superchat", "the upstream's choice came back to the client"
    assert echoed == ["hello through", b"\x00\x01\xff"]
    assert upstream.received == ["hello through", b"\x00\x01\xff"]
    assert upstream.request_headers["Cookie"] == "session=abc"
    assert upstream.request_headers["Sec-WebSocket-Protocol"] == "chat, superchat"
    qtbot.waitUntil(ended(controller), timeout=5000)
    session = stored_session(store, client.recorded)
    frames = list(session.frames(0, len(session) - 1))
    seen = [(f.upstream, f.direction, f.opcode, f.payload) for f in frames if not f.opcode.is_control]
    assert seen == [
        (False, IN, Opcode.TEXT, b"hello through"), (True, OUT, Opcode.TEXT, b"hello through"),
        (True, IN, Opcode.TEXT, b"hello through"), (False, OUT, Opcode.TEXT, b"hello through"),
        (False, IN, Opcode.BINARY, b"\x00\x01\xff"), (True, OUT, Opcode.BINARY, b"\x00\x01\xff"),
        (True, IN, Opcode.BINARY, b"\x00\x01\xff"), (False, OUT, Opcode.BINARY, b"\x00\x01\xff"),
    ]
    closes = [(f.upstream, f.direction, f.close_code, f.close_reason) for f in frames if f.opcode is Opcode.CLOSE]
    assert (False, IN, 4001, "done here") in closes, "the client's close on the client hop"
    assert (True, OUT, 4001, "done here") in closes, "went on upstream with its code"
    kept = [Handshake_.from_json(text) for _ts, kind, text in session.events if kind == HANDSHAKE_EVENT]
    assert [h.url for h in kept] == [upstream.url, url], "the upstream hop's handshake, then the client's"
    assert [h.status for h in kept] == [101, 101]
    assert dict(kept[0].request_headers)["Sec-WebSocket-Protocol"] == "chat, superchat"
    assert dict(kept[0].request_headers)["Cookie"] == "{{Cookie}}", "the client's cookie is not kept"
    assert dict(kept[1].request_headers)["Cookie"] == "{{Cookie}}"
    assert dict(kept[1].response_headers or ())["Sec-WebSocket-Protocol"] == "superchat"
    assert last_handshake(session.events) == kept[1]
    masks = {(f.upstream, f.direction): f.masked for f in frames if f.opcode is Opcode.TEXT}
    assert masks == {(False, IN): True, (True, OUT): True, (True, IN): False, (False, OUT): False}, (
        "each hop's client masks: the browser toward the proxy, the proxy toward the upstream")


def test_a_close_from_upstream_reaches_the_client_with_its_code(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any) -> None:
    async def closes(ws: Any) -> None:
        await ws.recv()
        await ws.close(4321, "upstream says bye")

    upstream = websockets_server(closes)
    controller, url = proxies(upstream.url)

    async def talk() -> tuple[int | None, str]:
        async with connect(url) as ws:
            await ws.send("anything")
            with contextlib.suppress(ConnectionClosed):
                await ws.recv()
            return ws.close_code, ws.close_reason

    assert run(talk()) == (4321, "upstream says bye")
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_an_upstream_that_refuses_or_is_not_there_is_the_client_s_http_error(
        run: Callable[..., Any], hostile: Callable[..., str], proxies: Any, qtbot: Any) -> None:
    from tests.peers import http_status

    refusing = hostile(http_status(403, "Forbidden"))
    gone = f"ws://127.0.0.1:{free_port()}/"
    for upstream, status, says in ((refusing, 403, "refused the upgrade"), (gone, 502, "cannot be reached")):
        controller, url = proxies(upstream)

        async def attempt(url: str) -> InvalidStatus:
            try:
                async with connect(url, open_timeout=5):
                    pass
            except InvalidStatus as exc:
                return exc
            raise AssertionError("the upgrade went through")

        refused = run(attempt(url))
        assert refused.response.status_code == status
        body = refused.response.body.decode()
        assert body.startswith(f"wsinspector proxy: the upstream {upstream} {says}")
        qtbot.waitUntil(ended(controller), timeout=5000)


def test_breakpoints_pause_edit_drop_and_inject_in_order(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any) -> None:
    upstream = websockets_server()
    controller, url = proxies(upstream.url, rules=[parse_rule("out:contains:secret"), BreakRule(IN, "equals", "x")])
    paused: list[Any] = []
    controller.paused.connect(lambda client, held: paused.append(held))

    async def client() -> Any:
        return await connect(url)

    ws = run(client())
    try:
        run(ws.send("the secret plan"))
        qtbot.waitUntil(lambda: len(paused) == 1)
        run(ws.send("after it"))
        run(ws.send("another secret"))
        qtbot.waitUntil(lambda: len(paused) == 2)
        assert upstream.received == [], "nothing passes a paused message of its direction"
        controller.decide(paused[0].id, "forward", b"the edited plan")
        assert run(ws.recv()) == "the edited plan"
        assert run(ws.recv()) == "after it"
        controller.decide(None, "drop")  # the oldest still paused: "another secret"
        controller.inject(OUT, Opcode.TEXT, b"x")  # upstream echoes it: paused on its way in
        qtbot.waitUntil(lambda: len(paused) == 3)
        assert paused[2].direction is IN and paused[2].payload == b"x"
        controller.inject(IN, Opcode.TEXT, b"from the proxy")
        assert run(ws.recv()) == "from the proxy"
        controller.decide(None, "forward")
        assert run(ws.recv()) == "x"
        assert upstream.received == ["the edited plan", "after it", "x"]
        with pytest.raises(ValueError, match="no message is paused"):
            controller.decide(None, "forward")
    finally:
        run(ws.close())
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_a_port_in_use_is_one_line(proxies: Any) -> None:
    _controller, url = proxies("ws://127.0.0.1:9/")
    port = int(url.rsplit(":", 1)[1].strip("/"))
    second = ProxyController("ws://127.0.0.1:9/", ConnectionProfile(name=""), [], None)
    try:
        with pytest.raises(ProxyError, match=f"127.0.0.1:{port}") as raised:
            second.listen("127.0.0.1", port)
        assert "\n" not in str(raised.value)
    finally:
        second.deleteLater()


def test_a_saved_connection_s_headers_replace_the_client_s(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any) -> None:
    upstream = websockets_server()
    profile = ConnectionProfile(name="staging", handshake=Handshake(headers=(("Authorization", "Bearer proxy"),
                                                                             ("X-Env", "staging"))))
    controller, url = proxies(upstream.url, profile)

    async def talk() -> None:
        async with connect(url, additional_headers={"Authorization": "Bearer browser", "X-Trace": "1"}) as ws:
            await ws.send("hi")
            await ws.recv()

    run(talk())
    assert upstream.request_headers.get_all("Authorization") == ["Bearer proxy"]
    assert upstream.request_headers["X-Env"] == "staging" and upstream.request_headers["X-Trace"] == "1"
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_a_client_over_the_limit_is_refused_with_503(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any) -> None:
    upstream = websockets_server()
    controller, url = proxies(upstream.url, max_clients=1)

    async def two() -> tuple[str, int]:
        async with connect(url) as first:
            await first.send("first")
            answer = await first.recv()
            try:
                async with connect(url):
                    pass
            except InvalidStatus as exc:
                return str(answer), exc.response.status_code
            raise AssertionError("a second client went through")

    assert run(two()) == ("first", 503)
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_an_upstream_that_dies_is_the_client_s_1014_close(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any) -> None:
    async def dies(ws: Any) -> None:
        await ws.recv()
        ws.transport.abort()  # no close frame: the TCP connection just ends

    upstream = websockets_server(dies)
    controller, url = proxies(upstream.url)

    async def talk() -> tuple[int | None, str]:
        async with connect(url) as ws:
            await ws.send("anything")
            with contextlib.suppress(ConnectionClosed):
                await ws.recv()
            return ws.close_code, ws.close_reason

    assert run(talk()) == (1014, "upstream connection lost"), "a close frame saying the upstream went"
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_without_breakpoints_fragments_go_on_as_the_client_cut_them(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any,
        store: Store) -> None:
    upstream = websockets_server()
    controller, url = proxies(upstream.url, store=store)
    with qtbot.waitSignal(controller.client_added) as added:

        async def talk() -> object:
            async with connect(url) as ws:
                await ws.send(iter(["one, ", "two, ", "three"]))  # a text message in three frames
                return await ws.recv()

        echoed = run(talk())
    assert echoed == "one, two, three" and upstream.received == ["one, two, three"]
    qtbot.waitUntil(ended(controller), timeout=5000)
    session = stored_session(store, added.args[0].recorded)
    frames = list(session.frames(0, len(session) - 1))
    from_client = [(f.opcode, f.payload, f.fin) for f in frames
                   if not f.upstream and f.direction is IN and not f.opcode.is_control]
    sent_upstream = [(f.opcode, f.payload, f.fin) for f in frames
                     if f.upstream and f.direction is OUT and not f.opcode.is_control]
    assert from_client[:3] == [(Opcode.TEXT, b"one, ", False), (Opcode.CONTINUATION, b"two, ", False),
                               (Opcode.CONTINUATION, b"three", False)]
    assert sent_upstream == from_client, "frame for frame (websockets ends with an empty last fragment)"
    message = session.message_for(next(f.seq for f in session.frames(0, len(session) - 1)
                                       if f.upstream and f.direction is OUT and f.fin))
    assert message is not None and message.payload == b"one, two, three" and message.upstream


def test_a_burst_of_small_and_large_messages_comes_back_whole_and_in_order(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any,
        store: Store) -> None:
    """Messages sent without waiting, some larger than the sockets take at once: what one write to a hop
    cannot hand the system waits in order before the next."""
    upstream = websockets_server(max_size=None, compression=None)
    controller, url = proxies(upstream.url, store=store)
    large = bytes(range(256)) * (6 * 4096)  # 6 MiB
    burst: list[str | bytes] = []
    for index in range(60):
        burst.append(f"small {index}")
        if index % 20 == 10:
            burst.append(large[index:] + bytes([index]))
    with qtbot.waitSignal(controller.client_added) as added:

        async def talk() -> list[object]:
            async with connect(url, max_size=None, compression=None) as ws:
                for message in burst:
                    await ws.send(message)
                return [await ws.recv() for _ in burst]

        echoed = run(talk())
    assert echoed == burst, "every message back, whole and in the order sent"
    assert upstream.received == burst
    qtbot.waitUntil(ended(controller), timeout=5000)
    session = stored_session(store, added.args[0].recorded)
    data = [f for f in session.frames(0, len(session) - 1) if not f.opcode.is_control]
    for hop, direction in ((False, IN), (True, OUT), (True, IN), (False, OUT)):
        kept = [f.payload for f in data if f.upstream is hop and f.direction is direction]
        assert kept == [m.encode() if isinstance(m, str) else m for m in burst], (hop, direction)


def test_a_live_session_s_frames_are_saved_while_both_hops_stay_open(
        run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any, qtbot: Any,
        store: Store) -> None:
    """A few messages, far fewer than a chunk's worth, are in the store before the session ends: what a crash
    would lose of it is bounded."""
    upstream = websockets_server()
    controller, url = proxies(upstream.url, store=store)
    with qtbot.waitSignal(controller.client_added) as added:
        ws = run(connect(url))
    client: ProxiedClient = added.args[0]
    try:
        assert client.recorded is not None

        def stored_payloads() -> list[bytes]:
            session = stored_session(store, client.recorded)
            if not len(session):
                return []
            return [f.payload for f in session.frames(0, len(session) - 1) if not f.opcode.is_control]

        for count, text in enumerate(("one", "two", "three"), start=1):  # each after the one before is saved
            run(ws.send(text))
            assert run(ws.recv()) == text
            qtbot.waitUntil(lambda count=count: len(stored_payloads()) == 4 * count, timeout=5000)
        assert stored_payloads() == [b"one"] * 4 + [b"two"] * 4 + [b"three"] * 4, (
            "each hop's copy, both ways, while still open")
        assert not client.log.dropped
    finally:
        run(ws.close())
    qtbot.waitUntil(ended(controller), timeout=5000)


def test_a_stop_is_bounded_when_a_client_never_answers_the_close_and_its_session_is_saved(
        qtbot: Any, run: Callable[..., Any], websockets_server: Callable[..., Any], proxies: Any,
        store: Store) -> None:
    upstream = websockets_server()
    # the hops would wait ten minutes for a close answer: the stop must not
    controller, url = proxies(upstream.url, profile=ConnectionProfile(name="", protocol=Protocol(close_timeout_s=600)),
                              store=store)
    port = int(url.rstrip("/").rsplit(":", 1)[1])

    async def open_and_echo() -> tuple[RawClient, bytes]:
        raw = await RawClient.connect(port)
        assert (await raw.upgrade(port))[0] == 101
        await raw.send(client_frame(0x1, b"still here"))
        return raw, (await raw.frame()).payload

    with qtbot.waitSignal(controller.client_added) as added:
        raw, echoed = run(open_and_echo())
    assert echoed == b"still here"
    client: ProxiedClient = added.args[0]
    with qtbot.waitSignal(controller.stopped, timeout=15_000):
        controller.stop()  # the raw client reads nothing more, answers nothing, keeps its TCP connection open
    assert not controller.clients
    frames = list(stored_session(store, client.recorded).frames(0, 100))
    closes = [(f.direction, f.upstream) for f in frames if f.opcode is Opcode.CLOSE]
    assert (OUT, False) in closes, "the client was sent its 1001 before it was dropped"
    assert [f.payload for f in frames if f.opcode is Opcode.TEXT] == [b"still here"] * 4
    raw.close()
