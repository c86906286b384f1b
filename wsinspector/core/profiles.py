"""Saved connection profiles as small records, their stored form, URL validation and ``{{variable}}`` expansion."""

from __future__ import annotations

import json
import random
import re
import typing
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from wsinspector.core.defaults import DEFAULT_HANDSHAKE_TIMEOUT_S
from wsinspector.core.literal_secrets import lift_secrets
from wsinspector.core.secrets import (
    SECRET,
    connection_key,
    environment_name,
    secret_values,
    with_secret_values,
)

MIB = 1024 * 1024

DEFAULT_MAX_MESSAGE_SIZE = 64 * MIB
DEFAULT_MAX_FRAME_SIZE = 64 * MIB

DEFAULT_HEARTBEAT_TIMEOUT_S = 10.0
HEARTBEAT_MARK = "mark"
HEARTBEAT_CLOSE = "close"
HEARTBEAT_RECONNECT = "reconnect"
HEARTBEAT_ACTIONS = {HEARTBEAT_MARK: "Mark as unhealthy", HEARTBEAT_CLOSE: "Close the connection",
                     HEARTBEAT_RECONNECT: "Reconnect"}

ENGINE_QT = "qt"
ENGINE_WIRE = "wire"
ENGINES = {ENGINE_WIRE: "Wire (every frame, permessage-deflate, fault injection)",
           ENGINE_QT: "Qt (QtWebSockets)"}
DEFAULT_CLOSE_TIMEOUT_S = 5.0

#: The version of the stored form of a profile (:func:`profile_to_dict`); 1 was a flat object without a version.
PROFILE_VERSION = 2

#: The kinds of a saved message: how its payload is written (the composer's modes)
MESSAGE_KINDS = ("text", "json", "hex", "base64")

#: Marks the profile the app keeps pointed at its own built-in echo server.
BUILTIN_LOCAL_ECHO = "local-echo"

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_HOST_PORT = re.compile(r"^[^/:]+:\d+(/|$)")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: a character an HTTP header's value cannot carry (RFC 9110 field-value: tab, visible ASCII, space, obs-text)
_NOT_IN_HEADER = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


def header_value_problem(value: str) -> str:
    """What keeps ``value`` out of an HTTP header ("" when nothing does): a line break, a control character,
    a character beyond Latin-1. Said without the value, which may be a credential."""
    bad = _NOT_IN_HEADER.search(value)
    if bad is None:
        return ""
    char = bad.group()
    if char in "\r\n":
        return "a line break in its value"
    if ord(char) < 0x20 or char == "\x7f":
        return f"a control character (U+{ord(char):04X}) in its value, which HTTP headers cannot carry"
    return f"the character “{char}” (U+{ord(char):04X}) in its value, which HTTP headers cannot carry"
#: Headers the WebSocket handshake itself owns; a user value would break or silently lose to it.
RESERVED_HEADERS = frozenset(
    {"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"}
)


class ProfileError(ValueError):
    """A profile value that cannot be used to connect; the message is meant for the user."""


