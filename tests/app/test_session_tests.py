"""Tests made from sessions read the session interface: a live log and the stored session it recorded give
the same test."""

from __future__ import annotations

import pytest

from tests.core.test_session_interface import KINDS, as_kind
from tests.core.test_stored_session import mixed_session
from wsinspector.app.tests import SessionTooLongError, recorded_messages, scenario_from_session
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.scenario.model import BinaryPayload, BytesMatcher, ExpectStep, SendStep, TextMatcher, TextPayload
from wsinspector.core.store import Store


@pytest.mark.parametrize("kind", KINDS)
def test_a_test_of_a_session_has_a_step_per_complete_message(kind: str, store: Store) -> None:
    log = mixed_session()
    session = as_kind(kind, log, store)
    messages = recorded_messages(session)
    assert [(direction, opcode) for _, direction, opcode, _ in messages][:5] == [
        (Direction.OUT, Opcode.TEXT), (Direction.IN, Opcode.TEXT), (Direction.IN, Opcode.BINARY),
        (Direction.IN, Opcode.TEXT), (Direction.OUT, Opcode.TEXT)]
    assert messages[4] == (log.ts_ns(10), Direction.OUT, Opcode.TEXT, "frag ✓ one, two, three".encode())
    test = scenario_from_session(session, "t", "ws://x/")
    assert len(test.steps) == 13
    assert test.steps[0] == SendStep(TextPayload("hello"), delay_s=0.0)
    assert isinstance(test.steps[1], ExpectStep) and test.steps[1].matcher == TextMatcher("hello")
    assert test.steps[4] == SendStep(TextPayload("frag ✓ one, two, three"), delay_s=0.0)
    assert isinstance(test.steps[7], ExpectStep)
    assert test.steps[7].matcher == BytesMatcher(bytes(range(256)) * 2 + b"\x10" * 300 + b"\x20\x21")
    assert test.steps[12] == SendStep(BinaryPayload(b"\x01\x02"), delay_s=0.0)
    with pytest.raises(SessionTooLongError):
        recorded_messages(session, limit=12)
    assert len(recorded_messages(session, limit=13)) == 13
