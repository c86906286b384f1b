"""A command whose standard output goes away (``| head -1``: the reader exits, the pipe breaks) ends as
docs say, with no traceback: a command that only prints stops quietly with status 0. Each runs as a user runs
it: a real subprocess whose standard output is a pipe the test reads and then closes, or whose reader has
already gone, buffered as a user's is (no PYTHONUNBUFFERED)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.cli.conftest import WAIT_MS
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.store import SessionStatus, Store

ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "QT_QPA_PLATFORM": "offscreen",
       "PYTHONIOENCODING": "utf-8"}
WAIT_S = WAIT_MS / 1000
DB_NAME = "wsinspector.sqlite3"


#: the commands the test started
_started: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def no_command_left() -> Iterator[None]:
    """A test that fails half-way leaves no command running behind it."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=WAIT_S)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _start(*args: str, stdin: int | None = subprocess.DEVNULL, stdout: int | IO[bytes] = subprocess.PIPE,
           stderr: int | IO[bytes] = subprocess.PIPE) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "wsinspector", *args], stdin=stdin, stdout=stdout,
                            stderr=stderr, env=ENV)
    _started.append(proc)
    return proc


def _ended(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    """The exit status of a command once it has ended on its own, and what it wrote to standard error."""
    try:
        proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{proc.args} did not end on its own") from None
    finally:
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
    if proc.stderr is None:
        return proc.returncode, ""
    with proc.stderr:
        return proc.returncode, proc.stderr.read().decode("utf-8", "replace")


@contextlib.contextmanager
def _closed_pipe() -> Iterator[int]:
    """The writing end of a pipe whose reader has already gone (``| head -0``)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        yield writer
    finally:
        os.close(writer)


def _recorded(data: Path) -> int:
    """A stored session of a text message each way."""
    data.mkdir(parents=True, exist_ok=True)
    store = Store(data / DB_NAME)
    try:
        session_id = store.create_session("chat", "ws://127.0.0.1:9/chat", 1_764_496_800.0, 1_000_000_000)
        store.append_frames(session_id, [
            (seq, 1_000_000_000 + seq, header.pack(direction, Opcode.TEXT, True, False, False, False,
                                                   direction is Direction.OUT), None, None, None, payload)
            for seq, direction, payload in ((0, Direction.OUT, b"hello"), (1, Direction.IN, b"hello"))])
        store.finish_session(session_id, SessionStatus.CLOSED, 1_764_496_801.0, 1000, "")
    finally:
        store.close()
    return session_id


# -- commands that only print ---------------------------------------------------------------------------------


def test_decode_stops_quietly_when_its_reader_goes_away() -> None:
    """``... | wsinspector decode | head -1``: the first line read, the reader gone, more frames come."""
    proc = _start("decode", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b'{"n": 1}\n')
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())
    assert (first["line"], first["protocol"]) == (1, "json")
    proc.stdout.close()
    proc.stdin.write(b'{"n": 2}\n{"n": 3}\n')
    proc.stdin.close()
    code, err = _ended(proc)
    assert code == 0, err
    assert err == ""


#: commands that print a listing, an export or a report; the reader has gone before they print
PRINTING = [
    ["--version"],
    ["--help"],
    ["serve", "--help"],
    ["sessions"],
    ["sessions", "--json"],
    ["messages"],
    ["messages", "1"],
    ["export", "1", "--format", "csv"],
    ["export", "1", "--format", "ndjson", "--frames"],
    ["export", "{test}", "--format", "k6"],
    ["connections", "--json"],
    ["envs"],
    ["defaults", "--json"],
    ["decode", "--list"],
    ["import", "--dry-run", "--command", "websocat ws://127.0.0.1:9/"],
]


@pytest.mark.parametrize("args", PRINTING, ids=" ".join)
def test_a_command_that_only_prints_ends_quietly_with_0_when_its_reader_has_gone(tmp_path: Path,
                                                                                  args: list[str]) -> None:
    data = tmp_path / "data"
    _recorded(data)
    test = tmp_path / "t.wstest.yaml"
    test.write_text("version: 1\nurl: ws://127.0.0.1:9/\nsteps:\n  - send: {text: hello}\n", encoding="utf-8")
    with _closed_pipe() as stdout:
        proc = _start("--data-dir", str(data), *(arg.format(test=test) for arg in args), stdout=stdout)
    code, err = _ended(proc)
    assert code == 0, err
    assert err == ""


@pytest.mark.parametrize(("args", "code"), [
    (["--version"], 0),
    (["sessions", "--bogus"], 2),
    (["handshake"], 1),  # a data folder with nothing stored: said on standard error
], ids=lambda value: " ".join(value) if isinstance(value, list) else str(value))
def test_a_command_whose_standard_error_is_gone_too_ends_with_its_own_status(tmp_path: Path, args: list[str],
                                                                             code: int) -> None:
    """``... 2>&1 | head -0``: both streams gone; what the command says on either goes nowhere, quietly (the
    interpreter's own complaint would give status 120)."""
    with _closed_pipe() as both:
        proc = _start("--data-dir", str(tmp_path / "empty"), *args, stdout=both, stderr=both)
    assert proc.wait(timeout=WAIT_S) == code
