"""What a recording proxy carries from one hop to the other, without I/O: the client's opening handshake into
the upstream one (with a saved connection's settings over it), the upstream's answer or failure back to the
client, and a close on one hop onto the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from wsinspector.core.events import Failure, FailureKind
from wsinspector.core.profiles import ConnectionProfile

#: headers of the client's upgrade that belong to its own hop: the upstream hop makes its own (the library
#: writes the WebSocket ones, the subprotocols are passed on apart, the rest are HTTP's hop-by-hop headers)
HOP_HEADERS = frozenset({
    "host", "connection", "upgrade", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
    "sec-websocket-protocol", "sec-websocket-accept", "content-length", "transfer-encoding", "keep-alive", "te",
    "trailer", "proxy-authorization", "proxy-authenticate", "proxy-connection",
})

#: close codes a peer may not put in a close frame (RFC 6455 section 7.4.1): what they say is said otherwise
_NOT_SENT = frozenset({1005, 1006, 1015})


def forwarded_headers(client_headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The client's upgrade headers the upstream hop carries too (cookies, authorization, the user agent…), in
    order; the Origin is among them."""
    return tuple((name, value) for name, value in client_headers if name.lower() not in HOP_HEADERS)


def upstream_url(base: str, client_path: str) -> str:
    """Where a client asking for ``client_path`` ("/chat?room=1") is forwarded: the upstream URL itself for
    "/", else the client's path added to the upstream's path and its query to the upstream's."""
    path, _, query = client_path.partition("?")
    if path in ("", "/") and not query:
        return base
    parts = urlsplit(base)
    joined = parts.path.rstrip("/") + (path if path.startswith("/") else "/" + path)
    return urlunsplit((parts.scheme, parts.netloc, joined, "&".join(q for q in (parts.query, query) if q), ""))


def upstream_profile(profile: ConnectionProfile, url: str, client_headers: Iterable[tuple[str, str]],
                     client_subprotocols: Sequence[str]) -> ConnectionProfile:
    """The connection the upstream hop of one client opens: ``profile`` (a saved connection's settings, or a
    blank one) to ``url``, offering what the client offered (else the profile's own subprotocols), with the
    client's end-to-end headers under the profile's own: a header the profile sets (its auth's included, applied
    later) replaces the client's of the same name. The client's Origin goes on unless the profile sets one."""
    own = {name.lower() for name, _ in profile.handshake.headers}
    headers = forwarded_headers(client_headers)
    origin = profile.handshake.origin
    if not origin:
        origin = next((value for name, value in headers if name.lower() == "origin"), "")
    kept = tuple((name, value) for name, value in headers if name.lower() not in own and name.lower() != "origin")
    return profile.with_changes(
        endpoint={"url": url},
        handshake={"headers": kept + tuple(profile.handshake.headers),
                   "subprotocols": tuple(client_subprotocols) or tuple(profile.handshake.subprotocols),
                   "origin": origin},
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    """How the proxy answers a client's upgrade it cannot carry through: an HTTP status, its reason phrase, and
    a one-line body saying why."""

    status: int
    reason: str
    body: str


def refusal_for(failure: Failure, upstream_url: str) -> Refusal:
    """The answer to the client when the upstream hop failed to open: the upstream's own status when it refused
    the upgrade with one (4xx, 5xx), 504 when it did not answer in time, else 502 Bad Gateway; the body names
    the upstream and what happened, in one line."""
    what = " ".join(failure.message.split()) or failure.kind.value
    body = f"wsinspector proxy: the upstream {upstream_url} {_failed(failure)}: {what}"
    status = failure.http_status or 0
    if 400 <= status <= 599:
        return Refusal(status, failure.http_reason or "Upstream refused", body)
    if failure.kind is FailureKind.HANDSHAKE_TIMEOUT:
        return Refusal(504, "Gateway Timeout", body)
    return Refusal(502, "Bad Gateway", body)


def _failed(failure: Failure) -> str:
    if failure.http_status:
        return "refused the upgrade"
    if failure.kind in (FailureKind.REFUSED, FailureKind.DNS, FailureKind.NETWORK):
        return "cannot be reached"
    return "did not open"


def close_for(code: int | None) -> tuple[bool, int | None]:
    """How a close one hop received goes on to the other: (close with a frame, the code to send). A code no
    peer may send (1005 no code, 1006 abnormal, 1015 TLS) is not put in a frame: 1005 becomes a close frame
    without a code, 1006 and 1015 (the hop died) drop the other hop too."""
    if code is None or code == 1005:
        return True, None
    if code in _NOT_SENT:
        return False, None
    return True, code


#: the code a client's hop is closed with when its upstream hop failed (RFC 6455's registry: 1014 Bad Gateway,
#: a gateway or proxy that received an invalid response from the upstream server)
BAD_GATEWAY = 1014
#: the code when the upstream hop ended through a fault of ours (1011 internal error)
INTERNAL_ERROR = 1011
#: the most bytes of UTF-8 a close frame's reason holds (125 of payload, 2 of them the code)
REASON_MOST = 123
#: what an upstream's fault is, by the failure's kind: the upstream's doing (1014), else ours (1011)
_UPSTREAM_FAULTS = {
    FailureKind.PROTOCOL: "upstream protocol error",
    FailureKind.MESSAGE_TOO_BIG: "upstream message too big",
    FailureKind.CONNECTION_LOST: "upstream connection lost",
    FailureKind.CLOSE_TIMEOUT: "upstream did not answer the close",
}


def close_for_failed(failure: Failure | None) -> tuple[int, str]:
    """The close frame a client gets when its upstream hop failed rather than closed (a frame no server may
    send, text that is not UTF-8, a frame over the limit, the connection dropped without a close): 1014 Bad
    Gateway with what the upstream did in short as the reason (at most ``REASON_MOST`` bytes, cut at a
    character); 1011 when the fault was ours."""
    fault = _UPSTREAM_FAULTS.get(failure.kind) if failure is not None else "upstream hop dropped"
    code = BAD_GATEWAY if fault is not None else INTERNAL_ERROR
    detail = " ".join((failure.detail if failure is not None else "").split())
    detail = detail.split("; closed with ")[0].split("; the connection was already closing")[0]
    reason = f"{fault or 'proxy error'}: {detail}" if detail else (fault or "proxy error")
    return code, reason.encode()[:REASON_MOST].decode("utf-8", "ignore")
