"""wsinspector's own connections file: connections exported to share or move, with their secrets left out.

The file (docs/import-export.md) is a JSON object::

    {"format": "wsinspector-connections", "version": 1, "exported": "2026-12-06T05:40:00Z",
     "connections": [{"folder": ["Team", "Chat"], "secrets": ["authorization"],
                      "profile": {...the stored form of a connection (core/profiles.py)...}}]}

Each secret — a header or variable named like one or marked secret, a ``password``/``token`` query parameter, a
password in the URL, a record field declared secret — is replaced by a ``{{variable}}`` whose value is left
empty, and listed under ``secrets``: the value is never written. Importing the file gives the same connections,
each with those variables to fill in.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from wsinspector.core.folders import one_line
from wsinspector.core.formats.model import (
    Imported,
    ImportFormatError,
    ImportResult,
    Reader,
    Steps,
    drained,
    mark_secrets,
    name_from_url,
    not_a_url,
    one_item,
    url_problem,
    usable_folder,
    usable_url,
)
from wsinspector.core.literal_secrets import lift_secrets
from wsinspector.core.profiles import ConnectionProfile, ProfileFormatError, profile_from_dict, profile_to_dict
from wsinspector.core.redact import is_secret_header, is_secret_name, rewrite_url
from wsinspector.core.secrets import is_template

FORMAT = "wsinspector-connections"
VERSION = 1
LABEL = "wsinspector connections"
_REFERENCE = re.compile(r"^\{\{\s*[A-Za-z_][A-Za-z0-9_.-]*\s*\}\}$")
#: a header value that is a variable, after an optional scheme word: ``{{token}}``, ``Bearer {{token}}``
_SCHEME_REFERENCE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9-]*\s+)?\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}\s*$")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def detect(data: object) -> str:
    return LABEL if isinstance(data, Mapping) and data.get("format") == FORMAT else ""


def _variable_name(text: str) -> str:
    name = _NOT_NAME.sub("_", text.strip()).strip("_").lower() or "secret"
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def _secret_headers(profile: ConnectionProfile) -> set[str]:
    marked = getattr(profile.handshake, "secret_headers", ())
    return {name for name, _ in profile.handshake.headers if name in marked or is_secret_header(name)}


def _secret_variables(profile: ConnectionProfile) -> set[str]:
    marked = getattr(profile, "secret_variables", ())
    return {name for name, _ in profile.variables if name in marked or is_secret_name(name)}


def _secret_fields(profile: ConnectionProfile) -> list[tuple[str, str]]:
    """(record, field) of every setting declared secret (``metadata=SECRET``) that holds a value, or had one
    when it was saved (``kept_secrets``: the value is in the keyring) — unless it only names variables."""
    kept = set(profile.kept_secrets)
    return [(name, field.name) for name, record in profile.records() for field in fields(record)
            if field.metadata.get("secret") and not is_template(str(getattr(record, field.name)))
            and (getattr(record, field.name) or f"{name}.{field.name}" in kept)]


def without_secrets(profile: ConnectionProfile) -> tuple[dict[str, Any], list[str]]:
    """The stored form of ``profile`` with every secret value replaced by a ``{{variable}}`` left empty, and the
    names of those variables. A secret written in a URL or a login header becomes a variable first
    (``core/literal_secrets.py``); a secret setting the keyring holds (``kept_secrets``) is one too."""
    profile = lift_secrets(profile)[0]
    data = profile_to_dict(profile)
    data["kept_secrets"] = []  # the values stay behind: the keyring of whoever imports the file has none
    variables: dict[str, str] = {name: value for name, value in profile.variables}
    secrets: list[str] = []

    def reference(wanted: str) -> str:
        name = _variable_name(wanted)
        if name not in secrets:
            secrets.append(name)
        variables[name] = ""
        return "{{" + name + "}}"

    secret_variables = _secret_variables(profile)
    for name in (name for name, _ in profile.variables if name in secret_variables):
        variables[name] = ""
        secrets.append(name)
    def header(name: str, value: str) -> str:
        match = _SCHEME_REFERENCE.match(value)
        if match is None:
            return reference(name)
        if match.group(1) in variables and match.group(1) not in secrets:  # the secret is in the variable
            variables[match.group(1)] = ""
            secrets.append(match.group(1))
        return value

    secret_headers = _secret_headers(profile)
    data["handshake"]["headers"] = [[name, header(name, value) if name in secret_headers else value]
                                    for name, value in profile.handshake.headers]

    def userinfo(info: str) -> str:
        user, colon, _password = info.partition(":")
        return f"{user}:{reference('password')}" if colon else info

    def parameter(name: str, value: str) -> str:
        return reference(name) if is_secret_name(name) and not _REFERENCE.match(value) else value

    data["endpoint"]["url"] = rewrite_url(profile.endpoint.url, userinfo, parameter)
    for record_name, field_name in _secret_fields(profile):
        data[record_name][field_name] = reference(f"{record_name}_{field_name}")
    data["variables"] = [[name, value] for name, value in variables.items()]
    for key in ("secret_variables",):
        if key in data:
            data[key] = sorted(set(data[key]) | set(secrets))
    return data, secrets


def export_connections(profiles: Iterable[ConnectionProfile], exported: str,
                       folders: Mapping[str, Sequence[str]] | None = None) -> tuple[str, list[str]]:
    """The connections file for ``profiles`` (``folders``: each profile's folder path by its id, by default the
    folder it is saved in), and a line per
    connection whose secrets were left out."""
    entries = []
    notes = []
    for profile in profiles:
        data, secrets = without_secrets(profile)
        data.pop("builtin", None)
        folder = (folders or {}).get(profile.id) or [name for name in profile.folder.split("/") if name]
        entry: dict[str, Any] = {"folder": list(folder), "profile": data}
        if secrets:
            entry["secrets"] = secrets
            notes.append(f"“{profile.name}”: {', '.join(secrets)} left out")
        entries.append(entry)
    document = {"format": FORMAT, "version": VERSION, "exported": exported, "connections": entries}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n", notes


def read(data: object) -> ImportResult:
    return drained(read_steps(data))


def read_steps(data: object) -> Steps:
    """The file's connections, one per step."""
    reader = Reader(LABEL)
    root = reader.mapping(data, "")
    version = root.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise reader.error("version", f"is {version!r}; expected a whole number")
    if version > VERSION:
        raise reader.error("version", f"is {version}: the file was written by a newer wsinspector (this one "
                                      f"reads up to {VERSION})")
    connections: list[Imported] = []
    notes: list[str] = []
    errors: list[str] = []
    entries = reader.items(root.get("connections"), "connections")
    for index, item in enumerate(entries):
        where = f"connections[{index}]"
        with one_item(errors, LABEL, where):
            said: list[str] = []
            connections.append(_connection(reader, item, where, said))
            notes += said
        yield index + 1, len(entries)
    return ImportResult(LABEL, tuple(connections), tuple(notes), tuple(errors))


