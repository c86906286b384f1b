"""``wsinspector run``: a test file replayed by a real subprocess against `websockets` peers served by this test
process on 127.0.0.1 (the shared qasync loop keeps serving while ``qtbot.waitUntil`` waits for the subprocess).

The subprocess runs without QT_QPA_PLATFORM and without a display: the command is headless."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import sqlite3
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import WAIT_MS, Cli
from tests.damage import SECRET, big_file, snapshot, write_into
from wsinspector.core.scenario.run import parse_speed, send_delays
from wsinspector.core.scenario.yaml_io import read_test

DB_NAME = "wsinspector.sqlite3"


# -- the peers --------------------------------------------------------------------------------------


async def clock_server(ws: Any) -> None:
    """Answers every message with it, plus a timestamp that changes every time."""
    async for message in ws:
        answer = json.loads(message)
        answer["ts"] = time.time_ns()
        await ws.send(json.dumps(answer))


async def session_server(ws: Any) -> None:
    """Hands out a session id, then answers a resume with ok only if it carries that id."""
    session = f"s-{next(_SESSIONS)}-{os.getpid()}"
    await ws.send(json.dumps({"op": "welcome", "session": session}))
    async for message in ws:
        request = json.loads(message)
        await ws.send(json.dumps({"op": "resumed", "ok": request.get("session") == session}))


_SESSIONS = itertools.count(1)


async def answers_once(ws: Any) -> None:
    """Echoes the first message, then stops answering (the connection stays up)."""
    await ws.send(await ws.recv())
    async for _ in ws:
        pass


# -- helpers ----------------------------------------------------------------------------------------


def write_test(tmp_path: Path, body: str, name: str = "t.wstest.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def replays(data_dir: Path) -> list[tuple[str, str | None, int, int, str]]:
    """(name, replay_of, frames in, frames out, status) of every session stored in ``data_dir``."""
    db = sqlite3.connect(data_dir / DB_NAME)
    try:
        return db.execute("SELECT name, replay_of, frames_in, frames_out, status FROM sessions ORDER BY id").fetchall()
    finally:
        db.close()


ECHO_TEST = """\
version: 1
name: echo round trip
url: {url}
timeout: 5
steps:
  - name: send json
    send:
      json: {{"op": "hello", "n": 1, "tags": [a, b]}}
  - name: json comes back
    expect:
      json: {{"tags": [a, b], "n": 1, "op": "hello"}}
  - name: send text
    send:
      text: plain text ✓
  - name: text comes back
    expect:
      text: plain text ✓
  - name: send binary
    send:
      binary: 00 01 fe ff
  - name: binary comes back
    expect:
      binary: 00 01 fe ff
