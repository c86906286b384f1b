"""STOMP 1.2 byte for byte beyond the happy path: receipts matched to what asked for them, heart-beats both ways
as the CONNECTED frame agrees them, a silent broker reported once, and refusals in one line (STOMP 1.2
specification, "Heart-beating" and "RECEIPT")."""

from __future__ import annotations

import pytest

from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.stomp import StompSession, encode_frame


def _texts(messages) -> list[str]:
    return [m.payload.decode() for m in messages]


def _connected(broker_beat: str = "0,0", **options) -> StompSession:
    session = StompSession(**options)
    session.start(0.0)
    session.receive(f"CONNECTED\nversion:1.2\nheart-beat:{broker_beat}\n\n\x00".encode(), True, 0.0)
    session.drain_events()
    return session


def test_receipts_are_matched_and_a_stray_one_is_an_error():
    session = _connected()
    sent = session.invoke("send", 1.0, destination="/queue/a", body="hi", headers='{"priority": 9}',
                          receipt=True)
    assert _texts(sent.messages) == [
        "SEND\ndestination:/queue/a\ncontent-type:text/plain\npriority:9\nreceipt:receipt-0\ncontent-length:2\n\nhi\x00"]
    session.receive(b"RECEIPT\nreceipt-id:receipt-9\n\n\x00", True, 1.1)
    session.receive(b"RECEIPT\nreceipt-id:receipt-0\n\n\x00", True, 1.2)
    stray, matched = session.drain_events()
    assert stray.kind == "error" and stray.text == "STOMP: a RECEIPT 'receipt-9' for nothing we asked"
    assert matched.kind == "ack" and matched.text == "receipt receipt-0 for SEND /queue/a"


def test_disconnect_receipt_closes_and_ack_nack_use_the_version_header():
    session = _connected()
    assert _texts(session.invoke("ack", 1.0, id="m-1").messages) == ["ACK\nid:m-1\n\n\x00"]
    assert _texts(session.invoke("nack", 1.0, id="m-2").messages) == ["NACK\nid:m-2\n\n\x00"]
    assert _texts(session.invoke("unsubscribe", 1.0, id="sub-0").messages) == ["UNSUBSCRIBE\nid:sub-0\n\n\x00"]
    disconnect = session.invoke("disconnect", 2.0)
    assert _texts(disconnect.messages) == ["DISCONNECT\nreceipt:receipt-0\n\n\x00"]
    session.receive(b"RECEIPT\nreceipt-id:receipt-0\n\n\x00", True, 2.1)
    assert session.drain_events()[0].text == "receipt receipt-0 for DISCONNECT" and session.closed
    assert session.next_deadline() is None


def test_heart_beats_agreed_sent_and_missed():
    session = _connected("2000,3000", heart_beat=(1000, 1000))
    # out: max(1000 ours, 3000 theirs) = 3 s; in: max(2000 theirs, 1000 ours) = 2 s, silent after 4 s
    assert session.send_every_s == 3.0 and session.expect_every_s == 2.0
    assert session.next_deadline() == pytest.approx(3.0)
    assert _texts(session.tick(3.0)) == ["\n"]
    session.receive(b"\n", True, 3.5)  # a heart-beat from the broker
    assert session.drain_events() == []
    assert session.next_deadline() == pytest.approx(6.0)
    session.tick(7.5)
    [silent] = session.drain_events()
    assert silent.kind == "error" and silent.text == (
        "STOMP: nothing from the broker for 4 s (heart-beats every 2 s were agreed)")
    session.tick(20.0)
    assert session.drain_events() == []


def test_server_error_frames_and_odd_commands_are_one_line_errors():
    session = _connected()
    session.receive(b"ERROR\nmessage:malformed frame received\n\nThe message:\n-----\nBAD\n-----\n\x00", True, 1.0)
    session.receive(b"SEND\ndestination:/x\n\n\x00", True, 1.1)
    error, odd = session.drain_events()
    assert error.kind == "error" and error.text.startswith("STOMP ERROR: malformed frame received")
    assert "\n" not in error.text
    assert odd.text == "STOMP: a SEND frame from the server"


def test_a_broker_heart_beat_that_is_not_numbers_is_an_error():
    session = StompSession()
    session.start(0.0)
    session.receive(b"CONNECTED\nversion:1.2\nheart-beat:soon,never\n\n\x00", True, 0.1)
    [error] = session.drain_events()
    assert error.kind == "error" and "is not two numbers" in error.text


def test_verbs_refuse_bad_fields():
    session = _connected()
    with pytest.raises(ProtocolError, match="send: headers must be a JSON object"):
        session.invoke("send", 1.0, destination="/q", headers="[1]")
    with pytest.raises(ProtocolError, match="subscribe needs a destination"):
        session.subscribe("")
    with pytest.raises(ProtocolError, match="send needs a destination"):
        session.send("")
    with pytest.raises(ProtocolError, match="cannot hold a line break"):
        encode_frame("CONNECT", [("login", "a\nb")], escape=False)
    assert _texts(session.invoke("subscribe", 1.0, destination="/t", id="s1", receipt=True).messages) == [
        "SUBSCRIBE\nid:s1\ndestination:/t\nack:auto\nreceipt:receipt-0\n\n\x00"]
