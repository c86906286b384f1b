"""Credentials a client sends to ``wsinspector serve`` or through ``wsinspector proxy`` (an Authorization header, a
token in the query or offered as a subprotocol, a key in the upstream URL given on the command line) are never
written in plaintext: not to the data folder's files (read as bytes), not to what the command prints, whatever
became of the client (served, refused by the upstream, upstream unreachable, a request the server could not
read)."""

from __future__ import annotations

import json
import re
import signal
import socket
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from tests.cli.conftest import Cli

HEADER_SECRET = "hdr-secret-5b1f0c"
QUERY_SECRET = "query-secret-7d2e9a"
UPSTREAM_SECRET = "upstream-key-3c8f41"
SUBPROTOCOL_SECRET = "subprotocol-token-9a4b77"  # a browser's way to send a token: as a subprotocol
SECRETS = (HEADER_SECRET, QUERY_SECRET, UPSTREAM_SECRET, SUBPROTOCOL_SECRET)
ECHO_RULES = "version: 1\nrules:\n  - match: {any: true}\n    do: {echo: true}\n"


def _leaks(data: Path, *texts: str) -> list[str]:
    """Where any of the secrets is found: a file of the data folder (its bytes) or one of ``texts``."""
    found = [f"{path.name}: {secret}" for path in data.rglob("*") if path.is_file() for secret in SECRETS
             if secret.encode() in path.read_bytes()]
    return found + [f"output: {secret}" for text in texts for secret in SECRETS if secret in text]


async def _talk(url: str) -> str:
    """A client with credentials in its header and its query: what it got back, or the status it was refused."""
    try:
        async with connect(url + f"feed?access_token={QUERY_SECRET}&room=1",
                           additional_headers={"Authorization": f"Bearer {HEADER_SECRET}"},
                           subprotocols=["access_token", SUBPROTOCOL_SECRET]) as ws:  # type: ignore[list-item]
            await ws.send("hello")
            return str(await ws.recv())
    except InvalidStatus as exc:
        return f"HTTP {exc.response.status_code}: {bytes(exc.response.body or b'').decode()}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _refuse_404(_connection: Any, _request: Any) -> Response:
    return _connection.respond(404, "no such feed\n")  # type: ignore[no-any-return]


def test_the_proxy_keeps_credentials_out_of_its_recording_and_output(
        cli: Cli, qtbot: Any, run: Any, websockets_server: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    upstreams = {
        "served": websockets_server().url,
        "refused": websockets_server(process_request=_refuse_404).url,
        # an upstream that takes the token offered as a subprotocol for the one it speaks
        "picks-the-token": websockets_server(select_subprotocol=lambda _connection, _offered: SUBPROTOCOL_SECRET).url,
        "unreachable": f"ws://127.0.0.1:{_free_port()}/",
    }
    answers = {}
    outputs = []
    for what, upstream in upstreams.items():
        proc, out_path, err_path = cli.start("--data-dir", str(data), "proxy", "--upstream",
                                             f"{upstream}?api_key={UPSTREAM_SECRET}")
        qtbot.waitUntil(lambda out=out_path, p=proc: "Proxy listening on" in out.read_text("utf-8")
                        or p.poll() is not None, timeout=30_000)
        found = re.search(r"Proxy listening on (ws://127\.0\.0\.1:\d+/)", out_path.read_text("utf-8"))
        assert found is not None, err_path.read_text("utf-8")
        answers[what] = run(_talk(found.group(1)))
        qtbot.waitUntil(lambda out=out_path: out.read_text("utf-8").count("closed") >= 2
                        or "refused with HTTP" in out.read_text("utf-8"), timeout=30_000)
        proc.send_signal(signal.SIGINT)
        result = cli.wait(proc, out_path, err_path)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.output
        assert "1 session recorded" in result.stdout
        outputs.append(result.output)
    assert answers["served"] == answers["picks-the-token"] == "hello"
    assert "upstream open (subprotocol REDACTED)" in outputs[2], outputs[2]
    assert answers["refused"].startswith("HTTP 404: wsinspector proxy: the upstream ")
    assert answers["unreachable"].startswith("HTTP 502: wsinspector proxy: the upstream ")
    # the operator's key in the upstream URL is no client's business either
    assert UPSTREAM_SECRET not in answers["refused"] + answers["unreachable"]
    assert _leaks(data, *outputs) == []


def test_serve_keeps_credentials_out_of_its_recording_and_output(
        cli: Cli, qtbot: Any, run: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    rules = tmp_path / "echo.yaml"
    rules.write_text(ECHO_RULES, encoding="utf-8")
    outputs = []
    for extra in ([], ["--json"]):
        proc, out_path, err_path = cli.start("--data-dir", str(data), "serve", "--mock", str(rules), *extra)
        qtbot.waitUntil(lambda out=out_path, p=proc: "listening" in out.read_text("utf-8") or p.poll() is not None,
                        timeout=30_000)
        found = re.search(r"(ws://127\.0\.0\.1:\d+/)", out_path.read_text("utf-8"))
        assert found is not None, err_path.read_text("utf-8")
        url = found.group(1)
        assert run(_talk(url)) == "hello"
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port)) as raw:  # a request it cannot read, quoted when told
            raw.sendall(f"GET /?token={QUERY_SECRET} HTTP/1.1\r\nAuthorization: Bearer {HEADER_SECRET}\r\n"
                        "X-Odd: a\x00b\r\n\r\n".encode())
            assert raw.recv(12) == b"HTTP/1.1 400"
        qtbot.waitUntil(lambda out=out_path: "400 Bad Request" in out.read_text("utf-8"), timeout=30_000)
        proc.send_signal(signal.SIGINT)
        result = cli.wait(proc, out_path, err_path)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.output
        outputs.append(result.output)
    text, as_json = outputs
    assert "/feed?access_token=REDACTED&room=1 open" in text
    opened = [json.loads(line) for line in as_json.splitlines() if '"open"' in line]
    assert [line["path"] for line in opened] == ["/feed?access_token=REDACTED&room=1"]
    assert "Authorization: REDACTED" in text
    assert _leaks(data, *outputs) == []
