"""Insomnia: the v4 export (JSON, ``_type: export``, ``__export_format: 4``) and the v5 YAML collection
(``type: collection.insomnia.rest/5.0``).

v4 keeps every object in ``resources``: a WebSocket request is ``_type: websocket_request`` (its ``_id`` starts
``ws-req_``), its saved payloads are ``websocket_payload`` resources whose ``parentId`` is the request, folders are
``request_group`` resources and variables live in ``environment`` resources. v5 nests requests under
``collection`` (folders have ``children``); a WebSocket request is the one whose ``meta.id`` starts ``ws-req``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from wsinspector.core.formats.model import Draft, ImportResult, Reader, finish, message_kind, one_item

V4 = "Insomnia export"
V5 = "Insomnia collection"
V5_TYPE = "collection.insomnia.rest/5.0"

#: ``{{ _.name }}`` (Insomnia's environment reference) -> ``{{name}}``
_UNDERSCORE = re.compile(r"\{\{\s*_\.([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_TAG = re.compile(r"\{%.*?%\}")


def detect(data: object) -> str:
    if isinstance(data, Mapping):
        if data.get("_type") == "export" or "__export_format" in data:
            return V4
        if data.get("type") == V5_TYPE:
            return V5
    return ""


def template(text: str, notes: list[str]) -> str:
    """Insomnia's ``{{ _.name }}`` as ``{{name}}``; a template tag (``{% … %}``) cannot be carried over."""
    if _TAG.search(text):
        notes.append("a template tag ({% … %}) is kept as written: template tags are not supported")
    return _UNDERSCORE.sub(lambda m: "{{" + m.group(1) + "}}", text)


def _auth_header(auth: object, notes: list[str]) -> list[tuple[str, str]]:
    """Bearer and Basic authentication as the Authorization header they send; others are named in a warning."""
    if not isinstance(auth, Mapping) or not auth or auth.get("disabled") is True:
        return []
    kind = str(auth.get("type", ""))
    if kind == "bearer":
        prefix = str(auth.get("prefix") or "Bearer")
        return [("Authorization", template(f"{prefix} {auth.get('token', '')}", notes))]
    if kind == "basic":
        user, password = str(auth.get("username", "")), str(auth.get("password", ""))
        if "{{" in user + password:
            notes.append("Basic authentication with variables left out (add the Authorization header yourself)")
            return []
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return [("Authorization", f"Basic {token}")]
    if kind not in ("", "none"):
        notes.append(f"authentication of type {kind!r} left out")
    return []


def _query(url: str, parameters: list[tuple[str, str]]) -> str:
    if not parameters or not url.strip():
        return url
    query = "&".join(f"{name}={value}" for name, value in parameters)
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _environment_variables(data: object, where: str, reader: Reader, notes: list[str]) -> list[tuple[str, str]]:
    if data is None:
        return []
    out = []
    for name, value in reader.mapping(data, where).items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out.append((str(name), template(str(value), notes)))
        else:
            notes.append(f"variable {name} left out (only plain values are carried over, not objects)")
    return out


# -- v4 ------------------------------------------------------------------------------------------------


def read_v4(data: object) -> ImportResult:
    reader = Reader(V4)
    root = reader.mapping(data, "")
    version = root.get("__export_format")
    if version != 4:
        raise reader.error("__export_format", f"is {version!r}; this reads version 4")
    resources = reader.items(root.get("resources"), "resources")
    if not resources:
        raise reader.error("resources", "is missing or empty")
    by_id: dict[str, Mapping[str, Any]] = {}
    listed: list[tuple[int, Mapping[str, Any]]] = []  # the resources with an id and a type, and where they are
    errors: list[str] = []
    for index, item in enumerate(resources):
        where = f"resources[{index}]"
        with one_item(errors, V4, where):  # one without is left out, and named
            resource = reader.mapping(item, where)
            reader.text(resource, "_type", where, required=True)
            by_id[reader.text(resource, "_id", where, required=True)] = resource
            listed.append((index, resource))
    notes: list[str] = []
    variables = _v4_variables(listed, reader, notes, errors)
    payloads = _v4_payloads(listed, reader, errors)
    drafts = []
    others = 0
    for index, resource in listed:
        where = f"resources[{index}]"
        kind = resource["_type"]
        if kind in ("request", "grpc_request", "socketio_request", "mcp_request"):
            others += 1
        if kind != "websocket_request":
            continue
        with one_item(errors, V4, where):
            said: list[str] = []
            url = reader.text(resource, "url", where, required=True)
            headers = [(n, template(v, said)) for n, v in reader.pairs(resource.get("headers"), f"{where}.headers")]
            headers += _auth_header(resource.get("authentication"), said)
            parameters = reader.pairs(resource.get("parameters"), f"{where}.parameters")
            draft = Draft(name=reader.text(resource, "name", where), url=_query(template(url, said), parameters),
                          headers=headers, variables=list(variables),
                          messages=payloads.get(resource["_id"], []),
                          folder=_v4_folder(resource, by_id), where=where)
            draft.warnings = said
            drafts.append(draft)
    if others:
        notes.append(f"{others} request{'s' if others > 1 else ''} of other kinds (HTTP, gRPC, Socket.IO) left out")
    return finish(V4, drafts, notes, errors)


