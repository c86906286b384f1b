"""A session recorded while speaking STOMP (stomp-broker-js in node), MQTT (mosquitto), SignalR and Phoenix (servers
that answer as those protocols' specifications say: theirs need .NET and Elixir) becomes a test that speaks the
protocol, and ``wsinspector run`` passes it against the same server: the verbs are sent again, the housekeeping done
again, what came back expected again; the credential of the first connect is a variable the run is given."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli
from tests.decoders.test_real_peers import mosquitto, node_server  # noqa: F401
from tests.protocols.speaker import Speaker
from wsinspector.core.protocols.mqtt import MqttSession
from wsinspector.core.protocols.phoenix import PhoenixSession
from wsinspector.core.protocols.signalr import SignalRSession
from wsinspector.core.protocols.stomp import StompSession
from wsinspector.core.scenario.from_protocol import session_protocol
from wsinspector.core.scenario.from_session import scenario_from_frames
from wsinspector.core.scenario.model import EventStep, Scenario, VerbStep
from wsinspector.core.scenario.yaml_io import dump


def _test_of(speaker: Speaker, subprotocols: tuple[str, ...] = ()) -> Scenario:
    protocol = session_protocol(speaker.recorded, subprotocol=subprotocols[0] if subprotocols else "",
                                url=speaker.url)
    return scenario_from_frames(speaker.recorded, "recorded", speaker.url, started_ns=speaker.started_ns,
                                subprotocols=subprotocols, protocol=protocol)


def _passes(cli: Cli, tmp_path: Path, test: Scenario, *variables: str) -> str:
    path = tmp_path / "recorded.wstest.yaml"
    path.write_text(dump(test), "utf-8")
    result = cli("run", str(path), "--no-record", *(arg for v in variables for arg in ("--var", v)))
    assert result.returncode == 0, result.output
    return path.read_text("utf-8")


def test_a_recorded_stomp_session_runs_again_as_a_stomp_test(run, cli, tmp_path, node_server):  # noqa: F811
    url = f"ws://127.0.0.1:{node_server('stomp_server.mjs')}/stomp"

    async def talk() -> Speaker:
        session = StompSession(login="ann", passcode="s3cret", heart_beat=(0, 0))
        async with Speaker(session, url, ["v11.stomp"]) as speaker:
            await speaker.until(lambda: speaker.of("connected"))
            await speaker.invoke("subscribe", destination="/topic/echo", id="echoes")
            await speaker.invoke("send", destination="/queue/echo", body='{"p": 1}', content_type="application/json")
            await speaker.until(lambda: speaker.of("data"))
            await speaker.invoke("disconnect")
            await speaker.until(lambda: speaker.of("ack"))
            return speaker

    speaker = run(talk())
    test = _test_of(speaker, ("v11.stomp",))
    assert test.protocol == "stomp"
    assert test.protocol_options == (("host", "/"), ("login", "ann"), ("passcode", "{{passcode}}"),
                                     ("heart_beat", "0,0"))
    assert [type(step).__name__ for step in test.steps] == ["VerbStep", "VerbStep", "EventStep", "VerbStep",
                                                            "EventStep"]
    assert test.steps[2] == EventStep("data", {"json": {"p": 1}}, True, "", (("destination", "/topic/echo"),))
    assert test.steps[4] == EventStep("ack", "DISCONNECT")
    text = _passes(cli, tmp_path, test, "passcode=s3cret")
    assert "s3cret" not in text


def test_a_recorded_mqtt_session_runs_again_as_an_mqtt_test(run, cli, tmp_path, mosquitto):  # noqa: F811
    url = f"ws://127.0.0.1:{mosquitto}"

    async def talk() -> Speaker:
        session = MqttSession(client_id="recorder", keep_alive=30, version=5, username="ann", password="pw")
        async with Speaker(session, url, ["mqtt"]) as speaker:
            await speaker.until(lambda: speaker.of("connected"))
            await speaker.invoke("subscribe", topic="sensors/#", qos="1")
            await speaker.until(lambda: speaker.of("ack"))
            await speaker.invoke("publish", topic="sensors/1", payload='{"t": 21}', qos="1")
            await speaker.invoke("publish", topic="sensors/2", payload="on", qos="0")
            await speaker.until(lambda: len(speaker.of("data")) == 2 and len(speaker.of("ack")) == 2)
            return speaker

    speaker = run(talk())
    test = _test_of(speaker, ("mqtt",))
    assert test.protocol == "mqtt"
    assert test.protocol_options == (("client_id", "recorder"), ("keep_alive", "30"), ("version", "5"),
                                     ("username", "ann"), ("password", "{{password}}"))
    verbs = [step for step in test.steps if isinstance(step, VerbStep)]
    assert [(step.verb, dict(step.fields)) for step in verbs] == [
        ("subscribe", {"topic": "sensors/#", "qos": "1"}),
        ("publish", {"topic": "sensors/1", "payload": '{"t": 21}', "qos": "1"}),
        ("publish", {"topic": "sensors/2", "payload": "on", "qos": "0"})]
    data = [step for step in test.steps if isinstance(step, EventStep) and step.kind == "data"]
    assert [(step.value, step.filters) for step in data] == [
        ({"json": {"t": 21}}, (("topic", "sensors/1"), ("qos", "1"))), ("on", (("topic", "sensors/2"), ("qos", "0")))]
    _passes(cli, tmp_path, test, "password=pw")


def test_a_recorded_signalr_session_runs_again_as_a_signalr_test(run, cli, tmp_path, signalr_hub):
    async def talk() -> Speaker:
        async with Speaker(SignalRSession(), signalr_hub.url) as speaker:
            await speaker.until(lambda: speaker.of("connected"))
            await speaker.invoke("invoke", target="Add", arguments=[1, 2])
            await speaker.invoke("send", target="Broadcast", arguments=["hi"])
            await speaker.invoke("stream", target="Counter", arguments=[2])
            await speaker.until(lambda: len(speaker.of("ack")) == 2 and speaker.of("event"))
            return speaker

    speaker = run(talk())
    test = _test_of(speaker)
    assert test.protocol == "signalr" and test.protocol_options == ()
    assert [step for step in test.steps if isinstance(step, EventStep)] == [
        EventStep("ack", 3), EventStep("event", ["hi"], True, "ReceiveMessage"),
        EventStep("data", 1, True, "", (("id", "1"),)), EventStep("data", 2, True, "", (("id", "1"),)),
        EventStep("ack", None)]
    _passes(cli, tmp_path, test)
    # what the run sent is what was recorded: three calls, after the handshake of each connection
    assert signalr_hub.received[-3:] == signalr_hub.received[1:4]


def test_a_recorded_phoenix_session_runs_again_as_a_phoenix_test(run, cli, tmp_path, phoenix_endpoint):
    async def talk() -> Speaker:
        async with Speaker(PhoenixSession(), phoenix_endpoint.url) as speaker:
            await speaker.invoke("join", topic="room:private", payload={"token": "t0k"})
            await speaker.invoke("push", topic="room:private", event="shout", payload={"body": "hi"})
            await speaker.invoke("push", topic="room:private", event="ping", payload={"n": 1})
            await speaker.invoke("leave", topic="room:private")
            await speaker.until(lambda: len(speaker.of("ack")) == 4 and speaker.of("closed"))
            return speaker

    speaker = run(talk())
    test = _test_of(speaker)
    assert test.protocol == "phoenix"
    assert test.steps[0] == VerbStep("join", (("topic", "room:private"), ("payload", {"token": "{{token}}"})),
                                     test.steps[0].delay_s)
    assert [step for step in test.steps if isinstance(step, EventStep)] == [
        EventStep("ack", {"joined": "room:private"}), EventStep("event", {"body": "hi"}, True, "shout"),
        EventStep("ack", {}), EventStep("ack", {"pong": {"n": 1}}), EventStep("ack", {})]
    text = _passes(cli, tmp_path, test, "token=t0k")
    assert "t0k" not in text
    # the run joined with the token it was given: the endpoint let it in and it shouted again
    assert sum('"shout"' in message for message in phoenix_endpoint.received) == 2
