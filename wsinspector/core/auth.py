"""Authentication of a connection, without I/O: the :class:`~wsinspector.core.profiles.Auth` record checked and
expanded, applied to a handshake (headers and URL), the HTTP requests it needs before connecting (a login, an
OAuth 2.0 token) and what their answers give, cookies pasted from a browser, and a token cache whose clock is
the caller's.

The order of a connect: the pre-connect request (its captures join the variables, highest precedence), then
the OAuth token (cached until it expires), then the profile resolved with those variables, then
:func:`apply_auth`. Both engines get the result as their target, so they send the same handshake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from wsinspector.core.events import printable_bytes
from wsinspector.core.jsonpath import WILDCARD, JsonPathError, parse_json_path, resolve_json_path
from wsinspector.core.profiles import (
    API_KEY_PLACES,
    API_KEY_QUERY,
    AUTH_API_KEY,
    AUTH_BASIC,
    AUTH_BEARER,
    AUTH_KINDS,
    AUTH_NONE,
    AUTH_OAUTH2,
    RESERVED_HEADERS,
    Auth,
    ConnectionProfile,
    ProfileError,
    ResolvedTarget,
    expand,
    header_value_problem,
)
from wsinspector.core.redact import REDACTED, redact_url

__all__ = [
    "LOGIN_LABEL", "TOKEN_LABEL", "AuthError", "HttpRequest", "HttpResponse", "Token", "TokenCache", "apply_auth",
    "auth_changes", "captured_names", "captures_from", "checked_target", "cookie_header", "json_path",
    "login_request", "needs_requests", "parse_cookie_header", "parse_token", "prepared_target", "redacted_url",
    "resolve_auth", "shown_url", "token_request", "used_fields",
]

LOGIN_LABEL = "Pre-connect request"
TOKEN_LABEL = "OAuth token request"
#: seconds before its expiry that a cached token is no longer used (at most half its lifetime)
TOKEN_MARGIN_S = 30.0
#: how much of an answer's body a message shows
BODY_SHOWN = 200

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class AuthError(ProfileError):
    """An auth setting that cannot be used, or a pre-connect answer that does not give what it should: for the
    user, naming the field or the request."""


# -- checking and expanding the record ---------------------------------------------------------------------


def _line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise AuthError(f"{what} has a line break in it")
    return value


def _http_url(url: str, what: str) -> str:
    url = url.strip()
    if not url:
        raise AuthError(f"{what}: enter a URL, for example https://example.com/login")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError as exc:
        raise AuthError(f"{what} {url!r} is malformed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise AuthError(f"{what} {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise AuthError(f"{what} {url!r} has no host")
    if any(c.isspace() for c in url):
        raise AuthError(f"{what} {url!r} contains spaces")
    return url


def _headers(pairs: tuple[tuple[str, str], ...], variables: Mapping[str, str],
             what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for name, value in pairs:
        name = expand(name, variables).strip()
        if not name:
            continue
        if not _TOKEN.match(name):
            raise AuthError(f"{what}: header name {name!r} is not a valid HTTP token")
        out.append((name, _line(expand(value, variables), f"{what}: header {name!r}")))
    return tuple(out)


def json_path(text: str) -> str:
    """A capture's path as the scenario's JSON paths write it: ``data.token`` and ``$.data.token`` alike give
    ``$.data.token``; :class:`AuthError` when it is not a path to one value."""
    text = text.strip()
    if text.startswith("$"):
        path = text
    else:
        path = f"${text}" if text.startswith("[") else f"$.{text}"
    try:
        parsed = parse_json_path(path)
    except JsonPathError as exc:
        raise AuthError(f"Capture path {text!r}: {exc}") from None
    if WILDCARD in parsed:
        raise AuthError(f"Capture path {text!r}: a capture needs one value, not a wildcard")
    return path


def _captures(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for name, path in pairs:
        name = name.strip()
        if not name and not path.strip():
            continue
        if not _VARIABLE_NAME.fullmatch(name):
            raise AuthError(f"Capture into {name!r}: not a variable name (letters, digits, _ . -; not starting "
                            "with a digit)")
        out.append((name, json_path(path)))
    return tuple(out)


def parse_cookie_header(text: str) -> tuple[tuple[str, str], ...]:
    """Cookies as a browser's ``Cookie:`` header has them (``Cookie: a=1; b=2``, the ``Cookie:`` optional, over
    one or more lines) as (name, value) pairs; :class:`AuthError` names the piece that is not a cookie."""
    text = text.strip()
    if text[:7].lower() == "cookie:":
        text = text[7:]
    pairs = []
    for piece in re.split(r"[;\r\n]+", text):
        piece = piece.strip()
        if not piece:
            continue
        name, equals, value = piece.partition("=")
        name = name.strip()
        if not equals or not _TOKEN.match(name):
            raise AuthError(f"Cookie {piece!r} is not name=value")
        pairs.append((name, value.strip()))
    return tuple(pairs)


def cookie_header(pairs: tuple[tuple[str, str], ...]) -> str:
    """Cookies as one ``Cookie`` header value."""
    return "; ".join(f"{name}={value}" for name, value in pairs)


def _check_cookie_values(pairs: tuple[tuple[str, str], ...]) -> None:
    for name, value in pairs:
        if any(c in value for c in ";\r\n") or any(ord(c) < 0x20 for c in value):
            raise AuthError(f"Cookie {name!r} has a character a cookie value cannot hold (; or a control)")


def _basic(auth: Auth, v: Mapping[str, str]) -> dict[str, str]:
    username = _line(expand(auth.username, v), "The Basic user name")
    if not username:
        raise AuthError("Basic auth needs a user name")
    if ":" in username:
        raise AuthError("A Basic auth user name cannot contain ':'")
    return {"username": username, "password": _line(expand(auth.password, v), "The Basic password")}


def _bearer(auth: Auth, v: Mapping[str, str]) -> dict[str, str]:
    token = _line(expand(auth.token, v), "The bearer token").strip()
    if not token:
        raise AuthError("Bearer auth needs a token")
    return {"token": token}


def _api_key(auth: Auth, v: Mapping[str, str]) -> dict[str, str]:
    name = expand(auth.api_key_name, v).strip()
    value = _line(expand(auth.api_key_value, v), "The API key")
    if auth.api_key_in not in API_KEY_PLACES:
        raise AuthError(f"API key in {auth.api_key_in!r}: use header or query")
    if not name:
        raise AuthError("The API key needs a name (the header or query parameter that carries it)")
    if auth.api_key_in != API_KEY_QUERY:
        if not _TOKEN.match(name):
            raise AuthError(f"API key header {name!r} is not a valid HTTP token")
        if name.lower() in RESERVED_HEADERS:
            raise AuthError(f"API key header {name!r} is set by the WebSocket handshake itself")
    if not value:
        raise AuthError(f"The API key {name!r} has no value")
    return {"api_key_name": name, "api_key_value": value}


def _oauth2(auth: Auth, v: Mapping[str, str]) -> dict[str, str]:
    client_id = _line(expand(auth.client_id, v), "The OAuth client id").strip()
    if not client_id:
        raise AuthError("OAuth 2.0 client credentials need a client id")
    return {"token_url": _http_url(expand(auth.token_url, v), "OAuth token URL"), "client_id": client_id,
            "client_secret": _line(expand(auth.client_secret, v), "The OAuth client secret"),
            "scope": _line(expand(auth.scope, v), "The OAuth scope").strip()}


def _none(auth: Auth, v: Mapping[str, str]) -> dict[str, str]:
    return {}


#: the fields of each kind, expanded and checked
_KIND_FIELDS: dict[str, Callable[[Auth, Mapping[str, str]], dict[str, str]]] = {
    AUTH_NONE: _none, AUTH_BASIC: _basic, AUTH_BEARER: _bearer, AUTH_API_KEY: _api_key, AUTH_OAUTH2: _oauth2}


def resolve_auth(auth: Auth, variables: Mapping[str, str]) -> Auth:
    """The record with the fields in use expanded and checked (those of other kinds are left as they are);
    :class:`AuthError` or ``UnknownVariableError`` says what is wrong."""
    return replace(auth, **auth_changes(auth, variables))


def auth_changes(auth: Auth, variables: Mapping[str, str]) -> dict[str, Any]:
    """The fields :func:`resolve_auth` changes, by name."""
    kind_fields = _KIND_FIELDS.get(auth.kind)
    if kind_fields is None:
        raise AuthError(f"Unknown auth kind {auth.kind!r}: use {', '.join(AUTH_KINDS)}")
    changes: dict[str, Any] = kind_fields(auth, variables)
    cookies = expand(auth.cookies, variables)
    pairs = parse_cookie_header(cookies)
    _check_cookie_values(pairs)
    changes["cookies"] = cookie_header(pairs)
    if auth.login_url.strip():
        method = expand(auth.login_method, variables).strip().upper() or "POST"
        if not _TOKEN.match(method):
            raise AuthError(f"Pre-connect request method {method!r} is not an HTTP method")
        changes.update(
            login_method=method,
            login_url=_http_url(expand(auth.login_url, variables), "Pre-connect request URL"),
            login_headers=_headers(auth.login_headers, variables, "Pre-connect request"),
            login_body=expand(auth.login_body, variables),
            login_captures=_captures(auth.login_captures),
        )
    return changes


def captured_names(auth: Auth) -> list[str]:
    """The variables the pre-connect request fills (none without one)."""
    if not auth.login_url.strip():
        return []
    return [name.strip() for name, _ in auth.login_captures if name.strip()]


def needs_requests(auth: Auth) -> bool:
    """Whether connecting needs HTTP requests first: a pre-connect request, an OAuth token."""
    return bool(auth.login_url.strip()) or auth.kind == AUTH_OAUTH2


# -- the requests made before connecting ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request made before connecting; ``label`` names it in messages."""

    label: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @property
    def title(self) -> str:
        """``Pre-connect request POST https://host/login`` (secrets in the URL redacted)."""
        return f"{self.label} {self.method} {redact_url(self.url)}"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")


