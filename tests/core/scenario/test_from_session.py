"""A test built from a recorded session's messages."""

from __future__ import annotations

from tests.core.scenario.helpers import Peer
from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.scenario.from_session import RecordedMessage, scenario_from_frames
from wsinspector.core.scenario.model import (
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    SendStep,
    TextMatcher,
    TextPayload,
)
from wsinspector.core.scenario.run import Replay
from wsinspector.core.scenario.variables import check_variables
from wsinspector.core.scenario.yaml_io import dump, load


def test_scenario_from_frames():
    s = 1_000_000_000
    frames: list[RecordedMessage] = [
        (s + 100_000_000, "out", 1, b'{"op": "login", "user": "ann"}'),
        (s + 150_000_000, "in", 1, b'{"op": "welcome", "session": "s-1"}'),
        (s + 160_000_000, "in", Opcode.PING, b"hb"),
        (s + 170_000_000, "out", Opcode.PONG, b"hb"),
        (s + 400_123_456, Direction.OUT, Opcode.TEXT, b"resume s-1"),
        (s + 500_000_000, "in", 1, b"42"),
        (s + 500_000_000, "out", 2, b"\x00\xff"),
        (s + 600_000_000, "in", 2, b"\x01"),
        (s + 700_000_000, "out", 1, b"[1, 2]"),
        (s + 800_000_000, "in", 1, b"{not json"),
        (s + 900_000_000, "out", Opcode.CLOSE, close_payload(1000)),
        (s + 950_000_000, "in", Opcode.CLOSE, close_payload(1000)),
    ]
    test = scenario_from_frames(frames, "Recorded", "ws://h/", started_ns=s, headers=[("A", "b")])
    assert test.name == "Recorded" and test.url == "ws://h/" and test.headers == (("A", "b"),)
    assert test.steps == (
        SendStep(JsonPayload({"op": "login", "user": "ann"}), delay_s=0.1),
        ExpectStep(JsonMatcher({"op": "welcome", "session": "s-1"})),
        SendStep(TextPayload("resume s-1"), delay_s=0.25),
        ExpectStep(TextMatcher("42")),  # JSON, but not an object or array: exact text
        SendStep(BinaryPayload(b"\x00\xff"), delay_s=0.0),
        ExpectStep(BytesMatcher(b"\x01")),
        SendStep(JsonPayload([1, 2]), delay_s=0.1),
        ExpectStep(TextMatcher("{not json")),
    )
    assert load(dump(test)) == test
    without_start = scenario_from_frames(frames[:1], "x", "ws://h/")
    assert without_start.steps == (SendStep(JsonPayload({"op": "login", "user": "ann"}), delay_s=None),)


def test_a_recorded_text_with_braces_becomes_a_test_that_runs():
    braces = "héllo {{notavar}}".encode()
    recorded = [(1, "out", Opcode.TEXT, braces), (2, "in", Opcode.TEXT, braces),
                (3, "out", Opcode.TEXT, b'{"tpl": "{{x}} and {{ y }}"}')]
    test = scenario_from_frames(recorded, "t", "ws://h/{{host}}", variables=(("host", "example"), ("x", "1")))
    assert test.variables == (("host", "example"), ("x", "1"), ("notavar", "{{notavar}}"), ("y", "{{y}}"))
    check_variables(test)
    result = Peer(Replay(test)).run({braces: [(0.1, Opcode.TEXT, braces)]})
    assert result.ok, result.steps
    assert load(dump(test)) == test
