"""MQTT 3.1.1 and 5.0 over WebSocket (subprotocol ``mqtt``). The WebSocket messages of each direction are one
byte stream: a packet may span frames and a frame may hold several packets. A frame is decoded with the bytes
of the packet the earlier frames of its direction left unfinished (found by reading the session forward once
and remembered), and says which of its packets began earlier or go on later."""

from __future__ import annotations

from typing import Any, ClassVar

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView
from wsinspector.core.decoders.mqtt_packets import TYPES, packet_summary, parse_packet, split_packets

#: a packet left unfinished longer than this is given up (the stream is read afresh from the next frame)
MAX_CARRY = 16 * 1024 * 1024
#: how many frames from the start are looked at for the CONNECT that says the version
_VERSION_LOOK = 32


def _carry_out(data: bytes) -> bytes:
    try:
        rest = split_packets(data)[1]
    except DecodeError:
        return b""
    return rest if len(rest) <= MAX_CARRY else b""


def _read(data: bytes, version: int) -> tuple[list[dict[str, Any]], bytes, int, int]:
    """The packets of ``data`` as trees, the unfinished rest, its packet's length, and the version (a CONNECT
    among them says it)."""
    packets, rest, total = split_packets(data)
    trees = []
    for packet in packets:
        tree = parse_packet(packet, version)
        if tree["type"] == "CONNECT":
            version = tree["level"]
        trees.append(tree)
    return trees, rest, total, version


class MqttDecoder(Decoder):
    """MQTT 3.1.1 and 5.0 control packets over WebSocket."""

    name: ClassVar[str] = "mqtt"
    title: ClassVar[str] = "MQTT"
    priority: ClassVar[int] = 30
    subprotocols: ClassVar[tuple[str, ...]] = ("mqtt", "mqttv3.1", "mqttv5")

    def sniff(self, frame: FrameView) -> bool:
        payload = frame.payload
        if frame.text or len(payload) < 2 or payload[0] != 0x10:
            return False
        try:
            packets, rest, _ = split_packets(payload)
            return bool(packets) and not rest and parse_packet(packets[0], 4)["type"] == "CONNECT"
        except DecodeError:
            return False

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        carry = self._carry_in(frame, context)
        version = self._version(frame, context)
        try:
            trees, rest, total, version = _read(carry + frame.payload, version)
        except DecodeError:
            if not carry:
                raise
            carry = b""  # the earlier bytes were not the start of a packet: this frame is read afresh
            trees, rest, total, version = _read(frame.payload, version)
        context.memo["mqtt.version"] = version
        parts = [packet_summary(tree) for tree in trees]
        if carry and trees:
            parts[0] = f"(end of) {parts[0]}"
        if rest:
            kind = TYPES.get(rest[0] >> 4, "packet")
            size = f"{len(rest)} of {total} bytes" if total else f"{len(rest)} bytes"
            parts.append(f"{kind} continues in the next frame ({size})")
        if not parts:
            raise DecodeError("an empty frame holds no MQTT packet")
        tree_out: dict[str, Any] = {"version": {3: "3.1", 4: "3.1.1", 5: "5.0"}.get(version, str(version)),
                                    "packets": trees}
        if carry:
            tree_out["continued_bytes"] = len(carry)
        if rest:
            tree_out["unfinished"] = {"type": TYPES.get(rest[0] >> 4, "?"), "have": len(rest), "total": total}
        return Decoded(self.name, "; ".join(parts), tree_out, _fields(trees))

    def _version(self, frame: FrameView, context: DecodeContext) -> int:
        known = context.memo.get("mqtt.version")
        if isinstance(known, int):
            return known
        version = 4
        stream = b""  # the client's first bytes, until its first packet (the CONNECT) is whole
        for index in range(_VERSION_LOOK):
            other = context.frame(index) if index != frame.index else frame
            if other is None:
                break
            if not other.outgoing:
                continue
            stream += other.payload
            try:
                packets = split_packets(stream)[0]
                if packets:
                    if packets[0][0] == 0x10:
                        version = parse_packet(packets[0], 4)["level"]
                    break
            except DecodeError:
                break
        context.memo["mqtt.version"] = version
        return version

    def _carry_in(self, frame: FrameView, context: DecodeContext) -> bytes:
        """The unfinished packet the earlier frames of this direction leave for this one."""
        key = f"mqtt.stream.{'out' if frame.outgoing else 'in'}"
        state = context.memo.get(key)
        if state is None:
            state = context.memo[key] = {"next": 0, "carry": b"", "carries": {}}
        if frame.index < state["next"]:
            carry: bytes = state["carries"].get(frame.index, b"")
            return carry
        index, carry = state["next"], state["carry"]
        while index < frame.index:
            other = context.frame(index)
            if other is None:
                return b""
            if other.outgoing == frame.outgoing:
                if carry:
                    state["carries"][index] = carry
                carry = _carry_out(carry + other.payload)
            index += 1
        state["next"], state["carry"] = index, carry
        if carry:
            state["carries"][index] = carry
        return carry


def _fields(trees: list[dict[str, Any]]) -> dict[str, str]:
    if not trees:
        return {}
    fields = {"type": trees[0]["type"]}
    for tree in trees:
        topic = tree.get("topic") or (tree["topics"][0]["topic"] if tree.get("topics") else None)
        if topic and "topic" not in fields:
            fields["topic"] = topic
        if "packet_id" in tree and "packet_id" not in fields:
            fields["packet_id"] = str(tree["packet_id"])
        if tree["type"] == "CONNECT":
            fields["client_id"] = tree["client_id"]
    return fields
