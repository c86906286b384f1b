"""A connection's protocol mode against real servers: python-socketio with a 200 ms ping interval and a 500 ms
timeout (a client that does not answer its pings is dropped within 700 ms) and graphql-ws in node. What the
mode sends goes through the connection: it is in the session's log like what the user sends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.decoder_peers import SocketIoServer
from tests.decoders.test_real_peers import mosquitto, node_server  # noqa: F401
from wsinspector.app.connection import ConnectionController
from wsinspector.core.frames import Direction
from wsinspector.core.profiles import ConnectionProfile, Decoding, Endpoint, Handshake
from wsinspector.core.protocols.base import ProtocolError

WAIT_MS = 10_000


@pytest.fixture
def controller(qtbot: Any) -> Iterator[ConnectionController]:
    controller = ConnectionController()
    yield controller
    controller.shutdown()


@pytest.fixture
def quick_socketio(run: Callable[..., Any]) -> Iterator[SocketIoServer]:
    server = run(SocketIoServer(ping_interval=0.2, ping_timeout=0.5).start())
    yield server
    run(server.stop())


def _sent(controller: ConnectionController) -> list[bytes]:
    log = controller.log
    return [log.payload(seq) for seq in range(len(log)) if log.direction(seq) is Direction.OUT]


def test_automatic_socketio_mode_answers_pings_past_the_timeout_and_gets_an_ack(qtbot, controller, quick_socketio):
    profile = ConnectionProfile(name="sio", endpoint=Endpoint(quick_socketio.url), decoding=Decoding(mode="auto"))
    with qtbot.waitSignal(controller.protocol.started, timeout=WAIT_MS) as started:
        controller.connect_to(profile)
    assert started.args == ["socket.io"]
    assert [verb.name for verb in controller.protocol.verbs()][:2] == ["emit", "connect"]
    # six pings at 200 ms answered: past pingInterval + pingTimeout (700 ms)
    qtbot.waitUntil(lambda: _sent(controller).count(b"3") >= 6, timeout=WAIT_MS)
    assert controller.is_open
    with qtbot.waitSignal(controller.protocol.acknowledged, timeout=WAIT_MS) as acked:
        invoked = controller.protocol.invoke("emit", event="ask", args="[21]", ack=True)
    assert acked.args[0].data["args"] == [{"double": 42}, {"$bytes": "fffe"}] and invoked.ref == "0"
    assert _sent(controller)[:1] == [b"40"] and b'420["ask",21]' in _sent(controller)
    with qtbot.waitSignal(controller.protocol.stopped, timeout=WAIT_MS):
        controller.disconnect()
    assert controller.protocol.verbs() == ()


def test_without_a_protocol_mode_the_socketio_server_drops_the_connection(qtbot, controller, quick_socketio):
    profile = ConnectionProfile(name="sio", endpoint=Endpoint(quick_socketio.url))
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS):
        controller.connect_to(profile)
    assert b"3" not in _sent(controller)
    with pytest.raises(ProtocolError, match="No protocol is spoken on this connection"):
        controller.protocol.invoke("emit", event="x")


def test_graphql_mode_subscribes_and_receives_data(qtbot, controller, node_server):  # noqa: F811
    url = f"ws://127.0.0.1:{node_server('graphql_server.mjs')}/graphql"
    profile = ConnectionProfile(name="gql", endpoint=Endpoint(url),
                                handshake=Handshake(subprotocols=("graphql-transport-ws",)),
                                decoding=Decoding(mode="graphql", mode_options=(("payload", '{"token": "x"}'),)))
    with qtbot.waitSignal(controller.protocol.started, timeout=WAIT_MS):
        controller.connect_to(profile)
    data: list[Any] = []
    controller.protocol.data_received.connect(data.append)
    ident = controller.protocol.invoke("subscribe", query="subscription { count(to: 2) }").ref
    qtbot.waitUntil(lambda: len(data) == 2, timeout=WAIT_MS)
    assert [event.data["payload"] for event in data] == [{"data": {"count": 1}}, {"data": {"count": 2}}]
    assert all(event.data["id"] == ident for event in data)
    assert _sent(controller)[0] == b'{"type":"connection_init","payload":{"token":"x"}}'


def test_mqtt_mode_offers_its_subprotocol_and_keeps_the_connection_alive(qtbot, controller, mosquitto):  # noqa: F811
    """mosquitto refuses a WebSocket that offers no ``mqtt`` subprotocol: the mode offers it."""
    profile = ConnectionProfile(name="mqtt", endpoint=Endpoint(f"ws://127.0.0.1:{mosquitto}"),
                                decoding=Decoding(mode="mqtt", mode_options=(("keep_alive", "1"),)))
    events: list[Any] = []
    controller.protocol.protocol_event.connect(events.append)
    with qtbot.waitSignal(controller.protocol.started, timeout=WAIT_MS):
        controller.connect_to(profile)
    qtbot.waitUntil(lambda: any(event.kind == "connected" for event in events), timeout=WAIT_MS)
    with qtbot.waitSignal(controller.protocol.acknowledged, timeout=WAIT_MS):
        controller.protocol.invoke("subscribe", topic="a/#", qos="1")
    with qtbot.waitSignal(controller.protocol.data_received, timeout=WAIT_MS) as data:
        controller.protocol.invoke("publish", topic="a/b", payload="hi", qos="1")
    assert data.args[0].data["payload"] == "hi"
    # a second of silence: the mode sends PINGREQ and mosquitto answers
    qtbot.waitUntil(lambda: b"\xc0\x00" in _sent(controller), timeout=WAIT_MS)
    assert controller.is_open


def test_a_bad_verb_field_is_refused_in_one_line(qtbot, controller, quick_socketio):
    profile = ConnectionProfile(name="sio", endpoint=Endpoint(quick_socketio.url),
                                decoding=Decoding(mode="socket.io"))
    with qtbot.waitSignal(controller.protocol.started, timeout=WAIT_MS):
        controller.connect_to(profile)
    with pytest.raises(ProtocolError, match=r"^emit: args is not JSON: Expecting value at character 2$"):
        controller.protocol.invoke("emit", event="x", args="[,]")


def test_a_recorded_socketio_session_saved_as_a_test_speaks_socketio_and_passes(qtbot, tmp_path, controller,
                                                                                quick_socketio):
    from tests.cli.conftest import Cli
    from wsinspector.app.tests import scenario_from_session
    from wsinspector.core.scenario.model import EventStep, VerbStep
    from wsinspector.core.scenario.yaml_io import write_test

    profile = ConnectionProfile(name="sio", endpoint=Endpoint(quick_socketio.url), decoding=Decoding(mode="auto"))
    with qtbot.waitSignal(controller.protocol.started, timeout=WAIT_MS):
        controller.connect_to(profile)
    with qtbot.waitSignal(controller.protocol.acknowledged, timeout=WAIT_MS):
        controller.protocol.invoke("emit", event="ask", args=[21], ack=True)
    with qtbot.waitSignal(controller.protocol.data_received, timeout=WAIT_MS):
        controller.protocol.invoke("emit", event="chat", args=["hi"])
    qtbot.waitUntil(lambda: _sent(controller).count(b"3") >= 3, timeout=WAIT_MS)
    controller.flush()
    test = scenario_from_session(controller.log, "sio", quick_socketio.url)
    assert test.protocol == "socket.io" and test.protocol_options == (("namespace", "/"),)
    assert [(type(step).__name__, getattr(step, "verb", getattr(step, "kind", ""))) for step in test.steps] == [
        ("VerbStep", "emit"), ("EventStep", "ack"), ("VerbStep", "emit"), ("EventStep", "event")]
    assert isinstance(test.steps[0], VerbStep) and dict(test.steps[0].fields) == {"event": "ask", "args": [21],
                                                                                    "ack": True}
    assert isinstance(test.steps[3], EventStep) and test.steps[3].event == "reply"
    assert test.steps[3].value == [{"text": "hi", "blob": {"$bytes": "000102"}}]
    path = tmp_path / "sio.wstest.yaml"
    write_test(path, test)
    cli = Cli(qtbot, tmp_path)
    try:
        result = cli("run", str(path), "--no-record", "--speed", "max")
    finally:
        cli.close()
    assert result.returncode == 0, result.output
