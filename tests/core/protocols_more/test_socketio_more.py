"""Socket.IO v5 over Engine.IO v4 byte for byte beyond the happy path: malformed server packets become one-line
error events, the ping deadline, acks matched to their emits, binary attachments, and verbs refusing bad fields."""

from __future__ import annotations

import pytest

from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.socketio import SocketIoSession

OPEN = b'0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'


def _texts(messages) -> list[str]:
    return [m.payload.decode() for m in messages]


def _opened(**options) -> SocketIoSession:
    session = SocketIoSession(**options)
    session.start(0.0)
    session.receive(OPEN, True, 0.0)
    session.drain_events()
    return session


def test_malformed_engine_io_packets_are_one_line_errors():
    session = SocketIoSession()
    session.start(0.0)
    for frame in (b"", b"9nonsense", b"0{not json", b"0[1,2]"):
        session.receive(frame, True, 0.5)
    events = session.drain_events()
    assert [e.kind for e in events] == ["error"] * 4
    assert all("\n" not in e.text for e in events)
    assert "empty frame" in events[0].text
    assert "'9' is not a packet type" in events[1].text
    assert "not JSON" in events[2].text
    assert "must be an object" in events[3].text


def test_pong_upgrade_and_noop_need_no_answer_and_close_ends_the_session():
    session = _opened()
    for frame in (b"3", b"5", b"6"):
        assert session.receive(frame, True, 1.0) == []
    assert session.drain_events() == []
    session.receive(b"1", True, 2.0)
    [closed] = session.drain_events()
    assert closed.kind == "closed" and session.closed
    assert session.next_deadline() is None


def test_ping_deadline_is_interval_plus_timeout_and_reported_once():
    session = _opened()
    assert session.next_deadline() == pytest.approx(45.0)
    session.receive(b"2", True, 10.0)
    assert session.next_deadline() == pytest.approx(55.0)
    session.tick(54.9)
    assert session.drain_events() == []
    session.tick(55.0)
    [error] = session.drain_events()
    assert error.kind == "error" and "no ping from the server for 45 s" in error.text
    assert session.next_deadline() is None
    session.tick(100.0)
    assert session.drain_events() == []
    # a ping revives the watch
    session.receive(b"2", True, 101.0)
    assert session.next_deadline() == pytest.approx(146.0)


def test_an_ack_answering_no_emit_is_an_error_and_a_known_one_matches():
    session = _opened()
    emitted = session.invoke("emit", 1.0, event="hello", args='["world"]', ack=True, namespace="/admin")
    assert _texts(emitted.messages) == ['42/admin,0["hello","world"]'] and emitted.ref == "0"
    session.receive(b"43/admin,7[\"x\"]", True, 1.5)
    session.receive(b'43/admin,0["ok"]', True, 2.0)
    unknown, ack = session.drain_events()
    assert unknown.kind == "error" and "ACK 7 that answers no emit" in unknown.text
    assert ack.kind == "ack" and ack.text == 'ack 0 for hello /admin: ["ok"]'
    assert session.pending_acks == {}


def test_namespaces_connect_refuse_and_disconnect():
    session = _opened(connect=False)
    assert _texts(session.invoke("connect", 1.0, namespace="/admin", auth='{"token":"abc"}').messages) == [
        '40/admin,{"token":"abc"}']
    session.receive(b'40/admin,{"sid":"wZX3oN0bSVIhsaknAAAI"}', True, 1.1)
    session.receive(b'44/private,{"message":"Not authorized"}', True, 1.2)
    session.receive(b"41/admin,", True, 1.3)
    connected, refused, gone = session.drain_events()
    assert connected.kind == "connected" and connected.data["data"] == {"sid": "wZX3oN0bSVIhsaknAAAI"}
    assert refused.kind == "error" and refused.text == 'connect to /private refused: {"message":"Not authorized"}'
    assert gone.kind == "closed" and "/admin" not in session.namespaces
    assert _texts(session.invoke("disconnect", 2.0, namespace="/admin").messages) == ["41/admin,"]


