"""Test files that speak a protocol: what the file says (and what it refuses), and a recorded GraphQL session
made into such a test."""

from __future__ import annotations

import pytest

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.scenario.from_protocol import session_protocol
from wsinspector.core.scenario.from_session import scenario_from_frames
from wsinspector.core.scenario.model import EventStep, VerbStep
from wsinspector.core.scenario.yaml_io import ScenarioFileError, dump, load

HEAD = "version: 1\nurl: ws://127.0.0.1:1/graphql\nsubprotocols: [graphql-transport-ws]\n"


def test_a_recorded_graphql_session_becomes_subscribe_and_expect_data_steps():
    s = 1_000_000_000
    messages = [
        (0, Direction.OUT, Opcode.TEXT, b'{"type":"connection_init","payload":{"token":"s3cret","lang":"en"}}'),
        (1 * s, Direction.IN, Opcode.TEXT, b'{"type":"connection_ack"}'),
        (2 * s, Direction.OUT, Opcode.TEXT,
         b'{"id":"1","type":"subscribe","payload":{"query":"subscription { count(to: 2) }"}}'),
        (3 * s, Direction.IN, Opcode.TEXT, b'{"id":"1","type":"next","payload":{"data":{"count":1}}}'),
        (3 * s, Direction.IN, Opcode.TEXT, b'{"type":"ping"}'),
        (3 * s, Direction.OUT, Opcode.TEXT, b'{"type":"pong"}'),
        (4 * s, Direction.IN, Opcode.TEXT, b'{"id":"1","type":"complete"}'),
    ]
    assert session_protocol(messages, subprotocol="graphql-transport-ws") == "graphql"
    assert session_protocol(messages) == "graphql"  # the first messages tell
    test = scenario_from_frames(messages, "count", "ws://127.0.0.1:1/graphql", started_ns=0,
                                subprotocols=("graphql-transport-ws",), protocol="graphql")
    assert test.protocol == "graphql"
    # the credential is a variable the file does not define, never the recorded value
    assert test.protocol_options == (("payload", '{"token":"{{token}}","lang":"en"}'),)
    assert test.steps == (
        VerbStep("subscribe", (("query", "subscription { count(to: 2) }"), ("id", "1")), 1.0),
        EventStep("data", {"data": {"count": 1}}, True, "", (("id", "1"),)),
    )
    assert "s3cret" not in dump(test) and load(dump(test)) == test


def test_plain_messages_that_do_not_read_as_the_protocol_stay_plain():
    messages = [(0, Direction.OUT, Opcode.TEXT, b"hello")]
    test = scenario_from_frames(messages, "t", "ws://x/", protocol="graphql")
    assert test.protocol == "" and len(test.steps) == 1


@pytest.mark.parametrize("text, message", [
    (HEAD + "protocol: xmpp\n", "protocol: unknown protocol 'xmpp'"),
    (HEAD + "protocol: graphql\nsteps:\n  - expect: {text: hi}\n",
     "in a graphql test every message goes to the protocol: expect an event, data or ack instead"),
    (HEAD + "steps:\n  - expect: {data: 1}\n", "an event, data or ack expectation needs the test's 'protocol'"),
    (HEAD + "protocol: graphql\nsteps:\n  - emit: {event: x}\n", "unknown key 'emit'"),
    (HEAD + "protocol: graphql\nsteps:\n  - subscribe: {variables: {}}\n", "'query' is missing"),
    (HEAD + "protocol: mqtt\nprotocol_options: {password: pw}\n", "a secret: write it as a variable"),
    (HEAD + "protocol: mqtt\nprotocol_options: {keep_alive: soon}\n", "option keep_alive must be a number"),
], ids=["unknown", "plain-expect", "no-protocol", "other-verb", "missing-field", "secret", "bad-option"])
def test_a_protocol_test_file_says_what_is_wrong_in_one_line(text, message):
    with pytest.raises(ScenarioFileError) as error:
        load(text)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_stomp_send_is_the_protocols_unless_it_says_text_json_or_binary():
    test = load("version: 1\nurl: ws://127.0.0.1:1/stomp\nprotocol: stomp\nsteps:\n"
                "  - send: {destination: /q, body: hi, receipt: true}\n  - send: {text: raw}\n"
                "  - expect: {ack: SEND /q}\n  - expect: {data: hi, destination: /q}\n")
    assert test.steps[0] == VerbStep("send", (("destination", "/q"), ("body", "hi"), ("receipt", True)))
    assert type(test.steps[1]).__name__ == "SendStep"
    assert test.steps[3] == EventStep("data", "hi", True, "", (("destination", "/q"),))
    assert load(dump(test)) == test


def test_a_protocol_option_variable_is_expanded_for_the_run_and_an_unknown_one_is_named():
    from wsinspector.core.frames import Opcode as Op
    from wsinspector.core.scenario.run import Replay, SendAction
    from wsinspector.core.scenario.variables import UndefinedVariablesError, check_variables

    test = load("version: 1\nurl: ws://127.0.0.1:1/mqtt\nprotocol: mqtt\nprotocol_options:\n"
                "  client_id: '{{who}}'\n  keep_alive: '{{every}}'\nsteps:\n  - subscribe: {topic: a}\n")
    with pytest.raises(UndefinedVariablesError, match=r"protocol_options\.client_id"):
        check_variables(test)
    replay = Replay(test, {"who": "ann", "every": "30"})
    action = replay.poll(0.0)
    assert isinstance(action, SendAction) and action.step == -1 and action.opcode is Op.BINARY
    assert action.payload.endswith(b"\x00\x1e\x00\x03ann")  # keep-alive 30, client id ann
    broken = Replay(test, {"who": "ann", "every": "soon"})
    broken.poll(0.0)
    result = broken.result()
    assert result.exit_code == 2 and result.steps[0].message == "mqtt: option keep_alive must be a number, not 'soon'"
