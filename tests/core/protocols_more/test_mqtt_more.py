"""MQTT 3.1.1 and 5.0 over WebSocket byte for byte beyond the happy path: a refused CONNACK, QoS 1 and 2 both
ways, acks for nothing sent, the keep-alive PINGREQ and a broker that never answers it, and refusals in one
line (OASIS MQTT 3.1.1 section 3 and MQTT 5.0 section 3 give the bytes)."""

from __future__ import annotations

import pytest

from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.mqtt import MqttSession, connect_packet


def _bytes(messages) -> list[bytes]:
    return [m.payload for m in messages]


def _connected(**options) -> MqttSession:
    session = MqttSession(**options)
    session.start(0.0)
    session.receive(b"\x20\x02\x00\x00", False, 0.1)
    session.drain_events()
    return session


def test_connect_with_credentials_and_a_refused_connack():
    assert connect_packet("c", 30, username="u", password="p") == (
        b"\x10\x13\x00\x04MQTT\x04\xc2\x00\x1e\x00\x01c\x00\x01u\x00\x01p")
    session = MqttSession(client_id="c", keep_alive=30, username="u", password="p")
    assert _bytes(session.start(0.0)) == [connect_packet("c", 30, username="u", password="p")]
    session.receive(b"\x20\x02\x00\x05", False, 0.1)  # 0x05: not authorized
    [refused] = session.drain_events()
    assert refused.kind == "error" and refused.text == "MQTT: the broker refused the connection (code 5)"
    assert not session.connected


def test_session_options_are_checked():
    with pytest.raises(ProtocolError, match="MQTT version is 4"):
        MqttSession(version=3)
    with pytest.raises(ProtocolError, match="keep-alive is 0 to 65535"):
        MqttSession(keep_alive=70000)
    with pytest.raises(ProtocolError, match="at most 65535 bytes"):
        connect_packet("x" * 70000, 10)


def test_incoming_qos1_and_qos2_are_acknowledged():
    session = _connected()
    # PUBLISH qos1 topic a/b id 1 payload "hi" -> PUBACK 1
    assert _bytes(session.receive(b"\x32\x09\x00\x03a/b\x00\x01hi", False, 1.0)) == [b"\x40\x02\x00\x01"]
    # PUBLISH qos2 id 7 -> PUBREC 7; PUBREL 7 -> PUBCOMP 7
    assert _bytes(session.receive(b"\x34\x09\x00\x03a/b\x00\x07hi", False, 1.1)) == [b"\x50\x02\x00\x07"]
    assert _bytes(session.receive(b"\x62\x02\x00\x07", False, 1.2)) == [b"\x70\x02\x00\x07"]
    first, second = session.drain_events()
    assert first.text == 'PUBLISH a/b qos1 "hi"' and second.data["qos"] == 2


def test_outgoing_qos2_publish_and_refused_subscribe():
    session = _connected()
    published = session.invoke("publish", 1.0, topic="a/b", payload="hi", qos="2", retain=True)
    assert _bytes(published.messages) == [b"\x35\x09\x00\x03a/b\x00\x01hi"] and published.ref == "1"
    # PUBREC 1 -> PUBREL 1 (flags 0010); PUBCOMP 1 completes it
    assert _bytes(session.receive(b"\x50\x02\x00\x01", False, 1.1)) == [b"\x62\x02\x00\x01"]
    session.receive(b"\x70\x02\x00\x01", False, 1.2)
    subscribed = session.invoke("subscribe", 2.0, topic="secret/#", qos="1")
    assert _bytes(subscribed.messages) == [b"\x82\x0d\x00\x02\x00\x08secret/#\x01"]
    session.receive(b"\x90\x03\x00\x02\x80", False, 2.1)  # SUBACK: 0x80 failure
    done, refused = session.drain_events()
    assert done.kind == "ack" and done.text == "PUBCOMP 1 for PUBLISH a/b"
    assert refused.kind == "error" and refused.text == "SUBACK 2 for SUBSCRIBE secret/#: refused (code 128)"


def test_acks_for_nothing_and_unexpected_packets_are_errors():
    session = _connected()
    session.receive(b"\x40\x02\x00\x09", False, 1.0)  # PUBACK 9, never sent
    session.receive(b"\xc0\x00", False, 1.1)  # PINGREQ: a client's packet
    session.receive(b"not mqtt", True, 1.2)
    unknown, odd, text = session.drain_events()
    assert unknown.text == "MQTT: a PUBACK 9 for nothing we sent"
    assert odd.kind == "error" and "PINGREQ" in odd.text
    assert text.kind == "error" and "a text message is not MQTT" in text.text


def test_keep_alive_ping_and_a_broker_that_never_answers():
    session = _connected(keep_alive=10)
    assert session.next_deadline() == pytest.approx(10.0)
    assert session.tick(9.9) == []
    assert _bytes(session.tick(10.0)) == [b"\xc0\x00"]
    assert session.next_deadline() == pytest.approx(20.0)
    session.receive(b"\xd0\x00", False, 11.0)  # PINGRESP
    assert session.next_deadline() == pytest.approx(20.0)
    assert _bytes(session.tick(20.0)) == [b"\xc0\x00"]
    assert session.tick(29.0) == [] and session.drain_events() == []
    session.tick(30.0)
    [gone] = session.drain_events()
    assert gone.text == "MQTT: no PINGRESP within 10 s: the broker is gone"
    assert session.next_deadline() is None and session.tick(99.0) == []
    assert MqttSession(keep_alive=0).next_deadline() is None


def test_v5_unsubscribe_disconnect_and_broker_disconnect():
    session = _connected(version=5)
    assert _bytes(session.invoke("unsubscribe", 1.0, topic="a").messages) == [b"\xa2\x06\x00\x01\x00\x00\x01a"]
    session.receive(b"\xe0\x01\x8b", False, 2.0)  # DISCONNECT 0x8B: server shutting down
    [closed] = session.drain_events()
    assert closed.kind == "closed" and "139" in closed.text and session.closed
    other = _connected(version=5)
    assert _bytes(other.invoke("disconnect", 1.0).messages) == [b"\xe0\x02\x00\x00"] and other.closed


@pytest.mark.parametrize(("verb", "fields", "message"), [
    ("publish", {"topic": "a/+"}, "publish needs a topic without wildcards"),
    ("publish", {"topic": "a/#"}, "publish needs a topic without wildcards"),
])
def test_verbs_refuse_bad_topics(verb, fields, message):
    session = _connected()
    with pytest.raises(ProtocolError, match=message):
        session.invoke(verb, 1.0, **fields)
    with pytest.raises(ProtocolError, match="subscribe needs a topic filter"):
        session.subscribe("")
