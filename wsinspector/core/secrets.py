"""Where secrets are kept: a keeper maps a key to a secret value, outside the store.

A setting that holds a secret (a password, a token, a passphrase) is declared with ``field(..., metadata=SECRET)``
in its record; a variable is secret when its owner lists it in ``secret_variables``, a handshake header when the
handshake lists it in ``secret_headers`` (both default to :func:`wsinspector.core.redact.is_secret_name` when
the user adds a row). The app keeps secret values in the OS keyring through a keeper; the core only knows the
protocol below, and which values of a connection are secret (:func:`secret_values`).

Keeper keys: ``connection/<profile id>/<path>``, the path being a record field (``tls.passphrase``,
``proxy.password``, ``auth.password``), ``variables/<name>`` or ``headers/<name>`` (a header named twice:
``headers/<name>#2``); ``environment/<environment id>/<name>`` and ``globals/<name>`` for environments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, replace
from typing import Any, Protocol, TypeVar

#: dataclass field metadata of a setting whose value is a secret
SECRET = {"secret": True}

VARIABLES = "variables/"
HEADERS = "headers/"


class SecretError(ValueError):
    """A keeper that could not keep or give back a secret; the message is meant for the user."""


class SecretKeeper(Protocol):
    """Secret values by key. ``persistent``: whether they outlive the process; ``where`` says, for the user,
    where they are kept ("the Secret Service keyring", "memory, while wsinspector runs")."""

    persistent: bool
    where: str

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryKeeper:
    """Secrets for the running process only: where no keyring is available, and in tests."""

    persistent = False
    where = "memory, only while wsinspector runs"

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        self._values[key] = value

    def delete(self, key: str) -> None:
        self._values.pop(key, None)


def connection_key(profile_id: str, path: str) -> str:
    """The keeper key of a connection's secret setting: ``connection/<profile id>/<path>``."""
    return f"connection/{profile_id}/{path}"


class _Owner(Protocol):
    """What :func:`secret_values` reads: a connection profile (its records, variables and handshake)."""

    @property
    def variables(self) -> tuple[tuple[str, str], ...]: ...

    @property
    def secret_variables(self) -> tuple[str, ...]: ...

    def records(self) -> Iterator[tuple[str, Any]]: ...


_P = TypeVar("_P", bound=_Owner)


def secret_fields(record: Any) -> Iterator[str]:
    """The names of a record's fields declared with ``metadata=SECRET``."""
    for item in fields(record):
        if item.metadata.get("secret"):
            yield item.name


def _header_paths(headers: Iterable[tuple[str, str]], secret: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(index in ``headers``, path) of each secret header, its name compared case-insensitively."""
    secret_names = {name.lower() for name in secret}
    seen: dict[str, int] = {}
    for index, (name, _value) in enumerate(headers):
        if name.lower() in secret_names:
            count = seen[name.lower()] = seen.get(name.lower(), 0) + 1
            yield index, f"{HEADERS}{name}" + (f"#{count}" if count > 1 else "")


#: a ``{{variable}}`` and the words an Authorization value starts with: what a template of secrets is made of
_TEMPLATE_PARTS = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_.-]*\s*\}\}|\b(?:Bearer|Basic|Token|Digest|ApiKey)\b|\s+")


def is_template(value: str) -> bool:
    """Whether a value only names variables (``{{token}}``, ``Bearer {{token}}``): it holds no secret itself,
    the variables do, so it is kept with the connection like any other setting."""
    return "{{" in value and not _TEMPLATE_PARTS.sub("", value)


def secret_values(profile: _Owner) -> dict[str, str]:
    """Every secret setting of a connection by its path (``tls.passphrase``, ``variables/token``,
    ``headers/Authorization``), empty ones included; a value that only names variables is no secret."""
    values: dict[str, str] = {}
    for record_name, record in profile.records():
        for name in secret_fields(record):
            values[f"{record_name}.{name}"] = str(getattr(record, name))
        if record_name == "handshake":
            for index, path in _header_paths(record.headers, record.secret_headers):
                values[path] = record.headers[index][1]
    secret = set(profile.secret_variables)
    for name, value in profile.variables:
        if name in secret:
            values[f"{VARIABLES}{name}"] = value
    return {path: value for path, value in values.items() if not is_template(value)}


def with_secret_values(profile: _P, values: Mapping[str, str]) -> _P:
    """The profile with each secret setting set from ``values`` by path; a path ``values`` lacks becomes empty.
    ``with_secret_values(p, {})`` is the profile without its secrets."""
    changes: dict[str, Any] = {}
    for record_name, record in profile.records():
        record_changes: dict[str, Any] = {name: _secret_or_template(values, f"{record_name}.{name}",
                                                                    str(getattr(record, name)))
                                          for name in secret_fields(record)}
        if record_name == "handshake":
            headers = list(record.headers)
            for index, path in _header_paths(record.headers, record.secret_headers):
                headers[index] = (headers[index][0], _secret_or_template(values, path, headers[index][1]))
            record_changes["headers"] = tuple(headers)
        if record_changes:
            changes[record_name] = replace(record, **record_changes)
    secret = set(profile.secret_variables)
    changes["variables"] = tuple(
        (name, _secret_or_template(values, f"{VARIABLES}{name}", value) if name in secret else value)
        for name, value in profile.variables)
    return replace(profile, **changes)  # type: ignore[type-var]


def _secret_or_template(values: Mapping[str, str], path: str, current: str) -> str:
    """The value a secret setting gets: from ``values``; a template of variables stays as it is."""
    if path in values:
        return values[path]
    return current if is_template(current) else ""


#: the prefix of the environment variables a secret can be given in (where no keyring is, in CI)
ENVIRONMENT_PREFIX = "WSINSPECTOR_SECRET_"


def environment_name(key: str) -> str:
    """The environment variable that can give a secret: ``WSINSPECTOR_SECRET_`` and, upper-cased with every
    other character than a letter or digit as ``_``, the variable's name (``connection/ab12/variables/token``,
    ``environment/cd34/token``, ``globals/token``: ``WSINSPECTOR_SECRET_TOKEN``), ``HEADER_`` and the header's
    name (``WSINSPECTOR_SECRET_HEADER_AUTHORIZATION``), or the setting (``WSINSPECTOR_SECRET_TLS_PASSPHRASE``,
    ``WSINSPECTOR_SECRET_PROXY_PASSWORD``). The same name serves every connection that has that secret."""
    owner, _, rest = key.partition("/")
    if owner in ("connection", "environment"):
        rest = rest.partition("/")[2]
    if rest.startswith(VARIABLES):
        rest = rest[len(VARIABLES):]
    elif rest.startswith(HEADERS):
        rest = "header_" + rest[len(HEADERS):].partition("#")[0]
    return ENVIRONMENT_PREFIX + "".join(c if c.isascii() and c.isalnum() else "_" for c in rest).upper()


def secret_label(path: str) -> str:
    """A secret's path as the user reads it: ``variables/token`` the variable token, ``headers/Authorization``
    the header Authorization, ``auth.login_body`` the auth login body."""
    if path.startswith(VARIABLES):
        return f"the variable {path[len(VARIABLES):]}"
    if path.startswith(HEADERS):
        return f"the header {path[len(HEADERS):].partition('#')[0]}"
    return "the " + path.replace(".", " ").replace("_", " ")


def masked(text: str, values: Iterable[str], mask: str = "REDACTED") -> str:
    """``text`` with every occurrence of each secret value replaced by ``mask``, the longest first."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, mask)
    return text
