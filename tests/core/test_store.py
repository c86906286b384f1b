"""Store: a real SQLite file in tmp_path; profiles and settings persist, unusable files are left untouched."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from wsinspector.core import store as store_module
from wsinspector.core.profiles import (
    BUILTIN_LOCAL_ECHO,
    ENGINE_QT,
    HEARTBEAT_RECONNECT,
    Compression,
    ConnectionProfile,
    Endpoint,
    Handshake,
    Health,
    Limits,
    Protocol,
)
from wsinspector.core.store import APPLICATION_ID, SCHEMA_VERSION, Store, StoreError

OpenStore = Callable[[Path], Store]

running_as_root = hasattr(os, "geteuid") and os.geteuid() == 0
needs_non_root = pytest.mark.skipif(
    running_as_root, reason="running as root: file permissions do not stop root from writing, so read-only "
                            "cannot be simulated with chmod"
)






def raw_pragma(path: Path, name: str) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        db.close()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in a folder with its bytes: shows both changed content and new side files (-wal, -journal)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def full_profile(name: str = "Staging", **changes: object) -> ConnectionProfile:
    profile = ConnectionProfile(
        name=name,
        endpoint=Endpoint("wss://{{host}}/socket?v=2"),
        handshake=Handshake(headers=(("Authorization", "Bearer {{token}}"), ("X-Trace", "1"), ("X-Trace", "2")),
                            subprotocols=("graphql-ws", "chat.v1"), origin="https://app.example.com", timeout_s=2.5),
        variables=(("host", "api.example.com"), ("token", "s3cr3t ✓")),
        limits=Limits(max_message_size=123_456, max_frame_size=4096),
        protocol=Protocol(engine=ENGINE_QT, auto_pong=False, close_timeout_s=1.5),
        compression=Compression(deflate=False, server_max_window_bits=10, client_max_window_bits=12,
                                server_no_context_takeover=True, client_no_context_takeover=True),
        health=Health(heartbeat_interval_s=7.5, heartbeat_timeout_s=3.5, heartbeat_action=HEARTBEAT_RECONNECT,
                      reconnect=True, reconnect_max_attempts=4, reconnect_base_s=1.5, reconnect_max_s=12.0),
        builtin="",
    )
    return profile.with_changes(**changes)


# -- a new database ---------------------------------------------------------------------------------


def test_new_database_is_marked_as_ours_with_the_current_schema(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.profiles() == []
    store.close()
    assert raw_pragma(db_path, "user_version") == SCHEMA_VERSION
    assert raw_pragma(db_path, "application_id") == APPLICATION_ID


def test_missing_data_folders_are_created(open_store: OpenStore, tmp_path: Path) -> None:
    path = tmp_path / "not" / "there" / "yet" / "db.sqlite3"
    store = open_store(path)
    store.set_setting("k", "v")
    assert path.is_file()


def test_in_memory_store_works() -> None:
    store = Store(":memory:")
    try:
        store.save_profile(full_profile())
        assert [p.name for p in store.profiles()] == ["Staging"]
        assert store.schema_version == SCHEMA_VERSION
    finally:
        store.close()


# -- profiles ---------------------------------------------------------------------------------------


def test_profile_round_trips_every_field_and_survives_reopening(open_store: OpenStore, db_path: Path) -> None:
    builtin = ConnectionProfile(name="Local echo", endpoint=Endpoint("ws://127.0.0.1:8765/"),
                                builtin=BUILTIN_LOCAL_ECHO)
    custom = full_profile()
    store = open_store(db_path)
    store.save_profile(builtin)
    store.save_profile(custom)
    assert store.profiles() == [builtin, custom]
    store.close()

    assert open_store(db_path).profiles() == [builtin, custom]


def test_saving_an_existing_profile_updates_it_in_place(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    a, b, c = (ConnectionProfile(name=n, endpoint=Endpoint(f"ws://{n}/")) for n in "abc")
    for p in (a, b, c):
        store.save_profile(p)
    changed = b.with_changes(name="b2", endpoint=Endpoint("wss://b2/"), handshake={"headers": (("X-New", "yes"),)},
                             limits={"max_frame_size": 77})
    store.save_profile(changed)
    assert store.profiles() == [a, changed, c]  # same place in the list, new values
    store.close()
    assert open_store(db_path).profiles() == [a, changed, c]


def test_delete_profile(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    a, b, c = (ConnectionProfile(name=n, endpoint=Endpoint(f"ws://{n}/")) for n in "abc")
    for p in (a, b, c):
        store.save_profile(p)
    store.delete_profile(b.id)
    store.delete_profile("no-such-id")  # deleting something already gone is harmless
    assert store.profiles() == [a, c]
    store.close()
    assert open_store(db_path).profiles() == [a, c]


def test_reorder_profiles_and_new_ones_go_to_the_end(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    a, b, c = (ConnectionProfile(name=n, endpoint=Endpoint(f"ws://{n}/")) for n in "abc")
    for p in (a, b, c):
        store.save_profile(p)
    store.reorder_profiles([c.id, a.id, b.id])
    assert [p.name for p in store.profiles()] == ["c", "a", "b"]
    d = ConnectionProfile(name="d", endpoint=Endpoint("ws://d/"))
    store.save_profile(d)
    store.save_profile(a.with_changes(endpoint=Endpoint("ws://a-changed/")))  # an update does not move it
    assert [p.name for p in store.profiles()] == ["c", "a", "b", "d"]
    store.close()
    reopened = open_store(db_path).profiles()
    assert [p.name for p in reopened] == ["c", "a", "b", "d"]
    assert reopened[1].url == "ws://a-changed/"


# -- settings ---------------------------------------------------------------------------------------


def test_settings(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    assert store.setting("theme") is None
    assert store.setting("theme", "light") == "light"
    store.set_setting("theme", "dark")
    store.set_setting("last_profile", "ünïcødé ✓")
    store.set_setting("empty", "")
    assert store.setting("theme", "light") == "dark"
    store.set_setting("theme", "solarized")
    assert store.setting("theme") == "solarized"
    store.close()
    reopened = open_store(db_path)
    assert reopened.setting("theme") == "solarized"
    assert reopened.setting("last_profile") == "ünïcødé ✓"
    assert reopened.setting("empty", "default") == ""


# -- migrations -------------------------------------------------------------------------------------


CURRENT = SCHEMA_VERSION
NEXT = SCHEMA_VERSION + 1


def _install_v2(monkeypatch: pytest.MonkeyPatch, calls: list[int], fail: bool = False) -> None:
    """Add one more migration after the real ones, as a future version would."""

    def _v2(db: sqlite3.Connection) -> None:
        calls.append(1)
        db.execute("ALTER TABLE profiles ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0")
        db.execute("CREATE TABLE future (id INTEGER PRIMARY KEY, started TEXT NOT NULL)")
        if fail:
            raise sqlite3.OperationalError("v2 migration exploded")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, _v2])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(store_module.MIGRATIONS))


def _columns(path: Path, table: str) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    finally:
        db.close()


def test_migration_from_an_older_schema_runs_once_and_keeps_the_data(
    open_store: OpenStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = full_profile()
    old = open_store(db_path)
    old.save_profile(profile)
    old.set_setting("theme", "dark")
    old.close()
    assert raw_pragma(db_path, "user_version") == CURRENT

    calls: list[int] = []
    _install_v2(monkeypatch, calls)
    store = open_store(db_path)
    assert calls == [1]
    assert store.schema_version == NEXT
    assert store.profiles() == [profile]
    assert store.setting("theme") == "dark"
    store.save_profile(full_profile("After migration"))
    store.close()
    assert "favourite" in _columns(db_path, "profiles")
    assert _columns(db_path, "future") == ["id", "started"]
    assert raw_pragma(db_path, "user_version") == NEXT
    assert raw_pragma(db_path, "application_id") == APPLICATION_ID

    open_store(db_path).close()
    assert calls == [1]  # an up-to-date database is not migrated again


def test_new_database_runs_every_migration(
    open_store: OpenStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    _install_v2(monkeypatch, calls)
    assert open_store(db_path).schema_version == NEXT
    assert calls == [1]
    assert "favourite" in _columns(db_path, "profiles")


def test_failed_migration_rolls_back_and_leaves_the_old_schema_usable(
    open_store: OpenStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = full_profile()
    old = open_store(db_path)
    old.save_profile(profile)
    old.close()

    with monkeypatch.context() as patched:
        _install_v2(patched, [], fail=True)
        with pytest.raises(StoreError, match="v2 migration exploded"):
            Store(db_path)

    assert raw_pragma(db_path, "user_version") == CURRENT
    assert "favourite" not in _columns(db_path, "profiles")
    assert _columns(db_path, "future") == []
    assert open_store(db_path).profiles() == [profile]


# -- files that cannot be used are left untouched ---------------------------------------------------


def test_file_that_is_not_sqlite_is_refused_and_left_untouched(db_path: Path, data_dir: Path) -> None:
    garbage = random.Random(20240611).randbytes(8192)
    assert not garbage.startswith(b"SQLite format 3\x00")
    db_path.write_bytes(garbage)
    before = snapshot(data_dir)

    with pytest.raises(StoreError, match="left untouched") as info:
        Store(db_path)
    assert "not a wsinspector database or is damaged" in str(info.value)
    assert snapshot(data_dir) == before


def test_damaged_database_is_refused_and_left_untouched(db_path: Path, data_dir: Path) -> None:
    store = Store(db_path)
    store.save_profile(full_profile())
    store.close()
    data = bytearray(db_path.read_bytes())
    data[100:4096] = random.Random(7).randbytes(3996)  # keep the header, wreck the schema page
    db_path.write_bytes(bytes(data))
    before = snapshot(data_dir)

    with pytest.raises(StoreError, match=r"damaged.*left untouched"):
        Store(db_path)
    assert snapshot(data_dir) == before


def _foreign_database(path: Path, application_id: int = 0, user_version: int = 0) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    db.execute("INSERT INTO contacts VALUES ('Ada', '555-0100')")
    db.execute(f"PRAGMA application_id = {application_id}")
    db.execute(f"PRAGMA user_version = {user_version}")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("application_id", "user_version"),
    [
        (0, 0),  # a plain database without any markers
        (0x12345678, 0),  # a database that another program marked as its own
        (0x12345678, 1),  # ... with the same user_version as ours
        (0, 7),  # another program that versions its schema with user_version
    ],
)
def test_database_of_another_program_is_refused_and_left_untouched(
    db_path: Path, data_dir: Path, application_id: int, user_version: int
) -> None:
    _foreign_database(db_path, application_id, user_version)
    before = snapshot(data_dir)

    with pytest.raises(StoreError) as info:
        Store(db_path)
    assert "of another program" in str(info.value)
    assert "left untouched" in str(info.value)
    assert snapshot(data_dir) == before


def test_newer_schema_is_refused_and_left_untouched(db_path: Path, data_dir: Path) -> None:
    store = Store(db_path)
    store.save_profile(full_profile())
    store.close()
    db = sqlite3.connect(db_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.commit()
    db.close()
    before = snapshot(data_dir)

    with pytest.raises(StoreError) as info:
        Store(db_path)
    message = str(info.value)
    assert "newer wsinspector" in message
    assert f"schema {SCHEMA_VERSION + 5}" in message
    assert "left untouched" in message
    assert snapshot(data_dir) == before


def test_data_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file where a folder should be")
    with pytest.raises(StoreError, match="Cannot create the data folder"):
        Store(blocker / "data" / "wsinspector.sqlite3")
    assert blocker.read_text() == "a regular file where a folder should be"


# -- read-only --------------------------------------------------------------------------------------


@needs_non_root
def test_read_only_database_and_folder_is_refused(db_path: Path, data_dir: Path) -> None:
    store = Store(db_path)
    store.save_profile(full_profile())
    store.close()
    before = snapshot(data_dir)
    db_path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    data_dir.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        with pytest.raises(StoreError, match="read-only; wsinspector needs to write there"):
            Store(db_path)
    finally:
        data_dir.chmod(0o755)
        db_path.chmod(0o644)
    assert snapshot(data_dir) == before


@needs_non_root
def test_read_only_database_in_a_writable_folder_is_reported_as_store_error(
    db_path: Path, data_dir: Path
) -> None:
    # The app only catches StoreError; a raw sqlite3 error on the first save would escape to the user.
    store = Store(db_path)
    store.save_profile(full_profile())
    store.close()
    before = db_path.read_bytes()
    db_path.chmod(0o444)
    opened: list[Store] = []
    try:
        with pytest.raises(StoreError, match=r"read-?only"):
            opened.append(Store(db_path))
            opened[0].save_profile(full_profile("Another"))
    finally:
        for s in opened:
            s.close()
        db_path.chmod(0o644)
    assert db_path.read_bytes() == before  # SQLite may add empty -wal/-shm side files; the data is untouched
