"""Which proxy a connection goes through: its own setting, or the environment as curl reads it.

``ws://`` is looked up like ``http://`` (``http_proxy``, lower case only, as curl does: the upper-case form can
be set by a web server's CGI environment) and ``wss://`` like ``https://`` (``https_proxy`` or ``HTTPS_PROXY``);
``all_proxy``/``ALL_PROXY`` stand in for both, and ``no_proxy``/``NO_PROXY`` lists hosts that go direct.
Loopback addresses (``localhost``, ``127.0.0.0/8``, ``::1``) always go direct with the system's setting, as
browsers do: the built-in echo server and local servers are never sent to a proxy by accident.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from wsinspector.core.profiles import PROXY_HTTP, PROXY_NONE, PROXY_SOCKS5, PROXY_SYSTEM, ProfileError, Proxy

#: every environment variable that names a proxy
ENVIRONMENT_NAMES = ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
_SCHEMES = {"http": PROXY_HTTP, "socks5": PROXY_SOCKS5, "socks5h": PROXY_SOCKS5}
_DEFAULT_PORTS = {PROXY_HTTP: 1080, PROXY_SOCKS5: 1080}
#: where a proxy was set, as messages name it
CONNECTION_SETTINGS = "the connection's settings"
COMMAND_LINE = "--proxy"
SYSTEM_SETTINGS = "the system's proxy settings"


@dataclass(frozen=True, slots=True)
class ProxyChoice:
    """A proxy to go through. ``password`` comes from the connection's settings (kept in the keyring) or an
    environment URL; ``describe()`` never shows it."""

    kind: str
    host: str
    port: int
    username: str = ""
    password: str = ""
    #: where it came from, for messages: "the connection's settings", "HTTPS_PROXY", ...
    source: str = ""

    def where_to_give_credentials(self) -> str:
        """Where the user gives this proxy a user name and password, said as the place it was set."""
        if self.source == COMMAND_LINE:
            return "give them with --proxy (scheme://USER@host:port) and --proxy-password-env VAR"
        if self.source in ENVIRONMENT_NAMES:
            return f"give them in {self.source} (scheme://USER:PASSWORD@host:port)"
        if self.source == SYSTEM_SETTINGS:
            return "give them in the system's proxy settings"
        if self.source and self.source != CONNECTION_SETTINGS:
            return f"give them in {self.source}"
        return "give them in the connection's proxy settings"

    def describe(self) -> str:
        """``http://127.0.0.1:3128`` (no credentials), and where it was set."""
        scheme = "socks5" if self.kind == PROXY_SOCKS5 else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        where = f" (from {self.source})" if self.source else ""
        return f"{scheme}://{host}:{self.port}{where}"


def parse_proxy_url(text: str, source: str = "") -> ProxyChoice:
    """``http://[user[:password]@]host[:port]`` or ``socks5://…``; ProfileError says what is wrong."""
    raw = text.strip()
    try:
        parts = urlsplit(raw if "://" in raw else f"http://{raw}")
    except ValueError as exc:  # an IPv6 address left open, or not one
        raise ProfileError(f"Proxy {raw!r}{_from(source)}: not a proxy URL ({exc})") from None
    kind = _SCHEMES.get(parts.scheme.lower())
    if kind is None:
        raise ProfileError(f"Proxy {raw!r}{_from(source)}: use http:// or socks5://")
    try:
        port = parts.port
    except ValueError:
        raise ProfileError(f"Proxy {raw!r}{_from(source)}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ProfileError(f"Proxy {raw!r}{_from(source)}: no host")
    return ProxyChoice(kind, parts.hostname, port or _DEFAULT_PORTS[kind], unquote(parts.username or ""),
                       unquote(parts.password or ""), source)


def _from(source: str) -> str:
    return f" (from {source})" if source else ""


def choose(url: str, proxy: Proxy, environment: Mapping[str, str], source: str = "") -> ProxyChoice | None:
    """The proxy for ``url`` by ``proxy``'s mode; for PROXY_SYSTEM, from ``environment`` (None: go direct, or
    nothing in the environment: the platform's own settings may still name one). ``source``: where a given
    proxy was set, for messages (by default the connection's settings)."""
    if proxy.mode == PROXY_NONE:
        return None
    if proxy.mode in (PROXY_HTTP, PROXY_SOCKS5):
        return ProxyChoice(proxy.mode, proxy.host, proxy.port, proxy.username, proxy.password,
                           source=source or CONNECTION_SETTINGS)
    assert proxy.mode == PROXY_SYSTEM
    return from_environment(url, environment)


def from_environment(url: str, environment: Mapping[str, str]) -> ProxyChoice | None:
    parts = urlsplit(url)
    secure = parts.scheme.lower() == "wss"
    names: tuple[str, ...] = ("https_proxy", "HTTPS_PROXY") if secure else ("http_proxy",)
    names += ("all_proxy", "ALL_PROXY")
    name = next((n for n in names if environment.get(n, "").strip()), None)
    if name is None:
        return None
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    no_proxy = environment.get("no_proxy", "") or environment.get("NO_PROXY", "")
    if is_loopback(host) or bypassed(host, port, no_proxy):
        return None
    return parse_proxy_url(environment[name], name)


def is_loopback(host: str) -> bool:
    return bypassed(host, 0, "localhost,127.0.0.0/8,::1")


def bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``no_proxy`` sends ``host`` direct: ``*``; a name that is the host or a domain it is in (with or
    without a leading dot); an IP address or network (``10.0.0.0/8``); any of them with ``:port``."""
    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.strip("[]")
        if _ip_match(host, name) or host == name.lstrip(".") or host.endswith("." + name.lstrip(".")):
            return True
    return False


def _ip_match(host: str, entry: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return address in network
