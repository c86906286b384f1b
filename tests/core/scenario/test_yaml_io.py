"""Reading and writing test files: the round trip, the canonical layout, errors with line, column and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.scenario.helpers import docs_example, full_test
from wsinspector.core.scenario import yaml_io
from wsinspector.core.scenario.model import (
    DEFAULT_TIMEOUT_S,
    BinaryPayload,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Scenario,
    SendStep,
    TextMatcher,
    TextPayload,
    WaitStep,
    step_kind,
)
from wsinspector.core.scenario.yaml_io import ScenarioFileError, dump, load, read_test, write_test


@pytest.fixture(autouse=True, params=["libyaml", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here reads with both parsers: libyaml's, which files are read with where PyYAML has it, and
    PyYAML's own, where it does not. They must read the same files the same way and refuse the same ones."""
    if request.param == "python":
        monkeypatch.setattr(yaml_io, "_Loader", yaml_io._PyLoader)
    elif not yaml_io.LIBYAML:
        pytest.skip("PyYAML was built without libyaml: only its own parser can be tested")
    return str(request.param)


def _load_error(text: str) -> ScenarioFileError:
    with pytest.raises(ScenarioFileError) as info:
        load(text)
    return info.value


def test_round_trip_of_every_step_kind():
    test = full_test()
    text = dump(test)
    assert load(text) == test
    assert dump(load(text)) == text


