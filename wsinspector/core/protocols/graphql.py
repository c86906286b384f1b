"""GraphQL over WebSocket: graphql-transport-ws (subprotocol ``graphql-transport-ws``) and the legacy
subscriptions-transport-ws (subprotocol ``graphql-ws``).

The session opens with ``connection_init`` and its payload; an operation subscribed before the server's
``connection_ack`` waits for it (the server would close the connection otherwise). graphql-transport-ws: the
server's ``ping`` is answered with a ``pong``; results come as ``next``, then ``complete``. Legacy: ``start`` /
``stop``, results as ``data``, and the server's keep-alive ``ka`` marks it alive."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from wsinspector.core.decoders.base import DecodeError
from wsinspector.core.protocols.base import ProtocolError, ProtocolSession, Verb, VerbField, brief, text_of

MODERN = "graphql-transport-ws"
LEGACY = "graphql-ws"


class GraphQlSession(ProtocolSession):
    name: ClassVar[str] = "graphql"
    title: ClassVar[str] = "GraphQL"
    subprotocols: ClassVar[tuple[str, ...]] = (MODERN,)
    VERBS: ClassVar[tuple[Verb, ...]] = (
        Verb("subscribe", "Subscribe (or query)", (
            VerbField("query", "text", required=True),
            VerbField("variables", "json", help="a JSON object"),
            VerbField("operationName", "text", default=""),
            VerbField("id", "text", default="", help="the operation id (made up when empty)"))),
        Verb("complete", "Stop an operation", (VerbField("id", "text", required=True),)),
        Verb("ping", "Ping the server", (VerbField("payload", "json"),)),
    )

    def __init__(self, payload: Any = None, protocol: str = MODERN) -> None:
        super().__init__()
        if protocol not in (MODERN, LEGACY):
            raise ProtocolError(f"GraphQL over WebSocket is {MODERN} or {LEGACY}, not {protocol!r}")
        self.protocol = protocol
        self.payload = payload
        self.acknowledged = False
        self._waiting: list[dict[str, Any]] = []
        self._next_id = 1
        self.operations: dict[str, dict[str, Any]] = {}
        self.last_keep_alive: float | None = None

    @property
    def legacy(self) -> bool:
        return self.protocol == LEGACY

    def _send(self, message: dict[str, Any]) -> None:
        self.send_text(json.dumps(message, separators=(",", ":"), ensure_ascii=False))

    def _start(self, now: float) -> None:
        init: dict[str, Any] = {"type": "connection_init"}
        if self.payload is not None:
            init["payload"] = self.payload
        self._send(init)

    def _receive(self, payload: bytes, text: bool, now: float) -> None:  # noqa: C901
        try:
            message = json.loads(text_of(payload))
        except json.JSONDecodeError as exc:
            raise DecodeError(f"not JSON: {exc.msg} at character {exc.pos + 1}") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise DecodeError("a message is a JSON object with a type")
        kind, ident = message["type"], message.get("id")
        ident = None if ident is None else str(ident)
        if kind == "connection_ack":
            self.acknowledged = True
            self.event("connected", "connection acknowledged", payload=message.get("payload"))
            for queued in self._waiting:
                self._send(queued)
            self._waiting = []
        elif kind == "ping":
            answer: dict[str, Any] = {"type": "pong"}
            if "payload" in message:
                answer["payload"] = message["payload"]
            self._send(answer)
        elif kind in ("pong",):
            pass
        elif kind == "ka":
            self.last_keep_alive = now
        elif kind in ("next", "data"):
            operation = self.operations.get(ident or "", {})
            self.event("data", f"{ident} {operation.get('name') or ''} {brief(message.get('payload'))}",
                       id=ident, payload=message.get("payload"), operation=operation.get("name", ""))
        elif kind == "error":
            self.operations.pop(ident or "", None)
            self.event("error", f"GraphQL error for operation {ident}: {brief(message.get('payload'))}", id=ident,
                       payload=message.get("payload"))
        elif kind == "complete":
            self.operations.pop(ident or "", None)
            self.event("complete", f"operation {ident} complete", id=ident)
        elif kind == "connection_error":
            self.event("error", f"GraphQL connection refused: {brief(message.get('payload'))}",
                       payload=message.get("payload"))
        else:
            raise DecodeError(f"a message of type {kind!r} from the server")

    # -- verbs ---------------------------------------------------------------------------------------

    def subscribe(self, query: str, variables: dict[str, Any] | None = None, operation_name: str = "",
                  ident: str = "") -> str:
        if not query.strip():
            raise ProtocolError("subscribe needs a query")
        if variables is not None and not isinstance(variables, dict):
            raise ProtocolError("subscribe: variables must be a JSON object")
        if not ident:
            while str(self._next_id) in self.operations:
                self._next_id += 1
            ident = str(self._next_id)
            self._next_id += 1
        elif ident in self.operations:
            raise ProtocolError(f"an operation {ident} is already running")
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name:
            payload["operationName"] = operation_name
        self.operations[ident] = {"name": operation_name, "query": query}
        message = {"id": ident, "type": "start" if self.legacy else "subscribe", "payload": payload}
        if self.acknowledged:
            self._send(message)
        else:
            self._waiting.append(message)
        return ident

    def verb_subscribe(self, now: float, query: str, variables: Any, operationName: str,
                       id: str) -> str:
        return self.subscribe(query, variables, operationName or "", id or "")

    def complete(self, ident: str) -> None:
        self.operations.pop(ident, None)
        self._waiting = [queued for queued in self._waiting if queued["id"] != ident]
        self._send({"id": ident, "type": "stop" if self.legacy else "complete"})

    def verb_complete(self, now: float, id: str) -> None:
        self.complete(id)

    def verb_ping(self, now: float, payload: Any) -> None:
        if self.legacy:
            raise ProtocolError("the legacy subscriptions-transport-ws protocol has no ping")
        self._send({"type": "ping", **({"payload": payload} if payload is not None else {})})

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "subscribe": self.verb_subscribe,
            "complete": self.verb_complete,
            "ping": self.verb_ping,
        }
