"""Chromium and Firefox ESR, headless, as the clients of wsinspector's mock server and of its recording proxy (in
front of a `websockets` server): a page's script sends text, binary, a message big enough to compress and asks for a
fragmented message and a ping, then closes with 4000. What the page saw is posted back to the test; what is asserted
is what wsinspector recorded in the store: the browser's frames masked with their mask keys, its pong, the
fragments, a compressed frame, the extension offer of that browser and the answer it agreed to, its close code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browsers.launch import BROWSERS, Browser, PageServer, Running
from wsinspector.app.mock import MockServer
from wsinspector.app.proxy_server import ProxyController
from wsinspector.app.server import ServerController
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.handshake import Handshake, last_handshake
from wsinspector.core.mock.yaml_io import load_rules
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.store import Store
from wsinspector.core.stored import StoredSession

IN, OUT = Direction.IN, Direction.OUT
#: a browser starts, loads the page and runs it in a few seconds; a cold Firefox profile takes the longest
PAGE_TIMEOUT_MS = 30_000
#: what each browser offers (Sec-WebSocket-Extensions of its opening request)
OFFERS = {"chromium": "permessage-deflate; client_max_window_bits", "firefox": "permessage-deflate"}
AGENTS = {"chromium": "HeadlessChrome/", "firefox": "Firefox/"}

RULES = """\
version: 1
name: Browser peer
on_connect: [{text: welcome}]
rules:
  - match: {text: "fragment please"}
    do: [{text: "one message in three frames", fragments: 3}]
  - match: {text: "ping me"}
    do: [{ping: "are you there"}, {text: "pinged"}]
  - match: {any: true}
    do: [{echo: true}]
"""


async def upstream_peer(ws: Any, received: list[str | bytes]) -> None:
    """The proxy's upstream: what the mock rules do, in `websockets`."""
    async for message in ws:
        received.append(message)
        if message == "fragment please":
            await ws.send(["one message ", "in three ", "frames"])
        elif message == "ping me":
            await ws.ping(b"are you there")
            await ws.send("pinged")
        else:
            await ws.send(message)


@pytest.fixture
def page() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


@pytest.fixture
def browse(qtbot: Any, page: PageServer, tmp_path: Path) -> Iterator[Callable[[str, str], dict[str, Any]]]:
    """``browse(name, ws_url)``: the browser loads the page against ``ws_url``; what the page posted."""
    started: list[Running] = []

    def load(name: str, ws_url: str, **query: str) -> dict[str, Any]:
        browser = BROWSERS[name]
        running = Running(browser, page.url(ws=ws_url, **query), tmp_path / name / "profile")
        started.append(running)
        qtbot.waitUntil(lambda: bool(page.reports) or running.exited(), timeout=PAGE_TIMEOUT_MS)
        assert page.reports, f"{browser.name} ended without running the page:\n{running.output()}"
        report = page.reports[0]
        assert "error" not in report, f"{browser.name}: {report['error']}"
        return report

    yield load
    for running in started:
        running.stop()


def stored(store: Store, session_id: int | None) -> tuple[list[Frame], Handshake]:
    assert session_id is not None, "the client was recorded"
    record = store.session(session_id)
    assert record is not None
    session = StoredSession(store, record)
    handshake = last_handshake(session.events)
    assert handshake is not None, "the opening handshake was kept"
    return list(session.frames(0, len(session) - 1)), handshake


def header(headers: Any, name: str) -> str:
    return ", ".join(value for key, value in headers or () if key.lower() == name.lower())


def check_browser_frames(name: str, frames: list[Frame], handshake: Handshake, report: dict[str, Any],
                         pinged: bool = True) -> None:
    """What a browser sent, as recorded: masked frames with their keys, its pong (``pinged``), a compressed
    frame, its own extension offer and the answer it agreed to, its close code and reason."""
    sent = [f for f in frames if f.direction is IN]
    assert sent and all(f.masked and f.mask_key is not None and len(f.mask_key) == 4 for f in sent), (
        "every frame from the browser is masked and its mask key is shown")
    assert len({f.mask_key for f in sent}) == len(sent), "a fresh mask key for each frame"
    assert header(handshake.request_headers, "Sec-WebSocket-Extensions") == OFFERS[name]
    assert AGENTS[name] in header(handshake.request_headers, "User-Agent")
    agreed = header(handshake.response_headers, "Sec-WebSocket-Extensions")
    assert agreed.startswith("permessage-deflate") and agreed == report["extensions"], (
        "the recorded answer is the extension the browser says it agreed to")
    assert [f.payload for f in sent if f.opcode is Opcode.PONG] == ([b"are you there"] if pinged else [])
    big = [f for f in sent if f.opcode is Opcode.TEXT and f.payload == b"compress me " * 2000]
    assert big and big[0].rsv1 and big[0].payload_length is not None and big[0].payload_length < 24000 // 10, (
        "the browser compressed its big message (RSV1, the wire length a fraction of the text)")
    [close] = [f for f in sent if f.opcode is Opcode.CLOSE]
    assert (close.close_code, close.close_reason) == (4000, "bye from the page")
    assert [f.opcode for f in sent if not f.opcode.is_control] == [Opcode.TEXT, Opcode.BINARY, Opcode.TEXT,
                                                                  Opcode.TEXT, Opcode.TEXT]


