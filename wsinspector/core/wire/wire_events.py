"""What a :class:`~wsinspector.core.wire.engine.WireEngine` tells its owner besides frames: the handshake's
outcome, the client's request to answer (the server role), and the peer breaking the protocol."""

from __future__ import annotations

from dataclasses import dataclass

from websockets.http11 import Request

from wsinspector.core.events import Failure

__all__ = ["HandshakeFailed", "Opened", "Rejected", "Requested", "WireEvent"]


@dataclass(frozen=True, slots=True)
class Opened:
    """The opening handshake completed."""

    subprotocol: str
    #: the response's (client role) or request's (server role) headers, as they came
    headers: tuple[tuple[str, str], ...]
    #: the negotiated extensions, as the response header puts them
    extensions: str
    #: the reason phrase of the 101 answer (client role)
    reason: str = "Switching Protocols"


@dataclass(frozen=True, slots=True)
class Requested:
    """The server role read the client's opening request: the owner answers it with
    :meth:`WireEngine.accept` or :meth:`WireEngine.refuse` (or never, to test a client's handshake timeout)."""

    request: Request


@dataclass(frozen=True, slots=True)
class HandshakeFailed:
    """The opening handshake was refused or could not be read: the attempt is over."""

    failure: Failure


@dataclass(frozen=True, slots=True)
class Rejected:
    """The peer broke the protocol: the engine refused what it sent and is failing the connection. It comes
    before the refused frame is reported (when it can be), so nothing from there on is taken for a message;
    the connection's end carries the same failure."""

    failure: Failure


WireEvent = Opened | HandshakeFailed | Rejected | Requested