class UnknownVariableError(ProfileError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(f"{{{{{n}}}}}" for n in names)
        super().__init__(f"Unknown variable{'s' if len(names) > 1 else ''}: {listed}")


class UnresolvedVariablesError(UnknownVariableError):
    """Variables a connection uses that nothing defines; ``uses`` is ``(name, where)`` in settings order."""

    def __init__(self, uses: list[tuple[str, str]]) -> None:
        self.uses = uses
        names = list(dict.fromkeys(name for name, _ in uses))
        super().__init__(names)
        parts = []
        for name in names:
            places = list(dict.fromkeys(where for used, where in uses if used == name))
            parts.append(f"{{{{{name}}}}} in {' and '.join(places) if len(places) < 3 else ', '.join(places)}")
        self.args = (f"Unknown variable{'s' if len(names) > 1 else ''}: {'; '.join(parts)}",)


#: how a setting is named in a message, where a better name than "record field" exists
_SETTING_NAMES = {("endpoint", "url"): "the URL", ("endpoint", "connect_to"): "Connect to",
                  ("handshake", "origin"): "the origin", ("handshake", "subprotocols"): "subprotocol",
                  ("tls", "ca_file"): "the CA file",
                  ("tls", "client_cert"): "the client certificate", ("tls", "client_key"): "the client key",
                  ("proxy", "host"): "the proxy host", ("proxy", "username"): "the proxy user name"}


def _setting_texts(settings: Settings) -> Iterator[tuple[str, str]]:
    """(where, text) of every text setting of a connection, where ``{{variables}}`` may be used."""
    for record_name, record in settings.records():
        for name in record.fields_in_use():
            value = getattr(record, name)
            label = _SETTING_NAMES.get((record_name, name), f"{record_name} {name.replace('_', ' ')}")
            if isinstance(value, str):
                yield label, value
            elif isinstance(value, tuple):
                for index, item in enumerate(value):
                    if isinstance(item, tuple) and len(item) == 2 and record_name == "handshake":
                        yield f"header {item[0] or index + 1}", f"{item[0]}\n{item[1]}"
                    elif isinstance(item, tuple):
                        yield f"{label} {index + 1}", "\n".join(str(part) for part in item)
                    elif isinstance(item, str):
                        yield f"{label} {index + 1}" if len(value) > 1 else label, item


def unresolved_uses(settings: Settings, variables: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(name, where)`` of every ``{{variable}}`` a connection's settings use that ``variables`` lacks:
    ``("token", "header Authorization")``, ``("host", "the URL")``."""
    return [(m.group(1), where) for where, text in _setting_texts(settings)
            for m in _VARIABLE.finditer(text) if m.group(1) not in variables]


class Record:
    """A group of connection settings: a frozen dataclass whose fields are the settings, each with its default.

    Everything that lists settings (the JSON form, the dialog, resolution) reads them from the records' fields.
    """

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def resolved(self, variables: Mapping[str, str]) -> Self:
        """The record with ``{{variables}}`` expanded, validated; :class:`ProfileError` says what is wrong."""
        return self

    def fields_in_use(self) -> tuple[str, ...]:
        """The names of the fields a connect reads (the others are kept for the user, never expanded)."""
        return tuple(f.name for f in fields(self))


@dataclass(frozen=True, slots=True)
class Endpoint(Record):
    """Where to connect."""

    url: str = ""
    #: "host:port" to reach instead of the URL's, which still names the server (SNI, Host, certificate checks)
    connect_to: str = ""

    def resolved(self, variables: Mapping[str, str]) -> Self:
        connect_to = expand(self.connect_to, variables).strip()
        if connect_to:
            host, _, port = connect_to.rpartition(":")
            if not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
                raise ProfileError(f"Connect to {connect_to!r}: give host:port, e.g. 10.0.0.5:443 or [::1]:8443")
        return replace(self, url=validate_url(expand(self.url, variables)), connect_to=connect_to)


@dataclass(frozen=True, slots=True)
class Handshake(Record):
    """What the opening HTTP request carries, and how long the server has to answer it."""

    headers: tuple[tuple[str, str], ...] = ()
    #: offered in order of preference
    subprotocols: tuple[str, ...] = ()
    origin: str = ""
    timeout_s: float = DEFAULT_HANDSHAKE_TIMEOUT_S
    #: the headers whose values are secrets (kept in the keyring, never stored with the connection)
    secret_headers: tuple[str, ...] = ()

    def resolved(self, variables: Mapping[str, str]) -> Self:
        headers: list[tuple[str, str]] = []
        for name, value in self.headers:
            name = expand(name, variables).strip()
            if not name:
                continue
            if not _HEADER_NAME.match(name):
                raise ProfileError(f"Header name {name!r} is not a valid HTTP token")
            if name.lower() in RESERVED_HEADERS:
                raise ProfileError(f"Header {name!r} is set by the WebSocket handshake itself")
            value = expand(value, variables)
            if problem := header_value_problem(value):
                raise ProfileError(f"Header {name!r} has {problem}")
            headers.append((name, value))
        subprotocols = tuple(expand(p, variables).strip() for p in self.subprotocols if p.strip())
        for proto in subprotocols:
            if not _HEADER_NAME.match(proto):
                raise ProfileError(f"Subprotocol {proto!r} is not a valid token")
        origin = expand(self.origin, variables).strip()
        if self.timeout_s <= 0:
            raise ProfileError("Handshake timeout must be positive")
        return replace(self, headers=tuple(headers), subprotocols=subprotocols, origin=origin)


@dataclass(frozen=True, slots=True)
class Limits(Record):
    """The largest incoming message and frame accepted, in bytes."""

    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE

    def resolved(self, variables: Mapping[str, str]) -> Self:
        if self.max_message_size <= 0 or self.max_frame_size <= 0:
            raise ProfileError("Size limits must be positive")
        return self


@dataclass(frozen=True, slots=True)
class Protocol(Record):
    """The engine that speaks the protocol, and how it behaves once connected."""

    #: ENGINE_WIRE or ENGINE_QT
    engine: str = ENGINE_WIRE
    #: answer incoming pings by ourselves (Wire engine; off only to test a server's heartbeat handling)
    auto_pong: bool = True
    #: after our close frame, how long to wait for the server to close before dropping the connection
    close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S

    def resolved(self, variables: Mapping[str, str]) -> Self:
        if self.engine not in ENGINES:
            raise ProfileError(f"Unknown engine {self.engine!r}: use {' or '.join(map(repr, ENGINES))}")
        if self.close_timeout_s <= 0:
            raise ProfileError("Close timeout must be positive")
        return self


#: protocol options that are secrets: never written in a connection, always a (secret) variable
SECRET_MODE_OPTIONS = frozenset({"password", "passcode"})


@dataclass(frozen=True, slots=True)
class Decoding(Record):
    """How the connection's messages are read (core/decoders): a decoder by name ("" or "auto" chooses by the
    negotiated subprotocol, the URL and the first frames) and the decoder's own options (a protobuf schema)."""

    decoder: str = ""
    options: tuple[tuple[str, str], ...] = ()
    #: the protocol the connection speaks (core/protocols): "" none, "auto" its decoder's, or a protocol's name
    mode: str = ""
    #: the protocol session's options (``namespace``, ``keep_alive``, ``heart_beat``…); a password is a variable
    mode_options: tuple[tuple[str, str], ...] = ()

    def resolved(self, variables: Mapping[str, str]) -> Self:
        """The options with ``{{variables}}`` expanded (a schema's path may use one)."""
        from wsinspector.core.protocols.registry import MODES  # noqa: PLC0415  (the sessions: when one connects)

        if self.mode not in MODES:
            raise ProfileError(f"Unknown protocol mode {self.mode!r}: use auto or one of {', '.join(MODES[2:])}")
        for name, value in self.mode_options:
            if name in SECRET_MODE_OPTIONS and value and "{{" not in value:
                raise ProfileError(f"Protocol option {name}: give it as a secret variable, e.g. {{{{{name}}}}}")
        return replace(self, options=tuple((name, expand(value, variables)) for name, value in self.options),
                       mode_options=tuple((name, expand(value, variables)) for name, value in self.mode_options))


@dataclass(frozen=True, slots=True)
class Compression(Record):
    """The permessage-deflate offer (Wire engine)."""

    deflate: bool = True
    #: 0 = no value in the offer (server_max_window_bits: the server's default; client_max_window_bits: any)
    server_max_window_bits: int = 0
    client_max_window_bits: int = 0
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False

    def resolved(self, variables: Mapping[str, str]) -> Self:
        for label, bits in (("Server", self.server_max_window_bits), ("Client", self.client_max_window_bits)):
            if bits != 0 and not 8 <= bits <= 15:
                raise ProfileError(f"{label} max window bits must be between 8 and 15 (or 0 for no value)")
        return self


@dataclass(frozen=True, slots=True)
class Health(Record):
    """What the app runs around a connection: heartbeat pings, reconnecting, and recording its sessions."""

    #: seconds between heartbeat pings; 0 = no heartbeat
    heartbeat_interval_s: float = 0.0
    #: a ping unanswered for this long is a timeout
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S
    #: on a timeout: HEARTBEAT_MARK, HEARTBEAT_CLOSE or HEARTBEAT_RECONNECT
    heartbeat_action: str = HEARTBEAT_MARK
    #: reconnect by itself when the connection drops or fails (never after the user disconnects)
    reconnect: bool = False
    #: attempts in a row before giving up; 0 = no limit
    reconnect_max_attempts: int = 10
    reconnect_base_s: float = 0.5
    reconnect_max_s: float = 30.0
    #: record each session in the store; off: a live view only, which keeps its newest frames
    record: bool = True

    def resolved(self, variables: Mapping[str, str]) -> Self:
        if self.heartbeat_interval_s < 0 or (self.heartbeat_interval_s > 0 and self.heartbeat_timeout_s <= 0):
            raise ProfileError("Heartbeat interval must be 0 (off) or positive, with a positive timeout")
        if self.reconnect and (self.reconnect_base_s <= 0 or self.reconnect_max_s < self.reconnect_base_s
                               or self.reconnect_max_attempts < 0):
            raise ProfileError("Reconnect delays must be positive (the longest at least the first)")
        if self.heartbeat_action not in HEARTBEAT_ACTIONS:
            raise ProfileError(f"Unknown heartbeat action {self.heartbeat_action!r}")
        return self


TLS_VERSIONS = {"": "The library's default", "1.2": "TLS 1.2", "1.3": "TLS 1.3"}
_FINGERPRINT = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){31}$")


