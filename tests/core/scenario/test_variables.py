"""Variables: where each is used and what defines it, expansion, profiles, rendering a send."""

from __future__ import annotations

import re

import pytest

from wsinspector.core.frames import Opcode
from wsinspector.core.profiles import UnknownVariableError
from wsinspector.core.scenario.model import (
    BinaryPayload,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    RegexMatcher,
    Scenario,
    SendStep,
    TextPayload,
)
from wsinspector.core.scenario.variables import (
    UndefinedVariablesError,
    check_variables,
    expand,
    expand_json,
    initial_variables,
    parse_var_option,
    render_send,
    to_profile,
    variable_uses,
    variables_in,
)


def _variables_test() -> Scenario:
    return Scenario(
        name="v", url="wss://{{host}}/?t={{token}}",
        variables=(("host", "h"),),
        headers=(("X-{{hname}}", "{{hvalue}}"),),
        steps=(
            SendStep(JsonPayload({"{{key}}": ["{{user}}"]}), name="log in"),
            SendStep(TextPayload("early {{sid}}")),
            ExpectStep(JsonMatcher({"user": "{{user}}"}), capture=(("sid", "$.sid"),)),
            SendStep(TextPayload("resume {{sid}}")),
            SendStep(BinaryPayload(b"{{not_a_variable}}")),
            ExpectStep(RegexMatcher("{{pat}}")),
        ),
    )


def test_variable_uses_say_what_defines_each():
    uses = variable_uses(_variables_test(), {"token": "t", "host": "cli", "user": "u", "key": "k"})
    summary = [(u.name, u.field, u.step, u.source) for u in uses]
    assert summary == [
        ("host", "url", None, "command line"),
        ("token", "url", None, "command line"),
        ("hname", "headers.X-{{hname}}", None, ""),
        ("hvalue", "headers.X-{{hname}}", None, ""),
        ("key", "steps[0].send.json", 0, "command line"),
        ("user", "steps[0].send.json", 0, "command line"),
        ("sid", "steps[1].send.text", 1, ""),
        ("user", "steps[2].expect.json", 2, "command line"),
        ("sid", "steps[3].send.text", 3, "capture"),
        ("pat", "steps[5].expect.regex", 5, ""),
    ]
    early = uses[6]
    assert early.captured_later == 2 and not early.defined
    assert uses[8].captured_by == 2
    assert variable_uses(_variables_test())[0].source == "file"


def test_unknown_variables_are_reported_with_their_step_before_running():
    with pytest.raises(UndefinedVariablesError) as info:
        check_variables(_variables_test(), [("token", "t"), ("user", "u"), ("key", "k")])
    error = info.value
    assert isinstance(error, UnknownVariableError)
    assert error.names == ["hname", "hvalue", "sid", "pat"]
    assert str(error) == (
        "Unknown variables: {{hname}} (used in headers.X-{{hname}}); {{hvalue}} (used in headers.X-{{hname}}); "
        "{{sid}} (used in steps[1].send.text; it is captured only later, by steps[2]); "
        "{{pat}} (used in steps[5].expect.regex)"
    )
    named = Scenario("n", "ws://h/", (SendStep(TextPayload("{{x}}"), name="greet"),))
    with pytest.raises(UndefinedVariablesError, match=re.escape("{{x}} (used in steps[0].send.text ('greet'))")):
        check_variables(named)
    check_variables(_variables_test(), {"token": "t", "user": "u", "key": "k", "hname": "a", "hvalue": "b",
                                          "sid": "s", "pat": "p"})


def test_a_step_cannot_use_what_it_captures():
    test = Scenario("n", "ws://h/", (ExpectStep(JsonMatcher({"a": "{{sid}}"}), capture=(("sid", "$.a"),)),
                                       SendStep(TextPayload("{{sid}}"))))
    uses = variable_uses(test)
    assert [(u.step, u.source, u.captured_by, u.captured_later) for u in uses] == [(0, "", None, 0),
                                                                                  (1, "capture", 0, None)]
    with pytest.raises(UndefinedVariablesError, match=re.escape(
            "{{sid}} (used in steps[0].expect.json; steps[0] captures it, for the steps after it)")):
        check_variables(test)


def test_expand_and_helpers():
    assert expand("{{a}}-{{ b }}", {"a": "1", "b": "2"}) == "1-2"
    with pytest.raises(UnknownVariableError, match=re.escape("{{x}}, {{y}}")):
        expand("{{x}}{{y}}{{x}}", {})
    assert variables_in("{{a}} {{b}} {{a}} {{ not valid }}") == ["a", "b"]
    assert expand_json({"{{k}}": ["{{v}}", 1, None]}, {"k": "key", "v": "val"}) == {"key": ["val", 1, None]}
    assert initial_variables(_variables_test(), [parse_var_option("host=x")]) == {"host": "x"}
    assert initial_variables(_variables_test(), {"user": "u"}) == {"host": "h", "user": "u"}
    assert parse_var_option("token=a=b") == ("token", "a=b")
    assert parse_var_option(" empty=") == ("empty", "")
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        parse_var_option("token")
    with pytest.raises(ValueError, match="not a variable name"):
        parse_var_option("1x=2")


def test_to_profile_resolves_with_overrides_and_url():
    test = Scenario("t", "ws://{{host}}:{{port}}/", variables=(("host", "a"), ("port", "1")),
                      headers=(("X-User", "{{host}}"),), subprotocols=("chat",))
    resolved = to_profile(test, {"host": "b"}).resolved()
    assert resolved.url == "ws://b:1/"
    assert resolved.handshake.headers == (("X-User", "b"),)
    assert resolved.handshake.subprotocols == ("chat",)
    assert to_profile(test, url="wss://{{host}}/x").resolved().url == "wss://a/x"


def test_render_send():
    variables = {"user": "ann", "k": "key"}
    assert render_send(SendStep(JsonPayload({"{{k}}": "é {{user}}", "n": [1, 2.5]})), variables) == (
        Opcode.TEXT, '{"key":"é ann","n":[1,2.5]}'.encode())
    assert render_send(SendStep(TextPayload("hi {{user}}")), variables) == (Opcode.TEXT, b"hi ann")
    assert render_send(SendStep(BinaryPayload(b"{{user}}")), variables) == (Opcode.BINARY, b"{{user}}")
