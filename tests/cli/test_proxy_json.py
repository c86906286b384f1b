"""``wsinspector proxy --json``: what the proxy tells as it runs, one JSON object a line, for a script to read — a
real subprocess between a real client and a real upstream server (one that refuses a path), secrets left out as
in the text lines."""

from __future__ import annotations

import json
import signal
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.cli.conftest import Cli, whole_lines

TOKEN = "s3cret-t0ken-4b1d"


def _events(out_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in whole_lines(out_path) if line.strip()]


def _kinds(out_path: Path) -> list[str]:
    return [event["event"] for event in _events(out_path)]


def _refusing_one_path(connection: Any, request: Any) -> Any:
    if request.path.startswith("/refused"):
        return connection.respond(HTTPStatus.FORBIDDEN, "not this room\n")
    return None


def test_every_status_line_is_a_json_event_without_the_secret(cli: Cli, qtbot: Any, run: Any,
                                                               websockets_server: Any, tmp_path: Path) -> None:
    upstream = websockets_server(process_request=_refusing_one_path)
    data = tmp_path / "data"
    proc, out_path, err_path = cli.start("proxy", "--upstream", f"{upstream.url}?token={TOKEN}", "--json",
                                         "--break", "out:regex:^pause", "--on-break", "forward",
                                         "--data-dir", str(data))
    # the breakpoints line follows the listening one: wait for both before reading either
    qtbot.waitUntil(lambda: "breakpoints" in _kinds(out_path) or proc.poll() is not None, timeout=30_000)
    listening = next((e for e in _events(out_path) if e["event"] == "listening"), None)
    assert listening is not None, err_path.read_text("utf-8")
    assert listening["url"].startswith("ws://127.0.0.1:") and listening["recording"] is True
    assert TOKEN not in listening["upstream"] and listening["upstream"].startswith(upstream.url)
    breakpoints = next(e for e in _events(out_path) if e["event"] == "breakpoints")
    assert breakpoints["on_break"] == "forward" and len(breakpoints["rules"]) == 1

    async def talk() -> str:
        async with connect(listening["url"] + f"room?token={TOKEN}") as ws:
            await ws.send("pause me")
            answer = await ws.recv()
            await ws.close(4001, "bye now")
            assert isinstance(answer, str)
            return answer

    async def refused() -> int:
        try:
            async with connect(listening["url"] + "refused"):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert run(talk()) == "pause me"
    qtbot.waitUntil(lambda: _kinds(out_path).count("closed") == 2, timeout=10_000)
    assert run(refused()) == 403
    qtbot.waitUntil(lambda: _kinds(out_path).count("recorded") == 2, timeout=10_000)
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    assert result.returncode == 0, result.output
    assert TOKEN not in result.stdout and "Traceback" not in result.stderr

    events = _events(out_path)
    first = [e for e in events if e.get("peer") == events[2]["peer"]]
    assert [e["event"] for e in first] == ["connected", "request", "open", "paused", "forwarded", "closed", "closed",
                                           "recorded"]
    connected, request, opened, paused, forwarded, client_closed, upstream_closed, recorded = first
    session = recorded["session"]
    assert isinstance(session, int) and request["session"] == opened["session"] == session
    assert request["path"].startswith("/room?token=") and TOKEN not in request["path"]
    assert opened["path"] == request["path"] and opened["subprotocol"] == ""
    assert (paused["direction"], paused["opcode"], paused["length"]) == ("out", "text", 8)
    assert forwarded["id"] == paused["id"] and forwarded["edited"] is False
    assert (client_closed["hop"], client_closed["code"], client_closed["reason"]) == ("client", 4001, "bye now")
    assert (upstream_closed["hop"], upstream_closed["code"]) == ("upstream", 4001)

    second = [e for e in events if e.get("peer") not in (None, connected["peer"])]
    assert [e["event"] for e in second] == ["connected", "request", "refused", "recorded"]
    assert second[2]["status"] == 403 and "not this room" in second[2]["message"]
    assert events[-1] == {"event": "stopped", "clients": 2, "sessions": 2}
