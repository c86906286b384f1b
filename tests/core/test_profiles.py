"""Profiles: URL validation, {{variable}} expansion, resolving a profile into a connect target."""

from __future__ import annotations

import re
from typing import Any

import pytest

from wsinspector.core.profiles import (
    BUILTIN_LOCAL_ECHO,
    DEFAULT_HANDSHAKE_TIMEOUT_S,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_MESSAGE_SIZE,
    ENGINE_QT,
    HEARTBEAT_CLOSE,
    Compression,
    ConnectionProfile,
    Endpoint,
    Handshake,
    Health,
    Limits,
    ProfileError,
    Protocol,
    UnknownVariableError,
    expand,
    validate_url,
)

# -- validate_url -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter a URL"),
        ("   ", "Enter a URL"),
        ("ws://host/a b", "contains spaces"),
        ("ws://ho st/", "contains spaces"),
        ("ws://host/\tpath", "contains spaces"),
        ("http://example.com/socket", "did you mean ws://"),
        ("https://example.com/socket", "did you mean wss://"),
        ("HTTPS://example.com/", "did you mean wss://"),
        ("ftp://example.com/", "Unsupported scheme 'ftp'"),
        ("example.com/socket", "needs a scheme"),
        ("127.0.0.1:8765/", "needs a scheme"),
        ("localhost:8765", "needs a scheme"),
        ("ws://", "no host"),
        ("ws:///path", "no host"),
        ("ws://:8080/", "no host"),
        ("ws://host:0/", "Port 0"),
        ("ws://host:99999/", "malformed"),
        ("ws://host:65536/", "malformed"),
        ("ws://host:abc/", "malformed"),
        ("ws://[::1/", "malformed"),
        ("ws://host/path#section", "#fragment"),
    ],
)
def test_validate_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        validate_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "ws://127.0.0.1:8765/",
        "ws://localhost",
        "wss://echo.example.com/chat/room?id=42&token=abc",
        "WSS://Example.COM/",
        "ws://[::1]:8080/",
        "wss://[2001:db8::1]/socket",
        "ws://user:pass@host:65535/",
        "ws://host:1/",
    ],
)
def test_validate_url_accepts(url: str) -> None:
    assert validate_url(url) == url


def test_validate_url_strips_surrounding_space() -> None:
    assert validate_url("  ws://host:1234/path?q=1 \n") == "ws://host:1234/path?q=1"


# -- expand -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables", "result"),
    [
        ("ws://{{host}}:{{port}}/", {"host": "example.com", "port": "443"}, "ws://example.com:443/"),
        ("{{ host }}", {"host": "h"}, "h"),
        ("{{\thost\t}}/{{host}}", {"host": "h"}, "h/h"),
        ("{{env.name-1}}", {"env.name-1": "prod"}, "prod"),
        ("no variables here", {}, "no variables here"),
        ("{{}} and {{ }} are not variables", {}, "{{}} and {{ }} are not variables"),
        ("{{1abc}}", {}, "{{1abc}}"),  # not a variable name, left as typed
        # values are inserted literally: no second round of expansion, no regex escapes
        ("{{a}}", {"a": "{{b}}", "b": "nope"}, "{{b}}"),
        ("{{path}}", {"path": r"C:\new\1"}, r"C:\new\1"),
    ],
)
def test_expand(text: str, variables: dict[str, str], result: str) -> None:
    assert expand(text, variables) == result


def test_expand_lists_every_unknown_variable_once_in_order() -> None:
    with pytest.raises(UnknownVariableError) as info:
        expand("{{b}}/{{known}}/{{a}}/{{ b }}/{{c}}/{{a}}", {"known": "k"})
    assert info.value.names == ["b", "a", "c"]
    assert str(info.value) == "Unknown variables: {{b}}, {{a}}, {{c}}"


def test_expand_single_unknown_variable_message_is_singular() -> None:
    with pytest.raises(UnknownVariableError, match=r"^Unknown variable: \{\{token\}\}$"):
        expand("Bearer {{token}}", {})


def test_unknown_variable_error_is_a_profile_error() -> None:
    # Callers that show ProfileError to the user also show unknown variables.
    with pytest.raises(ProfileError):
        expand("{{missing}}", {})


