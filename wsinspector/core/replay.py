"""Record, replay and assert: a saved session becomes a repeatable test.

A *test file* (format described in ``docs/test-format.md``) lists steps: messages to send, messages to
expect, waits. This module holds everything about it that needs no network and no Qt:

- the model (:class:`TestFile` and its steps, payloads and matchers), frozen and comparable;
- :func:`load` and :func:`dump`, the YAML file format, with errors that name the line, the column and the
  field (:class:`TestFileError`);
- variables: :func:`expand`, :func:`variable_uses` and :func:`check_variables` (unknown variables are
  reported before anything runs, with the step that uses them);
- :func:`test_from_frames`, a test built from a recorded session's messages;
- :func:`match`, one received message against an ``expect`` step, with a readable diff and the captures;
- :class:`Replay`, the runner as a state machine: the caller owns the connection and the clock, feeds it
  what arrives and does what it says (send this, wait until then), which keeps it testable without sleeps;
- verdicts (:class:`StepResult`, :class:`RunResult` and its exit code) and :func:`junit_xml`;
- :func:`parse_speed`, :func:`scaled_delay` and :func:`send_delays` for replaying at another speed.
"""

from __future__ import annotations

import difflib
import enum
import functools
import json
import math
import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import yaml
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .frames import Direction, Opcode, describe_close_code, parse_close_payload
from .payloads import PayloadError, decode_text, hexdump, parse_base64, parse_hex, parse_json
from .profiles import ConnectionProfile, ProfileError, UnknownVariableError, validate_url
from .profiles import expand as _expand_profile
from .redact import is_secret_field

#: The format version this code reads and writes (the ``version`` key).
FORMAT_VERSION = 1
#: Seconds an ``expect`` or ``wait until`` step waits when neither it nor the file says otherwise.
DEFAULT_TIMEOUT_S = 5.0

SEND_KINDS = ("text", "json", "binary")
MATCHER_KINDS = ("text", "binary", "json", "regex", "opcode")
#: Opcodes an ``opcode`` matcher can name.
OPCODE_NAMES: dict[str, Opcode] = {
    "text": Opcode.TEXT,
    "binary": Opcode.BINARY,
    "ping": Opcode.PING,
    "pong": Opcode.PONG,
    "close": Opcode.CLOSE,
}

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
#: what is shown in place of a secret value
MASK = "***"

_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEX_BYTES_PER_LINE = 16


# -- errors ------------------------------------------------------------------------------------------


