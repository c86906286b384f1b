"""Postman's git-native collection format (v3): one YAML file per request under ``postman/collections/``.

A WebSocket request is a ``*.request.yaml`` file with ``$kind: websocket-request`` (``url``, ``headers``,
``queryParams``, ``settings.strictSSL``, and ``messages``: the relative path of a folder of
``*.message.yaml`` files, each ``$kind: websocket-message`` with ``content`` and ``contentType``). A folder's
``.resources/definition.yaml`` (``$kind: collection``) holds its ``variables``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

LABEL = "Postman collection (v3)"
REQUEST_KIND = "websocket-request"
MESSAGE_KIND = "websocket-message"
REQUEST_SUFFIX = ".request.yaml"
MESSAGE_SUFFIX = ".message.yaml"


def detect(data: object) -> str:
    if isinstance(data, Mapping) and isinstance(data.get("$kind"), str):
        return LABEL
    return ""


def _stem(file_name: str, suffix: str) -> str:
    name = Path(file_name).name
    return name[: -len(suffix)] if name.endswith(suffix) else Path(name).stem


def read_message(data: object, file_name: str) -> tuple[str, str, str]:
    """One ``*.message.yaml`` as (name, kind, payload)."""
    reader = Reader(f"{LABEL} message {Path(file_name).name}")
    message = reader.mapping(data, "")
    if message.get("$kind") != MESSAGE_KIND:
        raise reader.error("$kind", f"is {message.get('$kind')!r}; expected {MESSAGE_KIND}")
    content = reader.text(message, "content", "", required=True)
    name = reader.text(message, "name", "") or _stem(file_name, MESSAGE_SUFFIX)
    return name, message_kind(reader.text(message, "contentType", "")), content


def read_request(data: object, file_name: str, messages: Sequence[tuple[str, object]] = (),
                 variables: Sequence[tuple[str, str]] = (), folder: tuple[str, ...] = ()) -> ImportResult:
    """One ``*.request.yaml`` with the parsed ``*.message.yaml`` files of its messages folder, by file name."""
    reader = Reader(f"{LABEL} {Path(file_name).name}")
    request = reader.mapping(data, "")
    kind = request.get("$kind")
    if kind != REQUEST_KIND:
        if isinstance(kind, str) and kind.endswith("-request"):
            raise reader.error("$kind", f"is {kind}: only WebSocket requests ({REQUEST_KIND}) are imported")
        raise reader.error("$kind", f"is {kind!r}; expected {REQUEST_KIND}")
    url = reader.text(request, "url", "", required=True)
    headers = reader.pairs(request.get("headers"), "headers", name_key="key")
    query = reader.pairs(request.get("queryParams"), "queryParams", name_key="key")
    if query and url.strip():
        url += ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in query)
    settings = request.get("settings")
    verify = True
    if settings is not None:
        verify = reader.mapping(settings, "settings").get("strictSSL") is not False
    draft = Draft(name=reader.text(request, "name", "") or _stem(file_name, REQUEST_SUFFIX), url=url,
                  headers=headers, verify=verify, variables=list(variables), folder=folder)
    notes = []
    for message_name, message in messages:
        draft.messages.append(read_message(message, message_name))
    if "messages" in request and not messages:
        notes.append(f"“{draft.name}”: its messages folder ({request['messages']}) was not found next to the file")
    return finish(LABEL, [draft], notes)


def read_definition(data: object, file_name: str) -> list[tuple[str, str]]:
    """A ``.resources/definition.yaml``'s variables."""
    reader = Reader(f"{LABEL} {file_name}")
    definition = reader.mapping(data, "")
    return reader.pairs(definition.get("variables"), "variables", name_key="key")


# -- from the file system --------------------------------------------------------------------------------------


def _load(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportFormatError(f"{LABEL} {path.name}: not UTF-8 text") from None
    return load_yaml(text, f"{LABEL} {path.name}")


def _messages(request_path: Path, data: object) -> list[tuple[str, object]]:
    folder = data.get("messages") if isinstance(data, Mapping) else None
    if not isinstance(folder, str):
        return []
    try:
        directory = (request_path.parent / folder).resolve()
        if not directory.is_dir():
            return []
    except (OSError, ValueError):  # a path no file system has (a NUL in it), a loop of links
        return []
    return [(p.name, _load(p)) for p in sorted(directory.glob(f"*{MESSAGE_SUFFIX}"))]


def read_request_file(path: Path) -> ImportResult:
    """One request file, with the variables of the collection folders it is in."""
    data = _load(path)
    variables: list[tuple[str, str]] = []
    directory = path.parent
    while (directory / ".resources" / "definition.yaml").is_file():
        variables = _variables(directory) + variables
        if directory.parent == directory:
            break
        directory = directory.parent
    return read_request(data, path.name, _messages(path, data), variables)


def _variables(directory: Path) -> list[tuple[str, str]]:
    definition = directory / ".resources" / "definition.yaml"
    return read_definition(_load(definition), str(definition.name)) if definition.is_file() else []


def _name(directory: Path) -> str:
    """A collection's or folder's name: its definition's ``name``, else the folder's."""
    definition = directory / ".resources" / "definition.yaml"
    data = _load(definition) if definition.is_file() else None
    name = data.get("name") if isinstance(data, Mapping) else None
    return name if isinstance(name, str) and name.strip() else directory.name


def read_directory(root: Path) -> ImportResult:
    """Every WebSocket request of a collection folder (and its subfolders), with the folders' variables."""
    drafts_results: list[ImportResult] = []
    errors: list[str] = []
    others = 0
    for path in sorted(root.rglob(f"*{REQUEST_SUFFIX}")):
        relative = path.parent.relative_to(root)
        if ".resources" in relative.parts:
            continue
        with one_item(errors, f"{LABEL} {path.name}", "the file"):  # named; the other files come in
            data = _load(path)
            if not isinstance(data, Mapping) or data.get("$kind") != REQUEST_KIND:
                others += 1
                continue
            variables: list[tuple[str, str]] = []
            folder: list[str] = []
            directory = root
            for part in ("", *relative.parts):
                directory = directory / part if part else directory
                variables += _variables(directory)
                folder.append(_name(directory))
            drafts_results.append(read_request(data, path.name, _messages(path, data), variables, tuple(folder)))
    notes: list[str] = [w for r in drafts_results for w in r.warnings]
    errors += [e for r in drafts_results for e in r.errors]
    if others:
        notes.append(f"{others} request{'s' if others > 1 else ''} of other kinds (HTTP, GraphQL, gRPC, ...) left out")
    connections: list[Any] = [c for r in drafts_results for c in r.connections]
    return ImportResult(LABEL, tuple(connections), tuple(notes), tuple(errors))