"""


# -- tests ------------------------------------------------------------------------------------------


def test_echo_test_passes_and_is_recorded_as_a_session(cli: Cli, peer: Callable[..., str], tmp_path: Path,
                                                        data_dir: Path):
    path = write_test(tmp_path, ECHO_TEST.format(url=peer()))
    result = cli("run", str(path), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.output
    lines = result.stdout.splitlines()
    for name in ("send json", "json comes back", "send text", "text comes back", "send binary",
                 "binary comes back"):
        assert any(re.fullmatch(rf"  ✓ {re.escape(name)}  \(\d+ ms\)", line) for line in lines), result.stdout
    assert lines[-1].startswith("PASSED: 6 passed, 0 failed of 6 steps in ")
    assert "Traceback" not in result.stderr
    [(name, replay_of, frames_in, frames_out, status)] = replays(data_dir)
    assert replay_of == str(path.resolve())
    assert name == "Replay: echo round trip"
    assert (frames_in, frames_out, status) == (4, 4, "closed")  # 3 messages and a close frame each way
    assert f"Recorded as session 1 in {data_dir / DB_NAME}" in result.stdout


def test_no_record_leaves_the_store_alone(cli: Cli, peer: Callable[..., str], tmp_path: Path, data_dir: Path):
    path = write_test(tmp_path, ECHO_TEST.format(url=peer()))
    result = cli("run", str(path), "--data-dir", str(data_dir), "--no-record")
    assert result.returncode == 0, result.output
    assert not (data_dir / DB_NAME).exists()
    assert not (tmp_path / "default-data").exists()
    assert "Recorded" not in result.stdout


def test_the_top_level_data_dir_option_works_too(cli: Cli, peer: Callable[..., str], tmp_path: Path,
                                                  data_dir: Path):
    path = write_test(tmp_path, ECHO_TEST.format(url=peer()))
    result = cli("--data-dir", str(data_dir), "run", str(path))
    assert result.returncode == 0, result.output
    assert [row[1] for row in replays(data_dir)] == [str(path.resolve())]


CLOCK_TEST = """\
version: 1
name: clock
url: {url}
steps:
  - name: ask the time
    send:
      json: {{"op": "time"}}
  - name: the time
    expect:
      json: {{"op": "time", "ts": 1700000000}}
{ignore}"""


def test_a_changing_field_passes_when_ignored_and_fails_with_a_readable_diff_when_not(
        cli: Cli, peer: Callable[..., str], tmp_path: Path):
    url = peer(clock_server)
    ignored = write_test(tmp_path, CLOCK_TEST.format(url=url, ignore="      ignore: [$.ts]\n"), "ignored.yaml")
    result = cli("run", str(ignored), "--no-record")
    assert result.returncode == 0, result.output

    strict = write_test(tmp_path, CLOCK_TEST.format(url=url, ignore=""), "strict.yaml")
    result = cli("run", str(strict), "--no-record")
    assert result.returncode == 1, result.output
    assert "  ✓ ask the time" in result.stdout
    assert re.search(r"^  ✗ the time  \(\d+ ms, failed\)$", result.stdout, re.MULTILINE), result.stdout
    assert "      1 difference in the JSON: $.ts: expected 1700000000, got " in result.stdout
    assert re.search(r"^        \$\.ts: expected 1700000000, got \d{19}$", result.stdout, re.MULTILINE), result.stdout
    assert result.stdout.splitlines()[-1].startswith("FAILED: 1 passed, 1 failed of 2 steps")


SESSION_TEST = """\
version: 1
name: resume
url: {url}
steps:
  - name: welcome
    expect:
      json: {{"op": "welcome", "session": "x"}}
      ignore: [$.session]
      capture:
        session_id: {path}
  - name: resume
    send:
      json: {{"op": "resume", "session": "{{{{session_id}}}}"}}
  - name: resumed
    expect:
      json: {{"op": "resumed", "ok": true}}
"""


@pytest.mark.parametrize(("path", "code", "says"), [
    ("$.session", 0, "captured session_id=s-"),
    ("$.op", 1, "$.ok: expected true, got false"),  # the wrong value goes back: the server refuses it
    ("$.sid", 1, "capture session_id: $.sid is not in the message"),
])
def test_a_captured_session_id_is_sent_back(cli: Cli, peer: Callable[..., str], tmp_path: Path, path: str,
                                            code: int, says: str):
    test = write_test(tmp_path, SESSION_TEST.format(url=peer(session_server), path=path))
    result = cli("run", str(test), "--no-record")
    assert result.returncode == code, result.output
    assert says in result.stdout


def test_a_server_that_stops_answering_times_out_the_step(cli: Cli, peer: Callable[..., str], tmp_path: Path):
    test = write_test(tmp_path, f"""\
version: 1
name: silence
url: {peer(answers_once)}
timeout: 10
steps:
  - send:
      text: first
  - name: first answer
    expect:
      text: first
  - send:
      text: second
  - name: second answer
    expect:
      text: second
      timeout: 0.5
  - send:
      text: never sent
