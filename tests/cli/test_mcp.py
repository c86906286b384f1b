"""``wsinspector mcp``: a real MCP client session (the official SDK's stdio client) spawns ``python -m wsinspector
mcp`` and drives it against `websockets` peers served by this test process on 127.0.0.1 (the shared qasync loop
runs the client, the peers and pytest-qt's waits alike)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from tests.cli.test_run import ECHO_TEST, write_test
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.secrets import connection_key, environment_name
from wsinspector.core.store import Store

DB_NAME = "wsinspector.sqlite3"
#: planted in a saved connection: it must never come back
TOKEN = "tk-5f1e9c0b7a3d42e8"


class Agent:
    """An MCP client session with ``wsinspector mcp``: each call's result is kept for the byte-wise checks."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.results: list[CallToolResult] = []

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """A tool's structured answer; the call must succeed."""
        result = await self.client.call_tool(tool, arguments)
        self.results.append(result)
        assert not result.is_error, f"{tool}: {result.content}"
        assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
        return result.structured_content  # type: ignore[no-any-return]

    async def fails(self, tool: str, **arguments: Any) -> str:
        """The one line a failing call says."""
        result = await self.client.call_tool(tool, arguments)
        self.results.append(result)
        assert result.is_error, f"{tool} should have failed: {result.content}"
        [content] = result.content
        line = content.text  # type: ignore[union-attr]
        assert "\n" not in line and "Traceback" not in line, line
        return line  # type: ignore[no-any-return]

    def wire_bytes(self) -> bytes:
        return b"".join(result.model_dump_json(by_alias=True).encode() for result in self.results)


@asynccontextmanager
async def agent(data_dir: Path, stderr: Path, env: dict[str, str] | None = None) -> AsyncIterator[Agent]:
    environment = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    server = StdioServerParameters(command=sys.executable, args=["-m", "wsinspector", "mcp", "--data-dir",
                                                                 str(data_dir)], env={**environment, **(env or {})})
    with stderr.open("w", encoding="utf-8") as errlog:
        async with Client(stdio_client(server, errlog=errlog)) as client:
            yield Agent(client)


