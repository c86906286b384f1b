"""A recording proxy's breakpoints without sockets: which messages a rule pauses, and what goes out, in which
order, when a paused message is forwarded, edited or dropped."""

from __future__ import annotations

import pytest

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.proxy.breakpoints import BreakpointError, Breakpoints, BreakRule, Held, Release, parse_rule

IN, OUT = Direction.IN, Direction.OUT
TEXT, BINARY = Opcode.TEXT, Opcode.BINARY


@pytest.mark.parametrize(
    ("rule", "direction", "opcode", "payload", "paused"),
    [
        ("out:equals:ping", OUT, TEXT, b"ping", True),
        ("out:equals:ping", OUT, TEXT, b"ping!", False),
        ("out:equals:ping", IN, TEXT, b"ping", False),
        ("in:contains:err", IN, TEXT, b'{"error": 1}', True),
        ("both:regex:^sub(scribe)?$", IN, TEXT, b"subscribe", True),
        ("both:regex:^sub(scribe)?$", OUT, TEXT, b"sub", True),
        ("both:regex:^sub(scribe)?$", OUT, TEXT, b"unsub", False),
        ("out:json:$.type=subscribe", OUT, TEXT, b'{"type": "subscribe", "id": 1}', True),
        ("out:json:$.id=1", OUT, TEXT, b'{"type": "subscribe", "id": 1}', True),
        ("out:json:$.type=subscribe", OUT, TEXT, b"not json", False),
        ("out:contains:\x01", OUT, BINARY, b"\x01", False),
        ("in:every", IN, BINARY, b"\x00\xff", True),
        ("in:every", OUT, TEXT, b"x", False),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_rule_pauses_what_it_matches(rule: str, direction: Direction, opcode: Opcode, payload: bytes,
                                       paused: bool) -> None:
    points = Breakpoints([parse_rule(rule)])
    result = points.offer(direction, opcode, payload)
    assert isinstance(result, Held) is paused
    if not paused:
        assert result == Release(direction, opcode, payload)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sideways:every", "write it DIRECTION:KIND"),
        ("out:glob:x*", "matches by every, equals"),
        ("out:regex", "needs a pattern"),
        ("out:regex:(", "not a regular expression"),
        ("out:json:$.a", "json:$.path=value"),
        ("out:json:a.b=1", "breakpoint out:json:a.b=1"),
    ],
)
def test_a_rule_that_cannot_be_used_says_why(text: str, says: str) -> None:
    with pytest.raises(BreakpointError, match=says.replace("$", r"\$").replace(".", r"\.")):
        parse_rule(text)


def test_rules_are_written_back_as_they_are_read() -> None:
    for text in ("out:regex:^a:b", "in:json:$.type=x=y", "both:every", "in:contains:"):
        assert parse_rule(text).describe() == text


def test_what_waits_behind_a_paused_message_keeps_its_order_and_the_other_direction_goes_on() -> None:
    points = Breakpoints([BreakRule(OUT, "contains", "stop")])
    first = points.offer(OUT, TEXT, b"stop 1")
    assert isinstance(first, Held)
    behind = points.offer(OUT, TEXT, b"after")
    assert isinstance(behind, Held) and behind.rule is None, "held behind, not paused"
    second = points.offer(OUT, TEXT, b"stop 2")
    last = points.offer(OUT, BINARY, b"\x00")
    assert points.offer(IN, TEXT, b"stop in") == Release(IN, TEXT, b"stop in")
    assert [h.payload for h in points.paused] == [b"stop 1", b"stop 2"]
    assert isinstance(second, Held) and isinstance(last, Held)
    # deciding the second first sends nothing: the first still waits
    assert points.forward(second.id) == []
    assert points.held(OUT) == 4
    assert points.forward(first.id, b"stop 1, edited") == [
        Release(OUT, TEXT, b"stop 1, edited", "edited"), Release(OUT, TEXT, b"after"),
        Release(OUT, TEXT, b"stop 2", "forwarded"), Release(OUT, BINARY, b"\x00")]
    assert points.paused == [] and points.held(OUT) == 0
    assert points.offer(OUT, TEXT, b"free") == Release(OUT, TEXT, b"free")


def test_a_dropped_message_never_goes_out_and_what_waited_behind_it_does() -> None:
    points = Breakpoints([BreakRule(None, "every")])
    held = points.offer(IN, TEXT, b"secret")
    assert isinstance(held, Held)
    points.rules = []
    behind = points.offer(IN, TEXT, b"next")
    assert isinstance(behind, Held)
    assert points.drop(held.id) == [Release(IN, TEXT, b"next")]
    with pytest.raises(BreakpointError, match=f"message {held.id} is not paused"):
        points.forward(held.id)


def test_an_edit_can_change_the_kind_and_removing_the_rule_lets_its_messages_go() -> None:
    rule = BreakRule(OUT, "every")
    points = Breakpoints([rule])
    held = points.offer(OUT, TEXT, b"text")
    assert isinstance(held, Held)
    points.edit(held.id, b"\x01\x02", BINARY)
    with pytest.raises(BreakpointError, match="text or binary"):
        points.edit(held.id, b"", Opcode.PING)
    assert points.set_rules([]) == [Release(OUT, BINARY, b"\x01\x02", "edited")]


def test_injected_messages_go_at_once_and_a_closed_hop_loses_what_waited_for_it() -> None:
    points = Breakpoints([BreakRule(IN, "every")])
    assert isinstance(points.offer(IN, TEXT, b"a"), Held)
    assert isinstance(points.offer(IN, TEXT, b"b"), Held)
    assert points.inject(IN, TEXT, b"mine") == Release(IN, TEXT, b"mine", "injected")
    with pytest.raises(BreakpointError):
        points.inject(OUT, Opcode.CLOSE, b"")
    assert [held.payload for held in points.discard(IN)] == [b"a", b"b"]
    assert points.paused == []
