"""``wsinspector run`` applies the app-wide connection defaults kept in the data folder (command-line options win,
``--no-defaults`` goes without them), and ``wsinspector defaults`` prints them without secret values."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli
from tests.cli.test_run import write_test
from tests.cli.test_run_tls import ECHO, _wss
from tests.net.pki import Authority
from wsinspector.app.context import DB_NAME
from wsinspector.app.defaults import DefaultsController
from wsinspector.core.connection_defaults import ConnectionDefaults
from wsinspector.core.profiles import Proxy, Tls
from wsinspector.core.secrets import MemoryKeeper
from wsinspector.core.store import Store

PASSPHRASE = "cli-p12-passphrase"


def _keep(data: Path, defaults: ConnectionDefaults) -> None:
    data.mkdir(exist_ok=True)
    store = Store(data / DB_NAME)
    try:
        DefaultsController(store, MemoryKeeper()).save(defaults)
    finally:
        store.close()


def test_run_uses_the_app_defaults_and_the_command_line_wins(cli: Cli, tmp_path: Path,
                                                            websockets_server: Callable[..., Any]) -> None:
    ca = Authority(tmp_path)
    (tmp_path / "clients").mkdir()
    clients = Authority(tmp_path / "clients", "client CA")
    identity = clients.issue("carol", hosts=(), client=True).pkcs12(tmp_path / "carol.p12", PASSPHRASE.encode())
    peer = websockets_server(ssl=ca.issue("server").server_context(client_ca=clients.cert))
    path = write_test(tmp_path, ECHO.format(url=_wss(peer)))
    data = tmp_path / "data"
    _keep(data, ConnectionDefaults(tls=Tls(ca_file=str(ca.cert), client_cert=str(identity), passphrase=PASSPHRASE)))
    # the keyring of this test keeps nothing between processes: the environment gives the passphrase
    secret = {"WSINSPECTOR_SECRET_TLS_PASSPHRASE": PASSPHRASE}

    passed = cli("run", str(path), "--data-dir", str(data), "--no-record", env=secret)
    assert passed.returncode == 0, passed.output
    assert f"using the app-wide connection defaults from {data / DB_NAME}: CA file {ca.cert}" in passed.stderr
    assert PASSPHRASE not in passed.output

    without = cli("run", str(path), "--data-dir", str(data), "--no-record", "--no-defaults", env=secret)
    assert without.returncode != 0 and "certificate" in without.output.lower()
    assert "app-wide" not in without.stderr

    other = Authority(tmp_path / "clients", "another CA")
    overruled = cli("run", str(path), "--data-dir", str(data), "--no-record", "--ca-file", str(other.cert), env=secret)
    assert overruled.returncode != 0  # the command line's CA file wins, and it does not trust this server

    no_passphrase = cli("run", str(path), "--data-dir", str(data), "--no-record")
    assert no_passphrase.returncode == 2
    assert ("warning: the keyring here has no value for the connection defaults' tls.passphrase: give it with "
            "--client-key-passphrase-env or WSINSPECTOR_SECRET_TLS_PASSPHRASE") in no_passphrase.stderr
    given = cli("run", str(path), "--data-dir", str(data), "--no-record", "--client-key-passphrase-env", "P12",
                env={"P12": PASSPHRASE})
    assert given.returncode == 0, given.output


def test_run_uses_the_app_proxy_unless_told_otherwise(cli: Cli, tmp_path: Path, proxy_server: Callable[..., Any],
                                                     websockets_server: Callable[..., Any]) -> None:
    proxy = proxy_server()
    peer = websockets_server()
    port = peer.url.rstrip("/").rsplit(":", 1)[1]
    path = write_test(tmp_path, ECHO.format(url=peer.url))
    data = tmp_path / "data"
    _keep(data, ConnectionDefaults(proxy=Proxy(mode="socks5", host="127.0.0.1", port=proxy.port)))
    direct = cli("run", str(path), "--data-dir", str(data), "--no-record", "--proxy", "none")
    assert direct.returncode == 0, direct.output
    assert not proxy.saw("->")
    through = cli("run", str(path), "--data-dir", str(data), "--no-record")
    assert through.returncode == 0, through.output
    assert f"proxy socks5://127.0.0.1:{proxy.port}" in through.stderr
    assert proxy.saw(f"-> 127.0.0.1:{port}")


def test_defaults_prints_them_without_secret_values(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    empty = cli("defaults", "--data-dir", str(data), "--json")
    assert empty.returncode == 0, empty.output
    assert json.loads(empty.stdout)["store"] is None
    assert not data.exists()  # reading never makes a store

    _keep(data, ConnectionDefaults(tls=Tls(ca_file="/etc/ssl/corp-ca.pem", passphrase=PASSPHRASE, verify=False),
                                   proxy=Proxy(mode="http", host="proxy.corp", port=3128, username="ann",
                                               password="proxy-pw-never-printed")))
    as_json = cli("defaults", "--data-dir", str(data), "--json")
    assert as_json.returncode == 0, as_json.output
    out = json.loads(as_json.stdout)
    assert out["tls"]["ca_file"] == "/etc/ssl/corp-ca.pem" and out["tls"]["verify"] is False
    assert out["proxy"] == {"mode": "http", "host": "proxy.corp", "port": 3128, "username": "ann"}
    assert out["secrets"] == {"tls.passphrase": "kept", "proxy.password": "kept"}
    text = cli("defaults", "--data-dir", str(data))
    assert "  CA file: /etc/ssl/corp-ca.pem" in text.stdout
    assert "  Verification: OFF: any certificate is accepted" in text.stdout
    assert "  Proxy: http://proxy.corp:3128 (user ann)" in text.stdout
    for result in (as_json, text):
        assert PASSPHRASE not in result.output and "proxy-pw-never-printed" not in result.output

    (data / DB_NAME).write_bytes(b"not a database at all" * 100)
    broken = cli("defaults", "--data-dir", str(data))
    assert broken.returncode == 2
    assert broken.stderr.startswith("wsinspector: defaults: ") and "Traceback" not in broken.stderr
