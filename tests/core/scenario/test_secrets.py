"""A test made from a session must not carry the session's credentials into a file meant for git."""

from __future__ import annotations

import base64

import pytest

from wsinspector.core.redact import is_secret_field, is_secret_header
from wsinspector.core.scenario.matching import json_differences
from wsinspector.core.scenario.model import (
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    RegexMatcher,
    Scenario,
    SendStep,
    TextMatcher,
    TextPayload,
)
from wsinspector.core.scenario.secrets import Masker, mask_text, without_secrets
from wsinspector.core.scenario.variables import check_variables, expand, expand_json, variable_uses
from wsinspector.core.scenario.yaml_io import dump, load

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig"


def test_secret_variables_leave_the_file_and_come_back_as_values() -> None:
    test = Scenario("t", "wss://h/ws?access_token={{token}}&room={{room}}",
                    variables=(("token", TOKEN), ("room", "lobby")))
    redacted = without_secrets(test)
    assert redacted.test.url == test.url
    assert redacted.test.variables == (("room", "lobby"),)
    assert redacted.secrets == (("token", TOKEN),)
    assert TOKEN not in dump(redacted.test)
    # the file alone no longer runs: the secret must be given
    with pytest.raises(ValueError, match=r"\{\{token\}\}"):
        check_variables(redacted.test)
    check_variables(redacted.test, redacted.secrets)


def test_a_variable_used_in_a_credential_is_secret_whatever_its_name() -> None:
    test = Scenario("t", "ws://h/", headers=(("Authorization", "Bearer {{t}}"),), variables=(("t", "abcdef123"),))
    redacted = without_secrets(test)
    assert redacted.test.headers == (("Authorization", "Bearer {{t}}"),)
    assert redacted.test.variables == ()
    assert redacted.secrets == (("t", "abcdef123"),)


@pytest.mark.parametrize(("url", "expected", "secrets"), [
    ("wss://h/ws?token=abc123&room=7", "wss://h/ws?token={{token}}&room=7", [("token", "abc123")]),
    ("wss://h/ws?X-Amz-Signature=f00d&v=1", "wss://h/ws?X-Amz-Signature={{X-Amz-Signature}}&v=1",
     [("X-Amz-Signature", "f00d")]),
    ("wss://ann:hunter2@h/ws", "wss://ann:{{password}}@h/ws", [("password", "hunter2")]),
    ("wss://tok3n@h/ws", "wss://{{user_info}}@h/ws", [("user_info", "tok3n")]),
    ("wss://h/ws?token=&q=a", "wss://h/ws?token=&q=a", []),
    ("wss://h/ws#token=abc", "wss://h/ws#token=abc", []),
])
def test_credentials_in_the_url_become_variables(url: str, expected: str, secrets: list[tuple[str, str]]) -> None:
    redacted = without_secrets(Scenario("t", url))
    assert redacted.test.url == expected
    assert list(redacted.secrets) == secrets
    # expanded with the secrets, the URL is the one recorded
    assert expand(redacted.test.url, dict(redacted.secrets)) == url


def test_credential_headers_keep_their_scheme() -> None:
    test = Scenario("t", "ws://h/", headers=(
        ("Authorization", f"Bearer {TOKEN}"), ("Cookie", "sid=42; theme=dark"), ("X-Api-Key", "k-123456"),
        ("X-Request-Id", "r-1"), ("Proxy-Authorization", "Basic YW5uOnB3"),
    ))
    redacted = without_secrets(test)
    assert redacted.test.headers == (
        ("Authorization", "Bearer {{authorization}}"), ("Cookie", "{{cookie}}"), ("X-Api-Key", "{{x-api-key}}"),
        ("X-Request-Id", "r-1"), ("Proxy-Authorization", "Basic {{proxy-authorization}}"),
    )
    assert dict(redacted.secrets) == {"authorization": TOKEN, "cookie": "sid=42; theme=dark",
                                      "x-api-key": "k-123456", "proxy-authorization": "YW5uOnB3"}


