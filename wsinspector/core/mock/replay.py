"""A recording as a mock's route: what the server sent before the client's first message is sent when a client
connects; the n-th message of a client is answered by what the server sent after the n-th client message of
the recording, with the recorded gaps scaled by the speed (0: none)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.mock.model import SEND, WAIT, Action, Route, json_text
from wsinspector.core.profiles import UnknownVariableError, expand
from wsinspector.core.scenario.model import (
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    Scenario,
    SendStep,
    TextMatcher,
    WaitStep,
)

__all__ = ["Recorded", "messages_of", "route_from_messages", "route_from_test"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """One whole message of a recording: who sent it, its bytes, and when (seconds from any origin)."""

    from_client: bool
    is_text: bool
    data: bytes
    at: float


def messages_of(frames: Iterable[Frame], client_direction: Direction) -> list[Recorded]:
    """The whole data messages of a recording's frames (control frames left out); ``client_direction``: the
    direction the client's frames have in it (OUT for a connection wsinspector made, IN for a server's)."""
    messages: list[Recorded] = []
    parts: list[bytes] = []
    first: Frame | None = None
    for frame in frames:
        if frame.opcode.is_control or frame.note.startswith("rejected"):
            continue
        if frame.opcode is not Opcode.CONTINUATION:
            parts, first = [], frame
        if first is None:
            continue
        parts.append(frame.payload)
        if frame.fin is not False:
            messages.append(Recorded(first.direction is client_direction, first.opcode is Opcode.TEXT,
                                     b"".join(parts), frame.ts_ns / 1e9))
            parts, first = [], None
    return messages


def _send(message: Recorded) -> Action:
    return Action(SEND, data=message.data, is_text=message.is_text)


def route_from_messages(messages: list[Recorded], speed: float = 1.0) -> Route:
    """The route that plays ``messages`` back as the server (see the module's docstring)."""

    def gap(seconds: float) -> list[Action]:
        return [Action(WAIT, seconds=seconds / speed)] if speed > 0 and seconds > 0 else []

    on_connect: list[Action] = []
    groups: list[list[Action]] = []
    last_at: float | None = None
    for message in messages:
        if message.from_client:
            groups.append([])
            last_at = message.at
            continue
        target = groups[-1] if groups else on_connect
        if last_at is not None:
            target.extend(gap(message.at - last_at))
        target.append(_send(message))
        last_at = message.at
    return Route(path="*", on_connect=tuple(on_connect), sequence=tuple(tuple(group) for group in groups))


def route_from_test(test: Scenario) -> tuple[Route, list[str]]:
    """A test file played back as the server: its ``send`` steps are the client's messages, its ``expect``
    steps with an exact text, JSON or binary value the replies (``wait`` steps their pauses). Returns the route
    and what could not be played (one line each)."""
    variables = dict(test.variables)
    warnings: list[str] = []
    on_connect: list[Action] = []
    groups: list[list[Action]] = []
    for index, step in enumerate(test.steps):
        target = groups[-1] if groups else on_connect
        if isinstance(step, SendStep):
            groups.append([])
            continue
        if isinstance(step, WaitStep) and step.seconds is not None:
            target.append(Action(WAIT, seconds=step.seconds))
        elif isinstance(step, ExpectStep):
            action = _expected(step, variables)
            if action is None:
                warnings.append(f"step {index + 1}: only an exact text, JSON or binary message can be sent back; "
                                "this expectation is skipped")
            else:
                target.append(action)
        elif not isinstance(step, WaitStep):
            warnings.append(f"step {index + 1}: not a message the server sends; skipped")
    return Route(path="*", on_connect=tuple(on_connect), sequence=tuple(tuple(g) for g in groups)), warnings


def _expected(step: ExpectStep, variables: dict[str, str]) -> Action | None:
    matcher = step.matcher
    if isinstance(matcher, BytesMatcher):
        return Action(SEND, data=matcher.data, is_text=False)
    if isinstance(matcher, TextMatcher):
        text = matcher.text
    elif isinstance(matcher, JsonMatcher):
        text = json_text(matcher.value)
    else:
        return None
    with contextlib.suppress(UnknownVariableError):  # a value the test captured while it ran: sent as written
        text = expand(text, variables)
    return Action(SEND, data=text.encode("utf-8", "surrogatepass"))
