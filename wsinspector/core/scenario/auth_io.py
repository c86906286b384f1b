"""The ``auth:`` section of a test file: the connection's auth settings, as a saved connection's Auth tab has
them. A test file is shared and committed, so a secret is never written in it: the password, the token, the
API key, the client secret, cookie values, secret headers and secret JSON fields of the pre-connect request
must be ``{{variables}}``, given with ``--var`` or the environment when the test runs.

```yaml
auth:
  kind: bearer            # none, basic, bearer, api_key, oauth2_client_credentials
  token: '{{token}}'
  cookies:
    session: '{{session}}'
  login:                  # the request made before connecting
    method: POST
    url: https://example.com/api/login
    headers:
      Accept: application/json
    body: '{"user": "ann", "password": "{{password}}"}'
    capture:
      token: data.token
```
"""

from __future__ import annotations

import json
from typing import Any

from yaml.nodes import Node, ScalarNode

from ..auth import AuthError, cookie_header, json_path, parse_cookie_header
from ..profiles import API_KEY_HEADER, API_KEY_PLACES, AUTH_KINDS, AUTH_NONE, Auth
from ..redact import is_secret_field, is_secret_header
from .variables import variables_in
from .yaml_io import ScenarioFileError, _error, _Mapping, _one_of, _pairs, _string, _variable_name

#: the record's fields a test file writes under ``auth``, apart from ``cookies`` and ``login``
_PLAIN = ("kind", "username", "password", "token", "api_key_name", "api_key_value", "api_key_in", "token_url",
          "client_id", "client_secret", "scope")
_SECRETS = frozenset({"password", "token", "api_key_value", "client_secret"})
_LOGIN_KEYS = ("method", "url", "headers", "body", "capture")


def _no_literal(node: Node, where: str, value: str, name: str) -> None:
    """A secret is a variable in a test file, never the value itself."""
    if value and not variables_in(value):
        raise _error(node, where, f"a secret is not written in a test file: write '{{{{{name}}}}}' here and give "
                                  f"its value when the test runs (--var {name}=… or --var {name} with the "
                                  "environment variable set)")


def _body_secrets(node: Node, where: str, body: str) -> None:
    """A JSON body's fields named like a credential hold variables, not values."""
    try:
        document = json.loads(body)
    except ValueError:
        return

    def visit(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                visit(item, name)
        elif isinstance(value, list):
            for item in value:
                visit(item, key)
        elif isinstance(value, str) and key is not None and is_secret_field(key):
            _no_literal(node, f"{where} ({key})", value, key)

    visit(document, None)


def _login(node: Node, values: dict[str, Any]) -> None:
    login = _Mapping(node, "auth.login")
    login.check_keys(_LOGIN_KEYS)
    values["login_url"] = _string(login.require("url", "'url' is missing: where the request goes"),
                                  "auth.login.url")
    if "method" in login:
        values["login_method"] = _string(login.require("method"), "auth.login.method").upper()
    headers = _pairs(login.get("headers"), "auth.login.headers", names=False)
    for name, value in headers:
        if is_secret_header(name):
            _no_literal(login.require("headers"), f"auth.login.headers.{name}", value, name.lower().replace("-", "_"))
    values["login_headers"] = headers
    if "body" in login:
        body_node = login.require("body")
        body = _string(body_node, "auth.login.body")
        _body_secrets(body_node, "auth.login.body", body)
        values["login_body"] = body
    captures_node = login.get("capture")
    if captures_node is not None:
        captures = _Mapping(captures_node, "auth.login.capture", "a mapping of variable: path")
        pairs = []
        for key, path_node in captures.items.values():
            variable = _variable_name(key, captures.where)
            path = _string(path_node, captures.sub(variable))
            try:
                json_path(path)
            except AuthError as exc:
                raise _error(path_node, captures.sub(variable), str(exc)) from None
            pairs.append((variable, path))
        values["login_captures"] = tuple(pairs)


def _cookies(node: Node) -> str:
    """``name: value`` lines, or a Cookie header's text; values only as variables."""
    if isinstance(node, ScalarNode):
        try:
            cookies = parse_cookie_header(_string(node, "auth.cookies"))
        except AuthError as exc:
            raise _error(node, "auth.cookies", str(exc)) from None
    else:
        cookies = _pairs(node, "auth.cookies", names=False)
    for name, value in cookies:
        _no_literal(node, f"auth.cookies.{name}", value, name)
    return cookie_header(cookies)


def read_auth(node: Node | None) -> Auth:
    """The ``auth`` mapping; :class:`ScenarioFileError` names the key that is wrong, or holds a secret."""
    if node is None:
        return Auth()
    mapping = _Mapping(node, "auth")
    mapping.check_keys((*_PLAIN, "cookies", "login"))
    values: dict[str, Any] = {}
    for key in _PLAIN:
        if key in mapping:
            value_node = mapping.require(key)
            values[key] = _string(value_node, mapping.sub(key))
            if key in _SECRETS:
                _no_literal(value_node, mapping.sub(key), values[key], key)
    kind = values.get("kind", AUTH_NONE)
    if kind not in AUTH_KINDS:
        raise _error(mapping.require("kind"), "auth.kind", f"must be {_one_of(list(AUTH_KINDS))}, not {kind!r}")
    if values.get("api_key_in", API_KEY_HEADER) not in API_KEY_PLACES:
        raise _error(mapping.require("api_key_in"), "auth.api_key_in",
                     f"must be header or query, not {values['api_key_in']!r}")
    cookies_node = mapping.get("cookies")
    if cookies_node is not None:
        values["cookies"] = _cookies(cookies_node)
    login_node = mapping.get("login")
    if login_node is not None:
        _login(login_node, values)
    try:
        return Auth(**values)
    except TypeError as exc:  # pragma: no cover - every key is a field
        raise ScenarioFileError(str(exc)) from None


def dump_auth(auth: Auth) -> dict[str, Any]:
    """The settings that differ from the defaults, in the file's words (empty: no ``auth`` section)."""
    default = Auth()
    out: dict[str, Any] = {key: getattr(auth, key) for key in _PLAIN if getattr(auth, key) != getattr(default, key)}
    if auth.cookies:
        out["cookies"] = dict(parse_cookie_header(auth.cookies))
    if auth.login_url:
        login: dict[str, Any] = {"method": auth.login_method, "url": auth.login_url}
        if auth.login_headers:
            login["headers"] = dict(auth.login_headers)
        if auth.login_body:
            login["body"] = auth.login_body
        if auth.login_captures:
            login["capture"] = dict(auth.login_captures)
        out["login"] = login
    return out


def secret_variables(auth: Auth) -> list[str]:
    """The variables a test's auth uses where secrets go: their values are never shown in a run's output."""
    texts = [auth.password, auth.token, auth.api_key_value, auth.client_secret, auth.cookies, auth.login_body,
             *(value for name, value in auth.login_headers if is_secret_header(name))]
    return list(dict.fromkeys(name for text in texts for name in variables_in(text)))
