"""``wsinspector export TEST_FILE --format k6|artillery``: the exports run on their engines against a local server.

Artillery itself runs the exported scenario (tests/node_tools, installed by scripts/node-peers.sh); the k6
script is checked against its golden file and run for one iteration by node, with the k6 modules it imports
given by tests/cli/loadtest/k6_shim (k6 is not in a registry this project installs from).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.secrets import connection_key, environment_name
from wsinspector.core.store import FrameRow, SessionStatus, Store

HERE = Path(__file__).parent / "loadtest"
TEST_FILE = HERE / "chat.wstest.yaml"
NODE_TOOLS = Path(__file__).parents[1] / "node_tools" / "node_modules" / ".bin"
#: the address chat.wstest.yaml names; the runs put the local server's in its place
FILE_HOST = "127.0.0.1:9"
#: the secret of the recorded session's saved connection
SECRET = "tk-0c9e51f7d2a84b36"


def _tool(name: str) -> str:
    path = NODE_TOOLS / name
    if not path.exists():
        raise AssertionError(f"{name} is not installed: run scripts/node-peers.sh (it installs tests/node_tools "
                             "from npm; it needs node and npm)")
    return str(path)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not installed (Debian: apt-get install nodejs npm)")
    return node


def _test_for(url: str, tmp_path: Path) -> Path:
    """chat.wstest.yaml pointed at the server at ``url``."""
    copy = tmp_path / "chat.wstest.yaml"
    copy.write_text(TEST_FILE.read_text("utf-8").replace(FILE_HOST, url.removeprefix("ws://").rstrip("/")),
                    "utf-8")
    return copy


def _report(path: Path) -> dict[str, Any] | None:
    """Artillery's report once it is written whole."""
    try:
        report: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return report if "aggregate" in report else None


def _recorded_session(data: Path, url: str) -> str:
    """A saved connection whose URL and Authorization header carry its secret variable ``token`` (the value kept
    in the keyring, given here by the environment), and a session recorded on it: two messages echoed."""
    profile = ConnectionProfile(name="Chat", secret_variables=("token",)).with_changes(
        endpoint={"url": f"{url}chat?token={{{{token}}}}"},
        handshake={"headers": (("Authorization", "Bearer {{token}}"),), "subprotocols": ("chat.v2",)})
    data.mkdir(parents=True, exist_ok=True)
    store = Store(data / "wsinspector.sqlite3")
    try:
        store.save_profile(profile)
        started = 1_000_000_000
        session_id = store.create_session("chat", f"{url}chat?token={SECRET}", 1_764_496_800.0, started,
                                          profile_id=profile.id)

        def row(seq: int, direction: Direction, payload: bytes) -> FrameRow:
            meta = header.pack(direction, Opcode.TEXT, True, False, False, False, direction is Direction.OUT)
            return (seq, started + (seq + 1) * 20_000_000, meta, None, None, None, payload)

        store.append_frames(session_id, [row(0, Direction.OUT, b"hello"), row(1, Direction.IN, b"hello"),
                                         row(2, Direction.OUT, b'{"op":"bye"}'), row(3, Direction.IN, b'{"op":"bye"}')])
        store.finish_session(session_id, SessionStatus.CLOSED, 1_764_496_801.0, 1000, "")
    finally:
        store.close()
    return environment_name(connection_key(profile.id, "variables/token"))


