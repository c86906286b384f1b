"""Test files with a protocol: its verbs and event expectations are read, written back the same, and refused in
one line when wrong."""

from __future__ import annotations

import pytest

from wsinspector.core.scenario.model import EventStep, VerbStep
from wsinspector.core.scenario.yaml_io import ScenarioFileError, dump, load

HEAD = "version: 1\nurl: ws://127.0.0.1:1/\n"


def test_verbs_and_expectations_round_trip():
    test = load(HEAD + "protocol: socket.io\nprotocol_options: {namespace: /chat}\nsteps:\n"
                "  - emit: {event: hello, args: [1, {a: b}], ack: true, delay: 0.5}\n"
                "  - expect: {event: welcome, args: [ann], ignore: [$.ts], timeout: 2}\n"
                "  - expect: {ack: {ok: true}, timeout: 1.5}\n"
                "  - unlisten: {event: hello, delay: 3}\n")
    assert test.protocol == "socket.io" and test.protocol_options == (("namespace", "/chat"),)
    assert test.steps[0] == VerbStep("emit", (("event", "hello"), ("args", [1, {"a": "b"}]), ("ack", True)), 0.5)
    assert test.steps[1] == EventStep("event", ["ann"], True, "welcome", (), ("$.ts",), 2.0)
    assert test.steps[2] == EventStep("ack", {"ok": True}, True, "", (), (), 1.5)
    assert test.steps[3].delay_s == 3
    written = dump(test)
    assert "delay: 3\n" in written and "timeout: 1.5" in written and "$.ts" in written
    assert load(written) == test


def test_an_event_without_args_and_a_verb_without_fields():
    test = load(HEAD + "protocol: mqtt\nsteps:\n  - disconnect:\n")
    assert test.steps[0] == VerbStep("disconnect", ())
    test = load(HEAD + "protocol: socket.io\nsteps:\n  - expect: {event: tick}\n")
    assert test.steps[0] == EventStep("event", None, False, "tick")
    assert load(dump(test)) == test


@pytest.mark.parametrize("text, message", [
    (HEAD + "protocol_options: {keep_alive: 5}\n", "options without a 'protocol'"),
    (HEAD + "protocol: stomp\nsteps:\n  - expect: {data: x, ack: y}\n", "one expectation per step, not data and ack"),
    (HEAD + "protocol: stomp\nsteps:\n  - expect: {data: x, ignore: $.ts}\n", "must be a list of paths"),
    (HEAD + "protocol: stomp\nsteps:\n  - expect: {data: x, timeout: -1}\n", "timeout"),
    (HEAD + "protocol: socket.io\nsteps:\n  - expect: {event: x, topic: y}\n", "'topic'"),
], ids=["options-alone", "two-kinds", "ignore-not-list", "negative-timeout", "foreign-key"])
def test_wrong_protocol_steps_are_refused_in_one_line(text, message):
    with pytest.raises(ScenarioFileError) as error:
        load(text)
    assert message in str(error.value) and "\n" not in str(error.value)
