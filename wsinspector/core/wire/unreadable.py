"""An opening handshake's message that cannot be read: the failure saying what came and why it was not read
(:func:`unreadable_failure`, credentials in what is quoted left out), and the server's answer to a request it
cannot read (:func:`unreadable_request_answer`: 414 for a request line too long, 431 for header lines too
long or too many, 400 for anything else; websockets answers the first two itself and ends the stream without
a word on the others, and the engine sends this answer in place of either)."""

from __future__ import annotations

from websockets import exceptions as ws_errors
from websockets.http11 import MAX_BODY_SIZE, MAX_LINE_LENGTH, MAX_NUM_HEADERS, Response
from websockets.server import ServerProtocol

from wsinspector.core.events import BODY_SHOWN, Failure, FailureKind, printable_bytes
from wsinspector.core.payloads import human_size
from wsinspector.core.redact import REDACTED, is_secret_header, url_secrets, without_secret_lines
from wsinspector.core.secrets import masked
from wsinspector.core.wire.bytes_read import body_data, header_lines, status_line
from wsinspector.core.words import counted

#: how much of what came a failure quotes, and of the reason the answer's body
ANSWER_QUOTED = 120


def _reason(cause: BaseException, head: bytes) -> str:
    """websockets' reason for not reading ``head``, without the line or value it quotes from it: the failure
    quotes the head itself beside it, its credentials left out, and a bad header line's value may be one."""
    if isinstance(cause, UnicodeDecodeError):  # websockets reads the request line as ASCII
        byte = cause.object[cause.start]
        return f"the path it asks for is not ASCII (byte 0x{byte:02x} at position {cause.start + 1})"
    text = str(cause) or type(cause).__name__
    if isinstance(cause, (ValueError, ws_errors.SecurityError)):
        text = text.split(": ", 1)[0]
    return masked(text, _secrets(head), REDACTED)


def _secrets(head: bytes) -> set[str]:
    """The credentials written in ``head``: its request target's secret query values, its credential headers'
    values and each of their words."""
    lines = head.decode("latin-1").split("\r\n")
    words = lines[0].split(" ")
    found = url_secrets(words[1]) if len(words) > 1 else set()
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and is_secret_header(name.strip()):
            found.add(value.strip())
            found.update(word for word in value.split() if len(word) > 3)
    found.discard("")
    return found


def unreadable_failure(exc: Exception, answer: bytes, size: int, *, server: bool, host: str,
                       port: int | None) -> Failure:
    """What the peer sent (``answer``: its start as kept, ``size`` bytes in all) and why we stopped reading it
    (a limit of websockets', its end, its form); ``server``: we are the server, it was the client's request."""
    cause = exc.__cause__ if isinstance(exc, ws_errors.InvalidMessage) and exc.__cause__ is not None else exc
    amount = counted(size, "byte") if size < 1024 else f"{human_size(size)} ({size} bytes)"
    sent = f'{amount} starting "{printable_bytes(without_secret_lines(answer), ANSWER_QUOTED)}"'
    if server:
        said = f"sent {sent}" if size else "sent nothing"
        return Failure(FailureKind.HANDSHAKE_INVALID, host=host, port=port, peer="client",
                       detail=f"the client {said}, not a whole upgrade request: {_reason(cause, answer)}")
    status = status_line(answer)
    if status is not None and status[0] != 101:
        return _refusal(cause, answer, status, host, port)
    if isinstance(cause, EOFError):
        said = f"after sending {sent}, before a whole HTTP response" if size else "without answering the upgrade"
        return Failure(FailureKind.HANDSHAKE_INVALID, host=host, port=port,
                       detail=f"the server closed the connection {said}")
    if isinstance(cause, (ws_errors.StatusLineTooLong, ws_errors.HeaderLineTooLong)):
        why = f"a line longer than {MAX_LINE_LENGTH} bytes, websockets' limit"
    elif isinstance(cause, ws_errors.TooManyHeaders):
        why = f"more than {MAX_NUM_HEADERS} header lines, websockets' limit"
    elif status is None:
        why = "it does not start with an HTTP status line"
    else:
        why = _reason(cause, answer)
    return Failure(FailureKind.HANDSHAKE_INVALID, host=host, port=port,
                   detail=f"the server sent {sent}; we stopped reading: {why}")


def _refusal(cause: BaseException, answer: bytes, status: tuple[int, str], host: str = "",
             port: int | None = None) -> Failure:
    """A server's refusal (a status other than 101) that websockets did not read whole: an HTTP/1.0 answer, a
    chunked body, a header line it does not take, the connection closed inside the body. The status, the
    headers and the body as far as they came are what the user needs."""
    body = answer.partition(b"\r\n\r\n")[2]
    headers = header_lines(answer)
    body = body_data(headers, body)
    version = answer.split(b" ", 1)[0].decode("latin-1")
    if version != "HTTP/1.1":
        detail = f"an {printable_bytes(version.encode(), 20)} answer"
    elif isinstance(cause, EOFError):
        detail = "the server closed the connection before the whole answer"
    elif isinstance(cause, (ws_errors.StatusLineTooLong, ws_errors.HeaderLineTooLong)):
        detail = f"we stopped reading the answer at a line longer than {MAX_LINE_LENGTH} bytes, websockets' limit"
    elif isinstance(cause, ws_errors.TooManyHeaders):
        detail = f"we stopped reading the answer after {MAX_NUM_HEADERS} header lines, websockets' limit"
    elif isinstance(cause, ws_errors.SecurityError):
        detail = (f"we stopped reading the answer: {_reason(cause, answer)}, more than websockets' limit of "
                  f"{human_size(MAX_BODY_SIZE)} for a body")
    else:
        detail = f"we stopped reading the answer: {_reason(cause, answer)}"
    return Failure(FailureKind.HANDSHAKE_REJECTED, host=host, port=port, http_status=status[0],
                   http_reason=status[1], detail=detail, response_headers=headers, response_body=body[:BODY_SHOWN])


def unreadable_request_answer(proto: ServerProtocol, exc: Exception, head: bytes = b"") -> Response:
    """The answer to a request ``proto`` gave up reading with ``exc`` (its ``handshake_exc``); ``head``: the start
    of the request as read, whose credentials the reason leaves out."""
    if isinstance(exc, ws_errors.RequestLineTooLong):
        status = 414
    elif isinstance(exc, (ws_errors.HeaderLineTooLong, ws_errors.TooManyHeaders)):
        status = 431
    else:
        status = 400
    cause = exc.__cause__ if isinstance(exc, ws_errors.InvalidMessage) and exc.__cause__ is not None else exc
    why = printable_bytes(_reason(cause, head).encode("utf-8", "replace"), ANSWER_QUOTED)
    return proto.reject(status, f"Failed to open a WebSocket connection: {why}.\n")
