"""What a mock server does, as read from a rules file: per route, what it sends when a client connects, the
rules that answer a client's messages, periodic pushes, and the faults it commits on purpose."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from wsinspector.core.sending import AutoReplyRule

__all__ = [
    "FORMAT_VERSION",
    "Action",
    "Handshake",
    "MockRules",
    "Periodic",
    "Route",
    "Rule",
]

#: the rules file format this version reads and writes
FORMAT_VERSION = 1

#: what an action does (see docs/mock.md)
SEND, CLOSE, DROP, WAIT, PING, RAW, CLOSE_MID_MESSAGE, ECHO = ("send", "close", "drop", "wait", "ping", "raw",
                                                               "close_mid_message", "echo")


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the server does. ``send``: a message (``payload`` a template for text, bytes for binary),
    ``fragments`` frames (1: one frame), ``masked`` (a fault: servers never mask); ``close``: ``code`` (None: no
    body) and ``reason``; ``drop``: the TCP connection ends at once; ``wait``: ``seconds`` before the next
    action; ``ping``: ``payload``; ``raw``: one frame of ``opcode`` (a reserved one is the point), ``rsv`` bits,
    ``data`` as its payload and ``fin``; ``close_mid_message``: the first half of a message in a frame that is
    not final, then the connection dropped; ``echo``: the message answered, sent back as it came (text or
    binary)."""

    kind: str
    payload: str = ""
    data: bytes = b""
    is_text: bool = True
    fragments: int = 1
    masked: bool = False
    code: int | None = 1000
    reason: str = ""
    seconds: float = 0.0
    opcode: int = 0
    rsv: int = 0
    fin: bool = True
    #: a text message's bytes are sent as they are, valid UTF-8 or not (``invalid_utf8``)
    raw_text: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """When a client's message matches, do ``actions`` after ``delay`` seconds. ``matcher`` compares text as
    an auto-reply rule does (equals, contains, regex, a JSON path's value); ``None`` matches any message.
    ``captures``: variables taken from the message by JSON path (a regex's named groups are captured too).
    ``times``: how many times the rule answers per client (0: always)."""

    name: str
    matcher: AutoReplyRule | None
    actions: tuple[Action, ...]
    delay: float = 0.0
    captures: tuple[tuple[str, str], ...] = ()
    binary: bytes | None = None
    times: int = 0


@dataclass(frozen=True, slots=True)
class Periodic:
    """``actions`` every ``interval`` seconds from the connection's opening (the first after one interval),
    ``count`` times (0: until the client goes)."""

    interval: float
    actions: tuple[Action, ...]
    count: int = 0


@dataclass(frozen=True, slots=True)
class Handshake:
    """How the opening handshake is answered: accepted (with ``subprotocol`` when the client offers it and
    ``headers`` added), refused with ``status`` (not 101), ``headers`` and ``body``, or never answered
    (``never``: the client's own handshake timeout is what it tests)."""

    status: int = 101
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    never: bool = False
    subprotocols: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """What the server does for the clients of one path."""

    path: str
    handshake: Handshake = field(default_factory=Handshake)
    on_connect: tuple[Action, ...] = ()
    rules: tuple[Rule, ...] = ()
    every: tuple[Periodic, ...] = ()
    #: "answer" (at once), "late" (after ``pong_delay`` seconds) or "never"
    pings: str = "answer"
    pong_delay: float = 0.0
    #: replay: the n-th message of a client is answered by the n-th group, whatever it says
    sequence: tuple[tuple[Action, ...], ...] = ()
    #: the Origins it takes (none: any); a request with another one (or none) is refused with 403
    origins: tuple[str, ...] = ()
    #: (code, reason) that answers a client's close frame instead of its own code (None: echoed, as is right)
    on_close: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class MockRules:
    """A whole rules file: its routes by path (``*``: any other path; none: a path no route names is refused
    with 404), its variables and the subprotocols the server speaks."""

    name: str = ""
    routes: tuple[Route, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    subprotocols: tuple[str, ...] = ()

    def route(self, path: str) -> Route | None:
        """The route of a request's path (without its query): its own, else ``*``'s, else None."""
        fallback = None
        for route in self.routes:
            if route.path == path:
                return route
            if route.path == "*":
                fallback = route
        return fallback


def json_text(value: object) -> str:
    """A JSON value as a message's text (compact, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


#: a server that sends every message back as it came, on any path (plain ``serve``, the Server page without rules)
ECHO_RULES = MockRules(name="Echo", routes=(Route(path="*", rules=(Rule("echo", None, (Action(ECHO),)),)),))