def test_artillery_runs_the_exports_of_a_test_file_and_of_a_recorded_session(
        cli: Cli, websockets_server: Any, tmp_path: Path) -> None:
    server = websockets_server(subprotocols=["chat.v2"])
    paths: list[str] = []

    async def echo_noting_the_path(ws: Any) -> None:
        paths.append(ws.request.path)
        await recorded.echo(ws)

    recorded = websockets_server(echo_noting_the_path, subprotocols=["chat.v2"])
    data = tmp_path / "data"
    keyring_entry = _recorded_session(data, recorded.url)
    scenario, report = tmp_path / "chat.artillery.yml", tmp_path / "report.json"
    exported = cli("export", str(_test_for(server.url, tmp_path)), "--format", "artillery", "--vus", "3",
                   "--duration", "1s", "-o", str(scenario))
    assert exported.returncode == 0, exported.stderr
    assert "set TOKEN in the environment" in exported.stdout
    assert "the-token-value" not in scenario.read_text("utf-8")
    from_session, session_report = tmp_path / "session.artillery.yml", tmp_path / "session-report.json"
    exported = cli("export", "--data-dir", str(data), "last", "--format", "artillery", "--vus", "2",
                   "--duration", "1s", "-o", str(from_session), env={keyring_entry: SECRET})
    assert exported.returncode == 0, exported.stderr
    assert "set TOKEN in the environment" in exported.stdout
    assert SECRET not in from_session.read_text("utf-8") and "$processEnvironment.TOKEN" in from_session.read_text()
    env: dict[str, str | None] = {"TOKEN": "the-token-value", "ARTILLERY_DISABLE_TELEMETRY": "1"}
    runs = [cli.start(command=[_tool("artillery"), "run", "--output", str(out), str(script)], env=env)
            for script, out in ((scenario, report), (from_session, session_report))]
    # Artillery writes its report, then spends its last seconds trying to reach its telemetry server (it does so
    # even when told not to collect): the report is what the test reads, so the run ends there
    cli.qtbot.waitUntil(lambda: all(_report(out) is not None or proc.poll() is not None
                                    for out, (proc, _o, _e) in zip((report, session_report), runs, strict=True)),
                        timeout=60_000)
    for proc, _out, _err in runs:
        proc.terminate()
    written = _report(report)
    assert written is not None, runs[0][1].read_text("utf-8")
    counters = written["aggregate"]["counters"]
    assert counters["vusers.completed"] == 3
    assert counters.get("vusers.failed", 0) == 0
    assert not {name: count for name, count in counters.items() if name.startswith("errors.")}
    # three text messages a user; the binary one is left out (and said so at the top of the file)
    assert counters["websocket.messages_sent"] == 9
    assert counters["websocket.messages_received"] == 9
    assert server.received.count("hello ann") == 3
    assert server.request_headers["Authorization"] == "Bearer the-token-value"
    assert server.subprotocol == "chat.v2"
    # the recorded session, replayed by two users: its messages, its connection's header and subprotocol, the
    # secret in its URL given by the environment
    written = _report(session_report)
    assert written is not None, runs[1][1].read_text("utf-8")
    counters = written["aggregate"]["counters"]
    assert (counters["vusers.completed"], counters.get("vusers.failed", 0)) == (2, 0)
    assert counters["websocket.messages_received"] == 4
    assert recorded.received == ["hello", '{"op":"bye"}'] * 2
    assert paths == ["/chat?token=the-token-value"] * 2
    assert recorded.request_headers["Authorization"] == "Bearer the-token-value"
    assert recorded.subprotocol == "chat.v2"


