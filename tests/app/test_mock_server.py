"""A mock server (app/mock.py) as a client sees it on the wire: raw sockets read what it sends byte by byte, so a
fault is checked as the bytes a client gets (the mask bit, the bad UTF-8, the reserved opcode, the frame that
never ends, the refused upgrade's status and headers, the ping left unanswered)."""

from __future__ import annotations

import argparse
import asyncio
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.net.served import RawClient, client_frame
from wsinspector.app.context import DB_NAME
from wsinspector.app.mock import MockServer
from wsinspector.app.server import ServerController
from wsinspector.cli_replay import replay_rules
from wsinspector.core.mock.yaml_io import load_rules
from wsinspector.core.store import Store

RULES = """\
version: 1
routes:
  /chat:
    on_connect:
      - text: "welcome {{path}}"
    rules:
      - match: {json: "$.op", equals: join}
        capture: {room: "$.room"}
        do:
          - json: {joined: "{{room}}"}
            fragments: 3
      - match: {text: faults}
        do:
          - text: masked
            masked: true
          - invalid_utf8: "ce 41"
          - raw: {opcode: 3, data: "07"}
          - oversized: 70000
          - close_mid_message: "half of this"
  /quiet:
    pings: never
    rules:
      - match: {text: "still there?"}
        do: {text: "yes"}
  /late:
    pings: late
    pong_delay: 0.2
    rules:
      - match: {any: true}
        do: {echo: true}
  /private:
    handshake: {status: 401, headers: {WWW-Authenticate: Bearer realm="mock"}, body: "token please"}
  /stuck:
    handshake: never
  /strict:
    origins: [http://allowed.example]
  /leaving:
    on_close: {code: 1001, reason: going away}
  /echo:
    rules:
      - match: {text: slow}
        delay: 0.2
        do: {text: "too late"}
      - match: {text: bye}
        do: {drop: true}
      - match: {any: true}
        do: {echo: true}
"""


@pytest.fixture
def mock(qtbot: Any) -> Iterator[ServerController]:
    controller = ServerController(None, name="Mock")
    server = MockServer(controller, load_rules(RULES))
    controller.listen("127.0.0.1", 0)
    yield controller
    controller.stop()
    server.deleteLater()
    controller.deleteLater()


def test_rules_answer_with_templates_captures_and_fragments(mock: ServerController, run: Callable[..., Any]) -> None:
    port = mock.server.port

    async def talk() -> tuple[Any, list[Any]]:
        raw = await RawClient.connect(port)
        status, _, _ = await raw.upgrade(port, "/chat?x=1")
        assert status == 101
        welcome = await raw.frame()
        await raw.send(client_frame(0x1, b'{"op": "join", "room": "kitchen"}'))
        parts = [await raw.frame() for _ in range(3)]
        raw.close()
        return welcome, parts

    welcome, parts = run(talk())
    assert (welcome.opcode, welcome.payload, welcome.masked) == (0x1, b"welcome /chat?x=1", False)
    assert [(p.opcode, p.fin) for p in parts] == [(0x1, False), (0x0, False), (0x0, True)]
    assert b"".join(p.payload for p in parts) == b'{"joined":"kitchen"}'


def test_fault_rules_as_the_client_reads_them(mock: ServerController, run: Callable[..., Any]) -> None:
    port = mock.server.port

    async def faults() -> tuple[list[Any], bytes]:
        raw = await RawClient.connect(port)
        await raw.upgrade(port, "/chat")
        await raw.frame()  # welcome
        await raw.send(client_frame(0x1, b"faults"))
        frames = [await raw.frame() for _ in range(5)]
        rest = await raw.reader.read()  # the connection is dropped after the unfinished message
        raw.close()
        return frames, rest

    (masked, bad_text, reserved, oversized, cut), rest = run(faults())
    assert (masked.opcode, masked.masked, masked.payload) == (0x1, True, b"masked")
    assert (bad_text.opcode, bad_text.payload) == (0x1, b"\xce\x41")
    assert (reserved.opcode, reserved.payload) == (0x3, b"\x07")
    assert (oversized.opcode, len(oversized.payload)) == (0x2, 70000)
    assert (cut.opcode, cut.fin, cut.payload) == (0x1, False, b"half o")
    assert rest == b""
    [session] = mock.sessions
    assert session.log.note(len(session.log) - 1).startswith("the start of a message never finished")


#: a frame the server must refuse, and the close code it fails the connection with
BROKEN = [
    pytest.param(bytes([0xA1, 0x80]) + b"\x00" * 4, 1002, id="rsv2"),  # RSV2 set, nothing negotiated
    pytest.param(client_frame(0x5, b""), 1002, id="reserved-opcode"),
    pytest.param(client_frame(0x0, b"nothing to continue"), 1002, id="stray-continuation"),
    pytest.param(client_frame(0x1, "κόσμε".encode() + b"\xed\xa0\x80"), 1007, id="invalid-utf8"),  # a surrogate
]


