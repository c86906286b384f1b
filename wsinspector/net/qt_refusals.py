"""What QWebSocket's and QAbstractSocket's words mean when a connection cannot be opened: a refused answer to
the upgrade (QWebSocket reports every refusal as ConnectionRefusedError, its words carrying the status or the
reason), and a socket error before the connection opened, as the :class:`Failure` the user reads."""

from __future__ import annotations

import re

from PySide6.QtNetwork import QAbstractSocket

from wsinspector.core.events import BODY_SHOWN, Failure, FailureKind
from wsinspector.core.wire.bytes_read import body_data
from wsinspector.net import tls

_SocketError = QAbstractSocket.SocketError

_HTTP_STATUS = re.compile(r"status code:?\s*(\d{3})(?:\s*\(([^)]*)\))?", re.IGNORECASE)
_REJECTED, _INVALID = FailureKind.HANDSHAKE_REJECTED, FailureKind.HANDSHAKE_INVALID
#: what QWebSocket's words mean when it refuses the server's answer to the upgrade (it reports every refusal
#: as ConnectionRefusedError): the failure, the HTTP status they imply, and the sentence for the user; words
#: not listed here still reach the user, as a handshake failure
_QT_REFUSALS: tuple[tuple[re.Pattern[str], FailureKind, int | None, str], ...] = (
    (re.compile(r"WWW-Authenticate challenge"), _REJECTED, 401,
     "the server asks for credentials in a scheme QWebSocket does not support"),
    (re.compile(r"requires authentication"), _REJECTED, 401, "the server asks for credentials"),
    (re.compile(r"version that we don't support"), _REJECTED, 400, "the server wants another WebSocket version"),
    (re.compile(r"Unknown error condition"), _REJECTED, 400, ""),
    (re.compile(r"Accept-Key received from server"), _INVALID, None,
     "the server's Sec-WebSocket-Accept does not match the key we sent"),
    (re.compile(r"Invalid parameter encountered during protocol upgrade"), _INVALID, None,
     "the 101 answer lacks a Sec-WebSocket-Accept, Upgrade: websocket or Connection: Upgrade header, or is not "
     "HTTP/1.1"),
    (re.compile(r"has chosen protocol"), _INVALID, None, "the server chose a subprotocol we did not offer"),
    (re.compile(r"Header is too large"), _INVALID, None,
     "the server sent more header bytes than QWebSocket reads (8 KiB x 100 lines); we stopped reading"),
    (re.compile(r"handshake request (status|header) failed|Parsing handshake"), _INVALID, None,
     "the server's answer is not an HTTP response QWebSocket can read; we stopped reading"),
)


def qt_refusal(text: str, host: str, port: int | None, headers: tuple[tuple[str, str], ...] | None,
               after: bytes, answer_reason: str) -> Failure:
    """QWebSocket refused the server's answer to the upgrade with ``text``: what it means, the status, and the
    answer's ``headers`` and what came ``after`` them, read again from the socket (``answer_reason``: the
    status line's reason as read there)."""
    status = _HTTP_STATUS.search(text)
    kind, code, reason, meaning = _INVALID, None, "", ""
    if status:
        kind, code, reason = _REJECTED, int(status.group(1)), (status.group(2) or "").strip()
    else:
        for pattern, known_kind, known_code, sentence in _QT_REFUSALS:
            if pattern.search(text):
                kind, code, meaning = known_kind, known_code, sentence
                break
    detail = f'{meaning} (QWebSocket: "{text}")' if meaning else f'QWebSocket: "{text}"'
    if kind is _INVALID:
        return Failure(kind, detail=detail, host=host, port=port, response_headers=headers)
    length = next((value for name, value in headers or () if name.lower() == "content-length"), "")
    after = body_data(headers or (), after)
    return Failure(kind, detail=detail, host=host, port=port, http_status=code, http_reason=reason or answer_reason,
                   response_headers=headers, response_body=after[:BODY_SHOWN],
                   body_size=int(length) if length.isdigit() else None)


def classify_socket_error(error: _SocketError, text: str, host: str, port: int | None,  # noqa: PLR0911  (one return a kind)
                          ssl_errors: list[str], *, secure: bool = False,
                          encrypted: bool | None = None) -> Failure:
    """A socket error before the connection opened, as a Failure; ``text`` is the engine's error string.
    ``secure``: a wss:// URL; ``encrypted``: whether its TLS handshake completed (None: not known)."""
    # QWebSocket reports a non-101 answer as ConnectionRefusedError: the status in the text decides.
    status = _HTTP_STATUS.search(text)
    if status:
        return Failure(FailureKind.HANDSHAKE_REJECTED, detail=text, host=host, port=port,
                       http_status=int(status.group(1)), http_reason=(status.group(2) or "").strip())
    if error == _SocketError.HostNotFoundError:
        return Failure(FailureKind.DNS, detail=text, host=host, port=port)
    if error == _SocketError.ConnectionRefusedError:
        return Failure(FailureKind.REFUSED, detail=text, host=host, port=port)
    if error in (_SocketError.SslHandshakeFailedError, _SocketError.SslInternalError,
                 _SocketError.SslInvalidUserDataError):
        return Failure(FailureKind.TLS, detail=text, host=host, port=port, tls_errors=tuple(ssl_errors))
    if error in (_SocketError.ProxyConnectionRefusedError, _SocketError.ProxyConnectionClosedError,
                 _SocketError.ProxyConnectionTimeoutError, _SocketError.ProxyNotFoundError,
                 _SocketError.ProxyProtocolError, _SocketError.ProxyAuthenticationRequiredError):
        return Failure(FailureKind.PROXY, detail=text, host=host, port=port)
    if error == _SocketError.RemoteHostClosedError:
        if secure and encrypted is False:
            return Failure(FailureKind.TLS, detail=tls.CLOSED_DURING_TLS, host=host, port=port)
        detail = tls.CLOSED_DURING_TLS_OR_UPGRADE if secure and encrypted is None else (
            "the server closed the connection during the handshake")
        return Failure(FailureKind.HANDSHAKE_INVALID, detail=detail, host=host, port=port)
    if "handshake" in text.lower() or "header" in text.lower():
        return Failure(FailureKind.HANDSHAKE_INVALID, detail=text, host=host, port=port)
    if ssl_errors:
        return Failure(FailureKind.TLS, detail=text, host=host, port=port, tls_errors=tuple(ssl_errors))
    return Failure(FailureKind.NETWORK, detail=text, host=host, port=port)