def test_a_recorded_sessions_k6_export_parses_and_names_its_secret(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    keyring_entry = _recorded_session(data, "ws://127.0.0.1:9/")
    script = tmp_path / "chat.k6.js"
    exported = cli("export", "--data-dir", str(data), "chat", "--format", "k6", "-o", str(script),
                   env={keyring_entry: SECRET})
    assert exported.returncode == 0, exported.stderr
    text = script.read_text("utf-8")
    assert SECRET not in text and '"token": "TOKEN"' in text
    assert text.startswith("// k6 load test of “chat”, written by wsinspector from its recorded session.")
    syntax = cli(command=[_node(), "--check", str(script)])
    assert syntax.returncode == 0, syntax.stderr
    missing = cli("export", "--data-dir", str(data), "nothing such", "--format", "k6")
    assert (missing.returncode, missing.stderr.strip()) == (
        1, "wsinspector: export: there is no session 'nothing such' (list them with `wsinspector sessions`); "
           "nor is there a test file nothing such")


def test_the_k6_export_matches_its_golden_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("export", str(TEST_FILE), "--format", "k6", "--vus", "25", "--duration", "2m")
    assert result.returncode == 0, result.stderr
    golden = HERE / "chat.k6.js"
    if os.environ.get("WSINSPECTOR_UPDATE_GOLDEN"):
        golden.write_text(result.stdout, "utf-8")
    assert result.stdout == golden.read_text("utf-8")
    assert 'export const options = { vus: 25, duration: "120s" };' in result.stdout


def test_the_k6_export_runs_its_steps_against_a_server(cli: Cli, websockets_server: Any, tmp_path: Path) -> None:
    server = websockets_server(subprotocols=["chat.v2"])
    script = tmp_path / "chat.k6.js"
    exported = cli("export", str(_test_for(server.url, tmp_path)), "--format", "k6", "-o", str(script))
    assert exported.returncode == 0, exported.stderr
    syntax = cli(command=[_node(), "--check", str(script)])
    assert syntax.returncode == 0, syntax.stderr
    ran = cli(command=[_node(), "--experimental-websocket", "--no-warnings", str(HERE / "k6_shim" / "run.mjs"),
                       str(script)], env={"TOKEN": "the-token-value"})
    assert ran.returncode == 0, ran.stderr
    checks = json.loads(ran.stdout)["checks"]
    assert checks == [{"name": "echoed", "ok": True}, {"name": "welcome", "ok": True},
                      {"name": "resumed", "ok": True}]
    assert server.received == ["hello ann", '{"op":"login","user":"ann","session":"s-1"}',
                               '{"op":"resume","session":"s-1","n":2}', b"\x00\xff\x10"]
    assert server.request_headers["Authorization"] == "Bearer the-token-value"


def test_a_k6_script_without_its_secret_says_which_variable_to_set(cli: Cli, tmp_path: Path) -> None:
    script = tmp_path / "chat.k6.js"
    assert cli("export", str(TEST_FILE), "--format", "k6", "-o", str(script)).returncode == 0
    ran = cli(command=[_node(), "--experimental-websocket", "--no-warnings", str(HERE / "k6_shim" / "run.mjs"),
                       str(script)], env={"TOKEN": None})
    assert ran.returncode != 0
    assert "set the environment variable TOKEN: it gives {{token}}" in ran.stderr


def test_export_usage_errors_are_one_line(cli: Cli, tmp_path: Path) -> None:
    result = cli("export", str(TEST_FILE), "--format", "k6", "--duration", "soon")
    assert (result.returncode, result.stderr.strip()) == (
        2, "wsinspector: export: --duration: 'soon' is not a duration (e.g. 30s, 2m, 1h30m)")
    result = cli("export", str(TEST_FILE), "--format", "artillery", "--vus", "0")
    assert (result.returncode, result.stderr.strip()) == (2, "wsinspector: export: --vus must be 1 or more, not 0")
    result = cli("export", str(tmp_path / "missing.yaml"), "--format", "k6")
    assert result.returncode == 2
    assert result.stderr.strip() == f"wsinspector: cannot read {tmp_path / 'missing.yaml'}: No such file or directory"
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nurl: ws://x/\nsteps:\n  - sned: {text: a}\n", "utf-8")
    result = cli("export", str(broken), "--format", "artillery")
    assert result.returncode == 2
    assert result.stderr.startswith(f"wsinspector: {broken}: line 4") and "Traceback" not in result.stderr
    # the options of a load test do not go with an export of connections
    result = cli("export", "--data-dir", str(tmp_path / "data"), str(tmp_path / "out.json"), "--vus", "3")
    assert (result.returncode, result.stderr.strip()) == (
        2, "wsinspector: export: --vus: only with --format k6 or artillery (a load test)")
