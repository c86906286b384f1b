"""What an importer gives back, and the one place that turns a request read from another tool into a connection.

Every importer reads a file's text into :class:`Draft` records (what the tool said: a URL, headers, subprotocols,
an origin, whether to check certificates, variables, saved messages, a folder path) and hands them to
:func:`finish`, which makes the :class:`ConnectionProfile` and says what could not be carried over.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from wsinspector.core.folders import CONTROL, one_line, usable_name
from wsinspector.core.profiles import (
    MESSAGE_KINDS,
    RESERVED_HEADERS,
    ConnectionProfile,
    Endpoint,
    Handshake,
    ProfileError,
    Tls,
    validate_url,
)
from wsinspector.core.redact import is_secret_header, is_secret_name, redact_url

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_VARIABLE = re.compile(r"\{\{[^{}]*\}\}")
#: what reading damaged input can raise besides ImportFormatError: a value that does not parse (a URL, a number,
#: base64: ValueError), a structure not of the kind expected, a nesting too deep for the parser
UNREADABLE = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError)


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
    """What one file gave: its kind (a label for people), the connections, what was left out of them, and the
    items of the file that could not be imported (one line each, naming the item; the others are)."""

    format: str
    connections: tuple[Imported, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


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
    #: where in the file it was (``log.entries[3]``), for a message about it; "" when the file is the request
    where: str = ""


#: a reader that reads a file a few entries at a time: it yields (entries read, entries in the file) and returns
#: what it read (a long file in the window is read in slices)
Steps = Generator[tuple[int, int], None, ImportResult]


def drained(steps: Steps) -> ImportResult:
    """What a reader in steps gives, read at once."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: ImportResult = stop.value
            return result


@dataclass(slots=True)
class Gathered:
    """What a reader has read so far from a file of kind ``label``: the connections, the notes, and the items
    it refused. :meth:`add` turns a draft into a connection there and then, so a reader can go entry by entry."""

    label: str
    connections: list[Imported] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, draft: Draft) -> None:
        """The connection of ``draft``; refused, with a line naming it, when its URL cannot be one."""
        imported, said = _connection(draft)
        problem = url_problem(imported.profile.url)
        if problem:
            self.errors.append(not_a_url(self.label, draft.where, draft.name.strip(), draft.url, problem))
        else:
            self.connections.append(imported)
            self.warnings += said

    def result(self) -> ImportResult:
        return ImportResult(self.label, tuple(self.connections), tuple(dict.fromkeys(self.warnings)),
                            tuple(self.errors))


def finish(label: str, drafts: Iterable[Draft], warnings: Iterable[str] = (),
           errors: Iterable[str] = ()) -> ImportResult:
    """The import result of ``drafts`` read from a file of kind ``label``; ``errors``: the items the reader
    refused already. A draft whose URL cannot be one is refused too, with a line naming it."""
    gathered = Gathered(label, warnings=list(warnings), errors=list(errors))
    for draft in drafts:
        gathered.add(draft)
    return gathered.result()


def escaped(text: str) -> str:
    """``text`` on one line: its control characters written as escapes (``\\n``), as a file's values are quoted
    in a report."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@contextmanager
def one_item(errors: list[str], label: str, where: str) -> Iterator[None]:
    """Reading one item of a file (a connection, an entry) in a ``with`` block: what is wrong with it becomes
    one line in ``errors`` and the reading goes on after the block, with the file's next item."""
    try:
        yield
    except ImportFormatError as exc:
        errors.append(str(exc))
    except UNREADABLE as exc:
        errors.append(f"{label}: {where} cannot be read ({type(exc).__name__}: {exc})")


def name_from_url(url: str) -> str:
    """A connection's name from its URL: the host and the path ("" for an empty URL)."""
    text = url.strip()
    try:
        parts = urlsplit(text if "://" in text else f"ws://{text}")
        host = parts.hostname
    except ValueError:  # a URL that does not parse (an IPv6 address not closed): named as written
        return text
    return f"{host or text}{parts.path if parts.path not in ('', '/') else ''}"


def url_problem(url: str) -> str:
    """Why ``url`` cannot be a connection's (a ``ws://`` or ``wss://`` URL that parses, with a host); "" when
    it can, when it is empty (the user gives one later), or when only the values of its ``{{variables}}``
    can tell (one at its start, or one whose stand-in does not fit where it is)."""
    if not url.strip() or url.lstrip().startswith("{{"):
        return ""
    try:
        validate_url(_VARIABLE.sub("1", url))
    except ProfileError as exc:
        return "" if _VARIABLE.search(url) else str(exc)
    return ""


def not_a_url(label: str, where: str, name: str, url: str, problem: str) -> str:
    """The line that refuses an item for its URL."""
    named = f"“{name}”: " if name and name != url.strip() else ""
    return f"{label}: {where + ': ' if where else ''}{named}{redact_url(url)!r} is not a valid URL: {problem}"


def usable_url(url: str) -> tuple[str, str]:
    """A URL as another tool wrote it made into a WebSocket URL where that is clear (no scheme: ws://;
    http(s)://: ws(s)://), and a note saying what changed ("" none)."""
    url = url.strip()
    if not url:
        return url, "it has no URL; give one before connecting"
    if not _SCHEME.match(url) and not url.startswith("{{"):
        return f"ws://{url}", "the URL had no scheme; ws:// assumed"
    if url.lower().startswith(("http://", "https://")):
        return "ws" + url[4:], "the URL started with http(s)://; ws(s):// used instead"
    return url, ""


def _connection(draft: Draft) -> tuple[Imported, list[str]]:
    name = one_line(draft.name) or one_line(name_from_url(draft.url)) or "Imported connection"
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
    url, changed = usable_url(draft.url)
    if changed:
        notes.append(f"“{name}”: {changed}")
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
    folder, said = usable_folder(draft.folder)
    notes += [f"“{name}”: {text}" for text in said]
    imported = Imported(mark_secrets(profile, secret_headers, secret_variables), folder,
                        secret_headers, secret_variables)
    return imported, notes


def usable_folder(names: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """A folder path from a file as the names it will be saved under (``core/folders.py``: empty names left
    out, a "/" inside a name made "∕", control characters spaces, an overlong name cut), and a note for each
    name that changed more than its surrounding spaces."""
    folder: list[str] = []
    notes = []
    for written in names:
        name = usable_name(str(written))
        if name and name != str(written).strip():
            notes.append(f"the folder {str(written)[:60]!r} is named “{name}”")
        if name:
            folder.append(name)
    return tuple(folder), notes


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
    return "text" if isinstance(value, str) else f"a {type(value).__name__}"


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
    except (ValueError, RecursionError) as exc:  # a number too long to read, nesting too deep
        raise ImportFormatError(f"{label}: not YAML this can read: {exc}") from None


def load_json(text: str, label: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ImportFormatError(f"{label}: not valid JSON: {exc}") from None
    except RecursionError:
        raise ImportFormatError(f"{label}: not JSON this can read: nested too deep") from None


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
