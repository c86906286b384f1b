"""A protocol test's run without a socket: the pump hands the session what arrived, sends what it says, matches
event steps (passing over others, naming them when a step waits in vain) and ticks the keep-alive."""

from __future__ import annotations

import pytest

from wsinspector.core.frames import Opcode
from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.scenario.inbox import Inbox
from wsinspector.core.scenario.model import EventStep, VerbStep
from wsinspector.core.scenario.protocol_run import ProtocolPump
from wsinspector.core.scenario.yaml_io import load

OPEN = b'0{"sid":"s","pingInterval":25000,"pingTimeout":20000}'


def _pump() -> tuple[ProtocolPump, Inbox]:
    test = load("version: 1\nurl: ws://127.0.0.1:1/\nprotocol: socket.io\n")
    return ProtocolPump(test), Inbox()


def _sent(pump: ProtocolPump) -> list[bytes]:
    out = []
    while (message := pump.next_out()) is not None:
        out.append(message.payload)
    return out


def test_a_verb_before_the_start_is_refused_and_nothing_is_fed():
    pump, inbox = _pump()
    with pytest.raises(ProtocolError, match="has not started"):
        pump.invoke(VerbStep("emit", (("event", "x"),)), {}, 0.0)
    assert pump.feed(inbox, 0.0) == "" and pump.deadline() is None


def test_events_matched_passed_over_and_differing():
    pump, inbox = _pump()
    pump.start(0.0, {})
    inbox.push(Opcode.TEXT, OPEN, 0.1)
    inbox.push(Opcode.TEXT, b"40", 0.1)
    inbox.push(Opcode.TEXT, b'42["news",1]', 0.2)
    inbox.push(Opcode.TEXT, b'42["chat",{"text":"hi","ts":5}]', 0.3)
    inbox.push(Opcode.TEXT, b"9", 0.35)
    assert pump.feed(inbox, 0.4) == ""
    assert _sent(pump) == [b"40"]
    assert pump.deadline() == pytest.approx(45.1)
    said = pump.invoke(VerbStep("emit", (("event", "{{name}}"), ("ack", True))), {"name": "hello"}, 0.5)
    assert said == "emit: 1 message(s), 12 bytes, awaiting 0" and _sent(pump) == [b'420["hello"]']
    # a step that waits for an event past its deadline sees nothing yet
    late = EventStep("event", None, False, "chat")
    assert pump.take(late, {}, 0.15) is None
    chat = pump.take(EventStep("event", [{"text": "hi"}], True, "chat", (), ("$[0].ts",)), {}, 1.0)
    assert chat is not None and chat.ok and pump.passed == 1 and pump.last_passed is not None
    assert pump.unmatched("no ack") == ("no ack; 1 other(s) passed over, the last: news [1]; the protocol said: "
                                        "Socket.IO: not an Engine.IO packet: '9' is not a packet type (0-6)")
    pump.reset_passed()
    inbox.push(Opcode.TEXT, b'430["nope"]', 0.6)
    pump.feed(inbox, 0.6)
    differs = pump.take(EventStep("ack", ["yes"], True), {}, 1.0)
    assert differs is not None and not differs.ok and differs.summary.startswith("ack differs:")
    assert pump.take(EventStep("ack", None, False), {}, 1.0) is None


def test_a_close_frame_is_described_and_the_keep_alive_ticks():
    pump, inbox = _pump()
    pump.start(0.0, {})
    inbox.push(Opcode.TEXT, OPEN, 0.0)
    pump.feed(inbox, 0.0)
    assert pump.feed(inbox, 45.0) == ""
    assert any("no ping from the server" in problem for problem in pump.problems)
    inbox.push(Opcode.CLOSE, b"\x03\xe8bye", 46.0)
    assert pump.feed(inbox, 46.0).startswith("the connection was closed (")