def test_an_agent_opens_a_connection_sends_waits_pings_reads_the_session_runs_tests_and_probes(
        run: Callable[..., Any], peer: Callable[..., str], data_dir: Path, tmp_path: Path) -> None:
    url = peer()
    passing = write_test(tmp_path, ECHO_TEST.format(url=url))
    failing = write_test(tmp_path, ECHO_TEST.format(url=url).replace("      text: plain text ✓\n",
                                                                    "      text: something else\n", 1),
                         name="f.wstest.yaml")

    async def scenario() -> int:
        async with agent(data_dir, tmp_path / "stderr.txt") as it:
            listed = await it.client.list_tools()
            assert {tool.name for tool in listed.tools} >= {
                "list_connections", "get_connection", "list_sessions", "read_session", "decode_message",
                "open_connection", "send_message", "wait_for_message", "ping", "close_connection", "run_test",
                "probe_endpoint"}
            opened = await it.call("open_connection", url=url)
            handle, session_id = opened["handle"], opened["session_id"]
            assert opened["url"] == url and opened["engine"] == "wire"
            sent = await it.call("send_message", handle=handle, text='{"op": "hello", "n": 1}')
            echo = await it.call("wait_for_message", handle=handle, text="hello")
            assert (echo["direction"], echo["opcode"], echo["text"]) == ("in", "text", '{"op": "hello", "n": 1}')
            assert echo["seq"] > sent["seq"]
            await it.call("send_message", handle=handle, base64=base64.b64encode(b"\x00\x01\xfe\xff").decode())
            binary = await it.call("wait_for_message", handle=handle, opcodes=["binary"])
            assert base64.b64decode(binary["base64"]) == b"\x00\x01\xfe\xff"
            pinged = await it.call("ping", handle=handle)
            assert pinged["rtt_us"] > 0
            assert "no matching message came within 0.2 s" in await it.fails(
                "wait_for_message", handle=handle, text="never sent", timeout_s=0.2)
            assert "limit" in await it.fails("read_session", session_id=session_id, limit="many")

            live = await it.call("read_session", session_id=session_id, direction="in", opcodes=["text", "binary"])
            assert live["session"]["live"] is True
            assert [row.get("text", row.get("base64")) for row in live["rows"]] == [
                '{"op": "hello", "n": 1}', base64.b64encode(b"\x00\x01\xfe\xff").decode()]
            decoded = await it.call("decode_message", session_id=session_id, seq=echo["seq"])
            assert decoded["protocol"] == "json" and decoded["tree"] == {"op": "hello", "n": 1}

            closed = await it.call("close_connection", handle=handle)
            assert closed["code"] == 1000 and closed["session_id"] == session_id
            assert "no open connection" in await it.fails("send_message", handle=handle, text="late")
            stored = await it.call("read_session", session_id=session_id, limit=2, max_payload_bytes=4)
            assert [(row["direction"], row["text"], row.get("truncated")) for row in stored["rows"]] == [
                ("out", '{"op', True), ("in", '{"op', True)]
            assert stored["session"]["live"] is False and stored["next_offset"] == 2
            [listed_session] = (await it.call("list_sessions"))["sessions"]
            assert listed_session["id"] == session_id and listed_session["status"] == "closed"

            passed = await it.call("run_test", test_file=str(passing), speed="max")
            assert passed["verdict"] == "passed" and passed["exit_code"] == 0
            assert passed["summary"].startswith("PASSED: 6 passed, 0 failed of 6 steps")
            assert [step["status"] for step in passed["steps"]] == ["passed"] * 6
            failed = await it.call("run_test", test_file=str(failing), speed="max")
            assert failed["verdict"] == "failed" and failed["exit_code"] == 1
            [wrong] = [step for step in failed["steps"] if step["status"] == "failed"]
            assert wrong["name"] == "text comes back"
            assert "something else" in wrong.get("received", "") + wrong.get("diff", "")
            replays = {s["id"]: s.get("replay_of") for s in (await it.call("list_sessions"))["sessions"]}
            assert replays[passed["session_id"]] == str(passing.resolve())
            assert replays[failed["session_id"]] == str(failing.resolve())
            assert "cannot read the test file" in await it.fails("run_test", test_file=str(tmp_path / "none.yaml"))
            await _probes(it, url)
            left_open = (await it.call("open_connection", url=url))["session_id"]
        assert "Traceback" not in (tmp_path / "stderr.txt").read_text("utf-8")
        return left_open

    left_open = run(scenario(), timeout=90)
    # the agent's session ended with a connection open: it was closed as going away, and saved
    with contextlib.closing(sqlite3.connect(data_dir / DB_NAME)) as db:
        assert db.execute("SELECT status, close_code FROM sessions WHERE id = ?", (left_open,)).fetchall() == [
            ("closed", 1001)]


async def _probes(it: Agent, url: str) -> None:
    """Two quick cases against the echo: the row, each case timed, the evidence readable as sessions; an
    aggressive case away from loopback is refused unless asked for."""
    probed = await it.call("probe_endpoint", url=url, cases=["messages", "pings"])
    assert probed["connected"] is True and probed["columns"]["text"]["value"] == "yes, echoed"
    assert [case["name"] for case in probed["cases"]] == ["messages", "pings"]
    assert all(case["seconds"] > 0 and case["sessions"] for case in probed["cases"])
    assert probed["columns"]["pongs"]["sessions"] == probed["cases"][1]["sessions"]
    evidence = await it.call("read_session", session_id=probed["cases"][1]["sessions"][0], opcodes=["ping", "pong"])
    assert [row["opcode"] for row in evidence["rows"]][:2] == ["ping", "pong"]
    harsh = await it.fails("probe_endpoint", url="ws://probe.invalid/", cases=["size"])
    assert "aggressive: true" in harsh and "not loopback" in harsh
    assert "unknown case nope" in await it.fails("probe_endpoint", url=url, cases=["nope"])


async def reflects_the_request(ws: Any) -> None:
    """Says what it was asked for, query string included, then echoes."""
    await ws.send(f"you asked for {ws.request.path}")
    async for message in ws:
        await ws.send(message)