@pytest.mark.parametrize(("broken", "code"), BROKEN)
def test_a_message_is_answered_before_the_frame_after_it_fails_the_connection(
        mock: ServerController, run: Callable[..., Any], qtbot: Any, broken: bytes, code: int) -> None:
    """A valid message and a frame the server refuses in one write (one read): the reply to the message goes
    out before the close frame, as it would had they come apart (Autobahn 3.2, 4.1.3, 5.15…)."""
    port = mock.server.port

    async def hostile() -> list[tuple[int, bytes]]:
        raw = await RawClient.connect(port)
        await raw.upgrade(port, "/echo")
        fragmented = client_frame(0x1, b"frag", fin=False) + client_frame(0x9, b"beat") + client_frame(0x0, b"mented")
        await raw.send(client_frame(0x1, b"hello") + fragmented + broken)
        frames = await _frames_to_the_end(raw)
        raw.close()
        return frames

    answered = run(hostile())
    # the pong was due before the end of the message came: it goes first
    assert answered == [(0x1, b"hello"), (0xA, b"beat"), (0x1, b"fragmented"), (0x8, struct.pack("!H", code))]
    [session] = mock.sessions
    qtbot.waitUntil(lambda: session.done, timeout=5000)
    log = session.log
    shown = [(log.direction(seq).value, log.opcode(seq).name, log.payload(seq)) for seq in range(len(log))]
    assert shown[:7] == [("in", "TEXT", b"hello"), ("out", "TEXT", b"hello"), ("in", "TEXT", b"frag"),
                         ("in", "PING", b"beat"), ("in", "CONTINUATION", b"mented"), ("out", "PONG", b"beat"),
                         ("out", "TEXT", b"fragmented")]
    assert shown[-1][:2] == ("out", "CLOSE")


def test_a_delayed_reply_does_not_follow_a_protocol_error(mock: ServerController, run: Callable[..., Any]) -> None:
    port = mock.server.port

    async def hostile() -> list[tuple[int, bytes]]:
        raw = await RawClient.connect(port)
        await raw.upgrade(port, "/echo")
        await raw.send(client_frame(0x1, b"slow") + client_frame(0x5, b""))
        frames = await _frames_to_the_end(raw)
        raw.close()
        return frames

    # the reply due 0.2 s later never comes: the connection is over by then
    assert run(hostile()) == [(0x8, struct.pack("!H", 1002))]


def test_a_drop_in_the_middle_of_a_read_ends_it_there(mock: ServerController, run: Callable[..., Any],
                                                      qtbot: Any) -> None:
    """What came in the same read after the message a rule drops the connection for is neither answered (no
    echo, no pong) nor recorded: the connection ended with that message."""
    port = mock.server.port

    async def hostile() -> list[tuple[int, bytes]]:
        raw = await RawClient.connect(port)
        await raw.upgrade(port, "/echo")
        await raw.send(client_frame(0x1, b"bye") + client_frame(0x9, b"still?") + client_frame(0x1, b"echo me"))
        frames = await _frames_to_the_end(raw)
        raw.close()
        return frames

    assert run(hostile()) == []
    [session] = mock.sessions
    qtbot.waitUntil(lambda: session.done, timeout=5000)
    log = session.log
    assert [(log.direction(seq).value, log.payload(seq)) for seq in range(len(log))] == [("in", b"bye")]


async def _frames_to_the_end(raw: RawClient) -> list[tuple[int, bytes]]:
    """Every frame the server sends until it ends the connection (a close frame's reason left out)."""
    frames = []
    while not raw.reader.at_eof():
        try:
            frame = await raw.frame()
        except asyncio.IncompleteReadError:
            break
        frames.append((frame.opcode, frame.payload[:2] if frame.opcode == 0x8 else frame.payload))
    return frames


def test_pings_left_unanswered(mock: ServerController, run: Callable[..., Any]) -> None:
    port = mock.server.port

    async def quiet() -> list[Any]:
        raw = await RawClient.connect(port)
        await raw.upgrade(port, "/quiet")
        await raw.send(client_frame(0x9, b"hello?"))
        await raw.send(client_frame(0x1, b"still there?"))
        answer = await raw.frame()  # the reply to the message that came after the ping: no pong before it
        raw.close()
        return [answer]

    [answer] = run(quiet())
    assert (answer.opcode, answer.payload) == (0x1, b"yes")


def test_pings_answered_late(mock: ServerController, run: Callable[..., Any]) -> None:
    port = mock.server.port

    async def late() -> list[Any]:
        raw = await RawClient.connect(port)
        await raw.upgrade(port, "/late")
        await raw.send(client_frame(0x9, b"beat"))
        await raw.send(client_frame(0x2, b"\x01\x02"))
        frames = [await raw.frame(), await raw.frame()]
        raw.close()
        return frames

    echo, pong = run(late())
    assert (echo.opcode, echo.payload) == (0x2, b"\x01\x02")  # the message after the ping is answered first
    assert (pong.opcode, pong.payload) == (0xA, b"beat")
    [session] = mock.sessions
    assert session.log.note(0).startswith("not answered")  # the ping, as the recording shows it


