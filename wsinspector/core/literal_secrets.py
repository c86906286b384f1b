"""Secrets written literally where only a ``{{variable}}`` should be, moved into secret variables.

A secret in a URL — a query parameter named like one (``?token=…``, ``?api_key=…``, ``?sid=…``) or a
password in its user info (``ws://user:pw@host``) — and the value of a login request's header named like one
(``Authorization: Basic …``) would otherwise be stored, searched and exported as they were typed or
imported. :func:`lift_secrets` moves each into a secret variable of the connection named after it, so that the
URL reads ``?token={{token}}`` and the header ``Basic {{login_authorization}}``: the value then lives where
every secret does (the keyring) and connecting gives the same request as before.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING

from wsinspector.core.redact import is_secret_header, is_secret_name, rewrite_url

if TYPE_CHECKING:
    from wsinspector.core.profiles import ConnectionProfile

__all__ = ["lift_secrets"]

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]+")
#: an Authorization value's scheme word, kept in the header when the rest moves into a variable
_SCHEME = re.compile(r"^\s*((?:Bearer|Basic|Token|Digest|ApiKey)\s+)(\S.*)$", re.IGNORECASE | re.DOTALL)


def _name(text: str) -> str:
    name = _NOT_NAME.sub("_", text.strip()).strip("_").lower() or "secret"
    return name if re.match(r"[a-z_]", name) else f"_{name}"


class _Lifter:
    def __init__(self, profile: ConnectionProfile) -> None:
        self.variables = dict(profile.variables)
        self.secret = list(profile.secret_variables)
        self.lifted: list[str] = []
        texts = json.dumps([dataclasses.asdict(record) for _, record in profile.records()])
        self.used = set(re.findall(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}", texts)) | set(self.variables)

    def reference(self, wanted: str, value: str) -> str:
        """``{{name}}`` of a secret variable holding ``value``: one that holds it already, or a new one."""
        base = _name(wanted)
        name, n = base, 1
        while name in self.used and not (self.variables.get(name) == value and name in self.secret):
            n += 1
            name = f"{base}_{n}"
        if name not in self.variables:
            self.variables[name] = value
            self.used.add(name)
        if name not in self.secret:
            self.secret.append(name)
        if name not in self.lifted:
            self.lifted.append(name)
        return "{{" + name + "}}"

    def url(self, url: str, prefix: str) -> str:
        def userinfo(info: str) -> str:
            user, colon, password = info.partition(":")
            if colon and password and "{{" not in password:
                return f"{user}:{self.reference(prefix + 'password', password)}"
            return info

        def parameter(name: str, value: str) -> str:
            if value and "{{" not in value and is_secret_name(name):
                return self.reference(prefix + name, value)
            return value

        return rewrite_url(url, userinfo, parameter) if url else url

    def header(self, name: str, value: str, prefix: str) -> str:
        if not value.strip() or "{{" in value or not is_secret_header(name):
            return value
        scheme = _SCHEME.match(value)
        if scheme is not None:
            return scheme.group(1) + self.reference(prefix + name, scheme.group(2))
        return self.reference(prefix + name, value)


def lift_secrets(profile: ConnectionProfile) -> tuple[ConnectionProfile, list[str]]:
    """``profile`` with the secrets of its URL, its login request (URL and headers) and its OAuth token URL in
    secret variables, and the names of the variables that now hold one (empty: nothing was moved)."""
    lifter = _Lifter(profile)
    url = lifter.url(profile.endpoint.url, "")
    auth = profile.auth
    login_url = lifter.url(auth.login_url, "login_")
    token_url = lifter.url(auth.token_url, "token_url_")
    login_headers = tuple((name, lifter.header(name, value, "login_")) for name, value in auth.login_headers)
    if not lifter.lifted:
        return profile, []
    changed = profile.with_changes(
        endpoint={"url": url},
        auth={"login_url": login_url, "token_url": token_url, "login_headers": login_headers},
        variables=tuple(lifter.variables.items()), secret_variables=tuple(lifter.secret))
    return changed, lifter.lifted