def _content_type(body: str) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "application/x-www-form-urlencoded" if "=" in body and " " not in body.strip() \
            else "text/plain; charset=utf-8"
    return "application/json"


def login_request(auth: Auth) -> HttpRequest | None:
    """The pre-connect request of a resolved record (None: it has none). Without a Content-Type header, a body
    that is JSON is sent as JSON, ``a=1&b=2`` as a form, anything else as text."""
    if not auth.login_url:
        return None
    headers = list(auth.login_headers)
    if auth.login_body and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", _content_type(auth.login_body)))
    if not any(name.lower() == "accept" for name, _ in headers):
        headers.append(("Accept", "application/json"))
    return HttpRequest(LOGIN_LABEL, auth.login_method, auth.login_url, tuple(headers),
                       auth.login_body.encode("utf-8"))


def token_request(auth: Auth) -> HttpRequest | None:
    """The OAuth 2.0 client-credentials token request of a resolved record (RFC 6749 4.4): the client
    authenticates with HTTP Basic (its id and secret form-encoded first, 2.3.1); None for another kind."""
    if auth.kind != AUTH_OAUTH2:
        return None
    form = {"grant_type": "client_credentials", **({"scope": auth.scope} if auth.scope else {})}
    credentials = f"{quote(auth.client_id, safe='')}:{quote(auth.client_secret, safe='')}"
    headers = (("Authorization", f"Basic {base64.b64encode(credentials.encode()).decode('ascii')}"),
               ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"))
    return HttpRequest(TOKEN_LABEL, "POST", auth.token_url, headers, urlencode(form).encode("ascii"))


def _body_text(response: HttpResponse) -> str:
    if not response.body:
        return "an empty body"
    return f'"{printable_bytes(response.body, BODY_SHOWN)}"'


def _status(response: HttpResponse) -> str:
    return f"HTTP {response.status}" + (f" {response.reason}" if response.reason else "")


def _json_answer(request: HttpRequest, response: HttpResponse) -> Any:
    """The JSON of a 2xx answer; :class:`AuthError` naming the request and what came back otherwise."""
    if 300 <= response.status < 400 and response.header("Location"):
        raise AuthError(f"{request.title} answered {_status(response)}, a redirect to "
                        f"{redact_url(response.header('Location'))}: a request before connecting does not follow "
                        "redirects (give the URL it points to, if that is the right one)")
    if not 200 <= response.status < 300:
        raise AuthError(f"{request.title} answered {_status(response)}: {_body_text(response)}")
    try:
        return json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        kind = response.header("Content-Type") or "no Content-Type"
        raise AuthError(f"{request.title} answered {_status(response)} that is not JSON ({kind}): "
                        f"{_body_text(response)}") from None


def _json_kind(value: object) -> str:
    return "null" if value is None else "an object" if isinstance(value, dict) else "a list"


def captures_from(request: HttpRequest, response: HttpResponse,
                  captures: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The variables a pre-connect answer fills: each capture's path in its JSON, a string as it is, a number or
    a boolean as its JSON text (``7``, ``true``: one text each, as an environment file takes them; an id is often
    a number). :class:`AuthError` for a non-2xx answer, a body that is not JSON, a missing path, and a value
    that has no one text to stand for (an object, a list, ``null``: the path is most likely wrong)."""
    document = _json_answer(request, response)
    values: dict[str, str] = {}
    for name, path in captures:
        try:
            value = resolve_json_path(document, parse_json_path(json_path(path)))
        except LookupError as exc:
            raise AuthError(f"{request.title}: its JSON answer has no {json_path(path)} for {{{{{name}}}}} "
                            f"({exc})") from None
        if value is None or isinstance(value, dict | list):
            raise AuthError(f"{request.title}: {json_path(path)} is {_json_kind(value)}, not a string "
                            f"(for {{{{{name}}}}})")
        values[name] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return values


@dataclass(frozen=True, slots=True)
class Token:
    access_token: str
    #: seconds it is valid for, as the server said (None: it did not say)
    expires_in: float | None = None


def parse_token(request: HttpRequest, response: HttpResponse) -> Token:
    """The token of an OAuth answer (RFC 6749 5.1), or :class:`AuthError` with the server's error (5.2)."""
    if response.status in (400, 401):
        try:
            error = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            error = None
        if isinstance(error, dict) and isinstance(error.get("error"), str):
            said = error["error"] + (f": {error['error_description']}"
                                     if isinstance(error.get("error_description"), str) else "")
            raise AuthError(f"{request.title} answered {_status(response)}: {printable_bytes(said.encode(), 200)}")
    document = _json_answer(request, response)
    token = document.get("access_token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        raise AuthError(f"{request.title}: its JSON answer has no access_token")
    expires = document.get("expires_in")
    try:
        expires_in = float(expires) if expires is not None and not isinstance(expires, bool) else None
    except (TypeError, ValueError):
        expires_in = None
    return Token(token, expires_in if expires_in is not None and expires_in > 0 else None)


class TokenCache:
    """OAuth tokens by the settings that asked for them, until shortly before they expire. The caller passes
    the time in (seconds on a monotonic clock). A token whose lifetime the server did not give is not kept."""

    def __init__(self, margin_s: float = TOKEN_MARGIN_S) -> None:
        self.margin_s = margin_s
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}

    @staticmethod
    def key(auth: Auth) -> tuple[str, ...]:
        secret = hashlib.sha256(auth.client_secret.encode("utf-8")).hexdigest()
        return (auth.token_url, auth.client_id, auth.scope, secret)

    def get(self, auth: Auth, now: float) -> str | None:
        found = self._tokens.get(self.key(auth))
        if found is None:
            return None
        token, usable_until = found
        if now >= usable_until:
            del self._tokens[self.key(auth)]
            return None
        return token

    def put(self, auth: Auth, token: Token, now: float) -> None:
        if token.expires_in is None:
            self._tokens.pop(self.key(auth), None)
            return
        margin = min(self.margin_s, token.expires_in / 2)
        self._tokens[self.key(auth)] = (token.access_token, now + token.expires_in - margin)


# -- the handshake ----------------------------------------------------------------------------------------


def _put_header(headers: list[tuple[str, str]], name: str, value: str) -> None:
    """Set a header: any of the same name the user typed gives way to it."""
    headers[:] = [(key, old) for key, old in headers if key.lower() != name.lower()]
    headers.append((name, value))


def _with_query(url: str, name: str, value: str) -> str:
    head, hash_, fragment = url.partition("#")
    separator = "&" if "?" in head else "?"
    if head.endswith(("?", "&")):
        separator = ""
    return f"{head}{separator}{quote(name, safe='')}={quote(value, safe='')}{hash_}{fragment}"


def apply_auth(target: ResolvedTarget, access_token: str = "") -> ResolvedTarget:
    """The target with its resolved auth in the handshake: ``Authorization`` (Basic, Bearer, the OAuth token
    ``access_token``), the API key as a header or a query parameter (percent-encoded), the cookies merged into
    any ``Cookie`` header the user typed (a cookie of the same name gives way). A header the user typed with
    the name auth sets gives way to it."""
    auth = target.auth
    headers = list(target.handshake.headers)
    url = target.endpoint.url
    if auth.kind == AUTH_BASIC:
        credentials = f"{auth.username}:{auth.password}".encode()
        _put_header(headers, "Authorization", f"Basic {base64.b64encode(credentials).decode('ascii')}")
    elif auth.kind == AUTH_BEARER:
        _put_header(headers, "Authorization", f"Bearer {auth.token}")
    elif auth.kind == AUTH_OAUTH2:
        if not access_token:
            raise AuthError("OAuth 2.0: no access token yet (the token request has not been made)")
        _put_header(headers, "Authorization", f"Bearer {access_token}")
    elif auth.kind == AUTH_API_KEY:
        if auth.api_key_in == API_KEY_QUERY:
            url = _with_query(url, auth.api_key_name, auth.api_key_value)
        else:
            _put_header(headers, auth.api_key_name, auth.api_key_value)
    if auth.cookies:
        typed = [value for name, value in headers if name.lower() == "cookie"]
        merged = dict(parse_cookie_header("; ".join(typed))) if typed else {}
        merged.update(parse_cookie_header(auth.cookies))
        _put_header(headers, "Cookie", cookie_header(tuple(merged.items())))
    for name, value in headers:  # what a captured value or a token put there too
        if problem := header_value_problem(value):
            raise AuthError(f"Header {name!r} has {problem}: its value came from the connection's auth or "
                            "headers, or from a value captured before connecting")
    return replace(target, handshake=replace(target.handshake, headers=tuple(headers)),
                   endpoint=replace(target.endpoint, url=url))


#: what stands for a value a request before connecting will give, while the settings are checked beforehand
_STAND_IN = "1"


def checked_target(profile: ConnectionProfile, variables: Mapping[str, str] | None = None,
                   stand_in: str = _STAND_IN) -> ResolvedTarget:
    """The profile resolved with ``variables`` (by default its own) and its auth applied, the values the
    requests before connecting will give (the captures, the OAuth token) stood in for by ``stand_in``: a
    setting that cannot work is found before anything is sent. Without such requests this is the target to
    connect to."""
    base = dict(profile.variables) if variables is None else dict(variables)
    target = profile.resolved({**base, **{name: stand_in for name in captured_names(profile.auth)}})
    return apply_auth(target, stand_in if target.auth.kind == AUTH_OAUTH2 else "")


def shown_url(profile: ConnectionProfile, variables: Mapping[str, str] | None = None) -> str:
    """The URL a connect of the profile goes to, for what is recorded or printed before the requests before
    connecting have answered: secrets redacted (:func:`redacted_url`), and so is every value a pre-connect
    request captures (it is a credential as much as a typed token is). ``ProfileError`` as
    :func:`checked_target`."""
    try:
        return redacted_url(checked_target(profile, variables, REDACTED))
    except ProfileError:  # a captured value where only a number goes (a port): the URL as it is checked
        return redacted_url(checked_target(profile, variables))


def prepared_target(profile: ConnectionProfile, captured: Mapping[str, str], access_token: str,
                    variables: Mapping[str, str] | None = None) -> ResolvedTarget:
    """The target to connect to once the requests before connecting have answered: the captured values join
    ``variables`` (by default the profile's own) over them, the token goes in the handshake."""
    base = dict(profile.variables) if variables is None else dict(variables)
    return apply_auth(profile.resolved({**base, **captured}), access_token)


def used_fields(auth: Auth) -> tuple[str, ...]:
    """The fields of the record that take part in a connect: those of its kind, the cookies, and the request
    before connecting when it has a URL. (Those of another kind are kept for the user, never expanded.)"""
    kind = {AUTH_BASIC: ("username", "password"), AUTH_BEARER: ("token",),
            AUTH_API_KEY: ("api_key_name", "api_key_value", "api_key_in"),
            AUTH_OAUTH2: ("token_url", "client_id", "client_secret", "scope")}.get(auth.kind, ())
    login = ("login_method", "login_url", "login_headers", "login_body", "login_captures") if auth.login_url else ()
    return ("kind", *kind, "cookies", *login)


def redacted_url(target: ResolvedTarget) -> str:
    """The target's URL for what is recorded or printed: secrets redacted, an API key sent in the query
    included whatever its name."""
    auth = target.auth
    url = target.url
    if auth.kind == AUTH_API_KEY and auth.api_key_in == API_KEY_QUERY:
        name = quote(auth.api_key_name, safe="")
        url = url.replace(f"{name}={quote(auth.api_key_value, safe='')}", f"{name}={REDACTED}")
    return redact_url(url)
