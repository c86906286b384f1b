"""MQTT 3.1.1 and 5.0 control packets: splitting a byte stream into packets, and reading one packet into a tree.

A password in CONNECT is never shown: the tree gives its length only."""

from __future__ import annotations

import json
from typing import Any

from wsinspector.core.decoders.base import DecodeError, short

TYPES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP",
         8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
         14: "DISCONNECT", 15: "AUTH"}
#: the fixed header's low four bits each type must have (PUBLISH's are its flags)
_FIXED_FLAGS = {6: 2, 8: 2, 10: 2}

# MQTT 5 properties: id -> (name, kind)
PROPERTIES = {
    0x01: ("payload_format", "u8"), 0x02: ("message_expiry", "u32"), 0x03: ("content_type", "str"),
    0x08: ("response_topic", "str"), 0x09: ("correlation_data", "bin"), 0x0B: ("subscription_id", "varint"),
    0x11: ("session_expiry", "u32"), 0x12: ("assigned_client_id", "str"), 0x13: ("server_keep_alive", "u16"),
    0x15: ("auth_method", "str"), 0x16: ("auth_data", "bin"), 0x17: ("request_problem_info", "u8"),
    0x18: ("will_delay", "u32"), 0x19: ("request_response_info", "u8"), 0x1A: ("response_info", "str"),
    0x1C: ("server_reference", "str"), 0x1F: ("reason_string", "str"), 0x21: ("receive_maximum", "u16"),
    0x22: ("topic_alias_maximum", "u16"), 0x23: ("topic_alias", "u16"), 0x24: ("maximum_qos", "u8"),
    0x25: ("retain_available", "u8"), 0x26: ("user_property", "pair"), 0x27: ("maximum_packet_size", "u32"),
    0x28: ("wildcard_subscription_available", "u8"), 0x29: ("subscription_ids_available", "u8"),
    0x2A: ("shared_subscription_available", "u8"),
}


def remaining_length(data: bytes, pos: int) -> tuple[int, int] | None:
    """(length, where the packet's variable header starts) from the byte after the type; None when cut off."""
    value = 0
    for shift in range(0, 28, 7):
        if pos >= len(data):
            return None
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    raise DecodeError("a remaining length longer than 4 bytes")


def split_packets(data: bytes) -> tuple[list[bytes], bytes, int]:
    """The whole packets at the start of ``data``, the incomplete rest, and the length the rest's packet will
    have (0 when not known yet). DecodeError when a packet header is not MQTT's."""
    packets: list[bytes] = []
    pos = 0
    while pos < len(data):
        kind, flags = data[pos] >> 4, data[pos] & 0x0F
        wrong_flags = (kind == 3 and flags & 6 == 6) or (kind != 3 and flags != _FIXED_FLAGS.get(kind, 0))
        if kind not in TYPES or wrong_flags:
            raise DecodeError(f"byte {pos} (0x{data[pos]:02x}) is not an MQTT packet type")
        found = remaining_length(data, pos + 1)
        if found is None:
            return packets, data[pos:], 0
        length, body = found
        if body + length > len(data):
            return packets, data[pos:], body - pos + length
        packets.append(data[pos:body + length])
        pos = body + length
    return packets, b"", 0


class _Reader:
    def __init__(self, data: bytes, pos: int, kind: str) -> None:
        self.data, self.pos, self.kind = data, pos, kind

    def take(self, size: int, what: str) -> bytes:
        if self.pos + size > len(self.data):
            raise DecodeError(f"the {self.kind} packet is cut off in its {what}")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        return int.from_bytes(self.take(2, what), "big")

    def u32(self, what: str) -> int:
        return int.from_bytes(self.take(4, what), "big")

    def varint(self, what: str) -> int:
        found = remaining_length(self.data, self.pos)
        if found is None:
            raise DecodeError(f"the {self.kind} packet is cut off in its {what}")
        value, self.pos = found
        return value

    def binary(self, what: str) -> bytes:
        return self.take(self.u16(what), what)

    def text(self, what: str) -> str:
        try:
            return self.binary(what).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError(f"the {self.kind} packet's {what} is not UTF-8") from None

    def left(self) -> int:
        return len(self.data) - self.pos

    def properties(self) -> dict[str, Any]:
        end = self.varint("properties length")
        end += self.pos
        if end > len(self.data):
            raise DecodeError(f"the {self.kind} packet's properties run past its end")
        props: dict[str, Any] = {}
        while self.pos < end:
            ident = self.varint("property id")
            if ident not in PROPERTIES:
                raise DecodeError(f"the {self.kind} packet has an unknown property 0x{ident:02x}")
            name, kind = PROPERTIES[ident]
            value: Any
            if kind == "pair":
                value = [self.text(name), self.text(name)]
                props.setdefault(name, []).append(value)
                continue
            value = self.binary(name).hex() if kind == "bin" else {
                "u8": self.u8, "u16": self.u16, "u32": self.u32, "varint": self.varint, "str": self.text}[kind](name)
            props[name] = value
        if self.pos != end:
            raise DecodeError(f"the {self.kind} packet's properties do not end where their length says")
        return props


def payload_view(payload: bytes) -> Any:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return {"$bytes": payload.hex()}
    if text[:1] in ("{", "["):
        try:
            return {"json": json.loads(text)}
        except (ValueError, RecursionError):
            pass
    return text