""")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--junit", str(report))
    assert result.returncode == 1, result.output
    assert "      timeout: no matching message within 0.5 s" in result.stdout
    assert "  - steps[4] send text  (skipped)" in result.stdout
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    counts = [suite.get(key) for key in ("tests", "failures", "errors", "skipped")]
    assert counts == ["5", "1", "0", "1"]
    failures = [(case.get("name"), failure.get("message")) for case in suite.iter("testcase")
                for failure in case.iter("failure")]
    assert failures == [("second answer", "timeout: no matching message within 0.5 s")]


def test_a_dead_server_is_a_connection_error_at_once(cli: Cli, tmp_path: Path):
    test = write_test(tmp_path, ECHO_TEST.format(url=f"ws://127.0.0.1:{free_port()}/"))
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--junit", str(report))
    assert result.returncode == 2, result.output
    assert re.search(r"^  ✗ connection: Connection refused by 127\.0\.0\.1:\d+", result.stdout, re.MULTILINE)
    assert "refused" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("ERROR: 0 passed, 0 failed, 6 skipped of 6 steps")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    [case] = [case for case in suite.iter("testcase") if case.find("error") is not None]
    assert case.get("name") == "connection"
    error = case.find("error")
    assert error is not None and "refused" in (error.get("message") or "")


def test_a_malformed_test_file_says_where(cli: Cli, tmp_path: Path):
    test = write_test(tmp_path, "version: 1\nurl: ws://127.0.0.1:9/\nsteps:\n  - send:\n      txt: hi\n")
    result = cli("run", str(test), "--no-record")
    assert result.returncode == 2
    assert "line 5, column 7: steps[0].send: unknown kind 'txt'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_missing_file_and_bad_options_are_usage_errors(cli: Cli, tmp_path: Path):
    result = cli("run", str(tmp_path / "nope.yaml"), "--no-record")
    assert result.returncode == 2
    assert "cannot read the test file" in result.stderr and "No such file" in result.stderr
    test = write_test(tmp_path, ECHO_TEST.format(url="ws://127.0.0.1:9/"))
    for args, says in ((["--speed", "fast"], "speed 'fast'"),
                       (["--var", "novalue"], "no value given, and the environment has no variable novalue or NOVALUE"),
                       (["--var", "1x=2"], "'1x' is not a variable name"),
                       (["--url", "http://example.com/"], "ws:// or wss://")):
        result = cli("run", str(test), "--no-record", *args)
        assert result.returncode == 2, args
        assert says in result.stderr, result.stderr


VARIABLE_TEST = """\
version: 1
url: {url}
steps:
  - send:
      text: hello
  - name: authenticate
    send:
      text: 'token {{{{token}}}}'
  - expect:
      text: hello
  - expect:
      regex: ^token s3cret$
"""


def test_an_unknown_variable_is_named_and_var_supplies_it(cli: Cli, peer: Callable[..., str], tmp_path: Path):
    test = write_test(tmp_path, VARIABLE_TEST.format(url=peer()))
    result = cli("run", str(test), "--no-record")
    assert result.returncode == 2
    assert "Unknown variable: {{token}} (used in steps[1].send.text ('authenticate'))" in result.stderr
    result = cli("run", str(test), "--no-record", "--var", "token=s3cret")
    assert result.returncode == 0, result.output


def test_var_without_a_value_reads_the_environment_and_the_url_is_printed_redacted(
        cli: Cli, peer: Callable[..., str], tmp_path: Path):
    test = write_test(tmp_path, VARIABLE_TEST.format(url=peer() + "?access_token={{token}}&room=7"))
    result = cli("run", str(test), "--no-record", "--var", "token", env={"TOKEN": "s3cret"})
    assert result.returncode == 0, result.output
    assert "access_token=REDACTED&room=7" in result.stdout.splitlines()[0]
    assert "s3cret" not in result.output
    # the exact name wins over the upper-case spelling
    result = cli("run", str(test), "--no-record", "--var", "token", env={"token": "s3cret", "TOKEN": "wrong"})
    assert result.returncode == 0, result.output
    result = cli("run", str(test), "--no-record", "--var", "token", env={"TOKEN": "wrong"})
    assert result.returncode == 1, result.output
    result = cli("run", str(test), "--no-record", "--var", "token", env={"token": None, "TOKEN": None})
    assert result.returncode == 2, result.output
    assert "--var 'token': no value given, and the environment has no variable token or TOKEN" in result.stderr


def test_secrets_from_the_environment_and_control_characters_never_reach_the_output(
        cli: Cli, peer: Callable[..., str], tmp_path: Path):
    test = write_test(tmp_path, f"""\
version: 1
url: {peer()}
steps:
  - name: "log in \\x01"
    send:
      text: "pw {{{{pw}}}} \\e[31m red"
  - expect:
      text: "wrong \\e[31m red"
""")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--var", "pw", "--junit", str(report), env={"PW": "PWSECRET3"})
    assert result.returncode == 1, result.output
    junit = report.read_text("utf-8")
    for text in (result.stdout, result.stderr, junit):
        assert "PWSECRET3" not in text
    assert "-wrong \\x1b[31m red" in result.stdout and "+pw *** \\x1b[31m red" in result.stdout
    assert "\x1b" not in result.output and "\x01" not in result.output
    assert "log in \\x01" in result.stdout


async def cookie_greeter(ws: Any) -> None:
    """Greets with the Cookie the handshake carried."""
    await ws.send(f"hello {ws.request.headers.get('Cookie')}")
    async for _ in ws:
        pass


def test_a_variable_used_as_a_credential_is_masked_whatever_its_name(cli: Cli, peer: Callable[..., str],
                                                                     tmp_path: Path):
    test = write_test(tmp_path, """\
