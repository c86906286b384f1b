"""SQLite store: schema and migrations (PRAGMA user_version), saved connection profiles.

The file is never deleted or overwritten when it cannot be used: a corrupt, foreign or newer-schema
database raises :class:`StoreError` with a message for the user, and the file stays as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from wsinspector.core.profiles import ConnectionProfile

APPLICATION_ID = 0x77736931  # "wsi1": marks a database as ours


class StoreError(RuntimeError):
    """The store cannot be used; the message says why in the user's terms."""


def _v1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE profiles (
            id TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            data TEXT NOT NULL
        )"""
    )
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


#: MIGRATIONS[i] brings a database from user_version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1]
SCHEMA_VERSION = len(MIGRATIONS)

_PROFILE_FIELDS = {f for f in ConnectionProfile.__dataclass_fields__}


def profile_to_json(profile: ConnectionProfile) -> str:
    data: dict[str, Any] = {
        "name": profile.name,
        "url": profile.url,
        "headers": [list(h) for h in profile.headers],
        "subprotocols": list(profile.subprotocols),
        "origin": profile.origin,
        "variables": [list(v) for v in profile.variables],
        "handshake_timeout_s": profile.handshake_timeout_s,
        "max_message_size": profile.max_message_size,
        "max_frame_size": profile.max_frame_size,
        "builtin": profile.builtin,
    }
    return json.dumps(data, ensure_ascii=False)


def profile_from_json(profile_id: str, text: str) -> ConnectionProfile:
    data = json.loads(text)
    known = {k: v for k, v in data.items() if k in _PROFILE_FIELDS}
    for key in ("headers", "variables"):
        if key in known:
            known[key] = tuple((str(a), str(b)) for a, b in known[key])
    if "subprotocols" in known:
        known["subprotocols"] = tuple(str(p) for p in known["subprotocols"])
    return ConnectionProfile(id=profile_id, **known)


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if path != ":memory:" else None
        target = str(path)
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the data folder {self.path.parent}: {exc.strerror}") from None
        try:
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=True)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open {path}: {exc}") from None
        try:
            self._check_and_migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise StoreError(
                    f"{path} is not a wsinspector database or is damaged ({exc}); it was left untouched"
                ) from None
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise StoreError(f"{path} is read-only; wsinspector needs to write there") from None
            raise StoreError(f"Cannot use {path}: {exc}") from None
        except StoreError:
            self._db.close()
            raise

    def _check_and_migrate(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").fetchone()[0]
        if tables and app_id != APPLICATION_ID:
            raise StoreError(f"{self.path} is an SQLite database of another program; it was left untouched")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer wsinspector (schema {version}, this version "
                f"understands up to {SCHEMA_VERSION}); it was left untouched"
            )
        # SQLite silently opens a read-only file read-only: find out now, not at the first save.
        db.execute(f"PRAGMA user_version = {version}")
        if self.path is not None:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        while version < SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[version](db)
                version += 1
                db.execute(f"PRAGMA user_version = {version}")
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    # -- profiles ---------------------------------------------------------------------------------

    def profiles(self) -> list[ConnectionProfile]:
        rows = self._db.execute("SELECT id, data FROM profiles ORDER BY position, rowid").fetchall()
        return [profile_from_json(pid, data) for pid, data in rows]

    def save_profile(self, profile: ConnectionProfile) -> None:
        """Insert or update; a new profile goes to the end of the list."""
        with self._transaction():
            exists = self._db.execute("SELECT 1 FROM profiles WHERE id = ?", (profile.id,)).fetchone()
            if exists:
                self._db.execute(
                    "UPDATE profiles SET data = ? WHERE id = ?", (profile_to_json(profile), profile.id)
                )
            else:
                position = self._db.execute("SELECT coalesce(max(position), -1) + 1 FROM profiles").fetchone()[0]
                self._db.execute(
                    "INSERT INTO profiles (id, position, data) VALUES (?, ?, ?)",
                    (profile.id, position, profile_to_json(profile)),
                )

    def delete_profile(self, profile_id: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))

    def reorder_profiles(self, ids: Sequence[str]) -> None:
        with self._transaction():
            for position, pid in enumerate(ids):
                self._db.execute("UPDATE profiles SET position = ? WHERE id = ?", (position, pid))

    # -- settings ---------------------------------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise StoreError(f"Could not save: {err}") from None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                raise StoreError(f"Could not save: {err}") from None
        else:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"Could not save: {exc}") from None

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
