"""What counts as a secret, and how to keep it out of what we write: URLs in session exports, test files.

Secrets are recognised by name (a query parameter, header, variable or JSON key called like a token, key,
password, signature or session) and, once known, by value.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

__all__ = ["REDACTED", "is_secret_field", "is_secret_header", "is_secret_name", "redact_url"]

#: query parameter names whose values are secrets, compared lower-case with separators removed
_SECRET_NAMES = frozenset({
    "token", "accesstoken", "apikey", "key", "secret", "password", "passwd", "pwd", "auth", "authorization",
    "signature", "sig", "jwt", "session", "sessionid", "sessid", "jsessionid", "phpsessid", "credential",
    "credentials", "pass", "passphrase", "bearer", "ticket", "otp", "hmac",
})
#: words that make a longer name secret too: refresh_token, client_secret, x-api-key, X-Amz-Signature, authToken
_SECRET_WORDS = frozenset({
    "token", "key", "apikey", "secret", "password", "passwd", "auth", "authorization", "signature", "sig",
    "jwt", "session", "credential", "credentials", "pass", "passphrase", "bearer", "ticket", "otp", "hmac",
})
#: words of a name: snake_case, kebab-case, dotted and camelCase parts
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
REDACTED = "REDACTED"


def is_secret_name(name: str) -> bool:
    """Whether a query parameter, header or variable of this name holds a secret: ``token``, ``api_key``,
    ``X-Auth-Token``, ``refreshToken``, ``client_secret``, ``sessionid``..."""
    words = [word.lower() for word in _WORDS.findall(unquote_plus(name))]
    return "".join(words) in _SECRET_NAMES or any(word in _SECRET_WORDS for word in words)


def redact_url(url: str) -> str:
    """The URL with secrets replaced by ``REDACTED``: the values of query parameters named like a token,
    key, secret, password, signature or session, and a password in the user info. Everything else,
    including the order and encoding of the other parameters, is left as it was."""
    head, hash_, fragment = url.partition("#")
    base, question, query = head.partition("?")
    scheme_end = base.find("//")
    if scheme_end >= 0:
        authority_start = scheme_end + 2
        slash = base.find("/", authority_start)
        authority_end = len(base) if slash < 0 else slash
        authority = base[authority_start:authority_end]
        userinfo, at, host = authority.rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.partition(":")[0]
            base = f"{base[:authority_start]}{user}:{REDACTED}@{host}{base[authority_end:]}"
        elif at and userinfo:
            # user info without a password is, for WebSocket URLs, usually a token
            base = f"{base[:authority_start]}{REDACTED}@{host}{base[authority_end:]}"
    if question:
        parts = query.split("&")
        for index, part in enumerate(parts):
            name, equals, _value = part.partition("=")
            if equals and is_secret_name(name):
                parts[index] = f"{name}={REDACTED}"
        query = "&".join(parts)
    return f"{base}{question}{query}{hash_}{fragment}"


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
    "otp", "apikey",
})
_SECRET_FIELD_NAMES = frozenset({"apikey", "accesskey", "secretkey", "privatekey", "authorization"})


def is_secret_field(name: str) -> bool:
    """Whether a JSON key in a message names a credential: ``password``, ``token``, ``accessToken``,
    ``api_key``, ``client_secret``, ``otp``..."""
    words = [word.lower() for word in _WORDS.findall(name)]
    return "".join(words) in _SECRET_FIELD_NAMES or any(word in _SECRET_FIELD_WORDS for word in words)
