"""``wsinspector run`` with a test file that speaks a protocol: Socket.IO against python-socketio (a 200 ms ping
interval and a 500 ms timeout: a run that did not answer the server's pings would be dropped), GraphQL against
graphql-ws in node. A wrong expectation fails the run (exit 1, JUnit failure)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.decoder_peers import SocketIoServer
from tests.decoders.test_real_peers import mosquitto, node_server  # noqa: F401

SOCKETIO_TEST = """\
version: 1
name: chat over socket.io
url: {url}
protocol: socket.io
timeout: 5
steps:
  - name: ask
    emit:
      event: ask
      args: [21]
      ack: true
  - name: the answer
    expect:
      ack: [{{double: {double}}}, {{$bytes: fffe}}]
  - wait: 1
  - emit: {{event: chat, args: [hi]}}
  - name: the reply
    expect:
      event: reply
      args: [{{text: hi, blob: {{$bytes: "000102"}}}}]
"""

GRAPHQL_TEST = """\
version: 1
name: count
url: {url}
subprotocols: [graphql-transport-ws]
protocol: graphql
steps:
  - subscribe:
      query: "subscription ($to: Int!) {{ count(to: $to) }}"
      variables: {{to: 2}}
  - expect: {{data: {{data: {{count: 1}}}}, id: "1"}}
  - expect: {{data: {{data: {{count: {second}}}}}}}
"""


@pytest.fixture
def quick_socketio(run: Callable[..., Any]) -> Iterator[SocketIoServer]:
    server = run(SocketIoServer(ping_interval=0.2, ping_timeout=0.5).start())
    yield server
    run(server.stop())


def _suite(report: Path) -> ET.Element:
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    return suite


def test_a_socketio_test_emits_gets_its_ack_and_its_event_and_outlives_the_ping_timeout(
        cli: Cli, tmp_path: Path, quick_socketio: SocketIoServer) -> None:
    test = tmp_path / "chat.wstest.yaml"
    test.write_text(SOCKETIO_TEST.format(url=quick_socketio.url, double=42), "utf-8")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--junit", str(report))
    assert result.returncode == 0, result.output
    assert "the reply" in result.stdout and _suite(report).get("failures") == "0"


def test_a_socketio_test_with_a_wrong_ack_fails(cli: Cli, tmp_path: Path, quick_socketio: SocketIoServer) -> None:
    test = tmp_path / "chat.wstest.yaml"
    test.write_text(SOCKETIO_TEST.format(url=quick_socketio.url, double=43), "utf-8")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--junit", str(report))
    assert result.returncode == 1, result.output
    assert "ack differs: $[0].double: expected 43, got 42" in result.stdout
    failures = [(case.get("name"), failure.get("message")) for case in _suite(report).iter("testcase")
                for failure in case.iter("failure")]
    assert failures == [("the answer", "ack differs: $[0].double: expected 43, got 42")]


@pytest.mark.parametrize("second, code", [(2, 0), (3, 1)], ids=["right", "wrong"])
def test_a_graphql_test_subscribes_and_expects_its_data(cli: Cli, tmp_path: Path, node_server, second, code):  # noqa: F811
    url = f"ws://127.0.0.1:{node_server('graphql_server.mjs')}/graphql"
    test = tmp_path / "count.wstest.yaml"
    test.write_text(GRAPHQL_TEST.format(url=url, second=second), "utf-8")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--junit", str(report))
    assert result.returncode == code, result.output
    assert _suite(report).get("failures") == str(code)
    if code:
        assert "data differs: $.data.count: expected 3, got 2" in result.stdout


MQTT_TEST = """\
version: 1
name: sensors
url: ws://127.0.0.1:{port}
protocol: mqtt
protocol_options:
  client_id: run-test
  keep_alive: '1'
steps:
  - subscribe: {{topic: sensors/#, qos: '1'}}
  - expect: {{ack: 'SUBSCRIBE sensors/#'}}
  - wait: 1.5
  - publish: {{topic: sensors/1, payload: '{{"t": 21}}', qos: '1'}}
  - expect: {{ack: PUBLISH sensors/1}}
  - expect: {{data: {{json: {{t: {t}}}}}, topic: sensors/1}}
"""


@pytest.mark.parametrize("t, code", [(21, 0), (22, 1)], ids=["right", "wrong"])
def test_an_mqtt_test_publishes_and_receives_through_mosquitto_past_its_keep_alive(cli: Cli, tmp_path: Path,
                                                                                   mosquitto: int, t: int,  # noqa: F811
                                                                                   code: int) -> None:
    test = tmp_path / "sensors.wstest.yaml"
    test.write_text(MQTT_TEST.format(port=mosquitto, t=t), "utf-8")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--junit", str(report), "--no-record")
    assert result.returncode == code, result.output
    assert _suite(report).get("failures") == str(code)