# -- resolved() -------------------------------------------------------------------------------------


def _profile(url: str = "ws://h/", **records: object) -> ConnectionProfile:
    """A profile at ``url``; ``records``: settings to change, by record (``handshake={"origin": "o"}``)."""
    return ConnectionProfile(name="p", endpoint=Endpoint(url)).with_changes(**records)


def test_resolved_expands_everything() -> None:
    profile = ConnectionProfile(
        name="staging",
        endpoint=Endpoint("  wss://{{host}}/ws?v={{v}} "),
        handshake=Handshake(headers=(("Authorization", "Bearer {{token}}"), ("X-{{suffix}}", "{{v}}")),
                            subprotocols=("{{proto}}", " graphql-ws "), origin=" https://{{host}} ", timeout_s=2.5),
        variables=(("host", "api.example.com"), ("v", "2"), ("token", "s3cr3t"), ("suffix", "Trace"),
                   ("proto", "chat.v1")),
        limits=Limits(max_message_size=1024, max_frame_size=512),
    )
    target = profile.resolved()
    assert target.url == "wss://api.example.com/ws?v=2"
    assert target.handshake.headers == (("Authorization", "Bearer s3cr3t"), ("X-Trace", "2"))
    assert target.handshake.subprotocols == ("chat.v1", "graphql-ws")
    assert target.handshake.origin == "https://api.example.com"
    assert target.handshake.timeout_s == 2.5
    assert target.limits.max_message_size == 1024
    assert target.limits.max_frame_size == 512


def test_resolved_passes_every_other_setting_through_unchanged() -> None:
    profile = ConnectionProfile(
        name="p", endpoint=Endpoint("ws://h/"),
        protocol=Protocol(engine=ENGINE_QT, auto_pong=False, close_timeout_s=1.5),
        compression=Compression(deflate=False, server_max_window_bits=9, client_max_window_bits=10,
                                server_no_context_takeover=True, client_no_context_takeover=True),
        health=Health(heartbeat_interval_s=3.0, heartbeat_timeout_s=2.0, heartbeat_action=HEARTBEAT_CLOSE,
                      reconnect=True, reconnect_max_attempts=2, reconnect_base_s=1.0, reconnect_max_s=4.0),
    )
    target = profile.resolved()
    for name, record in profile.records():
        if name not in ("endpoint", "handshake"):
            assert getattr(target, name) == record


def test_resolved_skips_blank_header_rows_and_blank_subprotocols() -> None:
    profile = _profile(handshake={"headers": (("", "orphan value"), ("   ", "x"), (" X-Real ", "v")),
                                  "subprotocols": ("", "  ", "chat")})
    target = profile.resolved()
    assert target.handshake.headers == (("X-Real", "v"),)
    assert target.handshake.subprotocols == ("chat",)


def test_resolved_rejects_invalid_url() -> None:
    with pytest.raises(ProfileError, match="did you mean ws://"):
        ConnectionProfile(name="p", endpoint=Endpoint("http://{{h}}/"), variables=(("h", "x"),)).resolved()


@pytest.mark.parametrize(
    "field",
    ["url", "header-name", "header-value", "subprotocol", "origin"],
)
def test_resolved_reports_unknown_variables_in_any_field(field: str) -> None:
    handshake = Handshake(
        headers=((("X-{{nope}}", "v"),) if field == "header-name"
                 else (("X-A", "{{nope}}"),) if field == "header-value" else ()),
        subprotocols=(("{{nope}}",) if field == "subprotocol" else ()),
        origin=("{{nope}}" if field == "origin" else ""),
    )
    profile = _profile("ws://{{nope}}/" if field == "url" else "ws://h/", handshake=handshake)
    with pytest.raises(UnknownVariableError) as info:
        profile.resolved()
    assert info.value.names == ["nope"]


@pytest.mark.parametrize(
    "name",
    [
        "Sec-WebSocket-Key",
        "sec-websocket-key",
        "SEC-WEBSOCKET-VERSION",
        "Sec-WebSocket-Extensions",
        "Host",
        "host",
        "Upgrade",
        "CONNECTION",
    ],
)
def test_resolved_rejects_reserved_headers_case_insensitively(name: str) -> None:
    profile = _profile(handshake={"headers": ((name, "value"),)})
    with pytest.raises(ProfileError, match="set by the WebSocket handshake"):
        profile.resolved()


