"""SignalR's JSON hub protocol beyond the happy path (ASP.NET Core HubProtocol.md gives the messages): a failed
completion, a cancelled stream, the client's keep-alive ping, a silent server reported once, and refusals."""

from __future__ import annotations

import pytest

from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.signalr import SignalRSession

RS = "\x1e"


def _texts(messages) -> list[str]:
    return [m.payload.decode() for m in messages]


def _handshaken(**options) -> SignalRSession:
    session = SignalRSession(**options)
    session.start(0.0)
    session.receive(b"{}" + RS.encode(), True, 0.0)
    session.drain_events()
    return session


def test_a_failed_completion_a_cancel_and_unknown_messages():
    session = _handshaken()
    invoked = session.invoke("invoke", 1.0, target="Divide", arguments="[1, 0]")
    session.receive(('{"type":3,"invocationId":"' + invoked.ref + '","error":"divide by zero"}' + RS).encode(),
                    True, 1.1)
    session.receive(b'{"type":3,"invocationId":"77","error":"lost"}' + RS.encode(), True, 1.2)
    session.receive(b'{"type":6}' + RS.encode(), True, 1.3)  # the server's ping: nothing to do
    session.receive(b'{"type":9}' + RS.encode(), True, 1.4)
    session.receive(b'{"type":7}' + RS.encode(), True, 1.5)
    failed, lost, odd, closed = session.drain_events()
    assert failed.kind == "error" and failed.text == "Divide failed: divide by zero"
    assert lost.text == "invocation 77 failed: lost"
    assert odd.text == "SignalR: a message of type 9 from the server"
    assert closed.text == "the server closed the hub" and session.closed
    assert session.next_deadline() is None


def test_stream_cancel_and_a_single_argument():
    session = _handshaken()
    stream = session.invoke("stream", 1.0, target="Counter", arguments="5")
    assert _texts(stream.messages) == ['{"type":4,"target":"Counter","arguments":[5],"invocationId":"0"}' + RS]
    assert _texts(session.invoke("cancel", 2.0, id="0").messages) == ['{"type":5,"invocationId":"0"}' + RS]
    assert session.pending == {}


def test_keep_alive_and_a_silent_server():
    session = _handshaken(keep_alive_s=15, server_timeout_s=30)
    assert session.next_deadline() == pytest.approx(15.0)
    assert _texts(session.tick(15.0)) == ['{"type":6}' + RS]
    assert session.next_deadline() == pytest.approx(30.0)
    session.tick(30.0)
    silent = [e for e in session.drain_events() if e.kind == "error"]
    assert [e.text for e in silent] == ["SignalR: nothing from the server for 30 s"]
    assert session.next_deadline() == pytest.approx(45.0)
    session.tick(31.0)
    assert session.drain_events() == []
    # before the handshake nothing is kept alive
    fresh = SignalRSession()
    fresh.start(0.0)
    assert fresh.next_deadline() is None and fresh.tick(100.0) == []


def test_a_call_needs_a_target():
    session = _handshaken()
    with pytest.raises(ProtocolError, match="target"):
        session.invoke("send", 1.0, target="")
