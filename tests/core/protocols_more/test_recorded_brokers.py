"""Recorded STOMP, MQTT, SignalR and Phoenix sessions become protocol tests: the first connect gives the options
(its credential a variable), the client's frames become verbs (each delayed by the gap since the message before
it), what came back expectations, and the protocol's housekeeping is left to the run; a recording that does not
read as the protocol stays plain. The frames are the protocols' own (as their specifications write them)."""

from __future__ import annotations

import struct

import pytest

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.mqtt import connect_packet, packet
from wsinspector.core.protocols.registry import make_session
from wsinspector.core.scenario.from_protocol import protocol_steps, session_protocol
from wsinspector.core.scenario.from_session import scenario_from_frames
from wsinspector.core.scenario.model import EventStep, VerbStep
from wsinspector.core.scenario.protocol_run import session_for
from wsinspector.core.scenario.yaml_io import dump, load

OUT, IN, TEXT, BINARY = Direction.OUT, Direction.IN, Opcode.TEXT, Opcode.BINARY
MS = 1_000_000


def _mqtt_string(text: str) -> bytes:
    return struct.pack("!H", len(text)) + text.encode()


def test_a_recorded_stomp_session_becomes_sends_subscriptions_and_expected_messages_and_receipts():
    recorded = [
        (0, OUT, TEXT,
         b"CONNECT\naccept-version:1.2\nhost:broker\nlogin:ann\npasscode:s3cret\nheart-beat:5000,0\n"
         b"Authorization:Bearer t0k3n\nx-tenant:blue\n\n\0"),
        (1 * MS, IN, TEXT, b"CONNECTED\nversion:1.2\nheart-beat:0,5000\n\n\0"),
        (2 * MS, OUT, TEXT, b"SUBSCRIBE\nid:0\ndestination:/queue/a\nack:client\nreceipt:r-1\n\n\0"),
        (3 * MS, IN, TEXT, b"RECEIPT\nreceipt-id:r-1\n\n\0"),
        (4 * MS, OUT, TEXT, b"\n"),  # a heart-beat: the session's own
        (5 * MS, OUT, TEXT, b"SEND\ndestination:/queue/a\ncontent-type:text/plain\npriority:9\nreceipt:r-2\n"
                            b"content-length:2\n\nhi\0"),
        (6 * MS, IN, TEXT, b"RECEIPT\nreceipt-id:r-2\n\n\0"
                           b"MESSAGE\ndestination:/queue/a\nsubscription:0\nmessage-id:m1\nack:a1\n\nhi\0"),
        (7 * MS, OUT, TEXT, b"ACK\nid:a1\n\n\0"),
        (8 * MS, OUT, TEXT, b"UNSUBSCRIBE\nid:0\n\n\0"),
        (9 * MS, OUT, TEXT, b"DISCONNECT\nreceipt:bye\n\n\0"),
        (10 * MS, IN, TEXT, b"RECEIPT\nreceipt-id:bye\n\n\0"),
    ]
    assert session_protocol(recorded, subprotocol="v12.stomp") == "stomp"
    test = scenario_from_frames(recorded, "stomp", "ws://127.0.0.1:1/stomp", started_ns=0,
                                subprotocols=("v12.stomp",), protocol="stomp")
    assert test.protocol == "stomp"
    assert test.protocol_options == (("host", "broker"), ("login", "ann"), ("passcode", "{{passcode}}"),
                                     ("heart_beat", "5000,0"),
                                     ("headers", '{"Authorization":"Bearer {{authorization}}","x-tenant":"blue"}'))
    assert test.steps == (
        VerbStep("subscribe", (("destination", "/queue/a"), ("id", "0"), ("ack", "client"), ("receipt", True)),
                 0.001),
        EventStep("ack", "SUBSCRIBE /queue/a"),
        VerbStep("send", (("destination", "/queue/a"), ("body", "hi"), ("content_type", "text/plain"),
                          ("headers", {"priority": "9"}), ("receipt", True)), 0.001),  # since the heart-beat
        EventStep("ack", "SEND /queue/a"),
        EventStep("data", "hi", True, "", (("destination", "/queue/a"),)),
        VerbStep("ack", (("id", "a1"),), 0.001),
        VerbStep("unsubscribe", (("id", "0"),), 0.001),
        VerbStep("disconnect", (("receipt", True),), 0.001),
        EventStep("ack", "DISCONNECT"),
    )
    text = dump(test)
    assert "s3cret" not in text and "t0k3n" not in text and load(text) == test
    # the run's session writes those headers into its CONNECT, the variables given
    session = session_for(test, {"passcode": "pw", "authorization": "abc"})
    connect = session.start(0.0)[0].payload
    assert connect.endswith(b"login:ann\npasscode:pw\nAuthorization:Bearer abc\nx-tenant:blue\n\n\0")


