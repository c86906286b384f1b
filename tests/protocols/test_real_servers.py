"""The protocol sessions speaking to real servers over loopback: python-socketio (a 200 ms ping interval and a
500 ms timeout, so a connection that did not answer its pings would be dropped within the test), graphql-ws and
subscriptions-transport-ws, stomp-broker-js, and mosquitto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.decoder_peers import SocketIoServer
from tests.protocols.speaker import Speaker
from wsinspector.core.protocols.graphql import LEGACY, GraphQlSession
from wsinspector.core.protocols.mqtt import MqttSession
from wsinspector.core.protocols.socketio import SocketIoSession
from wsinspector.core.protocols.stomp import StompSession


@pytest.fixture
def quick_socketio(run: Callable[..., Any]) -> Iterator[SocketIoServer]:
    server = run(SocketIoServer(ping_interval=0.2, ping_timeout=0.5).start())
    yield server
    run(server.stop())


def test_a_socketio_connection_outlives_the_servers_ping_timeout_and_gets_its_ack(run, quick_socketio):
    async def talk() -> Speaker:
        async with Speaker(SocketIoSession(), quick_socketio.url) as speaker:
            await speaker.until(lambda: speaker.of("connected"))
            pongs = lambda: sum(1 for sent in speaker.sent if sent == b"3")  # noqa: E731
            # six pings at 200 ms: past pingInterval + pingTimeout (700 ms), when a silent client is dropped
            await speaker.until(lambda: pongs() >= 6)
            invoked = await speaker.invoke("emit", event="ask", args=[21], ack=True)
            await speaker.until(lambda: speaker.of("ack"))
            assert invoked.ref == "0"
            await speaker.invoke("emit", event="chat", args=["hi"])
            await speaker.until(lambda: speaker.of("event"))
            return speaker

    speaker = run(talk(), timeout=20)
    assert not speaker.of("closed") and not speaker.of("error")
    ack = speaker.of("ack")[0]
    assert ack.data["event"] == "ask" and ack.data["args"] == [{"double": 42}, {"$bytes": "fffe"}]
    reply = speaker.of("event")[0]
    assert reply.data["event"] == "reply" and reply.data["args"] == [{"text": "hi", "blob": {"$bytes": "000102"}}]


def test_a_socketio_namespace_gets_its_auth(run, quick_socketio):
    async def talk() -> Speaker:
        async with Speaker(SocketIoSession(), quick_socketio.url) as speaker:
            await speaker.until(lambda: speaker.of("connected"))
            await speaker.invoke("connect", namespace="/admin", auth='{"token": "t0k"}')
            await speaker.until(lambda: len(speaker.of("connected")) == 2)
            return speaker

    speaker = run(talk())
    assert [e.data["namespace"] for e in speaker.of("connected")] == ["/", "/admin"]
    assert quick_socketio.auth == [{"token": "t0k"}]


def test_a_socketio_session_without_pings_says_the_server_gave_up():
    """The session's watchdog: a server silent for pingInterval + pingTimeout is reported once."""
    session = SocketIoSession()
    session.start(100.0)
    session.receive(b'0{"sid":"x","pingInterval":200,"pingTimeout":200}', True, 100.0)
    assert session.next_deadline() == pytest.approx(100.4)
    session.tick(100.5)
    assert [e.text for e in session.drain_events()][-1].startswith("Socket.IO: no ping from the server for 0.4 s")
    assert session.next_deadline() is None


@pytest.mark.parametrize("script, path, protocol", [("graphql_server.mjs", "graphql", "graphql-transport-ws"),
                                                    ("legacy_graphql_server.mjs", "legacy", LEGACY)],
                         ids=["graphql-transport-ws", "subscriptions-transport-ws"])
def test_a_graphql_subscription_receives_its_data(run, node_server, script, path, protocol):
    url = f"ws://127.0.0.1:{node_server(script)}/{path}"

    async def talk() -> Speaker:
        session = GraphQlSession(payload={"token": "x"}, protocol=protocol)
        async with Speaker(session, url, [protocol]) as speaker:
            # subscribed before the ack: it waits for it
            await speaker.invoke("subscribe", query="subscription C($to: Int!) { count(to: $to) }",
                                 variables='{"to": 3}', operationName="C")
            await speaker.until(lambda: speaker.of("complete"))
            return speaker

    speaker = run(talk())
    assert [e.data["payload"] for e in speaker.of("data")] == [{"data": {"count": n}} for n in (1, 2, 3)]
    assert speaker.of("connected") and not speaker.of("error")
    assert speaker.sent[0].startswith(b'{"type":"connection_init","payload":{"token":"x"}}')


