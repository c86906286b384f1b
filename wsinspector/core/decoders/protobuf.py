"""Protocol Buffers: the wire format read without a schema (field numbers, wire types, values; a length-delimited
field shown as a nested message, text or bytes, whichever it reads as), and with named fields when the
connection gives a descriptor set (``protoc --include_imports --descriptor_set_out=schema.desc x.proto``) and the
full name of the message type each frame holds (options ``descriptors`` and ``message``).

A ``.proto`` file itself is not compiled here: that needs ``protoc`` (docs/decoders.md says how)."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError as ProtobufError

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView, short

WIRE_TYPES = {0: "varint", 1: "i64", 2: "len", 5: "i32"}
_MAX_DEPTH = 16
_MAX_FIELD = (1 << 29) - 1


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise DecodeError(f"a varint is cut off at byte {pos}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if result >= 1 << 64:
                raise DecodeError(f"a varint ending at byte {pos} is longer than 64 bits")
            return result, pos
    raise DecodeError(f"a varint ending at byte {pos} is longer than 10 bytes")


def _len_value(chunk: bytes, depth: int) -> Any:
    """Printable text as a string (a nested message nearly always has bytes below 0x20: its tags and
    lengths), else a nested message when it reads as one, else bytes."""
    try:
        text = chunk.decode("utf-8")
        if text.isprintable():
            return {"string": text}
    except UnicodeDecodeError:
        pass
    if chunk and depth < _MAX_DEPTH:
        try:
            return {"message": wire_fields(chunk, depth + 1)}
        except DecodeError:
            pass
    return {"bytes": chunk.hex()}


def wire_fields(data: bytes, depth: int = 0) -> list[dict[str, Any]]:
    """The fields of a message in wire order, without a schema; DecodeError where the bytes stop being one."""
    fields: list[dict[str, Any]] = []
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if not 1 <= number <= _MAX_FIELD:
            raise DecodeError(f"field number {number} at byte {start} is not a valid field number")
        if wire == 0:
            value: Any
            value, pos = _varint(data, pos)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > len(data):
                raise DecodeError(f"field {number} at byte {start} is cut off")
            raw = data[pos:pos + size]
            pos += size
            as_int = int.from_bytes(raw, "little")
            as_float = struct.unpack("<d" if wire == 1 else "<f", raw)[0]
            value = {"int": as_int, "float": as_float if math.isfinite(as_float) else str(as_float)}
            if math.isfinite(as_float) and (as_float == 0 or 1e-9 < abs(as_float) < 1e15):
                value["likely"] = "float"
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise DecodeError(f"field {number} at byte {start} says {size} bytes, {len(data) - pos} remain")
            value = _len_value(data[pos:pos + size], depth)
            pos += size
        else:
            raise DecodeError(f"field {number} at byte {start} has wire type {wire}, "
                              "which messages do not use (groups are not read)")
        fields.append({"field": number, "wire": WIRE_TYPES[wire], "value": value})
    return fields


def _wire_summary(fields: list[dict[str, Any]]) -> str:
    parts = []
    for item in fields[:6]:
        value = item["value"]
        if isinstance(value, dict):
            value = value.get("string", value.get("float" if value.get("likely") else "int",
                                                  "{…}" if "message" in value else "bytes"))
        parts.append(f"{item['field']}:{short(value, 24)}")
    more = f" …(+{len(fields) - 6})" if len(fields) > 6 else ""
    return "{" + " ".join(parts) + more + "}"


class ProtobufDecoder(Decoder):
    """Protocol Buffers, with or without a schema. Never guessed from content: chosen by name or subprotocol."""

    name: ClassVar[str] = "protobuf"
    title: ClassVar[str] = "Protocol Buffers"
    priority: ClassVar[int] = -30
    subprotocols: ClassVar[tuple[str, ...]] = ("protobuf", "proto")

    def __init__(self, message_class: Any = None, message_name: str = "") -> None:
        self._message_class = message_class
        self._message_name = message_name

    def with_options(self, options: Mapping[str, str]) -> ProtobufDecoder:
        """Options ``descriptors`` (a descriptor set file) and ``message`` (a full message name in it)."""
        unknown = sorted(set(options) - {"descriptors", "message"})
        if unknown:
            raise DecodeError(f"the protobuf decoder takes descriptors= and message=, not {', '.join(unknown)}")
        path, message = options.get("descriptors", ""), options.get("message", "")
        if not path and not message:
            return self
        if not path or not message:
            raise DecodeError("the protobuf decoder needs both descriptors= (a descriptor set) and message=")
        return ProtobufDecoder(load_message_class(Path(path), message), message)

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        if not frame.payload:
            return Decoded(self.name, "(empty message)", {"wire": []}, {})
        wire = wire_fields(frame.payload)
        tree: dict[str, Any] = {"wire": wire}
        fields: dict[str, str] = {}
        if self._message_class is not None:
            named = self._named(frame.payload)
            tree = {"message": self._message_name, "fields": named, "wire": wire}
            fields = {"type": self._message_name}
            return Decoded(self.name, f"{self._message_name} {short(named, 100)}", tree, fields)
        return Decoded(self.name, _wire_summary(wire), tree, fields)

    def _named(self, payload: bytes) -> Any:
        message = self._message_class()
        try:
            message.ParseFromString(payload)
        except (ProtobufError, ValueError, RuntimeError) as exc:
            raise DecodeError(f"not a {self._message_name}: {' '.join(str(exc).split()) or 'malformed'}") from None
        return json_format.MessageToDict(message, preserving_proto_field_name=True)


def load_message_class(path: Path, message: str) -> Any:
    """The message class named ``message`` in the descriptor set at ``path``; DecodeError in one line."""
    if path.suffix == ".proto":
        raise DecodeError(f"{path.name} is a .proto source: compile it to a descriptor set first (protoc "
                          f"--include_imports --descriptor_set_out={path.stem}.desc {path.name})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DecodeError(f"cannot read the descriptor set {path}: {exc.strerror or exc}") from None
    files = descriptor_pb2.FileDescriptorSet()
    try:
        files.ParseFromString(data)
    except (ProtobufError, ValueError) as exc:
        raise DecodeError(f"{path.name} is not a descriptor set ({' '.join(str(exc).split())})") from None
    pool = descriptor_pool.DescriptorPool()
    try:
        for file in files.file:
            pool.Add(file)
        descriptor = pool.FindMessageTypeByName(message)
    except KeyError:
        known = [f"{file.package + '.' if file.package else ''}{m.name}" for file in files.file
                 for m in file.message_type]
        raise DecodeError(f"{path.name} has no message {message!r} (it has {', '.join(known) or 'none'})") from None
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"{path.name} cannot be used: {' '.join(str(exc).split())}") from None
    return message_factory.GetMessageClass(descriptor)
