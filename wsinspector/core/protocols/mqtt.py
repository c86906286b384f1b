"""MQTT 3.1.1 and 5.0 over WebSocket (subprotocol ``mqtt``): binary messages that together are one byte stream
each way.

``CONNECT`` says the keep-alive; when nothing else was sent for that long the session sends ``PINGREQ`` (and
calls the broker gone when its ``PINGRESP`` is not back within another keep-alive). A QoS 1 PUBLISH from the
broker is answered with ``PUBACK``, a QoS 2 one with ``PUBREC`` then ``PUBCOMP``; our QoS 1 and 2 publishes and
our subscriptions are matched to the broker's PUBACK / PUBCOMP / SUBACK."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, ClassVar

from wsinspector.core.decoders.mqtt_packets import parse_packet, split_packets
from wsinspector.core.protocols.base import ProtocolError, ProtocolSession, Verb, VerbField, brief

_QOS = VerbField("qos", "choice", default="0", choices=("0", "1", "2"))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ProtocolError("an MQTT string is at most 65535 bytes")
    return struct.pack("!H", len(raw)) + raw


def packet(kind: int, flags: int, body: bytes) -> bytes:
    """A control packet: fixed header (type, flags, remaining length) and body."""
    return bytes([kind << 4 | flags]) + _varint(len(body)) + body


def connect_packet(client_id: str, keep_alive: int, version: int = 4, clean: bool = True,
                   username: str = "", password: str = "") -> bytes:
    flags = (2 if clean else 0) | (0x80 if username else 0) | (0x40 if password else 0)
    body = _string("MQTT") + bytes([version, flags]) + struct.pack("!H", keep_alive)
    if version == 5:
        body += b"\x00"  # no properties
    body += _string(client_id)
    if username:
        body += _string(username)
    if password:
        raw = password.encode("utf-8")
        body += struct.pack("!H", len(raw)) + raw
    return packet(1, 0, body)


class MqttSession(ProtocolSession):
    name: ClassVar[str] = "mqtt"
    title: ClassVar[str] = "MQTT"
    subprotocols: ClassVar[tuple[str, ...]] = ("mqtt",)
    VERBS: ClassVar[tuple[Verb, ...]] = (
        Verb("subscribe", "Subscribe", (VerbField("topic", "text", required=True), _QOS)),
        Verb("unsubscribe", "Unsubscribe", (VerbField("topic", "text", required=True),)),
        Verb("publish", "Publish", (
            VerbField("topic", "text", required=True), VerbField("payload", "text", default=""), _QOS,
            VerbField("retain", "bool", default=False))),
        Verb("disconnect", "Disconnect"),
    )

    def __init__(self, client_id: str = "wsinspector", keep_alive: int = 60, version: int = 4, clean: bool = True,
                 username: str = "", password: str = "") -> None:
        super().__init__()
        if version not in (4, 5):
            raise ProtocolError("MQTT version is 4 (3.1.1) or 5")
        if not 0 <= keep_alive <= 0xFFFF:
            raise ProtocolError("the keep-alive is 0 to 65535 seconds")
        self.client_id, self.keep_alive, self.version = client_id, keep_alive, version
        self.clean, self.username, self.password = clean, username, password
        self.connected = False
        self._buffer = b""
        self._last_sent = 0.0
        self._ping_sent: float | None = None
        self._gone = False
        self._next_id = 1
        self.pending: dict[int, str] = {}
        self._received_qos2: set[int] = set()

    def _start(self, now: float) -> None:
        self.send_bytes(connect_packet(self.client_id, self.keep_alive, self.version, self.clean, self.username,
                                       self.password))

    def note_sent(self, now: float) -> None:
        self._last_sent = now

    def _packet_id(self) -> int:
        ident = self._next_id
        self._next_id = ident % 0xFFFF + 1
        return ident

    def _receive(self, payload: bytes, text: bool, now: float) -> None:
        if text:
            raise ProtocolError("MQTT over WebSocket is binary: a text message is not MQTT")
        packets, self._buffer, _ = split_packets(self._buffer + payload)
        for raw in packets:
            self._packet(parse_packet(raw, self.version), now)

    def _packet(self, tree: dict[str, Any], now: float) -> None:
        kind = tree["type"]
        ident: int = tree.get("packet_id", 0)
        v5 = self.version == 5
        if kind == "CONNACK":
            code = tree.get("reason_code", tree.get("return_code", 0))
            if code:
                self.event("error", f"MQTT: the broker refused the connection (code {code})", code=code)
            else:
                self.connected = True
                self.event("connected", f"connected: MQTT {'5.0' if v5 else '3.1.1'}, keep-alive "
                                        f"{self.keep_alive} s", session_present=tree["session_present"])
        elif kind == "PINGRESP":
            self._ping_sent = None
        elif kind == "PUBLISH":
            qos = tree["qos"]
            if qos == 1:
                self.send_bytes(packet(4, 0, struct.pack("!H", ident)))
            elif qos == 2:
                self._received_qos2.add(ident)
                self.send_bytes(packet(5, 0, struct.pack("!H", ident)))
            self.event("data", f"PUBLISH {tree['topic']} qos{qos} {brief(tree['payload'])}", topic=tree["topic"],
                       qos=qos, retain=tree["retain"], payload=tree["payload"], id=ident)
        elif kind == "PUBREL":
            self._received_qos2.discard(ident)
            self.send_bytes(packet(7, 0, struct.pack("!H", ident)))
        elif kind == "PUBREC":
            self.send_bytes(packet(6, 2, struct.pack("!H", ident)))
        elif kind in ("PUBACK", "PUBCOMP", "SUBACK", "UNSUBACK"):
            what = self.pending.pop(ident, None)
            if what is None:
                self.event("error", f"MQTT: a {kind} {ident} for nothing we sent", id=ident)
                return
            codes = tree.get("return_codes", tree.get("reason_codes", []))
            failed = [code for code in codes if code >= 0x80] or (
                [tree["reason_code"]] if tree.get("reason_code", 0) >= 0x80 else [])
            self.event("error" if failed else "ack", f"{kind} {ident} for {what}" + (
                f": refused (code {failed[0]})" if failed else (f" {codes}" if codes else "")), id=ident, what=what,
                codes=codes)
        elif kind == "DISCONNECT":
            self.closed = True
            self.event("closed", f"the broker disconnected (code {tree.get('reason_code', 0)})")
        else:
            self.event("error", f"MQTT: a {kind} packet from the broker", type=kind)

    def next_deadline(self) -> float | None:
        if not self.keep_alive or self._gone or self.closed:
            return None
        if self._ping_sent is not None:
            return self._ping_sent + self.keep_alive
        return self._last_sent + self.keep_alive

    def _tick(self, now: float) -> None:
        if not self.keep_alive or self._gone:
            return
        if self._ping_sent is not None:
            if now >= self._ping_sent + self.keep_alive:
                self._gone = True
                self.event("error", f"MQTT: no PINGRESP within {self.keep_alive} s: the broker is gone")
            return
        if now >= self._last_sent + self.keep_alive:
            self.send_bytes(packet(12, 0, b""))
            self._ping_sent = now

    # -- verbs ---------------------------------------------------------------------------------------

    def subscribe(self, topic: str, qos: int = 0) -> int:
        if not topic:
            raise ProtocolError("subscribe needs a topic filter")
        ident = self._packet_id()
        props = b"\x00" if self.version == 5 else b""
        self.send_bytes(packet(8, 2, struct.pack("!H", ident) + props + _string(topic) + bytes([qos])))
        self.pending[ident] = f"SUBSCRIBE {topic}"
        return ident

    def verb_subscribe(self, now: float, topic: str, qos: str) -> int:
        return self.subscribe(topic, int(qos))

    def verb_unsubscribe(self, now: float, topic: str) -> int:
        ident = self._packet_id()
        props = b"\x00" if self.version == 5 else b""
        self.send_bytes(packet(10, 2, struct.pack("!H", ident) + props + _string(topic)))
        self.pending[ident] = f"UNSUBSCRIBE {topic}"
        return ident

    def publish(self, topic: str, payload: str | bytes = b"", qos: int = 0, retain: bool = False) -> int | None:
        if not topic or "+" in topic or "#" in topic:
            raise ProtocolError("publish needs a topic without wildcards")
        body = _string(topic)
        ident = None
        if qos:
            ident = self._packet_id()
            body += struct.pack("!H", ident)
            self.pending[ident] = f"PUBLISH {topic}"
        if self.version == 5:
            body += b"\x00"
        body += payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        self.send_bytes(packet(3, qos << 1 | int(retain), body))
        return ident

    def verb_publish(self, now: float, topic: str, payload: str, qos: str, retain: bool) -> int | None:
        return self.publish(topic, payload, int(qos), retain)

    def verb_disconnect(self, now: float) -> None:
        self.send_bytes(packet(14, 0, b"\x00\x00" if self.version == 5 else b""))
        self.closed = True

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "subscribe": self.verb_subscribe,
            "unsubscribe": self.verb_unsubscribe,
            "publish": self.verb_publish,
            "disconnect": self.verb_disconnect,
        }