def test_sent_credentials_and_their_echo_are_replaced_everywhere() -> None:
    test = Scenario("t", "ws://h/", steps=(
        SendStep(JsonPayload({"op": "login", "user": "ann", "password": "hunter22", "n": 1})),
        ExpectStep(JsonMatcher({"ok": True, "echo": {"password": "hunter22"}, "session": "s-1"})),
        SendStep(TextPayload("AUTH hunter22")),
        ExpectStep(TextMatcher("welcome, hunter22 holder")),
    ))
    redacted = without_secrets(test)
    steps = redacted.test.steps
    assert steps[0] == SendStep(JsonPayload({"op": "login", "user": "ann", "password": "{{password}}", "n": 1}))
    assert steps[1] == ExpectStep(JsonMatcher({"ok": True, "echo": {"password": "{{password}}"}, "session": "s-1"}))
    assert steps[2] == SendStep(TextPayload("AUTH {{password}}"))
    assert steps[3] == ExpectStep(TextMatcher("welcome, {{password}} holder"))
    assert redacted.secrets == (("password", "hunter22"),)
    values = dict(redacted.secrets)
    # what is sent and expected at run time is what was recorded
    assert isinstance(steps[0], SendStep) and isinstance(steps[0].payload, JsonPayload)
    assert expand_json(steps[0].payload.value, values)["password"] == "hunter22"


def test_a_credential_the_server_issues_is_ignored_not_written() -> None:
    test = Scenario("t", "ws://h/", steps=(
        ExpectStep(JsonMatcher({"accessToken": TOKEN, "items": [{"refresh_token": "r-99999"}], "user": "ann"},
                               ignore=("$.ts",))),
    ))
    redacted = without_secrets(test)
    step = redacted.test.steps[0]
    assert isinstance(step, ExpectStep) and isinstance(step.matcher, JsonMatcher)
    assert step.matcher.value == {"accessToken": "REDACTED", "items": [{"refresh_token": "REDACTED"}], "user": "ann"}
    assert step.matcher.ignore == ("$.ts", "$.accessToken", "$.items[0].refresh_token")
    assert redacted.secrets == ()
    # a later run with another token still matches
    received = {"accessToken": "another", "items": [{"refresh_token": "x"}], "user": "ann", "ts": 5}
    assert json_differences(step.matcher.value, received, step.matcher.ignore) == []


def test_same_secret_value_one_variable_and_names_do_not_collide() -> None:
    test = Scenario("t", "wss://h/?token=abcdef", headers=(("X-Token", "abcdef"), ("X-Auth-Token", "zzzzzz")),
                    variables=(("hint", "x"),), steps=(
                        SendStep(JsonPayload({"token": "qqqqqq"})),
                    ))
    redacted = without_secrets(test)
    assert redacted.test.url == "wss://h/?token={{token}}"
    assert redacted.test.headers == (("X-Token", "{{token}}"), ("X-Auth-Token", "{{x-auth-token}}"))
    step = redacted.test.steps[0]
    assert isinstance(step, SendStep)
    assert step.payload == JsonPayload({"token": "{{token_2}}"})
    assert dict(redacted.secrets) == {"token": "abcdef", "x-auth-token": "zzzzzz", "token_2": "qqqqqq"}


def test_nothing_secret_nothing_changes() -> None:
    test = Scenario("t", "ws://h/chat?room=7", headers=(("X-Client", "qa"),), variables=(("room", "7"),), steps=(
        SendStep(JsonPayload({"op": "join", "key": "ArrowUp", "session": "room-1"})),
        ExpectStep(TextMatcher("joined")),
        SendStep(BinaryPayload(b"\x00\x01")),
        ExpectStep(BytesMatcher(b"\x00\x01")),
        ExpectStep(RegexMatcher("^ok")),
    ))
    redacted = without_secrets(test)
    assert redacted.test == test
    assert redacted.secrets == ()


def test_the_redacted_test_round_trips_through_the_file_format() -> None:
    test = Scenario("t", "wss://h/?token=abc123", headers=(("Authorization", "Bearer abc123"),),
                    steps=(SendStep(JsonPayload({"auth": "abc123"})),))
    redacted = without_secrets(test)
    assert load(dump(redacted.test)) == redacted.test
    uses = {use.field for use in variable_uses(redacted.test) if not use.defined}
    assert uses == {"url", "headers.Authorization", "steps[0].send.json"}


