"""What the recording proxy carries from one hop to the other, without sockets: the client's upgrade into the
upstream one under a saved connection's settings, an upstream failure as the client's HTTP answer, a close
onto the other hop."""

from __future__ import annotations

import pytest

from wsinspector.core.auth import checked_target
from wsinspector.core.events import Failure, FailureKind
from wsinspector.core.profiles import Auth, ConnectionProfile, Handshake
from wsinspector.core.proxy.forwarding import close_for, close_for_failed, refusal_for, upstream_profile, upstream_url

CLIENT_HEADERS = (
    ("Host", "127.0.0.1:8080"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Protocol", "chat, superchat"), ("Sec-WebSocket-Extensions", "permessage-deflate"),
    ("Origin", "http://app.example"), ("Cookie", "session=browser"), ("X-Trace", "abc"),
    ("Authorization", "Bearer from-the-browser"),
)


def test_the_client_offer_and_end_to_end_headers_go_upstream_without_the_hop_s_own() -> None:
    profile = upstream_profile(ConnectionProfile(name=""), "ws://up.example/feed", CLIENT_HEADERS,
                               ("chat", "superchat"))
    target = checked_target(profile)
    assert target.url == "ws://up.example/feed"
    assert target.handshake.subprotocols == ("chat", "superchat")
    assert target.handshake.origin == "http://app.example"
    assert target.handshake.headers == (("Cookie", "session=browser"), ("X-Trace", "abc"),
                                        ("Authorization", "Bearer from-the-browser"))


def test_a_saved_connection_adds_and_replaces_headers_and_its_auth_wins() -> None:
    saved = ConnectionProfile(name="staging", handshake=Handshake(headers=(("x-trace", "mine"), ("X-Env", "staging")),
                                                                  subprotocols=("v2",), origin="https://mine.example"),
                              auth=Auth(kind="bearer", token="t0ken"))
    target = checked_target(upstream_profile(saved, "wss://up.example/", CLIENT_HEADERS, ()))
    headers = dict(target.handshake.headers)
    assert headers["x-trace"] == "mine" and "X-Trace" not in headers, "replaced, whatever the case of its name"
    assert headers["X-Env"] == "staging" and headers["Cookie"] == "session=browser"
    assert headers["Authorization"] == "Bearer t0ken"
    assert target.handshake.subprotocols == ("v2",), "the client offered none: the connection's own"
    assert target.handshake.origin == "https://mine.example"


@pytest.mark.parametrize(
    ("failure", "status", "says"),
    [
        (Failure(FailureKind.HANDSHAKE_REJECTED, http_status=403, http_reason="Forbidden"), 403,
         "refused the upgrade: Handshake rejected: the server answered HTTP 403"),
        (Failure(FailureKind.REFUSED, host="127.0.0.1", port=9), 502, "cannot be reached: Connection refused"),
        (Failure(FailureKind.HANDSHAKE_TIMEOUT, host="127.0.0.1", port=9, timeout_s=2.0), 504, "did not open"),
        (Failure(FailureKind.TLS, detail="certificate verify failed"), 502, "did not open"),
    ],
    ids=["refused-403", "unreachable", "timeout", "tls"],
)
def test_an_upstream_that_fails_is_the_client_s_http_error_in_one_line(failure: Failure, status: int,
                                                                        says: str) -> None:
    refusal = refusal_for(failure, "ws://127.0.0.1:9/")
    assert refusal.status == status
    assert refusal.body.startswith("wsinspector proxy: the upstream ws://127.0.0.1:9/ ")
    assert says in refusal.body and "\n" not in refusal.body


@pytest.mark.parametrize(("code", "goes_on"), [(1000, (True, 1000)), (4001, (True, 4001)), (None, (True, None)),
                                               (1005, (True, None)), (1006, (False, None)), (1015, (False, None))])
def test_a_close_goes_on_with_its_code_unless_no_peer_may_send_it(code: int | None,
                                                                   goes_on: tuple[bool, int | None]) -> None:
    assert close_for(code) == goes_on


@pytest.mark.parametrize(
    ("base", "path", "forwarded"),
    [
        ("ws://up.example/feed", "/", "ws://up.example/feed"),
        ("ws://up.example/feed", "/live?room=1", "ws://up.example/feed/live?room=1"),
        ("wss://up.example:8443/?key=k", "/?room=1", "wss://up.example:8443/?key=k&room=1"),
        ("ws://up.example", "/chat", "ws://up.example/chat"),
    ],
)
def test_a_client_s_path_and_query_are_added_to_the_upstream_s(base: str, path: str, forwarded: str) -> None:
    assert upstream_url(base, path) == forwarded


@pytest.mark.parametrize(
    ("failure", "code", "reason"),
    [
        (Failure(FailureKind.PROTOCOL, detail="the server sent opcode 0x3; closed with 1002 (protocol error)"),
         1014, "upstream protocol error: the server sent opcode 0x3"),
        (Failure(FailureKind.CONNECTION_LOST), 1014, "upstream connection lost"),
        (Failure(FailureKind.NETWORK, detail="wsinspector could not go on reading it"), 1011,
         "proxy error: wsinspector could not go on reading it"),
        (None, 1014, "upstream hop dropped"),
    ],
)
def test_a_failed_upstream_hop_is_the_client_s_close_saying_what_the_upstream_did(
        failure: Failure | None, code: int, reason: str) -> None:
    assert close_for_failed(failure) == (code, reason)


def test_a_failed_upstream_s_long_reason_is_cut_to_what_a_close_frame_holds_at_a_character() -> None:
    code, reason = close_for_failed(Failure(FailureKind.PROTOCOL, detail="é" * 200))
    assert code == 1014 and len(reason.encode()) <= 123 and reason.endswith("é")
