"""Reading mock rules files (YAML, ``docs/mock.md``): loaded as test files are (no anchors, aliases or tags),
every error one line naming the line, the column and the field (:class:`MockFileError`, a
``ScenarioFileError``)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wsinspector.core.dynamic import unknown_dynamic
from wsinspector.core.frames import Opcode
from wsinspector.core.jsonpath import WILDCARD, JsonPathError, parse_json_path
from wsinspector.core.mock.model import (
    CLOSE,
    CLOSE_MID_MESSAGE,
    DROP,
    ECHO,
    FORMAT_VERSION,
    PING,
    RAW,
    SEND,
    WAIT,
    Action,
    Handshake,
    MockRules,
    Periodic,
    Route,
    Rule,
    json_text,
)
from wsinspector.core.scenario.variables import variables_in
from wsinspector.core.scenario.yaml_io import (
    ScenarioFileError,
    _binary,
    _describe,
    _error,
    _json_value,
    _Loader,
    _Mapping,
    _number,
    _one_of,
    _pairs,
    _position,
    _string,
)
from wsinspector.core.sending import AutoReplyRule, SendingError

__all__ = ["MockFileError", "load_rules", "read_rules"]

#: the largest rules file read: one is written by hand, and YAML is read slowly (some 10 s a MiB of short rules)
RULES_MAX_BYTES = 4 * 1024 * 1024
#: the most bytes an ``oversized`` frame may have (it is built in memory)
OVERSIZED_MAX = 256 * 1024 * 1024
#: what ``invalid_utf8: true`` sends: "(" after a lead byte that wants a continuation byte
DEFAULT_INVALID_UTF8 = b"bad \xc3\x28 text"
_ROUTE_KEYS = ("handshake", "origins", "on_connect", "rules", "every", "pings", "pong_delay", "on_close")
_TOP_KEYS = ("version", "name", "variables", "subprotocols", "routes", *_ROUTE_KEYS)
_MESSAGE_KEYS = ("text", "json", "binary", "invalid_utf8", "oversized")
_ACTION_KEYS = (*_MESSAGE_KEYS, "echo", "close", "drop", "wait", "ping", "raw", "close_mid_message")
_MODIFIERS = ("fragments", "masked")
_MATCH_KEYS = ("text", "contains", "regex", "json", "binary", "any")
_PINGS = ("answer", "late", "never")
#: the variables every reply may use besides the file's and the rule's captures
BUILT_IN = ("message", "path", "client")
#: the codes below 3000 a close frame may carry (RFC 6455 §7.4.1, and the IANA registry's 1012-1014)
SENDABLE_CLOSE_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)


class MockFileError(ScenarioFileError):
    """A rules file that cannot be read: ``line 14, column 16: rules[3].match: ...``."""


def _whole(node: Node, where: str, *, least: int = 0, most: int | None = None) -> int:
    if not (isinstance(node, ScalarNode) and node.style is None and re.fullmatch(r"[0-9]+", node.value)):
        raise _error(node, where, f"must be a whole number, not {_describe(node)}")
    value = int(node.value)
    if value < least or (most is not None and value > most):
        bound = f"from {least} to {most}" if most is not None else f"at least {least}"
        raise _error(node, where, f"must be {bound}, not {value}")
    return value


def _flag(node: Node, where: str) -> bool:
    if not (isinstance(node, ScalarNode) and node.style is None and node.value in ("true", "false")):
        raise _error(node, where, f"must be true or false, not {_describe(node)}")
    return bool(node.value == "true")


def _text_of(node: Node, where: str, known: set[str]) -> str:
    """A template: its ``{{variables}}`` must be known, its ``{{$values}}`` dynamic ones."""
    text = _string(node, where)
    _check_template(node, where, text, known)
    return text


def _check_template(node: Node, where: str, text: str, known: set[str]) -> None:
    unknown = [name for name in variables_in(text) if name not in known]
    if unknown:
        shown = ", ".join("{{" + name + "}}" for name in unknown)
        raise _error(node, where, f"unknown variable {shown}: define it under 'variables', capture it, or use "
                                  f"{_one_of(['{{' + name + '}}' for name in BUILT_IN])}")
    bad = unknown_dynamic(text)
    if bad:
        raise _error(node, where, f"unknown dynamic value {{{{${bad[0]}}}}} (known: {{{{$uuid}}}}, {{{{$timestamp}}}}, "
                                  "{{$isoTimestamp}}, {{$randomInt}}, {{$counter}})")


def _action(node: Node, where: str, known: set[str]) -> Action:  # noqa: C901, PLR0911, PLR0912
    mapping = _Mapping(node, where, f"an action: a mapping with one of {_one_of(list(_ACTION_KEYS))}")
    kinds = [key for key in mapping.items if key in _ACTION_KEYS]
    if len(kinds) != 1:
        if not kinds:
            mapping.check_keys(_ACTION_KEYS)
        raise _error(node, where, f"an action does one thing: {_one_of(list(_ACTION_KEYS))}, not "
                                  f"{' and '.join(kinds) or 'nothing'}")
    kind = kinds[0]
    value = mapping.require(kind)
    at = mapping.sub(kind)
    if kind in _MESSAGE_KEYS:
        mapping.check_keys((kind, *_MODIFIERS))
        fragments = _whole(mapping.require("fragments"), mapping.sub("fragments"), least=1, most=10_000) \
            if "fragments" in mapping else 1
        masked = _flag(mapping.require("masked"), mapping.sub("masked")) if "masked" in mapping else False
        if kind == "text":
            return Action(SEND, payload=_text_of(value, at, known), fragments=fragments, masked=masked)
        if kind == "json":
            text = json_text(_json_value(value, at))
            _check_template(value, at, text, known)
            return Action(SEND, payload=text, fragments=fragments, masked=masked)
        if kind == "binary":
            return Action(SEND, data=_binary(value, at), is_text=False, fragments=fragments, masked=masked)
        if kind == "invalid_utf8":
            if isinstance(value, ScalarNode) and value.style is None and value.value == "true":
                data = DEFAULT_INVALID_UTF8
            else:
                data = _binary(value, at)
            return Action(SEND, data=data, raw_text=True, fragments=fragments, masked=masked)
        size = _whole(value, at, least=1, most=OVERSIZED_MAX)
        return Action(SEND, data=bytes(size), is_text=False, fragments=fragments, masked=masked)
    if kind == "close":
        mapping.check_keys(("close", "reason"))
        reason = _string(mapping.require("reason"), mapping.sub("reason")) if "reason" in mapping else ""
        if isinstance(value, ScalarNode) and value.style is None and value.value in ("none", "null", "~", ""):
            return Action(CLOSE, code=None, reason=reason)
        return Action(CLOSE, code=_whole(value, at, least=0, most=65535), reason=reason)
    mapping.check_keys((kind,))
    if kind in ("drop", "echo"):
        if not _flag(value, at):
            raise _error(value, at, f"write '{kind}: true' (or leave the action out)")
        return Action(DROP if kind == "drop" else ECHO)
    if kind == "wait":
        return Action(WAIT, seconds=_number(value, at))
    if kind == "ping":
        return Action(PING, payload=_text_of(value, at, known))
    if kind == "close_mid_message":
        return Action(CLOSE_MID_MESSAGE, payload=_text_of(value, at, known))
    raw = _Mapping(value, at, "a mapping: opcode, and data, rsv, fin")
    raw.check_keys(("opcode", "data", "rsv", "fin"))
    opcode = _whole(raw.require("opcode"), raw.sub("opcode"), most=15)
    data = _binary(raw.require("data"), raw.sub("data")) if "data" in raw else b""
    rsv = _whole(raw.require("rsv"), raw.sub("rsv"), most=7) if "rsv" in raw else 0
    fin = _flag(raw.require("fin"), raw.sub("fin")) if "fin" in raw else True
    if opcode in (Opcode.TEXT, Opcode.BINARY) and rsv == 0 and fin:
        raise _error(value, at, "this is an ordinary message: use text or binary (raw is for frames a "
                                "server must not send)")
    return Action(RAW, data=data, opcode=opcode, rsv=rsv, fin=fin)


def _actions(node: Node | None, where: str, known: set[str]) -> tuple[Action, ...]:
    if node is None:
        return ()
    if isinstance(node, MappingNode):
        return (_action(node, where, known),)
    if not isinstance(node, SequenceNode):
        raise _error(node, where, f"must be a list of actions, not {_describe(node)}")
    return tuple(_action(item, f"{where}[{i}]", known) for i, item in enumerate(node.value))


def _matcher(node: Node, where: str, name: str) -> tuple[AutoReplyRule | None, bytes | None, set[str]]:
    """The matcher, the bytes a binary message must be, and the names it captures (a regex's named groups)."""
    mapping = _Mapping(node, where, f"a mapping with one of {_one_of(list(_MATCH_KEYS))}")
    kinds = [key for key in mapping.items if key in _MATCH_KEYS]
    if len(kinds) != 1:
        mapping.check_keys((*_MATCH_KEYS, "equals"))
        raise _error(node, where, f"match by one of {_one_of(list(_MATCH_KEYS))}")
    kind = kinds[0]
    value = mapping.require(kind)
    at = mapping.sub(kind)
    if kind == "json":
        mapping.check_keys(("json", "equals"))
        path = _string(value, at)
        try:
            parse_json_path(path)
        except JsonPathError as exc:
            raise _error(value, at, str(exc)) from None
        equals = mapping.require("equals", "'equals' is missing: the value the JSON path must have")
        wanted = _json_value(equals, mapping.sub("equals"))
        shown = wanted if isinstance(wanted, str) else json_text(wanted)
        return AutoReplyRule(name, "json", shown, "", path=path), None, set()
    mapping.check_keys((kind,))
    if kind == "any":
        if not _flag(value, at):
            raise _error(value, at, "write 'any: true' to match every message")
        return None, None, set()
    if kind == "binary":
        return None, _binary(value, at), set()
    pattern = _string(value, at)
    rule = AutoReplyRule(name, {"text": "equals"}.get(kind, kind), pattern, "")
    try:
        rule.check()
    except SendingError as exc:
        raise _error(value, at, str(exc).split(": ", 1)[-1]) from None
    groups = set(re.compile(pattern).groupindex) if kind == "regex" else set()
    return rule, None, groups


def _captures(node: Node | None, where: str) -> tuple[tuple[str, str], ...]:
    if node is None:
        return ()
    pairs = _pairs(node, where, names=True)
    mapping = _Mapping(node, where)
    for name, path in pairs:
        key_node, value_node = mapping.items[name]
        try:
            parsed = parse_json_path(path)
        except JsonPathError as exc:
            raise _error(value_node, f"{where}.{name}", str(exc)) from None
        if WILDCARD in parsed:
            raise _error(value_node, f"{where}.{name}", f"{path!r}: a capture needs one value, not a wildcard")
        del key_node
    return pairs


def _rule(node: Node, where: str, known: set[str], index: int) -> Rule:
    mapping = _Mapping(node, where)
    mapping.check_keys(("name", "match", "capture", "delay", "times", "do"))
    name = _string(mapping.require("name"), mapping.sub("name")) if "name" in mapping else f"rule {index + 1}"
    matcher, binary, groups = _matcher(mapping.require("match", "'match' is missing: which messages the rule "
                                                                "answers (any: true for all)"),
                                       mapping.sub("match"), name)
    captures = _captures(mapping.get("capture"), mapping.sub("capture"))
    names = known | groups | {name for name, _ in captures}
    actions = _actions(mapping.require("do", "'do' is missing: what the rule does (a list of actions)"),
                       mapping.sub("do"), names)
    delay = _number(mapping.require("delay"), mapping.sub("delay")) if "delay" in mapping else 0.0
    times = _whole(mapping.require("times"), mapping.sub("times")) if "times" in mapping else 0
    return Rule(name, matcher, actions, delay, captures, binary, times)


def _periodic(node: Node, where: str, known: set[str]) -> Periodic:
    mapping = _Mapping(node, where)
    mapping.check_keys(("interval", "count", "do"))
    interval = _number(mapping.require("interval", "'interval' is missing: seconds between two sends"),
                       mapping.sub("interval"), positive=True)
    count = _whole(mapping.require("count"), mapping.sub("count")) if "count" in mapping else 0
    actions = _actions(mapping.require("do", "'do' is missing: what is sent each time"), mapping.sub("do"), known)
    return Periodic(interval, actions, count)


def _handshake(node: Node | None, where: str, subprotocols: tuple[str, ...]) -> Handshake:
    if node is None:
        return Handshake(subprotocols=subprotocols)
    if isinstance(node, ScalarNode) and node.style is None and node.value == "never":
        return Handshake(never=True)
    mapping = _Mapping(node, where, "'never' or a mapping: status, headers, body, subprotocols")
    mapping.check_keys(("status", "headers", "body", "subprotocols"))
    status = _whole(mapping.require("status"), mapping.sub("status"), least=100, most=599) \
        if "status" in mapping else 101
    body = _string(mapping.require("body"), mapping.sub("body")).encode() if "body" in mapping else b""
    if status == 101 and body:
        raise _error(mapping.require("body"), mapping.sub("body"), "a 101 answer has no body: refuse with another "
                                                                    "status to send one")
    if "subprotocols" in mapping:
        subprotocols = _names(mapping.require("subprotocols"), mapping.sub("subprotocols"))
    return Handshake(status=status, headers=_pairs(mapping.get("headers"), mapping.sub("headers"), names=False),
                     body=body, subprotocols=subprotocols)


def _names(node: Node, where: str) -> tuple[str, ...]:
    if not isinstance(node, SequenceNode):
        raise _error(node, where, f"must be a list, not {_describe(node)}")
    return tuple(_string(item, f"{where}[{i}]") for i, item in enumerate(node.value))


def _on_close(node: Node | None, where: str) -> tuple[int, str] | None:
    """``on_close: {code: 1001, reason: R}``: a code a close frame may carry (RFC 6455 §7.4)."""
    if node is None:
        return None
    mapping = _Mapping(node, where, "a mapping: code, and reason")
    mapping.check_keys(("code", "reason"))
    code_node = mapping.require("code", "'code' is missing: the code that answers the client's close frame")
    code = _whole(code_node, mapping.sub("code"), least=1000, most=4999)
    if not (code in SENDABLE_CLOSE_CODES or code >= 3000):
        raise _error(code_node, mapping.sub("code"), f"{code} is not a code a close frame may carry: use 1000-1003, "
                                                    "1007-1014 or 3000-4999")
    reason = _string(mapping.require("reason"), mapping.sub("reason")) if "reason" in mapping else ""
    if len(reason.encode("utf-8", "surrogatepass")) > 123:
        raise _error(mapping.require("reason"), mapping.sub("reason"), "longer than the 123 bytes a close frame "
                                                                       "has for a reason")
    return code, reason


def _route(mapping: _Mapping, path: str, known: set[str], subprotocols: tuple[str, ...], prefix: str) -> Route:
    def at(key: str) -> str:
        return f"{prefix}{key}"

    pings_node = mapping.get("pings")
    pings = "answer" if pings_node is None else _string(pings_node, at("pings"))
    if pings not in _PINGS:
        assert pings_node is not None
        raise _error(pings_node, at("pings"), f"must be {_one_of(list(_PINGS))}, not {pings!r}")
    delay_node = mapping.get("pong_delay")
    pong_delay = 0.0 if delay_node is None else _number(delay_node, at("pong_delay"), positive=True)
    if pings == "late" and delay_node is None:
        raise _error(mapping.node, prefix.rstrip("."), "'pong_delay' is missing: how many seconds late the pongs are")
    rules_node = mapping.get("rules")
    rules: list[Rule] = []
    if rules_node is not None:
        if not isinstance(rules_node, SequenceNode):
            raise _error(rules_node, at("rules"), f"must be a list of rules, not {_describe(rules_node)}")
        rules = [_rule(item, f"{at('rules')}[{i}]", known, i) for i, item in enumerate(rules_node.value)]
    every_node = mapping.get("every")
    every: list[Periodic] = []
    if every_node is not None:
        if not isinstance(every_node, SequenceNode):
            raise _error(every_node, at("every"), f"must be a list, not {_describe(every_node)}")
        every = [_periodic(item, f"{at('every')}[{i}]", known) for i, item in enumerate(every_node.value)]
    origins_node = mapping.get("origins")
    origins = () if origins_node is None else _names(origins_node, at("origins"))
    return Route(path=path, handshake=_handshake(mapping.get("handshake"), at("handshake"), subprotocols),
                 on_connect=_actions(mapping.get("on_connect"), at("on_connect"), known), rules=tuple(rules),
                 every=tuple(every), pings=pings, pong_delay=pong_delay, origins=origins,
                 on_close=_on_close(mapping.get("on_close"), at("on_close")))


def _rules(root: Node) -> MockRules:
    top = _Mapping(root, "", "a mapping that starts with 'version: 1'")
    version_node = top.get("version")
    if version_node is None:
        raise _error(root, "", f"this is not a wsinspector mock file: 'version: {FORMAT_VERSION}' is missing")
    version = _whole(version_node, "version", least=1)
    if version > FORMAT_VERSION:
        raise _error(version_node, "version", f"this mock file has format version {version}; this wsinspector "
                                              f"reads version {FORMAT_VERSION} only")
    top.check_keys(_TOP_KEYS)
    variables = _pairs(top.get("variables"), "variables", names=True)
    subprotocols = _names(top.require("subprotocols"), "subprotocols") if "subprotocols" in top else ()
    known = {name for name, _ in variables} | set(BUILT_IN)
    routes: list[Route] = []
    routes_node = top.get("routes")
    if routes_node is not None:
        table = _Mapping(routes_node, "routes", "a mapping of paths (/chat, or * for any other) to routes")
        for path, (key_node, node) in table.items.items():
            if path != "*" and not path.startswith("/"):
                raise _error(key_node, "routes", f"{path!r} is not a path: start it with / (or * for any other)")
            route_map = _Mapping(node, f"routes.{path}")
            route_map.check_keys(_ROUTE_KEYS)
            routes.append(_route(route_map, path, known, subprotocols, f"routes.{path}."))
    if any(key in top for key in _ROUTE_KEYS):
        if any(route.path == "*" for route in routes):
            first = next(top.items[key][0] for key in _ROUTE_KEYS if key in top)
            raise _error(first, "", "the top level is the route for any path, and so is routes.'*': keep one")
        routes.append(_route(top, "*", known, subprotocols, ""))
    if not routes:
        raise _error(root, "", "nothing to serve: give rules, on_connect or every (or routes)")
    name_node = top.get("name")
    return MockRules(name="" if name_node is None else _string(name_node, "name"), routes=tuple(routes),
                     variables=variables, subprotocols=subprotocols)


def load_rules(text: str) -> MockRules:
    """Read a rules file's text; :class:`MockFileError` says what is wrong, where."""
    text = text.removeprefix("\ufeff")
    try:
        root = yaml.compose(text, Loader=_Loader)
        if root is None:
            raise MockFileError(f"the file is empty: a mock file starts with 'version: {FORMAT_VERSION}'", 1, 1)
        return _rules(root)
    except MockFileError:
        raise
    except ScenarioFileError as exc:
        raise MockFileError(exc.message, exc.line, exc.column, exc.field) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise MockFileError(f"not valid YAML: {exc.problem or exc.context or 'invalid YAML'}",
                            *_position(mark)) from None
    except yaml.YAMLError as exc:
        raise MockFileError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise MockFileError("nested too deeply") from None


def read_rules(path: str | Path) -> MockRules:
    """Load a rules file from disk (UTF-8, at most ``RULES_MAX_BYTES``). ``OSError`` if it cannot be read."""
    with Path(path).open("rb") as fp:
        data = fp.read(RULES_MAX_BYTES + 1)
    if len(data) > RULES_MAX_BYTES:
        raise MockFileError(f"more than {RULES_MAX_BYTES // (1024 * 1024)} MiB, the most a rules file may hold "
                            "(is it the right file?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MockFileError(f"not UTF-8 text (byte {exc.start})") from None
    return load_rules(text)
