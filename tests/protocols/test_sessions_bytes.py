"""The protocol sessions byte for byte. SignalR and Phoenix have no server the suite can run (they need .NET and
Elixir): their sessions are checked on the messages of the protocols' own documents (ASP.NET Core's
HubProtocol.md and phoenix.js's V2 serializer). Every session gets malformed input: an error event of one line,
never an exception."""

from __future__ import annotations

import pytest

from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.graphql import LEGACY, GraphQlSession
from wsinspector.core.protocols.mqtt import MqttSession
from wsinspector.core.protocols.phoenix import PhoenixSession
from wsinspector.core.protocols.registry import SESSIONS, make_session, mode_for
from wsinspector.core.protocols.signalr import SignalRSession
from wsinspector.core.protocols.socketio import SocketIoSession
from wsinspector.core.protocols.stomp import StompSession

RS = "\x1e"


def _texts(messages) -> list[str]:
    return [m.payload.decode() for m in messages]


def test_signalr_handshake_invoke_completion_stream_and_keep_alive():
    session = SignalRSession(keep_alive_s=15, server_timeout_s=30)
    assert _texts(session.start(0.0)) == ['{"protocol":"json","version":1}' + RS]
    # the handshake answer and a first invocation in one frame (HubProtocol.md allows it)
    session.receive(('{}' + RS + '{"type":1,"target":"Send","arguments":[42,"Test Message"]}' + RS).encode(),
                    True, 0.5)
    events = session.drain_events()
    assert [e.kind for e in events] == ["connected", "event"]
    assert events[1].data["event"] == "Send" and events[1].data["args"] == [42, "Test Message"]
    invoked = session.invoke("invoke", 1.0, target="Send", arguments="[42]")
    assert _texts(invoked.messages) == ['{"type":1,"target":"Send","arguments":[42],"invocationId":"0"}' + RS]
    session.receive(b'{"type":3,"invocationId":"0","result":42}' + RS.encode(), True, 1.5)
    [ack] = session.drain_events()
    assert ack.kind == "ack" and ack.data["result"] == 42 and ack.text == "completion 0 for Send: 42"
    stream = session.invoke("stream", 2.0, target="Counter", arguments=[3])
    assert _texts(stream.messages) == ['{"type":4,"target":"Counter","arguments":[3],"invocationId":"1"}' + RS]
    session.receive(b'{"type":2,"invocationId":"1","item":42}' + RS.encode(), True, 2.5)
    assert session.drain_events()[0].data == {"id": "1", "item": 42}
    sent = session.invoke("send", 3.0, target="Notify", arguments=None)
    assert _texts(sent.messages) == ['{"type":1,"target":"Notify","arguments":[]}' + RS] and sent.ref == ""
    # nothing sent for 15 s: a ping (type 6)
    assert session.next_deadline() == pytest.approx(18.0)
    assert _texts(session.tick(18.0)) == ['{"type":6}' + RS]
    session.receive(b'{"type":7,"error":"Connection closed because of an error!"}' + RS.encode(), True, 19.0)
    assert session.drain_events()[-1].text == "the server closed the hub: Connection closed because of an error!"


def test_signalr_refused_handshake_and_malformed_frames():
    session = SignalRSession()
    session.start(0.0)
    for frame in (b"{\"error\":\"Requested protocol 'messagepack' is not available.\"}\x1e", b'{"type":1}',
                  b"nonsense\x1e", b"\x00\x01"):
        session.receive(frame, frame != b"\x00\x01", 1.0)
    assert [e.text for e in session.drain_events()] == [
        "SignalR handshake refused: Requested protocol 'messagepack' is not available.",
        "SignalR: a SignalR JSON frame ends with the record separator 0x1E",
        "SignalR: message 1 is not JSON: Expecting value at character 1",
        "SignalR: a binary message: this session speaks the JSON protocol",
    ]


