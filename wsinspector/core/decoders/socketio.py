"""Engine.IO v4 and Socket.IO v5 over the WebSocket transport.

An Engine.IO text packet is a type digit and its data (``0`` open, ``1`` close, ``2`` ping, ``3`` pong,
``4`` message, ``5`` upgrade, ``6`` noop); a binary frame is a message of bytes. A Socket.IO packet rides in a
message: ``<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`` (``0`` CONNECT, ``1`` DISCONNECT, ``2``
EVENT, ``3`` ACK, ``4`` CONNECT_ERROR, ``5`` BINARY_EVENT, ``6`` BINARY_ACK). A binary event's attachments are
the binary frames that follow it the same way: the event is shown with them joined into its arguments, and each
attachment names its event (both read from the session around the frame)."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from wsinspector.core.decoders.base import (
    DecodeContext,
    Decoded,
    DecodeError,
    Decoder,
    FrameView,
    short,
)

ENGINE_TYPES = {"0": "OPEN", "1": "CLOSE", "2": "PING", "3": "PONG", "4": "MESSAGE", "5": "UPGRADE", "6": "NOOP"}
SOCKET_TYPES = {"0": "CONNECT", "1": "DISCONNECT", "2": "EVENT", "3": "ACK", "4": "CONNECT_ERROR",
                "5": "BINARY_EVENT", "6": "BINARY_ACK"}
_HEAD = re.compile(r"(?P<type>[0-6])(?:(?P<attachments>[0-9]+)-)?(?P<nsp>/[^,]*,|/[^,]*$)?(?P<ack>[0-9]+)?")
_MAX_ATTACHMENTS = 64


def parse_socket_packet(text: str) -> dict[str, Any]:
    """A Socket.IO packet (the part after Engine.IO's ``4``) as a tree; DecodeError when it is not one."""
    head = _HEAD.match(text)
    if head is None:
        raise DecodeError(f"not a Socket.IO packet: {text[:1]!r} is not a packet type (0-6)")
    kind = SOCKET_TYPES[head["type"]]
    tree: dict[str, Any] = {"type": kind, "namespace": (head["nsp"] or "/").rstrip(",")}
    if head["attachments"] is not None:
        if kind not in ("BINARY_EVENT", "BINARY_ACK"):
            raise DecodeError(f"a {kind} packet cannot have attachments")
        tree["attachments"] = int(head["attachments"])
    if head["ack"] is not None:
        tree["id"] = int(head["ack"])
    rest = text[head.end():]
    if rest:
        try:
            data = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise DecodeError(f"the {kind} packet's data is not JSON: {exc.msg} at character "
                              f"{head.end() + exc.pos + 1}") from None
        _check_data(kind, data)
        tree["data"] = data
    elif kind in ("EVENT", "BINARY_EVENT", "ACK", "BINARY_ACK"):
        raise DecodeError(f"a {kind} packet needs its data (a JSON array)")
    if kind in ("EVENT", "BINARY_EVENT"):
        tree["event"] = tree["data"][0]
        tree["args"] = tree["data"][1:]
    return tree


def _check_data(kind: str, data: Any) -> None:
    if kind in ("EVENT", "BINARY_EVENT"):
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise DecodeError(f"an {kind} packet's data must be an array starting with the event name")
    elif kind in ("ACK", "BINARY_ACK"):
        if not isinstance(data, list):
            raise DecodeError(f"an {kind} packet's data must be an array")
    elif kind in ("CONNECT", "CONNECT_ERROR") and not isinstance(data, dict | str):
        raise DecodeError(f"a {kind} packet's data must be an object")


def _joined(value: Any, attachments: list[bytes]) -> Any:
    """The arguments with each ``{"_placeholder": true, "num": n}`` replaced by attachment n (as hex)."""
    if isinstance(value, dict):
        if value.get("_placeholder") is True and isinstance(value.get("num"), int):
            num = value["num"]
            return {"$bytes": attachments[num].hex()} if 0 <= num < len(attachments) else value
        return {key: _joined(item, attachments) for key, item in value.items()}
    if isinstance(value, list):
        return [_joined(item, attachments) for item in value]
    return value


def _socket_summary(tree: dict[str, Any]) -> str:
    kind = tree["type"].removeprefix("BINARY_")
    nsp = tree["namespace"]
    where = f" {nsp}" if nsp != "/" else ""
    ack = f" ack {tree['id']}" if "id" in tree and kind == "EVENT" else ""
    if kind == "EVENT":
        args = short(tree["args"], 100)
        binary = f" (+{tree['attachments']} binary)" if tree.get("attachments") else ""
        return f"EVENT{where} {tree['event']} {args}{ack}{binary}"
    if kind == "ACK":
        return f"ACK{where} {tree.get('id', '?')} {short(tree.get('data'), 100)}"
    data = f" {short(tree['data'], 100)}" if "data" in tree else ""
    return f"{kind} {nsp}{data}"


class SocketIoDecoder(Decoder):
    """Socket.IO v5 packets inside Engine.IO v4 (the WebSocket transport)."""

    name: ClassVar[str] = "socket.io"
    title: ClassVar[str] = "Socket.IO"
    priority: ClassVar[int] = 40
    url_patterns: ClassVar[tuple[str, ...]] = (r"/socket\.io/?\?(?:[^#]*&)?EIO=4", r"/engine\.io/?\?(?:[^#]*&)?EIO=4")

    def sniff(self, frame: FrameView) -> bool:
        if not frame.text:
            return False
        payload = frame.payload
        if payload.startswith(b'0{"sid"') or payload in (b"2probe", b"3probe"):
            return True
        if len(payload) >= 2 and payload[:1] == b"4" and payload[1:2] in b"0123456":
            try:
                parse_socket_packet(payload[1:].decode("utf-8"))
            except (DecodeError, UnicodeDecodeError):
                return False
            return True
        return False

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        if not frame.text:
            return self._binary(frame, context)
        text = frame.as_text()
        if not text:
            raise DecodeError("an empty frame is not an Engine.IO packet")
        engine = ENGINE_TYPES.get(text[0])
        if engine is None:
            raise DecodeError(f"not an Engine.IO packet: {text[0]!r} is not a packet type (0-6)")
        data = text[1:]
        if engine != "MESSAGE":
            return self._engine(engine, data)
        tree = parse_socket_packet(data)
        if tree.get("attachments"):
            found = self._attachments(frame, context, tree["attachments"])
            tree["attachments_found"] = len(found)
            if len(found) == tree["attachments"]:
                tree["args" if "args" in tree else "data"] = _joined(tree.get("args", tree.get("data")), found)
        tree = {"engineio": "MESSAGE", "socketio": tree}
        return Decoded(self.name, _socket_summary(tree["socketio"]), tree, _fields(tree["socketio"]))

    def _engine(self, engine: str, data: str) -> Decoded:
        tree: dict[str, Any] = {"engineio": engine}
        summary = engine
        if engine == "OPEN":
            try:
                handshake = json.loads(data)
            except json.JSONDecodeError as exc:
                raise DecodeError(f"the Engine.IO OPEN packet's data is not JSON: {exc.msg}") from None
            if not isinstance(handshake, dict):
                raise DecodeError("the Engine.IO OPEN packet's data must be an object")
            tree["handshake"] = handshake
            summary = f"OPEN sid={handshake.get('sid', '?')} pingInterval={handshake.get('pingInterval', '?')}"
        elif data:
            tree["data"] = data
            summary = f"{engine} {short(data, 60)}"
        return Decoded(self.name, summary, tree, {"type": engine})

    def _attachments(self, frame: FrameView, context: DecodeContext, count: int) -> list[bytes]:
        found: list[bytes] = []
        for later in context.after(frame, min(count, _MAX_ATTACHMENTS)):
            if later.text:
                break
            found.append(later.payload)
        return found

    def _binary(self, frame: FrameView, context: DecodeContext) -> Decoded:
        """A binary frame: an attachment of the binary event before it, else a message of bytes."""
        position = 1
        for earlier in context.before(frame, _MAX_ATTACHMENTS):
            if not earlier.text:
                position += 1
                continue
            event = self._binary_event(earlier)
            if event is not None and position <= event.get("attachments", 0):
                kind = event["type"].removeprefix("BINARY_")
                name = event.get("event", event.get("id", ""))
                tree = {"engineio": "MESSAGE", "attachment": position, "of": event["attachments"],
                        "packet": kind, "event": name, "namespace": event["namespace"], "size": len(frame.payload)}
                fields = {"type": "ATTACHMENT", "namespace": event["namespace"]}
                if "event" in event:
                    fields["event"] = event["event"]
                return Decoded(self.name, f"ATTACHMENT {position}/{event['attachments']} of {kind} {name} "
                               f"({len(frame.payload)} bytes)", tree, fields)
            break
        tree = {"engineio": "MESSAGE", "binary": frame.payload[:64].hex(), "size": len(frame.payload)}
        return Decoded(self.name, f"MESSAGE binary ({len(frame.payload)} bytes)", tree, {"type": "MESSAGE"})

    @staticmethod
    def _binary_event(frame: FrameView) -> dict[str, Any] | None:
        if not frame.payload.startswith((b"45", b"46")):
            return None
        try:
            return parse_socket_packet(frame.payload[1:].decode("utf-8"))
        except (DecodeError, UnicodeDecodeError):
            return None


def _fields(tree: dict[str, Any]) -> dict[str, str]:
    fields = {"type": tree["type"], "namespace": tree["namespace"]}
    if "event" in tree:
        fields["event"] = tree["event"]
    if "id" in tree:
        fields["ack"] = str(tree["id"])
    return fields
