"""The app-wide connection defaults against real peers, with both engines: a private CA and a client certificate
set once for the app reach a server that connections know nothing about; a connection's own CA file wins; the
app-wide proxy carries connections left at the system's setting and not those set to "none". The defaults
survive a restart, and their secret values never reach the SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningProxy
from tests.net.pki import Authority
from wsinspector.app.context import AppContext
from wsinspector.app.defaults import DefaultsController
from wsinspector.core.connection_defaults import ConnectionDefaults, secret_key
from wsinspector.core.events import ConnectionState, FailureKind
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Protocol, Proxy, Tls
from wsinspector.core.secrets import MemoryKeeper
from wsinspector.core.store import Store

WAIT_MS = 10_000
ENGINES = ("wire", "qt")
PASSPHRASE = "p12-passphrase-never-stored"
PROXY_PASSWORD = "proxy-password-never-stored"


@pytest.fixture
def context(qtbot: Any, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, start_echo=False)
    yield ctx
    ctx.shutdown()
    ctx.deleteLater()


def _wss(url: str) -> str:
    return f"wss://127.0.0.1:{url.rstrip('/').rsplit(':', 1)[1]}/"


def _profile(url: str, engine: str, **records: Any) -> ConnectionProfile:
    return ConnectionProfile(name="plain", endpoint=Endpoint(url), protocol=Protocol(engine=engine),
                             **records)


def _disconnect(qtbot: Any, context: AppContext) -> None:
    context.session.disconnect()
    qtbot.waitUntil(lambda: context.session.state is ConnectionState.CLOSED, timeout=WAIT_MS)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_connection_without_tls_settings_reaches_a_private_ca_server_through_the_app_defaults(
        qtbot: Any, context: AppContext, tmp_path: Path, websockets_server: Callable[..., Any], engine: str) -> None:
    ca = Authority(tmp_path)
    (tmp_path / "clients").mkdir()
    clients = Authority(tmp_path / "clients", "client CA")
    identity = clients.issue("carol", hosts=(), client=True).pkcs12(tmp_path / "carol.p12", PASSPHRASE.encode())
    peer = websockets_server(ssl=ca.issue("server").server_context(client_ca=clients.cert))
    session = context.session
    plain = _profile(_wss(peer.url), engine)

    with qtbot.waitSignal(session.failed, timeout=WAIT_MS) as blocker:
        session.connect_to(plain)
    assert blocker.args[0].kind is FailureKind.TLS  # no defaults yet: the CA is not trusted

    context.defaults.save(ConnectionDefaults(tls=Tls(ca_file=str(ca.cert), client_cert=str(identity),
                                                     passphrase=PASSPHRASE)))
    with qtbot.waitSignal(session.opened, timeout=WAIT_MS):
        assert session.connect_to(plain)
    session_id = session.session_id
    _disconnect(qtbot, context)
    assert session_id is not None
    said = [text for _, _, kind, text in context.store.events(session_id) if kind == "defaults"]
    assert said == [f"app-wide connection defaults: CA file {ca.cert}; client certificate {identity}"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_connections_own_ca_file_wins_over_the_app_default(qtbot: Any, context: AppContext, tmp_path: Path,
                                                             websockets_server: Callable[..., Any],
                                                             engine: str) -> None:
    ca = Authority(tmp_path)
    (tmp_path / "other").mkdir()
    other = Authority(tmp_path / "other", "another CA")
    peer = websockets_server(ssl=ca.issue("server").server_context())
    context.defaults.save(ConnectionDefaults(tls=Tls(ca_file=str(ca.cert))))
    own = _profile(_wss(peer.url), engine, tls=Tls(ca_file=str(other.cert)))
    with qtbot.waitSignal(context.session.failed, timeout=WAIT_MS) as blocker:
        context.session.connect_to(own)
    assert blocker.args[0].kind is FailureKind.TLS
    with qtbot.waitSignal(context.session.opened, timeout=WAIT_MS):
        assert context.session.connect_to(_profile(_wss(peer.url), engine))
    _disconnect(qtbot, context)


@pytest.mark.parametrize("engine", ENGINES)
def test_verification_off_app_wide_is_said_and_recorded_with_the_session(qtbot: Any, context: AppContext,
                                                                         tmp_path: Path,
                                                                         websockets_server: Callable[..., Any],
                                                                         engine: str) -> None:
    peer = websockets_server(ssl=Authority(tmp_path).issue("server").server_context())
    context.defaults.save(ConnectionDefaults(tls=Tls(verify=False)))
    with qtbot.waitSignal(context.session.opened, timeout=WAIT_MS):
        assert context.session.connect_to(_profile(_wss(peer.url), engine))
    session_id = context.session.session_id
    _disconnect(qtbot, context)
    assert session_id is not None
    kinds = {kind: text for _, _, kind, text in context.store.events(session_id)}
    assert kinds["tls"] == "the server's certificate is not verified: any certificate is accepted"
    assert "no verification of the server's certificate" in kinds["defaults"]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_app_proxy_carries_connections_left_at_the_systems_setting_only(
        qtbot: Any, context: AppContext, proxy_server: Callable[..., RunningProxy],
        websockets_server: Callable[..., Any], engine: str) -> None:
    proxy = proxy_server(auth="ann:" + PROXY_PASSWORD)
    peer = websockets_server()
    port = peer.url.rstrip("/").rsplit(":", 1)[1]
    context.defaults.save(ConnectionDefaults(proxy=Proxy(mode="http", host="127.0.0.1", port=proxy.port,
                                                         username="ann", password=PROXY_PASSWORD)))
    direct = _profile(peer.url, engine, proxy=Proxy(mode="none"))
    with qtbot.waitSignal(context.session.opened, timeout=WAIT_MS):
        assert context.session.connect_to(direct)
    _disconnect(qtbot, context)
    assert not proxy.saw("->")

    with qtbot.waitSignal(context.session.opened, timeout=WAIT_MS):
        assert context.session.connect_to(_profile(peer.url, engine))
    _disconnect(qtbot, context)
    qtbot.waitUntil(lambda: proxy.saw(f"-> 127.0.0.1:{port}"), timeout=WAIT_MS)


def test_the_defaults_survive_a_restart_and_their_secrets_never_reach_sqlite(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    keeper = MemoryKeeper()  # the keyring outlives the app
    defaults = ConnectionDefaults(
        tls=Tls(ca_file="/etc/ssl/corp-ca.pem", client_cert="/home/ann/ann.p12", passphrase=PASSPHRASE,
                min_version="1.2"),
        proxy=Proxy(mode="socks5", host="proxy.corp", port=1080, username="ann", password=PROXY_PASSWORD))
    store = Store(path)
    controller = DefaultsController(store, keeper)
    with qtbot.waitSignal(controller.changed, timeout=WAIT_MS):
        controller.save(defaults)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("store.sqlite3"))
    assert b"/etc/ssl/corp-ca.pem" in raw  # the settings are there...
    assert PASSPHRASE.encode() not in raw and PROXY_PASSWORD.encode() not in raw  # ...their secrets are not
    assert keeper.get(secret_key("tls.passphrase")) == PASSPHRASE

    store = Store(path)
    again = DefaultsController(store, keeper)
    assert again.defaults == defaults and again.missing == []
    # a keyring that lost a secret: the rest is read, and the lost one is named
    keeper.delete(secret_key("proxy.password"))
    lost = DefaultsController(store, keeper)
    assert lost.missing == ["proxy.password"] and lost.defaults.tls.passphrase == PASSPHRASE
    # an emptied secret is forgotten by the keyring too
    again.save(ConnectionDefaults(tls=defaults.tls))
    assert keeper.get(secret_key("tls.passphrase")) == PASSPHRASE
    again.save(ConnectionDefaults())
    assert keeper.get(secret_key("tls.passphrase")) is None
    store.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_test_run_uses_the_app_defaults_and_its_own_tls_wins(qtbot: Any, tmp_path: Path,
                                                              websockets_server: Callable[..., Any],
                                                              engine: str) -> None:
    from wsinspector.app.replayer import ReplayController
    from wsinspector.core.scenario.model import ExpectStep, Scenario, SendStep, TextMatcher, TextPayload

    ca = Authority(tmp_path)
    (tmp_path / "other").mkdir()
    other = Authority(tmp_path / "other", "another CA")
    peer = websockets_server(ssl=ca.issue("server").server_context())
    steps = (SendStep(TextPayload("hi")), ExpectStep(TextMatcher("hi")))
    defaults = ConnectionDefaults(tls=Tls(ca_file=str(ca.cert)))

    def run(test: Scenario) -> Any:
        controller = ReplayController(test, engine=engine, defaults=defaults)
        with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as blocker:
            controller.start()
        controller.deleteLater()
        return blocker.args[0]

    assert run(Scenario("plain", _wss(peer.url), steps)).ok
    own = run(Scenario("own CA", _wss(peer.url), steps, tls=Tls(ca_file=str(other.cert))))
    assert not own.ok and "certificate" in own.error.lower()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failure_through_the_app_proxy_names_the_defaults_as_where_it_is_set(
        qtbot: Any, context: AppContext, proxy_server: Callable[..., RunningProxy],
        websockets_server: Callable[..., Any], engine: str) -> None:
    proxy = proxy_server(auth="ann:" + PROXY_PASSWORD)
    peer = websockets_server()
    context.defaults.save(ConnectionDefaults(proxy=Proxy(mode="http", host="127.0.0.1", port=proxy.port,
                                                         username="ann", password="not-the-password")))
    with qtbot.waitSignal(context.session.failed, timeout=WAIT_MS) as failed:
        context.session.connect_to(_profile(peer.url, engine))
    message = failed.args[0].message
    assert f"http://127.0.0.1:{proxy.port} (from the app's connection defaults)" in message, message
    assert "not-the-password" not in message
    # the connection's own proxy is named as its own
    own = Proxy(mode="http", host="127.0.0.1", port=proxy.port, username="ann", password="also-wrong")
    qtbot.waitUntil(lambda: context.session.state is ConnectionState.CLOSED, timeout=WAIT_MS)
    with qtbot.waitSignal(context.session.failed, timeout=WAIT_MS) as failed:
        context.session.connect_to(_profile(peer.url, engine, proxy=own))
    assert "(from the connection's settings)" in failed.args[0].message
