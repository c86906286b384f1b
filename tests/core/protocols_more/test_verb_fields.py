"""Every verb's fields as the user types them: unknown verbs and fields, missing ones, numbers that are not
numbers and choices outside their list are refused with one line of ProtocolError."""

from __future__ import annotations

import pytest

from wsinspector.core.protocols.base import ProtocolError, brief
from wsinspector.core.protocols.mqtt import MqttSession
from wsinspector.core.protocols.socketio import SocketIoSession
from wsinspector.core.protocols.stomp import StompSession


def _started(session):
    session.start(0.0)
    return session


@pytest.mark.parametrize(("session", "verb", "fields", "message"), [
    (SocketIoSession, "shout", {}, "Socket.IO has no verb 'shout': use emit"),
    (SocketIoSession, "emit", {"event": "x", "volume": 3}, "emit has no field 'volume'"),
    (SocketIoSession, "emit", {"args": "[1]"}, "emit needs event"),
    (SocketIoSession, "ack", {"id": True}, "ack: id must be a whole number"),
    (SocketIoSession, "ack", {"id": "first"}, 'ack: id must be a whole number, not "first"'),
    (SocketIoSession, "emit", {"event": "x", "args": "[1,"}, "emit: args is not JSON"),
    (StompSession, "subscribe", {"destination": "/q", "ack": "sometimes"}, "subscribe: ack must be one of auto"),
    (MqttSession, "subscribe", {"topic": "a", "qos": "3"}, "subscribe: qos must be one of 0"),
])
def test_bad_fields_are_refused_in_one_line(session, verb, fields, message):
    with pytest.raises(ProtocolError) as raised:
        _started(session()).invoke(verb, 1.0, **fields)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_fields_are_read_from_what_the_user_typed():
    session = _started(SocketIoSession())
    session.receive(b'0{"sid":"s","pingInterval":25000,"pingTimeout":20000}', True, 0.0)
    session.drain_events()
    # a bool given as a number, an int as text, an empty JSON field as its default
    emitted = session.invoke("emit", 1.0, event=7, args="", ack=1)
    assert [m.payload for m in emitted.messages] == [b'420["7"]']
    answered = session.invoke("ack", 1.0, id="4", args=None)
    assert [m.payload for m in answered.messages] == [b"434[]"]


def test_brief_shows_values_json_cannot():
    assert brief({1, 2}) in ("{1, 2}", "{2, 1}")
    assert brief("x" * 100).endswith("…") and len(brief("x" * 100)) == 80