def test_resolved_rejects_reserved_header_produced_by_a_variable() -> None:
    profile = _profile(handshake={"headers": (("{{h}}", "x"),)}, variables=(("h", "Host"),))
    with pytest.raises(ProfileError, match="'Host'"):
        profile.resolved()


@pytest.mark.parametrize("name", ["X Bad", "X:Colon", "Bad(", "X-Ünïcode", 'Quote"', "Semi;colon"])
def test_resolved_rejects_header_names_that_are_not_tokens(name: str) -> None:
    profile = _profile(handshake={"headers": ((name, "v"),)})
    with pytest.raises(ProfileError, match="not a valid HTTP token"):
        profile.resolved()


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "line1\nline2", "cr\ronly"])
def test_resolved_rejects_line_breaks_in_header_values(value: str) -> None:
    profile = _profile(handshake={"headers": (("X-Test", value),)})
    with pytest.raises(ProfileError, match="'X-Test' has a line break"):
        profile.resolved()


def test_resolved_rejects_line_break_introduced_by_a_variable() -> None:
    profile = _profile(handshake={"headers": (("X-Test", "{{v}}"),)}, variables=(("v", "ok\r\nEvil: 1"),))
    with pytest.raises(ProfileError, match="line break"):
        profile.resolved()


@pytest.mark.parametrize("proto", ["chat v2", "a,b", "proto/1", "x;y", "é"])
def test_resolved_rejects_subprotocols_that_are_not_tokens(proto: str) -> None:
    profile = _profile(handshake={"subprotocols": (proto,)})
    with pytest.raises(ProfileError, match=r"Subprotocol .* is not a valid token"):
        profile.resolved()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"handshake": {"timeout_s": 0.0}}, "Handshake timeout must be positive"),
        ({"handshake": {"timeout_s": -1.0}}, "Handshake timeout must be positive"),
        ({"limits": {"max_message_size": 0}}, "Size limits must be positive"),
        ({"limits": {"max_message_size": -5}}, "Size limits must be positive"),
        ({"limits": {"max_frame_size": 0}}, "Size limits must be positive"),
        ({"limits": {"max_frame_size": -1}}, "Size limits must be positive"),
        ({"protocol": {"close_timeout_s": 0.0}}, "Close timeout must be positive"),
        ({"protocol": {"engine": "carrier-pigeon"}}, "Unknown engine 'carrier-pigeon'"),
        ({"compression": {"server_max_window_bits": 7}}, "Server max window bits"),
        ({"compression": {"client_max_window_bits": 16}}, "Client max window bits"),
        ({"health": {"heartbeat_interval_s": -1.0}}, "Heartbeat interval"),
        ({"health": {"heartbeat_action": "panic"}}, "Unknown heartbeat action 'panic'"),
    ],
)
def test_resolved_rejects_out_of_range_settings(changes: dict[str, dict[str, object]], message: str) -> None:
    profile = _profile(**changes)
    with pytest.raises(ProfileError, match=message):
        profile.resolved()


def test_defaults_resolve_to_default_limits() -> None:
    target = _profile().resolved()
    assert target.handshake.timeout_s == DEFAULT_HANDSHAKE_TIMEOUT_S
    assert target.limits.max_message_size == DEFAULT_MAX_MESSAGE_SIZE
    assert target.limits.max_frame_size == DEFAULT_MAX_FRAME_SIZE
    assert target.handshake.headers == ()
    assert target.handshake.subprotocols == ()
    assert target.handshake.origin == ""


# -- identity ---------------------------------------------------------------------------------------


def test_new_profiles_get_distinct_ids() -> None:
    ids = {_profile().id for _ in range(50)}
    assert len(ids) == 50