def test_dump_layout_is_block_style_in_a_fixed_key_order():
    test = Scenario(
        name="Echo", url="ws://localhost:8765/", variables=(("who", "ann"),),
        steps=(SendStep(JsonPayload({"b": 1, "a": "{{who}}"}), delay_s=0.125, name="hi"),
               ExpectStep(JsonMatcher({"b": 1}, ("$.ts",)), capture=(("sid", "$.sid"),), timeout_s=3),
               SendStep(BinaryPayload(b"\x01\x02")),
               WaitStep(seconds=1)),
    )
    assert dump(test) == (
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
    test = Scenario("n", "ws://h/", (
        SendStep(TextPayload(text)),
        SendStep(JsonPayload({text: [text, {"k": text}]})),
        ExpectStep(TextMatcher(text)),
        ExpectStep(JsonMatcher(text)),
    ), variables=(("v", text),), headers=((f"X-{len(text)}", text),))
    assert load(dump(test)) == test


@pytest.mark.parametrize("value", [0, -1, 2**70, 0.1, 1e20, -2.5e-9, 1.0, True, False, None, [], {}, [[[]]]])
def test_json_scalars_keep_their_type(value: object):
    test = Scenario("n", "ws://h/", (SendStep(JsonPayload({"v": value})),))
    loaded = load(dump(test)).steps[0]
    assert isinstance(loaded, SendStep) and isinstance(loaded.payload, JsonPayload)
    assert loaded.payload.value == {"v": value}
    assert type(loaded.payload.value["v"]) is type(value)


def test_binary_is_hex_sixteen_bytes_a_line():
    text = dump(Scenario("n", "ws://h/", (SendStep(BinaryPayload(bytes(range(20)))),)))
    assert "binary: |\n        00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n        10 11 12 13\n" in text


def test_docs_example_is_in_the_canonical_layout():
    example = docs_example()
    test = load(example)
    assert dump(test) == example
    assert test.name == "Login and resume"
    assert [step_kind(s) for s in test.steps][:4] == ["send", "expect", "send", "expect"]


def test_json_may_be_written_as_json():
    test = load('version: 1\nurl: ws://h/\nsteps:\n  - send:\n      json: {"op": "x", "n": 1e5, "a": [true, null]}\n')
    step = test.steps[0]
    assert isinstance(step, SendStep)
    assert step.payload == JsonPayload({"op": "x", "n": 100000.0, "a": [True, None]})


def test_json_literals_are_read_the_json_way():
    test = load("version: 1\nurl: ws://h/\nsteps:\n  - send:\n      json:\n"
                  "        a: yes\n        b: 0x1F\n        c: '12'\n        d: 12\n        e: ~\n        f: True\n"
                  "        g: 2024-01-01\n        h: \"true\"\n")
    step = test.steps[0]
    assert isinstance(step, SendStep) and isinstance(step.payload, JsonPayload)
    assert step.payload.value == {"a": "yes", "b": "0x1F", "c": "12", "d": 12, "e": None, "f": "True",
                                  "g": "2024-01-01", "h": "true"}


def test_optional_keys_default():
    test = load("version: 1\nurl: ws://h/\n")
    assert test == Scenario(name="", url="ws://h/")
    assert test.timeout_s == DEFAULT_TIMEOUT_S


def test_binary_accepts_hex_and_base64_forms():
    test = load("version: 1\nurl: ws://h/\nsteps:\n"
                  "  - send: {binary: '0x01:0x02, ff'}\n"
                  "  - send: {binary: {base64: AQL/}}\n"
                  "  - send: {binary: {hex: 01 02 ff}}\n")
    assert [s.payload for s in test.steps if isinstance(s, SendStep)] == [
        BinaryPayload(b"\x01\x02\xff")] * 3


def test_scalar_values_are_taken_as_written():
    test = load("version: 1\nurl: ws://h:{{port}}/\nvariables:\n  port: 8080\n  flag: yes\n"
                  "steps:\n  - send: {text: 1.50}\n  - send: {text: }\n")
    assert test.variables == (("port", "8080"), ("flag", "yes"))
    assert [s.payload for s in test.steps if isinstance(s, SendStep)] == [TextPayload("1.50"),
                                                                             TextPayload("")]


def test_a_byte_order_mark_is_ignored():
    assert load("\ufeffversion: 1\nurl: ws://h/\n").url == "ws://h/"


def test_read_and_write_files(tmp_path: Path):
    path = tmp_path / "t.wstest.yaml"
    write_test(path, full_test())
    assert read_test(path) == full_test()
    path.write_bytes(b"version: 1\nurl: \xff\n")
    with pytest.raises(ScenarioFileError, match="not UTF-8"):
        read_test(path)


def test_dump_rejects_what_the_format_cannot_hold():
    with pytest.raises(ValueError, match="twice"):
        dump(Scenario("n", "ws://h/", headers=(("A", "1"), ("A", "2"))))
    with pytest.raises(ValueError, match="JSON"):
        dump(Scenario("n", "ws://h/", (SendStep(JsonPayload({"x": float("nan")})),)))
    with pytest.raises(ValueError, match="JSON"):
        dump(Scenario("n", "ws://h/", (SendStep(JsonPayload({1: "x"})),)))


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
    ("version: 1\nurl: ws://h/\n  bad: indent\n", 3, 6, "", "not valid YAML: mapping values are not allowed"),
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
    assert str(ScenarioFileError("boom")) == "boom"
    assert str(ScenarioFileError("boom", 3)) == "line 3: boom"
    assert str(ScenarioFileError("boom", 3, 7, "steps[1]")) == "line 3, column 7: steps[1]: boom"


def test_deep_nesting_is_an_error_not_a_crash():
    error = _load_error(_HEAD + "  - send: {json: " + "[" * 5000 + "]" * 5000 + "}\n")
    assert "nested too deeply" in error.message or "not valid YAML" in error.message


def test_an_editor_may_open_a_file_whose_url_cannot_be_connected_to():
    text = "version: 1\nurl: TBD\n"
    with pytest.raises(ScenarioFileError, match="line 2, column 6: url: "):
        load(text)
    assert load(text, check_url=False).url == "TBD"


# -- TLS and "connect to" -----------------------------------------------------------------------------------

TLS_TEST = """\
version: 1
name: private api
url: wss://api.dev.example/feed
timeout: 5
tls:
  verify: false
  ca_file: certs/dev-ca.pem
  client_cert: certs/me.p12
  min_version: '1.3'
  trust:
    - AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB
connect_to: 10.0.0.5:443
steps: []
"""


def test_tls_settings_and_connect_to_round_trip(tmp_path: Path):
    from wsinspector.core.scenario.variables import to_profile

    test = load(TLS_TEST)
    assert not test.tls.verify and test.tls.min_version == "1.3"
    assert test.tls.pinned == (":".join(["AB"] * 32),)
    assert test.connect_to == "10.0.0.5:443"
    assert dump(test) == TLS_TEST
    # file names are relative to the test file's folder; absolute ones and variables stay as written
    target = to_profile(test, base_dir=tmp_path).resolved()
    assert target.tls.ca_file == str(tmp_path / "certs" / "dev-ca.pem")
    assert target.endpoint.connect_to == "10.0.0.5:443"
    test = load(TLS_TEST.replace("certs/me.p12", "/etc/me.p12").replace("certs/dev-ca.pem", "'{{ca}}'"))
    profile = to_profile(test, {"ca": "/srv/ca.pem"}, base_dir=tmp_path)
    assert (profile.resolved().tls.ca_file, profile.tls.client_cert) == ("/srv/ca.pem", "/etc/me.p12")


@pytest.mark.parametrize("tls, line, column, field, message", [
    ("tls:\n  verify: yes\n", 6, 11, "tls.verify", "must be true or false"),
    ("tls:\n  min_version: '1.1'\n", 6, 16, "tls.min_version", "must be 1.2 or 1.3, not '1.1'"),
    ("tls:\n  trust: [abc]\n", 6, 11, "tls.trust[0]", "'abc' is not a SHA-256 fingerprint"),
    ("tls:\n  trust: AB\n", 6, 10, "tls.trust", "must be a list of SHA-256 fingerprints"),
    ("tls:\n  ocsp: true\n", 6, 3, "tls", "'ocsp'"),
    ("tls: [1]\n", 5, 6, "tls", "must be a mapping"),
])
def test_tls_mistakes_name_line_column_and_field(tls: str, line: int, column: int, field: str, message: str):
    error = _load_error("version: 1\nname: t\nurl: wss://h/\ntimeout: 5\n" + tls)
    assert (error.line, error.column, error.field) == (line, column, field), str(error)
    assert message in error.message, error.message
