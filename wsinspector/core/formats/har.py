"""A HAR file's WebSocket entries (HAR 1.2, ``log.entries``).

Chrome marks a WebSocket entry ``_resourceType: "websocket"`` and keeps its frames in ``_webSocketMessages``
(``type`` "send" or "receive", ``opcode`` 1 text or 2 binary, ``data``: base64 for binary). Other browsers' entries
are recognised by a ``ws://``/``wss://`` URL or a ``101`` response. The messages the page sent become the
connection's saved messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wsinspector.core.formats.model import (
    Draft,
    Gathered,
    ImportResult,
    Reader,
    Steps,
    drained,
    name_from_url,
    one_item,
)
from wsinspector.core.profiles import RESERVED_HEADERS

LABEL = "HAR file"
#: headers a browser adds to every request, which say nothing about the WebSocket connection
BROWSER_HEADERS = frozenset({"accept-encoding", "accept-language", "cache-control", "pragma"})
#: the most sent messages kept per connection
MAX_MESSAGES = 50


def detect(data: object) -> str:
    if isinstance(data, Mapping) and isinstance(data.get("log"), Mapping) and "entries" in data["log"]:
        return LABEL
    return ""


def is_websocket(entry: Mapping[str, Any]) -> bool:
    """Whether a HAR entry is a WebSocket connection: marked as one (Chrome's ``_resourceType``, its messages), a
    ws:// or wss:// URL, or a 101 answer."""
    if entry.get("_resourceType") == "websocket" or "_webSocketMessages" in entry:
        return True
    request, response = entry.get("request"), entry.get("response")
    url = str(request.get("url", "")) if isinstance(request, Mapping) else ""
    status = response.get("status") if isinstance(response, Mapping) else None
    return url.lower().startswith(("ws://", "wss://")) or status == 101


def read(data: object) -> ImportResult:
    return drained(read_steps(data))


def read_steps(data: object) -> Steps:
    """The file's WebSocket entries, an entry per step."""
    reader = Reader(LABEL)
    root = reader.mapping(data, "")
    log = reader.mapping(root.get("log"), "log")
    entries = reader.items(log.get("entries"), "log.entries")
    gathered = Gathered(LABEL)
    names: dict[str, int] = {}
    for index, item in enumerate(entries):
        where = f"log.entries[{index}]"
        with one_item(gathered.errors, LABEL, where):
            entry = reader.mapping(item, where)
            if is_websocket(entry):
                gathered.add(_draft(entry, where, reader, names))
        yield index + 1, len(entries)
    if not gathered.connections and not gathered.errors:
        gathered.warnings.append("the file has no WebSocket entries")
    return gathered.result()


def _draft(entry: Mapping[str, Any], where: str, reader: Reader, names: dict[str, int]) -> Draft:
    request = reader.mapping(entry.get("request"), f"{where}.request")
    url = reader.text(request, "url", f"{where}.request", required=True)
    headers = [(n, v) for n, v in reader.pairs(request.get("headers"), f"{where}.request.headers")
               if not n.startswith(":") and n.lower() not in RESERVED_HEADERS | BROWSER_HEADERS]
    name = name_from_url(url)
    names[name] = names.get(name, 0) + 1
    draft = Draft(name=name if names[name] == 1 else f"{name} ({names[name]})", url=url, headers=headers,
                  where=where)
    sent = 0
    for number, frame in enumerate(reader.items(entry.get("_webSocketMessages"), f"{where}._webSocketMessages")):
        message = reader.mapping(frame, f"{where}._webSocketMessages[{number}]")
        if message.get("type") != "send":
            continue
        sent += 1
        if sent > MAX_MESSAGES:
            continue
        payload = reader.text(message, "data", f"{where}._webSocketMessages[{number}]")
        binary = message.get("opcode") == 2
        draft.messages.append((f"Sent {sent}", "base64" if binary else "text", payload))
    if sent > MAX_MESSAGES:
        draft.warnings.append(f"only the first {MAX_MESSAGES} of its {sent} sent messages kept")
    return draft