def test_stomp_headers_option_must_be_a_json_object():
    with pytest.raises(ProtocolError, match=r"^option headers must be a JSON object of header names and values$"):
        make_session("stomp", [("headers", "[1]")])


def test_a_recorded_mqtt_session_becomes_publishes_subscriptions_and_expected_messages():
    subscribe = packet(8, 2, struct.pack("!H", 1) + _mqtt_string("a/#") + b"\x01" + _mqtt_string("b") + b"\x00")
    publish_out = packet(3, 2, _mqtt_string("a/1") + struct.pack("!H", 2) + b"21.5")
    publish_in = packet(3, 2, _mqtt_string("a/1") + struct.pack("!H", 7) + b"21.5")
    retained = packet(3, 1, _mqtt_string("b") + b'{"on":true}')
    recorded = [
        (0, OUT, BINARY, connect_packet("probe", 20, 4, True, "ann", "pw")),
        (1 * MS, IN, BINARY, b"\x20\x02\x00\x00"),  # CONNACK
        (2 * MS, OUT, BINARY, subscribe[:5]),  # one packet over two frames
        (2 * MS, OUT, BINARY, subscribe[5:]),
        (3 * MS, IN, BINARY, packet(9, 0, struct.pack("!H", 1) + b"\x01\x00") + retained),  # SUBACK and a PUBLISH
        (4 * MS, OUT, BINARY, publish_out),
        (5 * MS, IN, BINARY, publish_in),
        (5 * MS, OUT, BINARY, packet(4, 0, struct.pack("!H", 7))),  # our PUBACK to theirs: the session's own
        (6 * MS, IN, BINARY, packet(4, 0, struct.pack("!H", 2))),
        (7 * MS, OUT, BINARY, b"\xc0\x00"),  # PINGREQ
        (7 * MS, IN, BINARY, b"\xd0\x00"),
        (8 * MS, OUT, BINARY, packet(10, 2, struct.pack("!H", 3) + _mqtt_string("b"))),
        (9 * MS, IN, BINARY, packet(11, 0, struct.pack("!H", 3))),
        (10 * MS, OUT, BINARY, b"\xe0\x00"),
    ]
    assert session_protocol(recorded, subprotocol="mqtt") == "mqtt"
    found = protocol_steps("mqtt", recorded, started_ns=0)
    assert found is not None
    steps, options = found
    assert options == (("client_id", "probe"), ("keep_alive", "20"), ("version", "4"), ("username", "ann"),
                       ("password", "{{password}}"))
    assert steps == (
        VerbStep("subscribe", (("topic", "a/#"), ("qos", "1")), 0.0),
        VerbStep("subscribe", (("topic", "b"), ("qos", "0")), 0.0),
        EventStep("ack", "SUBSCRIBE a/#"),
        EventStep("ack", "SUBSCRIBE b"),
        EventStep("data", {"json": {"on": True}}, True, "", (("topic", "b"), ("qos", "0"))),
        VerbStep("publish", (("topic", "a/1"), ("payload", "21.5"), ("qos", "1")), 0.001),
        EventStep("data", "21.5", True, "", (("topic", "a/1"), ("qos", "1"))),
        EventStep("ack", "PUBLISH a/1"),
        VerbStep("unsubscribe", (("topic", "b"),), 0.001),
        EventStep("ack", "UNSUBSCRIBE b"),
        VerbStep("disconnect", (), 0.001),
    )
    test = scenario_from_frames(recorded, "mqtt", "ws://127.0.0.1:1", started_ns=0, protocol="mqtt")
    text = dump(test)
    assert "pw" not in text.replace("{{password}}", "") and load(text) == test
    assert "qos: '1'" in text  # a data step picks its messages by QoS too


def test_a_recorded_signalr_session_becomes_invocations_and_expected_completions_items_and_calls():
    rs = "\x1e"
    recorded = [
        (0, OUT, TEXT, ('{"protocol":"json","version":1}' + rs).encode()),
        (1 * MS, IN, TEXT, ("{}" + rs).encode()),
        (2 * MS, OUT, TEXT, ('{"type":1,"invocationId":"7","target":"Add","arguments":[1,2]}' + rs
                             + '{"type":1,"target":"Send","arguments":["hi"]}' + rs).encode()),
        (3 * MS, IN, TEXT, ('{"type":3,"invocationId":"7","result":3}' + rs
                            + '{"type":1,"target":"Receive","arguments":["ann","hi"]}' + rs).encode()),
        (4 * MS, OUT, TEXT, ('{"type":4,"invocationId":"8","target":"Counter","arguments":[5]}' + rs).encode()),
        (5 * MS, IN, TEXT, ('{"type":2,"invocationId":"8","item":1}' + rs).encode()),
        (6 * MS, OUT, TEXT, ('{"type":5,"invocationId":"8"}' + rs + '{"type":6}' + rs).encode()),
        (7 * MS, IN, TEXT, ('{"type":3,"invocationId":"8"}' + rs + '{"type":6}' + rs).encode()),
        (8 * MS, IN, TEXT, ('{"type":3,"invocationId":"9","error":"boom"}' + rs).encode()),  # an error: not expected
    ]
    assert session_protocol(recorded) == "signalr"
    found = protocol_steps("signalr", recorded, started_ns=0)
    assert found is not None
    steps, options = found
    assert options == ()
    # the ids are the ones the test's session gives: 0, 1… in the order of the answered calls
    assert steps == (
        VerbStep("invoke", (("target", "Add"), ("arguments", [1, 2])), 0.001),
        VerbStep("send", (("target", "Send"), ("arguments", ["hi"])), 0.001),
        EventStep("ack", 3),
        EventStep("event", ["ann", "hi"], True, "Receive"),
        VerbStep("stream", (("target", "Counter"), ("arguments", [5])), 0.001),
        EventStep("data", 1, True, "", (("id", "1"),)),
        VerbStep("cancel", (("id", "1"),), 0.001),
        EventStep("ack", None),
    )