def parse_packet(packet: bytes, version: int) -> dict[str, Any]:
    """One whole packet as a tree; ``version`` 5 for MQTT 5 (CONNECT says its own)."""
    kind_id, flags = packet[0] >> 4, packet[0] & 0x0F
    kind = TYPES[kind_id]
    found = remaining_length(packet, 1)
    assert found is not None  # split_packets gave a whole packet
    reader = _Reader(packet, found[1], kind)
    if kind_id != 3 and flags != _FIXED_FLAGS.get(kind_id, 0):
        raise DecodeError(f"the {kind} packet has reserved flags 0x{flags:x}")
    tree: dict[str, Any] = {"type": kind}
    v5 = version == 5
    if kind_id == 1:
        return _connect(reader, tree)
    if kind_id == 2:
        tree["session_present"] = bool(reader.u8("flags") & 1)
        tree["reason_code" if v5 else "return_code"] = reader.u8("return code")
        if v5 and reader.left():
            tree["properties"] = reader.properties()
    elif kind_id == 3:
        _publish(reader, tree, flags, v5)
    elif kind_id in (4, 5, 6, 7, 11):
        _acknowledgement(reader, tree, kind_id, v5)
    elif kind_id in (8, 9, 10):
        _subscriptions(reader, tree, kind_id, v5)
    elif kind_id in (14, 15) and reader.left():
        tree["reason_code"] = reader.u8("reason code")
        if reader.left():
            tree["properties"] = reader.properties()
    if reader.left():
        raise DecodeError(f"the {kind} packet has {reader.left()} bytes after its end")
    return tree


def _acknowledgement(reader: _Reader, tree: dict[str, Any], kind_id: int, v5: bool) -> None:
    tree["packet_id"] = reader.u16("packet id")
    if v5 and kind_id != 11 and reader.left():
        tree["reason_code"] = reader.u8("reason code")
    if v5 and reader.left():
        tree["properties"] = reader.properties()
    if kind_id == 11 and v5:
        tree["reason_codes"] = list(reader.take(reader.left(), "reason codes"))


def _connect(reader: _Reader, tree: dict[str, Any]) -> dict[str, Any]:
    name = reader.text("protocol name")
    level = reader.u8("protocol level")
    if name not in ("MQTT", "MQIsdp") or level not in (3, 4, 5):
        raise DecodeError(f"CONNECT for protocol {short(name, 20)} level {level}, not MQTT 3.1, 3.1.1 or 5")
    flags = reader.u8("connect flags")
    tree.update(protocol=name, level=level, version={3: "3.1", 4: "3.1.1", 5: "5.0"}[level],
                clean_start=bool(flags & 2), keep_alive=reader.u16("keep alive"))
    if level == 5:
        tree["properties"] = reader.properties()
    tree["client_id"] = reader.text("client id")
    if flags & 4:
        will: dict[str, Any] = {"qos": (flags >> 3) & 3, "retain": bool(flags & 0x20)}
        if level == 5:
            will["properties"] = reader.properties()
        will["topic"] = reader.text("will topic")
        will["payload"] = payload_view(reader.binary("will payload"))
        tree["will"] = will
    if flags & 0x80:
        tree["username"] = reader.text("user name")
    if flags & 0x40:
        tree["password"] = f"({len(reader.binary('password'))} bytes, not shown)"
    if reader.left():
        raise DecodeError(f"the CONNECT packet has {reader.left()} bytes after its end")
    return tree


def _publish(reader: _Reader, tree: dict[str, Any], flags: int, v5: bool) -> None:
    qos = (flags >> 1) & 3
    if qos == 3:
        raise DecodeError("the PUBLISH packet has QoS 3")
    tree.update(topic=reader.text("topic"), qos=qos, retain=bool(flags & 1), dup=bool(flags & 8))
    if qos:
        tree["packet_id"] = reader.u16("packet id")
    if v5:
        tree["properties"] = reader.properties()
    payload = reader.take(reader.left(), "payload")
    tree["size"] = len(payload)
    tree["payload"] = payload_view(payload)


def _subscriptions(reader: _Reader, tree: dict[str, Any], kind_id: int, v5: bool) -> None:
    tree["packet_id"] = reader.u16("packet id")
    if v5:
        tree["properties"] = reader.properties()
    if kind_id == 9:
        tree["return_codes"] = list(reader.take(reader.left(), "return codes"))
        return
    topics = []
    while reader.left():
        topic = reader.text("topic filter")
        if kind_id == 8:
            options = reader.u8("subscription options")
            topics.append({"topic": topic, "qos": options & 3, **({"options": options} if v5 else {})})
        else:
            topics.append({"topic": topic})
    if not topics:
        raise DecodeError(f"the {tree['type']} packet names no topic")
    tree["topics"] = topics


def packet_summary(tree: dict[str, Any]) -> str:
    kind = tree["type"]
    ident = f" id={tree['packet_id']}" if "packet_id" in tree else ""
    if kind == "CONNECT":
        return f"CONNECT client={tree['client_id'] or '(none)'} v{tree['version']} keepalive={tree['keep_alive']}"
    if kind == "CONNACK":
        return f"CONNACK rc={tree.get('reason_code', tree.get('return_code'))}" + (
            " session-present" if tree["session_present"] else "")
    if kind == "PUBLISH":
        payload = tree["payload"]
        shown = short(payload["json"] if isinstance(payload, dict) and "json" in payload else payload, 60)
        return f"PUBLISH {tree['topic']} qos{tree['qos']}{ident}{' retain' if tree['retain'] else ''} {shown}"
    if kind in ("SUBSCRIBE", "UNSUBSCRIBE"):
        topics = " ".join(t["topic"] + (f" qos{t['qos']}" if "qos" in t else "") for t in tree["topics"])
        return f"{kind} {topics}{ident}"
    if kind == "SUBACK":
        return f"SUBACK{ident} {tree['return_codes']}"
    return f"{kind}{ident}" + (f" rc={tree['reason_code']}" if "reason_code" in tree else "")
