"""A crash while recording: the app is killed (SIGKILL) in the middle of a flood of frames. The database must
stay intact, and the next start must show the session as interrupted, with every frame saved before the kill."""

from __future__ import annotations

import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from wsinspector.app.context import DB_NAME, AppContext
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE
from wsinspector.core.store import SEQ_MASK, SessionStatus

SCRIPT = Path(__file__).with_name("flood_recorder.py")
ROOT = SCRIPT.parents[2]
MIN_STORED = 5000
READY_TIMEOUT_S = 60

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def wait_for_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    """The first line the process prints; '' if it exits or stays silent for ``timeout_s``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            return proc.stdout.readline()
    return ""


#: how each engine stores an incoming text frame's header: the Wire engine reads the real one (RSV bits clear,
#: not masked); QWebSocket tells only the FIN bit
IN_TEXT_META = {
    ENGINE_WIRE: header.pack(Direction.IN, Opcode.TEXT, True, False, False, False, False),
    ENGINE_QT: header.pack(Direction.IN, Opcode.TEXT, True),
}


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_killed_while_recording_keeps_every_saved_frame(
    qapp: Any, data_dir: Path, tmp_path: Path, engine: str
) -> None:
    stderr_path = tmp_path / "flood_recorder.stderr"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, str(SCRIPT), str(data_dir), str(MIN_STORED), engine], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            line = wait_for_line(proc, READY_TIMEOUT_S)
            still_running = proc.poll() is None
        finally:
            proc.send_signal(signal.SIGKILL)  # a no-op if it is gone already
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
    errors = stderr_path.read_text()
    match = re.fullmatch(r"stored (\d+) session (\d+)\n", line)
    assert match, f"the recorder did not report {MIN_STORED} stored frames: {line!r}\n{errors}"
    assert still_running, f"the recorder had stopped by itself before the kill:\n{errors}"
    assert proc.returncode == -signal.SIGKILL
    reported, session_id = int(match.group(1)), int(match.group(2))
    assert reported >= MIN_STORED

    # the file as the killed process left it: intact, the session still marked live
    db_path = data_dir / DB_NAME
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        [(status,)] = db.execute("SELECT status FROM sessions WHERE id = ?", (session_id,)).fetchall()
        assert status == SessionStatus.LIVE
    finally:
        db.close()

    # the next start finds it and marks it interrupted, ending at its last saved frame
    context = AppContext(data_dir, start_echo=False)
    try:
        assert context.warnings == []
        assert context.interrupted == [session_id]
        store = context.store
        record = store.session(session_id)
        assert record is not None
        assert record.status == SessionStatus.INTERRUPTED
        frames = store.read_frames(session_id, 0, SEQ_MASK)
        stored = len(frames)
        assert stored >= reported, f"{reported} frames were reported saved, {stored} are in the file"
        assert [row[0] for row in frames] == list(range(stored)), "seqs are not dense from 0"
        assert record.frame_count == stored == record.frames_in == store.stored_frame_count(session_id)
        assert record.last_ts_ns == frames[-1][1]
        assert record.ended_wall == pytest.approx(record.started_wall + (frames[-1][1] - record.started_ns) / 1e9,
                                                  abs=1e-3)
        in_text = IN_TEXT_META[engine]
        damaged = [seq for seq, _, meta, _, _, _, payload in frames
                   if meta != in_text or payload != f"frame {seq}".encode()]
        assert damaged == [], f"{len(damaged)} frames differ from what was sent, first at seq {damaged[0]}"
        assert record.bytes_in == sum(len(row[6]) for row in frames)
        assert store.integrity_check() == "ok"
    finally:
        context.shutdown()
