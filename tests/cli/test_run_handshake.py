"""``wsinspector run`` keeps the opening handshake with the session it records, as a connection of the window
does, and never a secret of the test file in it: read back through ``wsinspector handshake``; real subprocesses
against peers on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.cli.test_run_auth import STEPS
from tests.peers import http_status
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE

API_KEY = "k-51d3-secret-77"
PASSWORD = "pw-9c1e-secret-04"


def _test_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "handshake.wstest.yaml"
    path.write_text(f"""\
version: 1
url: {url}?room=7&access_token={{{{api_key}}}}
headers:
  X-Signature: 'sig {{{{api_key}}}}'
  X-Api-Key: '{{{{api_key}}}}'
  X-Password: '{{{{password}}}}'
  X-Trace: '{{{{trace}}}}'
variables:
  trace: trace-42
  password: {PASSWORD}
{STEPS}""", encoding="utf-8")
    return path


def _kept(cli: Cli, data: Path) -> dict[str, Any]:
    shown = cli("--data-dir", str(data), "handshake", "last", "--json")
    assert shown.returncode == 0, shown.output
    kept: dict[str, Any] = json.loads(shown.stdout)
    return kept


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_a_run_keeps_its_opening_handshake_without_the_test_files_secrets(cli: Cli, websockets_server: Any,
                                                                          tmp_path: Path, engine: str):
    server = websockets_server()
    data = tmp_path / "data"
    result = cli("--data-dir", str(data), "run", str(_test_file(tmp_path, server.url)), "--engine", engine,
                 "--var", "api_key", env={"API_KEY": API_KEY})
    assert result.returncode == 0, result.output
    sent = {name.lower(): value for name, value in server.request_headers.raw_items()}
    assert sent["x-api-key"] == API_KEY and sent["x-password"] == PASSWORD  # the server got them
    kept = _kept(cli, data)
    text = json.dumps(kept)
    assert API_KEY not in text and PASSWORD not in text
    headers = dict(kept["request"]["headers"])
    assert headers["X-Signature"] == "sig {{api_key}}" and headers["X-Api-Key"] == "{{api_key}}"
    assert headers["X-Password"] == "{{password}}" and headers["X-Trace"] == "trace-42"
    assert kept["response"]["status"] == 101 and kept["url"].endswith("access_token=REDACTED")
    assert any(name.lower() == "sec-websocket-accept" for name, _ in kept["response"]["headers"])
    curl = cli("--data-dir", str(data), "handshake", "last", "--curl")
    assert curl.returncode == 0 and API_KEY not in curl.output and PASSWORD not in curl.output


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_a_refused_run_keeps_the_answer_it_got(cli: Cli, hostile: Callable[..., str], tmp_path: Path, engine: str):
    url = hostile(http_status(404, "Not Found"))
    data = tmp_path / "data"
    result = cli("--data-dir", str(data), "run", str(_test_file(tmp_path, url)), "--engine", engine,
                 "--var", "api_key", env={"API_KEY": API_KEY})
    assert result.returncode == 2, result.output
    kept = _kept(cli, data)
    assert kept["response"]["status"] == 404 and kept["response"]["reason"] == "Not Found"
    assert kept["request"]["line"].startswith("GET /?room=7&access_token=")
    assert API_KEY not in json.dumps(kept) and PASSWORD not in json.dumps(kept)