def normal_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as upper-case hex pairs joined by ':' (pasted with or without colons, any case);
    ProfileError when it is not one."""
    digits = re.sub(r"[\s:]", "", text).upper()
    fingerprint = ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))
    if not _FINGERPRINT.match(fingerprint):
        raise ProfileError(f"{text!r} is not a SHA-256 fingerprint (64 hex digits)")
    return fingerprint


@dataclass(frozen=True, slots=True)
class Tls(Record):
    """TLS options for wss://: what to trust beyond the system's certificate store, and who we are."""

    #: check the server's certificate (off: any certificate is accepted, and the connection says so)
    verify: bool = True
    #: a PEM file or a folder of PEM files whose certificates are trusted as well as the system's
    ca_file: str = ""
    #: our certificate: a PEM file (the key may be in it too) or a PKCS#12 file (.p12, .pfx)
    client_cert: str = ""
    #: the PEM private key of ``client_cert`` when it is not in that file
    client_key: str = ""
    #: "" (the library's default), "1.2" or "1.3": the oldest version accepted
    min_version: str = ""
    #: SHA-256 fingerprints of server certificates trusted for this connection even when verification fails
    pinned: tuple[str, ...] = ()
    #: the passphrase of an encrypted client key (PEM) or PKCS#12 file
    passphrase: str = field(default="", metadata=SECRET, repr=False)

    def resolved(self, variables: Mapping[str, str]) -> Self:
        if self.min_version not in TLS_VERSIONS:
            raise ProfileError(f"Unknown TLS version {self.min_version!r}: use 1.2 or 1.3")
        ca_file, client_cert, client_key = (expand(path, variables).strip()
                                            for path in (self.ca_file, self.client_cert, self.client_key))
        if client_key and not client_cert:
            raise ProfileError("A client key needs its client certificate")
        pinned = tuple(dict.fromkeys(normal_fingerprint(p) for p in self.pinned))
        return replace(self, ca_file=ca_file, client_cert=client_cert, client_key=client_key, pinned=pinned)


