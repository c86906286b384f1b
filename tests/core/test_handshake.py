"""The opening handshake as the user reads it, keeps it and copies it: curl commands, secrets, stored form."""

from __future__ import annotations

from wsinspector.core.handshake import (
    HANDSHAKE_EVENT,
    QT_NOTE,
    Handshake,
    curl_command,
    last_handshake,
    placeholders_for,
    request_target,
)

SENT = (("Host", "api.example.com:8443"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw=="), ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Protocol", "chat"), ("User-Agent", "wsinspector/1.0"),
        ("Authorization", "Bearer s3cr3t-token"), ("X-Trace", "it's mine"))


def _sent(**changes: object) -> Handshake:
    fields: dict[str, object] = {
        "url": "wss://api.example.com:8443/feed?room=1", "request_line": "GET /feed?room=1 HTTP/1.1",
        "request_headers": SENT,
        "placeholders": placeholders_for((("Authorization", "Bearer {{token}}"), ("X-Trace", "it's mine")), (),
                                         ("token",)),
    }
    fields.update(changes)
    return Handshake(**fields)  # type: ignore[arg-type]


def test_the_curl_command_of_a_request_leaves_its_secrets_out() -> None:
    command = curl_command(_sent(), secret_values={"s3cr3t-token"})
    assert command == (
        "curl --include --no-buffer --http1.1 \\\n"
        "  -H 'Upgrade: websocket' \\\n"
        "  -H 'Connection: Upgrade' \\\n"
        "  -H 'Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==' \\\n"
        "  -H 'Sec-WebSocket-Version: 13' \\\n"
        "  -H 'Sec-WebSocket-Protocol: chat' \\\n"
        "  -H 'User-Agent: wsinspector/1.0' \\\n"
        "  -H 'Authorization: Bearer {{token}}' \\\n"
        "  -H 'X-Trace: it'\"'\"'s mine' \\\n"
        "  'https://api.example.com:8443/feed?room=1'"
    )
    assert "s3cr3t" not in command


def test_secrets_are_copied_only_when_asked_for() -> None:
    command = curl_command(_sent(), secret_values={"s3cr3t-token"}, with_secrets=True)
    assert "-H 'Authorization: Bearer s3cr3t-token'" in command


def test_a_secret_value_anywhere_is_redacted() -> None:
    handshake = _sent(url="ws://h/x?token=abc&room=s3cr3t-token", request_line="GET /x HTTP/1.1",
                      request_headers=(("X-Echo", "s3cr3t-token"), ("Cookie", "sid=42")), placeholders=())
    command = curl_command(handshake, secret_values={"s3cr3t-token"})
    assert "s3cr3t" not in command and "abc" not in command
    assert "-H 'X-Echo: REDACTED'" in command
    assert "-H 'Cookie: {{Cookie}}'" in command and "sid=42" not in command
    assert command.endswith("'http://h/x?token=REDACTED&room=REDACTED'")


def test_a_header_marked_secret_becomes_a_variable_named_after_it() -> None:
    marks = placeholders_for((("X-Api-Key", "k-123"), ("X-Plain", "v"), ("Cookie", "sid=1")), ("X-Api-Key",), ())
    assert marks == (("X-Api-Key", "{{X-Api-Key}}"), ("Cookie", "{{Cookie}}"))


def test_a_request_the_engine_builds_itself_still_makes_an_upgrade() -> None:
    handshake = Handshake(url="ws://127.0.0.1:9/", request_line="GET / HTTP/1.1",
                          request_headers=(("X-One", "1"),), exact=False, note=QT_NOTE)
    assert curl_command(handshake) == (
        "curl --include --no-buffer --http1.1 \\\n  -H 'X-One: 1' \\\n  -H 'Connection: Upgrade' \\\n"
        "  -H 'Upgrade: websocket' \\\n  -H 'Sec-WebSocket-Version: 13' \\\n"
        "  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \\\n  http://127.0.0.1:9/")


def test_the_request_target_is_the_path_and_query() -> None:
    assert request_target("ws://h:1") == "/"
    assert request_target("wss://h/a/b?c=d") == "/a/b?c=d"


def test_a_refused_answer_is_kept_without_secrets_and_read_back() -> None:
    refused = _sent().answered(400, "Bad Request", (("Content-Type", "text/plain"), ("X-Seen", "s3cr3t-token")),
                               b"missing subprotocol; you sent s3cr3t-token", 43)
    assert refused.refused and refused.status_line == "HTTP/1.1 400 Bad Request"
    kept = refused.without_secrets({"s3cr3t-token"})
    text = kept.to_json()
    assert "s3cr3t" not in text
    again = Handshake.from_json(text)
    assert again == kept
    assert again is not None and again.body == b"missing subprotocol; you sent REDACTED"
    assert dict(again.request_headers)["Authorization"] == "Bearer {{token}}"
    events = [(1, "disconnect", "x"), (2, HANDSHAKE_EVENT, "not json"), (3, HANDSHAKE_EVENT, text)]
    assert last_handshake(events) == kept


def test_a_damaged_stored_handshake_reads_as_none() -> None:
    for text in ("", "[]", '{"status": "x", "body": "%%%"}', "{"):
        assert Handshake.from_json(text) is None
    assert Handshake.from_json('{"status": "x", "request_headers": [["A", 1], ["B", "2"]]}') == Handshake(
        "", "", (("B", "2"),))
    assert last_handshake([]) is None
