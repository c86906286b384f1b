"""Saved connection profiles, URL validation and ``{{variable}}`` expansion."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

MIB = 1024 * 1024

DEFAULT_HANDSHAKE_TIMEOUT_S = 10.0
DEFAULT_MAX_MESSAGE_SIZE = 64 * MIB
DEFAULT_MAX_FRAME_SIZE = 64 * MIB

DEFAULT_HEARTBEAT_TIMEOUT_S = 10.0
HEARTBEAT_MARK = "mark"
HEARTBEAT_CLOSE = "close"
HEARTBEAT_RECONNECT = "reconnect"
HEARTBEAT_ACTIONS = {HEARTBEAT_MARK: "Mark as unhealthy", HEARTBEAT_CLOSE: "Close the connection",
                     HEARTBEAT_RECONNECT: "Reconnect"}

ENGINE_QT = "qt"
ENGINE_WIRE = "wire"
ENGINES = {ENGINE_WIRE: "Wire (every frame, permessage-deflate, fault injection)",
           ENGINE_QT: "Qt (QtWebSockets)"}
DEFAULT_CLOSE_TIMEOUT_S = 5.0

#: Marks the profile the app keeps pointed at its own built-in echo server.
BUILTIN_LOCAL_ECHO = "local-echo"

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_HOST_PORT = re.compile(r"^[^/:]+:\d+(/|$)")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: Headers the WebSocket handshake itself owns; a user value would break or silently lose to it.
RESERVED_HEADERS = frozenset(
    {"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"}
)


class ProfileError(ValueError):
    """A profile value that cannot be used to connect; the message is meant for the user."""


class UnknownVariableError(ProfileError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(f"{{{{{n}}}}}" for n in names)
        super().__init__(f"Unknown variable{'s' if len(names) > 1 else ''}: {listed}")


@dataclass(frozen=True, slots=True)
class ConnectionProfile:
    name: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    subprotocols: tuple[str, ...] = ()
    origin: str = ""
    variables: tuple[tuple[str, str], ...] = ()
    handshake_timeout_s: float = DEFAULT_HANDSHAKE_TIMEOUT_S
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    #: seconds between heartbeat pings; 0 = no heartbeat
    heartbeat_interval_s: float = 0.0
    #: a ping unanswered for this long is a timeout
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S
    #: on a timeout: HEARTBEAT_MARK (show the link as unhealthy) or HEARTBEAT_CLOSE (close it)
    heartbeat_action: str = HEARTBEAT_MARK
    #: reconnect by itself when the connection drops or fails (never after the user disconnects)
    reconnect: bool = False
    #: attempts in a row before giving up; 0 = no limit
    reconnect_max_attempts: int = 10
    reconnect_base_s: float = 0.5
    reconnect_max_s: float = 30.0
    #: ENGINE_WIRE or ENGINE_QT
    engine: str = ENGINE_WIRE
    #: offer permessage-deflate (Wire engine)
    deflate: bool = True
    #: 0 = no value in the offer (server_max_window_bits: the server's default; client_max_window_bits: any)
    deflate_server_max_window_bits: int = 0
    deflate_client_max_window_bits: int = 0
    deflate_server_no_context_takeover: bool = False
    deflate_client_no_context_takeover: bool = False
    #: answer incoming pings by ourselves (Wire engine; off only to test a server's heartbeat handling)
    auto_pong: bool = True
    #: after our close frame, how long to wait for the server to close before dropping the connection
    close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S
    builtin: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def with_changes(self, **changes: object) -> ConnectionProfile:
        return replace(self, **changes)  # type: ignore[arg-type]

    def duplicate(self, name: str) -> ConnectionProfile:
        return replace(self, name=name, builtin="", id=uuid.uuid4().hex)

    def resolved(self) -> ResolvedTarget:
        """Expand variables and validate everything needed to open the connection."""
        variables = dict(self.variables)
        url = validate_url(expand(self.url, variables))
        headers: list[tuple[str, str]] = []
        for name, value in self.headers:
            name = expand(name, variables).strip()
            if not name:
                continue
            if not _HEADER_NAME.match(name):
                raise ProfileError(f"Header name {name!r} is not a valid HTTP token")
            if name.lower() in RESERVED_HEADERS:
                raise ProfileError(f"Header {name!r} is set by the WebSocket handshake itself")
            value = expand(value, variables)
            if "\r" in value or "\n" in value:
                raise ProfileError(f"Header {name!r} has a line break in its value")
            headers.append((name, value))
        subprotocols = tuple(expand(p, variables).strip() for p in self.subprotocols if p.strip())
        for proto in subprotocols:
            if not _HEADER_NAME.match(proto):
                raise ProfileError(f"Subprotocol {proto!r} is not a valid token")
        origin = expand(self.origin, variables).strip()
        if self.handshake_timeout_s <= 0:
            raise ProfileError("Handshake timeout must be positive")
        if self.max_message_size <= 0 or self.max_frame_size <= 0:
            raise ProfileError("Size limits must be positive")
        if self.heartbeat_interval_s < 0 or (self.heartbeat_interval_s > 0 and self.heartbeat_timeout_s <= 0):
            raise ProfileError("Heartbeat interval must be 0 (off) or positive, with a positive timeout")
        if self.reconnect and (self.reconnect_base_s <= 0 or self.reconnect_max_s < self.reconnect_base_s
                               or self.reconnect_max_attempts < 0):
            raise ProfileError("Reconnect delays must be positive (the longest at least the first)")
        if self.heartbeat_action not in HEARTBEAT_ACTIONS:
            raise ProfileError(f"Unknown heartbeat action {self.heartbeat_action!r}")
        if self.engine not in ENGINES:
            raise ProfileError(f"Unknown engine {self.engine!r}: use {' or '.join(map(repr, ENGINES))}")
        for label, bits in (("Server", self.deflate_server_max_window_bits),
                            ("Client", self.deflate_client_max_window_bits)):
            if bits != 0 and not 8 <= bits <= 15:
                raise ProfileError(f"{label} max window bits must be between 8 and 15 (or 0 for no value)")
        if self.close_timeout_s <= 0:
            raise ProfileError("Close timeout must be positive")
        expanded: dict[str, Any] = {"url": url, "headers": tuple(headers), "subprotocols": subprotocols,
                                    "origin": origin}
        # every other setting an engine needs goes through as it is
        return ResolvedTarget(**expanded, **{f.name: getattr(self, f.name) for f in fields(ResolvedTarget)
                                             if f.name not in expanded})


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A profile with variables expanded and values validated: what an engine connects to."""

    url: str
    headers: tuple[tuple[str, str], ...]
    subprotocols: tuple[str, ...]
    origin: str
    handshake_timeout_s: float
    max_message_size: int
    max_frame_size: int
    engine: str = ENGINE_WIRE
    deflate: bool = True
    deflate_server_max_window_bits: int = 0
    deflate_client_max_window_bits: int = 0
    deflate_server_no_context_takeover: bool = False
    deflate_client_no_context_takeover: bool = False
    auto_pong: bool = True
    close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (1, 2, …): doubling from ``base_s`` up to
    ``max_s``, then a random part of it kept (between half and all) so that many clients do not retry in step."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    ceiling = min(max_s, base_s * float(1 << min(attempt - 1, 62)))
    fraction: float = (rng or random).random()
    return ceiling * (0.5 + 0.5 * fraction)


