"""Test files: the model, the YAML format and its errors, variables, matching and diffs, the runner, JUnit."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from wsinspector.core import replay as r
from wsinspector.core.frames import Direction, Message, Opcode, close_payload
from wsinspector.core.profiles import UnknownVariableError

ROOT = Path(__file__).resolve().parents[2]


def _docs_example() -> str:
    text = (ROOT / "docs" / "test-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks, "docs/test-format.md has no yaml example"
    return str(blocks[0])


def _full_test() -> r.TestFile:
    return r.TestFile(
        name="Everything",
        url="wss://{{host}}/ws",
        variables=(("host", "example.com"), ("user", "ann"), ("port", "8080")),
        subprotocols=("chat.v2", "{{proto}}"),
        headers=(("Authorization", "Bearer {{token}}"), ("X-Empty", "")),
        timeout_s=2.5,
        steps=(
            r.SendStep(r.JsonPayload({"op": "login", "user": "{{user}}", "n": [1, 2.5, -3e-7, True, None, {}, []]}),
                       delay_s=None, name="log in"),
            r.ExpectStep(r.JsonMatcher({"op": "welcome", "session": "x", "ts": 0}, ("$.ts", "$.items[*].id")),
                         capture=(("session_id", "$.session"), ("n", '$["odd key"][0]')), timeout_s=1.0),
            r.SendStep(r.TextPayload("line one\nline two\n"), delay_s=0.25),
            r.SendStep(r.TextPayload(""), delay_s=0.0),
            r.SendStep(r.BinaryPayload(bytes(range(40)))),
            r.SendStep(r.BinaryPayload(b"")),
            r.ExpectStep(r.TextMatcher("hello {{user}}")),
            r.ExpectStep(r.BytesMatcher(b"\x00\xff")),
            r.ExpectStep(r.RegexMatcher(r"^pong \d+$"), name="pong"),
            r.ExpectStep(r.OpcodeMatcher(Opcode.PING)),
            r.WaitStep(seconds=0.5),
            r.WaitStep(seconds=2, name="two seconds"),
            r.WaitStep(until=r.JsonMatcher({"status": "ready"}), capture=(("rid", "$.id"),), timeout_s=10),
            r.WaitStep(until=r.OpcodeMatcher(Opcode.CLOSE)),
        ),
    )


def _load_error(text: str) -> r.TestFileError:
    with pytest.raises(r.TestFileError) as info:
        r.load(text)
    return info.value


# -- round trip ---------------------------------------------------------------------------------------


def test_round_trip_of_every_step_kind():
    test = _full_test()
    text = r.dump(test)
    assert r.load(text) == test
    assert r.dump(r.load(text)) == text


def test_dump_layout_is_block_style_in_a_fixed_key_order():
    test = r.TestFile(
        name="Echo", url="ws://localhost:8765/", variables=(("who", "ann"),),
        steps=(r.SendStep(r.JsonPayload({"b": 1, "a": "{{who}}"}), delay_s=0.125, name="hi"),
               r.ExpectStep(r.JsonMatcher({"b": 1}, ("$.ts",)), capture=(("sid", "$.sid"),), timeout_s=3),
               r.SendStep(r.BinaryPayload(b"\x01\x02")),
               r.WaitStep(seconds=1)),
    )
    assert r.dump(test) == (
        "version: 1\n"
        "name: Echo\n"
        "url: ws://localhost:8765/\n"
        "variables:\n"
        "  who: ann\n"
        "timeout: 5\n"
        "steps:\n"
        "  - name: hi\n"
        "    send:\n"
        "      json:\n"
        "        b: 1\n"
        "        a: '{{who}}'\n"
        "      delay: 0.125\n"
        "  - expect:\n"
        "      json:\n"
        "        b: 1\n"
        "      ignore:\n"
        "        - $.ts\n"
        "      capture:\n"
        "        sid: $.sid\n"
        "      timeout: 3\n"
        "  - send:\n"
        "      binary: 01 02\n"
        "  - wait: 1\n"
    )


@pytest.mark.parametrize("text", [
    "", "~", "null", "true", "false", "yes", "No", "1", "1e5", "-0.5", "0x1F", "007", "1:30", "2024-01-01",
    "a\r\nb", " lead", "trail ", "x\n", "x\n\n", "\n", "\ty", "\x00z", "é ✓ \u2028", "{{x}}", "- a", "# c",
    "a: b", "'q'", '"', "multi\n  indented\nend", "  first indented\nx", "[1, 2]", "*alias", "&anchor", "!tag",
    "%", "@", "`", "a" * 500,
])
def test_strings_survive_the_round_trip(text: str):
    test = r.TestFile("n", "ws://h/", (
        r.SendStep(r.TextPayload(text)),
        r.SendStep(r.JsonPayload({text: [text, {"k": text}]})),
        r.ExpectStep(r.TextMatcher(text)),
        r.ExpectStep(r.JsonMatcher(text)),
    ), variables=(("v", text),), headers=((f"X-{len(text)}", text),))
    assert r.load(r.dump(test)) == test


@pytest.mark.parametrize("value", [0, -1, 2**70, 0.1, 1e20, -2.5e-9, 1.0, True, False, None, [], {}, [[[]]]])
def test_json_scalars_keep_their_type(value: object):
    test = r.TestFile("n", "ws://h/", (r.SendStep(r.JsonPayload({"v": value})),))
    loaded = r.load(r.dump(test)).steps[0]
    assert isinstance(loaded, r.SendStep) and isinstance(loaded.payload, r.JsonPayload)
    assert loaded.payload.value == {"v": value}
    assert type(loaded.payload.value["v"]) is type(value)


def test_binary_is_hex_sixteen_bytes_a_line():
    text = r.dump(r.TestFile("n", "ws://h/", (r.SendStep(r.BinaryPayload(bytes(range(20)))),)))
    assert "binary: |\n        00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n        10 11 12 13\n" in text


def test_docs_example_is_in_the_canonical_layout():
    example = _docs_example()
    test = r.load(example)
    assert r.dump(test) == example
    assert test.name == "Login and resume"
    assert [r.step_kind(s) for s in test.steps][:4] == ["send", "expect", "send", "expect"]


def test_json_may_be_written_as_json():
    test = r.load('version: 1\nurl: ws://h/\nsteps:\n  - send:\n      json: {"op": "x", "n": 1e5, "a": [true, null]}\n')
    step = test.steps[0]
    assert isinstance(step, r.SendStep)
    assert step.payload == r.JsonPayload({"op": "x", "n": 100000.0, "a": [True, None]})


def test_json_literals_are_read_the_json_way():
    test = r.load("version: 1\nurl: ws://h/\nsteps:\n  - send:\n      json:\n"
                  "        a: yes\n        b: 0x1F\n        c: '12'\n        d: 12\n        e: ~\n        f: True\n"
                  "        g: 2024-01-01\n        h: \"true\"\n")
    step = test.steps[0]
    assert isinstance(step, r.SendStep) and isinstance(step.payload, r.JsonPayload)
    assert step.payload.value == {"a": "yes", "b": "0x1F", "c": "12", "d": 12, "e": None, "f": "True",
                                  "g": "2024-01-01", "h": "true"}


def test_optional_keys_default():
    test = r.load("version: 1\nurl: ws://h/\n")
    assert test == r.TestFile(name="", url="ws://h/")
    assert test.timeout_s == r.DEFAULT_TIMEOUT_S


def test_binary_accepts_hex_and_base64_forms():
    test = r.load("version: 1\nurl: ws://h/\nsteps:\n"
                  "  - send: {binary: '0x01:0x02, ff'}\n"
                  "  - send: {binary: {base64: AQL/}}\n"
                  "  - send: {binary: {hex: 01 02 ff}}\n")
    assert [s.payload for s in test.steps if isinstance(s, r.SendStep)] == [
        r.BinaryPayload(b"\x01\x02\xff")] * 3


def test_scalar_values_are_taken_as_written():
    test = r.load("version: 1\nurl: ws://h:{{port}}/\nvariables:\n  port: 8080\n  flag: yes\n"
                  "steps:\n  - send: {text: 1.50}\n  - send: {text: }\n")
    assert test.variables == (("port", "8080"), ("flag", "yes"))
    assert [s.payload for s in test.steps if isinstance(s, r.SendStep)] == [r.TextPayload("1.50"),
                                                                             r.TextPayload("")]


def test_a_byte_order_mark_is_ignored():
    assert r.load("\ufeffversion: 1\nurl: ws://h/\n").url == "ws://h/"


def test_read_and_write_files(tmp_path: Path):
    path = tmp_path / "t.wstest.yaml"
    r.write_test(path, _full_test())
    assert r.read_test(path) == _full_test()
    path.write_bytes(b"version: 1\nurl: \xff\n")
    with pytest.raises(r.TestFileError, match="not UTF-8"):
        r.read_test(path)


def test_model_rejects_inconsistent_steps():
    with pytest.raises(ValueError):
        r.WaitStep()
    with pytest.raises(ValueError):
        r.WaitStep(seconds=1, until=r.OpcodeMatcher(Opcode.TEXT))
    with pytest.raises(ValueError):
        r.WaitStep(seconds=1, timeout_s=2)
    with pytest.raises(r.JsonPathError):
        r.JsonMatcher({}, ("ts",))
    with pytest.raises(r.JsonPathError):
        r.ExpectStep(r.OpcodeMatcher(Opcode.TEXT), capture=(("x", "$.a[*]"),))
    with pytest.raises(ValueError):
        r.ExpectStep(r.OpcodeMatcher(Opcode.TEXT), capture=(("1x", "$.a"),))
    with pytest.raises(re.error):
        r.RegexMatcher("(")


def test_dump_rejects_what_the_format_cannot_hold():
    with pytest.raises(ValueError, match="twice"):
        r.dump(r.TestFile("n", "ws://h/", headers=(("A", "1"), ("A", "2"))))
    with pytest.raises(ValueError, match="JSON"):
        r.dump(r.TestFile("n", "ws://h/", (r.SendStep(r.JsonPayload({"x": float("nan")})),)))
    with pytest.raises(ValueError, match="JSON"):
        r.dump(r.TestFile("n", "ws://h/", (r.SendStep(r.JsonPayload({1: "x"})),)))


def test_pytest_does_not_mistake_the_model_for_tests():
    assert r.TestFile.__test__ is False
    assert r.TestFileError.__test__ is False
    assert r.test_from_frames.__test__ is False  # type: ignore[attr-defined]


# -- errors -------------------------------------------------------------------------------------------

_HEAD = "version: 1\nurl: ws://h/\nsteps:\n"


@pytest.mark.parametrize(("text", "line", "column", "field", "message"), [
    ("", 1, 1, "", "the file is empty"),
    ("- a\n- b\n", 1, 1, "", "must be a mapping that starts with 'version: 1'"),
    ("url: ws://h/\n", 1, 1, "", "'version: 1' is missing"),
    ("version: 2\nurl: ws://h/\nfuture: x\n", 1, 10, "version",
     "format version 2; this wsinspector reads version 1 only"),
    ("version: '1'\nurl: ws://h/\n", 1, 10, "version", "must be a whole number (1), not '1'"),
    ("version: 0\nurl: ws://h/\n", 1, 10, "version", "unknown format version 0"),
    ("version: 1\nurl: ws://h/\ntiemout: 3\n", 3, 1, "", "unknown key 'tiemout'; did you mean 'timeout'?"),
    ("version: 1\nname: x\n", 1, 1, "", "'url' is missing"),
    ("version: 1\nurl: ''\n", 2, 6, "url", "must not be empty"),
    ("version: 1\nurl: http://h/ws\n", 2, 6, "url", "WebSocket URLs start with ws:// or wss:// (did you mean ws://?)"),
    ("version: 1\nurl: ws://h:99999/\n", 2, 6, "url", "The URL is malformed: Port out of range 0-65535"),
    ("version: 1\nurl: [a]\n", 2, 6, "url", "must be text, not a list"),
    ("version: 1\nurl: ws://h/\ntimeout: 0\n", 3, 10, "timeout", "must be a positive number of seconds, not 0"),
    ("version: 1\nurl: ws://h/\ntimeout: .inf\n", 3, 10, "timeout", "must be a number of seconds"),
    ("version: 1\nurl: ws://h/\ntimeout: 1e999\n", 3, 10, "timeout", "out of range"),
    ("version: 1\nurl: ws://h/\nsteps: {a: 1}\n", 3, 8, "steps", "must be a list of steps, not a mapping"),
    ("version: 1\nurl: ws://h/\nsubprotocols: chat\n", 3, 15, "subprotocols", "must be a list"),
    ("version: 1\nurl: ws://h/\nvariables:\n  2fast: x\n", 4, 3, "variables", "'2fast' is not a variable name"),
    ("version: 1\nurl: ws://h/\nvariables:\n  a: [1]\n", 4, 6, "variables.a", "must be text, not a list"),
    ("version: 1\nurl: ws://h/\nurl: ws://other/\n", 3, 1, "", "duplicate key 'url' (first on line 2)"),
    (_HEAD + "  - send: {text: a}\n  - send: {text: b}\n  - send:\n      txt: hi\n", 7, 7, "steps[2].send",
     "unknown kind 'txt' (expected text, json or binary); did you mean 'text'?"),
    (_HEAD + "  - send: {}\n", 4, 11, "steps[0].send", "nothing to send"),
    (_HEAD + "  - send: {text: a, json: 1}\n", 4, 11, "steps[0].send", "one payload per step, not text and json"),
    (_HEAD + "  - send: hello\n", 4, 11, "steps[0].send", "must be a mapping with text, json or binary"),
    (_HEAD + "  - send: {text: a, delay: -1}\n", 4, 28, "steps[0].send.delay", "must not be negative"),
    (_HEAD + "  - send: {binary: 0g}\n", 4, 20, "steps[0].send.binary", "Not a hex digit: 'g'"),
    (_HEAD + "  - send: {binary: abc}\n", 4, 20, "steps[0].send.binary", "Odd number of hex digits"),
    (_HEAD + "  - send: {binary: {base64: 'a$'}}\n", 4, 20, "steps[0].send.binary", "Not a base64 character"),
    (_HEAD + "  - send: {binary: {hex: '01', base64: AQ==}}\n", 4, 20, "steps[0].send.binary",
     "give the bytes as hex or as base64"),
    (_HEAD + "  - send: {json: {session: {{sid}}}}\n", 4, 29, "steps[0].send.json.session",
     'a value that starts with { must be quoted, for example "{{name}}"'),
    (_HEAD + "  - name: x\n", 4, 5, "steps[0]", "a step needs one of send, expect or wait"),
    (_HEAD + "  - sned: {text: a}\n", 4, 5, "steps[0]", "unknown key 'sned'; did you mean 'send'?"),
    (_HEAD + "  - send: {text: a}\n    expect: {text: a}\n", 4, 5, "steps[0]",
     "one action per step, not send and expect"),
    (_HEAD + "  - hello\n", 4, 5, "steps[0]", "must be a mapping with send, expect or wait"),
    (_HEAD + "  - {send: {text: a}, name: [x]}\n", 4, 29, "steps[0].name", "must be text"),
    (_HEAD + "  - expect: {timeout: 1}\n", 4, 13, "steps[0].expect", "say what to expect: text, binary, json, "
     "regex or opcode"),
    (_HEAD + "  - expect: {text: a, regex: b}\n", 4, 13, "steps[0].expect", "one matcher per step, not text and regex"),
    (_HEAD + "  - expect: {jsn: {}}\n", 4, 14, "steps[0].expect", "unknown key 'jsn'; did you mean 'json'?"),
    (_HEAD + "  - expect: {text: a, ignore: [$.a]}\n", 4, 23, "steps[0].expect",
     "'ignore' only goes with a json matcher"),
    (_HEAD + "  - expect: {json: {}, ignore: $.a}\n", 4, 32, "steps[0].expect.ignore", "must be a list of paths"),
    (_HEAD + "  - expect: {json: {}, ignore: [$.a, ts]}\n", 4, 38, "steps[0].expect.ignore[1]",
     "paths start with $"),
    (_HEAD + "  - expect: {json: {}, ignore: ['$.a[x]']}\n", 4, 33, "steps[0].expect.ignore[0]",
     "must hold an index"),
    (_HEAD + "  - expect: {json: {}, capture: {sid: '$.a[*]'}}\n", 4, 39, "steps[0].expect.capture.sid",
     "a capture needs one value, not a wildcard"),
    (_HEAD + "  - expect: {json: {}, capture: {s id: $.a}}\n", 4, 34, "steps[0].expect.capture",
     "'s id' is not a variable name"),
    (_HEAD + "  - expect: {json: {}, capture: [$.a]}\n", 4, 33, "steps[0].expect.capture",
     "must be a mapping of variable: $.path"),
    (_HEAD + "  - expect: {regex: 'a(b'}\n", 4, 21, "steps[0].expect.regex", "invalid regular expression"),
    (_HEAD + "  - expect: {opcode: txt}\n", 4, 22, "steps[0].expect.opcode",
     "unknown opcode 'txt' (expected text, binary, ping, pong or close)"),
    (_HEAD + "  - expect:\n      text: a\n      timeout: -2\n", 6, 16, "steps[0].expect.timeout",
     "must be a positive number of seconds, not -2"),
    (_HEAD + "  - expect:\n      text: a\n      timeout: '5'\n", 6, 16, "steps[0].expect.timeout",
     "must be a number of seconds, not '5'"),
    (_HEAD + "  - wait: soon\n", 4, 11, "steps[0].wait", "must be a number of seconds, not 'soon'"),
    (_HEAD + "  - wait: {seconds: 1, timeout: 2}\n", 4, 24, "steps[0].wait", "'timeout' does not go with 'seconds'"),
    (_HEAD + "  - wait: {}\n", 4, 11, "steps[0].wait", "say what to expect"),
    (_HEAD + "  - wait: [1]\n", 4, 11, "steps[0].wait", "a number of seconds, or a mapping"),
    ("version: 1\nurl: ws://h/\n  bad: indent\n", 3, 6, "", "not valid YAML: mapping values are not allowed here"),
    ("version: 1\nurl: 'ws://h/\n", 3, 1, "", "not valid YAML: found unexpected end of stream"),
    ("version: 1\nurl: ws://h/\n---\nversion: 1\n", 3, 1, "", "not valid YAML"),
    ("version: 1\nurl: &u ws://h/\n", 2, 6, "", "YAML anchors (&u) are not supported"),
    ("version: 1\nx: &u ws://h/\nurl: *u\n", 2, 4, "", "YAML anchors (&u) are not supported"),
    ("version: 1\nurl: !!str ws://h/\n", 2, 6, "", "YAML tags (!!str) are not supported"),
    ("version: 1\nurl: ws://h/\nsteps:\n  - send: {binary: !!binary AAEC}\n", 4, 20, "",
     "YAML tags (!!binary) are not supported"),
])
def test_errors_name_line_column_and_field(text: str, line: int, column: int, field: str, message: str):
    error = _load_error(text)
    assert (error.line, error.column, error.field) == (line, column, field), str(error)
    assert message in error.message
    prefix = f"line {line}, column {column}: " + (f"{field}: " if field else "")
    assert str(error) == prefix + error.message


def test_an_alias_is_refused_at_the_alias():
    error = _load_error("version: 1\nurl: ws://h/\nsteps:\n  - send: {text: a}\n  - *a\n")
    assert error.message.startswith("YAML aliases (*name) are not supported")
    assert (error.line, error.column) == (5, 5)


def test_error_string_without_position():
    assert str(r.TestFileError("boom")) == "boom"
    assert str(r.TestFileError("boom", 3)) == "line 3: boom"
    assert str(r.TestFileError("boom", 3, 7, "steps[1]")) == "line 3, column 7: steps[1]: boom"


def test_deep_nesting_is_an_error_not_a_crash():
    error = _load_error(_HEAD + "  - send: {json: " + "[" * 5000 + "]" * 5000 + "}\n")
    assert "nested too deeply" in error.message or "not valid YAML" in error.message


# -- JSON paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "parsed"), [
    ("$", ()),
    ("$.ts", ("ts",)),
    ("$.user.name", ("user", "name")),
    ("$.items[2].id", ("items", 2, "id")),
    ("$.items[*].id", ("items", r.WILDCARD, "id")),
    ("$.*.id", (r.WILDCARD, "id")),
    ('$["a.b"]["c d"][0]', ("a.b", "c d", 0)),
    ('$["quote \\" inside"]', ('quote " inside',)),
    ("$.naïve-key_1", ("naïve-key_1",)),
    ("$[0][1]", (0, 1)),
])
def test_json_paths_parse(text: str, parsed: tuple[object, ...]):
    assert r.parse_json_path(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("ts", "paths start with $"),
    ("$.", "a name must follow the '.'"),
    ("$..a", "a name must follow the '.'"),
    ("$.a b", "unexpected ' '"),
    ("$[x]", "must hold an index"),
    ("$[-1]", "must hold an index"),
    ("$[1", "must hold an index"),
    ('$["a"', "']' expected"),
    ('$["a', "not a valid JSON string"),
])
def test_bad_json_paths_say_why(text: str, message: str):
    with pytest.raises(r.JsonPathError, match=re.escape(message)):
        r.parse_json_path(text)


def test_json_path_formatting_and_matching():
    assert r.format_json_path(("user", 0, "first name", r.WILDCARD)) == '$.user[0]["first name"][*]'
    assert r.format_json_path(()) == "$"
    assert r.path_matches(r.parse_json_path("$.items[*].id"), ("items", 3, "id"))
    assert r.path_matches(r.parse_json_path("$.meta"), ("meta", "a", 0))  # everything beneath
    assert not r.path_matches(r.parse_json_path("$.items[*].id"), ("items", 3, "name"))
    assert not r.path_matches(r.parse_json_path("$.items[0]"), ("items", "0"))  # index is not key "0"
    assert not r.path_matches(r.parse_json_path("$.a.b"), ("a",))


def test_resolve_json_path():
    value = {"a": [{"b": 1}], "c d": None}
    assert r.resolve_json_path(value, ("a", 0, "b")) == 1
    assert r.resolve_json_path(value, ("c d",)) is None
    with pytest.raises(LookupError, match=re.escape("$.a[1] is not in the message")):
        r.resolve_json_path(value, ("a", 1))
    with pytest.raises(LookupError, match=re.escape("$.x is not in the message")):
        r.resolve_json_path(value, ("x", "y"))


# -- JSON differences ---------------------------------------------------------------------------------


def test_json_differences_name_each_path():
    expected = {"user": {"name": "ann", "age": 30}, "tags": ["a", "b"], "gone": 1}
    received = {"user": {"name": "bob", "age": 30}, "tags": ["a", "b", "c"], "extra": True}
    assert r.json_differences(expected, received) == [
        '$.user.name: expected "ann", got "bob"',
        '$.tags[2]: unexpected (got "c")',
        "$.gone: missing (expected 1)",
        "$.extra: unexpected (got true)",
    ]


def test_json_comparison_is_type_strict_but_numeric():
    assert r.json_differences({"a": 1}, {"a": 1.0}) == []
    assert r.json_differences({"a": 1}, {"a": True}) == ["$.a: expected 1, got true"]
    assert r.json_differences({"a": "1"}, {"a": 1}) == ['$.a: expected "1", got 1']
    assert r.json_differences({"a": None}, {"a": False}) == ["$.a: expected null, got false"]
    assert r.json_differences({"a": {}}, {"a": []}) == ["$.a: expected {}, got []"]
    assert r.json_differences([1, 2], [2, 1]) == ["$[0]: expected 1, got 2", "$[1]: expected 2, got 1"]
    assert r.json_differences({"b": 1, "a": 2}, {"a": 2, "b": 1}) == []  # key order does not matter


def test_ignore_paths_with_wildcards():
    expected = {"ts": 1, "items": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], "meta": {"x": 1}}
    received = {"ts": 99, "items": [{"id": 7, "v": "a"}, {"id": 8, "v": "B"}], "meta": {"y": 2}}
    ignore = ("$.ts", "$.items[*].id", "$.meta")
    assert r.json_differences(expected, received, ignore) == ['$.items[1].v: expected "b", got "B"']
    assert r.json_differences(expected, received) == [
        "$.ts: expected 1, got 99",
        "$.items[0].id: expected 1, got 7",
        "$.items[1].id: expected 2, got 8",
        '$.items[1].v: expected "b", got "B"',
        "$.meta.x: missing (expected 1)",
        "$.meta.y: unexpected (got 2)",
    ]


def test_ignored_members_may_be_absent_on_either_side():
    assert r.json_differences({"ts": 1, "a": 1}, {"a": 1}, ["$.ts"]) == []
    assert r.json_differences({"a": 1}, {"a": 1, "ts": 5}, ["$.ts"]) == []
    assert r.json_differences({"a": 1}, {"a": 1, "ts": 5, "x": {"id": 3}}, ["$.*.id", "$.ts"]) == [
        '$.x: unexpected (got {"id": 3})']
    assert r.json_differences([1], [1, 2, 3], ["$[*]"]) == []
    assert r.json_differences({"x": 1}, {"y": 2}, ["$"]) == []


def test_long_values_are_shortened_in_diffs():
    line = r.json_differences({"a": "x" * 1000}, {"a": "y"})[0]
    assert line.startswith('$.a: expected "xxx') and "…" in line and len(line) < 300


# -- match --------------------------------------------------------------------------------------------


def _text(payload: str) -> r.Incoming:
    return r.Incoming(Opcode.TEXT, payload.encode())


def test_exact_text_and_its_unified_diff():
    step = r.ExpectStep(r.TextMatcher("one\ntwo\nthree"))
    assert r.match(step, _text("one\ntwo\nthree")).ok
    result = r.match(step, _text("one\n2\nthree"))
    assert not result.ok
    assert result.summary == "the text differs from character 5"
    assert result.diff_text.splitlines() == ["--- expected", "+++ received", "@@ -1,3 +1,3 @@", " one", "-two",
                                             "+2", " three"]
    assert result.expected == "one\ntwo\nthree" and result.received == "one\n2\nthree"
    assert r.match(step, _text("one\ntwo\nthree\n")).diff_text.endswith("+")  # the trailing line break shows


def test_exact_text_expands_variables():
    step = r.ExpectStep(r.TextMatcher("hi {{who}}"))
    assert r.match(step, _text("hi ann"), {"who": "ann"}).ok
    assert not r.match(step, _text("hi ann"), {"who": "bob"}).ok
    with pytest.raises(UnknownVariableError) as info:
        r.match(step, _text("hi ann"))
    assert info.value.names == ["who"]


def test_exact_bytes():
    step = r.ExpectStep(r.BytesMatcher(b"\x00\x01"))
    assert r.match(step, r.Incoming(Opcode.BINARY, b"\x00\x01")).ok
    result = r.match(step, r.Incoming(Opcode.BINARY, b"\x00\x02\x03"))
    assert not result.ok and result.summary == "the bytes differ (2 expected, 3 received)"
    assert "-00000000  00 01" in result.diff_text and "+00000000  00 02 03" in result.diff_text
    wrong = r.match(step, r.Incoming(Opcode.TEXT, b"\x00\x01"))
    assert not wrong.ok and wrong.summary == "expected a binary message, got a text message"


def test_regex_searches_text_and_escapes_variables():
    step = r.ExpectStep(r.RegexMatcher(r"^id=\d+ user={{who}}$"))
    assert r.match(step, _text("id=42 user=a.b"), {"who": "a.b"}).ok
    assert not r.match(step, _text("id=42 user=axb"), {"who": "a.b"}).ok  # the dot is literal
    assert r.match(r.ExpectStep(r.RegexMatcher("ready")), _text("all ready now")).ok
    result = r.match(r.ExpectStep(r.RegexMatcher("^ready$")), _text("not ready"))
    assert not result.ok and result.summary == "the text does not match /^ready$/"
    assert "received: not ready" in result.diff_text
    assert not r.match(step, r.Incoming(Opcode.BINARY, b"id=1"), {"who": "x"}).ok


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.PONG, Opcode.CLOSE])
def test_opcode_matcher_accepts_only_its_opcode(opcode: Opcode):
    for other in (Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.PONG, Opcode.CLOSE):
        result = r.match(r.ExpectStep(r.OpcodeMatcher(opcode)), r.Incoming(other, b""))
        assert result.ok is (other is opcode)
        if not result.ok:
            assert result.summary.startswith(f"expected a {opcode.label} message")


def test_json_match_with_ignore_and_variables():
    step = r.ExpectStep(r.JsonMatcher({"op": "welcome", "user": "{{who}}", "ts": 0}, ("$.ts",)))
    assert r.match(step, _text('{"ts": 123, "user": "ann", "op": "welcome"}'), {"who": "ann"}).ok
    result = r.match(step, _text('{"ts": 123, "user": "bob", "op": "welcome"}'), {"who": "ann"})
    assert not result.ok
    assert result.diff_text == '$.user: expected "ann", got "bob"'
    assert result.summary == '1 difference in the JSON: $.user: expected "ann", got "bob"'
    assert json.loads(result.received) == {"ts": 123, "user": "bob", "op": "welcome"}  # pretty for the side view
    assert json.loads(result.expected) == {"op": "welcome", "user": "ann", "ts": 0}


def test_json_match_on_something_else():
    step = r.ExpectStep(r.JsonMatcher({"a": 1}))
    not_json = r.match(step, _text("a=1"))
    assert not not_json.ok and not_json.summary.startswith("the message is not JSON")
    binary = r.match(step, r.Incoming(Opcode.BINARY, b'{"a": 1}'))
    assert binary.summary == "expected a text message, got a binary message"
    closed = r.match(step, r.Incoming(Opcode.CLOSE, close_payload(1001, "bye")))
    assert closed.summary == "expected a text message, the connection was closed (close 1001 (going away): bye)"


def test_captures_store_strings_as_is_and_other_values_as_json():
    step = r.ExpectStep(r.JsonMatcher({"op": "welcome"}, ("$.session", "$.n", "$.obj")),
                        capture=(("sid", "$.session"), ("n", "$.n"), ("obj", "$.obj"), ("first", "$.list[0]")))
    message = _text('{"op": "welcome", "session": "s-1", "n": 42, "obj": {"k": [1, "é"]}, "list": [true]}')
    assert not r.match(step, message).ok  # $.list is neither expected nor ignored
    step = r.ExpectStep(r.JsonMatcher({"op": "welcome"}, ("$.session", "$.n", "$.obj", "$.list")),
                        capture=step.capture)
    result = r.match(step, message)
    assert result.ok
    assert result.captured == {"sid": "s-1", "n": "42", "obj": '{"k": [1, "é"]}', "first": "true"}


def test_capture_failures():
    step = r.ExpectStep(r.OpcodeMatcher(Opcode.TEXT), capture=(("sid", "$.session"),))
    assert r.match(step, _text('{"session": "s"}')).captured == {"sid": "s"}
    missing = r.match(step, _text('{"other": 1}'))
    assert not missing.ok and missing.summary == "capture sid: $.session is not in the message"
    assert missing.captured == {}
    not_json = r.match(step, _text("hello"))
    assert not not_json.ok and not_json.summary.startswith("cannot capture: the message is not JSON")
    binary = r.ExpectStep(r.OpcodeMatcher(Opcode.BINARY), capture=(("sid", "$.session"),))
    assert r.match(binary, r.Incoming(Opcode.BINARY, b"{}")).summary.startswith("cannot capture from a binary")


def test_match_takes_assembled_messages_and_wait_steps():
    message = Message(Direction.IN, Opcode.TEXT, b'{"status": "ready"}', 0, 3, frame_count=2)
    assert r.match(r.WaitStep(until=r.JsonMatcher({"status": "ready"})), message).ok
    with pytest.raises(ValueError):
        r.match(r.WaitStep(seconds=1), message)


def test_pings_and_pongs_are_passed_over_unless_asked_for():
    text = r.TextMatcher("x")
    assert not r.considers(text, Opcode.PING) and not r.considers(text, Opcode.PONG)
    assert r.considers(text, Opcode.TEXT) and r.considers(text, Opcode.BINARY) and r.considers(text, Opcode.CLOSE)
    assert r.considers(r.OpcodeMatcher(Opcode.PING), Opcode.PING)
    assert not r.considers(r.OpcodeMatcher(Opcode.PING), Opcode.PONG)


def test_descriptions():
    assert r.describe_received(Opcode.BINARY, b"\x01").startswith("00000000  01")
    assert r.describe_received(Opcode.PING, b"\x01\x02") == "ping 01 02"
    assert r.describe_received(Opcode.TEXT, b"\xff") == "\ufffd"
    assert r.describe_expected(r.OpcodeMatcher(Opcode.CLOSE)) == "any close message"
    assert r.describe_expected(r.RegexMatcher("a{{x}}"), {"x": "."}) == r"text matching /a\./"


# -- variables ----------------------------------------------------------------------------------------


def _variables_test() -> r.TestFile:
    return r.TestFile(
        name="v", url="wss://{{host}}/?t={{token}}",
        variables=(("host", "h"),),
        headers=(("X-{{hname}}", "{{hvalue}}"),),
        steps=(
            r.SendStep(r.JsonPayload({"{{key}}": ["{{user}}"]}), name="log in"),
            r.SendStep(r.TextPayload("early {{sid}}")),
            r.ExpectStep(r.JsonMatcher({"user": "{{user}}"}), capture=(("sid", "$.sid"),)),
            r.SendStep(r.TextPayload("resume {{sid}}")),
            r.SendStep(r.BinaryPayload(b"{{not_a_variable}}")),
            r.ExpectStep(r.RegexMatcher("{{pat}}")),
        ),
    )


def test_variable_uses_say_what_defines_each():
    uses = r.variable_uses(_variables_test(), {"token": "t", "host": "cli", "user": "u", "key": "k"})
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
    assert r.variable_uses(_variables_test())[0].source == "file"


def test_unknown_variables_are_reported_with_their_step_before_running():
    with pytest.raises(r.UndefinedVariablesError) as info:
        r.check_variables(_variables_test(), [("token", "t"), ("user", "u"), ("key", "k")])
    error = info.value
    assert isinstance(error, UnknownVariableError)
    assert error.names == ["hname", "hvalue", "sid", "pat"]
    assert str(error) == (
        "Unknown variables: {{hname}} (used in headers.X-{{hname}}); {{hvalue}} (used in headers.X-{{hname}}); "
        "{{sid}} (used in steps[1].send.text; it is captured only later, by steps[2]); "
        "{{pat}} (used in steps[5].expect.regex)"
    )
    named = r.TestFile("n", "ws://h/", (r.SendStep(r.TextPayload("{{x}}"), name="greet"),))
    with pytest.raises(r.UndefinedVariablesError, match=re.escape("{{x}} (used in steps[0].send.text ('greet'))")):
        r.check_variables(named)
    r.check_variables(_variables_test(), {"token": "t", "user": "u", "key": "k", "hname": "a", "hvalue": "b",
                                          "sid": "s", "pat": "p"})


def test_a_step_cannot_use_what_it_captures():
    test = r.TestFile("n", "ws://h/", (r.ExpectStep(r.JsonMatcher({"a": "{{sid}}"}), capture=(("sid", "$.a"),)),
                                       r.SendStep(r.TextPayload("{{sid}}"))))
    uses = r.variable_uses(test)
    assert [(u.step, u.source, u.captured_by, u.captured_later) for u in uses] == [(0, "", None, 0),
                                                                                  (1, "capture", 0, None)]
    with pytest.raises(r.UndefinedVariablesError, match=re.escape(
            "{{sid}} (used in steps[0].expect.json; steps[0] captures it, for the steps after it)")):
        r.check_variables(test)


def test_expand_and_helpers():
    assert r.expand("{{a}}-{{ b }}", {"a": "1", "b": "2"}) == "1-2"
    with pytest.raises(UnknownVariableError, match=re.escape("{{x}}, {{y}}")):
        r.expand("{{x}}{{y}}{{x}}", {})
    assert r.variables_in("{{a}} {{b}} {{a}} {{ not valid }}") == ["a", "b"]
    assert r.expand_json({"{{k}}": ["{{v}}", 1, None]}, {"k": "key", "v": "val"}) == {"key": ["val", 1, None]}
    assert r.initial_variables(_variables_test(), [r.parse_var_option("host=x")]) == {"host": "x"}
    assert r.initial_variables(_variables_test(), {"user": "u"}) == {"host": "h", "user": "u"}
    assert r.parse_var_option("token=a=b") == ("token", "a=b")
    assert r.parse_var_option(" empty=") == ("empty", "")
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        r.parse_var_option("token")
    with pytest.raises(ValueError, match="not a variable name"):
        r.parse_var_option("1x=2")


def test_to_profile_resolves_with_overrides_and_url():
    test = r.TestFile("t", "ws://{{host}}:{{port}}/", variables=(("host", "a"), ("port", "1")),
                      headers=(("X-User", "{{host}}"),), subprotocols=("chat",))
    resolved = r.to_profile(test, {"host": "b"}).resolved()
    assert resolved.url == "ws://b:1/"
    assert resolved.headers == (("X-User", "b"),)
    assert resolved.subprotocols == ("chat",)
    assert r.to_profile(test, url="wss://{{host}}/x").resolved().url == "wss://a/x"


def test_render_send():
    variables = {"user": "ann", "k": "key"}
    assert r.render_send(r.SendStep(r.JsonPayload({"{{k}}": "é {{user}}", "n": [1, 2.5]})), variables) == (
        Opcode.TEXT, '{"key":"é ann","n":[1,2.5]}'.encode())
    assert r.render_send(r.SendStep(r.TextPayload("hi {{user}}")), variables) == (Opcode.TEXT, b"hi ann")
    assert r.render_send(r.SendStep(r.BinaryPayload(b"{{user}}")), variables) == (Opcode.BINARY, b"{{user}}")


# -- from a recorded session --------------------------------------------------------------------------


def test_test_from_frames():
    s = 1_000_000_000
    frames: list[r.RecordedMessage] = [
        (s + 100_000_000, "out", 1, b'{"op": "login", "user": "ann"}'),
        (s + 150_000_000, "in", 1, b'{"op": "welcome", "session": "s-1"}'),
        (s + 160_000_000, "in", Opcode.PING, b"hb"),
        (s + 170_000_000, "out", Opcode.PONG, b"hb"),
        (s + 400_123_456, Direction.OUT, Opcode.TEXT, b"resume s-1"),
        (s + 500_000_000, "in", 1, b"42"),
        (s + 500_000_000, "out", 2, b"\x00\xff"),
        (s + 600_000_000, "in", 2, b"\x01"),
        (s + 700_000_000, "out", 1, b"[1, 2]"),
        (s + 800_000_000, "in", 1, b"{not json"),
        (s + 900_000_000, "out", Opcode.CLOSE, close_payload(1000)),
        (s + 950_000_000, "in", Opcode.CLOSE, close_payload(1000)),
    ]
    test = r.test_from_frames(frames, "Recorded", "ws://h/", started_ns=s, headers=[("A", "b")])
    assert test.name == "Recorded" and test.url == "ws://h/" and test.headers == (("A", "b"),)
    assert test.steps == (
        r.SendStep(r.JsonPayload({"op": "login", "user": "ann"}), delay_s=0.1),
        r.ExpectStep(r.JsonMatcher({"op": "welcome", "session": "s-1"})),
        r.SendStep(r.TextPayload("resume s-1"), delay_s=0.25),
        r.ExpectStep(r.TextMatcher("42")),  # JSON, but not an object or array: exact text
        r.SendStep(r.BinaryPayload(b"\x00\xff"), delay_s=0.0),
        r.ExpectStep(r.BytesMatcher(b"\x01")),
        r.SendStep(r.JsonPayload([1, 2]), delay_s=0.1),
        r.ExpectStep(r.TextMatcher("{not json")),
    )
    assert r.load(r.dump(test)) == test
    without_start = r.test_from_frames(frames[:1], "x", "ws://h/")
    assert without_start.steps == (r.SendStep(r.JsonPayload({"op": "login", "user": "ann"}), delay_s=None),)


# -- speed --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "speed"), [
    ("1", 1.0), ("0.5", 0.5), ("2", 2.0), ("2x", 2.0), (" MAX ", 0.0), ("0", 0.0), ("inf", 0.0), (3, 3.0),
    (float("inf"), 0.0),
])
def test_parse_speed(text: str | float, speed: float):
    assert r.parse_speed(text) == speed


@pytest.mark.parametrize("text", ["fast", "-1", "nan", "", "x"])
def test_bad_speeds(text: str):
    with pytest.raises(ValueError, match="speed"):
        r.parse_speed(text)


def test_send_delays_scale_recorded_gaps():
    steps = (r.SendStep(r.TextPayload("a"), delay_s=1.0), r.ExpectStep(r.OpcodeMatcher(Opcode.TEXT)),
             r.WaitStep(seconds=3), r.SendStep(r.TextPayload("b")), r.SendStep(r.TextPayload("c"), delay_s=0.3))
    assert r.send_delays(steps, 1.0) == [(0, 1.0), (3, 0.0), (4, 0.3)]
    assert r.send_delays(steps, 0.5) == [(0, 2.0), (3, 0.0), (4, 0.6)]
    assert r.send_delays(steps, 2) == [(0, 0.5), (3, 0.0), (4, 0.15)]
    assert r.send_delays(steps, 0) == [(0, 0.0), (3, 0.0), (4, 0.0)]
    assert r.scaled_delay(None, 1) == 0 and r.scaled_delay(-1, 1) == 0 and r.scaled_delay(1, float("inf")) == 0


# -- the runner ---------------------------------------------------------------------------------------


class _Peer:
    """Drives a Replay on a fake clock: ``script`` maps what the test sends to what the peer answers."""

    def __init__(self, replay: r.Replay) -> None:
        self.replay = replay
        self.now = 100.0
        self.sent: list[tuple[float, Opcode, bytes]] = []
        self.waits: list[float] = []

    def run(self, answers: dict[bytes, list[tuple[float, Opcode, bytes]]] | None = None,
            pushes: list[tuple[float, Opcode, bytes]] | None = None) -> r.RunResult:
        """``answers``: on sending a payload, messages that arrive after a delay; ``pushes``: messages that arrive
        at a time after the start on their own."""
        pending = sorted((self.now + t, op, data) for t, op, data in pushes or [])
        for _ in range(1000):
            action = self.replay.poll(self.now)
            if isinstance(action, r.Finished):
                return action.result
            if isinstance(action, r.SendAction):
                self.sent.append((self.now, action.opcode, action.payload))
                for delay, op, data in (answers or {}).get(action.payload, []):
                    pending.append((self.now + delay, op, data))
                pending.sort()
                continue
            self.waits.append(action.until)
            if pending and pending[0][0] <= action.until:
                at, op, data = pending.pop(0)
                self.now = max(self.now, at)
                self.replay.on_message(op, data, at)
            else:
                self.now = action.until
        raise AssertionError("the replay does not end")


def test_replay_runs_the_documented_example():
    test = r.load(_docs_example())
    replay = r.Replay(test, {"token": "t"})
    peer = _Peer(replay)
    text = Opcode.TEXT
    answers = {
        b'{"op":"login","user":"ann"}': [(0.1, text, b'{"op": "welcome", "user": "ann", "session": "s-42"}')],
        b'{"op":"resume","session":"s-42"}': [
            (0.05, Opcode.PING, b""),
            (0.1, text, b'{"op": "resumed", "session": "s-42", "ts": 5, "items": [{"id": 1, "name": "first"}, '
                        b'{"id": 2, "name": "second"}]}')],
        b"\x01\x02\xff": [(0.2, text, b"pong 7")],
        b"bye": [(0.1, Opcode.CLOSE, close_payload(1000))],
    }
    result = peer.run(answers, pushes=[(2.0, text, b'{"status": "starting"}'), (3.0, text, b'{"status": "ready"}')])
    assert [s.status for s in result.steps] == [r.Verdict.PASSED] * len(test.steps), result.steps
    assert result.exit_code == 0 and result.ok
    assert [data for _, _, data in peer.sent] == [b'{"op":"login","user":"ann"}', b'{"op":"resume","session":"s-42"}',
                                                  b"\x01\x02\xff", b"bye"]
    assert replay.variables["session_id"] == "s-42"
    assert result.steps[1].message == "captured session_id=s-42"
    # "resume" waits its recorded 0.25 s after the welcome arrived (at 100.1)
    assert peer.sent[1][0] == pytest.approx(100.35)
    assert result.steps[2].duration_s == pytest.approx(0.25)
    assert result.totals == {"passed": 10, "failed": 0, "error": 0, "skipped": 0, "total": 10}
    assert replay.done and replay.current is None


def test_replay_at_twice_the_speed_and_as_fast_as_possible():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("a"), delay_s=1.0),
                                       r.SendStep(r.TextPayload("b"), delay_s=0.5)))
    for speed, times in ((2.0, [100.5, 100.75]), (0.5, [102.0, 103.0]), (0.0, [100.0, 100.0])):
        peer = _Peer(r.Replay(test, speed=speed))
        assert peer.run().ok
        assert [t for t, _, _ in peer.sent] == pytest.approx(times)


def test_replay_stops_at_the_first_failure_and_skips_the_rest():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("hi")), r.ExpectStep(r.TextMatcher("hello")),
                                       r.SendStep(r.TextPayload("more")), r.ExpectStep(r.TextMatcher("x"))))
    peer = _Peer(r.Replay(test))
    result = peer.run({b"hi": [(0.2, Opcode.TEXT, b"goodbye")]})
    assert [s.status for s in result.steps] == [r.Verdict.PASSED, r.Verdict.FAILED, r.Verdict.SKIPPED,
                                                r.Verdict.SKIPPED]
    failed = result.steps[1]
    assert failed.name == "steps[1] expect text" and failed.kind == "expect"
    assert failed.message == "the text differs from character 1"
    assert "-hello" in failed.diff and "+goodbye" in failed.diff
    assert failed.expected == "hello" and failed.received == "goodbye"
    assert failed.duration_s == pytest.approx(0.2)
    assert result.steps[2].message == "not run: steps[1] expect text failed"
    assert result.exit_code == r.EXIT_FAILED
    assert len(peer.sent) == 1


def test_replay_times_out_on_the_steps_timeout():
    test = r.TestFile("t", "ws://h/", (r.ExpectStep(r.TextMatcher("x"), timeout_s=2),
                                       r.ExpectStep(r.TextMatcher("y"))), timeout_s=7)
    peer = _Peer(r.Replay(test))
    result = peer.run(pushes=[(2.5, Opcode.TEXT, b"x")])  # too late
    assert result.steps[0].status is r.Verdict.FAILED
    assert result.steps[0].message == "timeout: no matching message within 2 s"
    assert result.steps[0].duration_s == pytest.approx(2.0)
    assert peer.waits[0] == pytest.approx(102.0)
    # the file's default timeout applies to steps that set none
    peer = _Peer(r.Replay(r.TestFile("t", "ws://h/", (r.ExpectStep(r.TextMatcher("y")),), timeout_s=7)))
    assert peer.run().steps[0].duration_s == pytest.approx(7.0)


def test_a_message_that_arrives_after_the_deadline_does_not_count():
    replay = r.Replay(r.TestFile("t", "ws://h/", (r.ExpectStep(r.TextMatcher("x"), timeout_s=5),)))
    assert replay.poll(10.0) == r.WaitAction(15.0)
    replay.on_message(Opcode.TEXT, b"x", 15.5)  # the caller was late to look
    finished = replay.poll(16.0)
    assert isinstance(finished, r.Finished)
    assert finished.result.steps[0].message == "timeout: no matching message within 5 s"
    assert finished.result.duration_s == pytest.approx(5.0)


def test_expect_passes_over_pings_and_wait_until_drops_other_messages():
    test = r.TestFile("t", "ws://h/", (
        r.WaitStep(until=r.JsonMatcher({"ready": True}, ("$.id",)), capture=(("id", "$.id"),)),
        r.ExpectStep(r.TextMatcher("next {{id}}")),
        r.WaitStep(seconds=1),
        r.ExpectStep(r.OpcodeMatcher(Opcode.PONG)),
    ))
    peer = _Peer(r.Replay(test))
    result = peer.run(pushes=[(0.1, Opcode.TEXT, b'{"ready": false}'), (0.2, Opcode.BINARY, b"\x00"),
                              (0.3, Opcode.TEXT, b'{"ready": true, "id": 9}'), (0.4, Opcode.PING, b""),
                              (0.5, Opcode.TEXT, b"next 9"), (0.6, Opcode.PONG, b"")])
    assert result.ok, result.steps
    assert result.steps[2].duration_s == pytest.approx(1.0)
    assert result.duration_s == pytest.approx(1.5)


def test_a_message_that_arrived_during_a_fixed_wait_is_kept_for_the_next_expect():
    test = r.TestFile("t", "ws://h/", (r.WaitStep(seconds=2), r.ExpectStep(r.TextMatcher("early"))))
    assert _Peer(r.Replay(test)).run(pushes=[(0.5, Opcode.TEXT, b"early")]).ok


def test_expect_fails_when_the_connection_closes():
    test = r.TestFile("t", "ws://h/", (r.ExpectStep(r.TextMatcher("x")), r.ExpectStep(r.TextMatcher("y"))))
    result = _Peer(r.Replay(test)).run(pushes=[(0.1, Opcode.CLOSE, close_payload(1011, "oops"))])
    assert result.steps[0].status is r.Verdict.FAILED
    assert result.steps[0].message == ("expected a text message, the connection was closed "
                                       "(close 1011 (internal error): oops)")
    # a wait until passes over the close frame, then the closed connection fails it at once
    test = r.TestFile("t", "ws://h/", (r.WaitStep(until=r.TextMatcher("x")),))
    peer = _Peer(r.Replay(test))
    result = peer.run(pushes=[(0.1, Opcode.CLOSE, close_payload(1000))])
    assert result.steps[0].message.startswith("the connection was closed (close 1000")
    assert peer.now == pytest.approx(100.1)  # no waiting for the timeout


def test_on_closed_without_a_close_frame():
    replay = r.Replay(r.TestFile("t", "ws://h/", (r.ExpectStep(r.TextMatcher("x")),)))
    assert isinstance(replay.poll(0.0), r.WaitAction)
    replay.on_closed(1.0, "network is down")
    finished = replay.poll(1.0)
    assert isinstance(finished, r.Finished)
    assert finished.result.steps[0].message == "the connection was closed: network is down before a matching message"


def test_connection_failure_before_the_first_step():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("a")), r.ExpectStep(r.TextMatcher("b"))))
    replay = r.Replay(test)
    replay.on_error("cannot connect: refused", 5.0)
    action = replay.poll(6.0)
    assert isinstance(action, r.Finished)
    result = action.result
    assert result.error == "cannot connect: refused"
    assert [s.status for s in result.steps] == [r.Verdict.SKIPPED, r.Verdict.SKIPPED]
    assert result.exit_code == r.EXIT_ERROR


def test_connection_drop_during_a_step_is_an_error():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("a")), r.ExpectStep(r.TextMatcher("b")),
                                       r.SendStep(r.TextPayload("c"))))
    replay = r.Replay(test)
    assert isinstance(replay.poll(0.0), r.SendAction)
    assert isinstance(replay.poll(0.0), r.WaitAction)
    assert replay.current == 1 and len(replay.results) == 1
    replay.on_error("connection reset", 0.5)
    replay.on_message(Opcode.TEXT, b"b", 0.6)  # ignored: the run is over
    result = replay.result()
    assert [s.status for s in result.steps] == [r.Verdict.PASSED, r.Verdict.ERROR, r.Verdict.SKIPPED]
    assert result.steps[1].message == "connection reset"
    assert result.exit_code == r.EXIT_ERROR


def test_a_failed_send_is_an_error_of_that_step():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("a")), r.SendStep(r.TextPayload("b"))))
    replay = r.Replay(test)
    assert isinstance(replay.poll(0.0), r.SendAction)
    assert replay.current == 0 and replay.results == ()
    replay.on_error("cannot send: socket closed", 0.1)
    result = replay.result()
    assert [(s.status, s.message) for s in result.steps] == [
        (r.Verdict.ERROR, "cannot send: socket closed"),
        (r.Verdict.SKIPPED, "not run: steps[0] send text error")]
    assert result.exit_code == r.EXIT_ERROR
    assert isinstance(replay.poll(0.2), r.Finished)


def test_an_error_after_the_last_step_changes_nothing():
    replay = r.Replay(r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("a")),)))
    assert isinstance(replay.poll(0.0), r.SendAction)
    finished = replay.poll(0.0)
    assert isinstance(finished, r.Finished) and finished.result.ok
    replay.on_error("dropped", 1.0)
    assert replay.result().ok and replay.result().error == ""


def test_an_unknown_variable_at_run_time_is_an_error():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("{{nope}}")),))
    result = _Peer(r.Replay(test)).run()
    assert result.steps[0].status is r.Verdict.ERROR
    assert result.steps[0].message == "Unknown variable: {{nope}}"
    assert result.exit_code == r.EXIT_ERROR


def test_exit_codes():
    def run(*statuses: r.Verdict, error: str = "") -> r.RunResult:
        return r.RunResult(tuple(r.StepResult(i, f"s{i}", "send", s) for i, s in enumerate(statuses)), error=error)

    assert run().exit_code == 0
    assert run(r.Verdict.PASSED, r.Verdict.PASSED).exit_code == 0
    assert run(r.Verdict.PASSED, r.Verdict.FAILED, r.Verdict.SKIPPED).exit_code == 1
    assert run(r.Verdict.FAILED, r.Verdict.ERROR).exit_code == 2
    assert run(r.Verdict.SKIPPED, error="refused").exit_code == 2


# -- JUnit XML ----------------------------------------------------------------------------------------


def test_junit_xml_one_testcase_per_step():
    result = r.RunResult((
        r.StepResult(0, "log in", "send", r.Verdict.PASSED, 0.0125),
        r.StepResult(1, "welcome", "expect", r.Verdict.FAILED, 1.5, '1 difference in the JSON: $.a: ...',
                     expected='{"a": 1}', received='{"a": 2}', diff="$.a: expected 1, got 2"),
        r.StepResult(2, "bye", "send", r.Verdict.SKIPPED, 0.0, "not run: welcome failed"),
    ), name="t", duration_s=1.5125)
    xml = r.junit_xml(result, "Login <suite> & co")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.attrib == {"name": "Login <suite> & co", "tests": "3", "failures": "1", "errors": "0",
                            "skipped": "1", "time": "1.512"}
    cases = suite.findall("testcase")
    assert [(c.get("name"), c.get("time"), c.get("classname")) for c in cases] == [
        ("log in", "0.013", "Login <suite> & co"), ("welcome", "1.500", "Login <suite> & co"),
        ("bye", "0.000", "Login <suite> & co")]
    assert list(cases[0]) == []
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message") == "1 difference in the JSON: $.a: ..."
    assert failure.text is not None
    assert "$.a: expected 1, got 2" in failure.text and 'received:\n{"a": 2}' in failure.text
    skipped = cases[2].find("skipped")
    assert skipped is not None and skipped.get("message") == "not run: welcome failed"


def test_junit_xml_errors_and_unprintable_characters():
    result = r.RunResult((r.StepResult(0, "s\x00", "expect", r.Verdict.ERROR, 0.1, "reset\x1b", received="\ud800"),),
                         error="reset")
    root = ET.fromstring(r.junit_xml(result, "suite"))
    error = root.find("testsuite/testcase/error")
    assert error is not None and error.get("message") == "reset\\x1b"
    assert root.find("testsuite/testcase").get("name") == "s\\x00"  # type: ignore[union-attr]
    assert root.get("errors") == "1" and root.get("tests") == "1"


def test_junit_xml_for_a_connection_that_never_opened():
    replay = r.Replay(r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("a")),)))
    replay.on_error("cannot connect", 0.0)
    root = ET.fromstring(r.junit_xml(replay.result(), "t"))
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["connection", "steps[0] send text"]
    assert cases[0].find("error") is not None and cases[1].find("skipped") is not None
    assert root.get("tests") == "2" and root.get("errors") == "1" and root.get("skipped") == "1"


def test_junit_xml_of_a_real_run_round_trips_through_a_parser():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("hi")), r.ExpectStep(r.JsonMatcher({"a": [1]}))))
    result = _Peer(r.Replay(test)).run({b"hi": [(0.25, Opcode.TEXT, b'{"a": [2]}')]})
    failure = ET.fromstring(r.junit_xml(result, "t")).find("testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    assert "$.a[0]: expected 1, got 2" in failure.text


def test_a_failed_wait_until_says_what_arrived_instead():
    test = r.TestFile("t", "ws://h/", (r.WaitStep(until=r.JsonMatcher({"status": "ready"}), timeout_s=2),))
    result = _Peer(r.Replay(test)).run(pushes=[(0.1, Opcode.TEXT, b'{"status": "busy"}'),
                                               (0.2, Opcode.TEXT, b"noise"),
                                               (0.3, Opcode.TEXT, b'{"status": "ready", "id": 99}')])
    step = result.steps[0]
    assert step.status is r.Verdict.FAILED
    assert step.message == ("timeout: no matching message within 2 s; 3 messages did not match, the last: "
                            "1 difference in the JSON: $.id: unexpected (got 99)")
    assert json.loads(step.received) == {"status": "ready", "id": 99}
    assert step.diff == "$.id: unexpected (got 99)"
    # a wait-until that saw nothing says only that
    result = _Peer(r.Replay(test)).run()
    assert result.steps[0].message == "timeout: no matching message within 2 s" and not result.steps[0].received


def test_a_connection_that_fails_after_trying_for_a_while_reports_how_long():
    test = r.TestFile("t", "ws://h/", (r.SendStep(r.TextPayload("a")),))
    replay = r.Replay(test)
    replay.connecting(10.0)
    replay.on_error("the opening handshake timed out after 10 s", 20.0)
    result = replay.result()
    assert result.duration_s == pytest.approx(10.0)
    report = ET.fromstring(r.junit_xml(result, "t"))
    assert report.find("testsuite/testcase[@name='connection']").get("time") == "10.000"


def test_a_long_text_diff_shows_a_window_around_the_first_difference():
    expected = "x" * 300_000 + "A" + "y" * 100
    received = "x" * 300_000 + "B" + "y" * 100
    diff = r.text_diff(expected, received)
    assert len(diff) < 2500
    assert diff.startswith("(characters 299,801 to 300,101 of 300,101, around the first difference)\n")
    assert "-…" + "x" * 200 + "A" + "y" * 100 in diff and "+…" + "x" * 200 + "B" + "y" * 100 in diff
    # short texts are diffed whole
    assert r.text_diff("abc", "abd") == "--- expected\n+++ received\n@@ -1 +1 @@\n-abc\n+abd"


def test_a_captured_credential_is_not_shown():
    test = r.TestFile("t", "ws://h/", (r.ExpectStep(r.OpcodeMatcher(Opcode.TEXT),
                                                    capture=(("token", "$.token"), ("room", "$.room"))),))
    replay = r.Replay(test)
    result = _Peer(replay).run(pushes=[(0.1, Opcode.TEXT, b'{"token": "t0k3n-abc", "room": "7"}')])
    assert result.steps[0].message == "captured token=***, room=7"
    assert replay.variables["token"] == "t0k3n-abc"


def test_a_recorded_text_with_braces_becomes_a_test_that_runs():
    braces = "héllo {{notavar}}".encode()
    recorded = [(1, "out", Opcode.TEXT, braces), (2, "in", Opcode.TEXT, braces),
                (3, "out", Opcode.TEXT, b'{"tpl": "{{x}} and {{ y }}"}')]
    test = r.test_from_frames(recorded, "t", "ws://h/{{host}}", variables=(("host", "example"), ("x", "1")))
    assert test.variables == (("host", "example"), ("x", "1"), ("notavar", "{{notavar}}"), ("y", "{{y}}"))
    r.check_variables(test)
    result = _Peer(r.Replay(test)).run({braces: [(0.1, Opcode.TEXT, braces)]})
    assert result.ok, result.steps
    assert r.load(r.dump(test)) == test


def test_an_editor_may_open_a_file_whose_url_cannot_be_connected_to():
    text = "version: 1\nurl: TBD\n"
    with pytest.raises(r.TestFileError, match="line 2, column 6: url: "):
        r.load(text)
    assert r.load(text, check_url=False).url == "TBD"