def test_a_saved_connections_secret_never_leaves_in_a_tool_result(
        run: Callable[..., Any], websockets_server: Callable[..., Any], data_dir: Path, tmp_path: Path) -> None:
    """The token is a secret variable of a saved connection, used in its URL and a header; the server says it
    back. No tool result holds it, byte for byte, nor its base64."""
    server = websockets_server(reflects_the_request)
    profile = ConnectionProfile(name="Secret feed", variables=(("token", TOKEN),),
                                secret_variables=("token",)).with_changes(
        endpoint={"url": f"{server.url}feed?token={{{{token}}}}"},
        handshake={"headers": (("Authorization", "Bearer {{token}}"),)})
    store = Store(data_dir / DB_NAME)
    store.save_profile(profile)  # its secret's value is left out: the server is given it in the environment
    store.close()
    assert TOKEN.encode() not in (data_dir / DB_NAME).read_bytes()
    secret_env = {environment_name(connection_key(profile.id, "variables/token")): TOKEN}
    test_file = write_test(tmp_path, f"""\
version: 1
name: token check
url: {server.url}feed?token={{{{token}}}}
timeout: 5
steps:
  - name: greeting
    expect:
      text: you asked for /feed?token=nothing
""")

    async def scenario() -> None:
        async with agent(data_dir, tmp_path / "stderr.txt", secret_env) as it:
            [listed] = (await it.call("list_connections"))["connections"]
            assert listed["name"] == "Secret feed"
            settings = (await it.call("get_connection", connection="Secret feed"))["settings"]
            assert "variables/token" in settings["kept_secrets"]
            opened = await it.call("open_connection", connection="secret feed")
            greeting = await it.call("wait_for_message", handle=opened["handle"], after_seq=-1)
            assert greeting["text"] == "you asked for /feed?token=***"
            assert server.request_headers["Authorization"] == f"Bearer {TOKEN}"  # it was sent, all the same
            await it.call("send_message", handle=opened["handle"], text=f"my token is {TOKEN}")
            await it.call("wait_for_message", handle=opened["handle"])
            for payload in ("auto", "text", "base64"):
                await it.call("read_session", session_id=opened["session_id"], payload=payload)
            await it.call("open_connections")
            await it.call("close_connection", handle=opened["handle"])
            await it.call("list_sessions")
            ran = await it.call("run_test", test_file=str(test_file), variables={"token": TOKEN}, speed="max")
            assert ran["verdict"] == "failed"
            await it.call("read_session", session_id=ran["session_id"], payload="base64")
            await it.fails("open_connection", url=f"{server.url}?token={TOKEN}", connection="nothing such")
            probed = await it.call("probe_endpoint", connection="Secret feed", cases=["messages"])
            assert probed["connected"] is True and "token=" in probed["url"]
            return it.wire_bytes()

    wire = run(scenario(), timeout=90)
    assert b"token=***" in wire or b"REDACTED" in wire  # the results did speak of it
    for form in (TOKEN.encode(), base64.b64encode(TOKEN.encode()), base64.b64encode(f"my token is {TOKEN}".encode())):
        assert form not in wire
    assert TOKEN not in (tmp_path / "stderr.txt").read_text("utf-8")


def test_sigterm_ends_the_server_with_what_the_open_connection_recorded_saved(
        run: Callable[..., Any], peer: Callable[..., str], data_dir: Path, tmp_path: Path) -> None:
    """A host that speaks the protocol as the desktop hosts do (initialize, then tools/call, as JSON lines) and
    ends the server with SIGTERM while a connection is open: the server leaves at once, the session is saved."""
    url = peer()

    async def scenario() -> tuple[int, bytes]:
        environment = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wsinspector", "mcp", "--data-dir", str(data_dir), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=environment)
        assert server.stdin is not None and server.stdout is not None and server.stderr is not None

        async def request(number: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
            server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": number, "method": method,  # type: ignore[union-attr]
                                           "params": params}).encode() + b"\n")
            while True:
                answer = json.loads(await server.stdout.readline())  # type: ignore[union-attr]
                if answer.get("id") == number:
                    return answer["result"]  # type: ignore[no-any-return]

        async def tool(number: int, name: str, **arguments: Any) -> dict[str, Any]:
            result = await request(number, "tools/call", {"name": name, "arguments": arguments})
            assert not result.get("isError"), result
            return result["structuredContent"]  # type: ignore[no-any-return]

        await request(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                        "clientInfo": {"name": "test host", "version": "1"}})
        server.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        handle = (await tool(2, "open_connection", url=url))["handle"]
        await tool(3, "send_message", handle=handle, text="kept")
        await tool(4, "wait_for_message", handle=handle, text="kept")
        server.send_signal(signal.SIGTERM)
        code = await server.wait()
        return code, await server.stderr.read()

    code, stderr = run(scenario(), timeout=60)
    assert code == 0 and b"Traceback" not in stderr, stderr
    with contextlib.closing(sqlite3.connect(data_dir / DB_NAME)) as db:
        # the message, its echo, and the close frame the server is told the app is going with (1001)
        assert db.execute("SELECT status, frames_in, frames_out, close_code FROM sessions").fetchall() == [
            ("closed", 1, 2, 1001)]
