"""The opening handshake of one connection attempt as the user reads it: the request we sent, the server's
answer (its status, headers and, for a refused upgrade, the start of its body), the form a session keeps of it,
and the same request as a curl command.

An engine may not know every byte it sent: the Wire engine writes the request itself (``exact``), while
QWebSocket builds its own from what we give it, so for it the request lists what we asked for and
:attr:`Handshake.note` says what the engine adds.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from wsinspector.core.events import BODY_SHOWN
from wsinspector.core.profiles import ResolvedTarget
from wsinspector.core.redact import REDACTED, is_secret_header, redact_subprotocols, redact_url

#: the kind of the session event that keeps a handshake (its text is :meth:`Handshake.to_json`)
HANDSHAKE_EVENT = "handshake"

#: what the Qt engine adds to the request by itself
QT_NOTE = ("QWebSocket builds the request itself: it adds Host, Upgrade, Connection, Sec-WebSocket-Key and "
           "Sec-WebSocket-Version, in its own order and spelling; listed here is what we asked it to send")

#: the upgrade headers a curl command needs; the key is RFC 6455's sample nonce when the real one is not known
_UPGRADE = (("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="))

Headers = tuple[tuple[str, str], ...]


def request_target(url: str) -> str:
    """The request line's target of a WebSocket URL: its path (``/`` when empty) and query."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