def test_refused_and_unanswered_upgrades_and_unknown_paths(mock: ServerController, run: Callable[..., Any],
                                                          qtbot: Any) -> None:
    port = mock.server.port

    async def refused() -> tuple[Any, Any]:
        private = await RawClient.connect(port)
        answer = await private.upgrade(port, "/private")
        private.close()
        nowhere = await RawClient.connect(port)
        missing = await nowhere.upgrade(port, "/nowhere")
        nowhere.close()
        return answer, missing

    (status, headers, body), (missing, _, missing_body) = run(refused())
    assert (status, headers["www-authenticate"], body) == (401, 'Bearer realm="mock"', b"token please")
    assert (missing, missing_body) == (404, b"No route for this path in the mock's rules.\n")

    stuck_client: list[RawClient] = []

    async def stuck() -> None:
        raw = await RawClient.connect(port)
        await raw.send(b"GET /stuck HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        stuck_client.append(raw)

    run(stuck())
    qtbot.waitUntil(lambda: any(s.client.request is not None and s.client.request.route == "/stuck"
                                for s in mock.sessions), timeout=5000)
    [held] = [s for s in mock.sessions if s.client.request is not None and s.client.request.route == "/stuck"]
    assert held.client.handshake is not None and held.client.handshake.status is None  # never answered
    assert not held.done
    stuck_client[0].close()
    qtbot.waitUntil(lambda: held.done, timeout=5000)


def test_only_the_listed_origins_are_let_in(mock: ServerController, run: Callable[..., Any]) -> None:
    port = mock.server.port

    async def upgrade(extra: str) -> tuple[int, bytes]:
        raw = await RawClient.connect(port)
        status, _, body = await raw.upgrade(port, "/strict", extra)
        raw.close()
        return status, body

    assert run(upgrade("Origin: http://allowed.example\r\n"))[0] == 101
    assert run(upgrade("Origin: http://evil.example\r\n")) == (
        403, b"Origin http://evil.example is not allowed here.\n")
    assert run(upgrade("")) == (403, b"Origin none is not allowed here.\n")


def test_a_close_answered_with_the_routes_own_code(mock: ServerController, run: Callable[..., Any],
                                                   qtbot: Any) -> None:
    port = mock.server.port

    async def close() -> tuple[Any, bool]:
        raw = await RawClient.connect(port)
        assert (await raw.upgrade(port, "/leaving"))[0] == 101
        await raw.send(client_frame(0x8, struct.pack("!H", 4000) + b"bye"))
        answer = await raw.frame()
        ended = await raw.at_eof()
        raw.close()
        return answer, ended

    answer, ended = run(close())
    assert (answer.opcode, answer.payload) == (0x8, struct.pack("!H", 1001) + b"going away") and ended
    [session] = mock.sessions
    qtbot.waitUntil(lambda: session.done, timeout=5000)
    # the recording holds the client's 4000 and the answer with 1001, in that order
    payloads = [session.log.payload(seq) for seq in range(len(session.log))]
    assert payloads == [struct.pack("!H", 4000) + b"bye", struct.pack("!H", 1001) + b"going away"]


def test_a_clients_stored_session_replayed_as_the_server(qtbot: Any, run: Callable[..., Any],
                                                         tmp_path: Path) -> None:
    """A session the server recorded is played back from its own side: the replies it sent, in answer to
    whatever the next client says."""
    store = Store(tmp_path / DB_NAME)
    recording = ServerController(store, name="Rec")
    recorder = MockServer(recording, load_rules(RULES))
    recording.listen("127.0.0.1", 0)

    async def converse(url: str, ask: str) -> list[str | bytes]:
        async with connect(url + "chat") as ws:
            got = [await ws.recv()]
            await ws.send(ask)
            got.append(await ws.recv())
            return got

    first = run(converse(recording.url, '{"op": "join", "room": "attic"}'))
    qtbot.waitUntil(lambda: bool(recording.sessions) and recording.sessions[0].done, timeout=5000)
    recording.stop()
    store.close()
    rules = replay_rules(argparse.Namespace(replay="last", speed=0.0, data_dir=tmp_path))
    assert not isinstance(rules, int)
    player = ServerController(None, name="Replay")
    replayer = MockServer(player, rules)
    player.listen("127.0.0.1", 0)
    second = run(converse(player.url, "something else entirely"))
    assert first == second == ["welcome /chat", '{"joined":"attic"}']

    async def hostile() -> list[tuple[int, bytes]]:  # the reply goes out before the close frame, as a rule's
        raw = await RawClient.connect(player.server.port)
        await raw.upgrade(player.server.port, "/chat")
        await raw.send(client_frame(0x1, b"hi") + client_frame(0x5, b""))
        frames = await _frames_to_the_end(raw)
        raw.close()
        return frames

    assert run(hostile()) == [(0x1, b"welcome /chat"), (0x1, b'{"joined":"attic"}'), (0x8, struct.pack("!H", 1002))]
    for done in (recorder, recording, replayer):
        done.deleteLater()
    player.stop()
    player.deleteLater()
