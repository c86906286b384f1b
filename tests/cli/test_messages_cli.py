"""``wsinspector messages``: a stored session's messages as JSON Lines, run as a user runs it (a real subprocess
over the real store)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.store import FrameRow, SessionStatus, Store

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsinspector", "--data-dir", str(data_dir), "messages", *args],
                          capture_output=True, text=True, env=ENV, timeout=60)


def _stored(data_dir: Path) -> int:
    """A session: a text message in three fragments with a ping between them, its pong, a binary message."""
    store = Store(data_dir / "wsinspector.sqlite3")
    try:
        started = 1_000_000_000
        session_id = store.create_session("chat", "ws://127.0.0.1:9/", 1_700_000_000.0, started)

        def row(seq: int, direction: Direction, opcode: Opcode, fin: bool, payload: bytes) -> FrameRow:
            meta = header.pack(direction, opcode, fin, False, False, False, direction is Direction.OUT)
            return (seq, started + seq * 1_000_000, meta, None, None, None, payload)

        store.append_frames(session_id, [
            row(0, Direction.IN, Opcode.TEXT, False, b'{"a": '),
            row(1, Direction.IN, Opcode.CONTINUATION, False, b"[1, "),
            row(2, Direction.OUT, Opcode.PING, True, b"p"),
            row(3, Direction.IN, Opcode.CONTINUATION, True, b"2]}"),
            row(4, Direction.IN, Opcode.PONG, True, b"p"),
            row(5, Direction.OUT, Opcode.BINARY, True, b"\x00\xff"),
        ])
        store.finish_session(session_id, SessionStatus.CLOSED, time.time(), 1000, "")
    finally:
        store.close()
    return session_id


def test_a_sessions_messages_as_json_lines(tmp_path: Path) -> None:
    session_id = _stored(tmp_path)
    listed = _cli(tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\t")[0] == str(session_id) and "\t6\tchat\t" in listed.stdout

    done = _cli(tmp_path, str(session_id))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["seq"], r["direction"], r["opcode"], r.get("frames", 1)) for r in lines] == [
        (2, "out", "ping", 1), (0, "in", "text", 3), (4, "in", "pong", 1), (5, "out", "binary", 1),
    ]
    assert lines[1]["text"] == '{"a": [1, 2]}' and lines[1]["length"] == 13
    assert lines[1]["time"] == 0.0 and lines[3]["time"] == 0.005
    assert base64.b64decode(lines[3]["base64"]) == b"\x00\xff"

    for named in ("last", "chat"):  # the newest, and the newest of that name: as `export` and `serve --replay` take
        assert _cli(tmp_path, named).stdout == done.stdout

    frames = _cli(tmp_path, str(session_id), "--frames")
    assert frames.returncode == 0, frames.stderr
    assert [json.loads(line)["opcode"] for line in frames.stdout.splitlines()] == [
        "text", "text", "ping", "text", "pong", "binary"]  # a continuation says its message's opcode


def test_an_unknown_session_and_an_empty_folder(tmp_path: Path) -> None:
    _stored(tmp_path)
    missing = _cli(tmp_path, "999")
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.strip() == "wsinspector: there is no session 999 (list them with `wsinspector sessions`)"
    unknown = _cli(tmp_path, "no such name")
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr.strip() == (
        "wsinspector: there is no session 'no such name' (list them with `wsinspector sessions`)")
    empty = _cli(tmp_path / "nothing")
    assert empty.returncode == 1 and "no sessions stored in" in empty.stderr and "Traceback" not in empty.stderr