@dataclass(frozen=True, slots=True)
class Handshake:
    """One attempt's opening handshake, as far as it went."""

    url: str
    #: "GET /path?query HTTP/1.1"
    request_line: str
    request_headers: Headers = ()
    #: True: exactly the request that was written to the socket; False: what the engine was asked to send
    exact: bool = True
    #: what the user should know of how complete this is ("" when nothing needs saying)
    note: str = ""
    #: the answer's status code and reason (None: no answer was read)
    status: int | None = None
    reason: str = ""
    #: the answer's headers as they came (None: the engine does not expose them, or none came)
    response_headers: Headers | None = None
    #: the start of a refused answer's body, and its whole size when known
    body: bytes = b""
    body_size: int | None = None
    #: (header name, what stands in its value's place when secrets are left out: "Bearer {{token}}")
    placeholders: Headers = ()

    @property
    def status_line(self) -> str:
        """"HTTP/1.1 101 Switching Protocols", or "" before an answer."""
        if self.status is None:
            return ""
        return f"HTTP/1.1 {self.status} {self.reason}".rstrip()

    @property
    def refused(self) -> bool:
        """The server answered with something other than 101 Switching Protocols."""
        return self.status is not None and self.status != 101

    def answered(self, status: int | None, reason: str, headers: Headers | None, body: bytes = b"",
                 body_size: int | None = None) -> Handshake:
        """This request with the server's answer."""
        return replace(self, status=status, reason=reason, response_headers=headers, body=body[:BODY_SHOWN],
                       body_size=body_size)

    def without_secrets(self, secret_values: Iterable[str]) -> Handshake:
        """The handshake as it may be kept or shown: a header with a placeholder gets it, one that carries
        credentials by its name becomes ``{{Name}}``, every secret value (anywhere: URL, headers both ways,
        body) becomes ``REDACTED``, and the URL's own secrets are redacted (in the request line's target too)."""
        values = sorted({value for value in secret_values if value}, key=len, reverse=True)

        def clean(text: str) -> str:
            for value in values:
                text = text.replace(value, REDACTED)
            return text

        stand_in = {name.lower(): value for name, value in self.placeholders}

        def kept(name: str, value: str) -> str:
            if name.lower() in stand_in:
                return stand_in[name.lower()]
            if name.lower() == "sec-websocket-protocol":  # a token offered as a subprotocol
                return clean(redact_subprotocols(value))
            if is_secret_header(name) and not name.lower().startswith("sec-websocket-"):
                return "{{" + name + "}}"  # credentials by their name (a literal Authorization, a Cookie)
            return clean(value)

        request = tuple((name, kept(name, value)) for name, value in self.request_headers)
        response = (None if self.response_headers is None
                    else tuple((name, clean(redact_subprotocols(value) if name.lower() == "sec-websocket-protocol"
                                             else value)) for name, value in self.response_headers))
        body = self.body
        if values:
            body = clean(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        url = clean(redact_url(self.url))
        method, space, rest = self.request_line.partition(" ")
        target, space2, version = rest.rpartition(" ") if " " in rest else (rest, "", "")
        line = f"{method}{space}{redact_url(target)}{space2}{version}" if space else self.request_line
        return replace(self, url=url, request_line=clean(line), request_headers=request,
                       response_headers=response, body=body, reason=clean(self.reason))

    # -- the form a session keeps -------------------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps({
            "url": self.url, "request_line": self.request_line, "request_headers": self.request_headers,
            "exact": self.exact, "note": self.note, "status": self.status, "reason": self.reason,
            "response_headers": self.response_headers, "body": base64.b64encode(self.body).decode("ascii"),
            "body_size": self.body_size, "placeholders": self.placeholders,
        })

    @classmethod
    def from_json(cls, text: str) -> Handshake | None:
        """The handshake a session kept, or None when ``text`` is not one (damaged, or from another version)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                return None
            status = data.get("status")
            size = data.get("body_size")
            response = data.get("response_headers")
            return cls(
                url=_str(data.get("url")), request_line=_str(data.get("request_line")),
                request_headers=_pairs(data.get("request_headers")), exact=bool(data.get("exact", True)),
                note=_str(data.get("note")), status=status if isinstance(status, int) else None,
                reason=_str(data.get("reason")), response_headers=None if response is None else _pairs(response),
                body=base64.b64decode(_str(data.get("body")), validate=True)[:BODY_SHOWN],
                body_size=size if isinstance(size, int) else None, placeholders=_pairs(data.get("placeholders")))
        except (ValueError, TypeError):
            return None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _pairs(value: object) -> Headers:
    if not isinstance(value, list):
        return ()
    return tuple((item[0], item[1]) for item in value
                 if isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item))


def asked_of_qt(target: ResolvedTarget) -> Handshake:
    """The request QWebSocket is asked to send for ``target``: the request line, and the headers we give it
    (Origin, the subprotocols, the connection's own); it adds the rest itself (:data:`QT_NOTE`)."""
    asked: list[tuple[str, str]] = []
    if target.handshake.origin:
        asked.append(("Origin", target.handshake.origin))
    if target.handshake.subprotocols:
        asked.append(("Sec-WebSocket-Protocol", ", ".join(target.handshake.subprotocols)))
    asked += target.handshake.headers
    return Handshake(url=target.url, request_line=f"GET {request_target(target.url)} HTTP/1.1",
                     request_headers=tuple(asked), exact=False, note=QT_NOTE)


def last_handshake(events: Iterable[tuple[int, str, str]]) -> Handshake | None:
    """The last handshake a session's events (monotonic ns, kind, text) kept, if any."""
    found = None
    for _ts, kind, text in events:
        if kind == HANDSHAKE_EVENT:
            found = Handshake.from_json(text) or found
    return found


def placeholders_for(templates: Sequence[tuple[str, str]], secret_headers: Iterable[str],
                     secret_variables: Iterable[str]) -> Headers:
    """What stands for each secret header value when secrets are left out: a header whose configured value
    uses a secret ``{{variable}}`` keeps that template; a header marked secret itself, or one that carries
    credentials by its name (``Authorization``, ``Cookie``, ``X-Api-Key``), becomes ``{{Name}}``."""
    secret_names = {name.lower() for name in secret_headers}
    variables = set(secret_variables)
    found: dict[str, tuple[str, str]] = {}
    for name, template in templates:
        uses_secret = any("{{" + variable + "}}" in template.replace(" ", "") for variable in variables)
        if name.lower() in secret_names or is_secret_header(name):
            found[name.lower()] = (name, template if uses_secret else "{{" + name + "}}")
        elif uses_secret:
            found[name.lower()] = (name, template)
    return tuple(found.values())


def curl_command(handshake: Handshake, *, secret_values: Iterable[str] = (), with_secrets: bool = False) -> str:
    """The request as a curl command that sends the same upgrade and shows the answer (``--include``): the
    URL as http(s), every header we sent but Host (curl writes it from the URL), the upgrade headers the
    engine adds when the request is not known exactly. Unless ``with_secrets``, a secret header value is
    its placeholder (``{{token}}``) and any other secret value ``REDACTED``."""
    shown = handshake if with_secrets else handshake.without_secrets(secret_values)
    url = shown.url
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("ws", "wss"):
        url = ("https" if scheme.lower() == "wss" else "http") + "://" + rest
    headers = [(name, value) for name, value in shown.request_headers if name.lower() != "host"]
    present = {name.lower() for name, _ in headers}
    headers += [(name, value) for name, value in _UPGRADE if name.lower() not in present]
    parts = ["curl --include --no-buffer --http1.1"]
    parts += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers]
    parts.append(shlex.quote(url))
    return " \\\n  ".join(parts)

