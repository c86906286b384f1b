"""A test built from a recorded session: what was sent becomes send steps, what was received expectations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..frames import Direction, Opcode
from ..payloads import PayloadError, decode_text, parse_json
from .from_protocol import protocol_steps
from .model import (
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Matcher,
    Payload,
    Scenario,
    SendStep,
    Step,
    TextMatcher,
    TextPayload,
)
from .variables import self_standing, step_texts, variables_in

#: (ts_ns, direction "in"/"out", opcode, payload) of one complete message
RecordedMessage = tuple[int, Direction | str, Opcode | int, bytes]


def _as_json_document(text: str) -> Any:
    """The JSON value of text that is a JSON object or array, else None."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return parse_json(text)
    except PayloadError:
        return None


def scenario_from_frames(frames: Iterable[RecordedMessage], name: str, url: str, *,
                         started_ns: int | None = None, subprotocols: Sequence[str] = (),
                         headers: Sequence[tuple[str, str]] = (),
                         variables: Sequence[tuple[str, str]] = (), protocol: str = "") -> Scenario:
    """A test from a recorded session's complete messages ``(ts_ns, direction, opcode, payload)``: outgoing
    messages become sends (JSON objects and arrays as JSON, other text as text, binary as binary) with the
    recorded gap since the message before (or since ``started_ns``, the connection, for the first) as
    ``delay_s``, in milliseconds; incoming ones become expectations (JSON, exact text, exact bytes).
    Pings, pongs and close frames are left out. With ``protocol`` (``socket.io``, ``graphql``, ``stomp``,
    ``mqtt``, ``signalr``, ``phoenix``: what the session's decoder reads it as) the test speaks it instead
    (:mod:`.from_protocol`), when every message reads as that protocol."""
    frames = list(frames)
    if protocol:
        spoken = protocol_steps(protocol, frames, started_ns)
        if spoken is not None:
            spoken_steps, options = spoken
            return Scenario(name=name, url=url, steps=spoken_steps,
                            variables=_self_standing(spoken_steps, variables),
                            subprotocols=tuple(subprotocols), headers=tuple(headers), protocol=protocol,
                            protocol_options=options)
    steps: list[Step] = []
    previous_ns = started_ns
    for ts_ns, direction, opcode, payload in frames:
        op = Opcode(opcode)
        if op not in (Opcode.TEXT, Opcode.BINARY):
            continue
        gap = None if previous_ns is None else round(max(0, ts_ns - previous_ns) / 1e9, 3)
        previous_ns = ts_ns
        text = decode_text(payload)[0] if op is Opcode.TEXT else ""
        document = _as_json_document(text) if op is Opcode.TEXT else None
        if Direction(direction) is Direction.OUT:
            send: Payload
            if op is Opcode.BINARY:
                send = BinaryPayload(bytes(payload))
            elif document is not None:
                send = JsonPayload(document)
            else:
                send = TextPayload(text)
            steps.append(SendStep(send, delay_s=gap))
        else:
            expect: Matcher
            if op is Opcode.BINARY:
                expect = BytesMatcher(bytes(payload))
            elif document is not None:
                expect = JsonMatcher(document)
            else:
                expect = TextMatcher(text)
            steps.append(ExpectStep(expect))
    return Scenario(name=name, url=url, steps=tuple(steps), variables=_self_standing(steps, variables),
                    subprotocols=tuple(subprotocols), headers=tuple(headers))


def _self_standing(steps: Sequence[Step], variables: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The variables, and for every ``{{name}}`` that a recorded message holds literally (and no variable
    defines), a variable that stands for itself, so the text is sent and expected as it was."""
    defined = dict(variables)
    extra: dict[str, str] = {}
    for step in steps:
        for _where, text in step_texts(step):
            for used in variables_in(text):
                if used not in defined:
                    extra.setdefault(used, self_standing(used))
    return (*variables, *extra.items())
