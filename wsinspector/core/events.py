"""What a connection engine reports, independent of the engine: states, open info, closes, failures.

Engines classify what went wrong (:class:`FailureKind` plus facts); :func:`describe_failure` turns that
into the one sentence the user reads, in the window and on the command line alike.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from wsinspector.core.frames import describe_close_code
from wsinspector.core.payloads import human_size
from wsinspector.core.words import plural


class ConnectionState(enum.Enum):
    CLOSED = "closed"
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSING = "closing"


#: the kinds of connection event a session records (disconnect, reconnect, a heartbeat timeout, a TLS notice)
EVENT_KINDS = ("disconnect", "reconnect", "timeout", "tls")


class FailureKind(enum.Enum):
    INVALID_TARGET = "invalid-target"
    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    HANDSHAKE_REJECTED = "handshake-rejected"
    HANDSHAKE_INVALID = "handshake-invalid"
    HANDSHAKE_TIMEOUT = "handshake-timeout"
    CONNECTION_LOST = "connection-lost"
    MESSAGE_TOO_BIG = "message-too-big"
    PROTOCOL = "protocol"
    CLOSE_TIMEOUT = "close-timeout"
    PROXY = "proxy"
    NETWORK = "network"
    #: a request the connection's auth makes before connecting (a login, an OAuth token) did not give its value
    AUTH = "auth"


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    #: the engine's own words, kept for the detail view; never the only thing shown
    detail: str = ""
    host: str = ""
    port: int | None = None
    http_status: int | None = None
    http_reason: str = ""
    tls_errors: tuple[str, ...] = ()
    limit: int | None = None
    timeout_s: float | None = None
    #: MESSAGE_TOO_BIG: the limit was passed while inflating a compressed frame of this many bytes on the
    #: wire (None: not compressed, or not known)
    inflated_from: int | None = None
    #: TLS: the certificate the server showed when it failed verification (what "Trust this certificate" pins)
    peer_certificate: CertificateInfo | None = None
    #: TLS: the fingerprints the connection trusts (its pinned certificates) when the server showed another one
    trusted: tuple[str, ...] = ()
    #: the proxy the connection went through ("http://127.0.0.1:3128 (from HTTPS_PROXY)"), if any
    proxy: str = ""
    #: HANDSHAKE_REJECTED / HANDSHAKE_INVALID: the headers of the server's answer, as they came (None: the
    #: engine does not expose them)
    response_headers: tuple[tuple[str, str], ...] | None = None
    #: the start of the answer's body (at most :data:`BODY_SHOWN` bytes are kept), and its full size in bytes
    #: when known
    response_body: bytes = b""
    body_size: int | None = None
    #: who is at the other end: "server" (we are the client), or "client" (a client of our server)
    peer: str = "server"

    @property
    def message(self) -> str:
        text = describe_failure(self)
        if self.proxy and self.kind is not FailureKind.PROXY:
            text += f" (through the proxy {self.proxy})"
        return text


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """One certificate of a server's chain, as a user reads it."""

    subject: str
    issuer: str
    #: subject alternative names, e.g. ("DNS:example.com", "IP:127.0.0.1")
    alt_names: tuple[str, ...] = ()
    not_before: str = ""
    not_after: str = ""
    #: SHA-256 of the DER form, upper-case hex pairs joined by ':'
    sha256: str = ""
    serial: str = ""


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What a wss:// connection negotiated, and what the server showed."""

    #: e.g. "TLS 1.3"
    version: str
    cipher: str
    #: the server's chain, its own certificate first
    chain: tuple[CertificateInfo, ...] = ()
    #: False when the user chose not to verify the server's certificate
    verified: bool = True
    #: the server's certificate was accepted because the user trusts its fingerprint
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class OpenInfo:
    url: str
    subprotocol: str
    peer: str
    #: handshake response headers, or None where the engine does not expose them
    response_headers: tuple[tuple[str, str], ...] | None
    extensions: str = ""
    #: wss:// only
    tls: TlsInfo | None = None
    #: the reason phrase of the 101 answer ("" where the engine does not expose it)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CloseInfo:
    """How an open connection ended."""

    code: int | None
    reason: str = ""
    #: True when the peer sent the first close frame
    by_peer: bool = False
    #: False when the TCP connection ended without a close handshake
    clean: bool = True
    failure: Failure | None = field(default=None)
    #: when we closed: the code and reason of the server's answering close frame when its code is not ours
    #: (a server refusing a code, say); None when it echoed our code, or this is not known
    reply: tuple[int | None, str] | None = None
    #: who is at the other end: "server", or "client" (a client of our server)
    peer: str = "server"

    @property
    def message(self) -> str:
        if self.failure is not None:
            return self.failure.message
        who = self.peer.capitalize() if self.by_peer else "You"
        reason = f' "{self.reason}"' if self.reason else ""
        if not self.clean:
            return "Connection closed without a close handshake (1006 abnormal closure)"
        text = f"{who} closed the connection: {describe_close_code(self.code)}{reason}"
        if self.reply is not None and not self.by_peer:
            code, answer = self.reply
            text += f"; the {self.peer} answered {describe_close_code(code)}" + (f' "{answer}"' if answer else "")
        return text


