"""A test as a k6 script (``k6/websockets``): each virtual user connects with the test's URL, subprotocols and
headers, runs its steps — sends, checks for expectations, waits, captures — and closes.

The steps are data (``STEPS``) run by a small interpreter in the script, so what the test says reads as the
file does; ``{{variables}}`` are filled in by the script, from the file's values (which an environment
variable of the same name, upper case, overrides), from environment variables for secrets, and from captures.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..jsonpath import WILDCARD, parse_json_path
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
    TextMatcher,
    TextPayload,
    WaitStep,
)
from .plan import LoadOptions, LoadPlan

__all__ = ["k6_script"]

#: what JavaScript's regular expressions lack of Python's (``re``): an inline flag group, possessive and
#: atomic groups, ``\A`` and ``\Z``
_PYTHON_ONLY = re.compile(r"\(\?[aiLmsux-]+[):]|\(\?>|\\[AZ]|[*+?}]\+")


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _path(path: str) -> list[Any]:
    """A JSON path as the script walks it: keys and indexes, null for ``[*]``."""
    return [None if segment is WILDCARD else segment for segment in parse_json_path(path)]


def js_regex(pattern: str) -> str:
    """A Python pattern in JavaScript's syntax, where they spell the same thing differently (named groups)."""
    return re.sub(r"\(\?P=([A-Za-z_]\w*)\)", r"\\k<\1>", pattern.replace("(?P<", "(?<"))


def _matcher(matcher: Matcher, label: str, notes: list[str]) -> dict[str, Any]:
    if isinstance(matcher, TextMatcher):
        return {"text": matcher.text}
    if isinstance(matcher, JsonMatcher):
        return {"json": matcher.value, "ignore": [_path(path) for path in matcher.ignore]}
    if isinstance(matcher, RegexMatcher):
        if _PYTHON_ONLY.search(matcher.pattern):
            notes.append(f"{label}: the regular expression {matcher.pattern!r} uses Python syntax JavaScript "
                         "does not have; edit it in STEPS")
        return {"regex": js_regex(matcher.pattern)}
    if isinstance(matcher, BytesMatcher):
        return {"hex": matcher.data.hex()}
    assert isinstance(matcher, OpcodeMatcher)
    return {"opcode": matcher.opcode.label.lower()}


def _step(plan: LoadPlan, index: int, step: SendStep | ExpectStep | WaitStep, notes: list[str]) -> dict[str, Any]:
    label = plan.label(index)
    entry: dict[str, Any] = {"label": label}
    if isinstance(step, SendStep):
        payload = step.payload
        if isinstance(payload, TextPayload):
            entry["text"] = payload.text
        elif isinstance(payload, JsonPayload):
            entry["json"] = payload.value
        else:
            assert isinstance(payload, BinaryPayload)
            entry["hex"] = payload.data.hex()
        if step.delay_s:
            entry["delay"] = step.delay_s
        return entry
    if isinstance(step, WaitStep) and step.until is None:
        entry["sleep"] = step.seconds
        return entry
    matcher = step.matcher if isinstance(step, ExpectStep) else step.until
    assert matcher is not None
    entry["expect" if isinstance(step, ExpectStep) else "until"] = _matcher(matcher, label, notes)
    if step.capture:
        entry["capture"] = [[name, _path(path)] for name, path in step.capture]
    entry["timeout"] = plan.test.step_timeout(step)
    return entry


def _header(plan: LoadPlan, options: LoadOptions, notes: list[str]) -> list[str]:
    lines = [f"// k6 load test of “{plan.test.name}”, written by wsinspector from its {plan.source}.",
             f"// {options.vus} virtual users for {options.duration_s} s; each connects, runs the steps and "
             "closes, again and again.",
             "//   k6 run script.js                        (--vus N --duration 2m override the options below)"]
    if plan.from_env:
        names = " ".join(f"-e {env}=…" for _name, env in plan.from_env)
        lines.append(f"//   k6 run {names} script.js")
        lines.append("// Secrets and other values the file does not define come from environment variables:")
        lines += [f"//   {env}: {{{{{name}}}}}" for name, env in plan.from_env]
    if notes:
        lines.append("// Not expressed in this script:")
        lines += [f"//   - {note}" for note in notes]
    return lines


