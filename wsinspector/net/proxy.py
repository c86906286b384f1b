"""The proxy a connection goes through, as Qt's ``QNetworkProxy``, for both engines."""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import QUrl
from PySide6.QtNetwork import QNetworkProxy, QNetworkProxyFactory, QNetworkProxyQuery

from wsinspector.core.events import Failure, FailureKind
from wsinspector.core.profiles import PROXY_SOCKS5, PROXY_SYSTEM, Proxy
from wsinspector.core.proxies import ENVIRONMENT_NAMES, SYSTEM_SETTINGS, ProxyChoice, choose, is_loopback

_KINDS = {QNetworkProxy.ProxyType.HttpProxy: "http", QNetworkProxy.ProxyType.Socks5Proxy: PROXY_SOCKS5}


def network_proxy(url: str, proxy: Proxy, source: str = "") -> tuple[QNetworkProxy, ProxyChoice | None]:
    """What to set on the socket, and the proxy in the core's terms (None: direct). With the system's
    setting, the environment counts first (as curl reads it), then the platform's own proxy settings.
    ``source``: where a given proxy was set, for messages."""
    choice = choose(url, proxy, os.environ, source)
    if choice is None and proxy.mode == PROXY_SYSTEM:
        choice = _platform_proxy(url)
    if choice is None:
        return QNetworkProxy(QNetworkProxy.ProxyType.NoProxy), None
    kind = QNetworkProxy.ProxyType.Socks5Proxy if choice.kind == PROXY_SOCKS5 else QNetworkProxy.ProxyType.HttpProxy
    return QNetworkProxy(kind, choice.host, choice.port, choice.username, choice.password), choice


def _platform_proxy(url: str) -> ProxyChoice | None:
    """The platform's settings (macOS, Windows; on Linux Qt reads only the environment, handled before)."""
    if any(name in os.environ for name in ENVIRONMENT_NAMES):
        return None  # the environment was read already: its no_proxy said direct
    if is_loopback(QUrl(url).host()):
        return None
    for found in QNetworkProxyFactory.systemProxyForQuery(QNetworkProxyQuery(QUrl(url))):
        kind = _KINDS.get(found.type())
        if kind is not None and found.hostName():
            return ProxyChoice(kind, found.hostName(), found.port(), found.user(), found.password(),
                               source=SYSTEM_SETTINGS)
    return None


def authentication_refused(choice: ProxyChoice | None) -> str:
    """What a proxy's 407 means: it wants a user name and password (and where to give them, as the place the
    proxy was set), or refused the ones given (never shown)."""
    if choice is not None and choice.password:
        return f"it refused the user name {choice.username!r} and its password (407 Proxy Authentication Required)"
    where = choice.where_to_give_credentials() if choice is not None else \
        "give them in the connection's proxy settings"
    return f"it wants a user name and password (407 Proxy Authentication Required): {where}"


def explained(failure: Failure, choice: ProxyChoice) -> Failure:
    """A proxy failure with what it likely means: a SOCKS5 proxy that hangs up on the credentials given, or
    on none when it wants some."""
    if failure.kind is not FailureKind.PROXY or choice.kind != PROXY_SOCKS5 or "closed" not in failure.detail.lower():
        return failure
    if choice.password:
        return replace(failure, detail=f"{failure.detail}: a SOCKS5 proxy closes the connection like this when it "
                                       f"refuses the user name {choice.username!r} and its password")
    return replace(failure, detail=f"{failure.detail}: a SOCKS5 proxy closes the connection like this when it "
                                   f"wants a user name and password; {choice.where_to_give_credentials()}")
