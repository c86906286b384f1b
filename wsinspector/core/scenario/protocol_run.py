"""A test's protocol (``protocol:`` in the file): the session (core/protocols) that speaks it during a run.

Every message the server sends goes to the session, which answers the protocol's housekeeping itself (Engine.IO
pongs, STOMP heart-beats, GraphQL pongs, MQTT PINGREQ) and reports events; the test's verb steps (``emit``,
``subscribe``, ``publish``…) become its messages, and its event steps (``expect: {event: …}``, ``{data: …}``,
``{ack: …}``) match the events it reported."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..frames import Opcode
from ..protocols.base import Outgoing, ProtocolError, ProtocolEvent, ProtocolSession, brief
from ..protocols.registry import make_session
from .inbox import Inbox, Want
from .matching import describe_received, json_differences
from .model import EventStep, Scenario, VerbStep
from .variables import expand, expand_json

#: what the session takes from the inbox: every message and the close frame (pings and pongs are passed over)
_EVERYTHING = Want(frozenset({Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE}), frozenset())
#: where an event keeps the value an event step compares, by the first key it has
_VALUE_KEYS = ("args", "payload", "body", "item", "result", "response", "what")


def event_value(event: ProtocolEvent) -> Any:
    for key in _VALUE_KEYS:
        if key in event.data:
            return event.data[key]
    return None


def session_for(test: Scenario, variables: Mapping[str, str]) -> ProtocolSession:
    """The test's protocol session, its options' variables expanded; ProtocolError (one line) for an unknown
    protocol or option, UnknownVariableError for a variable nothing defines."""
    subprotocol = test.subprotocols[0] if test.subprotocols else ""
    options = [(name, expand(value, variables)) for name, value in test.protocol_options]
    return make_session(test.protocol, options, subprotocol)


@dataclass(frozen=True, slots=True)
class EventOutcome:
    ok: bool
    at: float
    summary: str
    expected: str
    received: str
    diff: str = ""


class ProtocolPump:
    """The session of one run, the messages it wants sent and the events it reported, in order."""

    def __init__(self, test: Scenario) -> None:
        self.test = test
        #: made when the run starts (its options may use variables a login captured)
        self.session: ProtocolSession | None = None
        self.started = False
        self._out: deque[Outgoing] = deque()
        self._events: deque[tuple[ProtocolEvent, float]] = deque()
        #: what the session said went wrong, for a step that waited in vain
        self.problems: list[str] = []
        self.passed = 0
        self.last_passed: ProtocolEvent | None = None

    def start(self, now: float, variables: Mapping[str, str]) -> None:
        """The connection is open: the session says its first messages. ProtocolError or UnknownVariableError
        when the test's options are wrong."""
        self.started = True
        self.session = session_for(self.test, variables)
        self._queue(self.session.start(now), now)

    def feed(self, inbox: Inbox, now: float) -> str:
        """Hand the session every message that arrived; the description of a close frame among them, or ""."""
        closed = ""
        if self.session is None:
            return closed
        while (item := inbox.take(_EVERYTHING, math.inf)) is not None:
            opcode, payload, at = item
            if opcode is Opcode.CLOSE:
                closed = f"the connection was closed ({describe_received(Opcode.CLOSE, payload)})"
                continue
            self._queue(self.session.receive(payload, opcode is Opcode.TEXT, at), at)
        if self.started:
            deadline = self.session.next_deadline()
            if deadline is not None and now >= deadline:
                self._queue(self.session.tick(now), now)
        return closed

    def deadline(self) -> float | None:
        return self.session.next_deadline() if self.session is not None else None

    def next_out(self) -> Outgoing | None:
        return self._out.popleft() if self._out else None

    def invoke(self, step: VerbStep, variables: Mapping[str, str], now: float) -> str:
        """Do the step's verb (variables expanded); what it did, in one line. ProtocolError or
        UnknownVariableError when it cannot."""
        if self.session is None:
            raise ProtocolError("the protocol has not started")
        fields = {name: expand_json(value, variables) for name, value in step.fields}
        invoked = self.session.invoke(step.verb, now, **fields)
        self._queue(list(invoked.messages), now)
        sent = sum(len(message.payload) for message in invoked.messages)
        awaited = f", awaiting {invoked.ref}" if invoked.ref else ""
        return f"{step.verb}: {len(invoked.messages)} message(s), {sent} bytes{awaited}"

    def _queue(self, messages: list[Outgoing], at: float) -> None:
        self._out.extend(messages)
        assert self.session is not None
        for event in self.session.drain_events():
            if event.kind == "error":
                self.problems.append(event.text)
            self._events.append((event, at))

    def reset_passed(self) -> None:
        self.passed, self.last_passed = 0, None

    def take(self, step: EventStep, variables: Mapping[str, str], deadline: float) -> EventOutcome | None:
        """The outcome of ``step`` on the events reported by ``deadline``; None while none of them is its."""
        expected_value = expand_json(step.value, variables) if step.has_value else None
        expected = _describe(step, expected_value)
        kept: list[tuple[ProtocolEvent, float]] = []  # events of other kinds stay for the steps after
        try:
            return self._take(step, expected_value, expected, deadline, kept)
        finally:
            self._events.extendleft(reversed(kept))

    def _take(self, step: EventStep, expected_value: Any, expected: str, deadline: float,
              kept: list[tuple[ProtocolEvent, float]]) -> EventOutcome | None:
        while self._events:
            event, at = self._events[0]
            if at > deadline:
                return None
            self._events.popleft()
            if event.kind != step.kind:
                kept.append((event, at))
                continue
            if not _picked(step, event):
                self.passed += 1
                self.last_passed = event
                continue
            if not step.has_value:
                return EventOutcome(True, at, "", expected, event.text)
            differences = json_differences(expected_value, event_value(event), step.ignore)
            if differences:
                return EventOutcome(False, at, f"{step.kind} differs: {differences[0]}", expected, event.text,
                                    "\n".join(differences))
            return EventOutcome(True, at, "", expected, event.text)
        return None

    def unmatched(self, message: str) -> str:
        """A step's failure message with what was passed over and what the session said went wrong."""
        if self.last_passed is not None:
            message += f"; {self.passed} other(s) passed over, the last: {self.last_passed.text}"
        if self.problems:
            message += f"; the protocol said: {self.problems[-1]}"
        return message


def _picked(step: EventStep, event: ProtocolEvent) -> bool:
    if step.event and event.data.get("event") != step.event:
        return False
    return all(str(event.data.get(key, "")) == value for key, value in step.filters)


def _describe(step: EventStep, value: Any) -> str:
    what = f"{step.kind} {step.event}".strip()
    filters = " ".join(f"{key}={value}" for key, value in step.filters)
    shown = f" {brief(value)}" if step.has_value else ""
    return f"{what}{' ' + filters if filters else ''}{shown}"