def _connection(reader: Reader, item: object, where: str, notes: list[str]) -> Imported:
    """One entry of the file; ImportFormatError when it cannot be a connection (its URL included)."""
    entry = reader.mapping(item, where)
    stored = reader.mapping(entry.get("profile"), f"{where}.profile")
    written = reader.items(entry.get("folder"), f"{where}.folder")
    try:
        profile = profile_from_dict(uuid.uuid4().hex, stored)
    except ProfileFormatError as exc:
        raise reader.error(f"{where}.profile:", str(exc)) from None
    if profile.read_only:
        raise reader.error(where, f"(“{profile.name}”) was written by a newer wsinspector (its settings' version "
                                  f"{profile.format_version}): this one cannot save it")
    url, changed = usable_url(profile.url)
    problem = url_problem(url)
    if problem:
        raise ImportFormatError(not_a_url(LABEL, where, profile.name.strip(), profile.url, problem))
    if url != profile.url:
        profile = profile.with_changes(endpoint={"url": url})
    name = one_line(profile.name)
    if not name:
        name = one_line(name_from_url(url)) or "Imported connection"
        notes.append(f"“{name}”: it had no name in the file")
    if name != profile.name:
        profile = profile.with_changes(name=name)
    if changed:
        notes.append(f"“{profile.name}”: {changed}")
    folder, said = usable_folder(str(part) for part in (written or profile.folder.split("/")))
    notes += [f"“{profile.name}”: {text}" for text in said]
    secrets = [str(s) for s in reader.items(entry.get("secrets"), f"{where}.secrets")]
    if secrets:
        notes.append(f"“{profile.name}”: fill in {', '.join(secrets)} (left out when it was exported)")
    headers = tuple(sorted(_secret_headers(profile)))
    variables = tuple(sorted(_secret_variables(profile) | {s for s in secrets
                                                           if any(v == s for v, _ in profile.variables)}))
    return Imported(mark_secrets(profile, headers, variables), folder, headers, variables)
