"""STOMP 1.0, 1.1 and 1.2 over WebSocket: ``COMMAND``, header lines, a blank line, the body and a NUL; an
end-of-line alone is a heart-beat. A frame may hold several STOMP frames. Header values are unescaped as 1.1
and 1.2 say (``\\n``, ``\\r``, ``\\c``, ``\\\\``; never in CONNECT and CONNECTED); ``content-length`` bounds a body
that may hold NULs."""

from __future__ import annotations

from typing import Any, ClassVar

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView, short
from wsinspector.core.decoders.formats import json_value

CLIENT_COMMANDS = ("CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT",
                   "ABORT", "DISCONNECT")
SERVER_COMMANDS = ("CONNECTED", "MESSAGE", "RECEIPT", "ERROR")
COMMANDS = frozenset(CLIENT_COMMANDS + SERVER_COMMANDS)
_ESCAPES = {"n": "\n", "r": "\r", "c": ":", "\\": "\\"}


def _unescape(value: str, where: str) -> str:
    out = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped not in _ESCAPES:
            raise DecodeError(f"{where}: \\{escaped} is not a STOMP escape")
        out.append(_ESCAPES[escaped])
    return "".join(out)


def _head(head: bytes) -> tuple[str, list[list[str]]]:
    try:
        lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
    except UnicodeDecodeError:
        raise DecodeError("the command and headers are not UTF-8") from None
    command = lines[0]
    if command not in COMMANDS:
        raise DecodeError(f"{short(command, 30)} is not a STOMP command")
    headers: list[list[str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise DecodeError(f"the header line {short(line, 40)} has no ':'")
        if command not in ("CONNECT", "CONNECTED"):
            name, value = _unescape(name, "a header name"), _unescape(value, f"header {name}")
        headers.append([name, value])
    return command, headers


def _frame_at(data: bytes, pos: int) -> tuple[dict[str, Any], int]:
    head_end = data.find(b"\n\n", pos)
    head_end_cr = data.find(b"\r\n\r\n", pos)
    if head_end_cr != -1 and (head_end == -1 or head_end_cr < head_end):
        head, body_at = data[pos:head_end_cr], head_end_cr + 4
    elif head_end != -1:
        head, body_at = data[pos:head_end], head_end + 2
    else:
        raise DecodeError("the headers are not ended by a blank line")
    command, headers = _head(head)
    first: dict[str, str] = {}
    for name, value in headers:  # the first of a repeated header is the one that counts
        first.setdefault(name, value)
    length = first.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise DecodeError(f"content-length {short(length, 20)} is not a number")
        end = body_at + int(length)
        if end >= len(data) or data[end] != 0:
            raise DecodeError(f"the body is not {length} bytes followed by a NUL")
    else:
        end = data.find(b"\0", body_at)
        if end == -1:
            raise DecodeError(f"the {command} frame is not ended by a NUL")
    frame = {"command": command, "headers": headers, "body": _body(data[body_at:end], first)}
    pos = end + 1
    while data[pos:pos + 1] in (b"\n", b"\r"):  # end-of-lines after the NUL (heart-beats)
        pos += 1
    return frame, pos


def _body(raw: bytes, headers: dict[str, str]) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"$bytes": raw.hex()}
    if "json" in headers.get("content-type", "") and text:
        try:
            return {"json": json_value(text)}
        except DecodeError:
            pass
    return text


def parse_frames(data: bytes) -> list[dict[str, Any]]:
    """The STOMP frames (or heart-beats) of one WebSocket message."""
    if data.strip(b"\r\n") == b"":
        if not data:
            raise DecodeError("an empty frame is not STOMP")
        return [{"command": "HEARTBEAT"}]
    frames = []
    pos = 0
    while pos < len(data) and data[pos:pos + 1] in (b"\n", b"\r"):
        pos += 1
    while pos < len(data):
        frame, pos = _frame_at(data, pos)
        frames.append(frame)
    return frames


def _summary(frame: dict[str, Any]) -> str:
    command = frame["command"]
    if command == "HEARTBEAT":
        return "HEARTBEAT"
    headers = dict(reversed(frame["headers"]))
    if command in ("CONNECT", "STOMP"):
        return (f"{command} host={headers.get('host', '?')} accept-version={headers.get('accept-version', '1.0')}"
                + (f" heart-beat={headers['heart-beat']}" if "heart-beat" in headers else ""))
    if command == "CONNECTED":
        return f"CONNECTED version={headers.get('version', '1.0')}"
    if command == "ERROR":
        return f"ERROR {headers.get('message', '')} {short(frame['body'], 60)}".rstrip()
    if command == "RECEIPT":
        return f"RECEIPT {headers.get('receipt-id', '')}".rstrip()
    if command in ("ACK", "NACK"):
        return f"{command} {headers.get('id', headers.get('message-id', ''))}".rstrip()
    parts = [command]
    if "destination" in headers:
        parts.append(headers["destination"])
    if command in ("SUBSCRIBE", "UNSUBSCRIBE") and "id" in headers:
        parts.append(f"id={headers['id']}")
    body = frame["body"]
    if body:
        parts.append(short(body["json"] if isinstance(body, dict) and "json" in body else body, 80))
    return " ".join(parts)


class StompDecoder(Decoder):
    """STOMP over WebSocket (``v10.stomp``, ``v11.stomp``, ``v12.stomp``)."""

    name: ClassVar[str] = "stomp"
    title: ClassVar[str] = "STOMP"
    priority: ClassVar[int] = 30
    subprotocols: ClassVar[tuple[str, ...]] = ("v12.stomp", "v11.stomp", "v10.stomp", "stomp")

    def sniff(self, frame: FrameView) -> bool:
        command = frame.payload[:12].split(b"\n", 1)[0].rstrip(b"\r")
        return command.decode("ascii", "replace") in COMMANDS and b"\0" in frame.payload

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        frames = parse_frames(frame.payload)
        fields: dict[str, str] = {"type": frames[0]["command"]}
        for item in frames:
            for name, value in item.get("headers", ()):
                key = {"destination": "destination", "subscription": "subscription", "receipt": "receipt",
                       "receipt-id": "receipt", "message-id": "message-id"}.get(name)
                if key and key not in fields:
                    fields[key] = value
        summary = "; ".join(_summary(item) for item in frames)
        return Decoded(self.name, summary, {"frames": frames}, fields)
