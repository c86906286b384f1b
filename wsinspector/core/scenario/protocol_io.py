"""The ``protocol:`` of a test file and its steps: a verb of the protocol (``emit:``, ``subscribe:``,
``publish:``…) and the expectations of its events (``expect: {event: …}``, ``{data: …}``, ``{ack: …}``)."""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node

from ..profiles import SECRET_MODE_OPTIONS
from ..protocols.base import ProtocolError
from ..protocols.registry import SESSIONS, make_session
from .model import DATA_FILTERS, EVENT_KINDS, EventStep, ExpectStep, Scenario, Step, VerbStep, WaitStep
from .variables import variables_in
from .yaml_io import _error, _json_value, _Mapping, _number, _one_of, _pairs, _path, _string

#: what goes beside each kind in an event step
_EVENT_KEYS = {"event": ("event", "args", "ignore", "timeout"),
               "data": ("data", *DATA_FILTERS, "ignore", "timeout"),
               "ack": ("ack", "ignore", "timeout")}


def read_protocol(top: _Mapping) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The test's protocol and its options ("" and none when it names none)."""
    node = top.get("protocol")
    options_node = top.get("protocol_options")
    if node is None:
        if options_node is not None:
            raise _error(options_node, "protocol_options", "options without a 'protocol'")
        return "", ()
    name = _string(node, "protocol")
    if name not in SESSIONS:
        raise _error(node, "protocol", f"unknown protocol '{name}' (expected {_one_of(list(SESSIONS))})")
    options = _pairs(options_node, "protocol_options", names=False)
    for key, value in options:
        if key in SECRET_MODE_OPTIONS and value and not variables_in(value):
            raise _error(options_node or node, f"protocol_options.{key}",
                         "a secret: write it as a variable, e.g. '{{" + key + "}}', and give it with --var")
    try:
        make_session(name, [(key, value) for key, value in options if not variables_in(value)])
    except ProtocolError as exc:
        raise _error(options_node or node, "protocol_options", str(exc)) from None
    return name, options


def verbs_of(protocol: str) -> tuple[str, ...]:
    return tuple(verb.name for verb in SESSIONS[protocol].VERBS) if protocol else ()


def is_verb_step(protocol: str, kind: str, body: Node) -> bool:
    """Whether the step ``kind: body`` is the protocol's verb: a ``send`` is the plain one when its body
    says text, json or binary."""
    if kind not in verbs_of(protocol):
        return False
    if kind == "send":
        return not any(getattr(key, "value", None) in ("text", "json", "binary") for key, _ in body.value) \
            if hasattr(body, "value") and isinstance(body.value, list) else True
    return True


def read_verb_step(protocol: str, verb: str, node: Node, where: str, name: str) -> VerbStep:
    spec = next(v for v in SESSIONS[protocol].VERBS if v.name == verb)
    if getattr(node, "value", None) in ("", "~", "null") and not spec.fields:
        return VerbStep(verb, (), None, name)
    body = _Mapping(node, where, f"a mapping of {verb}'s fields ({', '.join(f.name for f in spec.fields)})")
    body.check_keys((*(f.name for f in spec.fields), "delay"))
    for item in spec.fields:
        if item.required and item.name not in body:
            raise _error(node, where, f"'{item.name}' is missing")
    fields = tuple((key, _json_value(value, body.sub(key))) for key, (_, value) in body.items.items()
                   if key != "delay")
    delay_node = body.get("delay")
    delay = None if delay_node is None else _number(delay_node, body.sub("delay"))
    return VerbStep(verb, fields, delay, name)


def is_event_expect(body: Node) -> bool:
    return isinstance(getattr(body, "value", None), list) and any(
        getattr(key, "value", None) in EVENT_KINDS for key, _ in body.value)


def read_event_step(protocol: str, body: _Mapping, name: str) -> EventStep:
    if not protocol:
        raise _error(body.node, body.where, "an event, data or ack expectation needs the test's 'protocol'")
    kinds = [kind for kind in EVENT_KINDS if kind in body]
    if len(kinds) > 1:
        raise _error(body.node, body.where, f"one expectation per step, not {' and '.join(kinds)}")
    kind = kinds[0]
    body.check_keys(_EVENT_KEYS[kind])
    ignore_node = body.get("ignore")
    ignore: tuple[str, ...] = ()
    if ignore_node is not None:
        items = getattr(ignore_node, "value", None)
        if not isinstance(items, list):
            raise _error(ignore_node, body.sub("ignore"), "must be a list of paths, for example [$.ts]")
        ignore = tuple(_path(item, f"{body.sub('ignore')}[{i}]", wildcards=True) for i, item in enumerate(items))
    timeout_node = body.get("timeout")
    timeout = None if timeout_node is None else _number(timeout_node, body.sub("timeout"), positive=True)
    if kind == "event":
        event = _string(body.require("event"), body.sub("event"))
        args = body.get("args")
        value = None if args is None else _json_value(args, body.sub("args"))
        return EventStep("event", value, args is not None, event, (), ignore, timeout, name)
    filters = tuple((key, _string(body.require(key), body.sub(key))) for key in DATA_FILTERS if key in body)
    value = _json_value(body.require(kind), body.sub(kind))
    return EventStep(kind, value, True, "", filters, ignore, timeout, name)


def check_protocol_steps(test_protocol: str, steps: list[Step], nodes: list[Node]) -> None:
    """In a test with a protocol the protocol reads every message: a plain expectation would never see one."""
    if not test_protocol:
        return
    for index, (step, node) in enumerate(zip(steps, nodes, strict=True)):
        if isinstance(step, ExpectStep) or (isinstance(step, WaitStep) and step.until is not None):
            raise _error(node, f"steps[{index}]", f"in a {test_protocol} test every message goes to the protocol: "
                                                  "expect an event, data or ack instead")


def dump_protocol(test: Scenario, document: dict[str, Any]) -> None:
    if test.protocol:
        document["protocol"] = test.protocol
        if test.protocol_options:
            document["protocol_options"] = dict(test.protocol_options)


def dump_protocol_step(step: VerbStep | EventStep, out: dict[str, Any], plain: Any) -> dict[str, Any]:
    """The step in the file's words; ``plain`` makes a JSON value YAML's."""
    if isinstance(step, VerbStep):
        body: dict[str, Any] = {key: plain(value) for key, value in step.fields}
        if step.delay_s is not None:
            body["delay"] = int(step.delay_s) if float(step.delay_s).is_integer() else step.delay_s
        out[step.verb] = body
        return out
    expect: dict[str, Any] = {}
    if step.kind == "event":
        expect["event"] = step.event
        if step.has_value:
            expect["args"] = plain(step.value)
    else:
        expect[step.kind] = plain(step.value)
        expect.update(dict(step.filters))
    if step.ignore:
        expect["ignore"] = list(step.ignore)
    if step.timeout_s is not None:
        expect["timeout"] = int(step.timeout_s) if float(step.timeout_s).is_integer() else step.timeout_s
    out["expect"] = expect
    return out
