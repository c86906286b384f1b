"""What every protocol session is: messages in (with the time), messages out, events for the user, verbs for the
composer, and the next time it wants to be woken (a heart-beat, a keep-alive ping).

A session never raises on what the server sent: a frame it cannot read becomes an ``error`` event with one line
saying why. A verb called with bad fields raises :class:`ProtocolError` (a ValueError) with one line for the user.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wsinspector.core.decoders.base import DecodeError


class ProtocolError(ValueError):
    """A verb could not be done as asked (a missing or malformed field, the session not ready); one line."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the session wants sent."""

    payload: bytes
    text: bool = True

    @classmethod
    def of(cls, text: str) -> Outgoing:
        return cls(text.encode("utf-8"), True)


@dataclass(frozen=True, slots=True)
class ProtocolEvent:
    """Something the user may want to see: ``kind`` is one of ``connected``, ``event`` (a Socket.IO event, a
    SignalR invocation, a Phoenix broadcast), ``ack`` (an answer matched to what we sent: a Socket.IO ack, a
    STOMP receipt, an MQTT PUBACK/SUBACK, a SignalR completion, a Phoenix reply), ``data`` (subscription data:
    a GraphQL result, a STOMP MESSAGE, an MQTT PUBLISH), ``complete``, ``closed``, ``error``; ``text`` is one
    line; ``data`` the details as plain JSON."""

    kind: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VerbField:
    """One field of a verb as the composer asks for it: ``kind`` is ``text``, ``json`` (a JSON value, typed as
    JSON text or given as a value), ``int``, ``bool`` or ``choice`` (one of ``choices``)."""

    name: str
    kind: str = "text"
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True, slots=True)
class Verb:
    name: str
    title: str
    fields: tuple[VerbField, ...] = ()


@dataclass(frozen=True, slots=True)
class Invoked:
    """What a verb did: the messages to send and the reference its answer will carry ("" when none is awaited:
    a Socket.IO emit's ack id, a STOMP receipt, a GraphQL operation id, an MQTT packet id, a SignalR invocation
    id, a Phoenix ref)."""

    messages: tuple[Outgoing, ...]
    ref: str = ""


_RECEIVE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeError, DecodeError)


def one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def brief(value: Any, limit: int = 80) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return one_line(text, limit)


class ProtocolSession:
    """The base of every protocol session. Subclasses implement :meth:`_start`, :meth:`_receive`, :meth:`_tick`,
    :meth:`next_deadline` and their verbs (methods named in :attr:`VERBS`)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: the WebSocket subprotocols to offer for this protocol (in order)
    subprotocols: ClassVar[tuple[str, ...]] = ()
    VERBS: ClassVar[tuple[Verb, ...]] = ()

    def __init__(self) -> None:
        self._events: list[ProtocolEvent] = []
        self._out: list[Outgoing] = []
        self.started = False
        self.closed = False
        self._listeners: dict[str, list[Callable[[ProtocolEvent], None]]] = {}

    # -- the driver's side -----------------------------------------------------------------------

    def start(self, now: float) -> list[Outgoing]:
        """The WebSocket is open: what to send first (a CONNECT, a handshake)."""
        self.started = True
        self._start(now)
        return self._take(now)

    def receive(self, payload: bytes, text: bool, now: float) -> list[Outgoing]:
        """A whole message arrived at ``now``: what to answer. Never raises: a message the session cannot read
        is an ``error`` event."""
        try:
            self._receive(payload, text, now)
        except _RECEIVE_ERRORS as exc:
            self.event("error", f"{self.title}: {one_line(str(exc)) or type(exc).__name__}")
        return self._take(now)

    def tick(self, now: float) -> list[Outgoing]:
        """The deadline :meth:`next_deadline` gave has come (or passed): the heart-beats due."""
        if self.started and not self.closed:
            self._tick(now)
        return self._take(now)

    def next_deadline(self) -> float | None:
        """When :meth:`tick` wants to be called next (on the caller's clock), None for never."""
        return None

    def note_sent(self, now: float) -> None:
        """Something was sent at ``now`` (a heart-beat counts from the last message sent)."""

    def drain_events(self) -> list[ProtocolEvent]:
        events, self._events = self._events, []
        return events

    # -- the composer's side ---------------------------------------------------------------------

    def verbs(self) -> tuple[Verb, ...]:
        return self.VERBS

    def invoke(self, verb: str, now: float, **fields: Any) -> Invoked:
        """Do ``verb`` with ``fields`` (as :meth:`verbs` describes them); ProtocolError when it cannot."""
        known = {v.name: v for v in self.VERBS}
        if verb not in known:
            raise ProtocolError(f"{self.title} has no verb {verb!r}: use {', '.join(known)}")
        spec = known[verb]
        names = {f.name for f in spec.fields}
        unknown = sorted(set(fields) - names)
        if unknown:
            raise ProtocolError(f"{verb} has no field {unknown[0]!r}: its fields are {', '.join(sorted(names))}")
        values = {}
        for item in spec.fields:
            value = fields.get(item.name, item.default)
            if value is None or (value == "" and item.kind != "text"):
                if item.required:
                    raise ProtocolError(f"{verb} needs {item.name}")
                value = item.default
            values[item.name] = _checked(verb, item, value)
        ref = self.handlers()[verb](now, **values)
        return Invoked(tuple(self._take(now)), "" if ref is None else str(ref))

    def handlers(self) -> dict[str, Callable[..., Any]]:
        """Each verb's method, called with the time and the verb's fields."""
        return {}

    def on(self, kind: str, callback: Callable[[ProtocolEvent], None]) -> None:
        """Call ``callback`` with every event of ``kind`` (for Socket.IO also ``event:NAME``)."""
        self._listeners.setdefault(kind, []).append(callback)

    # -- for subclasses ----------------------------------------------------------------------------

    def event(self, kind: str, text: str, **data: Any) -> ProtocolEvent:
        found = ProtocolEvent(kind, one_line(text), data)
        self._events.append(found)
        keys = [kind] + ([f"event:{data['event']}"] if kind == "event" and "event" in data else [])
        for key in keys:
            for callback in self._listeners.get(key, ()):
                callback(found)
        return found

    def send_text(self, text: str) -> None:
        self._out.append(Outgoing.of(text))

    def send_bytes(self, data: bytes) -> None:
        self._out.append(Outgoing(bytes(data), False))

    def _take(self, now: float) -> list[Outgoing]:
        out, self._out = self._out, []
        if out:
            self.note_sent(now)
        return out

    def _start(self, now: float) -> None:
        pass

    def _receive(self, payload: bytes, text: bool, now: float) -> None:
        raise NotImplementedError

    def _tick(self, now: float) -> None:
        pass


def _checked(verb: str, item: VerbField, value: Any) -> Any:
    """A field's value as the verb uses it: JSON text parsed, numbers read."""
    if value is None:
        return None
    if item.kind == "json" and isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"{verb}: {item.name} is not JSON: {exc.msg} at character {exc.pos + 1}") from None
    if item.kind == "int":
        if isinstance(value, bool):
            raise ProtocolError(f"{verb}: {item.name} must be a whole number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ProtocolError(f"{verb}: {item.name} must be a whole number, not {brief(value, 30)}") from None
    if item.kind == "bool":
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if item.kind == "choice" and str(value) not in item.choices:
        raise ProtocolError(f"{verb}: {item.name} must be one of {', '.join(item.choices)}")
    if item.kind == "text" and not isinstance(value, str):
        return str(value)
    return value


def text_of(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not UTF-8 text (byte {exc.start} is 0x{payload[exc.start]:02x})") from None
