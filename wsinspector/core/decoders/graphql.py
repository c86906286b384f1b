"""GraphQL over WebSocket: the graphql-transport-ws protocol (subprotocol ``graphql-transport-ws``, of the
``graphql-ws`` library) and the legacy subscriptions-transport-ws (subprotocol ``graphql-ws``). Each frame is a
JSON object with a ``type``; operations carry an ``id`` and a ``payload`` (query, variables, operationName)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView, short
from wsinspector.core.decoders.formats import json_value

TRANSPORT_WS = "graphql-transport-ws"
LEGACY = "subscriptions-transport-ws"
TRANSPORT_TYPES = frozenset({"connection_init", "connection_ack", "ping", "pong", "subscribe", "next", "error",
                             "complete"})
LEGACY_TYPES = frozenset({"connection_init", "connection_ack", "connection_error", "connection_terminate", "ka",
                          "start", "data", "error", "complete", "stop"})
_OPERATION = re.compile(r"\b(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?")


def _operation(payload: Any) -> tuple[str, str]:
    """(kind, name) of the operation a subscribe/start payload holds."""
    if not isinstance(payload, dict):
        return "", ""
    query = payload.get("query")
    name = str(payload["operationName"]) if isinstance(payload.get("operationName"), str) else ""
    found = _OPERATION.search(query) if isinstance(query, str) else None
    if found is None:
        return ("query" if isinstance(query, str) and query.lstrip().startswith("{") else ""), name
    return found.group(1), name or (found.group(2) or "")


class GraphQlDecoder(Decoder):
    """Both GraphQL-over-WebSocket protocols; the variant is told by the subprotocol or the message types."""

    name: ClassVar[str] = "graphql"
    title: ClassVar[str] = "GraphQL over WebSocket"
    priority: ClassVar[int] = 30
    subprotocols: ClassVar[tuple[str, ...]] = ("graphql-transport-ws", "graphql-ws")

    def sniff(self, frame: FrameView) -> bool:
        if not frame.text or not frame.payload.startswith(b"{"):
            return False
        try:
            message = json_value(frame.payload.decode("utf-8"))
        except (DecodeError, UnicodeDecodeError):
            return False
        return isinstance(message, dict) and message.get("type") in (TRANSPORT_TYPES | LEGACY_TYPES) - {"error"}

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        message = json_value(frame.as_text())
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise DecodeError("a GraphQL over WebSocket message is a JSON object with a type")
        kind = message["type"]
        if kind not in TRANSPORT_TYPES | LEGACY_TYPES:
            raise DecodeError(f"{short(kind, 30)} is not a GraphQL over WebSocket message type")
        variant = LEGACY if kind in LEGACY_TYPES - TRANSPORT_TYPES else (
            TRANSPORT_WS if kind in TRANSPORT_TYPES - LEGACY_TYPES else "")
        fields = {"type": kind}
        parts = [kind]
        if isinstance(message.get("id"), str | int):
            fields["operation"] = str(message["id"])
            parts.append(str(message["id"]))
        payload = message.get("payload")
        if kind in ("subscribe", "start"):
            op_kind, op_name = _operation(payload)
            if op_name:
                fields["operation_name"] = op_name
            parts.extend(p for p in (op_kind, op_name) if p)
            if isinstance(payload, dict) and payload.get("variables"):
                parts.append(short(payload["variables"], 60))
        elif payload is not None:
            parts.append(short(payload, 90))
        tree = {"variant": variant, **message} if variant else dict(message)
        return Decoded(self.name, " ".join(parts), tree, fields)
