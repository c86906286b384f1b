"""The rule that gives a connection its effective TLS and proxy settings from the app-wide defaults, and the
defaults' stored form (secret values left out)."""

from __future__ import annotations

import pytest

from wsinspector.core.connection_defaults import (
    ConnectionDefaults,
    applied,
    checked,
    defaults_from_json,
    defaults_to_json,
    describe,
    effective,
    secret_key,
)
from wsinspector.core.profiles import ConnectionProfile, Endpoint, ProfileError, ProfileFormatError, Proxy, Tls

FP_A = ":".join(["AA"] * 32)
FP_B = ":".join(["BB"] * 32)
CORP = ConnectionDefaults(
    tls=Tls(ca_file="/etc/ssl/corp-ca.pem", client_cert="/home/ann/ann.p12", passphrase="p12-secret",
            min_version="1.2", pinned=(FP_A,)),
    proxy=Proxy(mode="http", host="proxy.corp", port=3128, username="ann", password="proxy-secret"))


def conn(**records: object) -> ConnectionProfile:
    return ConnectionProfile(name="c", endpoint=Endpoint("wss://example.org/")).with_changes(**records)


def test_a_connection_left_at_its_built_in_values_takes_every_app_default() -> None:
    used = effective(conn(), CORP)
    assert used.tls == Tls(ca_file="/etc/ssl/corp-ca.pem", client_cert="/home/ann/ann.p12", passphrase="p12-secret",
                           min_version="1.2", pinned=(FP_A,))
    assert used.proxy == CORP.proxy
    assert used.name == "c" and used.url == "wss://example.org/"  # the rest is the connection's


def test_a_connections_own_values_win() -> None:
    own = conn(tls={"ca_file": "/mine/ca.pem", "client_cert": "/mine/me.pem", "client_key": "/mine/me.key",
                    "min_version": "1.3", "pinned": (FP_B,)},
               proxy={"mode": "none"})
    used = effective(own, CORP)
    assert (used.tls.ca_file, used.tls.min_version) == ("/mine/ca.pem", "1.3")
    # its own certificate comes with its own key and passphrase: the app's passphrase is not tried on it
    assert (used.tls.client_cert, used.tls.client_key, used.tls.passphrase) == ("/mine/me.pem", "/mine/me.key", "")
    assert used.tls.pinned == (FP_B, FP_A)  # both are trusted
    assert used.proxy.mode == "none"
    socks = effective(conn(proxy={"mode": "socks5", "host": "s", "port": 1080}), CORP)
    assert socks.proxy == Proxy(mode="socks5", host="s", port=1080)


def test_the_systems_proxy_app_wide_leaves_connections_as_they_are() -> None:
    defaults = ConnectionDefaults(proxy=Proxy(mode="system", host="ignored", port=1))
    assert effective(conn(), defaults).proxy == Proxy()
    no_proxy = ConnectionDefaults(proxy=Proxy(mode="none"))
    assert effective(conn(), no_proxy).proxy.mode == "none"


def test_verification_off_app_wide_is_off_for_every_connection_and_said() -> None:
    defaults = ConnectionDefaults(tls=Tls(verify=False))
    assert effective(conn(), defaults).tls.verify is False
    assert effective(conn(tls={"verify": False}), ConnectionDefaults()).tls.verify is False
    assert "no verification of the server's certificate" in applied(conn(), defaults)


def test_no_defaults_change_nothing() -> None:
    profile = conn(tls={"ca_file": "x"})
    assert effective(profile, None) is profile
    assert effective(profile, ConnectionDefaults()) is profile
    assert applied(profile, ConnectionDefaults()) == []


def test_what_the_defaults_give_is_told_without_secrets() -> None:
    said = applied(conn(), CORP)
    assert said == ["CA file /etc/ssl/corp-ca.pem", "client certificate /home/ann/ann.p12", "oldest version TLS 1.2",
                    "1 trusted certificate", "proxy http://proxy.corp:3128 (user ann)"]
    assert not any("secret" in line for line in said)
    assert applied(conn(tls={"ca_file": "/mine"}, proxy={"mode": "none"}), CORP)[0].startswith("client certificate")


def test_the_stored_form_leaves_secret_values_out_and_reads_back() -> None:
    text = defaults_to_json(CORP)
    assert "p12-secret" not in text and "proxy-secret" not in text
    read, kept = defaults_from_json(text)
    assert kept == ("tls.passphrase", "proxy.password")
    assert read == CORP.with_secret_values({})
    assert read.with_secret_values(CORP.secret_values()) == CORP
    assert secret_key("tls.passphrase") == "defaults/tls.passphrase"


def test_describe_says_which_secrets_are_kept_never_their_values() -> None:
    out = describe(CORP)
    assert out["secrets"] == {"tls.passphrase": "kept", "proxy.password": "kept"}
    assert out["tls"]["ca_file"] == "/etc/ssl/corp-ca.pem" and "passphrase" not in out["tls"]
    assert "p12-secret" not in str(out) and "proxy-secret" not in str(out)
    assert describe(ConnectionDefaults())["secrets"] == {"tls.passphrase": "", "proxy.password": ""}


@pytest.mark.parametrize(("text", "words"), [
    ("{", "not valid JSON"),
    ("[]", "not a JSON object"),
    ('{"version": "x"}', "unknown format version"),
    ('{"version": 1, "tls": {"ca_file": 3}}', "tls.ca_file"),
    ('{"version": 1, "kept_secrets": "tls.passphrase"}', "secrets"),
])
def test_a_damaged_stored_form_is_named(text: str, words: str) -> None:
    with pytest.raises(ProfileFormatError, match=words):
        defaults_from_json(text)


def test_checked_names_what_cannot_be_used_and_writes_fingerprints_one_way() -> None:
    with pytest.raises(ProfileError, match="proxy needs its host"):
        checked(ConnectionDefaults(proxy=Proxy(mode="http")))
    with pytest.raises(ProfileError, match="client key needs its client certificate"):
        checked(ConnectionDefaults(tls=Tls(client_key="/k.pem")))
    with pytest.raises(ProfileError, match="not a SHA-256 fingerprint"):
        checked(ConnectionDefaults(tls=Tls(pinned=("12:34",))))
    ok = checked(ConnectionDefaults(tls=Tls(ca_file="{{corp_ca}}", pinned=(FP_A.replace(":", "").lower(),))))
    assert ok.tls.pinned == (FP_A,) and ok.tls.ca_file == "{{corp_ca}}"
