"""The self-describing formats: JSON, MessagePack (``msgpack``) and CBOR (``cbor2``).

A frame is one value. The tree is that value as JSON (bytes as ``{"$bytes": hex}``, non-string map keys as their
JSON text); the summary is its compact JSON; ``fields`` are the top-level string members that commonly name a
message (``type``, ``event``, ``op``, ``action``, ``channel``, ``topic``)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import cbor2
import msgpack

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView, jsonable, short

#: top-level members that name what a message is, offered to filters
NAMING_KEYS = ("type", "event", "op", "action", "channel", "topic", "method", "id")


def naming_fields(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {key: str(value[key]) for key in NAMING_KEYS
            if isinstance(value.get(key), str | int) and not isinstance(value.get(key), bool)}


def json_value(text: str) -> Any:
    """The one JSON value of ``text``; DecodeError saying where it stops being JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise DecodeError("not JSON this deep (nested too far)") from None


def _looks_structured(value: Any) -> bool:
    return isinstance(value, dict | list)


class JsonDecoder(Decoder):
    """A JSON value per frame (text, or binary that is UTF-8 JSON)."""

    name: ClassVar[str] = "json"
    title: ClassVar[str] = "JSON"
    priority: ClassVar[int] = 0
    subprotocols: ClassVar[tuple[str, ...]] = ("json",)

    def sniff(self, frame: FrameView) -> bool:
        head = frame.payload[:1]
        if head not in (b"{", b"["):
            return False
        try:
            return _looks_structured(json.loads(frame.payload))
        except (ValueError, RecursionError):
            return False

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        value = json_value(frame.as_text())
        return Decoded(self.name, short(value, 120), value, naming_fields(value))


class MsgpackDecoder(Decoder):
    """A MessagePack value per binary frame."""

    name: ClassVar[str] = "msgpack"
    title: ClassVar[str] = "MessagePack"
    priority: ClassVar[int] = -10
    subprotocols: ClassVar[tuple[str, ...]] = ("msgpack", "messagepack")

    def sniff(self, frame: FrameView) -> bool:
        if frame.text or not frame.payload or not (0x80 <= frame.payload[0] <= 0x9F or frame.payload[0] in
                                                   (0xDC, 0xDD, 0xDE, 0xDF)):
            return False
        try:
            return _looks_structured(unpack_msgpack(frame.payload))
        except DecodeError:
            return False

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        value = jsonable(unpack_msgpack(frame.payload))
        return Decoded(self.name, short(value, 120), value, naming_fields(value))


def _pairs(pairs: list[tuple[Any, Any]]) -> Any:
    """A map as a dict; one whose keys are arrays or maps (valid MessagePack, no dict) as its list of pairs."""
    try:
        return dict(pairs)
    except TypeError:
        return {"$pairs": [list(pair) for pair in pairs]}


def unpack_msgpack(data: bytes) -> Any:
    """One MessagePack value filling ``data``; DecodeError in one line when it is not that."""
    if not data:
        raise DecodeError("not MessagePack: the frame is empty")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False, timestamp=3, object_pairs_hook=_pairs)
    except msgpack.ExtraData as exc:
        raise DecodeError(f"not one MessagePack value: {len(exc.extra)} bytes follow the first") from None
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        # UnicodeDecodeError and the unpacker's own errors (truncated data, reserved bytes) are ValueErrors
        raise DecodeError(f"not MessagePack: {_first_line(exc)}") from None
    except RecursionError:
        raise DecodeError("not MessagePack this deep (nested too far)") from None


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] or type(exc).__name__


class CborDecoder(Decoder):
    """A CBOR data item per binary frame (RFC 8949)."""

    name: ClassVar[str] = "cbor"
    title: ClassVar[str] = "CBOR"
    priority: ClassVar[int] = -20
    subprotocols: ClassVar[tuple[str, ...]] = ("cbor",)

    def sniff(self, frame: FrameView) -> bool:
        # a top-level map or array (major types 4 and 5), as messages are
        if frame.text or not frame.payload or not 0x80 <= frame.payload[0] <= 0xBF:
            return False
        try:
            return _looks_structured(load_cbor(frame.payload))
        except DecodeError:
            return False

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        value = jsonable(load_cbor(frame.payload))
        return Decoded(self.name, short(value, 120), value, naming_fields(value))


def load_cbor(data: bytes) -> Any:
    """The one CBOR data item filling ``data``; DecodeError in one line when it is not that."""
    if not data:
        raise DecodeError("not CBOR: the frame is empty")
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, LookupError) as exc:
        raise DecodeError(f"not CBOR: {_first_line(exc)}") from None
    except (RecursionError, MemoryError):
        raise DecodeError("not CBOR: nested too far or too large") from None
    if stream.tell() != len(data):
        raise DecodeError(f"not one CBOR item: {len(data) - stream.tell()} bytes follow the first")
    return value