def test_a_stomp_subscription_receives_what_is_sent_with_receipts(run, qtbot, tmp_path, node_server):
    """stomp-broker-js answers a receipt for DISCONNECT only (its SEND receipt is lost in its middleware, and it
    has none for SUBSCRIBE): the subscription is waited for in the broker's output."""
    url = f"ws://127.0.0.1:{node_server('stomp_server.mjs')}/stomp"
    reader = Speaker(StompSession(), url, ["v11.stomp"])

    async def subscribe() -> str:
        await reader.__aenter__()
        await reader.until(lambda: reader.of("connected"))
        return (await reader.invoke("subscribe", destination="/topic/prices")).ref

    async def send() -> Speaker:
        async with Speaker(StompSession(), url, ["v11.stomp"]) as writer:
            await writer.until(lambda: writer.of("connected"))
            await writer.invoke("send", destination="/topic/prices", body='{"p": 1}',
                                content_type="application/json")
            goodbye = await writer.invoke("disconnect")
            await writer.until(lambda: writer.of("ack"))
            assert writer.of("ack")[0].data["receipt"] == goodbye.ref
            return writer

    async def receive() -> None:
        await reader.until(lambda: reader.of("data"))
        await reader.__aexit__()

    subscription = run(subscribe())
    qtbot.waitUntil(lambda: f"subscribed {subscription} /topic/prices" in
                    (tmp_path / "stomp_server.mjs.out").read_text())
    writer = run(send())
    run(receive())
    assert [e.text for e in writer.of("ack")] == ["receipt receipt-0 for DISCONNECT"]
    assert writer.session.closed
    message = reader.of("data")[0]
    assert message.data["destination"] == "/topic/prices" and message.data["body"] == {"json": {"p": 1}}
    assert message.data["subscription"] == subscription
    assert not reader.of("error") and not writer.of("error")


def test_stomp_heart_beats_go_at_the_negotiated_interval():
    session = StompSession(heart_beat=(500, 0))
    session.start(0.0)
    session.receive(b"CONNECTED\nversion:1.2\nheart-beat:0,2000\n\n\0", True, 0.1)
    assert session.send_every_s == 2.0 and session.next_deadline() == pytest.approx(2.0)
    assert session.tick(1.0) == []
    assert [m.payload for m in session.tick(2.0)] == [b"\n"]
    assert session.next_deadline() == pytest.approx(4.0)


@pytest.mark.parametrize("version", [4, 5], ids=["3.1.1", "5.0"])
def test_mqtt_publish_subscribe_through_mosquitto_with_keep_alive(run, mosquitto, version):
    url = f"ws://127.0.0.1:{mosquitto}"

    async def talk() -> Speaker:
        async with Speaker(MqttSession(client_id=f"t{version}", keep_alive=1, version=version), url,
                           ["mqtt"]) as speaker:
            await speaker.until(lambda: speaker.of("connected"))
            await speaker.invoke("subscribe", topic="sensors/#", qos="1")
            await speaker.until(lambda: speaker.of("ack"))
            await speaker.invoke("publish", topic="sensors/1", payload='{"t": 21}', qos="1")
            await speaker.until(lambda: speaker.of("data") and len(speaker.of("ack")) == 2)
            # nothing sent for the keep-alive: a PINGREQ goes and its PINGRESP comes back
            await speaker.until(lambda: b"\xd0\x00" in speaker.received, timeout=5)
            return speaker

    speaker = run(talk(), timeout=20)
    assert b"\xc0\x00" in speaker.sent
    data = speaker.of("data")[0]
    assert data.data["topic"] == "sensors/1" and data.data["qos"] == 1
    assert [e.data["what"] for e in speaker.of("ack")] == ["SUBSCRIBE sensors/#", "PUBLISH sensors/1"]
    assert not speaker.of("error")
