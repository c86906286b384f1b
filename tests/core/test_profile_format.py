"""The stored form of a saved connection: versioned records, every setting kept, unknown keys kept, a newer
format never written over, and the flat form of version 1 brought up to date."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from wsinspector.core.profiles import (
    ENGINE_QT,
    HEARTBEAT_RECONNECT,
    PROFILE_VERSION,
    RECORD_TYPES,
    Auth,
    Compression,
    ConnectionProfile,
    Decoding,
    Endpoint,
    Handshake,
    Health,
    Limits,
    ProfileFormatError,
    Protocol,
    Proxy,
    ReadOnlyProfileError,
    Tls,
    profile_from_dict,
    profile_from_json,
    profile_to_dict,
    profile_to_json,
)
from wsinspector.core.secrets import secret_values, with_secret_values
from wsinspector.core.store import SCHEMA_VERSION, Store

DATA = Path(__file__).parent / "data"


def every_setting_changed() -> ConnectionProfile:
    """A profile none of whose settings has its default value."""
    return ConnectionProfile(
        name="Staging ✓",
        endpoint=Endpoint("wss://{{host}}/socket?v=2", connect_to="10.1.2.3:8443"),
        handshake=Handshake(headers=(("Authorization", "Bearer {{token}}"), ("X-Trace", "1"), ("X-Trace", "2")),
                            subprotocols=("graphql-ws", "chat.v1"), origin="https://app.example.com", timeout_s=2.5,
                            secret_headers=("Authorization",)),
        limits=Limits(max_message_size=3 * 1024 * 1024, max_frame_size=2 * 1024 * 1024),
        protocol=Protocol(engine=ENGINE_QT, auto_pong=False, close_timeout_s=1.5),
        compression=Compression(deflate=False, server_max_window_bits=10, client_max_window_bits=12,
                                server_no_context_takeover=True, client_no_context_takeover=True),
        health=Health(heartbeat_interval_s=7.5, heartbeat_timeout_s=3.5, heartbeat_action=HEARTBEAT_RECONNECT,
                      reconnect=True, reconnect_max_attempts=4, reconnect_base_s=1.5, reconnect_max_s=12.0,
                      record=False),
        tls=Tls(verify=False, ca_file="/etc/ssl/private-ca.pem", client_cert="/home/me/me.p12",
                client_key="/home/me/me.key", min_version="1.3", pinned=(":".join(["AB"] * 32),), passphrase="p ✓"),
        proxy=Proxy(mode="http", host="proxy.corp", port=3128, username="ann", password="pw ✓"),
        auth=Auth(kind="oauth2_client_credentials", username="ann", password="pw", token="tok",
                  api_key_name="X-Api-Key", api_key_value="k", api_key_in="query",
                  token_url="https://id.example.com/token", client_id="app", client_secret="cs",
                  scope="read", cookies="sid=1", login_method="PUT", login_url="https://api.example.com/login",
                  login_headers=(("Accept", "application/json"),), login_body='{"user": "ann"}',
                  login_captures=(("token", "data.token"),)),
        decoding=Decoding(decoder="protobuf", options=(("descriptors", "ticks.desc"), ("message", "demo.Tick")),
                          mode="mqtt", mode_options=(("keep_alive", "30"), ("password", "{{token}}"))),
        variables=(("host", "api.example.com"), ("token", "s3cr3t ✓")),
        secret_variables=("token",),
        messages=(("subscribe", "json", '{"op": "sub"}'), ("blob", "hex", "00 ff")),
        builtin="local-echo",
        folder="Team/Staging",
        id="0123456789abcdef0123456789abcdef",
    )


def settings_of_older_forms() -> ConnectionProfile:
    """``every_setting_changed()`` as far as the files written before TLS settings existed can hold it."""
    return every_setting_changed().with_changes(tls=Tls(), proxy=Proxy(), auth=Auth(), decoding=Decoding(),
                                                endpoint={"connect_to": ""},
                                                health={"record": True}, handshake={"secret_headers": ()},
                                                secret_variables=(), folder="", messages=())
def as_stored(profile: ConnectionProfile) -> ConnectionProfile:
    """The profile as its stored form holds it: no secret values, the names of those that had one."""
    kept = tuple(path for path, value in secret_values(profile).items() if value)
    return with_secret_values(profile, {}).with_changes(kept_secrets=kept)


def test_the_test_profile_changes_every_setting() -> None:
    profile, default = every_setting_changed(), ConnectionProfile(name="")
    for name, record in profile.records():
        for f in fields(record):
            assert getattr(record, f.name) != getattr(getattr(default, name), f.name), f"{name}.{f.name}"
    assert (profile.variables, profile.builtin, profile.folder) != (default.variables, default.builtin, default.folder)


def test_every_setting_round_trips_through_json() -> None:
    profile = every_setting_changed()
    assert profile_from_json(profile.id, profile_to_json(profile)) == as_stored(profile)
    default = ConnectionProfile(name="d")
    assert profile_from_json(default.id, profile_to_json(default)) == default


def test_the_stored_form_is_versioned_records() -> None:
    data = profile_to_dict(every_setting_changed())
    assert data["version"] == PROFILE_VERSION
    assert list(data) == ["version", "name", "variables", "messages", "auto_replies", "auto_reply_limit",
                          "secret_variables", "kept_secrets", "builtin", "folder", *RECORD_TYPES]
    assert data["endpoint"] == {"url": "wss://{{host}}/socket?v=2", "connect_to": "10.1.2.3:8443"}
    # secret values are left out; their names say which had a value
    # (a secret header that only names variables holds no secret: it is kept)
    assert data["handshake"]["headers"] == [["Authorization", "Bearer {{token}}"], ["X-Trace", "1"], ["X-Trace", "2"]]
    assert data["variables"] == [["host", "api.example.com"], ["token", ""]]
    assert data["kept_secrets"] == ["tls.passphrase", "proxy.password", "auth.password",
                                    "auth.token", "auth.api_key_value", "auth.client_secret", "auth.cookies",
                                    "auth.login_body", "variables/token"]
    assert "s3cr3t" not in json.dumps(data) and "p ✓" not in json.dumps(data) and "pw ✓" not in json.dumps(data)
    assert data["compression"]["server_max_window_bits"] == 10
    assert data["tls"]["min_version"] == "1.3" and data["tls"]["pinned"] == [":".join(["AB"] * 32)]
    assert data["proxy"] == {"mode": "http", "host": "proxy.corp", "port": 3128, "username": "ann", "password": ""}
    assert data["auth"]["kind"] == "oauth2_client_credentials"
    assert data["auth"]["login_captures"] == [["token", "data.token"]]
    assert data["auth"]["password"] == data["auth"]["client_secret"] == data["auth"]["login_body"] == ""
    assert "id" not in data  # the id is the row's key


def test_unknown_keys_are_kept_on_top_and_inside_a_record() -> None:
    data = profile_to_dict(every_setting_changed())
    data["workspace"] = {"path": ["Team", "Staging"]}
    data["environment"] = "staging"
    data["handshake"]["cookies"] = [["session", "abc"]]
    data["tls"]["ocsp"] = "require"
    data["certificates"] = {"pinned": ["ab:cd"]}
    profile = profile_from_dict("p1", data)
    assert profile == as_stored(every_setting_changed()).with_changes(id="p1", unknown=profile.unknown)
    # changed and saved by this version: the unknown keys go back where they were
    edited = profile.with_changes(name="Renamed", handshake={"timeout_s": 9.0})
    again = json.loads(profile_to_json(edited))
    assert again["workspace"] == {"path": ["Team", "Staging"]}
    assert again["environment"] == "staging"
    assert again["certificates"] == {"pinned": ["ab:cd"]}
    assert again["handshake"]["cookies"] == [["session", "abc"]]
    assert again["handshake"]["timeout_s"] == 9.0
    assert again["tls"]["ocsp"] == "require" and again["tls"]["min_version"] == "1.3"
    assert again["name"] == "Renamed"
    # and survive another round
    assert profile_from_json("p1", json.dumps(again)).unknown == profile.unknown


def test_missing_settings_take_their_defaults() -> None:
    profile = profile_from_dict("p", {"version": PROFILE_VERSION, "name": "n", "endpoint": {"url": "ws://h/"}})
    assert profile == ConnectionProfile(name="n", endpoint=Endpoint("ws://h/"), id="p")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"handshake": {"timeout_s": "soon"}}, "handshake.timeout_s"),
        ({"limits": {"max_frame_size": 1.5}}, "limits.max_frame_size"),
        ({"protocol": {"auto_pong": 1}}, "protocol.auto_pong"),
        ({"handshake": {"headers": [["only a name"]]}}, "handshake.headers"),
        ({"health": []}, "“health” are not an object"),
        ({"name": 7}, "name"),
        ({"version": "2"}, "unknown format version"),
        ({"version": 0}, "unknown format version"),
    ],
)
def test_a_value_of_the_wrong_kind_is_named(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileFormatError, match=message):
        profile_from_dict("p", {"version": PROFILE_VERSION, "name": "n", **data})


def test_text_that_is_not_a_profile_is_refused_with_a_message() -> None:
    with pytest.raises(ProfileFormatError, match="not valid JSON"):
        profile_from_json("p", "{nope")
    with pytest.raises(ProfileFormatError, match="not a JSON object"):
        profile_from_json("p", "[]")


# -- a newer format ---------------------------------------------------------------------------------


def newer_form() -> dict[str, Any]:
    data = profile_to_dict(every_setting_changed())
    data["version"] = PROFILE_VERSION + 1
    data["handshake"]["timeout_s"] = "from a setting this version cannot read"
    data["handshake"]["cookies"] = [["a", "b"]]
    data["workspace"] = "Team"
    return data


def test_a_newer_format_is_read_as_far_as_understood_and_is_read_only() -> None:
    profile = profile_from_dict("p", newer_form())
    assert profile.read_only
    assert profile.url == "wss://{{host}}/socket?v=2"
    assert profile.health == every_setting_changed().health
    assert profile.handshake.timeout_s == Handshake().timeout_s  # not understood: the default, for this run only
    usable = with_secret_values(profile, secret_values(every_setting_changed()))
    usable.resolved({"host": "api.example.com", "token": "s3cr3t"})  # usable to connect (a token HTTP can carry)
    with pytest.raises(ReadOnlyProfileError, match=r"saved by a newer wsinspector \(profile format 3"):
        profile_to_json(profile)
    with pytest.raises(ReadOnlyProfileError):
        profile_to_json(profile.with_changes(name="Renamed"))
    with pytest.raises(ReadOnlyProfileError):
        profile_to_json(profile.duplicate("Copy"))


def test_the_store_never_writes_over_a_profile_of_a_newer_format(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    try:
        store.save_profile(every_setting_changed())
        newer = json.dumps(newer_form(), ensure_ascii=False)
        store._db.execute("UPDATE profiles SET data = ?", (newer,))
        [profile] = store.profiles()
        assert profile.read_only and profile.name == "Staging ✓"
        with pytest.raises(ReadOnlyProfileError):
            store.save_profile(profile.with_changes(name="Renamed"))
        assert store._db.execute("SELECT data FROM profiles").fetchone()[0] == newer
    finally:
        store.close()


# -- version 1 --------------------------------------------------------------------------------------


def test_the_flat_version_1_form_is_read_with_every_setting() -> None:
    flat = json.loads((DATA / "profile_v1.json").read_text(encoding="utf-8"))
    assert "version" not in flat
    profile = profile_from_dict("0123456789abcdef0123456789abcdef", flat)
    # version 1 had no record switch: every session was recorded
    # a key the flat form held for later ("folder") is read now that this version knows it
    assert profile == settings_of_older_forms().with_changes(builtin="", folder="Team")
    assert profile_to_dict(profile)["folder"] == "Team"


def test_a_database_of_schema_6_migrates_with_every_setting_intact(tmp_path: Path) -> None:
    """``data/store_v6.sqlite`` was written by the store of schema 6, when a profile was one flat object."""
    path = tmp_path / "wsinspector.sqlite3"
    shutil.copy(DATA / "store_v6.sqlite", path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 6
    before = dict(raw.execute("SELECT id, data FROM profiles").fetchall())
    raw.close()
    assert all("version" not in json.loads(data) for data in before.values())

    store = Store(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        staging, echo = store.profiles()
        assert staging == settings_of_older_forms().with_changes(builtin="")
        assert echo == ConnectionProfile(name="Local echo", endpoint=Endpoint("ws://127.0.0.1:8765/"),
                                         builtin="local-echo", id="fedcba9876543210fedcba9876543210")
        assert store.setting("theme") == "dark"
        stored = dict(store._db.execute("SELECT id, data FROM profiles").fetchall())
    finally:
        store.close()
    # the rows now hold the current form
    for profile_id, data in stored.items():
        assert json.loads(data)["version"] == PROFILE_VERSION, profile_id
    # and read the same after reopening
    store = Store(path)
    try:
        assert store.profiles() == [staging, echo]
    finally:
        store.close()