version: 1
url: ws://placeholder.invalid/
headers:
  Cookie: '{{c}}'
steps:
  - expect:
      text: hello
""")
    report = tmp_path / "report.xml"
    # --url stands in for the file's placeholder; the file's URL is not checked then
    result = cli("run", str(test), "--no-record", "--url", peer(cookie_greeter), "--var", "c=sid=SESSIONSECRET42",
                 "--junit", str(report))
    assert result.returncode == 1, result.output
    assert "+hello ***" in result.stdout
    assert "SESSIONSECRET42" not in result.output and "SESSIONSECRET42" not in report.read_text("utf-8")


def test_a_long_message_gives_a_short_report(cli: Cli, peer: Callable[..., str], tmp_path: Path):
    long_text = "x" * 300_000
    test = write_test(tmp_path, f"""\
version: 1
url: {peer()}
steps:
  - send:
      text: {long_text}A
  - expect:
      text: {long_text}B
""")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--junit", str(report))
    assert result.returncode == 1, result.output
    assert "(characters 299,801 to 300,001 of 300,001, around the first difference)" in result.stdout
    assert len(result.stdout) < 10_000
    assert report.stat().st_size < 200_000


def test_a_server_that_never_answers_the_handshake_times_out_as_told(cli: Cli, tmp_path: Path):
    with socket.socket() as silent:  # the kernel completes TCP connections; nothing ever reads or answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        test = write_test(tmp_path, ECHO_TEST.format(url=f"ws://127.0.0.1:{port}/"))
        report = tmp_path / "report.xml"
        result = cli("run", str(test), "--no-record", "--connect-timeout", "0.5", "--junit", str(report))
    assert result.returncode == 2, result.output
    assert (f"connection: Handshake timed out: no WebSocket upgrade from 127.0.0.1:{port} within 0.5 s"
            in result.stdout)
    connection = ET.parse(report).getroot().find("testsuite/testcase[@name='connection']")
    assert connection is not None and float(connection.get("time", "0")) > 0
    result = cli("run", str(test), "--no-record", "--connect-timeout", "0")
    assert result.returncode == 2 and "give a number of seconds above 0" in result.stderr


def test_speed_max_skips_the_recorded_delays(cli: Cli, peer: Callable[..., str], tmp_path: Path):
    test = write_test(tmp_path, f"""\
version: 1
url: {peer()}
steps:
  - send:
      text: one
      delay: 3600
  - expect:
      text: one
  - send:
      text: two
      delay: 1800.5
  - expect:
      text: two
