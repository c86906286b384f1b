"""The fields of one test step as a user types them (``StepDraft``), checked and turned into a step, and the
one-line summaries the step list shows. No widgets: the editor in ``test_editor.py`` shows these."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from wsinspector.core.jsonpath import JsonPathError, parse_json_path
from wsinspector.core.payloads import PayloadError, parse_hex, parse_json
from wsinspector.core.scenario.model import (
    OPCODE_NAMES,
    BinaryPayload,
    BytesMatcher,
    EventStep,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Matcher,
    OpcodeMatcher,
    RegexMatcher,
    Scenario,
    SendStep,
    Step,
    TextMatcher,
    TextPayload,
    VerbStep,
    WaitStep,
    step_kind,
)
from wsinspector.core.scenario.yaml_io import ScenarioFileError, dump, load

SEND_KINDS = (("text", "Text"), ("json", "JSON"), ("binary", "Binary (hex)"))
MATCH_KINDS = (("text", "Exact text"), ("binary", "Exact bytes (hex)"), ("json", "JSON"),
               ("regex", "Regular expression"), ("opcode", "Any message of opcode"))
STEP_KINDS = (("send", "Send"), ("expect", "Expect"), ("wait", "Wait"))
WAIT_MODES = ((False, "A fixed time"), (True, "Until a message matches"))
_OPCODE_LABELS = {opcode: name for name, opcode in OPCODE_NAMES.items()}
_HEX_PER_LINE = 16
_SUMMARY_LIMIT = 120


def format_seconds(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def hex_lines(data: bytes) -> str:
    return "\n".join(data[i: i + _HEX_PER_LINE].hex(" ") for i in range(0, len(data), _HEX_PER_LINE))


def _one_line(text: str, limit: int = _SUMMARY_LIMIT) -> str:
    text = text.replace("\r", "").replace("\n", " ⏎ ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class DraftError(ValueError):
    """A field of the form that cannot be used: ``field`` names it (``payload``, ``delay``, ``pattern``,
    ``ignore``, ``timeout``, ``capture``, ``seconds``, ``step``), the message says what is wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_seconds(text: str, field_name: str, *, positive: bool) -> float | None:
    """Seconds typed in a field; empty is None."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DraftError(field_name, f"“{text}” is not a number of seconds (for example 2 or 0.5)") from None
    if not math.isfinite(value):
        raise DraftError(field_name, f"“{text}” is out of range")
    if positive and value <= 0:
        raise DraftError(field_name, "must be a positive number of seconds")
    if value < 0:
        raise DraftError(field_name, "must not be negative")
    return value


@dataclass
class StepDraft:
    """The fields of one step as typed; ``step`` is what they make (None while ``error`` says why not)."""

    kind: str = "send"
    name: str = ""
    send_kind: str = "text"
    payload: str = ""
    delay: str = ""
    match_kind: str = "text"
    #: the matcher's text, hex, JSON or regular expression
    pattern: str = ""
    opcode: str = "text"
    #: JSON paths to ignore, one a line
    ignore: str = ""
    timeout: str = ""
    wait_until: bool = False
    seconds: str = "1"
    capture: list[tuple[str, str]] = field(default_factory=list)
    step: Step | None = None
    error: DraftError | None = None

    @classmethod
    def from_step(cls, step: Step) -> StepDraft:
        draft = cls(name=step.name, step=step)
        if isinstance(step, VerbStep | EventStep):
            draft.kind = "protocol"  # shown and kept as the file has it
            return draft
        if isinstance(step, SendStep):
            draft.kind = "send"
            payload = step.payload
            if isinstance(payload, TextPayload):
                draft.send_kind, draft.payload = "text", payload.text
            elif isinstance(payload, JsonPayload):
                draft.send_kind, draft.payload = "json", json.dumps(payload.value, indent=2, ensure_ascii=False)
            else:
                draft.send_kind, draft.payload = "binary", hex_lines(payload.data)
            draft.delay = "" if step.delay_s is None else format_seconds(step.delay_s)
            return draft
        if isinstance(step, WaitStep) and step.until is None:
            draft.kind, draft.wait_until = "wait", False
            draft.seconds = format_seconds(step.seconds or 0.0)
            return draft
        draft.kind = "expect" if isinstance(step, ExpectStep) else "wait"
        draft.wait_until = isinstance(step, WaitStep)
        matcher = step.matcher if isinstance(step, ExpectStep) else step.until
        assert matcher is not None
        draft.set_matcher(matcher)
        draft.timeout = "" if step.timeout_s is None else format_seconds(step.timeout_s)
        draft.capture = list(step.capture)
        return draft

    @classmethod
    def new(cls, kind: str) -> StepDraft:
        draft = cls(kind=kind)
        if kind == "send":
            draft.payload = "hello"
        elif kind == "expect":
            draft.match_kind, draft.pattern = "text", "hello"
        draft.validate()
        return draft

    def set_matcher(self, matcher: Matcher) -> None:
        if isinstance(matcher, TextMatcher):
            self.match_kind, self.pattern = "text", matcher.text
        elif isinstance(matcher, BytesMatcher):
            self.match_kind, self.pattern = "binary", hex_lines(matcher.data)
        elif isinstance(matcher, JsonMatcher):
            self.match_kind = "json"
            self.pattern = json.dumps(matcher.value, indent=2, ensure_ascii=False)
            self.ignore = "\n".join(matcher.ignore)
        elif isinstance(matcher, RegexMatcher):
            self.match_kind, self.pattern = "regex", matcher.pattern
        else:
            self.match_kind, self.opcode = "opcode", _OPCODE_LABELS.get(matcher.opcode, "text")

    @property
    def valid(self) -> bool:
        return self.step is not None

    def validate(self) -> bool:
        try:
            self.step = self.build()
        except DraftError as exc:
            self.step, self.error = None, exc
            return False
        self.error = None
        return True

    # -- building -----------------------------------------------------------------------------------

    def build(self) -> Step:
        """The step these fields make, checked as the file format would check it; :class:`DraftError`."""
        if self.kind == "protocol" and isinstance(self.step, VerbStep | EventStep):
            return replace(self.step, name=self.name)
        step = self._build()
        try:
            again = load(dump(Scenario("", "ws://check", (step,)))).steps[0]
        except (ScenarioFileError, ValueError) as exc:
            raise DraftError("step", str(exc)) from None
        if again != step:
            raise DraftError("step", "this step would not read back the same from a test file")
        return step

    def _build(self) -> Step:
        if self.kind == "send":
            payload = self._payload()
            return SendStep(payload, parse_seconds(self.delay, "delay", positive=False), self.name)
        if self.kind == "wait" and not self.wait_until:
            seconds = parse_seconds(self.seconds, "seconds", positive=False)
            if seconds is None:
                raise DraftError("seconds", "how long to wait? (seconds, for example 0.5)")
            return WaitStep(seconds=seconds, name=self.name)
        matcher = self._matcher()
        timeout = parse_seconds(self.timeout, "timeout", positive=True)
        capture = self._captures()
        try:
            if self.kind == "expect":
                return ExpectStep(matcher, capture, timeout, self.name)
            return WaitStep(until=matcher, capture=capture, timeout_s=timeout, name=self.name)
        except (JsonPathError, ValueError) as exc:
            raise DraftError("capture", str(exc)) from None

    def _payload(self) -> TextPayload | JsonPayload | BinaryPayload:
        if self.send_kind == "text":
            return TextPayload(self.payload)
        try:
            if self.send_kind == "json":
                return JsonPayload(parse_json(self.payload))
            return BinaryPayload(parse_hex(self.payload))
        except PayloadError as exc:
            raise DraftError("payload", str(exc)) from None

    def _matcher(self) -> Matcher:
        kind = self.match_kind
        if kind == "text":
            return TextMatcher(self.pattern)
        if kind == "regex":
            try:
                return RegexMatcher(self.pattern)
            except re.error as exc:
                raise DraftError("pattern", f"invalid regular expression: {exc}") from None
        if kind == "opcode":
            return OpcodeMatcher(OPCODE_NAMES[self.opcode])
        try:
            if kind == "binary":
                return BytesMatcher(parse_hex(self.pattern))
            value = parse_json(self.pattern)
        except PayloadError as exc:
            raise DraftError("pattern", str(exc)) from None
        paths = []
        for number, line in enumerate(self.ignore.splitlines(), 1):
            path = line.strip()
            if not path:
                continue
            try:
                parse_json_path(path)
            except JsonPathError as exc:
                raise DraftError("ignore", f"line {number}: {exc}") from None
            paths.append(path)
        return JsonMatcher(value, tuple(paths))

    def _captures(self) -> tuple[tuple[str, str], ...]:
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for number, (name, path) in enumerate(self.capture, 1):
            name, path = name.strip(), path.strip()
            if not name and not path:
                continue
            if not name:
                raise DraftError("capture", f"row {number}: name the variable that takes {path}")
            if not path:
                raise DraftError("capture", f"row {number}: give the JSON path of {name}, for example $.id")
            if name in seen:
                raise DraftError("capture", f"{name} is captured twice")
            seen.add(name)
            try:
                parse_json_path(path)
            except JsonPathError as exc:
                raise DraftError("capture", f"row {number}: {exc}") from None
            pairs.append((name, path))
        return tuple(pairs)

    # -- for the table ------------------------------------------------------------------------------

    def kind_text(self) -> str:
        if self.kind == "protocol" and self.step is not None:
            return step_kind(self.step)
        if self.kind == "send":
            return f"send {self.send_kind}"
        if self.kind == "expect":
            return f"expect {self.match_kind}"
        return f"wait until {self.match_kind}" if self.wait_until else "wait"

    def summary(self) -> str:
        if self.error is not None:
            return f"⚠ {self.error.message}"
        step = self.step
        if isinstance(step, VerbStep):
            return _one_line(" ".join(f"{key}={_compact_json(value)}" for key, value in step.fields))
        if isinstance(step, EventStep):
            what = " ".join(part for part in (step.kind, step.event, *(f"{k}={v}" for k, v in step.filters)) if part)
            return _one_line(f"{what} {_compact_json(step.value)}" if step.has_value else what)
        if isinstance(step, SendStep):
            payload = step.payload
            if isinstance(payload, TextPayload):
                return _one_line(payload.text)
            if isinstance(payload, JsonPayload):
                return _one_line(_compact_json(payload.value))
            size = len(payload.data)
            return _one_line(f"{size} byte{'s' if size != 1 else ''}: {payload.data[:32].hex(' ')}")
        if isinstance(step, WaitStep) and step.until is None:
            return f"pause {format_seconds(step.seconds or 0.0)} s"
        assert isinstance(step, ExpectStep | WaitStep)
        matcher = step.matcher if isinstance(step, ExpectStep) else step.until
        text = describe_matcher(matcher)
        if step.capture:
            text += "  → " + ", ".join(f"{name} ← {path}" for name, path in step.capture)
        return _one_line(text)


def describe_matcher(matcher: Matcher | None) -> str:
    if isinstance(matcher, TextMatcher):
        return f"= {matcher.text}"
    if isinstance(matcher, BytesMatcher):
        size = len(matcher.data)
        return f"= {size} byte{'s' if size != 1 else ''}: {matcher.data[:32].hex(' ')}"
    if isinstance(matcher, JsonMatcher):
        ignored = f"  (ignoring {', '.join(matcher.ignore)})" if matcher.ignore else ""
        return f"= {_compact_json(matcher.value)}{ignored}"
    if isinstance(matcher, RegexMatcher):
        return f"~ /{matcher.pattern}/"
    if isinstance(matcher, OpcodeMatcher):
        return f"any {matcher.opcode.label} message"
    return ""