@pytest.mark.parametrize(("name", "secret"), [
    ("Authorization", True), ("cookie", True), ("X-Api-Key", True), ("X-Auth-Token", True),
    ("Proxy-Authorization", True), ("X-Request-Id", False), ("User-Agent", False), ("Origin", False),
])
def test_secret_headers(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


@pytest.mark.parametrize(("name", "secret"), [
    ("password", True), ("accessToken", True), ("api_key", True), ("client_secret", True), ("otp", True),
    ("key", False), ("session", False), ("ticket", False), ("user", False), ("tokens_left", False),
])
def test_secret_fields(name: str, secret: bool) -> None:
    assert is_secret_field(name) is secret


def test_a_secret_that_is_its_own_name_is_replaced_once() -> None:
    test = Scenario("t", "ws://h/", steps=(
        SendStep(JsonPayload({"user": "bob", "password": "password", "client_secret": "secret"})),
        ExpectStep(TextMatcher("password accepted")),
    ))
    redacted = without_secrets(test)
    step = redacted.test.steps[0]
    assert isinstance(step, SendStep)
    assert step.payload == JsonPayload({"user": "bob", "password": "{{password}}",
                                        "client_secret": "{{client_secret}}"})
    assert redacted.test.steps[1] == ExpectStep(TextMatcher("{{password}} accepted"))
    # supplied back, the secrets give the recorded messages
    values = dict(redacted.secrets)
    assert isinstance(step.payload, JsonPayload)
    assert expand_json(step.payload.value, values) == test.steps[0].payload.value  # type: ignore[union-attr]
    assert expand("{{password}} accepted", values) == "password accepted"


def test_a_percent_encoded_token_is_also_found_decoded_in_messages() -> None:
    test = Scenario("t", "wss://h/ws?token=a%2Bb%2Fcdef%3D", steps=(SendStep(TextPayload("auth a+b/cdef=")),))
    redacted = without_secrets(test)
    assert redacted.test.url == "wss://h/ws?token={{token}}"
    assert redacted.test.steps[0] == SendStep(TextPayload("auth {{token_decoded}}"))
    assert dict(redacted.secrets) == {"token": "a%2Bb%2Fcdef%3D", "token_decoded": "a+b/cdef="}
    assert "a+b/cdef" not in dump(redacted.test) and "a%2Bb" not in dump(redacted.test)


def test_masking_finds_json_escaped_secrets_and_the_part_a_cut_leaves() -> None:
    secret = 'pa"ss\\word1'
    assert mask_text('$.password: expected "pa\\"ss\\\\word1", got "x"', [secret]) == (
        '$.password: expected "***", got "x"')
    token = "S3CRET-qqqqqqqqqqqq"
    assert mask_text("-…qqqqqqq tail", [token]) == "-…*** tail"
    assert mask_text("+head S3CRET-q…", [token]) == "+head ***…"
    assert mask_text("abc", ["ab"]) == "abc"  # too short to mask


def test_a_credential_derived_from_a_secret_is_masked_too() -> None:
    # the Basic header built from a URL's user info carries the password in base64
    header = "Basic " + base64.b64encode(b"u:URLPW-77").decode()
    assert mask_text(f"- Authorization: {header}\n+ Authorization: other", ["URLPW-77"]) == (
        "- Authorization: Basic ***\n+ Authorization: other")
    urlsafe = base64.urlsafe_b64encode(b'{"pw":"URLPW-77?>"}').decode().rstrip("=")
    assert mask_text(f"token {urlsafe} end", ["URLPW-77"]) == "token *** end"
    assert mask_text("Basic dXNlcjpvdGhlcg== end", ["URLPW-77"]) == "Basic dXNlcjpvdGhlcg== end"  # user:other


def test_an_ordinary_word_as_a_secret_does_not_rewrite_the_messages() -> None:
    message = "with the passphrase given: the passphrase is wrong, or the file is damaged"
    assert mask_text(message, ["wrong"]) == message
    masker = Masker(["wrong", "Wr0ng!pw"])
    assert masker.skipped == 1
    assert masker.text("sent Wr0ng!pw") == "sent ***"