def test_a_recorded_phoenix_session_becomes_joins_pushes_and_expected_replies_and_broadcasts():
    recorded = [
        (0, OUT, TEXT, b'["1","1","room:lobby","phx_join",{"token":"s3cret","name":"ann"}]'),
        (1 * MS, IN, TEXT, b'["1","1","room:lobby","phx_reply",{"status":"ok","response":{}}]'),
        (2 * MS, OUT, TEXT, b'[null,"2","phoenix","heartbeat",{}]'),
        (2 * MS, IN, TEXT, b'[null,"2","phoenix","phx_reply",{"status":"ok","response":{}}]'),
        (3 * MS, OUT, TEXT, b'["1","3","room:lobby","new_msg",{"body":"hi"}]'),
        (4 * MS, IN, TEXT, b'["1",null,"room:lobby","new_msg",{"body":"hi","from":"ann"}]'),
        (4 * MS, IN, TEXT, b'["1","3","room:lobby","phx_reply",{"status":"error","response":{"reason":"slow"}}]'),
        (5 * MS, OUT, TEXT, b'["1","4","room:lobby","phx_leave",{}]'),
        (6 * MS, IN, TEXT, b'["1","4","room:lobby","phx_reply",{"status":"ok","response":{"bye":true}}]'),
        (6 * MS, IN, TEXT, b'["1","1","room:lobby","phx_close",{}]'),
    ]
    assert session_protocol(recorded, url="ws://127.0.0.1:1/socket/websocket?vsn=2.0.0") == "phoenix"
    test = scenario_from_frames(recorded, "phoenix", "ws://127.0.0.1:1/socket/websocket?vsn=2.0.0", started_ns=0,
                                protocol="phoenix")
    assert test.protocol == "phoenix" and test.protocol_options == ()
    assert test.steps == (
        VerbStep("join", (("topic", "room:lobby"), ("payload", {"token": "{{token}}", "name": "ann"})), 0.0),
        EventStep("ack", {}),
        VerbStep("push", (("topic", "room:lobby"), ("event", "new_msg"), ("payload", {"body": "hi"})), 0.001),
        EventStep("event", {"body": "hi", "from": "ann"}, True, "new_msg"),
        VerbStep("leave", (("topic", "room:lobby"),), 0.001),
        EventStep("ack", {"bye": True}),
    )
    text = dump(test)
    assert "s3cret" not in text and load(text) == test


@pytest.mark.parametrize("protocol, message", [
    ("stomp", (0, OUT, TEXT, b"CONNECTED\nversion:1.2\n\n\0")),  # a server's frame from the client
    ("stomp", (0, OUT, TEXT, b"SEND\ndestination:/a\n\n\xff\0")),  # a body that is not text
    ("mqtt", (0, OUT, TEXT, b"hello")),
    ("mqtt", (0, OUT, BINARY, packet(3, 0, _mqtt_string("t") + b"\xff"))),  # a payload that is not text
    ("signalr", (0, OUT, TEXT, b'{"protocol":"messagepack","version":1}\x1e')),
    ("signalr", (0, OUT, TEXT, b'{"type":1}')),  # no record separator
    ("phoenix", (0, OUT, TEXT, b'["1","1","room:lobby"]')),
    ("phoenix", (0, OUT, BINARY, b"\x00")),
], ids=["stomp-server-frame", "stomp-bytes", "mqtt-text", "mqtt-bytes", "signalr-msgpack", "signalr-no-separator",
        "phoenix-short", "phoenix-binary"])
def test_a_recording_that_does_not_read_as_the_protocol_stays_plain(protocol, message):
    assert protocol_steps(protocol, [message]) is None
    test = scenario_from_frames([message], "t", "ws://127.0.0.1:1/", protocol=protocol)
    assert test.protocol == "" and len(test.steps) == 1
