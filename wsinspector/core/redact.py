"""What counts as a secret, and how to keep it out of what we write: URLs in session exports, test files.

Secrets are recognised by name (a query parameter, header, variable or JSON key called like a token, key,
password, signature or session) and, once known, by value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import unquote_plus

__all__ = ["REDACTED", "is_secret_field", "is_secret_header", "is_secret_name", "redact_subprotocols", "redact_url",
           "rewrite_url", "url_secrets", "without_secret_lines"]

#: query parameter names whose values are secrets, compared lower-case with separators removed
_SECRET_NAMES = frozenset({
    "token", "accesstoken", "apikey", "key", "secret", "password", "passwd", "pwd", "auth", "authorization",
    "signature", "sig", "jwt", "session", "sessionid", "sessid", "jsessionid", "phpsessid", "credential",
    "credentials", "pass", "passphrase", "bearer", "ticket", "otp", "hmac", "sid",
})
#: words that make a longer name secret too: refresh_token, client_secret, x-api-key, X-Amz-Signature, authToken
_SECRET_WORDS = frozenset({
    "token", "key", "apikey", "secret", "password", "passwd", "auth", "authorization", "signature", "sig",
    "jwt", "session", "credential", "credentials", "pass", "passphrase", "bearer", "ticket", "otp", "hmac", "sid",
})
#: words of a name: snake_case, kebab-case, dotted and camelCase parts
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
REDACTED = "REDACTED"


def is_secret_name(name: str) -> bool:
    """Whether a query parameter, header or variable of this name holds a secret: ``token``, ``api_key``,
    ``X-Auth-Token``, ``refreshToken``, ``client_secret``, ``sessionid``..."""
    words = [word.lower() for word in _WORDS.findall(unquote_plus(name))]
    return "".join(words) in _SECRET_NAMES or any(word in _SECRET_WORDS for word in words)


def rewrite_url(url: str, userinfo: Callable[[str], str], parameter: Callable[[str, str], str]) -> str:
    """The URL with its user info (``user`` or ``user:password``, when there is one) replaced by
    ``userinfo(it)`` and the value of each ``name=value`` query parameter by ``parameter(name, value)``.
    Everything else, including the order and encoding of the parameters, is left as it was."""
    head, hash_, fragment = url.partition("#")
    base, question, query = head.partition("?")
    scheme_end = base.find("//")
    if scheme_end >= 0:
        start = scheme_end + 2
        slash = base.find("/", start)
        end = len(base) if slash < 0 else slash
        info, at, host = base[start:end].rpartition("@")
        if at and info:
            base = f"{base[:start]}{userinfo(info)}@{host}{base[end:]}"
    if question:
        parts = query.split("&")
        for index, part in enumerate(parts):
            name, equals, value = part.partition("=")
            if equals:
                parts[index] = f"{name}={parameter(name, value)}"
        query = "&".join(parts)
    return f"{base}{question}{query}{hash_}{fragment}"


def _redact_userinfo(info: str) -> str:
    user, colon, _password = info.partition(":")
    # user info without a password is, for WebSocket URLs, usually a token
    return f"{user}:{REDACTED}" if colon else REDACTED


def redact_url(url: str) -> str:
    """The URL with secrets replaced by ``REDACTED``: the values of query parameters named like a token,
    key, secret, password, signature or session, and a password in the user info. Everything else,
    including the order and encoding of the other parameters, is left as it was."""
    return rewrite_url(url, _redact_userinfo,
                       lambda name, value: REDACTED if is_secret_name(name) else value)


#: a JSON Web Token: three base64url parts, the first a JSON object ("eyJ")
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")
#: the words of a subprotocol's dotted prefix that say a credential follows it
_CREDENTIAL_PREFIX_WORDS = frozenset({"bearer", "authorization", "token", "auth"})


def redact_subprotocols(value: str) -> str:
    """A ``Sec-WebSocket-Protocol`` list with the credentials clients send as subprotocols (browsers can set no
    header) replaced by ``REDACTED``: the one after a subprotocol named like a secret (``access_token, <token>``,
    ``Authorization, <token>``), what follows a dotted prefix naming one
    (``base64url.bearer.authorization.k8s.io.<token>``), and a JSON Web Token by itself."""
    out: list[str] = []
    after_secret_name = False
    for item in value.split(","):
        name = item.strip()
        parts = name.split(".")
        if after_secret_name or _JWT.fullmatch(name):
            name = REDACTED
        elif len(parts) > 1 and any(part.lower() in _CREDENTIAL_PREFIX_WORDS for part in parts[:-1]):
            name = ".".join(parts[:-1]) + "." + REDACTED
        after_secret_name = len(parts) == 1 and is_secret_name(parts[0]) and not after_secret_name
        out.append(name)
    return ", ".join(out)


def subprotocol_secrets(offered: Sequence[str]) -> set[str]:
    """The credentials among the subprotocols a client offers (what :func:`redact_subprotocols` takes out of the
    list), for masking one wherever it is quoted alone: a server may pick it."""
    shown = redact_subprotocols(", ".join(offered)).split(", ")
    found: set[str] = set()
    for item, redacted in zip(offered, shown, strict=False):
        if redacted != item.strip():
            found.add(item.strip().rsplit(".", 1)[-1] if redacted.endswith("." + REDACTED) else item.strip())
    return found


def url_secrets(url: str) -> set[str]:
    """The secret values written in a URL or a request's path with its query (what :func:`redact_url` takes
    out), as written and decoded: for masking them wherever the URL is quoted in a sentence."""
    found: set[str] = set()

    def userinfo(info: str) -> str:
        _user, colon, password = info.partition(":")
        found.add(password if colon else info)
        return info

    def parameter(name: str, value: str) -> str:
        if is_secret_name(name):
            found.add(value)
        return value

    rewrite_url(url, userinfo, parameter)
    return {text for value in found for text in (value, unquote_plus(value)) if text}


#: handshake headers that carry credentials whatever their name says
_SECRET_HEADERS = frozenset({"authorization", "proxyauthorization", "cookie", "setcookie"})


def is_secret_header(name: str) -> bool:
    """``Authorization``, ``Proxy-Authorization``, ``Cookie``, and any header named like a secret
    (``X-Api-Key``, ``X-Auth-Token``)."""
    return "".join(_WORDS.findall(name)).lower() in _SECRET_HEADERS or is_secret_name(name)


#: words of a JSON key that hold a credential (narrower than :func:`is_secret_name`: in messages, ``key``,
#: ``session`` or ``ticket`` are as often game keys, room sessions or support tickets)
_SECRET_FIELD_WORDS = frozenset({
    "password", "passwd", "pwd", "passphrase", "secret", "token", "jwt", "bearer", "credential", "credentials",
    "otp", "apikey", "pin", "passcode",
})
_SECRET_FIELD_NAMES = frozenset({"apikey", "accesskey", "secretkey", "privatekey", "authorization"})


def is_secret_field(name: str) -> bool:
    """Whether a JSON key in a message names a credential: ``password``, ``token``, ``accessToken``,
    ``api_key``, ``client_secret``, ``otp``..."""
    words = [word.lower() for word in _WORDS.findall(name)]
    return "".join(words) in _SECRET_FIELD_NAMES or any(word in _SECRET_FIELD_WORDS for word in words)


def without_secret_lines(head: bytes) -> bytes:
    """The start of an HTTP message as read (a request a server could not read, an answer a client could not)
    with the values of its credential headers and its request line's secret query parameters replaced by
    ``REDACTED``, for quoting it in a failure's sentence."""
    lines = head.split(b"\r\n")
    words = lines[0].split(b" ")
    if len(words) > 1:  # the request line: method, target, version
        words[1] = redact_url(words[1].decode("latin-1")).encode("latin-1")
        lines[0] = b" ".join(words)
    for index, line in enumerate(lines[1:], 1):
        name, colon, _value = line.partition(b":")
        if colon and is_secret_header(name.decode("latin-1").strip()):
            lines[index] = name + b": " + REDACTED.encode()
    return b"\r\n".join(lines)