def test_verbs_before_the_open_wait_for_it():
    session = SocketIoSession(connect=False)
    session.start(0.0)
    assert session.invoke("connect", 0.0, namespace="/chat").messages == ()
    assert session.invoke("emit", 0.0, event="early").messages == ()
    with pytest.raises(ProtocolError, match=r"wait for the Engine.IO open before sending bytes"):
        session.invoke("emit", 0.0, event="blob", args='[{"$bytes":"0102"}]')
    assert _texts(session.receive(OPEN, True, 0.1)) == ["40/chat,", '42["early"]']


def test_binary_attachments_both_ways():
    session = _opened()
    sent = session.invoke("emit", 1.0, event="upload", args='[{"$bytes":"01020304"}]')
    assert [m.payload for m in sent.messages] == [b'451-["upload",{"_placeholder":true,"num":0}]',
                                                    b"\x01\x02\x03\x04"]
    session.receive(b'451-["photo",{"_placeholder":true,"num":0}]', True, 2.0)
    assert session.drain_events() == []
    session.receive(b"\xff\xd8", False, 2.1)
    [event] = session.drain_events()
    assert event.data["event"] == "photo" and event.data["args"] == [{"$bytes": "ffd8"}]
    # a binary frame that no packet waits for
    session.receive(b"\x00\x01\x02", False, 3.0)
    [loose] = session.drain_events()
    assert loose.text == "binary message (3 bytes)" and loose.data["binary"] == "000102"
    # a binary packet cut short by the next packet
    session.receive(b'452-["two",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', True, 4.0)
    session.receive(b"\x01", False, 4.1)
    session.receive(b'42["next"]', True, 4.2)
    short, following = session.drain_events()
    assert short.kind == "error" and "got 1 of its 2 attachments" in short.text
    assert following.data["event"] == "next"
    # a placeholder naming an attachment that does not exist
    session.receive(b'451-["bad",{"_placeholder":true,"num":3}]', True, 5.0)
    session.receive(b"\x01", False, 5.1)
    [bad] = session.drain_events()
    assert bad.kind == "error" and "placeholder names attachment 3 of 1" in bad.text


def test_ack_verb_with_bytes_and_listen():
    session = _opened()
    answered = session.invoke("ack", 1.0, id=5, args='[{"$bytes":"ff"}]', namespace="/")
    assert [m.payload for m in answered.messages] == [b'461-5[{"_placeholder":true,"num":0}]', b"\xff"]
    plain = session.invoke("ack", 1.0, id=6, args='"done"')
    assert _texts(plain.messages) == ['436["done"]']
    session.invoke("listen", 1.0, event="news")
    session.receive(b'42["news",1]', True, 1.5)
    assert session.drain_events()[0].data["listened"] is True
    session.invoke("unlisten", 2.0, event="news")
    session.receive(b'42["news",2]', True, 2.5)
    assert session.drain_events()[0].data["listened"] is False


@pytest.mark.parametrize(("verb", "fields", "message"), [
    ("emit", {"event": "x", "namespace": "admin"}, "a namespace starts with '/'"),
    ("emit", {"event": "x", "namespace": "/a,b"}, "a namespace cannot hold ','"),
    ("emit", {"event": "x", "args": '[{"$bytes":"zz"}]'}, "must be hexadecimal"),
    ("connect", {"auth": "[1]"}, "connect: auth must be a JSON object"),
])
def test_verbs_refuse_bad_fields_in_one_line(verb, fields, message):
    session = _opened()
    with pytest.raises(ProtocolError, match=message) as raised:
        session.invoke(verb, 1.0, **fields)
    assert "\n" not in str(raised.value)


def test_emit_without_an_event_name_is_refused():
    session = _opened()
    with pytest.raises(ProtocolError, match="emit needs an event name"):
        session.emit("")
    assert session.emit("one", "scalar") is None
