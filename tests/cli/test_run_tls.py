"""``wsinspector run`` reaches the endpoints the window reaches: a private CA, a client certificate, a trusted
fingerprint, no verification (said out loud), another address under the URL's name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.cli.test_run import write_test
from tests.net.pki import Authority
from tests.peers import WebsocketsPeer

ECHO = """\
version: 1
name: tls echo
url: {url}
timeout: 5
steps:
  - send:
      text: over TLS
  - expect:
      text: over TLS
"""


def _wss(peer: WebsocketsPeer, host: str = "127.0.0.1") -> str:
    port = peer.url.rstrip("/").rsplit(":", 1)[1]
    return f"wss://{host}:{port}/"


def test_run_trusts_a_private_ca_and_a_client_certificate(cli: Cli, tmp_path: Path,
                                                         websockets_server: Callable[..., Any]) -> None:
    ca = Authority(tmp_path)
    (tmp_path / "clients").mkdir()
    clients = Authority(tmp_path / "clients", "client CA")
    client = clients.issue("carol", hosts=(), client=True)
    peer = websockets_server(ssl=ca.issue("server").server_context(client_ca=clients.cert))
    path = write_test(tmp_path, ECHO.format(url=_wss(peer)))

    untrusted = cli("run", str(path), "--no-record")
    assert untrusted.returncode != 0
    assert "certificate" in untrusted.output.lower()

    no_identity = cli("run", str(path), "--no-record", "--ca-file", str(ca.cert))
    assert no_identity.returncode != 0  # the server wants our certificate

    passed = cli("run", str(path), "--no-record", "--ca-file", str(ca.cert), "--client-cert", str(client.cert),
                 "--client-key", str(client.key))
    assert passed.returncode == 0, passed.output
    assert passed.stdout.splitlines()[-1].startswith("PASSED")


def test_run_trusts_a_fingerprint_or_nothing_and_says_so(cli: Cli, tmp_path: Path,
                                                         websockets_server: Callable[..., Any]) -> None:
    ca = Authority(tmp_path)
    server = ca.issue("server", expired=True)
    peer = websockets_server(ssl=server.server_context())
    path = write_test(tmp_path, ECHO.format(url=_wss(peer)))

    pinned = cli("run", str(path), "--no-record", "--trust-cert", server.sha256)
    assert pinned.returncode == 0, pinned.output

    insecure = cli("run", str(path), "--no-record", "--insecure")
    assert insecure.returncode == 0, insecure.output
    assert "warning: --insecure: the server's certificate is not verified" in insecure.stderr

    bad = cli("run", str(path), "--no-record", "--trust-cert", "12:34")
    assert bad.returncode == 2
    assert "'12:34' is not a SHA-256 fingerprint" in bad.stderr


def test_run_connects_to_another_address_under_the_urls_name(cli: Cli, tmp_path: Path,
                                                              websockets_server: Callable[..., Any]) -> None:
    ca = Authority(tmp_path)
    peer = websockets_server(ssl=ca.issue("backend", hosts=("api.wsinspector.invalid",)).server_context())
    port = peer.url.rstrip("/").rsplit(":", 1)[1]
    path = write_test(tmp_path, ECHO.format(url=f"wss://api.wsinspector.invalid:{port}/"))
    result = cli("run", str(path), "--no-record", "--ca-file", str(ca.cert), "--connect-to", f"127.0.0.1:{port}")
    assert result.returncode == 0, result.output
    assert peer.request_headers["Host"] == f"api.wsinspector.invalid:{port}"


def test_a_test_file_names_its_tls_settings_relative_to_itself(cli: Cli, tmp_path: Path,
                                                                websockets_server: Callable[..., Any]) -> None:
    (tmp_path / "certs").mkdir()
    ca = Authority(tmp_path / "certs", "team CA")
    peer = websockets_server(ssl=ca.issue("server").server_context())
    suite = tmp_path / "suite"
    suite.mkdir()
    body = ECHO.format(url=_wss(peer)) + "tls:\n  ca_file: ../certs/team-CA.pem\n"
    path = write_test(suite, body)
    result = cli("run", str(path), "--no-record")
    assert result.returncode == 0, result.output
    broken = write_test(suite, body.replace("team-CA.pem", "nobody.pem"), "broken.wstest.yaml")
    missing = cli("run", str(broken), "--no-record")
    assert missing.returncode == 2
    assert f"The CA file {suite / '..' / 'certs' / 'nobody.pem'} does not exist" in missing.output


def test_run_goes_through_a_proxy(cli: Cli, tmp_path: Path, proxy_server: Callable[..., Any],
                                  websockets_server: Callable[..., Any]) -> None:
    proxy = proxy_server()
    peer = websockets_server()
    path = write_test(tmp_path, ECHO.format(url=peer.url))
    port = peer.url.rstrip("/").rsplit(":", 1)[1]
    result = cli("run", str(path), "--no-record", "--proxy", f"socks5://127.0.0.1:{proxy.port}")
    assert result.returncode == 0, result.output
    assert proxy.saw(f"-> 127.0.0.1:{port}")


def test_run_gives_a_proxy_its_password_and_never_shows_or_records_it(
        cli: Cli, tmp_path: Path, proxy_server: Callable[..., Any], websockets_server: Callable[..., Any]) -> None:
    proxy = proxy_server(auth="ann:pr0xy-s3cret")
    peer = websockets_server()
    path = write_test(tmp_path, ECHO.format(url=peer.url))
    data = tmp_path / "recorded"
    wrong = cli("run", str(path), "--data-dir", str(data), "--proxy", f"http://ann:wr0ng-pw@127.0.0.1:{proxy.port}")
    assert wrong.returncode != 0
    assert "refused the user name 'ann'" in wrong.output, wrong.output
    passed = cli("run", str(path), "--data-dir", str(data), "--proxy",
                 f"socks5://ann:pr0xy-s3cret@127.0.0.1:{proxy.port}")
    assert passed.returncode == 0, passed.output
    from_env = cli("run", str(path), "--data-dir", str(data), "--proxy", f"http://ann@127.0.0.1:{proxy.port}",
                   "--proxy-password-env", "TEAM_PROXY_PASSWORD", env={"TEAM_PROXY_PASSWORD": "pr0xy-s3cret"})
    assert from_env.returncode == 0, from_env.output
    for result in (wrong, passed, from_env):
        assert "pr0xy-s3cret" not in result.output and "wr0ng-pw" not in result.output
    recorded = b"".join(f.read_bytes() for f in data.rglob("*") if f.is_file())
    assert recorded and b"pr0xy-s3cret" not in recorded and b"wr0ng-pw" not in recorded


def test_run_opens_a_client_key_with_a_passphrase_from_the_environment(
        cli: Cli, tmp_path: Path, websockets_server: Callable[..., Any]) -> None:
    from cryptography.hazmat.primitives import serialization

    ca = Authority(tmp_path)
    (tmp_path / "clients").mkdir()
    clients = Authority(tmp_path / "clients", "client CA")
    client = clients.issue("dave", hosts=(), client=True)
    locked = tmp_path / "dave-locked.key"
    locked.write_bytes(client.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"k3y-passphrase")))
    peer = websockets_server(ssl=ca.issue("server").server_context(client_ca=clients.cert))
    path = write_test(tmp_path, ECHO.format(url=_wss(peer)))
    options = ("run", str(path), "--no-record", "--ca-file", str(ca.cert), "--client-cert", str(client.cert),
               "--client-key", str(locked))
    locked_out = cli(*options)
    assert locked_out.returncode == 2
    assert f"The client key in {locked} is protected by a passphrase" in locked_out.output
    unset = cli(*options, "--client-key-passphrase-env", "DAVE_KEY_PASSPHRASE", env={"DAVE_KEY_PASSPHRASE": None})
    assert unset.returncode == 2
    assert "--client-key-passphrase-env DAVE_KEY_PASSPHRASE: the environment has no variable" in unset.output
    wrong = cli(*options, "--client-key-passphrase-env", "DAVE_KEY_PASSPHRASE", env={"DAVE_KEY_PASSPHRASE": "guess"})
    assert wrong.returncode != 0
    assert f"The passphrase does not open the client key in {locked}" in wrong.output
    passed = cli(*options, "--client-key-passphrase-env", "DAVE_KEY_PASSPHRASE",
                 env={"DAVE_KEY_PASSPHRASE": "k3y-passphrase"})
    assert passed.returncode == 0, passed.output
    assert "k3y-passphrase" not in passed.output


def test_a_secret_the_url_carries_is_not_recorded_with_the_run(cli: Cli, tmp_path: Path,
                                                               websockets_server: Callable[..., Any]) -> None:
    peer = websockets_server()
    path = write_test(tmp_path, ECHO.format(url=peer.url + "?client={{pin}}"))
    data = tmp_path / "recorded"
    result = cli("run", str(path), "--data-dir", str(data), "--var", "pin", env={"pin": "p1n-0c4e9b7a"})
    assert result.returncode == 0, result.output
    assert "p1n-0c4e9b7a" not in result.output
    recorded = b"".join(f.read_bytes() for f in data.rglob("*") if f.is_file())
    assert b"?client=REDACTED" in recorded and b"p1n-0c4e9b7a" not in recorded


@pytest.mark.parametrize("engine", ["wire", "qt"])
@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_run_says_a_proxy_from_the_command_line_wants_credentials_and_how_to_give_them(
        cli: Cli, tmp_path: Path, proxy_server: Callable[..., Any], websockets_server: Callable[..., Any],
        engine: str, scheme: str) -> None:
    proxy = proxy_server(auth="ann:pr0xy-s3cret")
    peer = websockets_server()
    path = write_test(tmp_path, ECHO.format(url=peer.url))
    result = cli("run", str(path), "--no-record", "--engine", engine, "--proxy", f"{scheme}://127.0.0.1:{proxy.port}")
    assert result.returncode == 2, result.output
    assert f"{scheme}://127.0.0.1:{proxy.port} (from --proxy)" in result.stdout, result.output
    assert "wants a user name and password" in result.stdout, result.output
    assert "give them with --proxy (scheme://USER@host:port) and --proxy-password-env VAR" in result.stdout
    assert "connection's" not in result.stdout


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_run_names_an_untrusted_certificate_and_one_that_changed_since_it_was_trusted(
        cli: Cli, tmp_path: Path, websockets_server: Callable[..., Any], engine: str) -> None:
    ca = Authority(tmp_path)
    trusted, now = ca.issue("selfA"), ca.issue("selfB")
    peer = websockets_server(ssl=now.server_context())
    path = write_test(tmp_path, ECHO.format(url=_wss(peer)))

    untrusted = cli("run", str(path), "--no-record", "--engine", engine)
    assert untrusted.returncode == 2
    assert f"SHA-256 {now.sha256}" in untrusted.stdout, untrusted.output
    assert "--ca-file" in untrusted.stdout and f"--trust-cert {now.sha256}" in untrusted.stdout

    changed = cli("run", str(path), "--no-record", "--engine", engine, "--trust-cert", trusted.sha256)
    assert changed.returncode == 2
    assert (f"the certificate differs from the one you trusted (trusted {trusted.sha256[:11]}…, now "
            f"{now.sha256[:11]}…)") in changed.stdout, changed.output
    assert "--trust-cert" not in changed.stdout


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_run_says_a_wrong_pkcs12_passphrase_in_its_own_words_only(
        cli: Cli, tmp_path: Path, websockets_server: Callable[..., Any], engine: str) -> None:
    ca = Authority(tmp_path)
    client = ca.issue("erin", hosts=(), client=True)
    bundle = client.pkcs12(tmp_path / "erin.p12", b"p12-pass")
    peer = websockets_server(ssl=ca.issue("server").server_context(client_ca=ca.cert))
    path = write_test(tmp_path, ECHO.format(url=_wss(peer)))
    wrong = cli("run", str(path), "--no-record", "--engine", engine, "--ca-file", str(ca.cert), "--client-cert",
                str(bundle), "--client-key-passphrase-env", "ERIN_PASS", env={"ERIN_PASS": "guess"})
    assert wrong.returncode == 2
    assert f"Cannot read the PKCS#12 file {bundle} with the passphrase given" in wrong.output
    assert "PKCS#12 structure" not in wrong.output and "qt.tlsbackend" not in wrong.output, wrong.stderr


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_run_names_an_oldest_version_the_server_does_not_reach(
        cli: Cli, tmp_path: Path, websockets_server: Callable[..., Any], engine: str) -> None:
    import ssl

    ca = Authority(tmp_path)
    peer = websockets_server(ssl=ca.issue("server").server_context(maximum=ssl.TLSVersion.TLSv1_2))
    path = write_test(tmp_path, ECHO.format(url=_wss(peer)))
    result = cli("run", str(path), "--no-record", "--engine", engine, "--ca-file", str(ca.cert), "--tls-min", "1.3")
    assert result.returncode == 2
    assert "the oldest TLS version accepted is 1.3" in result.stdout and "--tls-min" in result.stdout, result.output
    assert "use ws://" not in result.stdout
