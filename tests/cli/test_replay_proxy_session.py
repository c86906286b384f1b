"""A session the recording proxy made holds every message twice, once per hop; played back as the server
(``serve --replay``) it is its upstream that is played, each reply once, in order."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.cli.conftest import Cli


def _url(cli: Cli, qtbot: Any, pattern: str, *args: str) -> tuple[Any, Path, Path, str]:
    proc, out_path, err_path = cli.start(*args)
    qtbot.waitUntil(lambda: re.search(pattern, out_path.read_text("utf-8")) is not None or proc.poll() is not None,
                    timeout=30_000)
    found = re.search(pattern, out_path.read_text("utf-8"))
    assert found is not None, err_path.read_text("utf-8")
    return proc, out_path, err_path, found.group(1)


async def _ask(url: str, questions: list[str]) -> list[str]:
    async with connect(url) as ws:
        answers = []
        for question in questions:
            await ws.send(question)
            answers.append(str(await ws.recv()))
        return answers


def test_a_proxy_session_replays_its_upstream_once(cli: Cli, qtbot: Any, run: Any, websockets_server: Any,
                                                  tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    proc, out_path, err_path, url = _url(cli, qtbot, r"Proxy listening on (ws://127\.0\.0\.1:\d+/)", "--data-dir",
                                         data, "proxy", "--upstream", websockets_server().url)
    assert run(_ask(url, ["one", "two", "three"])) == ["one", "two", "three"]
    qtbot.waitUntil(lambda: "upstream closed" in out_path.read_text("utf-8"), timeout=10_000)
    proc.send_signal(signal.SIGINT)
    assert cli.wait(proc, out_path, err_path).returncode == 0

    proc, out_path, err_path, url = _url(cli, qtbot, r"listening on (ws://127\.0\.0\.1:\d+/)", "--data-dir", data,
                                         "serve", "--replay", "last", "--speed", "0", "--no-record")
    assert run(_ask(url, ["a", "b", "c"])) == ["one", "two", "three"]
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
