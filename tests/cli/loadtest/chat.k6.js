// k6 load test of “Chat round trip”, written by wsinspector from its test file.
// 25 virtual users for 120 s; each connects, runs the steps and closes, again and again.
//   k6 run script.js                        (--vus N --duration 2m override the options below)
//   k6 run -e TOKEN=… script.js
// Secrets and other values the file does not define come from environment variables:
//   TOKEN: {{token}}

import { WebSocket } from "k6/websockets";
import { check } from "k6";
import { setTimeout, clearTimeout } from "k6/timers";
import encoding from "k6/encoding";

export const options = { vus: 25, duration: "120s" };

const URL = "ws://{{host}}/chat";
const PROTOCOLS = ["chat.v2"];
const HEADERS = {
  "Authorization": "Bearer {{token}}",
};
const BASIC_AUTH = null;
const DEFAULTS = {
  "host": "127.0.0.1:9",
  "user": "ann",
};
const FROM_ENV = {
  "token": "TOKEN",
};
const STEPS = [
  {"label": "hello", "text": "hello {{user}}"},
  {"label": "echoed", "expect": {"text": "hello {{user}}"}, "timeout": 5.0},
  {"label": "log in", "json": {"op": "login", "user": "{{user}}", "session": "s-1"}, "delay": 0.05},
  {"label": "welcome", "expect": {"json": {"op": "login", "user": "{{user}}", "session": "s-0000"}, "ignore": [["session"]]}, "capture": [["session_id", ["session"]]], "timeout": 5.0},
  {"label": "pause", "sleep": 0.05},
  {"label": "resume", "json": {"op": "resume", "session": "{{session_id}}", "n": 2}},
  {"label": "resumed", "until": {"regex": "\"op\":\\s*\"resume\""}, "timeout": 2.0},
  {"label": "bytes", "hex": "00ff10"},
];

for (const [name, env] of Object.entries(FROM_ENV)) {
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
