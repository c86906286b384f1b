"""A recorded session of a protocol a test speaks, as such a test: what was emitted, subscribed, sent,
published, invoked, joined or pushed becomes the protocol's verb steps, what came back ``expect`` an event, an
ack or data. The protocol's housekeeping (the Engine.IO open, pings and pongs, namespace connects without auth,
``connection_init`` and its ack, keep-alives, STOMP ``CONNECT`` and heart-beats, MQTT ``CONNECT``, PINGREQ and
the PUBACKs we owed, the SignalR handshake and pings, Phoenix heartbeats) is left out: the protocol does it when
the test runs. What the first connect said (a Socket.IO namespace and auth, a GraphQL ``connection_init``
payload, STOMP's host, login and heart-beats, MQTT's client id, keep-alive, version and user) becomes the test's
protocol options, a credential in it a ``{{variable}}`` the file does not define."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..decoders.base import DecodeError, FrameView
from ..decoders.socketio import parse_socket_packet
from ..frames import Direction, Opcode
from ..protocols.socketio import reconstruct
from ..redact import is_secret_field
from .model import EventStep, Step, VerbStep

#: the protocols a recorded session can be replayed in
SPOKEN = ("socket.io", "graphql", "stomp", "mqtt", "signalr", "phoenix")
#: how many first messages tell the protocol when nothing else does
SNIFFED = 16

#: (ts_ns, direction, opcode, payload) of one complete message
Recorded = tuple[int, Direction | str, Opcode | int, bytes]


def session_protocol(messages: Sequence[Recorded], *, decoder: str = "", subprotocol: str = "",
                     url: str = "") -> str:
    """The protocol a session's decoder reads it as, when a test can speak it ("" otherwise)."""
    from ..decoders.registry import decoder_registry  # noqa: PLC0415  (entry points: only when asked)

    frames = [FrameView(bytes(payload), Opcode(opcode) is Opcode.TEXT, Direction(direction) is Direction.OUT, i)
              for i, (_, direction, opcode, payload) in enumerate(messages[:SNIFFED])]
    try:
        chosen = decoder_registry().choose(override=decoder, subprotocol=subprotocol, url=url, frames=frames)
    except KeyError:
        return ""
    return chosen.name if chosen is not None and chosen.name in SPOKEN else ""


def masked(value: Any) -> Any:
    """``value`` with every secret field's value a variable of the field's name."""
    if isinstance(value, dict):
        return {key: (f"{{{{{key}}}}}" if is_secret_field(key) and isinstance(item, str | int) else masked(item))
                for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


class Builder:
    def __init__(self, started_ns: int | None) -> None:
        self.steps: list[Step] = []
        self.options: list[tuple[str, str]] = []
        self.previous_ns = started_ns
        self.gap: float | None = None

    def at(self, ts_ns: int) -> None:
        self.gap = None if self.previous_ns is None else round(max(0, ts_ns - self.previous_ns) / 1e9, 3)
        self.previous_ns = ts_ns

    def verb(self, verb: str, **fields: Any) -> None:
        self.steps.append(VerbStep(verb, tuple(fields.items()), self.gap))

    def expect(self, kind: str, value: Any, event: str = "", **filters: str) -> None:
        self.steps.append(EventStep(kind, value, True, event, tuple(filters.items())))


def protocol_steps(protocol: str, messages: Iterable[Recorded],
                   started_ns: int | None = None) -> tuple[tuple[Step, ...], tuple[tuple[str, str], ...]] | None:
    """The steps and protocol options of a recorded session in ``protocol``; None when a message does not read
    as it (the test is then made of plain messages)."""
    builder = Builder(started_ns)
    try:
        if protocol == "socket.io":
            _socketio(builder, messages)
        elif protocol == "graphql":
            _graphql(builder, messages)
        else:
            from .from_brokers import CONVERTERS  # noqa: PLC0415  (the protocols of brokers and hubs)

            CONVERTERS[protocol](builder, messages)
    except (DecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeError):
        return None
    return tuple(builder.steps), tuple(builder.options)


def _socketio(builder: Builder, messages: Iterable[Recorded]) -> None:
    waiting: dict[bool, tuple[dict[str, Any], list[bytes]]] = {}
    first_connect = True
    for ts_ns, direction, opcode, payload in messages:
        out = Direction(direction) is Direction.OUT
        builder.at(ts_ns)
        if Opcode(opcode) is Opcode.BINARY:
            if out not in waiting:
                continue
            packet, found = waiting[out]
            found.append(bytes(payload))
            if len(found) < packet["attachments"]:
                continue
            del waiting[out]
            key = "args" if "args" in packet else "data"
            packet[key] = reconstruct(packet[key], found)
        else:
            text = bytes(payload).decode("utf-8")
            if not text.startswith("4"):
                continue  # open, ping, pong, close, noop: the protocol's own
            packet = parse_socket_packet(text[1:])
            if packet.get("attachments"):
                waiting[out] = (packet, [])
                continue
        first_connect = _socketio_packet(builder, packet, out, first_connect)


def _socketio_packet(builder: Builder, packet: dict[str, Any], out: bool, first_connect: bool) -> bool:
    kind, namespace = packet["type"].removeprefix("BINARY_"), packet["namespace"]
    where = {} if namespace == "/" else {"namespace": namespace}
    if out and kind == "CONNECT":
        auth = packet.get("data")
        if first_connect:
            builder.options.append(("namespace", namespace))
            if auth is not None:
                builder.options.append(("auth", json.dumps(masked(auth), separators=(",", ":"))))
            return False
        builder.verb("connect", namespace=namespace, **({"auth": masked(auth)} if auth is not None else {}))
    elif out and kind == "EVENT":
        builder.verb("emit", event=packet["event"], args=packet["args"], **({"ack": True} if "id" in packet else {}),
                     **where)
    elif out and kind == "DISCONNECT":
        builder.verb("disconnect", namespace=namespace)
    elif not out and kind == "EVENT":
        builder.steps.append(EventStep("event", packet["args"], True, packet["event"]))
    elif not out and kind == "ACK":
        builder.steps.append(EventStep("ack", packet["data"]))
    return first_connect


def _graphql(builder: Builder, messages: Iterable[Recorded]) -> None:
    for ts_ns, direction, opcode, payload in messages:
        out = Direction(direction) is Direction.OUT
        builder.at(ts_ns)
        if Opcode(opcode) is not Opcode.TEXT:
            raise ValueError("GraphQL over WebSocket is text")
        message = json.loads(bytes(payload).decode("utf-8"))
        kind = message["type"]
        ident = str(message.get("id", ""))
        if out and kind == "connection_init" and message.get("payload") is not None:
            builder.options.append(("payload", json.dumps(masked(message["payload"]), separators=(",", ":"))))
        elif out and kind in ("subscribe", "start"):
            body = message["payload"]
            fields: dict[str, Any] = {"query": body["query"]}
            if body.get("variables") is not None:
                fields["variables"] = body["variables"]
            if body.get("operationName"):
                fields["operationName"] = body["operationName"]
            builder.verb("subscribe", **fields, id=ident)
        elif out and kind in ("complete", "stop"):
            builder.verb("complete", id=ident)
        elif not out and kind in ("next", "data"):
            builder.steps.append(EventStep("data", message.get("payload"), True, "", (("id", ident),)))
