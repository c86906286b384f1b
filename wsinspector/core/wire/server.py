"""The server role from a listener's settings: the protocol, its engine, and the handshake as a session keeps it.

A server answers what each client offers: the first of its subprotocols the client offers (none when it
offers none of them: the connection still opens), permessage-deflate with the parameters the client asked
for when compression is on. Its limits and timeouts are a client connection's (``core/profiles.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from wsinspector.core.defaults import DEFAULT_HANDSHAKE_TIMEOUT_S
from wsinspector.core.handshake import Handshake
from wsinspector.core.profiles import DEFAULT_CLOSE_TIMEOUT_S, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE
from wsinspector.core.wire.engine import WireEngine, WireEvent
from wsinspector.core.wire.protocol import WireServerProtocol
from wsinspector.core.wire.sinks import FrameSink, WholeInSink

__all__ = ["ServerSettings", "received_handshake", "server_engine"]

#: the client role's logger (core/wire/client.py): never below INFO, headers carry credentials
_PROTOCOL_LOG = logging.getLogger("wsinspector.wire.protocol")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How a server answers its clients (one per listener; a path may choose other subprotocols)."""

    #: the subprotocols it speaks, in its order of preference
    subprotocols: tuple[str, ...] = ()
    #: permessage-deflate when a client offers it
    deflate: bool = True
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    #: after the first close frame, how long the other side has to answer it
    close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S
    #: how long a client has to send its whole opening request
    handshake_timeout_s: float = DEFAULT_HANDSHAKE_TIMEOUT_S


def _choose(protocol: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """The first of ours the client offers; none (the connection still opens) when it offers none of them."""
    for name in protocol.available_subprotocols or ():
        if name in offered:
            return name
    return None


def server_engine(settings: ServerSettings, *, sink: FrameSink, whole_in: WholeInSink,
                  on_event: Callable[[WireEvent], object], host: str = "",
                  port: int | None = None) -> WireEngine:
    """An engine for one accepted client, waiting for its opening request (``host``/``port``: the client's)."""
    proto = WireServerProtocol(
        extensions=[ServerPerMessageDeflateFactory()] if settings.deflate else None,
        subprotocols=[Subprotocol(name) for name in settings.subprotocols] or None,
        select_subprotocol=_choose,
        max_size=(settings.max_message_size, settings.max_frame_size),
        logger=_PROTOCOL_LOG,
    )
    return WireEngine(proto, sink=sink, whole_in=whole_in, on_event=on_event,
                      close_timeout_s=settings.close_timeout_s,
                      max_size=min(settings.max_message_size, settings.max_frame_size), host=host, port=port)


def received_handshake(request: Request, response: Response | None, url: str) -> Handshake:
    """A client's opening request as it came, with our answer (None: not answered)."""
    shown = Handshake(url=url, request_line=f"GET {request.path} HTTP/1.1",
                      request_headers=tuple((str(k), str(v)) for k, v in request.headers.raw_items()))
    if response is None:
        return shown
    body = bytes(response.body or b"")
    return shown.answered(response.status_code, response.reason_phrase,
                          tuple((str(k), str(v)) for k, v in response.headers.raw_items()), body, len(body))