def k6_script(plan: LoadPlan, options: LoadOptions) -> str:
    """The k6 script of ``plan`` for ``options``."""
    notes = list(plan.unsupported)
    steps = [_step(plan, index, step, notes) for index, step in plan.steps  # type: ignore[arg-type]
             ]
    unknown = [name for name in plan.dynamic if name not in ("uuid", "timestamp", "isoTimestamp", "randomInt",
                                                               "counter")]
    if unknown:
        notes.append("dynamic values " + ", ".join(f"{{{{${name}}}}}" for name in unknown) + " are sent as typed")
    defaults = "\n".join(f"  {_js(name)}: {_js(value)}," for name, value in plan.defaults)
    from_env = "\n".join(f"  {_js(name)}: {_js(env)}," for name, env in plan.from_env)
    headers = "\n".join(f"  {_js(name)}: {_js(value)}," for name, value in plan.headers)
    step_lines = "\n".join(f"  {_js(step)}," for step in steps)
    basic = "null" if plan.basic_auth is None else _js(list(plan.basic_auth))
    parts = [
        *_header(plan, options, notes),
        "",
        'import { WebSocket } from "k6/websockets";',
        'import { check } from "k6";',
        'import { setTimeout, clearTimeout } from "k6/timers";',
        'import encoding from "k6/encoding";',
        "",
        f'export const options = {{ vus: {options.vus}, duration: "{options.duration_s}s" }};',
        "",
        f"const URL = {_js(plan.url)};",
        f"const PROTOCOLS = {_js(list(plan.test.subprotocols))};",
        f"const HEADERS = {{\n{headers}\n}};" if headers else "const HEADERS = {};",
        f"const BASIC_AUTH = {basic};",
        f"const DEFAULTS = {{\n{defaults}\n}};" if defaults else "const DEFAULTS = {};",
        f"const FROM_ENV = {{\n{from_env}\n}};" if from_env else "const FROM_ENV = {};",
        f"const STEPS = [\n{step_lines}\n];" if step_lines else "const STEPS = [];",
        "",
        _RUNTIME,
    ]
    return "\n".join(parts)


