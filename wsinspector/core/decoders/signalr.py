"""ASP.NET Core SignalR hub protocol: JSON (text frames, each message ended by the record separator 0x1E, several
per frame) and MessagePack (binary frames, each message prefixed by its length as a 7-bit varint).

Message types: 1 Invocation, 2 StreamItem, 3 Completion, 4 StreamInvocation, 5 CancelInvocation, 6 Ping,
7 Close, 8 Ack, 9 Sequence; the handshake (``{"protocol":"json","version":1}`` and the server's ``{}``) is JSON
whichever protocol follows it."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from wsinspector.core.decoders.base import (
    DecodeContext,
    Decoded,
    DecodeError,
    Decoder,
    FrameView,
    jsonable,
    short,
)
from wsinspector.core.decoders.formats import unpack_msgpack

RECORD_SEPARATOR = "\x1e"
TYPES = {1: "Invocation", 2: "StreamItem", 3: "Completion", 4: "StreamInvocation", 5: "CancelInvocation",
         6: "Ping", 7: "Close", 8: "Ack", 9: "Sequence"}
#: the fields of each MessagePack message type, in array order after the type
_MSGPACK_LAYOUT = {1: ("headers", "invocationId", "target", "arguments", "streamIds"),
                   2: ("headers", "invocationId", "item"),
                   3: ("headers", "invocationId", "resultKind", "result"),
                   4: ("headers", "invocationId", "target", "arguments", "streamIds"),
                   5: ("headers", "invocationId"), 6: (), 7: ("error", "allowReconnect"),
                   8: ("sequenceId",), 9: ("sequenceId",)}
_RESULT_KINDS = {1: "error", 2: "void", 3: "result"}


def _summary(message: dict[str, Any]) -> str:
    if "protocol" in message and "type" not in message:
        return f"HANDSHAKE {message['protocol']} v{message.get('version', '?')}"
    if "type" not in message:
        return f"HANDSHAKE error: {message['error']}" if message.get("error") else "HANDSHAKE ok"
    kind = TYPES.get(message["type"], f"type {message['type']}")
    ident = f" #{message['invocationId']}" if message.get("invocationId") is not None else ""
    if message["type"] in (1, 4):
        return f"{kind} {message.get('target', '?')}{ident} {short(message.get('arguments', []), 90)}"
    if message["type"] == 2:
        return f"{kind}{ident} {short(message.get('item'), 90)}"
    if message["type"] in (3, 7) and message.get("error"):
        return f"{kind}{ident} error: {short(message['error'], 80)}"
    if message["type"] == 3 and "result" in message:
        return f"{kind}{ident} {short(message['result'], 90)}"
    if message["type"] in (8, 9):
        ident = f" {message.get('sequenceId', '?')}"
    return f"{kind}{ident}"


def _checked(message: Any, where: str) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise DecodeError(f"{where} is not a SignalR message (a JSON object)")
    kind = message.get("type")
    if kind is None:
        if "protocol" in message or "error" in message or not message:
            return message
        raise DecodeError(f"{where} has no message type")
    if not isinstance(kind, int) or isinstance(kind, bool) or kind not in TYPES:
        raise DecodeError(f"{where} has type {short(kind, 20)}, not a SignalR message type (1-9)")
    return message


def split_json(text: str) -> list[dict[str, Any]]:
    """The messages of a JSON-protocol frame; DecodeError naming the one that is not a message."""
    if not text.endswith(RECORD_SEPARATOR):
        raise DecodeError("a SignalR JSON frame ends with the record separator 0x1E")
    messages = []
    for number, record in enumerate(text[:-1].split(RECORD_SEPARATOR), 1):
        try:
            value = json.loads(record)
        except json.JSONDecodeError as exc:
            raise DecodeError(f"message {number} is not JSON: {exc.msg} at character {exc.pos + 1}") from None
        messages.append(_checked(value, f"message {number}"))
    return messages


def split_msgpack(data: bytes) -> list[dict[str, Any]]:
    """The messages of a MessagePack-protocol frame (each length-prefixed); DecodeError naming the bad one."""
    messages = []
    pos = 0
    number = 0
    while pos < len(data):
        number += 1
        size = 0
        for shift in range(0, 35, 7):
            if pos >= len(data):
                raise DecodeError(f"message {number}'s length is cut off")
            byte = data[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        else:
            raise DecodeError(f"message {number}'s length is longer than 5 bytes")
        if pos + size > len(data):
            raise DecodeError(f"message {number} says {size} bytes, {len(data) - pos} remain")
        value = unpack_msgpack(data[pos:pos + size])
        pos += size
        if not isinstance(value, list) or not value or not isinstance(value[0], int) or value[0] not in TYPES:
            raise DecodeError(f"message {number} is not a SignalR message (an array starting with its type)")
        message: dict[str, Any] = {"type": value[0]}
        for name, item in zip(_MSGPACK_LAYOUT[value[0]], value[1:], strict=False):
            message[name] = jsonable(item)
        if value[0] == 3 and isinstance(message.get("resultKind"), int):
            kind = _RESULT_KINDS.get(message.pop("resultKind"), "result")
            if kind == "error":
                message["error"] = message.pop("result", None)
        messages.append(message)
    if not messages:
        raise DecodeError("the frame is empty")
    return messages


class SignalRDecoder(Decoder):
    """SignalR's JSON and MessagePack hub protocols: text frames are JSON, binary frames MessagePack."""

    name: ClassVar[str] = "signalr"
    title: ClassVar[str] = "SignalR"
    priority: ClassVar[int] = 30

    def sniff(self, frame: FrameView) -> bool:
        if not frame.text:
            try:
                split_msgpack(frame.payload)
            except DecodeError:
                return False
            return True
        if not frame.payload.endswith(b"\x1e"):
            return False
        try:
            split_json(frame.payload.decode("utf-8"))
        except (DecodeError, UnicodeDecodeError):
            return False
        return True

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        if frame.text or frame.payload.endswith(b"\x1e"):
            messages, encoding = split_json(frame.as_text()), "json"
        else:
            messages, encoding = split_msgpack(frame.payload), "messagepack"
        fields: dict[str, str] = {"type": ",".join(dict.fromkeys(
            TYPES.get(m.get("type", 0), "Handshake") for m in messages))}
        targets = [m["target"] for m in messages if isinstance(m.get("target"), str)]
        if targets:
            fields["target"] = fields["event"] = targets[0]
        ids = [str(m["invocationId"]) for m in messages if m.get("invocationId") is not None]
        if ids:
            fields["invocation"] = ids[0]
        summary = "; ".join(_summary(m) for m in messages[:4])
        if len(messages) > 4:
            summary += f"; … {len(messages)} messages"
        return Decoded(self.name, summary, {"encoding": encoding, "messages": messages}, fields)
