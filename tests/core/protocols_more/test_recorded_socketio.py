"""A recorded Socket.IO session becomes a protocol test: the first CONNECT gives the options (its secrets as
variables), emits, acks, binary attachments and later connects become steps; a recording that does not read as
Socket.IO stays plain."""

from __future__ import annotations

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.scenario.from_protocol import protocol_steps
from wsinspector.core.scenario.model import EventStep, VerbStep

OUT, IN, TEXT, BINARY = Direction.OUT, Direction.IN, Opcode.TEXT, Opcode.BINARY


def test_a_recorded_socketio_session_becomes_verbs_and_expectations():
    recorded = [
        (1_000_000_000, IN, TEXT, b'0{"sid":"s","pingInterval":25000,"pingTimeout":20000}'),
        (1_000_000_000, OUT, TEXT, b'40{"token":"secret-value","user":"ann"}'),
        (1_100_000_000, IN, TEXT, b'40{"sid":"x"}'),
        (1_200_000_000, OUT, TEXT, b'420["hello",1]'),
        (1_300_000_000, IN, TEXT, b'430["ok"]'),
        (1_400_000_000, OUT, TEXT, b'40/admin,{"password":"pw"}'),
        (1_500_000_000, OUT, TEXT, b'451-/admin,["upload",{"_placeholder":true,"num":0}]'),
        (1_600_000_000, OUT, BINARY, b"\x01\x02"),
        (1_650_000_000, IN, BINARY, b"\x09"),  # an attachment nothing waits for
        (1_700_000_000, IN, TEXT, b'42["news",{"n":1}]'),
        (1_800_000_000, OUT, TEXT, b"41/admin,"),
        (1_900_000_000, IN, TEXT, b"2"),
    ]
    found = protocol_steps("socket.io", recorded, started_ns=900_000_000)
    assert found is not None
    steps, options = found
    assert options == (("namespace", "/"), ("auth", '{"token":"{{token}}","user":"ann"}'))
    assert steps == (
        VerbStep("emit", (("event", "hello"), ("args", [1]), ("ack", True)), 0.1),
        EventStep("ack", ["ok"]),
        VerbStep("connect", (("namespace", "/admin"), ("auth", {"password": "{{password}}"})), 0.1),
        VerbStep("emit", (("event", "upload"), ("args", [{"$bytes": "0102"}]), ("namespace", "/admin")), 0.1),
        EventStep("event", [{"n": 1}], True, "news"),
        VerbStep("disconnect", (("namespace", "/admin"),), 0.1),
    )


def test_a_recording_that_is_not_socketio_stays_plain():
    assert protocol_steps("socket.io", [(0, OUT, TEXT, b"4not a packet")]) is None
    assert protocol_steps("graphql", [(0, OUT, BINARY, b"\x00")]) is None
