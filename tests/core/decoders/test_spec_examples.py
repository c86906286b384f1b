"""Each decoder on frames from its protocol's specification: the one-line summary and the decoded fields a user
filters on. SignalR and Phoenix have no server that can be installed here (.NET, Elixir): these examples are
their tests."""

from __future__ import annotations

import pytest

from tests.core.decoders.examples import MQTT_CONNECT_5, MQTT_PUBLISH_5, SPEC_FRAMES, signalr_msgpack
from wsinspector.core.decoders.base import DecodeContext, FrameView
from wsinspector.core.decoders.registry import decoder_registry


def _decode(name: str, payload: bytes, text: bool, context: DecodeContext | None = None):
    registry = decoder_registry()
    decoder = registry.get(name)
    assert decoder is not None, registry.problems
    return registry.decode(decoder, FrameView(payload, text), context)


@pytest.mark.parametrize(("name", "text", "payload", "summary"), SPEC_FRAMES,
                         ids=[f"{case[0]}-{number}" for number, case in enumerate(SPEC_FRAMES)])
def test_a_specification_frame_reads_as_its_summary(name, text, payload, summary):
    decoded = _decode(name, payload, text)
    assert decoded.ok, decoded.error
    assert decoded.protocol == name
    assert decoded.summary == summary


def test_decoded_fields_name_what_filters_look_for():
    assert _decode("socket.io", b'42/admin,7["project:delete",123]', True).fields == {
        "type": "EVENT", "namespace": "/admin", "event": "project:delete", "ack": "7"}
    stomp = _decode("stomp", b"SUBSCRIBE\nid:0\ndestination:/topic/prices\n\n\x00", True)
    assert stomp.fields["destination"] == "/topic/prices"
    graphql = _decode("graphql", b'{"id":"op-9","type":"subscribe","payload":{"query":"subscription Ticks { t }"}}',
                      True)
    assert graphql.fields == {"type": "subscribe", "operation": "op-9", "operation_name": "Ticks"}
    assert graphql.tree["variant"] == "graphql-transport-ws"
    assert _decode("graphql", b'{"type":"start","id":"2","payload":{"query":"{ a }"}}', True).tree["variant"] == \
        "subscriptions-transport-ws"
    phoenix = _decode("phoenix", b'[null,null,"room:lobby","new_msg",{"body":"hi"}]', True)
    assert phoenix.fields["topic"] == "room:lobby" and phoenix.fields["event"] == "new_msg"
    signalr = _decode("signalr", b'{"type":1,"invocationId":"5","target":"Send","arguments":[1]}\x1e', True)
    assert signalr.fields == {"type": "Invocation", "target": "Send", "event": "Send", "invocation": "5"}


def test_signalr_messagepack_frames_hold_several_messages_each_with_its_fields():
    frame = signalr_msgpack([1, {}, None, "Broadcast", ["ann", "hi"]], [2, {}, "s1", {"n": 1}], [6])
    decoded = _decode("signalr", frame, False)
    assert decoded.summary == 'Invocation Broadcast ["ann","hi"]; StreamItem #s1 {"n":1}; Ping'
    assert decoded.tree["encoding"] == "messagepack"
    assert [m["type"] for m in decoded.tree["messages"]] == [1, 2, 6]


def test_mqtt5_reads_properties_and_never_shows_the_password():
    connect = _decode("mqtt", MQTT_CONNECT_5, False)
    packet = connect.tree["packets"][0]
    assert packet["username"] == "ann"
    assert "s3cret" not in str(connect.as_json())
    assert packet["password"] == "(6 bytes, not shown)"
    assert packet["properties"] == {"session_expiry": 3600}
    context = DecodeContext()
    context.memo["mqtt.version"] = 5
    publish = _decode("mqtt", MQTT_PUBLISH_5, False, context)
    assert publish.summary == 'PUBLISH sensors/5 qos0 "hot"'
    assert publish.tree["packets"][0]["properties"] == {"payload_format": 1}


def test_stomp_header_escapes_and_a_body_with_nuls_bounded_by_content_length():
    decoded = _decode("stomp", b"MESSAGE\ndestination:/q/a\\cb\nmessage-id:1\nsubscription:0\n"
                      b"content-length:3\n\na\x00b\x00\n\n", True)
    assert decoded.fields["destination"] == "/q/a:b"
    assert decoded.tree["frames"][0]["body"] == "a\x00b"


def test_json_msgpack_and_cbor_show_the_same_value():
    import cbor2
    import msgpack

    value = {"type": "tick", "price": 3.5, "tags": ["a", "b"], "raw": b"\x00\x01"}
    expected = {"type": "tick", "price": 3.5, "tags": ["a", "b"], "raw": {"$bytes": "0001"}}
    assert _decode("msgpack", msgpack.packb(value), False).tree == expected
    assert _decode("cbor", cbor2.dumps(value), False).tree == expected
    as_json = _decode("json", b'{"type":"tick","price":3.5}', True)
    assert as_json.summary == '{"type":"tick","price":3.5}' and as_json.fields == {"type": "tick"}


def test_a_msgpack_map_keyed_by_arrays_is_shown_not_refused():
    import msgpack

    packed = b"\x81" + msgpack.packb([1, 2]) + msgpack.packb("x")
    decoded = _decode("msgpack", packed, False)
    assert decoded.ok and decoded.tree == {"$pairs": [[[1, 2], "x"]]}


