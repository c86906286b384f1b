"""One received message against an ``expect`` step: the verdict, a readable diff and the captures."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from wsinspector.core.jsonpath import JsonPath, format_json_path, parse_json_path, path_matches, resolve_json_path

from ..frames import Opcode, describe_close_code, parse_close_payload
from ..payloads import PayloadError, decode_text, hexdump, parse_json
from .model import BytesMatcher, ExpectStep, JsonMatcher, Matcher, OpcodeMatcher, RegexMatcher, TextMatcher, WaitStep
from .variables import expand, expand_json


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


def json_differences(expected: Any, received: Any, ignore: Iterable[str] = ()) -> list[str]:  # noqa: C901
    """Every difference between two JSON values, one line each, e.g. ``$.user.name: expected "ann", got
    "bob"``; objects compare without regard to key order, arrays element by element. A difference at or
    below an ``ignore`` path (wildcards allowed) does not count, whether the value differs or is absent."""
    patterns = [parse_json_path(p) for p in ignore]
    out: list[str] = []

    def ignored(path: JsonPath) -> bool:
        return any(path_matches(p, path) for p in patterns)

    def walk(exp: Any, got: Any, path: JsonPath) -> None:  # noqa: C901, PLR0912
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


#: what :func:`match` says of a message that does not match when asked not to describe it
NO_MATCH = MatchResult(False)


def match(step: ExpectStep | WaitStep, message: ReceivedMessage,  # noqa: C901, PLR0911, PLR0912
          variables: Mapping[str, str] | None = None, *, describe: bool = True) -> MatchResult:
    """Check one received message against an ``expect`` step (or the ``until`` of a wait step), with
    variables expanded in what it expects; on success, apply its captures. An unknown variable raises
    :class:`UnknownVariableError` (:func:`check_variables` finds those before a run). Without ``describe``
    a message that does not match gives :data:`NO_MATCH` and a match no expected and received text: the
    verdict alone, for the many messages a wait passes over."""
    matcher = step.matcher if isinstance(step, ExpectStep) else step.until
    if matcher is None:
        raise ValueError("a fixed wait does not match messages")
    variables = {} if variables is None else variables
    opcode = Opcode(message.opcode)
    payload = message.payload
    expected = describe_expected(matcher, variables) if describe else ""
    received = describe_received(opcode, payload) if describe else ""

    def fail(summary: str, diff: str | Callable[[], str] = "") -> MatchResult:
        if not describe:
            return NO_MATCH
        return MatchResult(False, diff() if callable(diff) else diff, {}, summary, expected, received)

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
                            lambda: text_diff(hexdump(matcher.data, _RENDER_LIMIT), hexdump(payload, _RENDER_LIMIT)))
        elif isinstance(matcher, TextMatcher):
            want = expand(matcher.text, variables)
            if text != want:
                if not describe:
                    return NO_MATCH
                return fail(f"the text differs from character {_first_difference(want, text) + 1}",
                            text_diff(want, text))
        elif isinstance(matcher, RegexMatcher):
            pattern = _expand_regex(matcher.pattern, variables)
            if not re.search(pattern, text):
                if not describe:
                    return NO_MATCH
                return fail(f"the text does not match /{pattern}/", f"pattern:  /{pattern}/\nreceived: {text}")
        else:
            try:
                parsed, has_json = parse_json(text), True
            except PayloadError as exc:
                return fail(f"the message is not JSON: {exc}", lambda: text_diff(expected, text))
            differences = json_differences(expand_json(matcher.value, variables), parsed, matcher.ignore)
            if differences:
                if not describe:
                    return NO_MATCH
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

