"""A client that sends and does not read: what the server writes to it is bounded. Past ``UNWRITTEN_MOST`` bytes
waiting for it, the server stops reading it (TCP holds it back) until it reads; its answers all come, in order.
Periodic pushes to a client that does not read are left out meanwhile, and how many is said once."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections.abc import Callable
from typing import Any

from tests.net.served import RawClient, RawFrame
from wsinspector.app.mock import MockServer
from wsinspector.app.server import UNWRITTEN_MOST, ClientSession, ServerController
from wsinspector.core.mock.yaml_io import load_rules
from wsinspector.net.pump import READ_CHUNK

ECHO = """\
version: 1
rules:
  - match: {any: true}
    do: {echo: true}
"""
PUSH = """\
version: 1
every:
  - interval: 0.001
    do: {text: "{{$counter}} %s"}
""" % ("x" * 8000)
SIZE = 1024
#: six times the bound: had the server read it all, most of the answers would wait for the client
COUNT = 6 * UNWRITTEN_MOST // SIZE
#: past the bound by the answers to one read at most
SLACK = 2 * READ_CHUNK


def _message(n: int) -> bytes:
    """Message ``n`` as a client's frame: masked with a zero key, so its payload reads as it is."""
    return b"\x82\xfe" + struct.pack("!H", SIZE) + bytes(4) + n.to_bytes(4, "big") + bytes(SIZE - 4)


async def _not_reading_client(port: int) -> RawClient:
    """A client whose socket takes little, and which reads nothing until told to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    raw = RawClient(reader, writer)
    await raw.upgrade(port)
    return raw


def _serving(qtbot: Any, rules: str) -> tuple[ServerController, MockServer, list[ClientSession], list[int]]:
    controller = ServerController(None, name="Mock")
    mock = MockServer(controller, load_rules(rules))
    controller.listen("127.0.0.1", 0)
    sessions: list[ClientSession] = []
    peak = [0]

    def watch(session: ClientSession) -> None:
        sessions.append(session)

        def look() -> None:
            peak[0] = max(peak[0], session.client.bytes_to_write)

        session.client.received.connect(look)
        session.frames_appended.connect(look)

    controller.client_added.connect(watch)
    return controller, mock, sessions, peak


def test_a_client_that_does_not_read_is_not_read_and_is_owed_everything(
        qtbot: Any, run: Callable[..., Any], aloop: asyncio.AbstractEventLoop) -> None:
    controller, mock, sessions, peak = _serving(qtbot, ECHO)
    port = controller.server.port
    try:
        raw = run(_not_reading_client(port))

        async def flood() -> None:
            for n in range(COUNT):
                raw.writer.write(_message(n))
                if n % 64 == 63:
                    await raw.writer.drain()
            await raw.writer.drain()

        sending = asyncio.ensure_future(flood(), loop=aloop)
        qtbot.waitUntil(lambda: bool(sessions) and (sending.done() or sessions[0].client.backlogged),
                        timeout=30_000)
        assert peak[0] <= UNWRITTEN_MOST + SLACK

        async def read_all() -> list[RawFrame]:
            return [await raw.frame() for _ in range(COUNT)]

        frames = run(read_all(), timeout=120)
        assert sending.done() and sending.exception() is None
        assert [(f.opcode, int.from_bytes(f.payload[:4], "big"), len(f.payload)) for f in frames] == [
            (0x2, n, SIZE) for n in range(COUNT)]
        assert peak[0] <= UNWRITTEN_MOST + SLACK
        assert sessions[0].log.frames_in == COUNT
        raw.close()
    finally:
        controller.stop()
        mock.deleteLater()
        controller.deleteLater()


def test_pushes_to_a_client_that_does_not_read_are_left_out_and_counted_once(qtbot: Any,
                                                                             run: Callable[..., Any]) -> None:
    controller, mock, sessions, peak = _serving(qtbot, PUSH)
    problems: list[str] = []
    mock.problem.connect(problems.append)
    port = controller.server.port
    try:
        raw = run(_not_reading_client(port))
        qtbot.waitUntil(lambda: bool(sessions) and (peak[0] > 2 * UNWRITTEN_MOST or sum(
            getattr(mock.clients[0], "_left_out", {}).values()) > 0), timeout=30_000)
        assert peak[0] <= UNWRITTEN_MOST + SLACK
        assert problems == []
        got: list[int] = []

        async def read_past_the_gap() -> None:
            while not problems or len(got) < 2 or got[-1] - got[-2] == 1:
                frame = await raw.frame()
                got.append(int(frame.payload.split(b" ")[0]))

        run(read_past_the_gap(), timeout=60)
        [said] = problems
        match = re.search(r"(\d+) messages not sent while the client read nothing", said)
        assert match is not None, said
        left_out = int(match.group(1))
        assert got[:-1] == list(range(1, len(got)))
        assert got[-1] == got[-2] + 1 + left_out
        assert any(said in text for _ts, _kind, text in sessions[0].log.events)
        raw.close()
    finally:
        controller.stop()
        mock.deleteLater()
        controller.deleteLater()
