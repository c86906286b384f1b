"""``wsinspector proxy`` in front of a wss:// upstream with a self-signed certificate: verified by default (the
client gets a 502 naming the certificate and its fingerprint), trusted by that fingerprint (``--trust-cert``),
by its CA file (``--ca-file``), or not verified at all (``--insecure``, said at start)."""

from __future__ import annotations

import hashlib
import re
import signal
import ssl
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.cli.conftest import Cli
from wsinspector.core.self_signed import self_signed_localhost


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The upstream's certificate and key files and the certificate's SHA-256 fingerprint."""
    folder = tmp_path_factory.mktemp("pki")
    certificate, key = self_signed_localhost()
    cert_path, key_path = folder / "upstream.pem", folder / "upstream.key"
    cert_path.write_bytes(certificate)
    key_path.write_bytes(key)
    der = ssl.PEM_cert_to_DER_cert(certificate.decode())
    return cert_path, key_path, hashlib.sha256(der).hexdigest()


async def _through(url: str) -> str:
    try:
        async with connect(url) as ws:
            await ws.send("secure hop")
            return str(await ws.recv())
    except InvalidStatus as exc:
        return f"HTTP {exc.response.status_code}: {bytes(exc.response.body or b'').decode()}"


@pytest.mark.parametrize("trust", ["none", "trust-cert", "ca-file", "insecure"])
def test_a_self_signed_upstream_is_refused_unless_trusted(cli: Cli, qtbot: Any, run: Any, websockets_server: Any,
                                                          tmp_path: Path, pki: tuple[Path, Path, str],
                                                          trust: str) -> None:
    cert_path, key_path, fingerprint = pki
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    upstream = websockets_server(ssl=context).url.replace("ws://", "wss://")
    options = {"none": [], "trust-cert": ["--trust-cert", fingerprint], "ca-file": ["--ca-file", str(cert_path)],
               "insecure": ["--insecure"]}[trust]
    proc, out_path, err_path = cli.start("--data-dir", str(tmp_path / "data"), "proxy", "--upstream", upstream,
                                         "--no-record", *options)
    qtbot.waitUntil(lambda: "Proxy listening on" in out_path.read_text("utf-8") or proc.poll() is not None,
                    timeout=30_000)
    found = re.search(r"Proxy listening on (ws://127\.0\.0\.1:\d+/)", out_path.read_text("utf-8"))
    assert found is not None, err_path.read_text("utf-8")
    answer = run(_through(found.group(1)))
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
    if trust == "none":
        assert answer.startswith("HTTP 502: wsinspector proxy: the upstream ")
        assert "self-signed" in answer and fingerprint[:2].upper() in answer
    else:
        assert answer == "secure hop"
    assert ("not verified" in result.stderr) == (trust == "insecure")


@pytest.mark.parametrize(("options", "says"), [
    (["--ca-file", "no-such-ca.pem"], "--ca-file no-such-ca.pem: no such file or folder"),
    (["--trust-cert", "not-hex"], "'not-hex' is not a SHA-256 fingerprint"),
], ids=["ca-file-missing", "fingerprint-malformed"])
def test_bad_trust_options_are_one_line(cli: Cli, tmp_path: Path, options: list[str], says: str) -> None:
    result = cli("--data-dir", str(tmp_path / "data"), "proxy", "--upstream", "wss://127.0.0.1:9/", *options)
    assert result.returncode == 2 and result.stdout == ""
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
