"""Damaged database files for tests, made by writing bytes into a real SQLite file the store wrote."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.store import SessionStatus, Store

STARTED_NS = 1_000_000
STARTED_WALL = 1_700_000_000.0
SECRET = "tok-5ecret-93f1"
SECRET_URL = f"wss://alice:pa55word-x@api.example.com/feed?room=7&access_token={SECRET}#top"
FRAMES = 24


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def make_log(count: int = FRAMES, size: int = 10) -> FrameLog:
    """Text, binary, a fragmented message, pings and pongs, and a close, with increasing time stamps."""
    log = FrameLog(started_ns=STARTED_NS, started_wall=STARTED_WALL)
    kinds = [(Direction.OUT, Opcode.TEXT, True), (Direction.IN, Opcode.TEXT, True),
             (Direction.OUT, Opcode.PING, True), (Direction.IN, Opcode.PONG, True),
             (Direction.IN, Opcode.BINARY, False), (Direction.IN, Opcode.CONTINUATION, True)]
    for i in range(count - 1):
        direction, opcode, fin = kinds[i % len(kinds)]
        payload = (b"ping" if opcode in (Opcode.PING, Opcode.PONG) else b"frame %03d " % i).ljust(size, b"e")
        log.append(Frame(seq=-1, ts_ns=STARTED_NS + 1_000 * (i + 1), direction=direction, opcode=opcode,
                         payload=payload, fin=fin, rsv1=False, rsv2=False, rsv3=False,
                         masked=direction is Direction.OUT, payload_length=len(payload)))
    log.append(Frame(seq=-1, ts_ns=STARTED_NS + 1_000 * count, direction=Direction.IN, opcode=Opcode.CLOSE,
                     payload=b"\x03\xe8bye", fin=True))
    return log


def recorded_file(path: Path, log: FrameLog | None = None, url: str = "ws://127.0.0.1:1/") -> int:
    """A closed database holding one recorded session; its id."""
    log = log or make_log()
    store = Store(path)
    try:
        session_id = store.create_session("damaged-one", url, STARTED_WALL, STARTED_NS)
        store.append_live(session_id, log, 0, len(log) - 1)
        store.finish_session(session_id, SessionStatus.CLOSED, STARTED_WALL + 1, 1000, "")
    finally:
        store.close()
    return session_id


def column_of(path: Path, name: str) -> bytes:
    db = sqlite3.connect(path)
    try:
        return bytes(db.execute(f"SELECT {name} FROM chunks ORDER BY key LIMIT 1").fetchone()[0])
    finally:
        db.close()


def write_into(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as fp:
        fp.seek(offset)
        fp.write(data)


def big_file(path: Path) -> int:
    """A file of a few MB: one session in three chunks of 1 MB, each its own pages."""
    return recorded_file(path, make_log(count=700, size=4000))


def damage_pages(path: Path, first_page: int, step: int = 5) -> None:
    """Random bytes over every ``step``-th page from ``first_page`` up to the last two."""
    pages = path.stat().st_size // 4096
    for page in range(first_page, pages - 2, step):
        write_into(path, page * 4096, random.Random(page).randbytes(4096))


def where(path: Path, blob: bytes) -> int:
    offset = path.read_bytes().find(blob)
    assert offset > 0 and path.read_bytes().count(blob) == 1
    return offset
