"""Secrets of saved connections: in a real Secret Service (gnome-keyring on a bus of its own) across restarts,
out of the database file, moved out of it when an older version left them there in plaintext; in memory and
from the environment where no keyring answers, said once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.app.stored_files import raw as _raw
from tests.app.stored_files import start as _start
from tests.secret_service import secret_service  # noqa: F401  (a fixture)
from wsinspector.app.context import DB_NAME, AppContext
from wsinspector.app.secrets import SERVICE
from wsinspector.core.profiles import (
    PROXY_HTTP,
    ConnectionProfile,
    Endpoint,
    Handshake,
    MissingSecretsError,
    Proxy,
    Tls,
)
from wsinspector.core.store import Store

TOKEN = "tok-9f3a1c55e2"
PASSPHRASE = "phrase-77c1d0"
PROXY_PASSWORD = "proxy-pw-41be"
API_KEY = "api-key-0d9e6b"


def _profile() -> ConnectionProfile:
    return ConnectionProfile(
        name="Staging", endpoint=Endpoint("wss://staging.example/feed?v={{token}}"),
        handshake=Handshake(headers=(("Authorization", f"Bearer {TOKEN}"), ("X-Api-Key", API_KEY), ("X-Trace", "1")),
                            secret_headers=("Authorization", "X-Api-Key")),
        variables=(("token", TOKEN), ("region", "eu")), secret_variables=("token",),
        tls=Tls(client_cert="/certs/me.p12", passphrase=PASSPHRASE),
        proxy=Proxy(mode=PROXY_HTTP, host="proxy.corp", port=3128, username="ann", password=PROXY_PASSWORD))


def _stop(context: AppContext) -> None:
    context.shutdown()


@pytest.mark.usefixtures("secret_service")
def test_secrets_live_in_the_secret_service_and_come_back_after_a_restart(
        contexts: list[AppContext], data_dir: Path) -> None:
    context = _start(contexts, data_dir)
    assert context.secrets.persistent and "keyring" in context.secrets.where
    assert context.warnings == []
    saved = context.connections.save(_profile())
    assert saved.kept_secrets
    assert keyring.get_password(SERVICE, f"connection/{saved.id}/variables/token") == TOKEN
    assert keyring.get_password(SERVICE, f"connection/{saved.id}/headers/Authorization") == f"Bearer {TOKEN}"
    assert keyring.get_password(SERVICE, f"connection/{saved.id}/tls.passphrase") == PASSPHRASE
    assert keyring.get_password(SERVICE, f"connection/{saved.id}/proxy.password") == PROXY_PASSWORD
    _stop(context)
    raw = _raw(data_dir)
    assert b"proxy.corp" in raw  # the settings are there...
    for secret in (TOKEN, PASSPHRASE, PROXY_PASSWORD, API_KEY):
        assert secret.encode() not in raw  # ...their secrets are not

    again = _start(contexts, data_dir)
    [back] = [p for p in again.connections.profiles if p.id == saved.id]
    assert back == saved
    back.resolved()  # nothing missing

    copy = again.connections.duplicate(saved.id)
    assert keyring.get_password(SERVICE, f"connection/{copy.id}/tls.passphrase") == PASSPHRASE
    again.connections.delete(saved.id)
    for path in ("variables/token", "headers/Authorization", "headers/X-Api-Key", "tls.passphrase",
                 "proxy.password"):
        assert keyring.get_password(SERVICE, f"connection/{saved.id}/{path}") is None
    assert keyring.get_password(SERVICE, f"connection/{copy.id}/proxy.password") == PROXY_PASSWORD

    # a secret no longer marked secret is forgotten by the keyring (and stored with the connection)
    unmarked = again.connections.save(copy.with_changes(handshake={"secret_headers": ("Authorization",)}))
    assert keyring.get_password(SERVICE, f"connection/{unmarked.id}/headers/X-Api-Key") is None


def _bus_connections() -> int:
    """How many connections the session bus has accepted so far: the number of a new one's unique name
    (":1.7", ":1.8", ... count up), the probe's own included."""
    from contextlib import closing

    from jeepney.io.blocking import open_dbus_connection

    with closing(open_dbus_connection("SESSION")) as probe:
        return int(probe.unique_name.rsplit(".", 1)[1])


