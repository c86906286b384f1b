"""A recording reverse proxy, without I/O: its breakpoints (:mod:`.breakpoints`) and how its session is told
apart from a connection's.

A proxy's session is one recorded session holding both hops' frames in the order they were read or written:
the client hop (the client <-> wsinspector) and the upstream hop (wsinspector <-> the upstream server, each
frame marked ``header.UPSTREAM``). Directions are wsinspector's own on each hop: a message the client sends is
``in`` on the client hop, then ``out`` on the upstream hop. The session's first event, of kind
:data:`PROXY_EVENT`, says where it listened and where it forwarded to.
"""

from __future__ import annotations

from collections.abc import Iterable

#: the kind of the event a proxy's session begins with
PROXY_EVENT = "proxy"


def is_proxy_session(events: Iterable[tuple[int, str, str]]) -> bool:
    """Whether a session's events (monotonic ns, kind, text) are a recording proxy's: its frames then travelled
    on two hops."""
    return any(kind == PROXY_EVENT for _ts, kind, _text in events)
