"""One message against an expectation: JSON differences, matchers, captures, diffs and descriptions."""

from __future__ import annotations

import json

import pytest

from wsinspector.core.frames import Direction, Message, Opcode, close_payload
from wsinspector.core.profiles import UnknownVariableError
from wsinspector.core.scenario.matching import (
    Incoming,
    considers,
    describe_expected,
    describe_received,
    json_differences,
    match,
    text_diff,
)
from wsinspector.core.scenario.model import (
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    OpcodeMatcher,
    RegexMatcher,
    TextMatcher,
    WaitStep,
)


def test_json_differences_name_each_path():
    expected = {"user": {"name": "ann", "age": 30}, "tags": ["a", "b"], "gone": 1}
    received = {"user": {"name": "bob", "age": 30}, "tags": ["a", "b", "c"], "extra": True}
    assert json_differences(expected, received) == [
        '$.user.name: expected "ann", got "bob"',
        '$.tags[2]: unexpected (got "c")',
        "$.gone: missing (expected 1)",
        "$.extra: unexpected (got true)",
    ]


def test_json_comparison_is_type_strict_but_numeric():
    assert json_differences({"a": 1}, {"a": 1.0}) == []
    assert json_differences({"a": 1}, {"a": True}) == ["$.a: expected 1, got true"]
    assert json_differences({"a": "1"}, {"a": 1}) == ['$.a: expected "1", got 1']
    assert json_differences({"a": None}, {"a": False}) == ["$.a: expected null, got false"]
    assert json_differences({"a": {}}, {"a": []}) == ["$.a: expected {}, got []"]
    assert json_differences([1, 2], [2, 1]) == ["$[0]: expected 1, got 2", "$[1]: expected 2, got 1"]
    assert json_differences({"b": 1, "a": 2}, {"a": 2, "b": 1}) == []  # key order does not matter


def test_ignore_paths_with_wildcards():
    expected = {"ts": 1, "items": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], "meta": {"x": 1}}
    received = {"ts": 99, "items": [{"id": 7, "v": "a"}, {"id": 8, "v": "B"}], "meta": {"y": 2}}
    ignore = ("$.ts", "$.items[*].id", "$.meta")
    assert json_differences(expected, received, ignore) == ['$.items[1].v: expected "b", got "B"']
    assert json_differences(expected, received) == [
        "$.ts: expected 1, got 99",
        "$.items[0].id: expected 1, got 7",
        "$.items[1].id: expected 2, got 8",
        '$.items[1].v: expected "b", got "B"',
        "$.meta.x: missing (expected 1)",
        "$.meta.y: unexpected (got 2)",
    ]


def test_ignored_members_may_be_absent_on_either_side():
    assert json_differences({"ts": 1, "a": 1}, {"a": 1}, ["$.ts"]) == []
    assert json_differences({"a": 1}, {"a": 1, "ts": 5}, ["$.ts"]) == []
    assert json_differences({"a": 1}, {"a": 1, "ts": 5, "x": {"id": 3}}, ["$.*.id", "$.ts"]) == [
        '$.x: unexpected (got {"id": 3})']
    assert json_differences([1], [1, 2, 3], ["$[*]"]) == []
    assert json_differences({"x": 1}, {"y": 2}, ["$"]) == []


def test_long_values_are_shortened_in_diffs():
    line = json_differences({"a": "x" * 1000}, {"a": "y"})[0]
    assert line.startswith('$.a: expected "xxx') and "…" in line and len(line) < 300


def _text(payload: str) -> Incoming:
    return Incoming(Opcode.TEXT, payload.encode())


def test_exact_text_and_its_unified_diff():
    step = ExpectStep(TextMatcher("one\ntwo\nthree"))
    assert match(step, _text("one\ntwo\nthree")).ok
    result = match(step, _text("one\n2\nthree"))
    assert not result.ok
    assert result.summary == "the text differs from character 5"
    assert result.diff_text.splitlines() == ["--- expected", "+++ received", "@@ -1,3 +1,3 @@", " one", "-two",
                                             "+2", " three"]
    assert result.expected == "one\ntwo\nthree" and result.received == "one\n2\nthree"
    assert match(step, _text("one\ntwo\nthree\n")).diff_text.endswith("+")  # the trailing line break shows


def test_exact_text_expands_variables():
    step = ExpectStep(TextMatcher("hi {{who}}"))
    assert match(step, _text("hi ann"), {"who": "ann"}).ok
    assert not match(step, _text("hi ann"), {"who": "bob"}).ok
    with pytest.raises(UnknownVariableError) as info:
        match(step, _text("hi ann"))
    assert info.value.names == ["who"]


def test_exact_bytes():
    step = ExpectStep(BytesMatcher(b"\x00\x01"))
    assert match(step, Incoming(Opcode.BINARY, b"\x00\x01")).ok
    result = match(step, Incoming(Opcode.BINARY, b"\x00\x02\x03"))
    assert not result.ok and result.summary == "the bytes differ (2 expected, 3 received)"
    assert "-00000000  00 01" in result.diff_text and "+00000000  00 02 03" in result.diff_text
    wrong = match(step, Incoming(Opcode.TEXT, b"\x00\x01"))
    assert not wrong.ok and wrong.summary == "expected a binary message, got a text message"