""")
    # what the replay waits before each send: nothing at max speed, the recorded gap at 1x
    steps = read_test(test).steps
    assert send_delays(steps, parse_speed("max")) == [(0, 0.0), (2, 0.0)]
    assert send_delays(steps, parse_speed("1")) == [(0, 3600.0), (2, 1800.5)]
    result = cli("run", str(test), "--no-record", "--speed", "max")
    assert result.returncode == 0, result.output
    assert "(wire engine, speed max)" in result.stdout.splitlines()[0]


def test_the_qt_engine_runs_the_same_test(cli: Cli, peer: Callable[..., str], tmp_path: Path):
    path = write_test(tmp_path, ECHO_TEST.format(url=peer()))
    result = cli("run", str(path), "--no-record", "--engine", "qt")
    assert result.returncode == 0, result.output
    assert "(qt engine, speed 1x)" in result.stdout.splitlines()[0]


def test_headless_path_imports_neither_widgets_nor_gui(cli: Cli, peer: Callable[..., str], tmp_path: Path):
    path = write_test(tmp_path, ECHO_TEST.format(url=peer()))
    code = ("import sys\n"
            "for name in ('PySide6.QtGui', 'PySide6.QtWidgets'): sys.modules[name] = None\n"
            "from wsinspector.cli import main\n"
            f"sys.exit(main(['run', {str(path)!r}, '--no-record']))\n")
    result = cli(command=[sys.executable, "-c", code])
    assert result.returncode == 0, result.output


@pytest.mark.parametrize("damage", ["corrupt", "not a folder"])
def test_an_unusable_data_dir_warns_and_runs_anyway(cli: Cli, peer: Callable[..., str], tmp_path: Path,
                                                    data_dir: Path, damage: str):
    path = write_test(tmp_path, ECHO_TEST.format(url=peer()))
    if damage == "corrupt":
        garbage = b"this is not SQLite" * 100
        (data_dir / DB_NAME).write_bytes(garbage)
        target = data_dir
    else:
        target = tmp_path / "a-file"
        target.write_text("x")
    result = cli("run", str(path), "--data-dir", str(target))
    assert result.returncode == 0, result.output
    assert "wsinspector: warning: the replay is not recorded: " in result.stderr
    assert "Traceback" not in result.stderr
    if damage == "corrupt":
        assert (data_dir / DB_NAME).read_bytes() == garbage  # left untouched
        assert "warning: the app-wide connection defaults cannot be read (" in result.stderr
        assert "the run goes without them" in result.stderr


def test_a_data_dir_damaged_past_its_header_is_not_recorded_into_and_left_untouched(
        cli: Cli, peer: Callable[..., str], tmp_path: Path, data_dir: Path):
    big_file(data_dir / DB_NAME)
    write_into(data_dir / DB_NAME, ((data_dir / DB_NAME).stat().st_size // 2 // 4096) * 4096, b"\xa5" * 4096)
    before = snapshot(data_dir)
    path = write_test(tmp_path, ECHO_TEST.format(url=peer()))
    result = cli("run", str(path), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.output
    assert f"wsinspector: warning: the replay is not recorded: {data_dir / DB_NAME} is damaged" in result.stderr
    assert "left untouched" in result.stderr and "Traceback" not in result.stderr
    assert "Recorded as session" not in result.stdout
    assert snapshot(data_dir) == before


def test_the_recorded_session_keeps_no_secret_of_its_url(cli: Cli, peer: Callable[..., str], tmp_path: Path,
                                                        data_dir: Path):
    url = peer().rstrip("/") + f"/feed?room=7&access_token={SECRET}"
    path = write_test(tmp_path, ECHO_TEST.format(url=url))
    result = cli("run", str(path), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.output
    assert "Recorded as session 1" in result.stdout
    assert all(SECRET.encode() not in data for data in snapshot(data_dir).values())


def test_ctrl_c_stops_the_run_with_exit_code_2(cli: Cli, peer: Callable[..., str], tmp_path: Path, data_dir: Path):
    test = write_test(tmp_path, f"""\
version: 1
url: {peer()}
steps:
  - name: hello
    send:
      text: hello
  - name: a long pause
    wait: 600
