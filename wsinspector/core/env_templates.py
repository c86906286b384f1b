"""Settings written for another tool: the environment variable that gives a ``{{variable}}`` (``env_name``), and
a connection's auth as header templates (``auth_templates``), for the load test exports (core/loadtest) and Copy
as (core/copy_as.py). No value of a secret is ever read here: the templates keep its ``{{variable}}``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .profiles import API_KEY_QUERY, AUTH_API_KEY, AUTH_BASIC, AUTH_BEARER, AUTH_NONE, AUTH_OAUTH2, Auth

__all__ = ["auth_templates", "env_name"]

_NOT_ENV = re.compile(r"[^A-Za-z0-9_]+")


def env_name(variable: str) -> str:
    """The environment variable that gives a test variable's value: ``api.token`` is ``API_TOKEN``."""
    name = _NOT_ENV.sub("_", variable).strip("_").upper() or "VALUE"
    return name if not name[0].isdigit() else f"_{name}"


def auth_templates(url: str, headers: Sequence[tuple[str, str]], auth: Auth,
                   notes: list[str]) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, str] | None]:
    """The URL and headers with ``auth`` applied as templates (``Bearer {{token}}``), and Basic's user and
    password (a header only a program can encode); what cannot be applied so is added to ``notes``."""
    headers = list(headers)
    basic = None
    if auth.kind == AUTH_BEARER:
        headers.append(("Authorization", f"Bearer {auth.token}"))
    elif auth.kind == AUTH_BASIC:
        basic = (auth.username, auth.password)
    elif auth.kind == AUTH_API_KEY and auth.api_key_name:
        if auth.api_key_in == API_KEY_QUERY:
            url += ("&" if "?" in url else "?") + f"{auth.api_key_name}={auth.api_key_value}"
        else:
            headers.append((auth.api_key_name, auth.api_key_value))
    elif auth.kind == AUTH_OAUTH2:
        notes.append(f"auth: the OAuth 2.0 token request to {auth.token_url} is not made; give the token as "
                     "the Authorization header's value (a Bearer header through an environment variable)")
    elif auth.kind != AUTH_NONE:
        notes.append(f"auth: {auth.kind} is not expressed")
    if auth.cookies:
        headers.append(("Cookie", auth.cookies))
    if auth.login_url:
        notes.append(f"auth: the login request ({auth.login_method} {auth.login_url}) before connecting is not "
                     "made; give what it captures as environment variables")
    return url, tuple(headers), basic
