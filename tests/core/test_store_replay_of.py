"""Schema v5: a session recorded while replaying a test names the test (``replay_of``); older files migrate."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from wsinspector.core import store as store_module
from wsinspector.core.store import SCHEMA_VERSION, SessionStatus, Store

OpenStore = Callable[[Path], Store]


def _sessions_columns(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[1] for row in db.execute("PRAGMA table_info(sessions)")]
    finally:
        db.close()


def test_a_replay_session_names_its_test_and_a_live_one_does_not(open_store: OpenStore, db_path: Path):
    store = open_store(db_path)
    assert store.schema_version == SCHEMA_VERSION >= 5
    replayed = store.create_session("Replay: login", "ws://127.0.0.1:9/", 1.0, 2, None, SessionStatus.LIVE,
                                    replay_of="/home/ann/tests/login.wstest.yaml")
    live = store.create_session("live", "ws://127.0.0.1:9/", 3.0, 4)
    record = store.session(replayed)
    assert record is not None and record.replay_of == "/home/ann/tests/login.wstest.yaml"
    other = store.session(live)
    assert other is not None and other.replay_of is None
    assert {r.id: r.replay_of for r in store.sessions()} == {replayed: "/home/ann/tests/login.wstest.yaml",
                                                             live: None}


def test_a_version_4_file_migrates_and_keeps_its_sessions(open_store: OpenStore, db_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as v4:
        v4.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:4])
        v4.setattr(store_module, "SCHEMA_VERSION", 4)
        old = Store(db_path)
        assert old.schema_version == 4
        # as version 4 wrote a session (it had no replay_of to insert)
        old_id = old.connection.execute("INSERT INTO sessions (name, url, started_wall, started_ns, status) "
                                        "VALUES ('before', 'ws://127.0.0.1:9/', 1.0, 2, 'closed')").lastrowid
        assert old_id is not None
        # as version 4 stored a frame: a row of its own
        old.connection.execute("INSERT INTO frames (key, ts_ns, meta, payload_length, mask_key, note, payload) "
                               "VALUES (?, 5, 0, NULL, NULL, NULL, x'6869')", (old_id << 32,))
        old.connection.execute("UPDATE sessions SET frames_in = 1, bytes_in = 2, last_ts_ns = 5 WHERE id = ?",
                               (old_id,))
        old.close()
    assert "replay_of" not in _sessions_columns(db_path)

    store = open_store(db_path)
    assert store.schema_version == SCHEMA_VERSION
    assert "replay_of" in _sessions_columns(db_path)
    record = store.session(old_id)
    assert record is not None
    assert (record.name, record.replay_of, record.frames_in, record.bytes_in) == ("before", None, 1, 2)
    assert store.read_frames(old_id, 0, 0)[0][-1] == b"hi"
    new_id = store.create_session("after", "ws://127.0.0.1:9/", 3.0, 4, replay_of="t.wstest.yaml")
    assert new_id != old_id
    again = store.session(new_id)
    assert again is not None and again.replay_of == "t.wstest.yaml"
