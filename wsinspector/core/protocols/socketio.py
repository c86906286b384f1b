"""Socket.IO v5 over Engine.IO v4, the WebSocket transport alone (``/socket.io/?EIO=4&transport=websocket``).

The server opens with ``0{"sid","pingInterval","pingTimeout",…}``; the session then connects its namespaces
(``40``, ``40/admin,{auth}``), answers every ``2`` ping with a ``3`` pong, and watches that pings keep coming
(a server silent for pingInterval + pingTimeout is gone). ``emit`` sends an event, with an ack id when an answer
is wanted; the ``ACK`` that comes back is matched to its emit. Bytes in the arguments travel as binary
attachments: the packet carries ``{"_placeholder":true,"num":n}`` and the attachments follow as binary frames.
In the verbs' JSON, ``{"$bytes": "hex"}`` stands for bytes (as the decoder shows them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from wsinspector.core.decoders.base import DecodeError
from wsinspector.core.decoders.socketio import parse_socket_packet
from wsinspector.core.protocols.base import ProtocolError, ProtocolSession, Verb, VerbField, brief, text_of

_NAMESPACE = VerbField("namespace", "text", default="/", help="e.g. / or /admin")


def _nsp_prefix(namespace: str) -> str:
    return "" if namespace in ("", "/") else f"{namespace},"


def _normal_namespace(namespace: str) -> str:
    namespace = (namespace or "/").strip()
    if not namespace.startswith("/"):
        raise ProtocolError(f"a namespace starts with '/': {namespace!r}")
    if "," in namespace:
        raise ProtocolError("a namespace cannot hold ','")
    return namespace


def deconstruct(value: Any, attachments: list[bytes]) -> Any:
    """``value`` with each bytes (or ``{"$bytes": hex}``) replaced by a placeholder, the bytes added to
    ``attachments``."""
    if isinstance(value, bytes | bytearray):
        attachments.append(bytes(value))
        return {"_placeholder": True, "num": len(attachments) - 1}
    if isinstance(value, dict):
        if set(value) == {"$bytes"} and isinstance(value["$bytes"], str):
            try:
                return deconstruct(bytes.fromhex(value["$bytes"]), attachments)
            except ValueError:
                raise ProtocolError("a {\"$bytes\": …} value must be hexadecimal") from None
        return {key: deconstruct(item, attachments) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [deconstruct(item, attachments) for item in value]
    return value


def reconstruct(value: Any, attachments: list[bytes]) -> Any:
    """``value`` with each placeholder replaced by ``{"$bytes": hex}`` of its attachment."""
    if isinstance(value, dict):
        if value.get("_placeholder") is True and isinstance(value.get("num"), int):
            num = value["num"]
            if not 0 <= num < len(attachments):
                raise DecodeError(f"a placeholder names attachment {num} of {len(attachments)}")
            return {"$bytes": attachments[num].hex()}
        return {key: reconstruct(item, attachments) for key, item in value.items()}
    if isinstance(value, list):
        return [reconstruct(item, attachments) for item in value]
    return value


class SocketIoSession(ProtocolSession):
    name: ClassVar[str] = "socket.io"
    title: ClassVar[str] = "Socket.IO"
    VERBS: ClassVar[tuple[Verb, ...]] = (
        Verb("emit", "Emit an event", (
            VerbField("event", "text", required=True),
            VerbField("args", "json", default=[], help="a JSON array of arguments"),
            VerbField("ack", "bool", default=False, help="ask for an acknowledgement"),
            _NAMESPACE)),
        Verb("connect", "Connect a namespace", (_NAMESPACE, VerbField("auth", "json", help="a JSON object"))),
        Verb("disconnect", "Leave a namespace", (_NAMESPACE,)),
        Verb("ack", "Answer the server's ack request", (
            VerbField("id", "int", required=True), VerbField("args", "json", default=[]), _NAMESPACE)),
        Verb("listen", "Listen to an event", (VerbField("event", "text", required=True),)),
        Verb("unlisten", "Stop listening to an event", (VerbField("event", "text", required=True),)),
    )

    def __init__(self, namespace: str = "/", auth: Any = None, connect: bool = True) -> None:
        super().__init__()
        self.handshake: dict[str, Any] = {}
        self.sid = ""
        self.ping_interval_s = 25.0
        self.ping_timeout_s = 20.0
        self._last_ping: float | None = None
        self._timed_out = False
        self._auto = [(_normal_namespace(namespace), auth)] if connect else []
        self.namespaces: dict[str, str] = {}  # connected namespace -> its sid
        self._next_ack = 0
        self.pending_acks: dict[int, dict[str, Any]] = {}
        self.listening: set[str] = set()
        #: a binary packet waiting for its attachments
        self._binary: tuple[dict[str, Any], int, list[bytes]] | None = None
        self._before_open: list[str] = []

    # -- incoming ----------------------------------------------------------------------------------

    def _receive(self, payload: bytes, text: bool, now: float) -> None:
        if not text:
            self._attachment(payload)
            return
        message = text_of(payload)
        if not message:
            raise DecodeError("an empty frame is not an Engine.IO packet")
        kind, data = message[0], message[1:]
        if kind == "0":
            self._open(data, now)
        elif kind == "2":
            self._last_ping = now
            self._timed_out = False
            self.send_text("3" + data)
        elif kind == "1":
            self.closed = True
            self.event("closed", "the server closed the Engine.IO session")
        elif kind == "4":
            self._last_ping = self._last_ping if self._last_ping is not None else now
            self._packet(data)
        elif kind in "356":
            pass  # pong, upgrade, noop: nothing to answer over the WebSocket transport alone
        else:
            raise DecodeError(f"not an Engine.IO packet: {kind!r} is not a packet type (0-6)")

    def _open(self, data: str, now: float) -> None:
        try:
            handshake = json.loads(data)
        except json.JSONDecodeError as exc:
            raise DecodeError(f"the Engine.IO OPEN packet's data is not JSON: {exc.msg}") from None
        if not isinstance(handshake, dict):
            raise DecodeError("the Engine.IO OPEN packet's data must be an object")
        self.handshake = handshake
        self.sid = str(handshake.get("sid", ""))
        for key, attr in (("pingInterval", "ping_interval_s"), ("pingTimeout", "ping_timeout_s")):
            value = handshake.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                setattr(self, attr, value / 1000)
        self._last_ping = now
        self.event("open", f"Engine.IO open sid={self.sid} pingInterval={self.ping_interval_s * 1000:g} ms "
                           f"pingTimeout={self.ping_timeout_s * 1000:g} ms", handshake=handshake)
        for namespace, auth in self._auto:
            self._connect(namespace, auth)
        for queued in self._before_open:
            self.send_text(queued)
        self._before_open = []

    def _packet(self, data: str) -> None:
        if self._binary is not None:
            packet, _, found = self._binary
            self._binary = None
            self.event("error", f"Socket.IO: a {packet['type']} packet got {len(found)} of its "
                                f"{packet['attachments']} attachments before the next packet")
        packet = parse_socket_packet(data)
        if packet.get("attachments"):
            self._binary = (packet, packet["attachments"], [])
            return
        self._dispatch(packet)

    def _attachment(self, payload: bytes) -> None:
        if self._binary is None:
            self.event("event", f"binary message ({len(payload)} bytes)", event="", binary=payload.hex())
            return
        packet, count, found = self._binary
        found.append(payload)
        if len(found) == count:
            self._binary = None
            key = "args" if "args" in packet else "data"
            packet[key] = reconstruct(packet[key], found)
            self._dispatch(packet)

    def _dispatch(self, packet: dict[str, Any]) -> None:
        kind = packet["type"].removeprefix("BINARY_")
        namespace = packet["namespace"]
        where = "" if namespace == "/" else f" {namespace}"
        if kind == "CONNECT":
            data = packet.get("data")
            self.namespaces[namespace] = data.get("sid", "") if isinstance(data, dict) else ""
            self.event("connected", f"connected to {namespace}", namespace=namespace, data=data)
        elif kind == "CONNECT_ERROR":
            self.event("error", f"connect to {namespace} refused: {brief(packet.get('data'))}",
                       namespace=namespace, data=packet.get("data"))
        elif kind == "DISCONNECT":
            self.namespaces.pop(namespace, None)
            self.event("closed", f"the server disconnected {namespace}", namespace=namespace)
        elif kind == "EVENT":
            name, args = packet["event"], packet["args"]
            asks = f" (asks ack {packet['id']})" if "id" in packet else ""
            self.event("event", f"{name}{where} {brief(args)}{asks}", event=name, args=args, namespace=namespace,
                       ack=packet.get("id"), listened=name in self.listening)
        elif kind == "ACK":
            ack_id = packet.get("id")
            emitted = self.pending_acks.pop(ack_id, None) if isinstance(ack_id, int) else None
            if emitted is None:
                self.event("error", f"Socket.IO: an ACK {ack_id} that answers no emit", id=ack_id)
                return
            self.event("ack", f"ack {ack_id} for {emitted['event']}{where}: {brief(packet['data'])}", id=ack_id,
                       event=emitted["event"], emitted=emitted["args"], args=packet["data"], namespace=namespace)

    # -- keeping alive -----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        if self._last_ping is None or self._timed_out or self.closed:
            return None
        return self._last_ping + self.ping_interval_s + self.ping_timeout_s

    def _tick(self, now: float) -> None:
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            self._timed_out = True
            self.event("error", f"Socket.IO: no ping from the server for "
                                f"{self.ping_interval_s + self.ping_timeout_s:g} s: the server has given up")

    # -- verbs ---------------------------------------------------------------------------------------

    def _send_packet(self, text: str, attachments: Sequence[bytes] = ()) -> None:
        if not self.handshake:
            if attachments:
                raise ProtocolError("wait for the Engine.IO open before sending bytes")
            self._before_open.append(text)
            return
        self.send_text(text)
        for attachment in attachments:
            self.send_bytes(attachment)

    def _connect(self, namespace: str, auth: Any) -> None:
        body = "" if auth is None else json.dumps(auth, separators=(",", ":"), ensure_ascii=False)
        self.send_text(f"40{_nsp_prefix(namespace)}{body}")

    def emit(self, event: str, args: list[Any] | tuple[Any, ...] = (), ack: bool = False,
             namespace: str = "/") -> int | None:
        """Send ``event`` with ``args``; with ``ack`` the ack id its answer will carry."""
        if not event:
            raise ProtocolError("emit needs an event name")
        namespace = _normal_namespace(namespace)
        if not isinstance(args, list | tuple):
            args = [args]
        attachments: list[bytes] = []
        data = deconstruct([event, *args], attachments)
        ack_id = None
        if ack:
            ack_id = self._next_ack
            self._next_ack += 1
            self.pending_acks[ack_id] = {"event": event, "args": list(args), "namespace": namespace}
        head = f"45{len(attachments)}-" if attachments else "42"
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        self._send_packet(f"{head}{_nsp_prefix(namespace)}{'' if ack_id is None else ack_id}{body}", attachments)
        return ack_id

    def verb_emit(self, now: float, event: str, args: Any, ack: bool, namespace: str) -> int | None:
        return self.emit(event, args if args is not None else [], ack, namespace)

    def verb_connect(self, now: float, namespace: str, auth: Any) -> None:
        if auth is not None and not isinstance(auth, dict):
            raise ProtocolError("connect: auth must be a JSON object")
        namespace = _normal_namespace(namespace)
        if not self.handshake:
            self._auto.append((namespace, auth))
            return
        self._connect(namespace, auth)

    def verb_disconnect(self, now: float, namespace: str) -> None:
        namespace = _normal_namespace(namespace)
        self.namespaces.pop(namespace, None)
        self._send_packet(f"41{_nsp_prefix(namespace)}")

    def verb_ack(self, now: float, id: int, args: Any, namespace: str) -> None:
        attachments: list[bytes] = []
        data = deconstruct(args if isinstance(args, list) else [args], attachments)
        head = f"46{len(attachments)}-" if attachments else "43"
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        self._send_packet(f"{head}{_nsp_prefix(_normal_namespace(namespace))}{id}{body}", attachments)

    def verb_listen(self, now: float, event: str) -> None:
        self.listening.add(event)

    def verb_unlisten(self, now: float, event: str) -> None:
        self.listening.discard(event)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "emit": self.verb_emit,
            "connect": self.verb_connect,
            "disconnect": self.verb_disconnect,
            "ack": self.verb_ack,
            "listen": self.verb_listen,
            "unlisten": self.verb_unlisten,
        }
