"""A client whose opening request the server cannot read (not HTTP at all, a request line of a mebibyte, ten
thousand headers, a control character in a header) is answered with an HTTP status saying why before its
connection ends, the failure is told with that answer, and the server goes on serving the next client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.net.served import RawClient, Served, upgrade_request
from wsinspector.core.events import FailureKind


def _garbage(_port: int) -> bytes:
    return b"\x16\x03\x01\x02\x00 a TLS hello to a plain server\r\n\r\n"


def _long_line(port: int) -> bytes:
    return upgrade_request(port, "/" + "a" * (1 << 20))


def _many_headers(port: int) -> bytes:
    return upgrade_request(port, extra="".join(f"X-Header-{n}: v\r\n" for n in range(10_000)))


def _nul_in_header(port: int) -> bytes:
    return upgrade_request(port, extra="X-Odd: a\x00b\r\n")


@pytest.mark.parametrize(
    ("request_of", "status", "reason"),
    [
        (_garbage, 400, "Bad Request"),
        (_long_line, 414, "Request-URI Too Long"),
        (_many_headers, 431, "Request Header Fields Too Large"),
        (_nul_in_header, 400, "Bad Request"),
    ],
    ids=["garbage", "request-line-1MiB", "10000-headers", "nul-in-header"],
)
def test_an_unreadable_request_is_answered_with_a_status_and_the_next_client_served(
        served: Served, run: Callable[..., Any], request_of: Callable[[int], bytes], status: int,
        reason: str) -> None:
    served.start()
    assert served.server is not None
    port = served.server.port

    async def hostile_then_good() -> tuple[int, bytes, bool, int]:
        raw = await RawClient.connect(port)
        raw.writer.write(request_of(port))  # not drained: the answer comes before the server reads it all
        answered, _headers, body = await raw.answer()
        ended = await raw.at_eof()
        raw.close()
        good = await RawClient.connect(port)
        next_status, _, _ = await good.upgrade(port)
        good.close()
        return answered, body, ended, next_status

    answered, body, ended, next_status = run(hostile_then_good())
    assert (answered, ended, next_status) == (status, True, 101)
    assert body.startswith(b"Failed to open a WebSocket connection: ")
    hostile = served.wait_client()
    served.wait_ended(hostile)
    [failure] = hostile.failed
    assert failure.kind is FailureKind.HANDSHAKE_INVALID
    assert failure.message.endswith(f"; answered {status} {reason})")
    assert "\n" not in failure.message


def _secret_header_value(port: int) -> bytes:
    return upgrade_request(port, extra="Authorization: Bearer s3cr3tTOKEN\x01\r\n")


def _secret_in_a_bad_request_line(port: int) -> bytes:
    return upgrade_request(port, "/chat?token=s3cr3tTOKEN HTTP/1.1 extra")


@pytest.mark.parametrize("request_of", [_secret_header_value, _secret_in_a_bad_request_line],
                         ids=["control-character-in-authorization", "token-in-a-bad-request-line"])
def test_a_credential_in_an_unreadable_request_is_neither_answered_nor_told(
        served: Served, run: Callable[..., Any], request_of: Callable[[int], bytes]) -> None:
    """websockets' reason quotes the line or value it could not read: the answer and the failure give the reason
    without it (the failure quotes the request itself, its credentials left out)."""
    served.start()
    assert served.server is not None
    port = served.server.port

    async def hostile() -> tuple[int, bytes]:
        raw = await RawClient.connect(port)
        raw.writer.write(request_of(port))
        answered, _headers, body = await raw.answer()
        raw.close()
        return answered, body

    answered, body = run(hostile())
    assert answered == 400 and body.startswith(b"Failed to open a WebSocket connection: ")
    assert b"s3cr3tTOKEN" not in body
    client = served.wait_client()
    served.wait_ended(client)
    [failure] = client.failed
    assert "not a whole upgrade request" in failure.message and "REDACTED" in failure.message
    assert "s3cr3tTOKEN" not in failure.message