#: how much of a refused answer's body a failure keeps and shows
BODY_SHOWN = 200
#: the headers of a refused answer that say why, or where to go instead
TELLING_HEADERS = ("WWW-Authenticate", "Proxy-Authenticate", "Location", "Retry-After", "Sec-WebSocket-Version")
_HEADER_SHOWN = 200


def printable_bytes(data: bytes, limit: int) -> str:
    """Bytes from the network as one readable line: UTF-8 where they are text, escapes for the rest (control
    characters included), cut at ``limit`` characters."""
    text = data.decode("utf-8", "backslashreplace")
    text = "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def _answer(f: Failure) -> str:
    """What the server said in its refused answer: the headers that tell why, the start of the body."""
    parts = []
    if f.response_headers is None:
        parts.append("this engine does not show the response headers")
    else:
        for name in TELLING_HEADERS:
            for key, value in f.response_headers:
                if key.lower() == name.lower():
                    parts.append(f"{key}: {printable_bytes(value.encode('utf-8', 'replace'), _HEADER_SHOWN)}")
    if f.response_body:
        body = printable_bytes(f.response_body, BODY_SHOWN)
        size = f.body_size if f.body_size is not None else len(f.response_body)
        kept = len(f.response_body)
        more = f" (the first {kept} of {size} {plural(size, 'byte')})" if size > kept else ""
        parts.append(f'body: "{body}"{more}')
    return "".join(f"; {part}" for part in parts)


def _where(f: Failure) -> str:
    if not f.host:
        return ""
    return f" {f.host}:{f.port}" if f.port else f" {f.host}"


def short_fingerprint(sha256: str) -> str:
    """The first four bytes of a fingerprint, enough to tell two apart in a sentence: ``77:5D:6F:07…``."""
    return sha256[:11] + "…" if len(sha256) > 11 else sha256


#: what OpenSSL says when the answer to its hello is not TLS at all: most often plain HTTP, a ws:// server
_NOT_TLS = ("wrong version number", "packet length too long", "unknown protocol", "record layer failure")