PROXY_SYSTEM = "system"
PROXY_NONE = "none"
PROXY_HTTP = "http"
PROXY_SOCKS5 = "socks5"
PROXY_MODES = {PROXY_SYSTEM: "The system's (HTTPS_PROXY, NO_PROXY, …)", PROXY_NONE: "None: connect directly",
               PROXY_HTTP: "HTTP proxy (CONNECT)", PROXY_SOCKS5: "SOCKS5 proxy (names resolved by the proxy)"}


@dataclass(frozen=True, slots=True)
class Proxy(Record):
    """How to reach the server: through the system's proxy settings, directly, or through a given proxy."""

    #: PROXY_SYSTEM, PROXY_NONE, PROXY_HTTP or PROXY_SOCKS5
    mode: str = PROXY_SYSTEM
    host: str = ""
    port: int = 0
    #: for a proxy that asks who we are
    username: str = ""
    password: str = field(default="", metadata=SECRET, repr=False)

    def resolved(self, variables: Mapping[str, str]) -> Self:
        if self.mode not in PROXY_MODES:
            raise ProfileError(f"Unknown proxy setting {self.mode!r}: use {', '.join(PROXY_MODES)}")
        host = expand(self.host, variables).strip()
        if self.mode in (PROXY_HTTP, PROXY_SOCKS5) and (not host or not 0 < self.port < 65536):
            raise ProfileError("A proxy needs its host and a port from 1 to 65535")
        return replace(self, host=host, username=expand(self.username, variables).strip())