def test_duplicate_gets_new_id_and_name_clears_builtin_keeps_the_rest() -> None:
    original = ConnectionProfile(
        name="Local echo",
        endpoint=Endpoint("ws://127.0.0.1:{{port}}/"),
        handshake=Handshake(headers=(("X-A", "1"),), subprotocols=("chat",), origin="http://o", timeout_s=3.0),
        variables=(("port", "8765"),),
        limits=Limits(max_message_size=10, max_frame_size=5),
        builtin=BUILTIN_LOCAL_ECHO,
        folder="Team",
        unknown={"workspace": "Team"},
    )
    copy = original.duplicate("Local echo (copy)")
    assert copy.id != original.id
    assert copy.name == "Local echo (copy)"
    assert copy.builtin == ""
    assert copy.with_changes(name=original.name, builtin=original.builtin, id=original.id) == original
    # the original is untouched
    assert original.builtin == BUILTIN_LOCAL_ECHO
    assert original.name == "Local echo"


def test_with_changes_keeps_the_id() -> None:
    original = _profile()
    changed = original.with_changes(endpoint=Endpoint("ws://other/"))
    assert changed.id == original.id
    assert changed.url == "ws://other/"
    assert original.url == "ws://h/"


def test_with_changes_changes_named_fields_of_a_record_and_keeps_the_others() -> None:
    original = _profile(handshake={"origin": "https://o", "timeout_s": 4.0})
    changed = original.with_changes(handshake={"timeout_s": 1.0}, name="q")
    assert changed.handshake == Handshake(origin="https://o", timeout_s=1.0)
    assert changed.name == "q"
    assert original.handshake.timeout_s == 4.0
    with pytest.raises(TypeError):
        original.with_changes(handshake={"no_such_setting": 1})


def test_reconnect_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    import random

    from wsinspector.core.profiles import backoff_delay

    rng = random.Random(5)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (7, 30.0), (200, 30.0)]:
        delays = [backoff_delay(attempt, 0.5, 30.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not in step
    with pytest.raises(ValueError):
        backoff_delay(0, 0.5, 30.0)


def test_reconnect_settings_are_validated() -> None:
    bad = _profile(health={"reconnect": True, "reconnect_base_s": 5, "reconnect_max_s": 1})
    with pytest.raises(ProfileError, match="Reconnect delays"):
        bad.resolved()


# -- TLS and "connect to" ------------------------------------------------------------------------------


def test_tls_settings_resolve_and_survive_the_stored_form() -> None:
    from wsinspector.core.profiles import profile_from_json, profile_to_json

    pin = "ab" * 32
    profile = ConnectionProfile(name="tls", endpoint=Endpoint("wss://api.example.test/", connect_to="10.0.0.5:443"),
                                variables=(("certs", "/etc/certs"),)).with_changes(
        tls={"ca_file": "{{certs}}/ca.pem", "client_cert": "{{certs}}/me.p12", "min_version": "1.3",
             "verify": False, "pinned": (pin, pin.upper())})
    target = profile.resolved()
    assert target.tls.ca_file == "/etc/certs/ca.pem"
    assert target.tls.client_cert == "/etc/certs/me.p12"
    assert target.tls.pinned == (":".join(["AB"] * 32),)  # one fingerprint, however it was pasted
    assert target.endpoint.connect_to == "10.0.0.5:443"
    again = profile_from_json(profile.id, profile_to_json(profile))
    assert again.tls == profile.tls and again.endpoint == profile.endpoint


@pytest.mark.parametrize("records, message", [
    ({"tls": {"min_version": "1.1"}}, "Unknown TLS version '1.1'"),
    ({"tls": {"pinned": ("abcd",)}}, "'abcd' is not a SHA-256 fingerprint"),
    ({"tls": {"client_key": "me.key"}}, "A client key needs its client certificate"),
    ({"endpoint": {"url": "wss://x.test/", "connect_to": "10.0.0.5"}}, "Connect to '10.0.0.5': give host:port"),
    ({"endpoint": {"url": "wss://x.test/", "connect_to": "10.0.0.5:99999"}}, "give host:port"),
    ({"endpoint": {"url": "wss://x.test/", "connect_to": ":443"}}, "give host:port"),
])
def test_unusable_tls_settings_say_what_is_wrong(records: dict[str, Any], message: str) -> None:
    profile = ConnectionProfile(name="bad", endpoint=Endpoint("wss://x.test/")).with_changes(**records)
    with pytest.raises(ProfileError, match=re.escape(message)):
        profile.resolved()