def _v4_variables(resources: list[tuple[int, Mapping[str, Any]]], reader: Reader, notes: list[str],
                 errors: list[str]) -> list[tuple[str, str]]:
    """The base environment's variables (the one whose parent is the workspace); sub-environments are named."""
    variables: list[tuple[str, str]] = []
    sub = []
    for index, resource in resources:
        if resource["_type"] != "environment":
            continue
        parent = str(resource.get("parentId", ""))
        if parent.startswith("env_"):
            sub.append(str(resource.get("name", "")))
            continue
        with one_item(errors, V4, f"resources[{index}]"):
            variables += _environment_variables(resource.get("data"), f"resources[{index}].data", reader, notes)
    if sub:
        notes.append(f"environment{'s' if len(sub) > 1 else ''} {', '.join(sub)} left out: only the base "
                     "environment's variables are carried over")
    return variables


def _v4_payloads(resources: list[tuple[int, Mapping[str, Any]]], reader: Reader,
                errors: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    payloads: dict[str, list[tuple[str, str, str]]] = {}
    for index, resource in resources:
        if resource["_type"] != "websocket_payload":
            continue
        where = f"resources[{index}]"
        with one_item(errors, V4, where):
            parent = reader.text(resource, "parentId", where, required=True)
            value = reader.text(resource, "value", where)
            if value:
                payloads.setdefault(parent, []).append(
                    (reader.text(resource, "name", where) or "Payload",
                     message_kind(reader.text(resource, "mode", where)), value))
    return payloads


def _v4_folder(resource: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    folder: list[str] = []
    parent = by_id.get(str(resource.get("parentId", "")))
    seen = set()
    while parent is not None and parent.get("_type") == "request_group" and id(parent) not in seen:
        seen.add(id(parent))
        folder.insert(0, str(parent.get("name", "")))
        parent = by_id.get(str(parent.get("parentId", "")))
    return tuple(folder)


# -- v5 ------------------------------------------------------------------------------------------------


def read_v5(data: object) -> ImportResult:
    reader = Reader(V5)
    root = reader.mapping(data, "")
    if root.get("type") != V5_TYPE:
        raise reader.error("type", f"is {root.get('type')!r}; expected {V5_TYPE}")
    notes: list[str] = []
    variables: list[tuple[str, str]] = []
    environments = root.get("environments")
    if environments is not None:
        base = reader.mapping(environments, "environments")
        variables = _environment_variables(base.get("data"), "environments.data", reader, notes)
        sub = [str(e.get("name", "")) for e in reader.items(base.get("subEnvironments"), "environments."
                                                               "subEnvironments") if isinstance(e, Mapping)]
        if sub:
            notes.append(f"environment{'s' if len(sub) > 1 else ''} {', '.join(sub)} left out: only the base "
                         "environment's variables are carried over")
    drafts: list[Draft] = []
    errors: list[str] = []
    others = _v5_walk(reader.items(root.get("collection"), "collection"), "collection", (), variables, reader,
                      (drafts, errors))
    if others:
        notes.append(f"{others} request{'s' if others > 1 else ''} of other kinds (HTTP, gRPC, Socket.IO) left out")
    return finish(V5, drafts, notes, errors)


def _v5_walk(items: list[Any], where: str, folder: tuple[str, ...], variables: list[tuple[str, str]],
             reader: Reader, out: tuple[list[Draft], list[str]]) -> int:
    """The requests of a folder's items into ``out`` (drafts, errors: an item that cannot be read is named and
    left out); how many requests of other kinds there were."""
    others = 0
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        with one_item(out[1], V5, here):
            entry = reader.mapping(item, here)
            meta = entry.get("meta")
            item_id = str(meta.get("id", "")) if isinstance(meta, Mapping) else ""
            if "children" in entry and "url" not in entry:
                name = reader.text(entry, "name", here)
                others += _v5_walk(reader.items(entry.get("children"), f"{here}.children"), f"{here}.children",
                                   (*folder, name), variables, reader, out)
            elif item_id.startswith("ws-req"):
                out[0].append(_v5_request(entry, here, folder, variables, reader))
            else:
                others += 1
    return others


def _v5_request(entry: Mapping[str, Any], here: str, folder: tuple[str, ...], variables: list[tuple[str, str]],
                reader: Reader) -> Draft:
    said: list[str] = []
    url = reader.text(entry, "url", here, required=True)
    headers = [(n, template(v, said)) for n, v in reader.pairs(entry.get("headers"), f"{here}.headers")]
    headers += _auth_header(entry.get("authentication"), said)
    parameters = reader.pairs(entry.get("parameters"), f"{here}.parameters")
    draft = Draft(name=reader.text(entry, "name", here), url=_query(template(url, said), parameters),
                  headers=headers, variables=list(variables), folder=folder, where=here)
    draft.warnings = said
    return draft