AUTH_NONE = "none"
AUTH_BASIC = "basic"
AUTH_BEARER = "bearer"
AUTH_API_KEY = "api_key"
AUTH_OAUTH2 = "oauth2_client_credentials"
AUTH_KINDS = {AUTH_NONE: "None", AUTH_BASIC: "Basic (user name and password)", AUTH_BEARER: "Bearer token",
              AUTH_API_KEY: "API key", AUTH_OAUTH2: "OAuth 2.0 client credentials"}
API_KEY_HEADER = "header"
API_KEY_QUERY = "query"
API_KEY_PLACES = {API_KEY_HEADER: "Header", API_KEY_QUERY: "Query parameter"}


@dataclass(frozen=True, slots=True)
class Auth(Record):
    """Credentials the handshake carries: one kind (Basic, Bearer, an API key, an OAuth 2.0 token), cookies, and
    a request made before connecting (a login) whose JSON answer fills variables. ``core/auth.py`` applies it."""

    #: AUTH_NONE, AUTH_BASIC, AUTH_BEARER, AUTH_API_KEY or AUTH_OAUTH2
    kind: str = AUTH_NONE
    username: str = ""
    password: str = field(default="", metadata=SECRET, repr=False)
    token: str = field(default="", metadata=SECRET, repr=False)
    api_key_name: str = ""
    api_key_value: str = field(default="", metadata=SECRET, repr=False)
    #: API_KEY_HEADER or API_KEY_QUERY
    api_key_in: str = API_KEY_HEADER
    #: OAuth 2.0 client credentials: where the token comes from, and who asks for it
    token_url: str = ""
    client_id: str = ""
    client_secret: str = field(default="", metadata=SECRET, repr=False)
    scope: str = ""
    #: cookies sent with the handshake, as a Cookie header's value: ``name=value; other=value``
    cookies: str = field(default="", metadata=SECRET, repr=False)
    #: the request made before connecting ("" URL: none), e.g. a REST login
    login_method: str = "POST"
    login_url: str = ""
    login_headers: tuple[tuple[str, str], ...] = ()
    login_body: str = field(default="", metadata=SECRET, repr=False)
    #: (variable, JSON path) pairs: values of its JSON answer (``data.token`` or ``$.data.token``) stored in
    #: variables for the handshake
    login_captures: tuple[tuple[str, str], ...] = ()

    def resolved(self, variables: Mapping[str, str]) -> Self:
        from wsinspector.core.auth import auth_changes  # noqa: PLC0415  (auth builds on this module)

        return replace(self, **auth_changes(self, variables))

    def fields_in_use(self) -> tuple[str, ...]:
        from wsinspector.core.auth import used_fields  # noqa: PLC0415  (auth builds on this module)

        return used_fields(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Every setting of a connection, as records. The record fields are the one list of settings."""

    endpoint: Endpoint = Endpoint()
    handshake: Handshake = Handshake()
    limits: Limits = Limits()
    protocol: Protocol = Protocol()
    compression: Compression = Compression()
    health: Health = Health()
    tls: Tls = Tls()
    proxy: Proxy = Proxy()
    auth: Auth = Auth()
    decoding: Decoding = Decoding()

    @property
    def url(self) -> str:
        return self.endpoint.url

    def records(self) -> Iterator[tuple[str, Record]]:
        """Each record with its name, in order."""
        for name in RECORD_TYPES:
            yield name, getattr(self, name)


#: The records of a connection by name, in order: derived from :class:`Settings`.
RECORD_TYPES: dict[str, type[Record]] = {
    f.name: typing.get_type_hints(Settings)[f.name] for f in fields(Settings)
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionProfile(Settings):
    """A saved connection: a name, its variables and its settings.

    ``unknown`` keeps what a newer wsinspector stored and this one does not know (top-level keys, and under a
    record's name the unknown keys inside that record), so that saving writes it back. A profile read from a
    newer format than :data:`PROFILE_VERSION` is read-only: it can be used, never saved over.
    """

    name: str
    variables: tuple[tuple[str, str], ...] = ()
    #: saved messages, each (name, kind, payload): kind one of MESSAGE_KINDS, the payload as the composer takes it
    messages: tuple[tuple[str, str, str], ...] = ()
    #: auto-reply rules, each (name, match, pattern, JSON path, reply kind, reply, enabled): see core/sending.py
    auto_replies: tuple[tuple[str, str, str, str, str, str, bool], ...] = ()
    #: the most auto-replies sent in any second (0: no limit); the others are counted, not sent
    auto_reply_limit: int = 10
    #: the variables whose values are secrets (kept in the keyring, never stored with the connection)
    secret_variables: tuple[str, ...] = ()
    #: the secret settings that had a value when the connection was saved (their paths, no values): one the
    #: keyring no longer gives back is named when connecting
    kept_secrets: tuple[str, ...] = ()
    builtin: str = ""
    #: the folder the connection is listed in: its path from the top, names joined by "/" ("" = the top level)
    folder: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    unknown: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)
    format_version: int = PROFILE_VERSION

    @property
    def read_only(self) -> bool:
        return self.format_version > PROFILE_VERSION

    def with_changes(self, **changes: object) -> ConnectionProfile:
        """Fields by name; a record is given whole, or as a mapping of the fields to change in it."""
        for name, value in changes.items():
            if name in RECORD_TYPES and isinstance(value, Mapping):
                changes[name] = replace(getattr(self, name), **value)
        return replace(self, **changes)  # type: ignore[arg-type]

    def duplicate(self, name: str) -> ConnectionProfile:
        return replace(self, name=name, builtin="", id=uuid.uuid4().hex)

    def missing_secrets(self) -> list[str]:
        """The secret settings saved with a value that this profile lacks (the keyring did not give them back)."""
        values = secret_values(self)
        return [path for path in self.kept_secrets if not values.get(path)]

    def resolved(self, variables: Mapping[str, str] | None = None) -> ResolvedTarget:
        """Expand variables and validate everything needed to open the connection. ``variables``: the values to
        expand (the layers merged by ``core.environments.merge_variables``, with what a request before connecting
        captured, say); by default the profile's own.
        A secret the keyring did not give back is named first; then every variable nothing defines at once,
        with where it is used."""
        missing_secrets = self.missing_secrets()
        if missing_secrets:
            raise MissingSecretsError(self, missing_secrets)
        variables = dict(self.variables) if variables is None else dict(variables)
        missing = unresolved_uses(self, variables)
        if missing:
            raise UnresolvedVariablesError(missing)
        records: dict[str, Any] = {name: record.resolved(variables) for name, record in self.records()}
        return ResolvedTarget(**records)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedTarget(Settings):
    """A profile's settings with variables expanded and values validated: what an engine connects to."""

    #: where its proxy setting came from, for messages ("": the connection's own settings)
    proxy_source: str = ""


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (1, 2, …): doubling from ``base_s`` up to
    ``max_s``, then a random part of it kept (between half and all) so that many clients do not retry in step."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    ceiling = min(max_s, base_s * float(1 << min(attempt - 1, 62)))
    fraction: float = (rng or random).random()
    return ceiling * (0.5 + 0.5 * fraction)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` with its value; every unknown name is reported at once."""
    missing = [m.group(1) for m in _VARIABLE.finditer(text) if m.group(1) not in variables]
    if missing:
        raise UnknownVariableError(list(dict.fromkeys(missing)))
    return _VARIABLE.sub(lambda m: variables[m.group(1)], text)


def validate_url(url: str) -> str:
    """Return the URL stripped of surrounding space, or raise ProfileError saying what is wrong."""
    url = url.strip()
    if not url:
        raise ProfileError("Enter a URL, for example ws://127.0.0.1:8765/")
    if any(c.isspace() for c in url):
        raise ProfileError("The URL contains spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ProfileError(f"The URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if not parts.netloc and _HOST_PORT.match(url):
        raise ProfileError(f"The URL needs a scheme: ws://{url} or wss://{url}")
    if scheme in ("http", "https"):
        suggestion = "ws" if scheme == "http" else "wss"
        raise ProfileError(f"WebSocket URLs start with ws:// or wss:// (did you mean {suggestion}://?)")
    if scheme not in ("ws", "wss"):
        if not parts.scheme:
            raise ProfileError("The URL needs a scheme: ws:// or wss://")
        raise ProfileError(f"Unsupported scheme {parts.scheme!r}: use ws:// or wss://")
    if not parts.hostname:
        raise ProfileError("The URL has no host")
    if port == 0:
        raise ProfileError("Port 0 is not a valid destination port")
    if parts.fragment:
        raise ProfileError("WebSocket URLs cannot have a #fragment")
    return url


# -- the stored form -----------------------------------------------------------------------------------
#
# {"version": 2, "name": ..., "variables": [[name, value], ...], "builtin": "",
#  "endpoint": {"url": ...}, "handshake": {...}, ..., "auth": {}}
#
# Every record is an object of its fields; keys this version does not know are kept as they are.


class MissingSecretsError(ProfileError):
    """Secret settings saved with a value that the keeper does not have (any more, or on this computer)."""

    def __init__(self, profile: ConnectionProfile, paths: list[str]) -> None:
        self.paths = paths
        names = ", ".join(paths)
        env = ", ".join(dict.fromkeys(environment_name(connection_key(profile.id, path)) for path in paths))
        super().__init__(
            f"“{profile.name}” has no value for its secret{'s' if len(paths) > 1 else ''} {names} (kept in a "
            f"keyring this wsinspector cannot read): enter {'them' if len(paths) > 1 else 'it'} in the "
            f"connection's settings, or set {env}")


class ProfileFormatError(ProfileError):
    """A stored profile that cannot be read or written; the message is meant for the user."""


class ReadOnlyProfileError(ProfileFormatError):
    """A profile read from a newer format than this version writes: saving it would lose what it cannot read."""

    def __init__(self, profile: ConnectionProfile) -> None:
        super().__init__(
            f"“{profile.name}” was saved by a newer wsinspector (profile format {profile.format_version}; this "
            f"version knows up to {PROFILE_VERSION}), so it is kept as it is and cannot be changed here")


#: The profile's own fields in the stored form (its name, variables, ...): derived, not listed.
_META_FIELDS = tuple(f.name for f in fields(ConnectionProfile)
                     if f.name not in RECORD_TYPES and f.name not in ("id", "unknown", "format_version"))
_HINTS: dict[str, dict[str, Any]] = {name: typing.get_type_hints(cls) for name, cls in RECORD_TYPES.items()}
_META_HINTS = {name: typing.get_type_hints(ConnectionProfile)[name] for name in _META_FIELDS}


def _plain(value: object) -> object:
    """A setting as JSON: tuples become lists."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: object, where: str) -> Any:
    """A JSON value as the setting's type, or ProfileFormatError naming the setting."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if isinstance(value, list):
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(_typed(args[0], v, where) for v in value)
            if len(value) == len(args):
                return tuple(_typed(a, v, where) for a, v in zip(args, value, strict=True))
    elif hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    elif hint in (bool, int, str) and type(value) is hint:
        return value
    raise ProfileFormatError(f"The saved setting {where} has a value of the wrong kind: {value!r}")


def profile_to_dict(profile: ConnectionProfile) -> dict[str, Any]:
    """The stored form of a profile (without its id), with every unknown key it was read with."""
    if profile.read_only:
        raise ReadOnlyProfileError(profile)
    # secret values never go into the stored form: only the names of those that had one; a secret written
    # literally in a URL or a login header is one too (its variable is left empty here: the keeper has it)
    profile = lift_secrets(profile)[0]
    kept = tuple(path for path, value in secret_values(profile).items() if value)
    profile = replace(with_secret_values(profile, {}), kept_secrets=kept)
    data: dict[str, Any] = {key: value for key, value in profile.unknown.items() if key not in RECORD_TYPES}
    data["version"] = PROFILE_VERSION
    for name in _META_FIELDS:
        data[name] = _plain(getattr(profile, name))
    for name, record in profile.records():
        unknown = profile.unknown.get(name)
        data[name] = {**(unknown if isinstance(unknown, dict) else {}),
                      **{f.name: _plain(getattr(record, f.name)) for f in fields(record)}}
    return data


def profile_from_dict(profile_id: str, data: Mapping[str, Any]) -> ConnectionProfile:
    """Read a stored profile of any version. An older form is brought up to date; a newer one is read as far
    as this version understands it and comes back read-only, its unknown keys kept."""
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProfileFormatError(f"A saved connection has an unknown format version {version!r}")
    while version < PROFILE_VERSION:
        data = _UPGRADES[version - 1](data)
        version += 1
    strict = version == PROFILE_VERSION
    settings: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for key, value in data.items():
        if key == "version":
            continue
        if key in RECORD_TYPES:
            if not isinstance(value, dict):
                if strict:
                    raise ProfileFormatError(f"The saved settings “{key}” are not an object: {value!r}")
                unknown[key] = value
                continue
            hints = _HINTS[key]
            known = {}
            for name, item in value.items():
                if name in hints:
                    try:
                        known[name] = _typed(hints[name], item, f"{key}.{name}")
                    except ProfileFormatError:
                        if strict:
                            raise
            settings[key] = RECORD_TYPES[key](**known)
            extra = {name: item for name, item in value.items() if name not in hints}
            if extra or not strict:
                unknown[key] = extra if strict else dict(value)
        elif key in _META_HINTS:
            try:
                settings[key] = _typed(_META_HINTS[key], value, key)
            except ProfileFormatError:
                if strict:
                    raise
                unknown[key] = value  # a newer version's form of it: kept, not read
        else:
            unknown[key] = value
    return ConnectionProfile(id=profile_id, unknown=unknown, format_version=version, **settings)


def profile_to_json(profile: ConnectionProfile) -> str:
    return json.dumps(profile_to_dict(profile), ensure_ascii=False)


def profile_from_json(profile_id: str, text: str) -> ConnectionProfile:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProfileFormatError(f"A saved connection is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileFormatError("A saved connection is not a JSON object")
    return profile_from_dict(profile_id, data)


#: Where each setting of the flat version-1 form went. Frozen: this is the old form, not the current list.
_V1_PLACES = {
    "url": "endpoint.url",
    "headers": "handshake.headers",
    "subprotocols": "handshake.subprotocols",
    "origin": "handshake.origin",
    "handshake_timeout_s": "handshake.timeout_s",
    "max_message_size": "limits.max_message_size",
    "max_frame_size": "limits.max_frame_size",
    "engine": "protocol.engine",
    "auto_pong": "protocol.auto_pong",
    "close_timeout_s": "protocol.close_timeout_s",
    "deflate": "compression.deflate",
    "deflate_server_max_window_bits": "compression.server_max_window_bits",
    "deflate_client_max_window_bits": "compression.client_max_window_bits",
    "deflate_server_no_context_takeover": "compression.server_no_context_takeover",
    "deflate_client_no_context_takeover": "compression.client_no_context_takeover",
    "heartbeat_interval_s": "health.heartbeat_interval_s",
    "heartbeat_timeout_s": "health.heartbeat_timeout_s",
    "heartbeat_action": "health.heartbeat_action",
    "reconnect": "health.reconnect",
    "reconnect_max_attempts": "health.reconnect_max_attempts",
    "reconnect_base_s": "health.reconnect_base_s",
    "reconnect_max_s": "health.reconnect_max_s",
}


def upgrade_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """The flat version-1 form as version 2: each setting moves into its record; other keys stay on top."""
    upgraded: dict[str, Any] = {"version": 2}
    for key, value in data.items():
        place = _V1_PLACES.get(key)
        if place is None:
            upgraded[key] = value
        else:
            record, name = place.split(".")
            upgraded.setdefault(record, {})[name] = value
    return upgraded


#: _UPGRADES[i] brings the stored form of a profile from version i + 1 to i + 2.
_UPGRADES = [upgrade_v1]
