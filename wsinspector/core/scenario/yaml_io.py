"""Reading and writing test files (YAML): safe loading without anchors, aliases or tags, errors that name the
line, the column and the field (:class:`ScenarioFileError`), and a canonical layout on writing."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wsinspector.core.jsonpath import WILDCARD, JsonPathError, parse_json_path

from ..payloads import PayloadError, parse_base64, parse_hex
from ..profiles import TLS_VERSIONS, Auth, ProfileError, Tls, normal_fingerprint, validate_url
from .model import (
    DEFAULT_TIMEOUT_S,
    FORMAT_VERSION,
    MATCHER_KINDS,
    OPCODE_NAMES,
    SEND_KINDS,
    VARIABLE_NAME,
    BinaryPayload,
    BytesMatcher,
    EventStep,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Matcher,
    OpcodeMatcher,
    Payload,
    RegexMatcher,
    Scenario,
    SendStep,
    Step,
    TextMatcher,
    TextPayload,
    VerbStep,
    WaitStep,
)
from .variables import variables_in

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEX_BYTES_PER_LINE = 16


class ScenarioFileError(ValueError):
    """A test file that cannot be read. ``line`` and ``column`` are 1-based where known; ``field`` is the
    path of the offending value, e.g. ``steps[3].expect.timeout``. ``message`` alone is the explanation;
    ``str()`` puts the three together: ``line 14, column 16: steps[3].expect.timeout: must be ...``."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, field: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.field = field
        where = ""
        if line is not None:
            where = f"line {line}, column {column}: " if column is not None else f"line {line}: "
        super().__init__(f"{where}{field + ': ' if field else ''}{message}")


# -- reading the file --------------------------------------------------------------------------------

_TAG_PREFIX = "tag:yaml.org,2002:"


class _Checks(Composer):
    """Composing, minus the YAML features a test file has no use for: anchors, aliases and tags."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            raise ScenarioFileError("YAML aliases (*name) are not supported: write the value out",
                                    *_position(mark))
        if isinstance(event, ScalarEvent | SequenceStartEvent | MappingStartEvent):
            if event.anchor is not None:
                raise ScenarioFileError(f"YAML anchors (&{event.anchor}) are not supported", *_position(mark))
            if event.tag not in (None, "!"):
                tag = str(event.tag)
                shown = "!!" + tag.removeprefix(_TAG_PREFIX) if tag.startswith(_TAG_PREFIX) else tag
                raise ScenarioFileError(f"YAML tags ({shown}) are not supported: quote a value to make it text",
                                        *_position(mark))
        node = super().compose_node(parent, index)
        if isinstance(node, ScalarNode) and node.style == "":  # libyaml's plain scalar: None, as PyYAML's
            node.style = None
        return node


class _PyLoader(_Checks, yaml.SafeLoader):
    """Safe composing on PyYAML's own parser, in Python."""


#: whether PyYAML was built with libyaml
LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))


if LIBYAML:
    class _CLoader(_Checks, yaml.CSafeLoader):
        """Safe composing on libyaml's parser: the same nodes, several times faster (``bench/test_file.py``)."""

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            Composer.__init__(self)

#: what test and mock files are read with: libyaml's parser wherever PyYAML was built with it (``yaml.compose``
#: takes any loader class; its stubs name PyYAML's own)
_Loader: Any = _CLoader if LIBYAML else _PyLoader


def _position(mark: Any) -> tuple[int | None, int | None]:
    if mark is None:
        return None, None
    return int(mark.line) + 1, int(mark.column) + 1


def _error(node: Node, where: str, message: str) -> ScenarioFileError:
    return ScenarioFileError(message, *_position(node.start_mark), where)


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
    if not VARIABLE_NAME.fullmatch(name):
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


def _step(node: Node, where: str, protocol: str = "") -> Step:  # noqa: C901
    from . import protocol_io  # noqa: PLC0415  (it reads with this module's helpers)

    step = _Mapping(node, where, "a mapping with send, expect or wait")
    verbs = protocol_io.verbs_of(protocol)
    step_kinds = (*_STEP_KINDS, *(verb for verb in verbs if verb not in _STEP_KINDS))
    step.check_keys(("name", *step_kinds))
    kinds = [kind for kind in step_kinds if kind in step]
    if not kinds:
        raise _error(node, where, f"a step needs one of {_one_of(_STEP_KINDS)}")
    if len(kinds) > 1:
        raise _error(node, where, f"one action per step, not {' and '.join(kinds)}")
    name_node = step.get("name")
    name = "" if name_node is None else _string(name_node, step.sub("name"))
    kind = kinds[0]
    body_node = step.require(kind)
    if protocol_io.is_verb_step(protocol, kind, body_node):
        return protocol_io.read_verb_step(protocol, kind, body_node, step.sub(kind), name)
    if kind == "expect" and protocol_io.is_event_expect(body_node):
        return protocol_io.read_event_step(protocol, _Mapping(body_node, step.sub("expect")), name)
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


_TOP_KEYS = ("version", "name", "url", "subprotocols", "headers", "variables", "timeout", "tls", "connect_to",
             "auth", "steps", "protocol", "protocol_options")
_TLS_KEYS = ("verify", "ca_file", "client_cert", "client_key", "min_version", "trust")