""")
    proc, out, err = cli.start("run", str(test), "--data-dir", str(data_dir))
    cli.qtbot.waitUntil(lambda: "✓ hello" in out.read_text("utf-8"), timeout=WAIT_MS)
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out, err)
    assert result.returncode == 2, result.output
    assert "interrupted (Ctrl+C)" in result.stderr
    assert re.search(r"^  ✗ a long pause  \(.*, error\)$", result.stdout, re.MULTILINE), result.stdout
    assert result.stdout.splitlines()[-1].startswith("ERROR: 1 passed, 0 failed, 1 error of 2 steps")
    with contextlib.suppress(Exception):
        proc.kill()
    [(_, _, _, _, status)] = replays(data_dir)
    assert status == "closed"


# -- what the client had to refuse -------------------------------------------------------------------


def _hostile_test(tmp_path: Path, url: str, step: str) -> Path:
    return write_test(tmp_path, f"version: 1\nname: hostile\nurl: {url}\ntimeout: 30\nsteps:\n{step}")


@pytest.mark.parametrize(("engine", "words"), [
    ("wire", "the server sent a close frame with the code 1005, which RFC 6455 does not allow on the wire"),
    ("qt", "the server sent a close frame with a code that RFC 6455 does not allow on the wire"),
])
def test_a_close_frame_the_client_refused_fails_the_run_and_the_report(cli: Cli, hostile: Callable[..., str],
                                                                      tmp_path: Path, engine: str, words: str):
    from tests.net.hostile_extra import upgrades_with
    from tests.rejected_frames import REJECTED

    url = hostile(upgrades_with(REJECTED["close code 1005"].data))
    test = _hostile_test(tmp_path, url, "  - name: server closes\n    expect:\n      opcode: close\n")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--engine", engine, "--junit", str(report))
    assert result.returncode == 2, result.output
    assert "  ✗ server closes  (" in result.stdout
    assert f"Protocol error from the server: {words}" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("ERROR: 0 passed, 0 failed, 1 error of 1 step in")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and (suite.get("errors"), suite.get("failures")) == ("1", "0")
    [error] = [error for case in suite.iter("testcase") for error in case.iter("error")]
    assert words in (error.get("message") or "")


def test_text_that_is_not_utf8_never_satisfies_a_wait(cli: Cli, hostile: Callable[..., str], tmp_path: Path):
    from tests.net.hostile_extra import upgrades_with
    from tests.peers import server_frame

    url = hostile(upgrades_with(server_frame(0x1, b"ready \xff")))
    test = _hostile_test(tmp_path, url, "  - wait:\n      regex: ready\n")
    result = cli("run", str(test), "--no-record")
    assert result.returncode == 2, result.output
    assert "the server sent text that is not valid UTF-8" in result.stdout


def test_a_closing_handshake_that_times_out_is_said_and_reported(cli: Cli, hostile: Callable[..., str],
                                                                 tmp_path: Path):
    from tests.peers import sends_then_waits, server_frame

    url = hostile(sends_then_waits(server_frame(0x1, b"hello")))  # never answers our close frame
    test = _hostile_test(tmp_path, url, "  - expect:\n      text: hello\n")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--no-record", "--junit", str(report))
    assert result.returncode == 2, result.output
    assert "  ✓ steps[0] expect text" in result.stdout
    assert "  ✗ closing: Closing handshake timed out: the server did not answer our close frame within 5 s" in (
        result.stdout)
    assert result.stdout.splitlines()[-1].startswith("ERROR: 1 passed, 0 failed of 1 step in")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    [case] = [case for case in suite.iter("testcase") if case.find("error") is not None]
    assert case.get("name") == "closing"


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_a_server_that_hangs_up_on_our_close_frame_is_said_and_reported(cli: Cli, hostile: Callable[..., str],
                                                                        tmp_path: Path, data_dir: Path, engine: str):
    from tests.net.hostile_extra import FrameRecorder
    from tests.peers import server_frame

    # "one", then, on our close frame, TCP closed without a close frame back
    url = hostile(FrameRecorder(send_first=server_frame(0x1, b"one")).behaviour())
    test = _hostile_test(tmp_path, url, "  - send:\n      text: hello\n  - expect:\n      text: one\n")
    report = tmp_path / "report.xml"
    result = cli("run", str(test), "--data-dir", str(data_dir), "--engine", engine, "--junit", str(report))
    assert result.returncode == 2, result.output
    assert "  ✓ steps[1] expect text" in result.stdout
    assert "  ✗ closing: the server ended the connection without answering our close frame" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("ERROR: 2 passed, 0 failed of 2 steps in")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    [(_name, _replay_of, _frames_in, _frames_out, status)] = replays(data_dir)
    assert status == "failed"


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_a_rejected_upgrade_prints_what_the_server_said(cli: Cli, hostile: Callable[..., str], tmp_path: Path,
                                                        engine: str):
    from tests.net.test_handshake_answers import answers

    body = "sign in first"
    url = hostile(answers((f'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="feeds"\r\n'
                           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()))
    test = write_test(tmp_path, ECHO_TEST.format(url=url))
    result = cli("run", str(test), "--no-record", "--engine", engine)
    assert result.returncode == 2, result.output
    [line] = [line for line in result.stdout.splitlines() if "connection:" in line]
    assert "HTTP 401 Unauthorized" in line and 'body: "sign in first"' in line, line
    assert "nothing is listening" not in line
    assert 'WWW-Authenticate: Basic realm="feeds"' in line, line
    if engine == "qt":
        assert "QWebSocket" in line, line  # its own words too


DYNAMIC_TEST = """\
version: 1
name: dynamic values
url: {url}
timeout: 5
steps:
  - send:
      text: 'n={{{{$counter}}}} id={{{{$uuid}}}} t={{{{$timestamp}}}}'
  - expect:
      regex: '^n=1 id=[0-9a-f-]{{36}} t=[0-9]{{10}}$'
  - send:
      json: {{"n": "{{{{$counter}}}}", "id": "{{{{$uuid}}}}"}}
  - expect:
      regex: '^\\{{"n":"2","id":"[0-9a-f-]{{36}}"\\}}$'
"""


def test_send_steps_expand_dynamic_values_at_each_send(cli: Cli, peer: Callable[..., str], tmp_path: Path):
    received: list[str] = []

    async def recording_echo(ws: Any) -> None:
        async for message in ws:
            received.append(message)
            await ws.send(message)

    path = write_test(tmp_path, DYNAMIC_TEST.format(url=peer(recording_echo)))
    result = cli("run", str(path), "--no-record")
    assert result.returncode == 0, result.output
    first, second = received
    assert json.loads(second)["id"] != first.split("id=")[1].split()[0]
    assert "{{$" not in first + second
