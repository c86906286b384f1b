"""A test as an Artillery scenario (``engine: ws``): ``connect`` with the test's URL, subprotocols and headers,
then ``send``, ``wait`` with ``match`` and ``capture``, and ``think`` for delays and pauses.

Artillery's WebSocket engine checks only the first message that arrives after a ``send`` or during a ``wait``,
compares JSON value by value at JSON paths, and cannot send binary frames or see pings: what a test asks
beyond that is named in the comment block at the top of the file, never dropped silently.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..jsonpath import parse_json_path, path_matches
from ..scenario.model import (
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Matcher,
    OpcodeMatcher,
    RegexMatcher,
    SendStep,
    Step,
    TextMatcher,
    WaitStep,
)
from .k6 import js_regex
from .plan import LoadOptions, LoadPlan

__all__ = ["artillery_scenario"]

_VARIABLE = re.compile(r"\{\{\s*(\$?[A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
#: a capture that only says a message came (Artillery fails a strict capture that finds nothing)
_ANY_MESSAGE = {"regexp": "[\\s\\S]", "as": "_received"}
_TEMPLATE = re.compile(r"(\{\{ [^}]* \}\})")
_JS_SPECIAL = re.compile(r"[.*+?^${}()|[\]\\/]")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


class _Writer:
    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.notes: list[str] = list(plan.unsupported)
        self.env = dict(plan.from_env)

    def template(self, text: str, inline: bool = False) -> str:
        """Our ``{{name}}`` as Artillery's: ``{{ name }}``, or the environment variable for a secret. With
        ``inline`` the file's values are written in (``config`` is filled in once, before the file's variables
        exist)."""
        defaults = dict(self.plan.defaults)

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if inline and name in defaults:
                return defaults[name]
            if name in self.env:
                return f"{{{{ $processEnvironment.{self.env[name]} }}}}"
            return f"{{{{ {name} }}}}" if not name.startswith("$") else match.group(0)
        return _VARIABLE.sub(one, text)

    def json_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.template(value)
        if isinstance(value, dict):
            return {self.template(key): self.json_value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.json_value(item) for item in value]
        return value

    def leaves(self, value: Any, path: tuple[str | int, ...], ignore: list[Any], out: list[dict[str, Any]],
               label: str) -> None:
        if any(path_matches(pattern, path) for pattern in ignore):
            return
        if isinstance(value, dict | list) and value:
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                self.leaves(item, (*path, key), ignore, out, label)
            return
        if isinstance(value, dict | list):
            self.notes.append(f"{label}: the empty {'object' if isinstance(value, dict) else 'array'} at "
                              f"{_artillery_path(path)} is not compared")
            return
        out.append({"json": _artillery_path(path), "value": self.json_value(value)})

    def check(self, matcher: Matcher, label: str) -> dict[str, Any]:
        """``match`` and ``capture`` entries of an expectation."""
        if isinstance(matcher, TextMatcher):
            text = self.template(matcher.text)
            parts = _TEMPLATE.split(text)  # the odd parts are templates, which Artillery fills in the pattern too
            pattern = "".join(part if odd % 2 else _JS_SPECIAL.sub(lambda m: "\\" + m.group(0), part)
                              for odd, part in enumerate(parts))
            return {"match": [{"regexp": f"^{pattern}$", "value": text}]}
        if isinstance(matcher, JsonMatcher):
            out: list[dict[str, Any]] = []
            self.leaves(matcher.value, (), [parse_json_path(path) for path in matcher.ignore], out, label)
            if len(out) > 0 or matcher.ignore:
                self.notes.append(f"{label}: JSON is compared value by value; keys the message has beyond the "
                                  "expected ones are not checked")
            return {"match": out} if out else {"capture": [dict(_ANY_MESSAGE)]}
        if isinstance(matcher, RegexMatcher):
            return {"capture": [{"regexp": self.template(js_regex(matcher.pattern)), "as": "_matched"}]}
        if isinstance(matcher, BytesMatcher):
            self.notes.append(f"{label}: binary messages cannot be compared; it checks that a message came")
        elif isinstance(matcher, OpcodeMatcher):
            self.notes.append(f"{label}: the opcode is not checked; it checks that a message came")
        return {"capture": [dict(_ANY_MESSAGE)]}

    def expectation(self, index: int, step: ExpectStep | WaitStep) -> dict[str, Any] | None:
        label = self.plan.label(index)
        matcher = step.matcher if isinstance(step, ExpectStep) else step.until
        assert matcher is not None
        if isinstance(matcher, OpcodeMatcher) and matcher.opcode.is_control:
            self.notes.append(f"{label}: Artillery does not see {matcher.opcode.label} frames; step left out")
            return None
        if isinstance(step, WaitStep):
            self.notes.append(f"{label}: a wait until a message matches checks the next message only")
        params = self.check(matcher, label)
        if step.capture:
            params.setdefault("capture", [])
            params["capture"] = [item for item in params["capture"] if item.get("as") != "_received"]
            params["capture"] += [{"json": _artillery_path(tuple(parse_json_path(path))), "as": name}
                                  for name, path in step.capture]
        return params

    def flow(self) -> list[dict[str, Any]]:
        plan = self.plan
        connect: dict[str, Any] = {"target": self.template(plan.url)}
        if plan.basic_auth is not None:
            self.notes.append("auth: Basic credentials cannot be encoded by Artillery; put the whole "
                              "Authorization header in an environment variable")
        flow: list[dict[str, Any]] = [{"connect": connect}]
        steps: list[tuple[int, Step]] = list(plan.steps)
        position = 0
        while position < len(steps):
            index, step = steps[position]
            position += 1
            label = plan.label(index)
            if isinstance(step, WaitStep) and step.until is None:
                flow.append({"think": step.seconds})
                continue
            if isinstance(step, ExpectStep | WaitStep):
                params = self.expectation(index, step)
                if params is not None:
                    flow.append({"wait": params})
                    if isinstance(step, ExpectStep):
                        self.notes.append(f"{label}: Artillery sees a message only while a step waits for it; one "
                                          "that comes before this wait begins is missed")
                continue
            assert isinstance(step, SendStep)
            if isinstance(step.payload, BinaryPayload):
                self.notes.append(f"{label}: Artillery's ws engine sends text only; this binary message is "
                                  "left out")
                continue
            if step.delay_s:
                flow.append({"think": step.delay_s})
            payload = (self.json_value(step.payload.value) if isinstance(step.payload, JsonPayload)
                       else self.template(step.payload.text))
            send: dict[str, Any] = {"payload": payload}
            if position < len(steps) and isinstance(steps[position][1], ExpectStep):
                expect_index, expect = steps[position]
                assert isinstance(expect, ExpectStep)
                params = self.expectation(expect_index, expect)
                if params is not None:
                    position += 1
                    send.update(params)
            flow.append({"send": send if len(send) > 1 else payload})
        return flow


def _artillery_path(path: tuple[Any, ...]) -> str:
    """A JSON path as Artillery's JSONPath reads it: ``$.a.b[0]``, ``$['a key']``."""
    text = "$"
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _IDENTIFIER.fullmatch(segment):
            text += f".{segment}"
        else:
            escaped = segment.replace("\\", "\\\\").replace("'", "\\'")
            text += f"['{escaped}']"
    return text


