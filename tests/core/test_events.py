"""Events: the one sentence a user reads for each kind of failure and for each way a connection ends."""

from __future__ import annotations

import pytest

from wsinspector.core.events import CloseInfo, Failure, FailureKind, describe_failure

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("failure", "fragments"),
    [
        (Failure(FailureKind.INVALID_TARGET, detail="The URL has no host"), ["The URL has no host"]),
        (Failure(FailureKind.INVALID_TARGET), ["connection settings are invalid"]),
        (Failure(FailureKind.DNS, host="nosuch.example"), ["Host not found", "nosuch.example", "DNS"]),
        (Failure(FailureKind.DNS), ["Host not found", "the host", "DNS"]),
        (Failure(FailureKind.REFUSED, host="127.0.0.1", port=9), ["refused", "127.0.0.1:9", "nothing is listening"]),
        (Failure(FailureKind.REFUSED, host="localhost"), ["refused by localhost:"]),
        (Failure(FailureKind.REFUSED), ["refused by the server"]),
        (
            Failure(FailureKind.TLS, host="self-signed.example", port=443,
                    tls_errors=("The certificate is self-signed", "The host name did not match")),
            ["TLS failed", "self-signed.example:443", "The certificate is self-signed; The host name did not match"],
        ),
        (Failure(FailureKind.TLS, host="h", detail="SSL handshake failed: no shared cipher"), ["no shared cipher"]),
        (Failure(FailureKind.TLS), ["TLS failed for the server: handshake failed"]),
        (
            Failure(FailureKind.HANDSHAKE_REJECTED, http_status=403, http_reason="Forbidden"),
            ["Handshake rejected", "HTTP 403 Forbidden", "instead of 101 Switching Protocols"],
        ),
        (Failure(FailureKind.HANDSHAKE_REJECTED, http_status=404), ["HTTP 404 instead of 101"]),
        (Failure(FailureKind.HANDSHAKE_REJECTED), ["an HTTP error", "101"]),
        (
            Failure(FailureKind.HANDSHAKE_INVALID, detail="missing Sec-WebSocket-Accept"),
            ["not a valid WebSocket upgrade", "missing Sec-WebSocket-Accept"],
        ),
        (
            Failure(FailureKind.HANDSHAKE_TIMEOUT, host="slow.example", port=8080, timeout_s=10.0),
            ["timed out", "slow.example:8080", "within 10 s"],
        ),
        (Failure(FailureKind.HANDSHAKE_TIMEOUT, timeout_s=2.5), ["from the server within 2.5 s"]),
        (Failure(FailureKind.HANDSHAKE_TIMEOUT), ["within the time limit"]),
        (Failure(FailureKind.CONNECTION_LOST), ["without a close frame", "1006"]),
        (
            Failure(FailureKind.MESSAGE_TOO_BIG, limit=64 * MIB),
            ["larger than the 64.0 MiB limit", "1009"],
        ),
        (Failure(FailureKind.MESSAGE_TOO_BIG, limit=512 * 1024), ["the 512.0 KiB limit"]),
        (Failure(FailureKind.MESSAGE_TOO_BIG), ["larger than the size limit", "1009"]),
        (Failure(FailureKind.PROTOCOL, detail="reserved bits set"), ["Protocol error", "reserved bits set"]),
        (Failure(FailureKind.PROXY, detail="407 authentication required"), ["Proxy error", "407"]),
        (Failure(FailureKind.NETWORK, detail="network unreachable"), ["Network error: network unreachable"]),
    ],
)
def test_describe_failure(failure: Failure, fragments: list[str]) -> None:
    message = describe_failure(failure)
    for fragment in fragments:
        assert fragment in message
    assert failure.message == message


def test_network_failure_without_detail_has_no_dangling_colon() -> None:
    assert describe_failure(Failure(FailureKind.NETWORK)) == "Network error"


def test_every_failure_kind_has_its_own_sentence() -> None:
    facts = {"detail": "boom", "host": "h", "port": 1, "http_status": 500, "timeout_s": 1.0, "limit": MIB}
    messages = {kind: describe_failure(Failure(kind, **facts)) for kind in FailureKind}  # type: ignore[arg-type]
    assert len(set(messages.values())) == len(FailureKind)
    assert all(message.strip() for message in messages.values())


# -- CloseInfo --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "message"),
    [
        (
            CloseInfo(code=1000, reason="bye", by_peer=True),
            'Server closed the connection: 1000 (normal closure) "bye"',
        ),
        (
            CloseInfo(code=4001, reason="kicked", by_peer=True),
            'Server closed the connection: 4001 (application) "kicked"',
        ),
        (CloseInfo(code=1001, by_peer=True), "Server closed the connection: 1001 (going away)"),
        (CloseInfo(code=1000), "You closed the connection: 1000 (normal closure)"),
        (CloseInfo(code=3000, reason="done"), 'You closed the connection: 3000 (registered) "done"'),
        (CloseInfo(code=None, by_peer=True), "Server closed the connection: no code"),
    ],
)
def test_close_info_message_for_clean_closes(info: CloseInfo, message: str) -> None:
    assert info.message == message


@pytest.mark.parametrize("by_peer", [True, False])
def test_close_info_message_for_unclean_close(by_peer: bool) -> None:
    message = CloseInfo(code=1006, by_peer=by_peer, clean=False).message
    assert "without a close handshake" in message
    assert "1006" in message
    assert "closed the connection:" not in message  # nobody "closed" it


def test_close_info_message_for_failure_is_the_failure_sentence() -> None:
    failure = Failure(FailureKind.MESSAGE_TOO_BIG, limit=MIB)
    info = CloseInfo(code=1009, reason="too big", by_peer=False, clean=True, failure=failure)
    assert info.message == describe_failure(failure)
    assert "1.0 MiB" in info.message


# -- a refused answer to the upgrade ------------------------------------------------------------------


def test_a_refused_answer_shows_the_telling_headers_and_the_start_of_the_body() -> None:
    failure = Failure(FailureKind.HANDSHAKE_REJECTED, http_status=401, http_reason="Unauthorized",
                      response_headers=(("Server", "x"), ("www-authenticate", 'Bearer realm="api"'),
                                        ("Set-Cookie", "session=secret")),
                      response_body=b"token \x1b[31mexpired\n", body_size=22)
    message = failure.message
    assert 'www-authenticate: Bearer realm="api"' in message
    assert "session=secret" not in message and "Server" not in message
    assert 'body: "token \\x1b[31mexpired\\n"' in message
    assert "\n" not in message


def test_a_long_body_is_cut_and_says_how_much_there_was() -> None:
    failure = Failure(FailureKind.HANDSHAKE_REJECTED, http_status=500, response_headers=(),
                      response_body=b"x" * 200, body_size=5000)
    assert "(the first 200 of 5000 bytes)" in failure.message


def test_an_engine_that_hides_the_headers_says_so() -> None:
    failure = Failure(FailureKind.HANDSHAKE_REJECTED, http_status=400, detail='QWebSocket: "Unknown error"')
    assert 'QWebSocket: "Unknown error"' in failure.message
    assert "does not show the response headers" in failure.message
