"""GraphQL over WebSocket (graphql-transport-ws and the legacy subscriptions-transport-ws) beyond the happy path:
pings answered, keep-alives noted, operations queued until the ack, malformed server messages as one-line
errors, and refusals in one line (the protocols' PROTOCOL.md documents give the messages)."""

from __future__ import annotations

import pytest

from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.graphql import LEGACY, GraphQlSession


def _texts(messages) -> list[str]:
    return [m.payload.decode() for m in messages]


def test_ping_pong_and_queued_subscribe_until_the_ack():
    session = GraphQlSession(payload={"token": "t"})
    assert _texts(session.start(0.0)) == ['{"type":"connection_init","payload":{"token":"t"}}']
    queued = session.invoke("subscribe", 0.1, query="subscription { n }", variables='{"a":1}',
                            operationName="N")
    assert queued.messages == () and queued.ref == "1"
    # an id the user picks must be free
    with pytest.raises(ProtocolError, match="an operation 1 is already running"):
        session.invoke("subscribe", 0.1, query="subscription { m }", id="1")
    assert _texts(session.receive(b'{"type":"connection_ack"}', True, 0.2)) == [
        '{"id":"1","type":"subscribe","payload":{"query":"subscription { n }","variables":{"a":1},'
        '"operationName":"N"}}']
    assert _texts(session.receive(b'{"type":"ping","payload":{"x":1}}', True, 0.3)) == [
        '{"type":"pong","payload":{"x":1}}']
    assert session.receive(b'{"type":"pong"}', True, 0.4) == []
    assert _texts(session.invoke("ping", 0.5, payload='{"y":2}').messages) == ['{"type":"ping","payload":{"y":2}}']
    session.receive(b'{"id":"1","type":"error","payload":[{"message":"boom"}]}', True, 0.6)
    events = session.drain_events()
    assert events[-1].kind == "error" and events[-1].text == 'GraphQL error for operation 1: [{"message":"boom"}]'
    assert session.operations == {}


def test_legacy_keep_alive_connection_error_and_no_ping():
    session = GraphQlSession(protocol=LEGACY)
    session.start(0.0)
    session.receive(b'{"type":"ka"}', True, 5.0)
    assert session.last_keep_alive == 5.0
    session.receive(b'{"type":"connection_error","payload":{"message":"bad token"}}', True, 6.0)
    [refused] = session.drain_events()
    assert refused.text == 'GraphQL connection refused: {"message":"bad token"}'
    with pytest.raises(ProtocolError, match="has no ping"):
        session.invoke("ping", 7.0)
    queued = session.invoke("subscribe", 7.0, query="subscription { n }")
    assert _texts(session.invoke("complete", 8.0, id=queued.ref).messages) == [f'{{"id":"{queued.ref}","type":"stop"}}']
    session.receive(b'{"type":"connection_ack"}', True, 9.0)
    assert session.drain_events()[0].kind == "connected"


def test_malformed_server_messages_are_one_line_errors():
    session = GraphQlSession()
    session.start(0.0)
    for frame in (b"{nope", b"[1]", b'{"type":"mystery"}'):
        session.receive(frame, True, 1.0)
    events = session.drain_events()
    assert [e.kind for e in events] == ["error"] * 3
    assert "not JSON" in events[0].text and "a JSON object with a type" in events[1].text
    assert "'mystery'" in events[2].text and all("\n" not in e.text for e in events)


def test_refusals():
    with pytest.raises(ProtocolError, match="not 'graphql-ws-2'"):
        GraphQlSession(protocol="graphql-ws-2")
    session = GraphQlSession()
    session.start(0.0)
    with pytest.raises(ProtocolError, match="subscribe needs a query"):
        session.subscribe("  ")
    with pytest.raises(ProtocolError, match="variables must be a JSON object"):
        session.invoke("subscribe", 0.0, query="{ a }", variables="[1]")
