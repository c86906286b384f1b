"""Frames taken from each protocol's own specification (or built byte by byte as it describes them), with the
summary a user should read for each. The fuzz tests cut and flip them too."""

from __future__ import annotations

import msgpack


def signalr_msgpack(*messages: list[object]) -> bytes:
    """SignalR's MessagePack framing: each message's length as a 7-bit varint, then the message."""
    out = b""
    for message in messages:
        body = msgpack.packb(message)
        size = len(body)
        prefix = b""
        while True:
            byte = size & 0x7F
            size >>= 7
            prefix += bytes([byte | (0x80 if size else 0)])
            if not size:
                break
        out += prefix + body
    return out


def mqtt_packet(first: int, body: bytes) -> bytes:
    """An MQTT packet: the type and flags byte, the remaining length as a varint, the rest."""
    size, prefix = len(body), b""
    while True:
        byte = size & 0x7F
        size >>= 7
        prefix += bytes([byte | (0x80 if size else 0)])
        if not size:
            return bytes([first]) + prefix + body


def utf8(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


MQTT_CONNECT_311 = mqtt_packet(0x10, utf8("MQTT") + b"\x04\x02\x00\x3c" + utf8("sensor-1"))
MQTT_CONNECT_5 = mqtt_packet(0x10, utf8("MQTT") + b"\x05\xc2\x00\x1e" + b"\x05\x11\x00\x00\x0e\x10"
                             + utf8("sensor-5") + utf8("ann") + utf8("s3cret"))
MQTT_PUBLISH_QOS1 = mqtt_packet(0x32, utf8("sensors/1") + b"\x00\x07" + b'{"t":21.5}')
MQTT_PUBLISH_5 = mqtt_packet(0x30, utf8("sensors/5") + b"\x02\x01\x01" + b"hot")  # payload format 1 (text)
MQTT_SUBSCRIBE = mqtt_packet(0x82, b"\x00\x0a" + utf8("sensors/#") + b"\x01")

#: (decoder, is text, payload, summary) from the specifications
SPEC_FRAMES: list[tuple[str, bool, bytes, str]] = [
    # Engine.IO v4 / Socket.IO v5 (socket.io-protocol and engine.io-protocol READMEs)
    ("socket.io", True, b'0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,'
     b'"maxPayload":1000000}', "OPEN sid=lv_VI97HAXpY6yYWAAAC pingInterval=25000"),
    ("socket.io", True, b"2", "PING"),
    ("socket.io", True, b"3probe", 'PONG "probe"'),
    ("socket.io", True, b'40{"sid":"wZX3oN0bSVIhsaknAAAI"}', 'CONNECT / {"sid":"wZX3oN0bSVIhsaknAAAI"}'),
    ("socket.io", True, b'40/admin,{"token":"123"}', 'CONNECT /admin {"token":"123"}'),
    ("socket.io", True, b'42["chat","hi"]', 'EVENT chat ["hi"]'),
    ("socket.io", True, b'42/admin,456["project:delete",123]', 'EVENT /admin project:delete [123] ack 456'),
    ("socket.io", True, b'43/admin,456[]', "ACK /admin 456 []"),
    ("socket.io", True, b'44{"message":"Not authorized"}', 'CONNECT_ERROR / {"message":"Not authorized"}'),
    ("socket.io", True, b"41/admin,", "DISCONNECT /admin"),
    # SignalR HubProtocol.md (JSON, record separator 0x1E; MessagePack, varint length prefix)
    ("signalr", True, b'{"protocol":"json","version":1}\x1e', "HANDSHAKE json v1"),
    ("signalr", True, b"{}\x1e", "HANDSHAKE ok"),
    ("signalr", True, b'{"type":1,"invocationId":"123","target":"Send","arguments":[42,"Test Message"]}\x1e'
     b'{"type":6}\x1e', 'Invocation Send #123 [42,"Test Message"]; Ping'),
    ("signalr", True, b'{"type":3,"invocationId":"123","result":42}\x1e', "Completion #123 42"),
    ("signalr", True, b'{"type":3,"invocationId":"123","error":"It didn\'t work!"}\x1e',
     'Completion #123 error: "It didn\'t work!"'),
    ("signalr", True, b'{"type":2,"invocationId":"123","item":42}\x1e', "StreamItem #123 42"),
    ("signalr", True, b'{"type":7,"error":"Connection closed because of an error!","allowReconnect":true}\x1e',
     'Close error: "Connection closed because of an error!"'),
    ("signalr", False, bytes.fromhex("1095018" "0a378797aa66d6574686f64912a"), 'Invocation method #xyz [42]'),
    ("signalr", False, signalr_msgpack([6]) + signalr_msgpack([3, {}, "xyz", 3, 42]), "Ping; Completion #xyz 42"),
    # STOMP 1.2 specification
    ("stomp", True, b"CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n\x00",
     "CONNECT host=stomp.github.org accept-version=1.2"),
    ("stomp", True, b"CONNECTED\nversion:1.2\n\n\x00", "CONNECTED version=1.2"),
    ("stomp", True, b"SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\n\x00",
     'SEND /queue/a "hello queue a\\n"'),
    ("stomp", True, b"SUBSCRIBE\nid:0\ndestination:/topic/prices\nack:client\n\n\x00", "SUBSCRIBE /topic/prices id=0"),
    ("stomp", True, b"MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\n"
     b"hello queue a\x00", 'MESSAGE /queue/a "hello queue a"'),
    ("stomp", True, b"RECEIPT\nreceipt-id:77\n\n\x00", "RECEIPT 77"),
    ("stomp", True, b"ERROR\nreceipt-id:message-12345\ncontent-type:text/plain\ncontent-length:9\n"
     b"message:malformed frame received\n\nbad frame\x00", 'ERROR malformed frame received "bad frame"'),
    ("stomp", True, b"\n", "HEARTBEAT"),
    # graphql-transport-ws (graphql-ws PROTOCOL.md) and subscriptions-transport-ws
    ("graphql", True, b'{"type":"connection_init","payload":{"token":"x"}}', 'connection_init {"token":"x"}'),
    ("graphql", True, b'{"id":"1","type":"subscribe","payload":{"query":"subscription OnPrice($s: String!) '
     b'{ price(symbol: $s) }","variables":{"s":"ACME"}}}', 'subscribe 1 subscription OnPrice {"s":"ACME"}'),
    ("graphql", True, b'{"id":"1","type":"next","payload":{"data":{"price":3}}}', 'next 1 {"data":{"price":3}}'),
    ("graphql", True, b'{"id":"1","type":"complete"}', "complete 1"),
    ("graphql", True, b'{"type":"start","id":"2","payload":{"query":"{ hello }"}}', "start 2 query"),
    ("graphql", True, b'{"type":"ka"}', "ka"),
    # MQTT 3.1.1 and 5.0 (OASIS specifications), packets built as they describe
    ("mqtt", False, MQTT_CONNECT_311, "CONNECT client=sensor-1 v3.1.1 keepalive=60"),
    ("mqtt", False, MQTT_PUBLISH_QOS1, 'PUBLISH sensors/1 qos1 id=7 {"t":21.5}'),
    ("mqtt", False, MQTT_SUBSCRIBE, "SUBSCRIBE sensors/# qos1 id=10"),
    ("mqtt", False, b"\x20\x02\x00\x00", "CONNACK rc=0"),
    ("mqtt", False, b"\xc0\x00\xd0\x00", "PINGREQ; PINGRESP"),
    ("mqtt", False, MQTT_CONNECT_5, "CONNECT client=sensor-5 v5.0 keepalive=30"),
    # Phoenix channels, V2 JSON serializer
    ("phoenix", True, b'["1","1","room:lobby","phx_join",{}]', "phx_join room:lobby {}"),
    ("phoenix", True, b'["1","1","room:lobby","phx_reply",{"response":{},"status":"ok"}]',
     "phx_reply room:lobby ok ref=1 {}"),
    ("phoenix", True, b'[null,"2","phoenix","heartbeat",{}]', "heartbeat ref=2"),
    ("phoenix", True, b'[null,null,"room:lobby","new_msg",{"body":"hi"}]', 'new_msg room:lobby {"body":"hi"}'),
]
