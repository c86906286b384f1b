"""Copy as: a connection, and the messages chosen in its timeline, as a command or a snippet another tool runs
(``websocat``, ``wscat``, Python ``websockets``, browser JavaScript), and frames as NDJSON or CSV.

A connection's settings are given as written (``{{variables}}`` in its URL and headers): the values of the
variables that are not secret are written in; a secret, or a variable nothing defines, is read from an
environment variable (``$TOKEN`` in a shell, ``os.environ["TOKEN"]`` in Python) and in browser JavaScript,
which has no environment, from a constant left for the user to fill in. A secret value is never written.
Pure functions: the window puts their result on the clipboard.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from wsinspector.core.copying import Item, as_base64
from wsinspector.core.env_templates import auth_templates, env_name
from wsinspector.core.frames import Opcode
from wsinspector.core.handshake import placeholders_for
from wsinspector.core.model import header
from wsinspector.core.payloads import decode_text
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.redact import is_secret_name
from wsinspector.core.session import Session

__all__ = ["COMMAND_FORMATS", "CopyTarget", "command_for", "csv_rows", "ndjson_rows", "target_of"]

#: the forms Copy as offers for a connection or messages, by name
COMMAND_FORMATS = ("websocat", "wscat", "python", "javascript")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
#: a piece of a value: literal text, or the environment variable that gives a secret
Piece = tuple[str, bool]
#: the fields of a connection's auth that hold credentials
_AUTH_SECRETS = ("password", "token", "api_key_value", "cookies")


@dataclass(frozen=True, slots=True)
class CopyTarget:
    """Where a copied command connects: its URL and headers as pieces (text, is it an environment variable),
    the subprotocols, the variables read from the environment (``(variable, ENV_NAME)``), and what a command
    cannot carry (one sentence each)."""

    url: tuple[Piece, ...]
    headers: tuple[tuple[str, tuple[Piece, ...]], ...]
    subprotocols: tuple[str, ...]
    from_env: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()


def _pieces(text: str, values: Mapping[str, str], secret: set[str], from_env: dict[str, str]) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        pieces.append((text[position:match.start()], False))
        name = match.group(1)
        if name in values and name not in secret:
            pieces.append((values[name], False))
        else:
            from_env.setdefault(name, env_name(name))
            pieces.append((from_env[name], True))
        position = match.end()
    pieces.append((text[position:], False))
    merged: list[Piece] = []
    for text_, is_env in pieces:
        if not is_env and merged and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + text_, False)
        elif text_ or is_env:
            merged.append((text_, is_env))
    return tuple(merged)


def target_of(profile: ConnectionProfile, variables: Mapping[str, str] | None = None,
              secret_variables: Iterable[str] = ()) -> CopyTarget:
    """A saved connection's URL, headers (its auth's included) and subprotocols as a command connects with
    them; ``variables`` are the values its ``{{variables}}`` have now (globals, environment, its own), of which
    ``secret_variables`` (with the connection's own secret ones, and any named like a secret) are left out."""
    values = dict(profile.variables) if variables is None else dict(variables)
    secret = set(secret_variables) | set(profile.secret_variables) | {name for name in values if is_secret_name(name)}
    hs = profile.handshake
    placeholders = dict(placeholders_for(hs.headers, hs.secret_headers, secret))
    headers = [(name, placeholders.get(name.lower(), (name, value))[1]) for name, value in hs.headers]
    if hs.origin:
        headers.insert(0, ("Origin", hs.origin))
    notes: list[str] = []
    auth = profile.auth
    # a credential typed as a value (kept in the keyring) is never written: an environment variable gives it
    for name in _AUTH_SECRETS:
        if _VARIABLE.sub("", getattr(auth, name)).strip():
            auth = replace(auth, **{name: f"{{{{auth_{name}}}}}"})  # type: ignore[arg-type]
            secret.add(f"auth_{name}")
    url, with_auth, basic = auth_templates(profile.endpoint.url, headers, auth, notes)
    if basic is not None:
        with_auth = (*with_auth, ("Authorization", "{{Authorization}}"))
        notes.append("auth: Basic credentials are read from AUTHORIZATION (the whole header value, \"Basic …\")")
    from_env: dict[str, str] = {}
    return CopyTarget(url=_pieces(url, values, secret, from_env),
                      headers=tuple((name, _pieces(value, values, secret, from_env)) for name, value in with_auth),
                      subprotocols=tuple(hs.subprotocols), from_env=tuple(from_env.items()), notes=tuple(notes))


def _data(items: Sequence[Item], notes: list[str]) -> list[Item]:
    """The data messages of ``items``; the others are named in ``notes``."""
    kept = [item for item in items if item.opcode in (Opcode.TEXT, Opcode.BINARY)]
    left = len(items) - len(kept)
    if left:
        notes.append(f"{left} control frame{'s' if left != 1 else ''} (ping, pong, close) left out")
    return kept


# -- shell ------------------------------------------------------------------------------------------------

def _shell(pieces: Sequence[Piece]) -> str:
    """One shell word: literal text single-quoted, an environment variable as ``"$NAME"``."""
    merged: list[Piece] = []
    for text, is_env in pieces:
        if not is_env and merged and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + text, False)
        else:
            merged.append((text, is_env))
    if not merged:
        return "''"
    return "".join(f'"${text}"' if is_env else shlex.quote(text) for text, is_env in merged)