def _tls_failure(f: Failure) -> str:
    checks = "; ".join(f.tls_errors) if f.tls_errors else (f.detail or "handshake failed")
    text = f"TLS failed for{_where(f) or ' the server'}: "
    shown = f.peer_certificate
    if shown is None or not f.tls_errors:
        if any(words in checks.lower() for words in _NOT_TLS):
            return (f"{text}the server did not answer in TLS ({checks}): if it is a plain ws:// endpoint, connect "
                    "with ws://, not wss://")
        return text + checks
    if f.trusted and shown.sha256 not in f.trusted:
        trusted = " or ".join(short_fingerprint(sha256) for sha256 in f.trusted)
        return (f"{text}the certificate differs from the one you trusted (trusted {trusted}, now "
                f"{short_fingerprint(shown.sha256)}): “{shown.subject}”, issued by “{shown.issuer}”, SHA-256 "
                f"{shown.sha256}; {checks}. Trust the new one only once you know why it changed (TLS, Trusted "
                "certificates)")
    return (f"{text}{checks}; the server showed “{shown.subject}”, issued by “{shown.issuer}”, SHA-256 "
            f"{shown.sha256}. If it is the server's, trust its CA (TLS, CA file; wsinspector run: --ca-file) or "
            f"this certificate (Trust this certificate; wsinspector run: --trust-cert {shown.sha256})")


def describe_failure(f: Failure) -> str:  # noqa: C901, PLR0911, PLR0912
    k = f.kind
    if k is FailureKind.INVALID_TARGET:
        return f.detail or "The connection settings are invalid"
    if k is FailureKind.DNS:
        return f"Host not found: {f.host or 'the host'} could not be resolved (DNS)"
    if k is FailureKind.REFUSED:
        return f"Connection refused by{_where(f) or ' the server'}: nothing is listening on that port"
    if k is FailureKind.TLS:
        return _tls_failure(f)
    if k is FailureKind.HANDSHAKE_REJECTED:
        status = f"HTTP {f.http_status}" if f.http_status else "an HTTP error"
        reason = f" {f.http_reason}" if f.http_reason else ""
        said = f" ({f.detail})" if f.detail else ""
        return (f"Handshake rejected: the server answered {status}{reason} instead of 101 Switching Protocols"
                f"{said}{_answer(f)}")
    if k is FailureKind.HANDSHAKE_INVALID:
        if f.peer == "client":
            return f"Handshake failed: the client's request is not a valid WebSocket upgrade ({f.detail})"
        return f"Handshake failed: the server's answer is not a valid WebSocket upgrade ({f.detail})"
    if k is FailureKind.HANDSHAKE_TIMEOUT:
        secs = f"{f.timeout_s:g} s" if f.timeout_s is not None else "the time limit"
        if f.peer == "client":
            answered = f" (answered {f.http_status} {f.http_reason})" if f.http_status else ""
            return f"Handshake timed out: no whole upgrade request from the client{_where(f)} within {secs}{answered}"
        return f"Handshake timed out: no WebSocket upgrade from{_where(f) or ' the server'} within {secs}"
    if k is FailureKind.CONNECTION_LOST:
        return f"{f.peer.capitalize()} gone: the connection dropped without a close frame (1006 abnormal closure)"
    if k is FailureKind.MESSAGE_TOO_BIG:
        limit = f" the {human_size(f.limit)} limit" if f.limit else " the size limit"
        if f.inflated_from is not None:
            return (f"The {f.peer} sent a compressed frame of {human_size(f.inflated_from)} that inflates past{limit} "
                    "(a deflate bomb?); inflating stopped at the limit; closed with 1009 (message too big)")
        return f"The {f.peer} sent a message larger than{limit}; closed with 1009 (message too big)"
    if k is FailureKind.PROTOCOL:
        return f"Protocol error from the {f.peer}: {f.detail}"
    if k is FailureKind.CLOSE_TIMEOUT:
        secs = f"{f.timeout_s:g} s" if f.timeout_s is not None else "the time limit"
        return (f"Closing handshake timed out: the {f.peer} did not answer our close frame within {secs}; "
                "connection dropped")
    if k is FailureKind.AUTH:
        return f"Authentication before connecting failed: {f.detail}"
    if k is FailureKind.PROXY:
        return f"Proxy error: {f.proxy}: {f.detail}" if f.proxy else f"Proxy error: {f.detail}"
    return f"Network error: {f.detail}" if f.detail else "Network error"