def _open_sessions() -> int:
    """How many Secret Service sessions the daemon keeps open (children of its session path)."""
    from contextlib import closing

    from jeepney import Introspectable
    from jeepney.io.blocking import open_dbus_connection

    sessions = Introspectable("/org/freedesktop/secrets/session", bus_name="org.freedesktop.secrets")
    with closing(open_dbus_connection("SESSION")) as connection:
        xml = connection.send_and_get_reply(sessions.Introspect()).body[0]
    return xml.count("<node name=")


@pytest.mark.usefixtures("secret_service")
def test_the_app_talks_to_the_secret_service_over_one_connection_as_gnome_keyring_dies_under_many(
        contexts: list[AppContext], data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the keyring keyring finds on its own (nothing configured), the app reads, writes and forgets over
    one connection and one session: keyring's own backend opens a connection per call, each with a session for
    a secret, and GNOME Keyring aborts under that churn on a busy machine."""
    from wsinspector.app.secret_service import HeldSecretService

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    keyring.core.init_backend()  # what keyring finds on a desktop
    context = _start(contexts, data_dir)
    assert context.secrets.persistent and isinstance(keyring.get_keyring(), HeldSecretService)
    first = _bus_connections()
    for _ in range(3):
        saved = context.connections.save(_profile())  # four secrets each
        assert context.secrets.get(f"connection/{saved.id}/tls.passphrase") == PASSPHRASE
        context.connections.delete(saved.id)
    assert _bus_connections() - first == 1  # the probe's own: the app opened none
    assert _open_sessions() == 1
    assert keyring.get_credential(SERVICE, None) is None  # all forgotten; and the connection stays the app's
    again = context.connections.save(_profile())
    assert context.secrets.get(f"connection/{again.id}/proxy.password") == PROXY_PASSWORD
    assert not context.secrets.lost


def test_secrets_still_come_and_go_after_the_keyring_daemon_restarted(
        contexts: list[AppContext], data_dir: Path, secret_service: Any) -> None:  # noqa: F811
    """The keyring daemon restarts (crashed and started again) on the same bus while the app runs: the app's
    held connection reaches the new one, and the session the old one had is opened again, unnoticed."""
    context = _start(contexts, data_dir)
    saved = context.connections.save(_profile())
    assert context.secrets.get(f"connection/{saved.id}/tls.passphrase") == PASSPHRASE  # a session is open
    secret_service.restart()
    assert context.secrets.get(f"connection/{saved.id}/tls.passphrase") == PASSPHRASE
    again = context.connections.save(_profile())
    assert context.secrets.get(f"connection/{again.id}/proxy.password") == PROXY_PASSWORD
    context.connections.delete(saved.id)
    assert keyring.get_password(SERVICE, f"connection/{saved.id}/tls.passphrase") is None
    assert not context.secrets.lost and context.secrets.persistent


@pytest.mark.usefixtures("secret_service")
def test_plaintext_secrets_of_an_older_version_move_into_the_keyring_and_out_of_the_file(
        contexts: list[AppContext], data_dir: Path) -> None:
    store = Store(data_dir / DB_NAME)
    old = ConnectionProfile(name="Old", endpoint=Endpoint("wss://old.example/"),
                            handshake=Handshake(headers=(("Authorization", f"Bearer {TOKEN}"), ("X-Trace", "1"))),
                            variables=(("api_key", API_KEY), ("region", "eu")))
    store.save_profile(old)  # as an older version stored it: nothing marked secret
    store.close()
    assert TOKEN.encode() in _raw(data_dir) and API_KEY.encode() in _raw(data_dir)

    context = _start(contexts, data_dir)
    assert context.warnings == []
    [moved] = [p for p in context.connections.profiles if p.id == old.id]
    assert moved.handshake.secret_headers == ("Authorization",) and moved.secret_variables == ("api_key",)
    assert moved.handshake.headers == old.handshake.headers and moved.variables == old.variables
    assert keyring.get_password(SERVICE, f"connection/{old.id}/headers/Authorization") == f"Bearer {TOKEN}"
    assert keyring.get_password(SERVICE, f"connection/{old.id}/variables/api_key") == API_KEY
    raw = _raw(data_dir)
    assert b"old.example" in raw
    assert TOKEN.encode() not in raw and API_KEY.encode() not in raw
    _stop(context)
    raw = _raw(data_dir)
    assert TOKEN.encode() not in raw and API_KEY.encode() not in raw


def test_without_a_keyring_secrets_stay_in_memory_and_the_start_says_so_once(
        qtbot: Any, contexts: list[AppContext], data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WSINSPECTOR_KEYRING")  # the suite's "memory" choice: here keyring's placeholder answers
    context = _start(contexts, data_dir)
    assert not context.secrets.persistent
    [warning] = context.warnings
    assert warning.startswith("No usable keyring (")
    assert "kept only while wsinspector runs" in warning and "WSINSPECTOR_SECRET_" in warning
    saved = context.connections.save(_profile())
    assert context.connections.get(saved.id) == saved  # usable while the app runs
    _stop(context)
    for secret in (TOKEN, PASSPHRASE, PROXY_PASSWORD, API_KEY):
        assert secret.encode() not in _raw(data_dir)

    # after a restart: what the environment gives is back, what it does not is named when connecting
    monkeypatch.setenv("WSINSPECTOR_SECRET_TOKEN", TOKEN)
    monkeypatch.setenv("WSINSPECTOR_SECRET_HEADER_AUTHORIZATION", f"Bearer {TOKEN}")
    again = _start(contexts, data_dir)
    assert len(again.warnings) == 1
    back = again.connections.get(saved.id)
    assert back is not None
    assert dict(back.variables)["token"] == TOKEN
    assert back.tls.passphrase == "" and back.proxy.password == ""
    with pytest.raises(MissingSecretsError) as missing:
        back.resolved()
    assert missing.value.paths == ["headers/X-Api-Key", "tls.passphrase", "proxy.password"]
    assert "WSINSPECTOR_SECRET_TLS_PASSPHRASE" in str(missing.value)
    assert "WSINSPECTOR_SECRET_HEADER_X_API_KEY" in str(missing.value)
    with qtbot.waitSignal(again.session.failed, timeout=5000) as failed:
        assert not again.session.connect_to(back)
    assert "“Staging” has no value for its secrets headers/X-Api-Key, tls.passphrase" in failed.args[0].message


def test_a_secret_service_that_is_not_there_is_said_and_plaintext_stays_until_one_is(
        contexts: list[AppContext], data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from keyring.backends import SecretService, fail

    store = Store(data_dir / DB_NAME)
    store.save_profile(ConnectionProfile(name="Old", variables=(("password", "hunter2-plain"),)))
    store.close()
    monkeypatch.delenv("WSINSPECTOR_KEYRING")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    keyring.set_keyring(SecretService.Keyring())
    try:
        context = _start(contexts, data_dir)
    finally:
        keyring.set_keyring(fail.Keyring())
    assert not context.secrets.persistent
    keeper_warning, plaintext_warning = context.warnings
    assert keeper_warning.startswith("No usable keyring (")
    assert "“Old”" in plaintext_warning and "plaintext" in plaintext_warning
    [old] = context.connections.profiles
    assert old.secret_variables == () and dict(old.variables)["password"] == "hunter2-plain"