def artillery_scenario(plan: LoadPlan, options: LoadOptions) -> str:
    """The Artillery scenario (YAML) of ``plan`` for ``options``."""
    writer = _Writer(plan)
    flow = writer.flow()
    timeouts = sorted({plan.test.step_timeout(step) for _index, step in plan.steps
                       if isinstance(step, ExpectStep) or (isinstance(step, WaitStep) and step.until is not None)})
    if len(timeouts) > 1:
        writer.notes.append(f"timeouts: Artillery has one response timeout; the longest, {timeouts[-1]:g} s, is used")
    if plan.dynamic:
        writer.notes.append("dynamic values " + ", ".join(f"{{{{${name}}}}}" for name in plan.dynamic)
                            + " have no Artillery equivalent")
    config: dict[str, Any] = {
        "target": writer.template(plan.url, inline=True),
        "phases": [{"duration": options.duration_s, "arrivalCount": options.vus}],
        "ws": {"timeout": timeouts[-1] if timeouts else plan.test.timeout_s},
    }
    # the engine fills in templates in a connect step's target only: the handshake's headers are given in
    # config, which Artillery fills in once, from the environment, when it reads the file
    if plan.test.subprotocols:
        config["ws"]["subprotocols"] = list(plan.test.subprotocols)
    if plan.headers:
        config["ws"]["headers"] = {name: writer.template(value, inline=True) for name, value in plan.headers}
    if plan.defaults:
        config["variables"] = {name: value for name, value in plan.defaults}
    document = {"config": config,
                "scenarios": [{"name": plan.test.name or "wsinspector test", "engine": "ws", "flow": flow}]}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)
    header = [f"# Artillery load test of “{plan.test.name}”, written by wsinspector from its {plan.source}.",
              f"# {options.vus} virtual users arrive over {options.duration_s} s; each connects, runs the steps "
              "once and closes.",
              "#   npx artillery run scenario.yml"]
    if plan.from_env:
        header.append("# Secrets and other values the file does not define come from environment variables:")
        header += [f"#   {env}: {{{{{name}}}}}" for name, env in plan.from_env]
    if writer.notes:
        header.append("# Not expressed in this scenario:")
        header += [f"#   - {note}" for note in dict.fromkeys(writer.notes)]
    return "\n".join(header) + "\n" + body