def _comments(target: CopyTarget, notes: Sequence[str], mark: str) -> list[str]:
    lines = [f"{mark} set {env} first: it gives {{{{{name}}}}}" for name, env in target.from_env]
    return lines + [f"{mark} {note}" for note in (*target.notes, *notes)]


def websocat_command(target: CopyTarget, items: Sequence[Item] = ()) -> str:
    """websocat connecting as the connection does; the text messages sent one a line (websocat 1.x keeps each
    line's line break in the message it sends, and cannot send a message of several lines or a binary one in
    this mode: those are named in a comment and left out)."""
    notes: list[str] = []
    messages = _data(items, notes)
    texts = [decode_text(item.payload)[0] for item in messages if item.is_text]
    sent = [text for text in texts if "\n" not in text and "\r" not in text]
    left = len(messages) - len(sent)
    if left:
        notes.append(f"{left} message{'s' if left != 1 else ''} left out: websocat sends a text line a message here")
    if sent:
        notes.append("websocat sends each line with its line break at the end")
    parts = ["websocat"]
    parts += [f"-H {_shell(((name + ': ', False), *value))}" for name, value in target.headers]
    if target.subprotocols:
        parts.append(f"--protocol {shlex.quote(', '.join(target.subprotocols))}")
    if sent:
        parts.append("-n")
    parts.append(_shell(target.url))
    command = " ".join(parts)
    if sent:
        # -n: the end of the lines does not close the connection, so the answers are printed (Ctrl+C ends it)
        command = f"printf '%s\\n' {' '.join(shlex.quote(text) for text in sent)} | {command}"
    return "\n".join([*_comments(target, notes, "#"), command])


def wscat_command(target: CopyTarget, items: Sequence[Item] = ()) -> str:
    """wscat connecting as the connection does, the text messages sent with ``-x``; it stays open (``-w -1``)
    and prints what comes back."""
    notes: list[str] = []
    messages = _data(items, notes)
    binary = [item for item in messages if not item.is_text]
    if binary:
        notes.append(f"{len(binary)} binary message{'s' if len(binary) != 1 else ''} left out: wscat sends text")
    parts = ["wscat", f"-c {_shell(target.url)}"]
    parts += [f"-H {_shell(((name + ':', False), *value))}" for name, value in target.headers]
    parts += [f"-s {shlex.quote(protocol)}" for protocol in target.subprotocols]
    texts = [decode_text(item.payload)[0] for item in messages if item.is_text]
    parts += [f"-x {shlex.quote(text)}" for text in texts]
    if texts:
        parts.append("-w -1")
    return "\n".join([*_comments(target, notes, "#"), " ".join(parts)])


# -- Python -----------------------------------------------------------------------------------------------

def _python(pieces: Sequence[Piece]) -> str:
    if not pieces:
        return '""'
    return " + ".join(f"os.environ[{text!r}]" if is_env else repr(text) for text, is_env in pieces)


