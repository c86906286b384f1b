"""What an importer gives back, and the one place that turns a request read from another tool into a connection.

Every importer reads a file's text into :class:`Draft` records (what the tool said: a URL, headers, subprotocols,
an origin, whether to check certificates, variables, saved messages, a folder path) and hands them to
:func:`finish`, which makes the :class:`ConnectionProfile` and says what could not be carried over.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wsinspector.core.profiles import (
    MESSAGE_KINDS,
    RESERVED_HEADERS,
    ConnectionProfile,
    Endpoint,
    Handshake,
    Tls,
)
from wsinspector.core.redact import is_secret_header, is_secret_name

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class ImportFormatError(ValueError):
    """A file that is not what it claims to be; the message (one line) names the file's kind and the field."""


@dataclass(frozen=True, slots=True)
class Imported:
    """One connection read from a file, with what the product has no place for yet on the profile itself."""

    profile: ConnectionProfile
    #: the folders it sat in, outermost first (empty: at the top)
    folder: tuple[str, ...] = ()
    #: names of its headers and variables that hold secrets (to be kept in the keyring, not in the store)
    secret_headers: tuple[str, ...] = ()
    secret_variables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one file gave: its kind (a label for people), the connections, and what was left out."""

    format: str
    connections: tuple[Imported, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class Draft:
    """A WebSocket request as another tool wrote it, before it becomes a connection."""

    name: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    subprotocols: list[str] = field(default_factory=list)
    origin: str = ""
    verify: bool = True
    variables: list[tuple[str, str]] = field(default_factory=list)
    #: (name, kind, payload); kind one of MESSAGE_KINDS
    messages: list[tuple[str, str, str]] = field(default_factory=list)
    folder: tuple[str, ...] = ()
    tls: dict[str, Any] = field(default_factory=dict)
    proxy: dict[str, Any] = field(default_factory=dict)
    connect_to: str = ""
    #: variables the tool itself marked secret
    secret_variables: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def finish(label: str, drafts: Iterable[Draft], warnings: Iterable[str] = ()) -> ImportResult:
    """The import result of ``drafts`` read from a file of kind ``label``."""
    notes = list(warnings)
    connections = []
    for draft in drafts:
        imported, said = _connection(draft)
        connections.append(imported)
        notes += said
    return ImportResult(label, tuple(connections), tuple(dict.fromkeys(notes)))


def _connection(draft: Draft) -> tuple[Imported, list[str]]:
    name = draft.name.strip() or draft.url or "Imported connection"
    notes = [f"“{name}”: {text}" for text in draft.warnings]
    headers: list[tuple[str, str]] = []
    subprotocols = [p for p in draft.subprotocols if p.strip()]
    origin = draft.origin
    for header, value in draft.headers:
        header = header.strip()
        lower = header.lower()
        if not header:
            continue
        if lower == "sec-websocket-protocol":
            subprotocols += [p.strip() for p in value.split(",") if p.strip()]
        elif lower == "origin" and not origin:
            origin = value.strip()
        elif lower in RESERVED_HEADERS or header.startswith(":"):
            notes.append(f"“{name}”: header {header} left out (the WebSocket handshake sets it itself)")
        else:
            headers.append((header, value))
    url = draft.url.strip()
    if not url:
        notes.append(f"“{name}”: it has no URL; give one before connecting")
    elif not _SCHEME.match(url) and not url.startswith("{{"):
        url = f"ws://{url}"
        notes.append(f"“{name}”: the URL had no scheme; ws:// assumed")
    elif url.lower().startswith(("http://", "https://")):
        url = "ws" + url[4:]
        notes.append(f"“{name}”: the URL started with http(s)://; ws(s):// used instead")
    profile = ConnectionProfile(
        name=name,
        endpoint=Endpoint(url=url, connect_to=draft.connect_to),
        handshake=Handshake(headers=tuple(headers), subprotocols=tuple(dict.fromkeys(subprotocols)),
                            origin=origin),
        tls=Tls(verify=draft.verify, **draft.tls),
        variables=tuple(draft.variables),
        messages=tuple((n, k if k in MESSAGE_KINDS else "text", p) for n, k, p in draft.messages),
    )
    if draft.proxy:
        profile = profile.with_changes(proxy=draft.proxy)
    secret_headers = tuple(dict.fromkeys(h for h, _ in headers if is_secret_header(h)))
    secret_variables = tuple(dict.fromkeys(
        v for v, _ in draft.variables if v in draft.secret_variables or is_secret_name(v)))
    imported = Imported(mark_secrets(profile, secret_headers, secret_variables), draft.folder,
                        secret_headers, secret_variables)
    return imported, notes


def mark_secrets(profile: ConnectionProfile, headers: Sequence[str], variables: Sequence[str]) -> ConnectionProfile:
    """``profile`` with these headers and variables marked secret (kept in the keyring once saved)."""
    changes: dict[str, object] = {}
    if headers:
        changes["handshake"] = {"secret_headers": tuple(dict.fromkeys((*profile.handshake.secret_headers, *headers)))}
    if variables:
        changes["secret_variables"] = tuple(dict.fromkeys((*profile.secret_variables, *variables)))
    return profile.with_changes(**changes) if changes else profile


# -- reading what a tool wrote: values of the right kind, or a message naming the field ------------------------


class Reader:
    """Reads fields of a parsed document; a field of the wrong kind raises :class:`ImportFormatError` naming it."""

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, where: str, problem: str) -> ImportFormatError:
        return ImportFormatError(f"{self.label}: {where} {problem}" if where else f"{self.label}: {problem}")

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where, f"is not an object (found {_kind(value)})")
        return value

    def items(self, value: object, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(where, f"is not a list (found {_kind(value)})")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = False,
             default: str = "") -> str:
        value = data.get(key)
        if value is None:
            if required:
                raise self.error(f"{where}.{key}" if where else key, "is missing")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(f"{where}.{key}" if where else key, f"is not text (found {_kind(value)})")
        return str(value)

    def pairs(self, value: object, where: str, name_key: str = "name", value_key: str = "value",
              disabled_key: str = "disabled") -> list[tuple[str, str]]:
        """A list of ``{name, value, disabled?}`` objects as (name, value), the disabled ones left out."""
        out = []
        for index, item in enumerate(self.items(value, where)):
            entry = self.mapping(item, f"{where}[{index}]")
            if entry.get(disabled_key) is True or entry.get("enabled") is False:
                continue
            name = self.text(entry, name_key, f"{where}[{index}]", required=True)
            out.append((name, self.text(entry, value_key, f"{where}[{index}]")))
        return out


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return "text"


def load_yaml(text: str, label: str) -> object:
    """A YAML document (safe loading); ImportFormatError naming the line when it is not YAML."""
    import yaml  # noqa: PLC0415  (about 20 ms: only when a YAML file is read, never at start)

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it cannot be read"
        raise ImportFormatError(f"{label}: not valid YAML{where}: {problem}") from None


def load_json(text: str, label: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ImportFormatError(f"{label}: not valid JSON: {exc}") from None


def message_kind(text: str) -> str:
    """A tool's name for a message's type as one of MESSAGE_KINDS (unknown ones are text)."""
    kind = text.strip().lower()
    if kind in ("json", "application/json"):
        return "json"
    if kind in ("hex", "base64"):
        return kind
    if kind == "binary":
        return "base64"
    return "text"