UNDECODABLE = [
    ("json", True, b'{"a":', "not JSON: Expecting value at line 1 column 6"),
    ("msgpack", False, b"\x92\x01", "not MessagePack: …"),
    ("msgpack", False, b"\x01\x02", "not one MessagePack value: 1 bytes follow the first"),
    ("cbor", False, b"\xa1\x61", "not CBOR: premature end of stream…"),
    ("socket.io", True, b"9hello", "not an Engine.IO packet: '9' is not a packet type (0-6)"),
    ("socket.io", True, b'42["chat",', "the EVENT packet's data is not JSON: Expecting value at character 10"),
    ("signalr", True, b'{"type":1}', "a SignalR JSON frame ends with the record separator 0x1E"),
    ("stomp", True, b"SEND\ndestination:/a\n\nno end", "the SEND frame is not ended by a NUL"),
    ("graphql", True, b'{"type":"hello"}', '"hello" is not a GraphQL over WebSocket message type'),
    ("mqtt", False, b"\x00\x00", "byte 0 (0x00) is not an MQTT packet type"),
    ("phoenix", True, b'{"event":"x"}',
     "a Phoenix V2 message is an array of 5: [join_ref, ref, topic, event, payload]"),
    ("protobuf", False, b"\x0f", "field 1 at byte 0 has wire type 7, which messages do not use (groups are not read)"),
]


@pytest.mark.parametrize(("name", "text", "payload", "reason"), UNDECODABLE,
                         ids=[f"{case[0]}-{number}" for number, case in enumerate(UNDECODABLE)])
def test_what_does_not_decode_says_why_in_one_line(name, text, payload, reason):
    decoded = _decode(name, payload, text)
    assert not decoded.ok
    # the libraries' own words (after "…") may change between their versions
    assert decoded.error == reason or (reason.endswith("…") and decoded.error.startswith(reason[:-1]))
    assert "\n" not in decoded.error
    assert decoded.summary == f"not {name}: {decoded.error}"
    assert decoded.as_json() == {"protocol": name, "summary": decoded.summary, "error": decoded.error}


def test_mqtt5_acknowledgements_reason_codes_user_properties_and_a_will():
    from tests.core.decoders.examples import mqtt_packet, utf8

    will = b"\x00" + utf8("status/sensor") + utf8("offline")  # will properties (none), topic, payload
    connect = mqtt_packet(0x10, utf8("MQTT") + b"\x05\x2e\x00\x0a\x00" + utf8("w") + will)  # will, qos1, retain
    user = b"\x26" + utf8("region") + utf8("eu")
    packets = (connect
               + mqtt_packet(0x40, b"\x00\x05\x10" + bytes([len(user)]) + user)  # PUBACK 5, no matching subscribers
               + mqtt_packet(0x90, b"\x00\x06\x00\x01\x80")  # SUBACK 6: granted qos1, refused
               + mqtt_packet(0xA2, b"\x00\x07\x00" + utf8("a/b"))  # UNSUBSCRIBE 7
               + mqtt_packet(0xB0, b"\x00\x07\x00\x11")  # UNSUBACK 7: no subscription existed
               + mqtt_packet(0xE0, b"\x8e\x00")  # DISCONNECT: session taken over
               + mqtt_packet(0xF0, b"\x18\x05\x15" + utf8("SC")))  # AUTH: continue, method SC
    decoded = _decode("mqtt", packets, False)
    assert decoded.ok, decoded.error
    assert decoded.summary == ("CONNECT client=w v5.0 keepalive=10; PUBACK id=5 rc=16; SUBACK id=6 [1, 128]; "
                               "UNSUBSCRIBE a/b id=7; UNSUBACK id=7; DISCONNECT rc=142; AUTH rc=24")
    trees = decoded.tree["packets"]
    assert trees[0]["will"] == {"qos": 1, "retain": True, "properties": {}, "topic": "status/sensor",
                                "payload": "offline"}
    assert trees[1]["properties"] == {"user_property": [["region", "eu"]]}
    assert trees[4]["reason_codes"] == [0x11]
    assert trees[6]["properties"] == {"auth_method": "SC"}


@pytest.mark.parametrize(("packet", "reason"), [
    (b"\x10\x06\x00\x04MQTT", "the CONNECT packet is cut off in its protocol level"),
    (b"\x10\x07\x00\x04MQTX\x04", "CONNECT for protocol \"MQTX\" level 4, not MQTT 3.1, 3.1.1 or 5"),
    (b"\x30\x03\x00\x01\xff", "the PUBLISH packet's topic is not UTF-8"),
    (b"\x82\x02\x00\x01", "the SUBSCRIBE packet names no topic"),
    (b"\xc0\x01\x00", "the PINGREQ packet has 1 bytes after its end"),
    (b"\x20\x03\x00\x00\x07", "the CONNACK packet has 1 bytes after its end"),
], ids=["cut-connect", "not-mqtt", "topic-not-utf8", "subscribe-no-topic", "pingreq-extra", "connack-extra"])
def test_a_damaged_mqtt_packet_says_where(packet, reason):
    assert _decode("mqtt", packet, False).error == reason