def expand(text: str, variables: dict[str, str]) -> str:
    """Replace ``{{name}}`` with its value; every unknown name is reported at once."""
    missing = [m.group(1) for m in _VARIABLE.finditer(text) if m.group(1) not in variables]
    if missing:
        raise UnknownVariableError(list(dict.fromkeys(missing)))
    return _VARIABLE.sub(lambda m: variables[m.group(1)], text)


def validate_url(url: str) -> str:
    """Return the URL stripped of surrounding space, or raise ProfileError saying what is wrong."""
    url = url.strip()
    if not url:
        raise ProfileError("Enter a URL, for example ws://127.0.0.1:8765/")
    if any(c.isspace() for c in url):
        raise ProfileError("The URL contains spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ProfileError(f"The URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if not parts.netloc and _HOST_PORT.match(url):
        raise ProfileError(f"The URL needs a scheme: ws://{url} or wss://{url}")
    if scheme in ("http", "https"):
        suggestion = "ws" if scheme == "http" else "wss"
        raise ProfileError(f"WebSocket URLs start with ws:// or wss:// (did you mean {suggestion}://?)")
    if scheme not in ("ws", "wss"):
        if not parts.scheme:
            raise ProfileError("The URL needs a scheme: ws:// or wss://")
        raise ProfileError(f"Unsupported scheme {parts.scheme!r}: use ws:// or wss://")
    if not parts.hostname:
        raise ProfileError("The URL has no host")
    if port == 0:
        raise ProfileError("Port 0 is not a valid destination port")
    if parts.fragment:
        raise ProfileError("WebSocket URLs cannot have a #fragment")
    return url
