"""The client role from a connection's settings: the protocol, its engine and its handshake request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.uri import parse_uri

from wsinspector.core.handshake import Handshake
from wsinspector.core.profiles import ResolvedTarget
from wsinspector.core.wire.engine import WireEngine, WireEvent
from wsinspector.core.wire.protocol import WireClientProtocol
from wsinspector.core.wire.sinks import FrameSink, WholeInSink


def deflate_factory(target: ResolvedTarget) -> ClientPerMessageDeflateFactory:
    return ClientPerMessageDeflateFactory(
        server_no_context_takeover=target.compression.server_no_context_takeover,
        client_no_context_takeover=target.compression.client_no_context_takeover,
        server_max_window_bits=target.compression.server_max_window_bits or None,
        client_max_window_bits=target.compression.client_max_window_bits or True,
    )


#: the protocol's logger: websockets logs the opening request's headers (credentials among them) at DEBUG, so
#: this logger never goes below INFO whatever the app's level
_PROTOCOL_LOG = logging.getLogger("wsinspector.wire.protocol")
_PROTOCOL_LOG.setLevel(logging.INFO)


def client_engine(target: ResolvedTarget, *, sink: FrameSink, whole_in: WholeInSink,
                  on_event: Callable[[WireEvent], object], host: str = "",
                  port: int | None = None) -> WireEngine:
    """An engine for a connection to ``target``, its handshake not yet sent. Raises
    ``websockets.exceptions.InvalidURI`` for a URL that is not a WebSocket one."""
    proto = WireClientProtocol(
        parse_uri(target.url),
        origin=target.handshake.origin or None,  # type: ignore[arg-type]
        extensions=[deflate_factory(target)] if target.compression.deflate else None,
        subprotocols=list(target.handshake.subprotocols) or None,  # type: ignore[arg-type]
        max_size=(target.limits.max_message_size, target.limits.max_frame_size),
        logger=_PROTOCOL_LOG,
    )
    proto.auto_pong = target.protocol.auto_pong
    return WireEngine(proto, sink=sink, whole_in=whole_in, on_event=on_event,
                      close_timeout_s=target.protocol.close_timeout_s,
                      max_size=min(target.limits.max_message_size, target.limits.max_frame_size), host=host, port=port)


def send_request(engine: WireEngine, target: ResolvedTarget, user_agent: str, now_ns: int) -> Request:
    """Send the opening handshake: the library's request, our User-Agent, then the target's own headers. A
    header of the target replaces one of the same name the library or we put there (the User-Agent, the
    ``Authorization`` the library makes of the URL's user info: a header or an auth setting the user gave wins
    over the URL, as with the Qt engine). Returns the request as sent."""
    proto = engine.protocol
    assert isinstance(proto, WireClientProtocol)
    request = proto.connect()
    request.headers["User-Agent"] = user_agent
    for name in {name.lower() for name, _ in target.handshake.headers}:
        if name in request.headers:  # Headers compares names case-insensitively
            del request.headers[name]
    for name, value in target.handshake.headers:
        request.headers[name] = value
    engine.send_handshake(request, now_ns)
    return request


def sent_handshake(request: Request, url: str) -> Handshake:
    """What the request written to the socket was: its request line and headers, in order and as spelled."""
    return Handshake(url=url, request_line=f"GET {request.path} HTTP/1.1",
                     request_headers=tuple((str(k), str(v)) for k, v in request.headers.raw_items()))
