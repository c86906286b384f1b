"""What answers frames (auto-replies, the protocol mode) reacts as they are read, not at the next flush of the
session (every 50 ms, and then only to what the store has committed): with the flush never coming, the answers
still go out. A real `websockets` server on loopback asks and records the answers; the session is recorded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wsinspector.app import connection as connection_module
from wsinspector.app.connection import ConnectionController
from wsinspector.core.profiles import ConnectionProfile, Decoding, Endpoint, Handshake, Protocol
from wsinspector.core.store import Store

WAIT_MS = 10_000


@pytest.fixture
def controller(qtbot: Any, store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionController]:
    monkeypatch.setattr(connection_module, "FLUSH_INTERVAL_MS", 3_600_000)  # no flush within the test
    made = ConnectionController(store)
    yield made
    made.shutdown()


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_an_auto_reply_goes_out_as_the_ping_is_read(qtbot: Any, controller: ConnectionController,
                                                    websockets_server: Callable[..., Any], engine: str) -> None:
    answers: list[str] = []

    async def asks(ws: Any) -> None:
        for n in range(3):
            await ws.send(json.dumps({"type": "ping", "n": n}))
            answers.append(await ws.recv())
        await ws.wait_closed()

    url = websockets_server(asks).url
    composing = controller.composing
    composing.set_rules((("app ping", "json", "ping", "$.type", "json", '{"type": "pong"}', True),), 10)
    controller.connect_to(ConnectionProfile(name="pinged", endpoint=Endpoint(url), protocol=Protocol(engine=engine)))
    qtbot.waitUntil(lambda: len(answers) == 3, timeout=WAIT_MS)
    assert answers == ['{"type": "pong"}'] * 3 and composing.replies_sent == 3


def test_the_graphql_mode_answers_a_servers_ping_as_it_is_read(qtbot: Any, controller: ConnectionController,
                                                              websockets_server: Callable[..., Any]) -> None:
    answers: list[dict[str, Any]] = []

    async def graphql(ws: Any) -> None:
        answers.append(json.loads(await ws.recv()))  # connection_init
        await ws.send('{"type":"connection_ack"}')
        await ws.send('{"type":"ping"}')
        answers.append(json.loads(await ws.recv()))
        await ws.wait_closed()

    url = websockets_server(graphql, subprotocols=["graphql-transport-ws"]).url
    controller.connect_to(ConnectionProfile(name="gql", endpoint=Endpoint(url),
                                            handshake=Handshake(subprotocols=("graphql-transport-ws",)),
                                            decoding=Decoding(mode="graphql")))
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=WAIT_MS)
    assert [answer["type"] for answer in answers] == ["connection_init", "pong"]