def test_phoenix_join_push_reply_heartbeat_and_leave():
    session = PhoenixSession(heartbeat_s=30)
    assert session.start(0.0) == []
    join = session.invoke("join", 0.0, topic="room:lobby", payload='{"user": "ann"}')
    assert _texts(join.messages) == ['["1","1","room:lobby","phx_join",{"user":"ann"}]']
    session.receive(b'["1","1","room:lobby","phx_reply",{"status":"ok","response":{}}]', True, 0.1)
    assert session.drain_events()[0].text == "ok for join room:lobby: {}"
    push = session.invoke("push", 1.0, topic="room:lobby", event="new_msg", payload={"body": "hi"})
    assert _texts(push.messages) == ['["1","2","room:lobby","new_msg",{"body":"hi"}]'] and push.ref == "2"
    session.receive(b'[null,null,"room:lobby","new_msg",{"body":"hi"}]', True, 1.1)
    assert session.drain_events()[0].data["event"] == "new_msg"
    assert session.next_deadline() == 30.0
    assert _texts(session.tick(30.0)) == ['[null,"3","phoenix","heartbeat",{}]']
    session.receive(b'[null,"3","phoenix","phx_reply",{"status":"ok","response":{}}]', True, 30.1)
    assert session.drain_events() == [] and _texts(session.tick(60.0)) == ['[null,"4","phoenix","heartbeat",{}]']
    # the next heartbeat finds the last one unanswered: the server is gone
    session.tick(90.0)
    assert session.drain_events()[-1].text.startswith("Phoenix: heartbeat 4 unanswered for 30 s")
    leave = session.invoke("leave", 91.0, topic="room:lobby")
    assert _texts(leave.messages) == ['["1","5","room:lobby","phx_leave",{}]']


def test_phoenix_refuses_a_push_before_join_and_reads_malformed_frames_as_errors():
    session = PhoenixSession()
    session.start(0.0)
    with pytest.raises(ProtocolError, match="join room:1 before pushing to it"):
        session.invoke("push", 0.0, topic="room:1", event="x")
    for frame in (b'{"event":"x"}', b"[1,2,3]", b"[", b'["1","9","t","phx_reply",{"status":"ok"}]'):
        session.receive(frame, True, 1.0)
    assert [e.text for e in session.drain_events()] == [
        "Phoenix: a Phoenix V2 message is an array of 5: [join_ref, ref, topic, event, payload]",
        "Phoenix: a Phoenix V2 message is an array of 5: [join_ref, ref, topic, event, payload]",
        "Phoenix: not JSON: Expecting value at character 2",
        "Phoenix: a reply 9 to nothing we sent",
    ]


def test_socketio_binary_emit_and_a_binary_event_from_the_server():
    session = SocketIoSession(namespace="/chat", auth={"token": "t"})
    assert session.start(0.0) == []
    assert _texts(session.receive(b'0{"sid":"s","pingInterval":25000,"pingTimeout":20000}', True, 0.0)) == [
        '40/chat,{"token":"t"}']
    invoked = session.invoke("emit", 1.0, event="up", args=[{"$bytes": "0102"}, "x"], ack=True, namespace="/chat")
    assert [m.payload for m in invoked.messages] == [b'451-/chat,0["up",{"_placeholder":true,"num":0},"x"]',
                                                     b"\x01\x02"]
    assert not invoked.messages[1].text
    heard: list[str] = []
    session.on("event:file", lambda event: heard.append(event.text))
    assert session.receive(b'451-["file",{"_placeholder":true,"num":0}]', True, 2.0) == []
    assert heard == []  # the event waits for its attachment
    session.receive(b"\xff", False, 2.1)
    assert session.drain_events()[-1].data["args"] == [{"$bytes": "ff"}]
    assert heard == ['file [{"$bytes":"ff"}]']
    assert _texts(session.receive(b"2", True, 3.0)) == ["3"]