def test_regex_searches_text_and_escapes_variables():
    step = ExpectStep(RegexMatcher(r"^id=\d+ user={{who}}$"))
    assert match(step, _text("id=42 user=a.b"), {"who": "a.b"}).ok
    assert not match(step, _text("id=42 user=axb"), {"who": "a.b"}).ok  # the dot is literal
    assert match(ExpectStep(RegexMatcher("ready")), _text("all ready now")).ok
    result = match(ExpectStep(RegexMatcher("^ready$")), _text("not ready"))
    assert not result.ok and result.summary == "the text does not match /^ready$/"
    assert "received: not ready" in result.diff_text
    assert not match(step, Incoming(Opcode.BINARY, b"id=1"), {"who": "x"}).ok


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.PONG, Opcode.CLOSE])
def test_opcode_matcher_accepts_only_its_opcode(opcode: Opcode):
    for other in (Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.PONG, Opcode.CLOSE):
        result = match(ExpectStep(OpcodeMatcher(opcode)), Incoming(other, b""))
        assert result.ok is (other is opcode)
        if not result.ok:
            assert result.summary.startswith(f"expected a {opcode.label} message")


def test_json_match_with_ignore_and_variables():
    step = ExpectStep(JsonMatcher({"op": "welcome", "user": "{{who}}", "ts": 0}, ("$.ts",)))
    assert match(step, _text('{"ts": 123, "user": "ann", "op": "welcome"}'), {"who": "ann"}).ok
    result = match(step, _text('{"ts": 123, "user": "bob", "op": "welcome"}'), {"who": "ann"})
    assert not result.ok
    assert result.diff_text == '$.user: expected "ann", got "bob"'
    assert result.summary == '1 difference in the JSON: $.user: expected "ann", got "bob"'
    assert json.loads(result.received) == {"ts": 123, "user": "bob", "op": "welcome"}  # pretty for the side view
    assert json.loads(result.expected) == {"op": "welcome", "user": "ann", "ts": 0}


def test_json_match_on_something_else():
    step = ExpectStep(JsonMatcher({"a": 1}))
    not_json = match(step, _text("a=1"))
    assert not not_json.ok and not_json.summary.startswith("the message is not JSON")
    binary = match(step, Incoming(Opcode.BINARY, b'{"a": 1}'))
    assert binary.summary == "expected a text message, got a binary message"
    closed = match(step, Incoming(Opcode.CLOSE, close_payload(1001, "bye")))
    assert closed.summary == "expected a text message, the connection was closed (close 1001 (going away): bye)"


def test_captures_store_strings_as_is_and_other_values_as_json():
    step = ExpectStep(JsonMatcher({"op": "welcome"}, ("$.session", "$.n", "$.obj")),
                        capture=(("sid", "$.session"), ("n", "$.n"), ("obj", "$.obj"), ("first", "$.list[0]")))
    message = _text('{"op": "welcome", "session": "s-1", "n": 42, "obj": {"k": [1, "é"]}, "list": [true]}')
    assert not match(step, message).ok  # $.list is neither expected nor ignored
    step = ExpectStep(JsonMatcher({"op": "welcome"}, ("$.session", "$.n", "$.obj", "$.list")),
                        capture=step.capture)
    result = match(step, message)
    assert result.ok
    assert result.captured == {"sid": "s-1", "n": "42", "obj": '{"k": [1, "é"]}', "first": "true"}


def test_capture_failures():
    step = ExpectStep(OpcodeMatcher(Opcode.TEXT), capture=(("sid", "$.session"),))
    assert match(step, _text('{"session": "s"}')).captured == {"sid": "s"}
    missing = match(step, _text('{"other": 1}'))
    assert not missing.ok and missing.summary == "capture sid: $.session is not in the message"
    assert missing.captured == {}
    not_json = match(step, _text("hello"))
    assert not not_json.ok and not_json.summary.startswith("cannot capture: the message is not JSON")
    binary = ExpectStep(OpcodeMatcher(Opcode.BINARY), capture=(("sid", "$.session"),))
    assert match(binary, Incoming(Opcode.BINARY, b"{}")).summary.startswith("cannot capture from a binary")


def test_match_takes_assembled_messages_and_wait_steps():
    message = Message(Direction.IN, Opcode.TEXT, b'{"status": "ready"}', 0, 3, frame_count=2)
    assert match(WaitStep(until=JsonMatcher({"status": "ready"})), message).ok
    with pytest.raises(ValueError):
        match(WaitStep(seconds=1), message)


def test_pings_and_pongs_are_passed_over_unless_asked_for():
    text = TextMatcher("x")
    assert not considers(text, Opcode.PING) and not considers(text, Opcode.PONG)
    assert considers(text, Opcode.TEXT) and considers(text, Opcode.BINARY) and considers(text, Opcode.CLOSE)
    assert considers(OpcodeMatcher(Opcode.PING), Opcode.PING)
    assert not considers(OpcodeMatcher(Opcode.PING), Opcode.PONG)


def test_descriptions():
    assert describe_received(Opcode.BINARY, b"\x01").startswith("00000000  01")
    assert describe_received(Opcode.PING, b"\x01\x02") == "ping 01 02"
    assert describe_received(Opcode.TEXT, b"\xff") == "\ufffd"
    assert describe_expected(OpcodeMatcher(Opcode.CLOSE)) == "any close message"
    assert describe_expected(RegexMatcher("a{{x}}"), {"x": "."}) == r"text matching /a\./"


def test_a_long_text_diff_shows_a_window_around_the_first_difference():
    expected = "x" * 300_000 + "A" + "y" * 100
    received = "x" * 300_000 + "B" + "y" * 100
    diff = text_diff(expected, received)
    assert len(diff) < 2500
    assert diff.startswith("(characters 299,801 to 300,101 of 300,101, around the first difference)\n")
    assert "-…" + "x" * 200 + "A" + "y" * 100 in diff and "+…" + "x" * 200 + "B" + "y" * 100 in diff
    # short texts are diffed whole
    assert text_diff("abc", "abd") == "--- expected\n+++ received\n@@ -1 +1 @@\n-abc\n+abd"