def _tls(node: Node | None) -> Tls:
    """The ``tls`` mapping: file names, the oldest version, whether to verify, fingerprints to trust."""
    if node is None:
        return Tls()
    mapping = _Mapping(node, "tls")
    mapping.check_keys(_TLS_KEYS)
    values: dict[str, Any] = {}
    for key in ("ca_file", "client_cert", "client_key", "min_version"):
        if key in mapping:
            values[key] = _string(mapping.require(key), mapping.sub(key))
    if values.get("min_version", "") not in TLS_VERSIONS:
        raise _error(mapping.require("min_version"), mapping.sub("min_version"),
                     f"must be 1.2 or 1.3, not {values['min_version']!r}")
    if "verify" in mapping:
        verify = mapping.require("verify")
        if not (isinstance(verify, ScalarNode) and verify.style is None and verify.value in ("true", "false")):
            raise _error(verify, mapping.sub("verify"), f"must be true or false, not {_describe(verify)}")
        values["verify"] = verify.value == "true"
    if "trust" in mapping:
        trust = mapping.require("trust")
        if not isinstance(trust, SequenceNode):
            raise _error(trust, mapping.sub("trust"), f"must be a list of SHA-256 fingerprints, not {_describe(trust)}")
        pinned = []
        for i, item in enumerate(trust.value):
            try:
                pinned.append(normal_fingerprint(_string(item, f"tls.trust[{i}]")))
            except ProfileError as exc:
                raise _error(item, f"tls.trust[{i}]", str(exc)) from None
        values["pinned"] = tuple(pinned)
    return Tls(**values)


def _auth(node: Node | None) -> Auth:
    from .auth_io import read_auth  # noqa: PLC0415  (it reads with this module's helpers)

    return read_auth(node)


def _pairs(node: Node | None, where: str, *, names: bool) -> tuple[tuple[str, str], ...]:
    if node is None:
        return ()
    mapping = _Mapping(node, where)
    return tuple((_variable_name(key, where) if names else str(key.value), _string(value, mapping.sub(key.value)))
                 for key, value in mapping.items.values())


def _scenario(root: Node, check_url: bool = True) -> Scenario:  # noqa: C901
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
    from . import protocol_io  # noqa: PLC0415  (it reads with this module's helpers)

    protocol, protocol_options = protocol_io.read_protocol(top)
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
            steps = [_step(item, f"steps[{i}]", protocol) for i, item in enumerate(steps_node.value)]
            protocol_io.check_protocol_steps(protocol, steps, steps_node.value)
    return Scenario(
        name="" if name_node is None else _string(name_node, "name"),
        url=url,
        steps=tuple(steps),
        variables=_pairs(top.get("variables"), "variables", names=True),
        subprotocols=subprotocols,
        headers=_pairs(top.get("headers"), "headers", names=False),
        timeout_s=DEFAULT_TIMEOUT_S if timeout_node is None else _number(timeout_node, "timeout", positive=True),
        tls=_tls(top.get("tls")),
        connect_to="" if top.get("connect_to") is None else _string(top.require("connect_to"), "connect_to"),
        auth=_auth(top.get("auth")),
        protocol=protocol,
        protocol_options=protocol_options,
    )


def load(text: str, *, check_url: bool = True) -> Scenario:
    """Read a test file; :class:`ScenarioFileError` says what is wrong, where. ``check_url=False`` takes a URL
    that cannot be connected to (an editor opens such a file so it can be put right)."""
    text = text.removeprefix("\ufeff")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioFileError(f"not valid YAML: {problem}", *_position(mark)) from None
    except yaml.YAMLError as exc:
        raise ScenarioFileError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioFileError("nested too deeply") from None
    if root is None:
        raise ScenarioFileError(f"the file is empty: a test file starts with 'version: {FORMAT_VERSION}'", 1, 1)
    return _scenario(root, check_url)


def read_test(path: str | Path, *, check_url: bool = True) -> Scenario:
    """Load a test file from disk (UTF-8). ``OSError`` if it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(f"not UTF-8 text (byte {exc.start})") from None
    return load(text, check_url=check_url)


def write_test(path: str | Path, test: Scenario) -> None:
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
    if isinstance(step, VerbStep | EventStep):
        from .protocol_io import dump_protocol_step  # noqa: PLC0415

        return dump_protocol_step(step, out, _plain_json)
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


def _dump_tls(tls: Tls) -> dict[str, Any]:
    """The settings that differ from the defaults, in the file's words."""
    out: dict[str, Any] = {}
    if not tls.verify:
        out["verify"] = False
    for key in ("ca_file", "client_cert", "client_key", "min_version"):
        if getattr(tls, key):
            out[key] = getattr(tls, key)
    if tls.pinned:
        out["trust"] = list(tls.pinned)
    return out


def dump(test: Scenario) -> str:
    """The test file text: keys in a fixed order, block style, binary as hex (16 bytes a line), JSON as
    nested YAML, multi-line text as literal blocks. ``load(dump(test)) == test``."""
    document: dict[str, Any] = {"version": FORMAT_VERSION, "name": test.name, "url": test.url}
    if test.subprotocols:
        document["subprotocols"] = list(test.subprotocols)
    if test.headers:
        document["headers"] = _unique(test.headers, "headers")
    if test.variables:
        document["variables"] = _unique(test.variables, "variables")
    from .protocol_io import dump_protocol  # noqa: PLC0415

    dump_protocol(test, document)
    document["timeout"] = _seconds(test.timeout_s)
    tls = _dump_tls(test.tls)
    if tls:
        document["tls"] = tls
    if test.connect_to:
        document["connect_to"] = test.connect_to
    from .auth_io import dump_auth  # noqa: PLC0415  (it reads with this module's helpers)

    auth = dump_auth(test.auth)
    if auth:
        document["auth"] = auth
    document["steps"] = [_dump_step(step) for step in test.steps]
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=1 << 30, indent=2)
