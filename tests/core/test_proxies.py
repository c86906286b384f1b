"""Which proxy a connection goes through: the environment read as curl reads it, NO_PROXY, loopback."""

from __future__ import annotations

import pytest

from wsinspector.core.profiles import ConnectionProfile, Endpoint, ProfileError, Proxy
from wsinspector.core.proxies import ProxyChoice, bypassed, choose, from_environment, parse_proxy_url


@pytest.mark.parametrize("url, env, expected", [
    ("wss://api.example.com/", {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128 (from HTTPS_PROXY)"),
    ("wss://api.example.com/", {"https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:2"},
     "http://a:1 (from https_proxy)"),
    ("ws://api.example.com/", {"HTTPS_PROXY": "http://p:3128"}, None),  # ws:// reads http_proxy
    ("ws://api.example.com/", {"HTTP_PROXY": "http://p:3128"}, None),  # upper case: never, as curl
    ("ws://api.example.com/", {"http_proxy": "p:3128"}, "http://p:3128 (from http_proxy)"),
    ("ws://api.example.com/", {"ALL_PROXY": "socks5://s:1080"}, "socks5://s:1080 (from ALL_PROXY)"),
    ("wss://api.example.com/", {"all_proxy": "socks5h://s"}, "socks5://s:1080 (from all_proxy)"),
    ("wss://api.example.com/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"}, None),
    ("wss://api.example.com/", {"HTTPS_PROXY": "http://p:1", "no_proxy": ".example.com"}, None),
    ("wss://example.community/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"},
     "http://p:1 (from HTTPS_PROXY)"),
    ("wss://10.1.2.3/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, None),
    ("wss://api.example.com:8443/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.example.com:443"},
     "http://p:1 (from HTTPS_PROXY)"),
    ("wss://api.example.com:8443/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.example.com:8443"}, None),
    ("wss://anything/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
    ("ws://127.0.0.1:8765/", {"http_proxy": "http://p:1"}, None),  # loopback goes direct
    ("ws://localhost:8765/", {"http_proxy": "http://p:1"}, None),
    ("ws://[::1]:8765/", {"http_proxy": "http://p:1"}, None),
])
def test_the_environment_as_curl_reads_it(url: str, env: dict[str, str], expected: str | None) -> None:
    choice = from_environment(url, env)
    assert (choice.describe() if choice else None) == expected


def test_credentials_come_from_the_url_and_are_never_shown() -> None:
    choice = parse_proxy_url("http://ann%40corp:s%3Acret@proxy.corp:8080", "HTTPS_PROXY")
    assert (choice.username, choice.password) == ("ann@corp", "s:cret")
    assert "cret" not in choice.describe()


@pytest.mark.parametrize("text, message", [
    ("ftp://p:1", "use http:// or socks5://"),
    ("http://p:99999", "the port is not a number"),
    ("http://:8080", "no host"),
    ("http://[::1", r"not a proxy URL \(Invalid IPv6 URL\)"),
    ("socks5://[zz]:1", "not a proxy URL"),
])
def test_a_proxy_url_that_cannot_be_used_says_why(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_proxy_url(text, "HTTPS_PROXY")


def test_the_connections_setting_decides() -> None:
    env = {"HTTPS_PROXY": "http://p:1"}
    assert choose("wss://h/", Proxy(mode="none"), env) is None
    assert choose("wss://h/", Proxy(mode="socks5", host="s", port=9050, username="u"), env) == ProxyChoice(
        "socks5", "s", 9050, "u", source="the connection's settings")
    assert choose("wss://h/", Proxy(), env) == ProxyChoice("http", "p", 1, source="HTTPS_PROXY")


@pytest.mark.parametrize("proxy, message", [
    ({"mode": "ftp"}, "Unknown proxy setting 'ftp'"),
    ({"mode": "http", "host": "p"}, "A proxy needs its host and a port"),
    ({"mode": "socks5", "port": 1080}, "A proxy needs its host and a port"),
])
def test_a_proxy_setting_that_cannot_be_used_says_why(proxy: dict[str, object], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        ConnectionProfile(name="p", endpoint=Endpoint("ws://h/")).with_changes(proxy=proxy).resolved()


def test_bypass_entries_with_spaces_and_ipv6() -> None:
    assert bypassed("fe80::1", 443, " example.org , fe80::/10 ")
    assert not bypassed("fe81::1", 443, "::1")


def test_where_to_give_a_proxys_credentials_follows_where_it_was_set() -> None:
    from wsinspector.core.proxies import COMMAND_LINE, ProxyChoice

    def where(source: str) -> str:
        return ProxyChoice("http", "h", 1, source=source).where_to_give_credentials()

    assert where(COMMAND_LINE) == "give them with --proxy (scheme://USER@host:port) and --proxy-password-env VAR"
    assert where("HTTPS_PROXY") == "give them in HTTPS_PROXY (scheme://USER:PASSWORD@host:port)"
    assert where("the app's connection defaults") == "give them in the app's connection defaults"
    assert where("") == where("the connection's settings") == "give them in the connection's proxy settings"
