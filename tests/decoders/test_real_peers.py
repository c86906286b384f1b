"""The decoders on sessions recorded from real servers over loopback: python-socketio, mosquitto (MQTT 3.1.1
and 5.0 over its websockets listener) and graphql-ws in node. The frames are what those servers really sent;
the decoders read them as a session (the registry's choice from the URL or subprotocol, then each frame)."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.core.decoders.examples import mqtt_packet, utf8
from tests.decoder_peers import (
    RecordingClient,
    SocketIoServer,
    mosquitto_binary,
    mosquitto_config,
    node_peers_ready,
)
from wsinspector.core.decoders.registry import decoder_registry
from wsinspector.core.decoders.session import SessionDecoding


def _decoded(recording: Any, url: str = "") -> list[str]:
    session = SessionDecoding(decoder_registry(), recording.frame, subprotocol=recording.subprotocol, url=url)
    summaries = []
    for index in range(len(recording.frames)):
        decoded = session.decoded(index)
        assert decoded is not None and decoded.ok, (index, recording.frames[index], decoded)
        summaries.append(f"{recording.frames[index].arrow} {decoded.summary}")
    assert decoder_registry().problems == []
    return summaries


@pytest.fixture
def socketio_server(run: Callable[..., Any]) -> Iterator[SocketIoServer]:
    server = run(SocketIoServer().start())
    yield server
    run(server.stop())


def test_a_python_socketio_session_reads_as_events_acks_and_joined_attachments(run, socketio_server):
    async def talk() -> RecordingClient:
        async with RecordingClient(socketio_server.url) as client:
            await client.recv()  # Engine.IO open
            await client.send("40")
            await client.recv()
            await client.send('40/admin,{"token":"t0k"}')
            await client.recv()
            await client.send('42["chat","hi"]')
            await client.recv()  # the binary event, then its attachment
            await client.recv()
            await client.send('421["ask",21]')
            await client.recv()
            await client.recv()
            return client

    recording = run(talk()).recording
    summaries = _decoded(recording, socketio_server.url)
    sid = json.loads(recording.frames[0].payload[1:])["sid"]
    assert summaries[0] == f"< OPEN sid={sid} pingInterval=25000"
    assert summaries[1:4] == ["> CONNECT /", summaries[2], '> CONNECT /admin {"token":"t0k"}']
    assert summaries[2].startswith('< CONNECT / {"sid":"')
    assert summaries[4].startswith('< CONNECT /admin {"sid":"')
    assert summaries[5:] == [
        '> EVENT chat ["hi"]',
        '< EVENT reply [{"text":"hi","blob":{"$bytes":"000102"}}] (+1 binary)',
        "< ATTACHMENT 1/1 of EVENT reply (3 bytes)",
        "> EVENT ask [21] ack 1",
        '< ACK 1 [{"double":42},{"$bytes":"fffe"}]',
        "< ATTACHMENT 1/1 of ACK 1 (2 bytes)",
    ]
    assert socketio_server.auth == [{"token": "t0k"}]


def test_a_subscriptions_transport_ws_session_reads_as_the_legacy_protocol(run, node_server):
    url = f"ws://127.0.0.1:{node_server('legacy_graphql_server.mjs')}/legacy"

    async def talk() -> RecordingClient:
        async with RecordingClient(url, ["graphql-ws"]) as client:
            await client.send(json.dumps({"type": "connection_init", "payload": {}}))
            await client.recv()
            await client.send(json.dumps({"id": "1", "type": "start", "payload": {
                "query": "subscription Count { count(to: 2) }"}}))
            for _ in range(3):  # data, data, complete
                await client.recv()
            await client.send(json.dumps({"id": "1", "type": "stop"}))
            return client

    recording = run(talk()).recording
    assert recording.subprotocol == "graphql-ws"
    assert _decoded(recording) == [
        "> connection_init {}",
        "< connection_ack",
        "> start 1 subscription Count",
        '< data 1 {"data":{"count":1}}',
        '< data 1 {"data":{"count":2}}',
        "< complete 1",
        "> stop 1",
    ]
    session = SessionDecoding(decoder_registry(), recording.frame, subprotocol="graphql-ws")
    assert session.decoded(3).tree["variant"] == "subscriptions-transport-ws"
    assert session.decoded(2).fields == {"type": "start", "operation": "1", "operation_name": "Count"}


def test_a_node_socket_io_session_reads_as_the_python_one_does(run, node_server):
    """The reference implementation (npm socket.io) frames its binary events and acks as python-socketio does."""
    url = f"ws://127.0.0.1:{node_server('socketio_server.mjs')}/socket.io/?EIO=4&transport=websocket"

    async def talk() -> RecordingClient:
        async with RecordingClient(url) as client:
            await client.recv()  # Engine.IO open
            await client.send("40")
            await client.recv()
            await client.send('40/admin,{"token":"t0k"}')
            for _ in range(2):  # the namespace's CONNECT and its welcome event
                await client.recv()
            await client.send('42["chat","hi"]')
            await client.recv()
            await client.recv()
            await client.send('421["ask",21]')
            await client.recv()
            await client.recv()
            return client

    recording = run(talk()).recording
    summaries = _decoded(recording, url)
    assert summaries[0].startswith("< OPEN sid=") and summaries[0].endswith(" pingInterval=25000")
    assert summaries[1] == "> CONNECT /" and summaries[3] == '> CONNECT /admin {"token":"t0k"}'
    assert summaries[2].startswith('< CONNECT / {"sid":"') and summaries[4].startswith('< CONNECT /admin {"sid":"')
    assert summaries[5] == '< EVENT /admin welcome [{"token":"t0k"}]'
    assert summaries[6:] == [
        '> EVENT chat ["hi"]',
        '< EVENT reply [{"text":"hi","blob":{"$bytes":"000102"}}] (+1 binary)',
        "< ATTACHMENT 1/1 of EVENT reply (3 bytes)",
        "> EVENT ask [21] ack 1",
        '< ACK 1 [{"double":42},{"$bytes":"fffe"}]',
        "< ATTACHMENT 1/1 of ACK 1 (2 bytes)",
    ]


def test_a_stomp_broker_session_reads_as_frames(run, qtbot, tmp_path, node_server):
    """stomp-broker-js (npm), a STOMP 1.1 broker with a WebSocket listener: one client subscribes, another
    sends, the broker delivers to the first."""
    url = f"ws://127.0.0.1:{node_server('stomp_server.mjs')}/stomp"
    connect = "CONNECT\naccept-version:1.1\nhost:127.0.0.1\nheart-beat:0,0\n\n\x00"

    async def subscribe() -> RecordingClient:
        client = await RecordingClient(url, ["v11.stomp"]).__aenter__()
        await client.send(connect)
        await client.recv()
        await client.send("SUBSCRIBE\nid:sub-0\ndestination:/topic/prices\n\n\x00")
        return client

    async def publish() -> RecordingClient:
        async with RecordingClient(url, ["v11.stomp"]) as client:
            await client.send(connect)
            await client.recv()
            await client.send('SEND\ndestination:/topic/prices\ncontent-type:application/json\n\n{"ACME":3.5}\x00')
            await client.send("DISCONNECT\n\n\x00")
            return client

    async def receive(client: RecordingClient) -> RecordingClient:
        await client.recv()
        await client.__aexit__()
        return client

    subscriber = run(subscribe())
    qtbot.waitUntil(lambda: "subscribed sub-0 /topic/prices" in (tmp_path / "stomp_server.mjs.out").read_text())
    sender = run(publish()).recording
    received = run(receive(subscriber)).recording
    assert received.subprotocol == "v11.stomp"
    summaries = _decoded(received)
    assert summaries[0] == "> CONNECT host=127.0.0.1 accept-version=1.1 heart-beat=0,0"
    assert summaries[1] == "< CONNECTED version=1.1"
    assert summaries[2] == "> SUBSCRIBE /topic/prices id=sub-0"
    assert summaries[3] == '< MESSAGE /topic/prices {"ACME":3.5}'
    message = SessionDecoding(decoder_registry(), received.frame, subprotocol="v11.stomp").decoded(3)
    assert message.fields["destination"] == "/topic/prices" and message.fields["subscription"] == "sub-0"
    assert _decoded(sender)[2:] == ['> SEND /topic/prices {"ACME":3.5}', "> DISCONNECT"]


# -- MQTT over WebSocket: mosquitto -------------------------------------------------------------------

@pytest.fixture
def mosquitto(qtbot: Any, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    log = (tmp_path / "mosquitto.log").open("wb")
    config = mosquitto_config(tmp_path / "m.conf", port, free_port())
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)

    def listening() -> bool:
        assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text(errors="replace")
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    qtbot.waitUntil(listening, timeout=20_000)
    yield port
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def _connect(level: int, client_id: str, properties: bytes = b"") -> bytes:
    body = utf8("MQTT") + bytes([level, 0x02]) + (60).to_bytes(2, "big")
    if level == 5:
        body += bytes([len(properties)]) + properties
    return mqtt_packet(0x10, body + utf8(client_id))


def _subscribe(packet_id: int, topic: str, level: int) -> bytes:
    return mqtt_packet(0x82, packet_id.to_bytes(2, "big") + (b"\x00" if level == 5 else b"") + utf8(topic) + b"\x01")


def _publish(topic: str, packet_id: int, payload: bytes, level: int) -> bytes:
    return mqtt_packet(0x32, utf8(topic) + packet_id.to_bytes(2, "big") + (b"\x00" if level == 5 else b"") + payload)


@pytest.mark.parametrize("level", [4, 5], ids=["mqtt-3.1.1", "mqtt-5"])
def test_a_mosquitto_session_reads_as_packets_even_when_they_span_and_share_frames(run, mosquitto, level):
    connect = _connect(level, f"wsi-{level}", b"\x11\x00\x00\x00\x3c" if level == 5 else b"")
    publish = _publish("sensors/1", 2, b'{"t":21.5}', level)

    async def talk() -> RecordingClient:
        async with RecordingClient(f"ws://127.0.0.1:{mosquitto}/mqtt", ["mqtt"]) as client:
            await client.send(connect[:7])  # CONNECT spread over two frames: the broker reads one stream
            await client.send(connect[7:])
            await client.recv()  # CONNACK
            # SUBSCRIBE and the start of a PUBLISH share a frame, the PUBLISH ends in the next
            await client.send(_subscribe(1, "sensors/#", level) + publish[:6])
            await client.send(publish[6:])
            for _ in range(3):  # SUBACK, PUBACK and the broker's delivery of the PUBLISH, in its order
                await client.recv()
            await client.send(b"\xc0\x00")
            await client.recv()
            return client

    recording = run(talk()).recording
    assert recording.subprotocol == "mqtt"
    summaries = _decoded(recording)
    version = "3.1.1" if level == 4 else "5.0"
    assert summaries[:3] == [
        f"> CONNECT continues in the next frame (7 of {len(connect)} bytes)",
        f"> (end of) CONNECT client=wsi-{level} v{version} keepalive=60",
        summaries[2],
    ]
    assert summaries[2].startswith("< CONNACK rc=0")
    assert summaries[3] == f"> SUBSCRIBE sensors/# qos1 id=1; PUBLISH continues in the next frame (6 of " \
        f"{len(publish)} bytes)"
    assert summaries[4] == '> (end of) PUBLISH sensors/1 qos1 id=2 {"t":21.5}'
    received = sorted(summaries[5:8])
    assert received[0].startswith("< PUBACK id=2")
    assert received[1].startswith('< PUBLISH sensors/1 qos1 id=') and received[1].endswith('{"t":21.5}')
    assert received[2] == ("< SUBACK id=1 [1]")
    assert summaries[8:] == ["> PINGREQ", "< PINGRESP"]
    session = SessionDecoding(decoder_registry(), recording.frame, subprotocol="mqtt")
    delivered = next(session.decoded(i) for i in range(5, 8) if "< PUBLISH" in summaries[i])
    assert delivered.fields["topic"] == "sensors/1"
    assert delivered.tree["version"] == version


# -- GraphQL over WebSocket: graphql-ws in node --------------------------------------------------------------

@pytest.fixture
def node_server(qtbot: Any, tmp_path: Path) -> Iterator[Callable[[str], int]]:
    """``node_server("graphql_server.mjs")`` starts one of tests/node_peers' servers; its port. What the server
    prints is in ``tmp_path / "<script>.out"``."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(script: str) -> int:
        peers = node_peers_ready()
        out = tmp_path / f"{script}.out"
        with out.open("wb") as sink:
            proc = subprocess.Popen(["node", str(peers / script)], stdout=sink, stderr=subprocess.STDOUT, cwd=peers)
        procs.append(proc)

        def port() -> int:
            assert proc.poll() is None, out.read_text(errors="replace")
            text = out.read_text()
            return int(text.split("listening on ")[1].split()[0]) if "listening on " in text and "\n" in text else 0

        qtbot.waitUntil(lambda: port() > 0, timeout=30_000)
        return port()

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_graphql_ws_session_reads_as_operations(run, node_server):
    graphql_ws = node_server("graphql_server.mjs")

    async def talk() -> RecordingClient:
        async with RecordingClient(f"ws://127.0.0.1:{graphql_ws}/graphql", ["graphql-transport-ws"]) as client:
            await client.send(json.dumps({"type": "connection_init", "payload": {"token": "x"}}))
            await client.recv()
            await client.send(json.dumps({"id": "op1", "type": "subscribe", "payload": {
                "query": "subscription Count($to: Int!) { count(to: $to) }", "variables": {"to": 2}}}))
            for _ in range(3):  # next, next, complete
                await client.recv()
            await client.send(json.dumps({"type": "ping"}))
            await client.recv()
            return client

    recording = run(talk()).recording
    assert recording.subprotocol == "graphql-transport-ws"
    assert _decoded(recording) == [
        '> connection_init {"token":"x"}',
        "< connection_ack",
        '> subscribe op1 subscription Count {"to":2}',
        '< next op1 {"data":{"count":1}}',
        '< next op1 {"data":{"count":2}}',
        "< complete op1",
        "> ping",
        "< pong",
    ]