def python_snippet(target: CopyTarget, items: Sequence[Item] = ()) -> str:
    """A Python script (``websockets``, asyncio) that connects as the connection does, sends the messages and
    prints every message that comes, until stopped."""
    notes: list[str] = []
    messages = _data(items, notes)
    lines = ['"""Connects as wsinspector did, sends the chosen messages and prints what comes back '
             '(pip install websockets)."""', ""]
    lines += _comments(target, notes, "#")
    lines += ["import asyncio", "import os", "", "from websockets.asyncio.client import connect", "", "",
              "async def main() -> None:"]
    args = [_python(target.url)]
    if target.headers:
        pairs = ", ".join(f"({name!r}, {_python(value)})" for name, value in target.headers)
        args.append(f"additional_headers=[{pairs}]")
    if target.subprotocols:
        args.append(f"subprotocols={list(target.subprotocols)!r}")
    lines.append(f"    async with connect({', '.join(args)}) as ws:")
    for item in messages:
        if item.is_text:
            lines.append(f"        await ws.send({decode_text(item.payload)[0]!r})")
        else:
            lines.append(f"        await ws.send(bytes.fromhex({item.payload.hex()!r}))")
    lines += ["        async for message in ws:", "            print(message, flush=True)", "", "",
              "asyncio.run(main())", ""]
    return "\n".join(lines)


# -- browser JavaScript -----------------------------------------------------------------------------------

def _javascript(pieces: Sequence[Piece]) -> str:
    if not pieces:
        return '""'
    return " + ".join(text if is_env else json.dumps(text, ensure_ascii=False) for text, is_env in pieces)


def javascript_snippet(target: CopyTarget, items: Sequence[Item] = ()) -> str:
    """Browser JavaScript that opens the connection, sends the messages and logs what comes. A page cannot set
    handshake headers: they are named in a comment, not sent."""
    notes: list[str] = []
    messages = _data(items, notes)
    lines: list[str] = []
    sent_by_browser = {"origin", "cookie"}
    dropped = [name for name, _value in target.headers if name.lower() not in sent_by_browser]
    if dropped:
        lines.append(f"// A page cannot set handshake headers; not sent: {', '.join(dropped)}")
    in_url = {text for text, is_env in target.url if is_env}
    for name, env in target.from_env:
        if env in in_url:
            lines.append(f'const {env} = "";  // fill in: the secret {{{{{name}}}}}')
    lines += [f"// {note}" for note in (*target.notes, *notes)]
    protocols = f", {json.dumps(list(target.subprotocols))}" if target.subprotocols else ""
    lines += [f"const ws = new WebSocket({_javascript(target.url)}{protocols});",
              'ws.binaryType = "arraybuffer";', "ws.onopen = () => {"]
    for item in messages:
        if item.is_text:
            lines.append(f"  ws.send({json.dumps(decode_text(item.payload)[0], ensure_ascii=False)});")
        else:
            lines.append(f"  ws.send(new Uint8Array({json.dumps(list(item.payload))}));")
    lines += ["};", "ws.onmessage = (event) => console.log(event.data);", ""]
    return "\n".join(lines)


def command_for(kind: str, target: CopyTarget, items: Sequence[Item] = ()) -> str:
    """The ``kind`` (one of :data:`COMMAND_FORMATS`) of ``target`` with ``items``."""
    makers = {"websocat": websocat_command, "wscat": wscat_command, "python": python_snippet,
              "javascript": javascript_snippet}
    return makers[kind](target, items)


# -- frames as data ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("time", "direction", "opcode", "fin", "size", "encoding", "payload")


def _record(session: Session, item: Item) -> dict[str, object]:
    ts = session.ts_ns(item.seq)
    wall = session.started_wall + (ts - session.started_ns) / 1e9
    fin = True if item.frames > 1 else header.fin(session.meta(item.seq))
    text, clean = decode_text(item.payload)
    textual = clean and (item.is_text or item.opcode in (Opcode.CLOSE, Opcode.PING, Opcode.PONG))
    return {"time": datetime.fromtimestamp(wall, UTC).isoformat(timespec="microseconds"),
            "direction": item.direction.value, "opcode": item.opcode.label.lower(), "fin": fin,
            "size": len(item.payload), "encoding": "text" if textual else "base64",
            "payload": text if textual else as_base64(item)}


def ndjson_rows(session: Session, items: Sequence[Item]) -> str:
    """One JSON object a line for each item: time, direction, opcode, FIN, size, the payload as text or
    base64 (``encoding`` says which), for jq or pandas."""
    return "".join(json.dumps(_record(session, item), ensure_ascii=False, separators=(",", ":")) + "\n"
                   for item in items)


def csv_rows(session: Session, items: Sequence[Item]) -> str:
    """The same as CSV with a header row, for a spreadsheet or pandas."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(_record(session, item))
    return out.getvalue()