_RUNTIME = r"""for (const [name, env] of Object.entries(FROM_ENV)) {
  if (__ENV[env] === undefined) throw new Error(`set the environment variable ${env}: it gives {{${name}}}`);
}

const DYNAMIC = {
  uuid: () => "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (Math.random() * 16) >> (c / 4)).toString(16)),
  timestamp: () => String(Math.floor(Date.now() / 1000)),
  isoTimestamp: () => new Date().toISOString(),
  randomInt: () => String(Math.floor(Math.random() * 1001)),
};

function fill(text, vars, counter, escape) {
  return text.replace(/\{\{\s*(\$?[A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g, (whole, name) => {
    let value;
    if (name === "$counter") value = String(counter);
    else if (name.startsWith("$")) value = DYNAMIC[name.slice(1)] ? DYNAMIC[name.slice(1)]() : whole;
    else value = vars[name] !== undefined ? vars[name] : whole;
    return escape ? value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : value;
  });
}

function fillJson(value, vars, counter) {
  if (typeof value === "string") return fill(value, vars, counter, false);
  if (Array.isArray(value)) return value.map((item) => fillJson(item, vars, counter));
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      out[fill(key, vars, counter, false)] = fillJson(item, vars, counter);
    }
    return out;
  }
  return value;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text) {
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.substr(i * 2, 2), 16);
  return bytes.buffer;
}

function dropPath(value, path) {
  if (value === null || typeof value !== "object" || path.length === 0) return;
  const [head, ...rest] = path;
  const keys = head === null ? Object.keys(value) : [head];
  for (const key of keys) {
    if (!(key in value)) continue;
    if (rest.length === 0) delete value[key];
    else dropPath(value[key], rest);
  }
}

function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key in b && equal(a[key], b[key]));
}

function pick(value, path) {
  for (const key of path) {
    if (value === null || typeof value !== "object" || !(key in value)) return undefined;
    value = value[key];
  }
  return value;
}

function matches(want, message, vars) {
  if (want.opcode !== undefined) return message.op === want.opcode;
  if (message.op === "ping" || message.op === "pong") return false;
  if (want.hex !== undefined) return message.op === "binary" && hex(message.bytes) === want.hex;
  if (message.op !== "text") return false;
  if (want.text !== undefined) return message.text === fill(want.text, vars, 0, false);
  if (want.regex !== undefined) return new RegExp(fill(want.regex, vars, 0, true)).test(message.text);
  let got;
  try {
    got = JSON.parse(message.text);
  } catch (error) {
    return false;
  }
  const expected = fillJson(want.json, vars, 0);
  for (const path of want.ignore) {
    dropPath(got, path);
    dropPath(expected, path);
  }
  return equal(got, expected);
}

function captured(step, message, vars) {
  if (step.capture === undefined) return true;
  let doc;
  try {
    doc = JSON.parse(message.text);
  } catch (error) {
    return false;
  }
  for (const [name, path] of step.capture) {
    const value = pick(doc, path);
    if (value === undefined) return false;
    vars[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return true;
}

export default function () {
  const vars = Object.assign({}, DEFAULTS);
  for (const [name, env] of Object.entries(FROM_ENV)) vars[name] = __ENV[env];
  const headers = {};
  for (const [name, value] of Object.entries(HEADERS)) headers[name] = fill(value, vars, 0, false);
  if (BASIC_AUTH !== null) {
    const [user, password] = BASIC_AUTH.map((part) => fill(part, vars, 0, false));
    headers.Authorization = `Basic ${encoding.b64encode(`${user}:${password}`)}`;
  }
  const ws = new WebSocket(fill(URL, vars, 0, false), PROTOCOLS, { headers });
  ws.binaryType = "arraybuffer";
  const inbox = [];
  let index = 0;
  let sent = 0;
  let timer = null;
  let done = false;

  function finish() {
    if (done) return;
    done = true;
    if (timer !== null) clearTimeout(timer);
    ws.close();
  }

  function advance() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    index += 1;
    run();
  }

  function deliver() {
    while (!done && index < STEPS.length && inbox.length > 0) {
      const step = STEPS[index];
      const want = step.expect || step.until;
      if (want === undefined) return;
      const message = inbox.shift();
      const passedOver = want.opcode === undefined && (message.op === "ping" || message.op === "pong");
      if (passedOver) continue;
      const ok = matches(want, message, vars) && captured(step, message, vars);
      if (step.until !== undefined && !ok) continue;
      check(message, { [step.label]: () => ok });
      if (!ok) return finish();
      advance();
    }
  }

  function run() {
    if (done) return;
    if (index >= STEPS.length) return finish();
    const step = STEPS[index];
    if (step.sleep !== undefined) {
      timer = setTimeout(advance, step.sleep * 1000);
    } else if (step.expect !== undefined || step.until !== undefined) {
      timer = setTimeout(() => {
        check(null, { [step.label]: () => false });
        finish();
      }, step.timeout * 1000);
      deliver();
    } else {
      const send = () => {
        sent += 1;
        if (step.hex !== undefined) ws.send(fromHex(step.hex));
        else if (step.json !== undefined) ws.send(JSON.stringify(fillJson(step.json, vars, sent)));
        else ws.send(fill(step.text, vars, sent, false));
        advance();
      };
      if (step.delay) timer = setTimeout(send, step.delay * 1000);
      else send();
    }
  }

  ws.onopen = () => run();
  ws.onmessage = (event) => {
    if (typeof event.data === "string") inbox.push({ op: "text", text: event.data });
    else inbox.push({ op: "binary", bytes: new Uint8Array(event.data) });
    deliver();
  };
  ws.addEventListener("ping", () => {
    inbox.push({ op: "ping" });
    deliver();
  });
  ws.addEventListener("pong", () => {
    inbox.push({ op: "pong" });
    deliver();
  });
  ws.onerror = (event) => {
    check(event, { connected: () => false });
    finish();
  };
  ws.onclose = () => {
    if (!done && index < STEPS.length) {
      inbox.push({ op: "close" });
      deliver();
    }
    if (!done && index < STEPS.length) check(null, { [`${STEPS[index].label}: the server closed`]: () => false });
    done = true;
    if (timer !== null) clearTimeout(timer);
  };
}
"""
