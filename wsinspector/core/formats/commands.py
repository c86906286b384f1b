"""A pasted ``websocat``, ``wscat`` or ``curl`` command line as a connection.

Each tool's options that shape the handshake are carried over: headers (``-H``), subprotocols (websocat's
``--protocol``, wscat's ``-s``), the origin, not checking certificates (``-k``/``--insecure``, wscat's ``-n``),
Basic authentication (as the Authorization header it sends), CA and client certificate files, a proxy; what
only changes how the tool itself runs (``-v``, ``-t``, ``--no-color``...) is ignored; anything else is named in a
warning. wscat's ``-x`` (a message sent once connected) becomes a saved message.
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Callable
from pathlib import PurePath

from wsinspector.core.formats.model import Draft, ImportFormatError, ImportResult, finish, name_from_url
from wsinspector.core.profiles import ProfileError
from wsinspector.core.proxies import parse_proxy_url

LABEL = "Command line"
PROGRAMS = ("websocat", "wscat", "curl")

# option -> (setting, takes a value); settings: header, protocol, origin, insecure, basic, ca, cert, key,
# proxy, execute, agent, referer, cookie, url, connect, ignore (known, nothing to carry), drop (value left out)
_WEBSOCAT = {
    "-H": ("header", True), "--header": ("header", True), "--protocol": ("protocol", True),
    "--origin": ("origin", True), "-k": ("insecure", False), "--insecure": ("insecure", False),
    "--basic-auth": ("basic", True), "--ua": ("agent", True),
    "-t": ("ignore", False), "--text": ("ignore", False), "-b": ("ignore", False), "--binary": ("ignore", False),
    "-n": ("ignore", False), "--no-close": ("ignore", False), "-1": ("ignore", False),
    "--one-message": ("ignore", False), "-E": ("ignore", False), "--exit-on-eof": ("ignore", False),
    "-u": ("ignore", False), "--unidirectional": ("ignore", False), "-v": ("ignore", False),
    "-q": ("ignore", False), "--ping-interval": ("drop", True), "--ping-timeout": ("drop", True),
    "-B": ("ignore", True), "--buffer-size": ("ignore", True), "--max-messages": ("drop", True),
    "--client-pkcs12-der": ("cert", True), "--client-pkcs12-passwd": ("secret", True),
}
_WSCAT = {
    "-c": ("url", True), "--connect": ("url", True), "-H": ("header", True), "--header": ("header", True),
    "-s": ("protocol", True), "--subprotocol": ("protocol", True), "-o": ("origin", True),
    "--origin": ("origin", True), "-n": ("insecure", False), "--no-check": ("insecure", False),
    "--auth": ("basic", True), "--ca": ("ca", True), "--cert": ("cert", True), "--key": ("key", True),
    "--passphrase": ("secret", True), "--proxy": ("proxy", True), "-x": ("execute", True),
    "--execute": ("execute", True), "-w": ("ignore", True), "--wait": ("ignore", True),
    "--host": ("drop", True), "-p": ("drop", True), "--protocol": ("drop", True), "--no-color": ("ignore", False),
    "--slash": ("ignore", False), "-P": ("ignore", False), "--show-ping-pong": ("ignore", False),
    "-L": ("ignore", False), "--location": ("ignore", False),
}
_CURL = {
    "-H": ("header", True), "--header": ("header", True), "-k": ("insecure", False),
    "--insecure": ("insecure", False), "-u": ("basic", True), "--user": ("basic", True),
    "--cacert": ("ca", True), "--capath": ("ca", True), "-E": ("cert", True), "--cert": ("cert", True),
    "--key": ("key", True), "-x": ("proxy", True), "--proxy": ("proxy", True), "-A": ("agent", True),
    "--user-agent": ("agent", True), "-e": ("referer", True), "--referer": ("referer", True),
    "-b": ("cookie", True), "--cookie": ("cookie", True), "--url": ("url", True),
    "--connect-to": ("connect", True), "--resolve": ("resolve", True),
    "-s": ("ignore", False), "--silent": ("ignore", False), "-S": ("ignore", False),
    "--show-error": ("ignore", False), "-v": ("ignore", False), "--verbose": ("ignore", False),
    "-N": ("ignore", False), "--no-buffer": ("ignore", False), "-i": ("ignore", False),
    "--include": ("ignore", False), "--no-progress-meter": ("ignore", False), "--http1.1": ("ignore", False),
    "-o": ("ignore", True), "--output": ("ignore", True), "-m": ("ignore", True), "--max-time": ("ignore", True),
    "-d": ("drop", True), "--data": ("drop", True), "--data-raw": ("drop", True), "-X": ("drop", True),
    "--request": ("drop", True),
}
_OPTIONS = {"websocat": _WEBSOCAT, "wscat": _WSCAT, "curl": _CURL}


def detect(text: str) -> str:
    try:
        program, _ = _program(_words(text))
    except ImportFormatError:
        return ""
    return LABEL if program else ""


def _words(text: str) -> list[str]:
    joined = text.replace("\\\r\n", " ").replace("\\\n", " ").strip()
    if joined.startswith("$ "):
        joined = joined[2:]
    try:
        return shlex.split(joined)
    except ValueError as exc:
        raise ImportFormatError(f"{LABEL}: it cannot be split into words: {exc}") from None


def _program(words: list[str]) -> tuple[str, list[str]]:
    """The tool and its arguments (``npx wscat``, ``sudo``, a path to the program: all fine)."""
    for index, word in enumerate(words[:3]):
        name = PurePath(word).name.lower().removesuffix(".exe")
        if name in PROGRAMS:
            return name, words[index + 1:]
    return "", words


def read(text: str) -> ImportResult:
    words = _words(text)
    if not words:
        raise ImportFormatError(f"{LABEL}: it is empty; paste a websocat, wscat or curl command")
    program, args = _program(words)
    if not program:
        raise ImportFormatError(f"{LABEL}: {words[0]!r} is not websocat, wscat or curl")
    draft = Draft(name="", url="")
    options = _OPTIONS[program]
    positional: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word == "--" or not word.startswith("-") or word == "-":
            positional.append(word)
            continue
        option, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if option not in options and len(option) > 2 and not option.startswith("--"):
            option, value, equals = option[:2], option[2:], "="  # -HName:value, -kv stays unknown below
        setting, takes_value = options.get(option, ("unknown", False))
        if takes_value and not equals:
            if index >= len(args):
                raise ImportFormatError(f"{LABEL}: {program} option {option} needs a value")
            value = args[index]
            index += 1
        _apply(program, option, setting, value, draft)
    _url(program, positional, draft)
    return finish(f"{LABEL} ({program})", [draft])


def _basic(value: str) -> tuple[str, str]:
    return "Authorization", "Basic " + base64.b64encode(value.encode()).decode("ascii")


def _header(value: str, draft: Draft, program: str) -> None:
    name, colon, content = value.partition(":")
    if not colon and program == "curl" and value.endswith(";"):
        draft.headers.append((value[:-1].strip(), ""))
    elif not colon or not name.strip():
        raise ImportFormatError(f"{LABEL}: header {value!r} has no name: write -H 'Name: value'")
    else:
        draft.headers.append((name.strip(), content.strip()))


def _cert(program: str, value: str, draft: Draft) -> None:
    path, colon, _password = value.partition(":") if program == "curl" else (value, "", "")
    draft.tls["client_cert"] = path
    if colon:
        draft.warnings.append("the certificate's password left out (it is not kept with the connection)")


def _proxy(value: str, draft: Draft) -> None:
    try:
        choice = parse_proxy_url(value, "the command's proxy")
    except ProfileError as exc:
        raise ImportFormatError(f"{LABEL}: {exc}") from None
    except ValueError as exc:  # a proxy URL that does not parse at all (an IPv6 address not closed)
        raise ImportFormatError(f"{LABEL}: the proxy {value!r} is not a valid URL ({exc})") from None
    draft.proxy = {"mode": choice.kind, "host": choice.host, "port": choice.port, "username": choice.username}
    if choice.password:
        draft.warnings.append("the proxy password left out (give it in HTTPS_PROXY or ALL_PROXY)")


def _connect_to(setting: str, value: str, draft: Draft) -> None:
    parts = value.split(":")
    if setting == "resolve" and len(parts) >= 3:
        draft.connect_to = f"{':'.join(parts[2:])}:{parts[1]}"
    elif setting == "connect" and len(parts) == 4 and parts[2] and parts[3]:
        draft.connect_to = f"{parts[2]}:{parts[3]}"
    else:
        draft.warnings.append(f"--{'resolve' if setting == 'resolve' else 'connect-to'} {value} left out")


def _apply(program: str, option: str, setting: str, value: str, draft: Draft) -> None:
    handlers: dict[str, Callable[[], None]] = {
        "header": lambda: _header(value, draft, program),
        "protocol": lambda: draft.subprotocols.extend(p.strip() for p in value.split(",") if p.strip()),
        "origin": lambda: setattr(draft, "origin", value),
        "insecure": lambda: setattr(draft, "verify", False),
        "basic": lambda: draft.headers.append(_basic(value)),
        "ca": lambda: draft.tls.__setitem__("ca_file", value),
        "cert": lambda: _cert(program, value, draft),
        "key": lambda: draft.tls.__setitem__("client_key", value),
        "proxy": lambda: _proxy(value, draft),
        "execute": lambda: draft.messages.append(("Sent on connect", "text", value)),
        "agent": lambda: draft.headers.append(("User-Agent", value)),
        "referer": lambda: draft.headers.append(("Referer", value)),
        "url": lambda: setattr(draft, "url", value),
        "connect": lambda: _connect_to("connect", value, draft),
        "resolve": lambda: _connect_to("resolve", value, draft),
        "ignore": lambda: None,
        "drop": lambda: draft.warnings.append(f"{program} option {option} left out"),
        "secret": lambda: draft.warnings.append(
            f"{program} option {option} left out (a passphrase is not kept with the connection)"),
        "unknown": lambda: draft.warnings.append(f"{program} option {option} is not known here and was left out"),
    }
    if setting == "cookie":
        if "=" in value:
            draft.headers.append(("Cookie", value))
        else:
            draft.warnings.append(f"cookie file {value} left out (paste the cookie as NAME=VALUE)")
        return
    handlers[setting]()


def _url(program: str, positional: list[str], draft: Draft) -> None:
    candidates = [word for word in positional if word != "--"]
    if not draft.url:
        urls = [w for w in candidates if w.lower().startswith(("ws://", "wss://"))]
        if program == "wscat" and not urls and candidates:
            urls = candidates[:1]
        if not urls:
            shown = f" (found {candidates[0]!r})" if candidates else ""
            raise ImportFormatError(f"{LABEL}: no ws:// or wss:// URL in the {program} command{shown}")
        draft.url = urls[0]
    for extra in candidates:
        if extra != draft.url:
            draft.warnings.append(f"the argument {extra!r} left out")
    draft.name = name_from_url(draft.url)