class TestFileError(ValueError):
    """A test file that cannot be read. ``line`` and ``column`` are 1-based where known; ``field`` is the
    path of the offending value, e.g. ``steps[3].expect.timeout``. ``message`` alone is the explanation;
    ``str()`` puts the three together: ``line 14, column 16: steps[3].expect.timeout: must be ...``."""

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    def __init__(self, message: str, line: int | None = None, column: int | None = None, field: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.field = field
        where = ""
        if line is not None:
            where = f"line {line}, column {column}: " if column is not None else f"line {line}: "
        super().__init__(f"{where}{field + ': ' if field else ''}{message}")


class JsonPathError(ValueError):
    """A JSON path that does not follow the syntax of :func:`parse_json_path`."""


class UndefinedVariablesError(UnknownVariableError):
    """Variables a test uses that nothing defines (at the point where they are used). ``names`` lists them,
    ``uses`` says where each one is used."""

    def __init__(self, uses: Sequence[VariableUse]) -> None:
        self.uses = tuple(uses)
        names = list(dict.fromkeys(use.name for use in uses))
        super().__init__(names)
        parts = []
        for name in names:
            where = ", ".join(dict.fromkeys(use.where for use in uses if use.name == name))
            later = [use for use in uses if use.name == name and use.captured_later is not None]
            note = ""
            if later and later[0].captured_later == later[0].step:
                note = f"; steps[{later[0].step}] captures it, for the steps after it"
            elif later:
                note = f"; it is captured only later, by steps[{later[0].captured_later}]"
            parts.append(f"{{{{{name}}}}} (used in {where}{note})")
        self.args = (f"Unknown variable{'s' if len(names) > 1 else ''}: {'; '.join(parts)}",)


# -- JSON paths --------------------------------------------------------------------------------------


class _Wildcard(enum.Enum):
    ANY = "*"

    def __repr__(self) -> str:
        return "WILDCARD"


#: The ``[*]`` / ``.*`` segment of a path: any array element or object member.
WILDCARD = _Wildcard.ANY
PathSegment = str | int | _Wildcard
JsonPath = tuple[PathSegment, ...]

_PATH_NAME = re.compile(r"[\w-]+")
_PATH_INDEX = re.compile(r"([0-9]+)\]")


@functools.lru_cache(maxsize=1024)
def parse_json_path(text: str) -> JsonPath:
    """Parse a path: ``$`` (the whole message) followed by any number of

    - ``.name``: an object member whose name is letters, digits, ``_`` or ``-``;
    - ``["any name"]``: an object member, the name written as a JSON string;
    - ``[3]``: an array element, counting from 0;
    - ``[*]`` or ``.*``: every element or member (only in ``ignore`` paths).
    """
    if not text.startswith("$"):
        raise JsonPathError(f"{text!r} is not a path: paths start with $, for example $.user.id")
    segments: list[PathSegment] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == ".":
            if text.startswith("*", i + 1):
                segments.append(WILDCARD)
                i += 2
                continue
            name = _PATH_NAME.match(text, i + 1)
            if not name:
                raise JsonPathError(f"{text!r}: a name must follow the '.' at character {i + 1} "
                                    '(write other names as ["name"])')
            segments.append(name.group(0))
            i = name.end()
        elif char == "[":
            if text.startswith("*]", i + 1):
                segments.append(WILDCARD)
                i += 3
            elif text.startswith('"', i + 1):
                try:
                    key, end = json.JSONDecoder().raw_decode(text, i + 1)
                except json.JSONDecodeError:
                    raise JsonPathError(f"{text!r}: the quoted name at character {i + 2} is not a valid "
                                        "JSON string") from None
                if not text.startswith("]", end):
                    raise JsonPathError(f"{text!r}: ']' expected at character {end + 1}")
                segments.append(key)
                i = end + 1
            else:
                index = _PATH_INDEX.match(text, i + 1)
                if not index:
                    raise JsonPathError(f"{text!r}: '[' at character {i + 1} must hold an index (0, 1, …), "
                                        'a * or a "quoted name", followed by ]')
                segments.append(int(index.group(1)))
                i = index.end()
        else:
            raise JsonPathError(f"{text!r}: unexpected {char!r} at character {i + 1} (expected . or [)")
    return tuple(segments)


def format_json_path(path: Iterable[PathSegment]) -> str:
    """The canonical text of a path (wildcards as ``[*]``)."""
    parts = ["$"]
    for segment in path:
        if segment is WILDCARD:
            parts.append("[*]")
        elif isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _PATH_NAME.fullmatch(segment):
            parts.append(f".{segment}")
        else:
            parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(parts)


def path_matches(pattern: JsonPath, path: JsonPath) -> bool:
    """Whether ``path`` (concrete) is ``pattern`` or lies beneath it; wildcards match any key or index."""
    if len(pattern) > len(path):
        return False
    for want, have in zip(pattern, path, strict=False):
        if want is WILDCARD:
            continue
        if type(want) is not type(have) or want != have:
            return False
    return True


def resolve_json_path(value: Any, path: JsonPath) -> Any:
    """The value at a concrete path; ``LookupError`` saying which part is missing."""
    current = value
    for depth, segment in enumerate(path):
        here = format_json_path(path[: depth + 1])
        if segment is WILDCARD:
            raise LookupError(f"{here}: a wildcard cannot select one value")
        if isinstance(segment, int):
            if not isinstance(current, list) or segment >= len(current):
                raise LookupError(f"{here} is not in the message")
        elif not isinstance(current, dict) or segment not in current:
            raise LookupError(f"{here} is not in the message")
        current = current[segment]
    return current


# -- model -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextPayload:
    """A text message; ``{{variables}}`` are expanded when it is sent."""

    text: str


@dataclass(frozen=True, slots=True)
class JsonPayload:
    """A JSON message (sent as compact JSON text); variables are expanded in every string, keys included."""

    value: Any


@dataclass(frozen=True, slots=True)
class BinaryPayload:
    """A binary message, sent as is (no variables)."""

    data: bytes


Payload = TextPayload | JsonPayload | BinaryPayload


@dataclass(frozen=True, slots=True)
class TextMatcher:
    """A text message equal to ``text`` (after variable expansion)."""

    text: str


@dataclass(frozen=True, slots=True)
class BytesMatcher:
    """A binary message with exactly these bytes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class JsonMatcher:
    """A text message holding JSON deeply equal to ``value``, apart from the ``ignore`` paths."""

    value: Any
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for path in self.ignore:
            parse_json_path(path)


@dataclass(frozen=True, slots=True)
class RegexMatcher:
    """A text message in which the regular expression finds a match (``re.search``; anchor with ^ and $).
    Variables are expanded in the pattern with their values escaped, so they match literally."""

    pattern: str

    def __post_init__(self) -> None:
        re.compile(self.pattern)


@dataclass(frozen=True, slots=True)
class OpcodeMatcher:
    """Any message of this opcode."""

    opcode: Opcode


Matcher = TextMatcher | BytesMatcher | JsonMatcher | RegexMatcher | OpcodeMatcher


def _check_captures(capture: tuple[tuple[str, str], ...]) -> None:
    for name, path in capture:
        if not _VARIABLE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a variable name")
        if WILDCARD in parse_json_path(path):
            raise JsonPathError(f"{path!r}: a capture needs one value, not a wildcard")


@dataclass(frozen=True, slots=True)
class SendStep:
    payload: Payload
    #: seconds to wait before sending, after the previous step finished (the recorded gap); scaled by the
    #: replay speed. None: no recorded timing, send at once.
    delay_s: float | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class ExpectStep:
    """The next incoming message must match (pings and pongs are passed over unless the matcher asks for
    them); ``capture`` stores values of it (JSON paths) in variables for later steps."""

    matcher: Matcher
    capture: tuple[tuple[str, str], ...] = ()
    #: None: the file's default timeout
    timeout_s: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _check_captures(self.capture)


@dataclass(frozen=True, slots=True)
class WaitStep:
    """Either a fixed pause of ``seconds`` or, with ``until``, a wait for the first message that matches
    (messages that do not are dropped)."""

    seconds: float | None = None
    until: Matcher | None = None
    capture: tuple[tuple[str, str], ...] = ()
    timeout_s: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("a wait step has either seconds or until")
        if self.until is None and (self.capture or self.timeout_s is not None):
            raise ValueError("capture and timeout belong to a wait until a message matches")
        _check_captures(self.capture)


Step = SendStep | ExpectStep | WaitStep


@dataclass(frozen=True, slots=True)
class TestFile:
    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    name: str
    #: may contain {{variables}}
    url: str
    steps: tuple[Step, ...] = ()
    #: defaults; ``--var name=value`` overrides them
    variables: tuple[tuple[str, str], ...] = ()
    subprotocols: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    #: timeout of expect and wait-until steps that set none
    timeout_s: float = DEFAULT_TIMEOUT_S

    def step_timeout(self, step: ExpectStep | WaitStep) -> float:
        return step.timeout_s if step.timeout_s is not None else self.timeout_s


def step_kind(step: Step) -> str:
    """``send``, ``expect`` or ``wait``."""
    if isinstance(step, SendStep):
        return "send"
    return "expect" if isinstance(step, ExpectStep) else "wait"


def _payload_kind(payload: Payload) -> str:
    if isinstance(payload, TextPayload):
        return "text"
    return "json" if isinstance(payload, JsonPayload) else "binary"


def _matcher_kind(matcher: Matcher) -> str:
    if isinstance(matcher, TextMatcher):
        return "text"
    if isinstance(matcher, BytesMatcher):
        return "binary"
    if isinstance(matcher, JsonMatcher):
        return "json"
    return "regex" if isinstance(matcher, RegexMatcher) else "opcode"


def step_label(index: int, step: Step) -> str:
    """How reports name a step: its ``name``, else e.g. ``steps[2] expect json``."""
    if step.name:
        return step.name
    if isinstance(step, SendStep):
        what = f"send {_payload_kind(step.payload)}"
    elif isinstance(step, ExpectStep):
        what = f"expect {_matcher_kind(step.matcher)}"
    elif step.until is not None:
        what = f"wait until {_matcher_kind(step.until)}"
    else:
        what = f"wait {_seconds_text(step.seconds or 0.0)} s"
    return f"steps[{index}] {what}"


def _seconds_text(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


# -- variables ---------------------------------------------------------------------------------------


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Replace every ``{{name}}``; unknown names raise :class:`UnknownVariableError` naming them all."""
    return _expand_profile(text, dict(variables))


def variables_in(text: str) -> list[str]:
    """Names of the ``{{variables}}`` in ``text``, in order, once each."""
    try:
        _expand_profile(text, {})
    except UnknownVariableError as exc:
        return list(exc.names)
    return []


def expand_json(value: Any, variables: Mapping[str, str]) -> Any:
    """A copy of a JSON value with variables expanded in every string, object keys included."""
    if isinstance(value, str):
        return expand(value, variables)
    if isinstance(value, dict):
        return {expand(k, variables): expand_json(v, variables) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [expand_json(v, variables) for v in value]
    return value


def _json_strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _json_strings(item)


def _matcher_texts(matcher: Matcher) -> Iterable[str]:
    if isinstance(matcher, TextMatcher):
        yield matcher.text
    elif isinstance(matcher, RegexMatcher):
        yield matcher.pattern
    elif isinstance(matcher, JsonMatcher):
        yield from _json_strings(matcher.value)


def _step_texts(step: Step) -> Iterable[tuple[str, str]]:
    """(field below the step, text) of every string of a step where variables are expanded."""
    if isinstance(step, SendStep):
        if isinstance(step.payload, TextPayload):
            yield "send.text", step.payload.text
        elif isinstance(step.payload, JsonPayload):
            for text in _json_strings(step.payload.value):
                yield "send.json", text
        return
    matcher = step.matcher if isinstance(step, ExpectStep) else step.until
    if matcher is not None:
        kind = "expect" if isinstance(step, ExpectStep) else "wait"
        for text in _matcher_texts(matcher):
            yield f"{kind}.{_matcher_kind(matcher)}", text


@dataclass(frozen=True, slots=True)
class VariableUse:
    name: str
    #: the field that uses it: ``url``, ``headers.Authorization``, ``subprotocols[0]``, ``steps[2].send.json``
    field: str
    #: index of the step that uses it; None for the connection (url, headers, subprotocols)
    step: int | None
    #: what defines it there: ``capture`` (an earlier step), ``command line``, ``file``; "" when nothing does
    source: str
    #: the earlier step whose capture defines it (source ``capture``)
    captured_by: int | None = None
    #: when undefined: a later step that captures it (the test uses it too early)
    captured_later: int | None = None
    #: the step's name, when it has one
    step_name: str = ""

    @property
    def defined(self) -> bool:
        return bool(self.source)

    @property
    def where(self) -> str:
        return f"{self.field} ({self.step_name!r})" if self.step_name else self.field


def variable_uses(test: TestFile, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> list[VariableUse]:
    """Every use of a variable in the test, in file order, with what defines it at that point. ``overrides``
    are the ``--var`` values. A capture defines a variable for the steps after it (and then wins over the
    command line and the file); the command line wins over the file."""
    from_cli = dict(overrides.items() if isinstance(overrides, Mapping) else overrides)
    from_file = dict(test.variables)
    captures: dict[str, list[int]] = {}
    for index, step in enumerate(test.steps):
        if not isinstance(step, SendStep):
            for name, _ in step.capture:
                captures.setdefault(name, []).append(index)
    uses: list[VariableUse] = []

    def add(text: str, where: str, index: int | None, step_name: str = "") -> None:
        for name in variables_in(text):
            earlier = [i for i in captures.get(name, ()) if index is not None and i < index]
            later = [i for i in captures.get(name, ()) if index is None or i >= index]
            if earlier:
                source = "capture"
            elif name in from_cli:
                source = "command line"
            elif name in from_file:
                source = "file"
            else:
                source = ""
            uses.append(VariableUse(name, where, index, source, earlier[-1] if earlier else None,
                                    later[0] if later and not source else None, step_name))

    add(test.url, "url", None)
    for name, value in test.headers:
        add(name, f"headers.{name}", None)
        add(value, f"headers.{name}", None)
    for i, protocol in enumerate(test.subprotocols):
        add(protocol, f"subprotocols[{i}]", None)
    for index, step in enumerate(test.steps):
        for where, text in _step_texts(step):
            add(text, f"steps[{index}].{where}", index, step.name)
    return uses


def check_variables(test: TestFile, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
    """Raise :class:`UndefinedVariablesError` if a variable is used where nothing defines it."""
    missing = [use for use in variable_uses(test, overrides) if not use.defined]
    if missing:
        raise UndefinedVariablesError(missing)


def initial_variables(test: TestFile, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """The variables a run starts with: the file's, overridden by ``--var`` values."""
    variables = dict(test.variables)
    variables.update(overrides.items() if isinstance(overrides, Mapping) else overrides)
    return variables


def parse_var_option(text: str) -> tuple[str, str]:
    """``name=value`` (a ``--var`` argument) as a pair; ``ValueError`` with a message for the user."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise ValueError(f"--var {text!r}: expected NAME=VALUE")
    if not _VARIABLE_NAME.fullmatch(name):
        raise ValueError(f"--var {text!r}: {name!r} is not a variable name (letters, digits, _ . -; "
                         "not starting with a digit)")
    return name, value


def to_profile(test: TestFile, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = (),
               url: str | None = None) -> ConnectionProfile:
    """A connection profile for the test (``url`` replaces the file's, e.g. from ``--url``). Its
    ``resolved()`` expands the variables and validates everything needed to connect."""
    return ConnectionProfile(
        name=test.name or "test",
        url=url if url is not None else test.url,
        headers=test.headers,
        subprotocols=test.subprotocols,
        variables=tuple(initial_variables(test, overrides).items()),
    )


def render_send(step: SendStep, variables: Mapping[str, str]) -> tuple[Opcode, bytes]:
    """Opcode and bytes of a send step, variables expanded (:class:`UnknownVariableError` if one is unknown)."""
    payload = step.payload
    if isinstance(payload, TextPayload):
        return Opcode.TEXT, expand(payload.text, variables).encode("utf-8", errors="surrogatepass")
    if isinstance(payload, JsonPayload):
        text = json.dumps(expand_json(payload.value, variables), ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
        return Opcode.TEXT, text.encode("utf-8")
    return Opcode.BINARY, payload.data


# -- matching ----------------------------------------------------------------------------------------


class ReceivedMessage(Protocol):
    """What :func:`match` needs of a message (``frames.Message`` qualifies)."""

    @property
    def opcode(self) -> Opcode: ...

    @property
    def payload(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Incoming:
    """A received message: a complete data message, or a control frame."""

    opcode: Opcode
    payload: bytes


@dataclass(frozen=True, slots=True)
class MatchResult:
    ok: bool
    #: for a side-by-side view: per JSON path for JSON, a unified diff for text and binary (hex dump)
    diff_text: str = ""
    #: variables captured from the message (only when ok)
    captured: dict[str, str] = field(default_factory=dict)
    #: one line saying what is wrong (empty when ok)
    summary: str = ""
    #: what the step expected and what was received, readable (pretty JSON, text, hex dump)
    expected: str = ""
    received: str = ""


def considers(matcher: Matcher, opcode: Opcode) -> bool:
    """Whether an ``expect`` step checks a received message of ``opcode`` (True) or passes over it: pings
    and pongs are passed over unless the matcher is ``opcode: ping`` / ``opcode: pong``."""
    if opcode in (Opcode.PING, Opcode.PONG):
        return isinstance(matcher, OpcodeMatcher) and matcher.opcode is opcode
    return True


_RENDER_LIMIT = 64 * 1024


def describe_received(opcode: Opcode, payload: bytes) -> str:
    """A received message for people: text (JSON pretty-printed), a hex dump, or what a close said."""
    if opcode is Opcode.TEXT:
        text, _ = decode_text(payload)
        try:
            return json.dumps(parse_json(text), indent=2, ensure_ascii=False)
        except PayloadError:
            return text
    if opcode is Opcode.CLOSE:
        code, reason = parse_close_payload(payload)
        return f"close {describe_close_code(code)}" + (f": {reason}" if reason else "")
    if opcode is Opcode.BINARY:
        return hexdump(payload, _RENDER_LIMIT)
    return opcode.label + (f" {payload.hex(' ')}" if payload else "")


def describe_expected(matcher: Matcher, variables: Mapping[str, str] | None = None) -> str:
    """What a matcher expects, for people (variables expanded when given)."""
    variables = {} if variables is None else variables
    if isinstance(matcher, TextMatcher):
        return expand(matcher.text, variables)
    if isinstance(matcher, BytesMatcher):
        return hexdump(matcher.data, _RENDER_LIMIT)
    if isinstance(matcher, JsonMatcher):
        return json.dumps(expand_json(matcher.value, variables), indent=2, ensure_ascii=False)
    if isinstance(matcher, RegexMatcher):
        return f"text matching /{_expand_regex(matcher.pattern, variables)}/"
    return f"any {matcher.opcode.label} message"


def _expand_regex(pattern: str, variables: Mapping[str, str]) -> str:
    return expand(pattern, {name: re.escape(value) for name, value in variables.items()})


def _render_json(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_equal(a: Any, b: Any) -> bool:
    """Scalar equality the JSON way: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    return bool(a == b)


def json_differences(expected: Any, received: Any, ignore: Iterable[str] = ()) -> list[str]:
    """Every difference between two JSON values, one line each, e.g. ``$.user.name: expected "ann", got
    "bob"``; objects compare without regard to key order, arrays element by element. A difference at or
    below an ``ignore`` path (wildcards allowed) does not count, whether the value differs or is absent."""
    patterns = [parse_json_path(p) for p in ignore]
    out: list[str] = []

    def ignored(path: JsonPath) -> bool:
        return any(path_matches(p, path) for p in patterns)

    def walk(exp: Any, got: Any, path: JsonPath) -> None:
        if ignored(path):
            return
        if isinstance(exp, dict) and isinstance(got, dict):
            for key, value in exp.items():
                sub = (*path, key)
                if key in got:
                    walk(value, got[key], sub)
                elif not ignored(sub):
                    out.append(f"{format_json_path(sub)}: missing (expected {_render_json(value)})")
            for key, value in got.items():
                sub = (*path, key)
                if key not in exp and not ignored(sub):
                    out.append(f"{format_json_path(sub)}: unexpected (got {_render_json(value)})")
        elif isinstance(exp, list) and isinstance(got, list):
            for i in range(max(len(exp), len(got))):
                sub = (*path, i)
                if i >= len(got):
                    if not ignored(sub):
                        out.append(f"{format_json_path(sub)}: missing (expected {_render_json(exp[i])})")
                elif i >= len(exp):
                    if not ignored(sub):
                        out.append(f"{format_json_path(sub)}: unexpected (got {_render_json(got[i])})")
                else:
                    walk(exp[i], got[i], sub)
        elif not _json_equal(exp, got):
            out.append(f"{format_json_path(path)}: expected {_render_json(exp)}, got {_render_json(got)}")

    walk(expected, received, ())
    return out


#: texts longer than this are diffed around their first difference only
DIFF_CLIP = 2000
#: characters kept before the first difference of a clipped diff, and in all
_DIFF_BEFORE, _DIFF_WINDOW = 200, 1000


def text_diff(expected: str, received: str) -> str:
    """A unified diff (``-`` expected, ``+`` received); a trailing line break shows as an empty last line.
    Long texts are diffed in a window around their first difference, with ``…`` where they are cut."""
    note = ""
    if max(len(expected), len(received)) > DIFF_CLIP:
        total = max(len(expected), len(received))
        first = _first_difference(expected, received)
        start = max(0, first - _DIFF_BEFORE)
        end = start + _DIFF_WINDOW

        def clip(text: str) -> str:
            return ("…" if start > 0 else "") + text[start:end] + ("…" if len(text) > end else "")

        expected, received = clip(expected), clip(received)
        note = f"(characters {start + 1:,} to {min(end, total):,} of {total:,}, around the first difference)\n"
    lines = difflib.unified_diff(expected.split("\n"), received.split("\n"), "expected", "received", lineterm="")
    return note + "\n".join(lines)


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def match(step: ExpectStep | WaitStep, message: ReceivedMessage,
          variables: Mapping[str, str] | None = None) -> MatchResult:
    """Check one received message against an ``expect`` step (or the ``until`` of a wait step), with
    variables expanded in what it expects; on success, apply its captures. An unknown variable raises
    :class:`UnknownVariableError` (:func:`check_variables` finds those before a run)."""
    matcher = step.matcher if isinstance(step, ExpectStep) else step.until
    if matcher is None:
        raise ValueError("a fixed wait does not match messages")
    variables = {} if variables is None else variables
    opcode = Opcode(message.opcode)
    payload = message.payload
    expected = describe_expected(matcher, variables)
    received = describe_received(opcode, payload)

    def fail(summary: str, diff: str = "") -> MatchResult:
        return MatchResult(False, diff, {}, summary, expected, received)

    def got() -> str:
        if opcode is Opcode.CLOSE:
            return f"the connection was closed ({received})"
        return f"got a {opcode.label} message"

    parsed: Any = None
    has_json = False
    if isinstance(matcher, OpcodeMatcher):
        if opcode is not matcher.opcode:
            return fail(f"expected a {matcher.opcode.label} message, {got()}")
    else:
        want_opcode = Opcode.BINARY if isinstance(matcher, BytesMatcher) else Opcode.TEXT
        if opcode is not want_opcode:
            return fail(f"expected a {want_opcode.label} message, {got()}")
        text, _ = decode_text(payload)
        if isinstance(matcher, BytesMatcher):
            if payload != matcher.data:
                return fail(f"the bytes differ ({len(matcher.data)} expected, {len(payload)} received)",
                            text_diff(hexdump(matcher.data, _RENDER_LIMIT), hexdump(payload, _RENDER_LIMIT)))
        elif isinstance(matcher, TextMatcher):
            want = expand(matcher.text, variables)
            if text != want:
                return fail(f"the text differs from character {_first_difference(want, text) + 1}",
                            text_diff(want, text))
        elif isinstance(matcher, RegexMatcher):
            pattern = _expand_regex(matcher.pattern, variables)
            if not re.search(pattern, text):
                return fail(f"the text does not match /{pattern}/", f"pattern:  /{pattern}/\nreceived: {text}")
        else:
            try:
                parsed, has_json = parse_json(text), True
            except PayloadError as exc:
                return fail(f"the message is not JSON: {exc}", text_diff(expected, text))
            differences = json_differences(expand_json(matcher.value, variables), parsed, matcher.ignore)
            if differences:
                count = len(differences)
                return fail(f"{count} difference{'s' if count > 1 else ''} in the JSON: {differences[0]}",
                            "\n".join(differences))
    captured: dict[str, str] = {}
    if step.capture:
        if not has_json:
            if opcode is not Opcode.TEXT:
                return fail(f"cannot capture from a {opcode.label} message: captures need JSON text")
            try:
                parsed = parse_json(decode_text(payload)[0])
            except PayloadError as exc:
                return fail(f"cannot capture: the message is not JSON ({exc})")
        for name, path in step.capture:
            try:
                value = resolve_json_path(parsed, parse_json_path(path))
            except LookupError as exc:
                return fail(f"capture {name}: {exc}")
            captured[name] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return MatchResult(True, "", captured, "", expected, received)


# -- verdicts ----------------------------------------------------------------------------------------


class Verdict(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class StepResult:
    index: int
    #: :func:`step_label`
    name: str
    #: send, expect or wait
    kind: str
    status: Verdict
    duration_s: float = 0.0
    #: one line: what went wrong (or what was done)
    message: str = ""
    expected: str = ""
    received: str = ""
    diff: str = ""


@dataclass(frozen=True, slots=True)
class RunResult:
    steps: tuple[StepResult, ...]
    name: str = ""
    duration_s: float = 0.0
    #: a connection or usage error (the connection failed, dropped, a variable was unknown, …)
    error: str = ""

    def count(self, status: Verdict) -> int:
        return sum(1 for step in self.steps if step.status is status)

    @property
    def totals(self) -> dict[str, int]:
        totals = {status.value: self.count(status) for status in Verdict}
        totals["total"] = len(self.steps)
        return totals

    @property
    def exit_code(self) -> int:
        """0 every step passed, 1 an expectation failed, 2 a connection or usage error (wins over 1)."""
        if self.error or self.count(Verdict.ERROR):
            return EXIT_ERROR
        if self.count(Verdict.FAILED):
            return EXIT_FAILED
        return EXIT_PASSED

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_PASSED


# -- replay speed ------------------------------------------------------------------------------------


def parse_speed(value: str | float) -> float:
    """A replay speed: 1 as recorded, 0.5 half speed, 2 twice as fast, 0 or ``max`` without delays.
    Accepts ``2x``. ``ValueError`` with a message for the user."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("max", "inf", "infinite"):
            return 0.0
        try:
            speed = float(text.removesuffix("x"))
        except ValueError:
            raise ValueError(f"speed {value!r}: expected a number (1 as recorded, 2 twice as fast) or max") from None
    else:
        speed = float(value)
    if math.isnan(speed) or speed < 0:
        raise ValueError(f"speed {value!r}: must be positive (or 0 / max for no delays)")
    return 0.0 if math.isinf(speed) else speed


def scaled_delay(delay_s: float | None, speed: float) -> float:
    """Seconds to wait for a recorded delay at ``speed`` (0 = as fast as possible)."""
    if delay_s is None or delay_s <= 0 or speed <= 0 or math.isinf(speed):
        return 0.0
    return delay_s / speed


def send_delays(steps: Sequence[Step], speed: float) -> list[tuple[int, float]]:
    """(step index, seconds to wait before it) for every send step at ``speed``. The wait counts from the
    end of the step before; fixed waits and timeouts are not scaled."""
    return [(i, scaled_delay(step.delay_s, speed)) for i, step in enumerate(steps) if isinstance(step, SendStep)]


# -- the runner --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendAction:
    """Send this message now, then call :meth:`Replay.poll` again."""

    step: int
    opcode: Opcode
    payload: bytes


@dataclass(frozen=True, slots=True)
class WaitAction:
    """Feed what arrives to :meth:`Replay.on_message` and call :meth:`Replay.poll` again when something
    arrived or at ``until`` (seconds, on the clock the caller uses), whichever comes first."""

    until: float


@dataclass(frozen=True, slots=True)
class Finished:
    """The run is over: close the connection and report ``result``."""

    result: RunResult


Action = SendAction | WaitAction | Finished


class Replay:
    """Runs a test against a connection that the caller owns.

    The caller connects (with :func:`to_profile`; if that fails, :meth:`on_error` before the first poll),
    then loops: ``action = replay.poll(now)``; on a :class:`SendAction` it sends, on a :class:`WaitAction`
    it waits for a message or the deadline, on :class:`Finished` it closes the connection and stops. Every
    received message or control frame goes to :meth:`on_message`, the end of the connection to
    :meth:`on_closed`, a failure (cannot send, dropped) to :meth:`on_error`. ``now`` is any monotonic clock in
    seconds. The run stops at the first step that does not pass; the rest are skipped.
    """

    def __init__(self, test: TestFile, variables: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 speed: float = 1.0) -> None:
        self.test = test
        self.speed = speed
        self._variables = initial_variables(test, variables)
        self._results: list[StepResult] = []
        #: a send handed to the caller: it passes at the next poll, unless on_error comes first
        self._sending: StepResult | None = None
        self._inbox: deque[tuple[Opcode, bytes, float]] = deque()
        self._step_start: float | None = None
        self._connect_start: float | None = None
        self._run_start: float | None = None
        self._run_end: float | None = None
        self._closed = ""
        self._error = ""
        self._done = False
        #: a wait-until step: how many messages did not match, and the last of them
        self._passed_over = 0
        self._last_mismatch: MatchResult | None = None

    @property
    def variables(self) -> dict[str, str]:
        """The variables now (captures included)."""
        return dict(self._variables)

    @property
    def results(self) -> tuple[StepResult, ...]:
        """The steps finished so far."""
        return tuple(self._results)

    @property
    def current(self) -> int | None:
        """Index of the step running or next to run; None when the run is over."""
        if self._sending is not None:
            return self._sending.index
        return None if self._done or len(self._results) >= len(self.test.steps) else len(self._results)

    @property
    def done(self) -> bool:
        return self._done

    def result(self) -> RunResult:
        start = self._run_start or 0.0
        end = self._run_end if self._run_end is not None else start
        steps = (*self._results, self._sending) if self._sending is not None else tuple(self._results)
        return RunResult(steps, self.test.name, max(0.0, end - start), self._error)

    def connecting(self, now: float) -> None:
        """The caller starts to connect: if that fails, the run lasted from here."""
        if self._connect_start is None:
            self._connect_start = now

    def on_message(self, opcode: Opcode, payload: bytes, now: float) -> None:
        """A message (or control frame) arrived at ``now``."""
        if self._done:
            return
        self._inbox.append((Opcode(opcode), payload, now))
        if opcode is Opcode.CLOSE:
            self._closed = f"the connection was closed ({describe_received(Opcode.CLOSE, payload)})"

    def on_closed(self, now: float, reason: str = "") -> None:
        """The connection ended (after a close frame, or without one). Steps still waiting for a message fail."""
        if not self._closed:
            self._closed = f"the connection was closed{': ' + reason if reason else ''}"

    def on_error(self, message: str, now: float) -> None:
        """The connection failed or dropped, or a send failed: the running step (the send just handed out, if
        any) is an error and the rest are skipped. Before the first poll (cannot connect), every step is
        skipped and the run has the error. After the last step, it changes nothing."""
        if self._done:
            return
        if self._run_start is None:
            self._run_start = self._step_start = self._connect_start if self._connect_start is not None else now
            self._error = message
            self._skip_rest("not run: the connection failed")
        elif self._sending is not None:
            self._error = message
            failed, self._sending = self._sending, None
            self._record(StepResult(failed.index, failed.name, failed.kind, Verdict.ERROR, failed.duration_s,
                                    message, failed.expected))
        elif len(self._results) < len(self.test.steps):
            self._error = message
            self._finish(Verdict.ERROR, now, message)
        self._end(now)

    def poll(self, now: float) -> Action:
        """What to do next."""
        if self._run_start is None:
            self._run_start = self._step_start = now
        if self._sending is not None:
            sent, self._sending = self._sending, None
            self._record(sent)
        while not self._done:
            index = len(self._results)
            if index >= len(self.test.steps):
                self._end(now)
                break
            step = self.test.steps[index]
            start = self._step_start if self._step_start is not None else now
            if isinstance(step, SendStep):
                ready = start + scaled_delay(step.delay_s, self.speed)
                if now < ready:
                    return WaitAction(ready)
                try:
                    opcode, payload = render_send(step, self._variables)
                except UnknownVariableError as exc:
                    self._error = str(exc)
                    self._finish(Verdict.ERROR, now, str(exc))
                    continue
                self._sending = self._step_result(Verdict.PASSED, now, f"sent {opcode.label} ({len(payload)} bytes)",
                                                  expected=describe_received(opcode, payload))
                self._step_start = max(start, now)
                return SendAction(index, opcode, payload)
            matcher = step.matcher if isinstance(step, ExpectStep) else step.until
            if matcher is None:
                assert isinstance(step, WaitStep) and step.seconds is not None
                until = start + step.seconds
                if now < until:
                    return WaitAction(until)
                self._finish(Verdict.PASSED, now, f"waited {_seconds_text(step.seconds)} s")
                continue
            assert not isinstance(step, SendStep)
            deadline = start + self.test.step_timeout(step)
            if self._consume(step, matcher, deadline):
                continue
            if self._closed:
                self._finish_unmatched(now, f"{self._closed} before a matching message", matcher)
            elif now >= deadline:
                timeout = _seconds_text(self.test.step_timeout(step))
                self._finish_unmatched(deadline, f"timeout: no matching message within {timeout} s", matcher)
            else:
                return WaitAction(deadline)
        return Finished(self.result())

    def _consume(self, step: ExpectStep | WaitStep, matcher: Matcher, deadline: float) -> bool:
        """Check buffered messages against the step; True when the step finished."""
        lenient = isinstance(step, WaitStep)
        while self._inbox:
            opcode, payload, at = self._inbox[0]
            if at > deadline:
                return False
            self._inbox.popleft()
            if not considers(matcher, opcode):
                continue
            try:
                outcome = match(step, Incoming(opcode, payload), self._variables)
            except UnknownVariableError as exc:
                self._error = str(exc)
                self._finish(Verdict.ERROR, at, str(exc))
                return True
            if outcome.ok:
                self._variables.update(outcome.captured)
                captured = ", ".join(f"{name}={MASK if is_secret_field(name) else value}"
                                     for name, value in outcome.captured.items())
                self._finish(Verdict.PASSED, at, f"captured {captured}" if captured else "",
                             expected=outcome.expected, received=outcome.received)
                return True
            if not lenient:
                self._finish(Verdict.FAILED, at, outcome.summary, expected=outcome.expected,
                             received=outcome.received, diff=outcome.diff_text)
                return True
            self._passed_over += 1
            self._last_mismatch = outcome
        return False

    def _finish_unmatched(self, at: float, message: str, matcher: Matcher) -> None:
        """A step that waited for a message in vain; for a wait-until, what arrived instead."""
        last, count = self._last_mismatch, self._passed_over
        if last is None:
            self._finish(Verdict.FAILED, at, message, expected=describe_expected(matcher, self._variables))
            return
        plural = "s" if count > 1 else ""
        message += f"; {count} message{plural} did not match, the last: {last.summary}"
        self._finish(Verdict.FAILED, at, message, expected=last.expected or describe_expected(matcher, self._variables),
                     received=last.received, diff=last.diff_text)

    def _step_result(self, status: Verdict, at: float, message: str = "", expected: str = "", received: str = "",
                     diff: str = "") -> StepResult:
        index = len(self._results)
        step = self.test.steps[index]
        start = self._step_start if self._step_start is not None else at
        return StepResult(index, step_label(index, step), step_kind(step), status, max(0.0, at - start), message,
                          expected, received, diff)

    def _finish(self, status: Verdict, at: float, message: str = "", expected: str = "", received: str = "",
                diff: str = "") -> None:
        self._passed_over, self._last_mismatch = 0, None
        self._record(self._step_result(status, at, message, expected, received, diff))
        if self._step_start is None or at > self._step_start:
            self._step_start = at
        if status is not Verdict.PASSED:
            self._end(at)

    def _record(self, result: StepResult) -> None:
        self._results.append(result)
        if result.status is not Verdict.PASSED:
            self._skip_rest(f"not run: {result.name} {result.status.value}")

    def _skip_rest(self, message: str) -> None:
        for index in range(len(self._results), len(self.test.steps)):
            step = self.test.steps[index]
            self._results.append(StepResult(index, step_label(index, step), step_kind(step), Verdict.SKIPPED,
                                            0.0, message))

    def _end(self, at: float) -> None:
        if not self._done:
            self._done = True
            self._run_end = at


# -- JUnit XML ---------------------------------------------------------------------------------------

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: characters it forbids (NUL, most control characters) shown as \\xNN."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


#: characters of the expected and the received message in a JUnit report (the diff shows where they differ)
JUNIT_DETAIL_CHARS = 4096


def _clipped(text: str, limit: int = JUNIT_DETAIL_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _step_details(step: StepResult) -> str:
    parts = [step.message]
    for label, text in (("expected", _clipped(step.expected)), ("received", _clipped(step.received)),
                        ("diff", step.diff)):
        if text:
            parts.append(f"{label}:\n{text}")
    return "\n\n".join(part for part in parts if part)


def junit_xml(result: RunResult, suite_name: str) -> str:
    """The run as a JUnit XML report: one ``testcase`` per step, ``failure`` for a failed expectation (with
    the diff), ``error`` for an error, ``skipped`` for steps not run; times in seconds. A connection error
    that no step reports (the connection failed before the first step) is a ``connection`` test case."""
    cases: list[ET.Element] = []
    failures = errors = skipped = 0
    if result.error and not result.count(Verdict.ERROR):
        connecting = max(0.0, result.duration_s - sum(step.duration_s for step in result.steps))
        case = ET.Element("testcase", classname=_xml_text(suite_name), name="connection", time=f"{connecting:.3f}")
        ET.SubElement(case, "error", message=_xml_text(result.error), type="ConnectionError").text = (
            _xml_text(result.error))
        cases.append(case)
        errors += 1
    for step in result.steps:
        case = ET.Element("testcase", classname=_xml_text(suite_name), name=_xml_text(step.name),
                          time=f"{step.duration_s:.3f}")
        if step.status is Verdict.FAILED:
            failures += 1
            element = ET.SubElement(case, "failure", message=_xml_text(step.message), type="AssertionError")
            element.text = _xml_text(_step_details(step))
        elif step.status is Verdict.ERROR:
            errors += 1
            element = ET.SubElement(case, "error", message=_xml_text(step.message), type="Error")
            element.text = _xml_text(_step_details(step))
        elif step.status is Verdict.SKIPPED:
            skipped += 1
            ET.SubElement(case, "skipped", message=_xml_text(step.message))
        cases.append(case)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors),
              "skipped": str(skipped), "time": f"{result.duration_s:.3f}"}
    root = ET.Element("testsuites", {"name": _xml_text(suite_name), **counts})
    suite = ET.SubElement(root, "testsuite", {"name": _xml_text(suite_name), **counts})
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- from a recorded session -------------------------------------------------------------------------

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


def test_from_frames(frames: Iterable[RecordedMessage], name: str, url: str, *,
                     started_ns: int | None = None, subprotocols: Sequence[str] = (),
                     headers: Sequence[tuple[str, str]] = (),
                     variables: Sequence[tuple[str, str]] = ()) -> TestFile:
    """A test from a recorded session's complete messages ``(ts_ns, direction, opcode, payload)``: outgoing
    messages become sends (JSON objects and arrays as JSON, other text as text, binary as binary) with the
    recorded gap since the message before (or since ``started_ns``, the connection, for the first) as
    ``delay_s``, in milliseconds; incoming ones become expectations (JSON, exact text, exact bytes).
    Pings, pongs and close frames are left out."""
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
    return TestFile(name=name, url=url, steps=tuple(steps), variables=_self_standing(steps, variables),
                    subprotocols=tuple(subprotocols), headers=tuple(headers))


def self_standing(name: str) -> str:
    """The value of a variable that stands for itself: ``{{name}}`` (expansion does not go round twice)."""
    return f"{{{{{name}}}}}"


def _self_standing(steps: Sequence[Step], variables: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The variables, and for every ``{{name}}`` that a recorded message holds literally (and no variable
    defines), a variable that stands for itself, so the text is sent and expected as it was."""
    defined = dict(variables)
    extra: dict[str, str] = {}
    for step in steps:
        for _where, text in _step_texts(step):
            for used in variables_in(text):
                if used not in defined:
                    extra.setdefault(used, self_standing(used))
    return (*variables, *extra.items())


test_from_frames.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name


# -- reading the file --------------------------------------------------------------------------------

_TAG_PREFIX = "tag:yaml.org,2002:"


class _Loader(yaml.SafeLoader):
    """Safe loading, minus the YAML features a test file has no use for: anchors, aliases and tags."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            raise TestFileError("YAML aliases (*name) are not supported: write the value out",
                                *_position(mark))
        if isinstance(event, ScalarEvent | SequenceStartEvent | MappingStartEvent):
            if event.anchor is not None:
                raise TestFileError(f"YAML anchors (&{event.anchor}) are not supported", *_position(mark))
            if event.tag not in (None, "!"):
                tag = str(event.tag)
                shown = "!!" + tag.removeprefix(_TAG_PREFIX) if tag.startswith(_TAG_PREFIX) else tag
                raise TestFileError(f"YAML tags ({shown}) are not supported: quote a value to make it text",
                                    *_position(mark))
        return super().compose_node(parent, index)


def _position(mark: Any) -> tuple[int | None, int | None]:
    if mark is None:
        return None, None
    return int(mark.line) + 1, int(mark.column) + 1


def _error(node: Node, where: str, message: str) -> TestFileError:
    return TestFileError(message, *_position(node.start_mark), where)


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"{node.value!r}" if node.value else "nothing"


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _one_of(choices: Sequence[str]) -> str:
    return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]


class _Mapping:
    """The key/value pairs of a mapping node, keys checked: scalars, no duplicates."""

    def __init__(self, node: Node, where: str, what: str = "") -> None:
        if not isinstance(node, MappingNode):
            raise _error(node, where, f"must be {what or 'a mapping (key: value lines)'}, not {_describe(node)}")
        self.node = node
        self.where = where
        self.items: dict[str, tuple[ScalarNode, Node]] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                hint = (': a value that starts with { must be quoted, for example "{{name}}"'
                        if isinstance(key, MappingNode) else "")
                raise _error(key, where, f"a key must be a plain name, not {_describe(key)}{hint}")
            if key.value in self.items:
                first = self.items[key.value][0].start_mark.line + 1
                raise _error(key, where, f"duplicate key '{key.value}' (first on line {first})")
            self.items[key.value] = (key, value)

    def sub(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def check_keys(self, allowed: Sequence[str], unknown: str = "") -> None:
        for key, (key_node, _) in self.items.items():
            if key not in allowed:
                message = unknown.format(key=key) if unknown else f"unknown key '{key}'"
                raise _error(key_node, self.where, f"{message}{_did_you_mean(key, allowed)}")

    def get(self, key: str) -> Node | None:
        pair = self.items.get(key)
        return pair[1] if pair else None

    def require(self, key: str, message: str = "") -> Node:
        value = self.get(key)
        if value is None:
            raise _error(self.node, self.where, message or f"'{key}' is missing")
        return value

    def __contains__(self, key: str) -> bool:
        return key in self.items


def _string(node: Node, where: str) -> str:
    """Any scalar, as written (``port: 8080`` is the text 8080)."""
    if not isinstance(node, ScalarNode):
        raise _error(node, where, f"must be text, not {_describe(node)}")
    return str(node.value)


def _number(node: Node, where: str, *, positive: bool = False) -> float:
    """A number of seconds, written as a JSON number."""
    if not isinstance(node, ScalarNode) or node.style is not None or not _JSON_NUMBER.fullmatch(node.value):
        raise _error(node, where, f"must be a number of seconds, not {_describe(node)}")
    value = float(node.value)
    if not math.isfinite(value):
        raise _error(node, where, f"{node.value} is out of range")
    if positive and value <= 0:
        raise _error(node, where, f"must be a positive number of seconds, not {node.value}")
    if value < 0:
        raise _error(node, where, f"must not be negative, not {node.value}")
    return value


def _json_value(node: Node, where: str) -> Any:
    """A JSON value written as YAML: unquoted true, false, null (or ~, or nothing) and JSON numbers are
    those values; every other scalar is a string. Quoting makes anything a string."""
    if isinstance(node, ScalarNode):
        text = node.value
        if node.style is not None:
            return text
        if text in ("", "~", "null"):
            return None
        if text in ("true", "false"):
            return text == "true"
        if _JSON_NUMBER.fullmatch(text):
            number = json.loads(text)
            if isinstance(number, float) and not math.isfinite(number):
                raise _error(node, where, f"the number {text} is out of range")
            return number
        return text
    if isinstance(node, SequenceNode):
        return [_json_value(item, f"{where}[{i}]") for i, item in enumerate(node.value)]
    mapping = _Mapping(node, where)
    return {key: _json_value(value, f"{where}.{key}") for key, (_, value) in mapping.items.items()}


def _binary(node: Node, where: str) -> bytes:
    """Hex (``"00 ff 10"``, separators allowed), or ``{base64: ...}`` / ``{hex: ...}``."""
    try:
        if isinstance(node, MappingNode):
            mapping = _Mapping(node, where)
            mapping.check_keys(("hex", "base64"))
            if len(mapping.items) != 1:
                raise _error(node, where, "give the bytes as hex or as base64")
            if "base64" in mapping:
                return parse_base64(_string(mapping.require("base64"), mapping.sub("base64")))
            return parse_hex(_string(mapping.require("hex"), mapping.sub("hex")))
        return parse_hex(_string(node, where))
    except PayloadError as exc:
        raise _error(node, where, str(exc)) from None


def _variable_name(key_node: ScalarNode, where: str) -> str:
    name = str(key_node.value)
    if not _VARIABLE_NAME.fullmatch(name):
        raise _error(key_node, where, f"'{name}' is not a variable name (letters, digits, _ . -; "
                                      "not starting with a digit)")
    return name


def _path(node: Node, where: str, *, wildcards: bool) -> str:
    text = _string(node, where)
    try:
        parsed = parse_json_path(text)
    except JsonPathError as exc:
        raise _error(node, where, str(exc)) from None
    if not wildcards and WILDCARD in parsed:
        raise _error(node, where, f"{text!r}: a capture needs one value, not a wildcard")
    return text


def _matcher(mapping: _Mapping) -> Matcher:
    kinds = [kind for kind in MATCHER_KINDS if kind in mapping]
    if not kinds:
        raise _error(mapping.node, mapping.where, f"say what to expect: {_one_of(MATCHER_KINDS)}")
    if len(kinds) > 1:
        raise _error(mapping.node, mapping.where, f"one matcher per step, not {' and '.join(kinds)}")
    kind = kinds[0]
    node, where = mapping.require(kind), mapping.sub(kind)
    if "ignore" in mapping and kind != "json":
        raise _error(mapping.items["ignore"][0], mapping.where, "'ignore' only goes with a json matcher")
    if kind == "text":
        return TextMatcher(_string(node, where))
    if kind == "binary":
        return BytesMatcher(_binary(node, where))
    if kind == "json":
        ignore: list[str] = []
        ignore_node = mapping.get("ignore")
        if ignore_node is not None:
            if not isinstance(ignore_node, SequenceNode):
                raise _error(ignore_node, mapping.sub("ignore"), "must be a list of paths, for example [$.ts]")
            ignore = [_path(item, f"{mapping.sub('ignore')}[{i}]", wildcards=True)
                      for i, item in enumerate(ignore_node.value)]
        return JsonMatcher(_json_value(node, where), tuple(ignore))
    if kind == "regex":
        pattern = _string(node, where)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _error(node, where, f"invalid regular expression: {exc}") from None
        return RegexMatcher(pattern)
    name = _string(node, where)
    if name not in OPCODE_NAMES:
        raise _error(node, where, f"unknown opcode '{name}' (expected {_one_of(list(OPCODE_NAMES))})")
    return OpcodeMatcher(OPCODE_NAMES[name])


def _captures(mapping: _Mapping) -> tuple[tuple[str, str], ...]:
    node = mapping.get("capture")
    if node is None:
        return ()
    captures = _Mapping(node, mapping.sub("capture"), "a mapping of variable: $.path")
    return tuple((_variable_name(key, captures.where), _path(value, captures.sub(str(key.value)), wildcards=False))
                 for key, value in captures.items.values())


def _timeout(mapping: _Mapping) -> float | None:
    node = mapping.get("timeout")
    return None if node is None else _number(node, mapping.sub("timeout"), positive=True)


_EXPECT_KEYS = (*MATCHER_KINDS, "ignore", "capture", "timeout")
_STEP_KINDS = ("send", "expect", "wait")


def _step(node: Node, where: str) -> Step:
    step = _Mapping(node, where, "a mapping with send, expect or wait")
    step.check_keys(("name", *_STEP_KINDS))
    kinds = [kind for kind in _STEP_KINDS if kind in step]
    if not kinds:
        raise _error(node, where, f"a step needs one of {_one_of(_STEP_KINDS)}")
    if len(kinds) > 1:
        raise _error(node, where, f"one action per step, not {' and '.join(kinds)}")
    name_node = step.get("name")
    name = "" if name_node is None else _string(name_node, step.sub("name"))
    kind = kinds[0]
    body_node = step.require(kind)
    if kind == "send":
        body = _Mapping(body_node, step.sub("send"), "a mapping with text, json or binary")
        body.check_keys((*SEND_KINDS, "delay"), f"unknown kind '{{key}}' (expected {_one_of(SEND_KINDS)})")
        payloads = [k for k in SEND_KINDS if k in body]
        if len(payloads) != 1:
            problem = "nothing to send" if not payloads else f"one payload per step, not {' and '.join(payloads)}"
            raise _error(body_node, body.where, f"{problem} (give text, json or binary)")
        payload_node, payload_where = body.require(payloads[0]), body.sub(payloads[0])
        payload: Payload
        if payloads[0] == "text":
            payload = TextPayload(_string(payload_node, payload_where))
        elif payloads[0] == "json":
            payload = JsonPayload(_json_value(payload_node, payload_where))
        else:
            payload = BinaryPayload(_binary(payload_node, payload_where))
        delay_node = body.get("delay")
        delay = None if delay_node is None else _number(delay_node, body.sub("delay"))
        return SendStep(payload, delay, name)
    if kind == "expect":
        body = _Mapping(body_node, step.sub("expect"), "a mapping with a matcher (text, binary, json, regex or opcode)")
        body.check_keys(_EXPECT_KEYS)
        return ExpectStep(_matcher(body), _captures(body), _timeout(body), name)
    if isinstance(body_node, ScalarNode):
        return WaitStep(seconds=_number(body_node, step.sub("wait")), name=name)
    body = _Mapping(body_node, step.sub("wait"), "a number of seconds, or a mapping with seconds or a matcher")
    body.check_keys(("seconds", *_EXPECT_KEYS))
    if "seconds" in body:
        extra = [key for key in body.items if key != "seconds"]
        if extra:
            raise _error(body.items[extra[0]][0], body.where,
                         f"'{extra[0]}' does not go with 'seconds' (a wait is either seconds or until a match)")
        return WaitStep(seconds=_number(body.require("seconds"), body.sub("seconds")), name=name)
    return WaitStep(until=_matcher(body), capture=_captures(body), timeout_s=_timeout(body), name=name)


_TOP_KEYS = ("version", "name", "url", "subprotocols", "headers", "variables", "timeout", "steps")


def _pairs(node: Node | None, where: str, *, names: bool) -> tuple[tuple[str, str], ...]:
    if node is None:
        return ()
    mapping = _Mapping(node, where)
    return tuple((_variable_name(key, where) if names else str(key.value), _string(value, mapping.sub(key.value)))
                 for key, value in mapping.items.values())


def _test_file(root: Node, check_url: bool = True) -> TestFile:
    top = _Mapping(root, "", "a mapping that starts with 'version: 1'")
    version_node = top.get("version")
    if version_node is None:
        raise _error(root, "", f"this is not a wsinspector test file: 'version: {FORMAT_VERSION}' is missing")
    if not (isinstance(version_node, ScalarNode) and version_node.style is None
            and re.fullmatch(r"[0-9]+", version_node.value)):
        raise _error(version_node, "version",
                     f"must be a whole number ({FORMAT_VERSION}), not {_describe(version_node)}")
    version = int(version_node.value)
    if version > FORMAT_VERSION:
        raise _error(version_node, "version", f"this test file has format version {version}; this wsinspector "
                                              f"reads version {FORMAT_VERSION} only: update wsinspector to run it")
    if version < 1:
        raise _error(version_node, "version", f"unknown format version {version} (expected {FORMAT_VERSION})")
    top.check_keys(_TOP_KEYS)
    url = _string(top.require("url", "'url' is missing: the WebSocket URL to connect to"), "url")
    if not url.strip():
        raise _error(top.require("url"), "url", "must not be empty")
    if check_url and not variables_in(url):  # with variables, it is checked once they are known
        try:
            validate_url(url)
        except ProfileError as exc:
            raise _error(top.require("url"), "url", str(exc)) from None
    name_node = top.get("name")
    subprotocols: tuple[str, ...] = ()
    protocols_node = top.get("subprotocols")
    if protocols_node is not None:
        if not isinstance(protocols_node, SequenceNode):
            raise _error(protocols_node, "subprotocols", f"must be a list, not {_describe(protocols_node)}")
        subprotocols = tuple(_string(item, f"subprotocols[{i}]") for i, item in enumerate(protocols_node.value))
    timeout_node = top.get("timeout")
    steps_node = top.get("steps")
    steps: list[Step] = []
    if steps_node is not None:
        if isinstance(steps_node, ScalarNode) and steps_node.style is None and steps_node.value in ("", "~", "null"):
            pass
        elif not isinstance(steps_node, SequenceNode):
            raise _error(steps_node, "steps", f"must be a list of steps, not {_describe(steps_node)}")
        else:
            steps = [_step(item, f"steps[{i}]") for i, item in enumerate(steps_node.value)]
    return TestFile(
        name="" if name_node is None else _string(name_node, "name"),
        url=url,
        steps=tuple(steps),
        variables=_pairs(top.get("variables"), "variables", names=True),
        subprotocols=subprotocols,
        headers=_pairs(top.get("headers"), "headers", names=False),
        timeout_s=DEFAULT_TIMEOUT_S if timeout_node is None else _number(timeout_node, "timeout", positive=True),
    )


def load(text: str, *, check_url: bool = True) -> TestFile:
    """Read a test file; :class:`TestFileError` says what is wrong, where. ``check_url=False`` takes a URL
    that cannot be connected to (an editor opens such a file so it can be put right)."""
    text = text.removeprefix("\ufeff")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise TestFileError(f"not valid YAML: {problem}", *_position(mark)) from None
    except yaml.YAMLError as exc:
        raise TestFileError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise TestFileError("nested too deeply") from None
    if root is None:
        raise TestFileError(f"the file is empty: a test file starts with 'version: {FORMAT_VERSION}'", 1, 1)
    return _test_file(root, check_url)


def read_test(path: str | Path, *, check_url: bool = True) -> TestFile:
    """Load a test file from disk (UTF-8). ``OSError`` if it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TestFileError(f"not UTF-8 text (byte {exc.start})") from None
    return load(text, check_url=check_url)


def write_test(path: str | Path, test: TestFile) -> None:
    Path(path).write_text(dump(test), encoding="utf-8", newline="\n")


# -- writing the file --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented below their key


def _represent_str(dumper: yaml.SafeDumper, data: str) -> ScalarNode:
    style: str | None = None
    if "\n" in data:
        style = "|"
    elif data in ("", "~", "null", "true", "false") or _JSON_NUMBER.fullmatch(data):
        style = "'"  # would read back as a JSON value, not a string
    return dumper.represent_scalar(_TAG_PREFIX + "str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def _seconds(value: float) -> int | float:
    if not math.isfinite(value):
        raise ValueError(f"{value} seconds cannot be written")
    return int(value) if float(value).is_integer() else float(value)


def _plain_json(value: Any) -> Any:
    """A JSON value with lists for tuples, checked to be JSON."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
        return value
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"JSON object keys are strings, not {key!r}")
        return {key: _plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(item) for item in value]
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def _hex(data: bytes) -> str:
    lines = [data[i : i + _HEX_BYTES_PER_LINE].hex(" ") for i in range(0, len(data), _HEX_BYTES_PER_LINE)]
    return "\n".join(lines) + ("\n" if len(lines) > 1 else "")


def _dump_matcher(matcher: Matcher) -> dict[str, Any]:
    if isinstance(matcher, TextMatcher):
        return {"text": matcher.text}
    if isinstance(matcher, BytesMatcher):
        return {"binary": _hex(matcher.data)}
    if isinstance(matcher, JsonMatcher):
        body: dict[str, Any] = {"json": _plain_json(matcher.value)}
        if matcher.ignore:
            body["ignore"] = list(matcher.ignore)
        return body
    if isinstance(matcher, RegexMatcher):
        return {"regex": matcher.pattern}
    return {"opcode": matcher.opcode.label}


def _dump_step(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"name": step.name} if step.name else {}
    if isinstance(step, SendStep):
        payload = step.payload
        body: dict[str, Any]
        if isinstance(payload, TextPayload):
            body = {"text": payload.text}
        elif isinstance(payload, JsonPayload):
            body = {"json": _plain_json(payload.value)}
        else:
            body = {"binary": _hex(payload.data)}
        if step.delay_s is not None:
            body["delay"] = _seconds(step.delay_s)
        out["send"] = body
        return out
    matcher = step.matcher if isinstance(step, ExpectStep) else step.until
    if matcher is None:
        assert isinstance(step, WaitStep) and step.seconds is not None
        out["wait"] = _seconds(step.seconds)
        return out
    body = _dump_matcher(matcher)
    if step.capture:
        body["capture"] = _unique(step.capture, "capture")
    if step.timeout_s is not None:
        body["timeout"] = _seconds(step.timeout_s)
    out["expect" if isinstance(step, ExpectStep) else "wait"] = body
    return out


def _unique(pairs: Iterable[tuple[str, str]], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"{what}: {key!r} appears twice; a test file can hold it once")
        out[key] = value
    return out


def dump(test: TestFile) -> str:
    """The test file text: keys in a fixed order, block style, binary as hex (16 bytes a line), JSON as
    nested YAML, multi-line text as literal blocks. ``load(dump(test)) == test``."""
    document: dict[str, Any] = {"version": FORMAT_VERSION, "name": test.name, "url": test.url}
    if test.subprotocols:
        document["subprotocols"] = list(test.subprotocols)
    if test.headers:
        document["headers"] = _unique(test.headers, "headers")
    if test.variables:
        document["variables"] = _unique(test.variables, "variables")
    document["timeout"] = _seconds(test.timeout_s)
    document["steps"] = [_dump_step(step) for step in test.steps]
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=1 << 30, indent=2)
