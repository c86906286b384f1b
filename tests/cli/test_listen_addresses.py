"""``--listen`` as users write it: ``localhost:PORT`` (the name everyone types) is the loopback address for
``serve`` and ``proxy`` alike, and a name that is no address of this machine is one line and exit status 1
(serve) or 2 (proxy), never a traceback."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.cli.conftest import Cli

ECHO_RULES = "version: 1\nrules:\n  - match: {any: true}\n    do: {echo: true}\n"


async def _echo(url: str) -> str:
    async with connect(url) as ws:
        await ws.send("over loopback")
        return str(await ws.recv())


@pytest.mark.parametrize("command", ["serve", "proxy"])
def test_listen_on_localhost_serves_on_the_loopback_address(
        cli: Cli, qtbot: Any, run: Any, websockets_server: Any, tmp_path: Path, command: str) -> None:
    rules = tmp_path / "echo.yaml"
    rules.write_text(ECHO_RULES, encoding="utf-8")
    given = ["--mock", str(rules)] if command == "serve" else ["--upstream", websockets_server().url]
    proc, out_path, err_path = cli.start("--data-dir", str(tmp_path / "data"), command, *given, "--listen",
                                         "localhost:0", "--no-record")
    qtbot.waitUntil(lambda: "listening on" in out_path.read_text("utf-8") or proc.poll() is not None,
                    timeout=30_000)
    found = re.search(r"listening on (ws://127\.0\.0\.1:\d+/)", out_path.read_text("utf-8"))
    assert found is not None, err_path.read_text("utf-8")
    assert run(_echo(found.group(1))) == "over loopback"
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    assert result.returncode == 0, result.output
    assert "other machines" not in result.stderr and "warning" not in result.stderr  # loopback: no warning


@pytest.mark.parametrize(("command", "status"), [("serve", 1), ("proxy", 2)])
def test_a_host_that_is_no_address_here_is_one_line(cli: Cli, tmp_path: Path, command: str, status: int) -> None:
    rules = tmp_path / "echo.yaml"
    rules.write_text(ECHO_RULES, encoding="utf-8")
    given = ["--mock", str(rules)] if command == "serve" else ["--upstream", "ws://127.0.0.1:9/"]
    result = cli("--data-dir", str(tmp_path / "data"), command, *given, "--listen", "no-such-host.invalid:0",
                 "--no-record")
    assert result.returncode == status
    assert result.stdout == ""
    assert result.stderr.startswith("wsinspector: 'no-such-host.invalid' is not an IP address to listen on")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_data_folder_that_is_a_file_is_said_in_words(cli: Cli, tmp_path: Path) -> None:
    rules = tmp_path / "echo.yaml"
    rules.write_text(ECHO_RULES, encoding="utf-8")
    result = cli("--data-dir", str(rules), "serve", "--mock", str(rules))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (f"wsinspector: cannot record to {rules}: File exists (--no-record serves "
                                     "without recording)")
