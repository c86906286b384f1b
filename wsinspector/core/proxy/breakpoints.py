"""A recording proxy's breakpoints: rules that pause messages, and the queue of paused messages, without
clocks or sockets.

Directions are the proxy's: ``out`` a message the client sent, on its way to the upstream server; ``in`` a
message the upstream server sent, on its way to the client. A rule matches a text message by its text as an
auto-reply rule does (equals, contains, a regular expression, a JSON path's value:
:func:`wsinspector.core.sending.text_matches`), or every message of its direction (binary ones included).

A paused message waits for the user: forward it (edited or not) or drop it. The messages of its direction that
come after it wait behind it, so the order on each hop is the order in which they were sent; the other
direction goes on. A message injected goes out at once.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.jsonpath import JsonPathError, parse_json_path
from wsinspector.core.sending import MATCH_KINDS, text_matches

#: a rule's kinds of match: every message of its direction, or a text match
BREAK_KINDS = ("every", *MATCH_KINDS)
#: how a rule names its direction (both: either)
_DIRECTIONS = {"out": Direction.OUT, "in": Direction.IN, "both": None}
#: how a rule is written on the command line
RULE_SYNTAX = "DIRECTION:KIND[:PATTERN] with DIRECTION out, in or both and KIND " + ", ".join(BREAK_KINDS)


class BreakpointError(ValueError):
    """A rule that cannot be used, or an action on a message that is not paused (the message says which)."""


@dataclass(frozen=True, slots=True)
class BreakRule:
    """Pause the messages of ``direction`` (None: both) that match: ``every`` message, or a text message whose
    text ``equals`` / ``contains`` ``pattern``, is searched by the ``regex`` ``pattern``, or is JSON whose value
    at ``path`` equals ``pattern`` (``json``)."""

    direction: Direction | None
    match: str
    pattern: str = ""
    path: str = ""

    def check(self) -> None:
        """BreakpointError saying what is wrong with the rule."""
        if self.match not in BREAK_KINDS:
            raise BreakpointError(f"a breakpoint matches by {', '.join(BREAK_KINDS)}, not {self.match!r}")
        if self.match == "regex":
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise BreakpointError(f"breakpoint {self.describe()}: not a regular expression: {exc}") from None
        if self.match == "json":
            try:
                parse_json_path(self.path)
            except JsonPathError as exc:
                raise BreakpointError(f"breakpoint {self.describe()}: {exc}") from None

    def matches(self, direction: Direction, opcode: Opcode, payload: bytes) -> bool:
        if self.direction is not None and direction is not self.direction:
            return False
        if self.match == "every":
            return True
        if opcode is not Opcode.TEXT:
            return False
        return text_matches(self.match, self.pattern, self.path, payload.decode("utf-8", "replace"))

    def describe(self) -> str:
        """The rule as it is written (see :func:`parse_rule`)."""
        side = "both" if self.direction is None else self.direction.value
        if self.match == "every":
            return f"{side}:every"
        if self.match == "json":
            return f"{side}:json:{self.path}={self.pattern}"
        return f"{side}:{self.match}:{self.pattern}"


def parse_rule(text: str) -> BreakRule:
    """A rule written ``DIRECTION:KIND[:PATTERN]``: ``out:regex:^subscribe``, ``in:contains:error``,
    ``both:every``, ``out:json:$.type=subscribe`` (the path, ``=``, the value: a JSON string compares by its
    text). BreakpointError says what is wrong."""
    side, _, rest = text.partition(":")
    kind, colon, pattern = rest.partition(":")
    if side not in _DIRECTIONS:
        raise BreakpointError(f"breakpoint {text!r}: write it {RULE_SYNTAX}")
    if kind != "every" and not colon:
        raise BreakpointError(f"breakpoint {text!r}: {kind or 'the kind'} needs a pattern after a colon")
    path = ""
    if kind == "json":
        path, equals, pattern = pattern.partition("=")
        if not equals:
            raise BreakpointError(f"breakpoint {text!r}: write a JSON one as json:$.path=value")
    rule = BreakRule(_DIRECTIONS[side], kind, pattern, path)
    rule.check()
    return rule


@dataclass(slots=True)
class Held:
    """A message the breakpoints hold: paused by ``rule``, or waiting behind a paused one (``rule`` None)."""

    id: int
    direction: Direction
    opcode: Opcode
    payload: bytes
    rule: BreakRule | None
    #: what the user decided: "" (not yet), "forward" or "drop"
    decision: str = ""
    #: the payload was edited
    edited: bool = False


@dataclass(frozen=True, slots=True)
class Release:
    """A message to send now: ``out`` to the upstream server, ``in`` to the client."""

    direction: Direction
    opcode: Opcode
    payload: bytes
    #: what the user did to it: "" (nothing: it was not paused, or waited behind a paused one), "forwarded",
    #: "edited" (forwarded edited) or "injected"
    action: str = ""
    #: the id it was held under (0: never held)
    id: int = field(default=0, compare=False)


@dataclass(slots=True)
class Breakpoints:
    """The rules and the messages they hold, per direction in arrival order."""

    rules: list[BreakRule] = field(default_factory=list)
    #: where held messages get their ids (shared by the clients of one proxy, so an id names one message)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _queues: dict[Direction, deque[Held]] = field(
        default_factory=lambda: {Direction.OUT: deque(), Direction.IN: deque()})

    def set_rules(self, rules: Iterable[BreakRule]) -> list[Release]:
        """Use these rules from now on; messages paused by a rule no longer given go on (returned, to send)."""
        self.rules = list(rules)
        for rule in self.rules:
            rule.check()
        for queue in self._queues.values():
            for held in queue:
                if held.rule is not None and held.rule not in self.rules and not held.decision:
                    held.decision = "forward"
        return self._flush()

    def offer(self, direction: Direction, opcode: Opcode, payload: bytes) -> Release | Held:
        """A whole message read from one hop: the :class:`Release` to send on at once, or the :class:`Held`
        message that waits (paused by a rule, or behind a paused message of its direction)."""
        queue = self._queues[direction]
        rule = next((r for r in self.rules if r.matches(direction, opcode, payload)), None)
        if rule is None and not queue:
            return Release(direction, opcode, payload)
        held = Held(next(self.ids), direction, opcode, payload, rule)
        queue.append(held)
        return held

    @property
    def paused(self) -> list[Held]:
        """The messages waiting for a decision, oldest first (both directions, by id)."""
        waiting = [h for queue in self._queues.values() for h in queue if h.rule is not None and not h.decision]
        return sorted(waiting, key=lambda h: h.id)

    def held(self, direction: Direction) -> int:
        """How many messages of a direction wait (paused, or behind a paused one)."""
        return len(self._queues[direction])

    def _find(self, message_id: int) -> Held:
        for queue in self._queues.values():
            for held in queue:
                if held.id == message_id and held.rule is not None and not held.decision:
                    return held
        raise BreakpointError(f"message {message_id} is not paused")

    def edit(self, message_id: int, payload: bytes, opcode: Opcode | None = None) -> None:
        """Change a paused message before it is forwarded (``opcode``: TEXT or BINARY, else its own)."""
        held = self._find(message_id)
        if opcode is not None and opcode not in (Opcode.TEXT, Opcode.BINARY):
            raise BreakpointError("a message is text or binary")
        held.payload = payload
        held.opcode = opcode or held.opcode
        held.edited = True

    def forward(self, message_id: int, payload: bytes | None = None) -> list[Release]:
        """Send a paused message on (``payload``: edited first); returns what goes out now, in order: it, and
        the messages that waited behind it up to the next paused one (nothing while an earlier one is
        paused)."""
        if payload is not None:
            self.edit(message_id, payload)
        self._find(message_id).decision = "forward"
        return self._flush()

    def drop(self, message_id: int) -> list[Release]:
        """Never send a paused message; returns what goes out now (as :meth:`forward`)."""
        self._find(message_id).decision = "drop"
        return self._flush()

    def inject(self, direction: Direction, opcode: Opcode, payload: bytes) -> Release:
        """A message of the user's own, sent at once (``out`` to the upstream server, ``in`` to the client),
        ahead of any that wait."""
        if opcode not in (Opcode.TEXT, Opcode.BINARY):
            raise BreakpointError("a message is text or binary")
        return Release(direction, opcode, payload, "injected")

    def discard(self, direction: Direction) -> list[Held]:
        """The hop a direction goes to has closed: what waited for it is lost (returned, oldest first)."""
        queue = self._queues[direction]
        lost = list(queue)
        queue.clear()
        return lost

    def _flush(self) -> list[Release]:
        out: list[Release] = []
        for queue in self._queues.values():
            while queue and (queue[0].rule is None or queue[0].decision):
                held = queue.popleft()
                if held.decision != "drop":
                    action = "" if held.rule is None else ("edited" if held.edited else "forwarded")
                    out.append(Release(held.direction, held.opcode, held.payload, action, held.id))
        return out