@pytest.mark.parametrize("name, frames", [
    ("socket.io", [(b"", True), (b"9", True), (b"4x", True), (b'0"x"', True), (b"42[1]", True), (b"\xc3", True),
                   (b'451-["a",{"_placeholder":true,"num":5}]', True), (b"\x00", False)]),
    ("stomp", [(b"", True), (b"HELLO\n\n\x00", True), (b"MESSAGE\nx\n\n\x00", True), (b"MESSAGE\n\nbody", True),
               (b"CONNECTED\nheart-beat:a,b\n\n\x00", True)]),
    ("graphql", [(b"[]", True), (b"{", True), (b'{"type":"bogus"}', True), (b"\xff", True)]),
    ("mqtt", [(b"\x00\x00", False), (b"text", True), (b"\x20\x02\x00", False), (b"\x30\x03\x00\x05a", False)]),
], ids=["socket.io", "stomp", "graphql", "mqtt"])
def test_malformed_frames_are_one_line_errors(name, frames):
    session = make_session(name)
    session.start(0.0)
    for payload, text in frames:
        session.receive(payload, text, 1.0)
    errors = [e for e in session.drain_events() if e.kind == "error"]
    assert len(errors) >= len(frames) - 1  # an incomplete MQTT packet waits for its rest
    assert all("\n" not in e.text and e.text.startswith(session.title + ":") for e in errors), errors


def test_graphql_answers_ping_with_pong_and_the_legacy_keep_alive_is_quiet():
    session = GraphQlSession()
    session.start(0.0)
    assert _texts(session.receive(b'{"type":"ping","payload":{"n":1}}', True, 1.0)) == [
        '{"type":"pong","payload":{"n":1}}']
    legacy = GraphQlSession(protocol=LEGACY)
    legacy.start(0.0)
    assert legacy.receive(b'{"type":"ka"}', True, 1.0) == [] and legacy.drain_events() == []
    assert legacy.last_keep_alive == 1.0
    ident = legacy.invoke("subscribe", 1.0, query="{ hello }").ref
    legacy.receive(b'{"type":"connection_ack"}', True, 1.1)
    assert _texts(legacy.invoke("complete", 2.0, id=ident).messages) == ['{"id":"1","type":"stop"}']


def test_mqtt_answers_qos1_and_qos2_publishes_and_pings_at_the_keep_alive():
    session = MqttSession(keep_alive=10)
    [connect] = session.start(0.0)
    assert connect.payload == b"\x10\x17\x00\x04MQTT\x04\x02\x00\x0a\x00\x0bwsinspector" and not connect.text
    assert session.next_deadline() == 10.0
    # a QoS 1 PUBLISH (topic a, id 7) and half of a QoS 2 one in the same frame, the rest in the next
    answers = session.receive(b"\x32\x06\x00\x01a\x00\x07x" + b"\x34\x06\x00\x01b", False, 1.0)
    assert [m.payload for m in answers] == [b"\x40\x02\x00\x07"]
    answers = session.receive(b"\x00\x08y", False, 1.1)
    assert [m.payload for m in answers] == [b"\x50\x02\x00\x08"]
    assert [m.payload for m in session.receive(b"\x62\x02\x00\x08", False, 1.2)] == [b"\x70\x02\x00\x08"]
    assert session.next_deadline() == pytest.approx(11.2)
    assert [m.payload for m in session.tick(11.2)] == [b"\xc0\x00"]
    session.tick(21.2)
    assert session.drain_events()[-1].text == "MQTT: no PINGRESP within 10 s: the broker is gone"


def test_verbs_describe_their_fields_and_refuse_bad_ones():
    for session_class in SESSIONS.values():
        session = session_class()
        assert session.verbs() and all(v.name and v.title for v in session.verbs())
        assert set(session.handlers()) == {v.name for v in session.verbs()}
    emit = SocketIoSession().verbs()[0]
    assert [(f.name, f.kind, f.required) for f in emit.fields] == [
        ("event", "text", True), ("args", "json", False), ("ack", "bool", False), ("namespace", "text", False)]
    assert emit.fields[1].help == "a JSON array of arguments"
    stomp = StompSession()
    with pytest.raises(ProtocolError, match="send needs destination"):
        stomp.invoke("send", 0.0, body="x")
    with pytest.raises(ProtocolError, match="has no verb 'fly'"):
        stomp.invoke("fly", 0.0)
    with pytest.raises(ProtocolError, match="args is not JSON"):
        SocketIoSession().invoke("emit", 0.0, event="x", args="[1,")
    with pytest.raises(ProtocolError, match="qos must be one of 0, 1, 2"):
        MqttSession().invoke("subscribe", 0.0, topic="a", qos="3")
    assert mode_for("auto", "socket.io") == "socket.io" and mode_for("auto", "json") == ""