def check_page(report: dict[str, Any]) -> None:
    assert report["text"] == "hello from the page"
    assert report["binary"] == "hex:000102feff"
    assert report["fragmented"] == "one message in three frames"
    assert report["pinged"] == "pinged"
    assert report["big"] is True
    assert report["close"]["code"] == 4000 and report["close"]["clean"] is True


def fragments(frames: list[Frame], direction: Direction) -> list[tuple[Opcode, bool | None, bytes]]:
    starts = [i for i, f in enumerate(frames) if f.direction is direction and f.opcode is Opcode.TEXT
              and f.fin is False]
    assert starts, "a message was sent in fragments"
    parts = []
    for frame in frames[starts[0]:]:
        if frame.direction is direction and not frame.opcode.is_control:
            parts.append((frame.opcode, frame.fin, frame.payload))
            if frame.fin:
                break
    return parts


@pytest.mark.parametrize("name", ["chromium", "firefox"])
def test_a_browser_against_the_mock_server_is_recorded_frame_by_frame(
        name: str, qtbot: Any, store: Store, browse: Callable[..., dict[str, Any]]) -> None:
    controller = ServerController(store, name="Mock")
    mock = MockServer(controller, load_rules(RULES))
    url = controller.listen("127.0.0.1", 0)
    try:
        report = browse(name, url, welcome="1")
        qtbot.waitUntil(lambda: bool(controller.sessions) and not controller.live, timeout=5000)
    finally:
        controller.stop()
    assert report["welcome"] == "welcome"
    check_page(report)
    [session] = controller.sessions
    frames, handshake = stored(store, session.session_id)
    check_browser_frames(name, frames, handshake, report)
    sent_in_parts = fragments(frames, OUT)
    assert [(opcode, fin) for opcode, fin, _ in sent_in_parts] == [
        (Opcode.TEXT, False), (Opcode.CONTINUATION, False), (Opcode.CONTINUATION, True)]
    assert b"".join(part for _, _, part in sent_in_parts) == b"one message in three frames"
    [ping] = [f for f in frames if f.direction is OUT and f.opcode is Opcode.PING]
    assert ping.payload == b"are you there" and not ping.masked
    assert [f.close_code for f in frames if f.opcode is Opcode.CLOSE] == [4000, 4000], "the close answered"
    mock.deleteLater()
    controller.deleteLater()


@pytest.mark.parametrize("name", ["chromium", "firefox"])
def test_a_browser_through_the_proxy_is_recorded_on_both_hops(
        name: str, qtbot: Any, store: Store, browse: Callable[..., dict[str, Any]],
        websockets_server: Callable[..., Any]) -> None:
    received: list[str | bytes] = []
    upstream = websockets_server(lambda ws: upstream_peer(ws, received))
    controller = ProxyController(upstream.url, ConnectionProfile(name=""), [], store)
    added: list[Any] = []
    controller.client_added.connect(added.append)
    url = controller.listen("127.0.0.1", 0)
    try:
        report = browse(name, url)
        qtbot.waitUntil(lambda: bool(added) and not controller.clients, timeout=5000)
    finally:
        with qtbot.waitSignal(controller.stopped, timeout=5000):
            controller.stop()
    check_page(report)
    assert received[:2] == ["hello from the page", b"\x00\x01\x02\xfe\xff"], "the upstream got them"
    frames, handshake = stored(store, added[0].recorded)
    client_hop = [f for f in frames if not f.upstream]
    upstream_hop = [f for f in frames if f.upstream]
    check_browser_frames(name, client_hop, handshake, report, pinged=False)
    pings = [(f.direction, f.opcode, f.payload) for f in upstream_hop if f.opcode in (Opcode.PING, Opcode.PONG)]
    assert pings == [(IN, Opcode.PING, b"are you there"), (OUT, Opcode.PONG, b"are you there")], (
        "the upstream's ping is answered on its hop")
    assert fragments(upstream_hop, IN) == [(Opcode.TEXT, False, b"one message "),
                                           (Opcode.CONTINUATION, False, b"in three "),
                                           (Opcode.CONTINUATION, False, b"frames"),
                                           (Opcode.CONTINUATION, True, b"")], "as the upstream sent it"
    assert fragments(client_hop, OUT) == fragments(upstream_hop, IN), "forwarded to the browser frame by frame"
    ours = [f for f in upstream_hop if f.direction is OUT]
    assert all(f.masked and f.mask_key is not None for f in ours), "the proxy masks toward the upstream"
    assert (4000, "bye from the page") in [(f.close_code, f.close_reason) for f in ours if f.opcode is Opcode.CLOSE]
    controller.deleteLater()


def test_a_browser_that_is_not_installed_fails_by_name(tmp_path: Path) -> None:
    absent = Browser("Lynx WebSocket", "no-such-browser-package", "no-such-browser-program")
    with pytest.raises(pytest.fail.Exception, match=r"Lynx WebSocket is not installed.*no-such-browser-package"):
        absent.command("http://127.0.0.1:9/", tmp_path / "profile")
