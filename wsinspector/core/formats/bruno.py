"""Bruno: a request file in its ``.bru`` language, and the OpenCollection YAML Bruno also writes.

A ``.bru`` file is a list of blocks: ``meta { name, type, seq }`` (``type: ws`` for a WebSocket request),
``ws { url, body, auth }``, ``headers { name: value }`` (``~`` marks a disabled line), ``auth:bearer``,
``auth:basic``, ``vars:pre-request`` and one ``body:ws { name, type, content }`` block per saved message, a
multi-line value between ``'''`` lines. An OpenCollection request is ``info: {name, type: websocket}`` with
``websocket: {url, headers, message}``; a bundled collection (``opencollection: 1.0.0``) nests them in ``items``.
"""

from __future__ import annotations

import base64
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wsinspector.core.formats.model import (
    Draft,
    ImportFormatError,
    ImportResult,
    Reader,
    finish,
    load_yaml,
    message_kind,
    one_item,
)

BRU = "Bruno request (.bru)"
OPENCOLLECTION = "OpenCollection"
_BLOCK = re.compile(r"^([A-Za-z][\w:-]*)\s*\{\s*$")
_MULTILINE = "'''"


def detect_bru(text: str) -> str:
    return BRU if re.search(r"^meta\s*\{\s*$", text, re.MULTILINE) else ""


def detect_yaml(data: object) -> str:
    if isinstance(data, Mapping) and ("opencollection" in data or (
            isinstance(data.get("info"), Mapping) and any(k in data for k in ("websocket", "http", "graphql",
                                                                             "grpc")))):
        return OPENCOLLECTION
    return ""


def parse_bru(text: str, label: str = BRU) -> list[tuple[str, list[str]]]:
    """The blocks of a ``.bru`` file in order, each with its inner lines; ImportFormatError for a block that
    is never closed or text outside any block."""
    blocks: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if current is None:
            match = _BLOCK.match(line)
            if match:
                current, start = (match.group(1), []), number
            elif line.strip():
                raise ImportFormatError(f"{label}: line {number} is outside any block: {line.strip()[:60]!r}")
        elif line.rstrip() == "}":
            blocks.append(current)
            current = None
        else:
            current[1].append(line)
    if current is not None:
        raise ImportFormatError(f"{label}: the block {current[0]} opened at line {start} is never closed")
    return blocks


def _pairs(lines: list[str]) -> list[tuple[str, str, bool]]:
    """A dictionary block's (key, value, enabled); a value may span lines between ``'''`` markers."""
    out = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        enabled = not key.startswith("~")
        key = key.lstrip("~")
        if len(key) > 1 and key[0] == key[-1] == '"':
            key = key[1:-1].replace('\\"', '"')
        if value == _MULTILINE:
            inner = []
            while index < len(lines) and lines[index].strip() != _MULTILINE:
                inner.append(lines[index])
                index += 1
            index += 1
            value = textwrap.dedent("\n".join(inner))
        out.append((key, value, enabled))
    return out


def read_bru(text: str, file_name: str = "", folder: tuple[str, ...] = (),
             inherited: tuple[list[tuple[str, str]], list[tuple[str, str]]] = ([], [])) -> ImportResult:
    """One ``.bru`` request; ``inherited``: the headers and variables of its collection and folders."""
    label = f"{BRU} {Path(file_name).name}".strip() if file_name else BRU
    blocks = parse_bru(text, label)
    names = [name for name, _ in blocks]
    if "meta" not in names:
        raise ImportFormatError(f"{label}: the meta block is missing")
    meta = {k: v for k, v, _ in _pairs(blocks[names.index("meta")][1])}
    kind = meta.get("type", "")
    if kind != "ws":
        raise ImportFormatError(f"{label}: meta.type is {kind or 'missing'}; only WebSocket requests (type: ws) "
                                "are imported")
    if "ws" not in names:
        raise ImportFormatError(f"{label}: the ws block (with the url) is missing")
    ws = {k: v for k, v, _ in _pairs(blocks[names.index("ws")][1])}
    if not ws.get("url"):
        raise ImportFormatError(f"{label}: ws.url is missing")
    draft = Draft(name=meta.get("name", "") or Path(file_name).stem, url=ws["url"], folder=folder,
                  headers=list(inherited[0]), variables=list(inherited[1]))
    for name, lines in blocks:
        pairs = _pairs(lines)
        if name == "headers":
            draft.headers += [(k, v) for k, v, on in pairs if on]
        elif name == "vars:pre-request":
            draft.variables += [(k.lstrip("@"), v) for k, v, on in pairs if on]
        elif name == "body:ws":
            message = {k: v for k, v, _ in pairs}
            if message.get("content", "").strip():
                draft.messages.append((message.get("name", "") or f"Message {len(draft.messages) + 1}",
                                       message_kind(message.get("type", "")), message["content"]))
        elif name.startswith("auth:") and ws.get("auth") == name[5:]:
            draft.headers += _auth(name[5:], {k: v for k, v, _ in pairs}, draft.warnings)
    _auth_mode_notes(ws.get("auth", ""), draft.warnings)
    return finish(BRU, [draft])


