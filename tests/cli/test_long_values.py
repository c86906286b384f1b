"""A client's request path of several KiB in what ``serve``, ``proxy`` and ``probe`` print: a status line shows its
start and its size, not all of it; ``--json`` keeps it whole. Real subprocesses, real clients and servers."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.cli.conftest import Cli, whole_lines

LONG = "/" + "segment-" * 640  # 5,121 bytes
SHOWN = LONG[:200] + "… (5,121 bytes)"
RULES = "version: 1\nname: Hello\non_connect:\n  - text: hi\n"


def _lines(out_path: Path) -> list[str]:
    return whole_lines(out_path)


def _visit(run: Any, url: str) -> str:
    async def visit() -> str:
        async with connect(url, max_size=None) as ws:
            answer = await ws.recv()
            assert isinstance(answer, str)
            return answer

    return str(run(visit()))


def _serve(cli: Cli, qtbot: Any, tmp_path: Path, *more: str) -> tuple[Any, Path, Path, str]:
    rules = tmp_path / "hello.yaml"
    rules.write_text(RULES, encoding="utf-8")
    proc, out_path, err_path = cli.start("serve", "--mock", str(rules), "--no-record", *more)
    qtbot.waitUntil(lambda: bool(_lines(out_path)) or proc.poll() is not None, timeout=30_000)
    first = _lines(out_path)[0] if _lines(out_path) else err_path.read_text("utf-8")
    url = json.loads(first)["url"] if "--json" in more else first.split(" listening on ")[1].split()[0]
    return proc, out_path, err_path, url


def test_serve_prints_the_start_of_a_long_path_and_json_keeps_it_whole(cli: Cli, qtbot: Any, run: Any,
                                                                        tmp_path: Path) -> None:
    proc, out_path, err_path, url = _serve(cli, qtbot, tmp_path)
    assert _visit(run, url.rstrip("/") + LONG) == "hi"
    qtbot.waitUntil(lambda: any(" open" in line for line in _lines(out_path)), timeout=10_000)
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    [opened] = [line for line in result.stdout.splitlines() if line.endswith(" open")]
    assert opened.endswith(f" {SHOWN} open") and len(opened) < 300

    proc, out_path, err_path, url = _serve(cli, qtbot, tmp_path, "--json")
    assert _visit(run, url.rstrip("/") + LONG) == "hi"
    qtbot.waitUntil(lambda: '"open"' in out_path.read_text("utf-8"), timeout=10_000)
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    [opened_event] = [e for e in map(json.loads, result.stdout.splitlines()) if e["event"] == "open"]
    assert opened_event["path"] == LONG


def test_the_proxy_prints_the_start_of_a_long_path_and_json_keeps_it_whole(cli: Cli, qtbot: Any, run: Any,
                                                                            websockets_server: Any,
                                                                            tmp_path: Path) -> None:
    upstream = websockets_server(lambda ws: ws.send("hi"))
    for as_json in (False, True):
        proc, out_path, err_path = cli.start("proxy", "--upstream", upstream.url, "--no-record",
                                             *(["--json"] if as_json else []))
        qtbot.waitUntil(lambda: bool(_lines(out_path)) or proc.poll() is not None, timeout=30_000)  # noqa: B023
        first = _lines(out_path)[0] if _lines(out_path) else err_path.read_text("utf-8")
        url = json.loads(first)["url"] if as_json else first.split(" listening on ")[1].split()[0]
        assert _visit(run, url.rstrip("/") + LONG) == "hi"
        qtbot.waitUntil(lambda: "upstream" in out_path.read_text("utf-8").partition("\n")[2],  # noqa: B023
                        timeout=10_000)
        proc.send_signal(signal.SIGINT)
        result = cli.wait(proc, out_path, err_path)
        assert result.returncode == 0, result.output
        if as_json:
            [request] = [e for e in map(json.loads, result.stdout.splitlines()) if e["event"] == "request"]
            assert request["path"] == LONG
        else:
            [asks] = [line for line in result.stdout.splitlines() if "client asks for" in line]
            assert asks.endswith(f"client asks for {SHOWN}") and len(asks) < 300


def test_probe_prints_the_start_of_a_long_url(cli: Cli, websockets_server: Any, tmp_path: Path) -> None:
    url = websockets_server().url.rstrip("/") + LONG
    ran = cli("probe", url, "--cases", "messages", "--no-record", "--data-dir", str(tmp_path / "data"))
    assert ran.returncode == 0, ran.output
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("Probing ws://127.0.0.1:") and "… (5,1" in lines[0] and len(lines[0]) < 300
    assert max(map(len, lines)) < 300, max(lines, key=len)[:400]
    ran = cli("probe", url, "--cases", "messages", "--no-record", "--json", "--data-dir", str(tmp_path / "data"))
    assert json.loads(ran.stdout)["url"] == url