def _auth_mode_notes(mode: str, notes: list[str]) -> None:
    if mode == "inherit":
        notes.append("authentication inherited from the collection left out")
    elif mode not in ("", "none", "bearer", "basic", "apikey"):
        notes.append(f"authentication {mode} left out")


def _auth(mode: str, values: Mapping[str, str], notes: list[str]) -> list[tuple[str, str]]:
    if mode == "bearer":
        return [("Authorization", f"Bearer {values.get('token', '')}")]
    if mode == "basic":
        user, password = values.get("username", ""), values.get("password", "")
        if "{{" in user + password:
            notes.append("Basic authentication with variables left out (add the Authorization header yourself)")
            return []
        return [("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))]
    if mode == "apikey" and values.get("placement", "header") == "header" and values.get("key"):
        return [(values["key"], values.get("value", ""))]
    if mode == "apikey":
        notes.append("an API key sent in the query left out (add it to the URL)")
    return []


# -- OpenCollection YAML -----------------------------------------------------------------------------------


def read_opencollection(data: object, file_name: str = "", folder: tuple[str, ...] = ()) -> ImportResult:
    label = f"{OPENCOLLECTION} {Path(file_name).name}".strip() if file_name else OPENCOLLECTION
    reader = Reader(label)
    root = reader.mapping(data, "")
    drafts: list[Draft] = []
    notes: list[str] = []
    errors: list[str] = []
    if "opencollection" in root:
        info = root.get("info")
        variables = _oc_variables(root, reader, "")
        name = str(info.get("name", "")) if isinstance(info, Mapping) else ""
        others = _oc_items(reader.items(root.get("items"), "items"), "items", (*folder, name) if name else folder,
                           variables, reader, (drafts, errors))
        if others:
            notes.append(f"{others} request{'s' if others > 1 else ''} of other kinds (HTTP, GraphQL, gRPC) left out")
    else:
        info = reader.mapping(root.get("info"), "info")
        kind = reader.text(info, "type", "info")
        if kind != "websocket":
            raise reader.error("info.type", f"is {kind or 'missing'}; only WebSocket requests (type: websocket) "
                                            "are imported")
        drafts.append(_oc_request(root, "", folder, [], reader))
    return finish(OPENCOLLECTION, drafts, notes, errors)


def _oc_variables(entry: Mapping[str, Any], reader: Reader, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key in ("variables",):
        out += reader.pairs(entry.get(key), f"{where}{key}")
    runtime = entry.get("runtime")
    if isinstance(runtime, Mapping):
        out += reader.pairs(runtime.get("variables"), f"{where}runtime.variables")
    return out


def _oc_items(items: list[Any], where: str, folder: tuple[str, ...], variables: list[tuple[str, str]],
              reader: Reader, out: tuple[list[Draft], list[str]]) -> int:
    """The requests of a folder's items into ``out`` (drafts, errors: an item that cannot be read is named and
    left out); how many requests of other kinds there were."""
    others = 0
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        with one_item(out[1], OPENCOLLECTION, here):
            entry = reader.mapping(item, here)
            info = entry.get("info")
            kind = str(info.get("type", "")) if isinstance(info, Mapping) else ""
            if kind == "folder" or ("items" in entry and kind == ""):
                name = str(info.get("name", "")) if isinstance(info, Mapping) else ""
                others += _oc_items(reader.items(entry.get("items"), f"{here}.items"), f"{here}.items",
                                    (*folder, name), variables + _oc_variables(entry, reader, f"{here}."), reader,
                                    out)
            elif kind == "websocket":
                out[0].append(_oc_request(entry, f"{here}.", folder, variables, reader))
            else:
                others += 1
    return others


def _oc_request(entry: Mapping[str, Any], where: str, folder: tuple[str, ...], variables: list[tuple[str, str]],
                reader: Reader) -> Draft:
    info = reader.mapping(entry.get("info"), f"{where}info")
    ws = reader.mapping(entry.get("websocket"), f"{where}websocket")
    url = reader.text(ws, "url", f"{where}websocket", required=True)
    draft = Draft(name=reader.text(info, "name", f"{where}info"), url=url, folder=folder, where=where.rstrip("."),
                  headers=reader.pairs(ws.get("headers"), f"{where}websocket.headers"),
                  variables=[*variables, *_oc_variables(entry, reader, where)])
    for key in ("subprotocols", "protocols"):
        draft.subprotocols += [str(p) for p in reader.items(ws.get(key), f"{where}websocket.{key}")]
    message = ws.get("message")
    listed = message if isinstance(message, list) else [{"message": message}] if message is not None else []
    for index, item in enumerate(listed):
        spot = f"{where}websocket.message" + (f"[{index}]" if isinstance(message, list) else "")
        variant = reader.mapping(item, spot)
        body = variant.get("message")
        if isinstance(body, Mapping):
            data = reader.text(body, "data", spot)
            kind = message_kind(reader.text(body, "type", spot))
        else:
            data, kind = reader.text(variant, "message", spot), "text"
        if data.strip():
            draft.messages.append((reader.text(variant, "title", spot) or f"Message {index + 1}", kind, data))
    for auth_place in (ws.get("auth"), entry.get("runtime", {}).get("auth") if isinstance(entry.get("runtime"),
                                                                                          Mapping) else None):
        if isinstance(auth_place, Mapping):
            mode = str(auth_place.get("type", ""))
            draft.headers += _auth(mode, {k: str(v) for k, v in auth_place.items()}, draft.warnings)
            if mode not in ("", "none", "inherit", "bearer", "basic", "apikey"):
                draft.warnings.append(f"authentication {mode} left out")
    return draft


# -- from the file system --------------------------------------------------------------------------------------


def _inherited(root: Path, relative: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The ``headers`` and ``vars:pre-request`` of the collection's ``collection.bru`` and of each
    ``folder.bru`` on the way to a request, which Bruno sends with it."""
    headers: list[tuple[str, str]] = []
    variables: list[tuple[str, str]] = []
    directory = root
    for index, part in enumerate(("", *relative.parts)):
        directory = directory / part if part else directory
        settings = directory / ("collection.bru" if index == 0 else "folder.bru")
        if not settings.is_file():
            continue
        for name, lines in parse_bru(settings.read_text(encoding="utf-8"), f"{BRU} {settings.name}"):
            pairs = [(k, v) for k, v, on in _pairs(lines) if on]
            if name == "headers":
                headers += pairs
            elif name == "vars:pre-request":
                variables += [(k.lstrip("@"), v) for k, v in pairs]
    return headers, variables


def read_directory(root: Path) -> ImportResult:
    """A Bruno collection folder: every ``type: ws`` ``.bru`` file, or every ``type: websocket`` ``.yml`` file
    of an OpenCollection folder, with its folder path."""
    results: list[ImportResult] = []
    errors: list[str] = []
    others = 0
    for path in sorted([*root.rglob("*.bru"), *root.rglob("*.yml"), *root.rglob("*.yaml")]):
        relative = path.parent.relative_to(root)
        if path.name in ("collection.bru", "folder.bru", "opencollection.yml", "folder.yml") or \
                "environments" in relative.parts:
            continue
        with one_item(errors, path.name, "the file"):  # a file that cannot be read is named; the others come in
            result = _read_file(root, path, relative)
            if result is None:
                others += 1
            else:
                results.append(result)
    label = BRU if any(r.format == BRU for r in results) else OPENCOLLECTION
    notes = [w for r in results for w in r.warnings]
    errors += [e for r in results for e in r.errors]
    if others:
        notes.append(f"{others} request{'s' if others > 1 else ''} of other kinds left out")
    if (root / "environments").is_dir():
        notes.append("the collection's environments (environments/) left out: only its own variables are "
                     "carried over")
    return ImportResult(label, tuple(c for r in results for c in r.connections), tuple(notes), tuple(errors))


def _read_file(root: Path, path: Path, relative: Path) -> ImportResult | None:
    """One request file of a collection folder; None when it is a request of another kind."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path.name}: not UTF-8 text") from None
    folder = (root.name, *relative.parts)
    if path.suffix == ".bru":
        meta = re.search(r"^\s*type:\s*(\S+)", text, re.MULTILINE)
        if meta is None or meta.group(1) != "ws":
            return None
        return read_bru(text, path.name, folder, _inherited(root, relative))
    data = load_yaml(text, f"{OPENCOLLECTION} {path.name}")
    info = data.get("info") if isinstance(data, Mapping) else None
    if not isinstance(info, Mapping) or info.get("type") != "websocket":
        return None
    return read_opencollection(data, path.name, folder)
