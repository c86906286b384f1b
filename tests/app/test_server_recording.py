"""A server's clients are recorded as stored sessions exactly as a client connection is: every frame with its
header, the handshake kept without the client's credentials, the end with its code."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from wsinspector.app.server import ServerController
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.handshake import HANDSHAKE_EVENT, Handshake
from wsinspector.core.store import SessionStatus, Store
from wsinspector.core.stored import StoredSession


def test_each_client_is_a_stored_session(qtbot: Any, run: Callable[..., Any], tmp_path: Path) -> None:
    store = Store(tmp_path / "sessions.db")
    controller = ServerController(store, name="Mock")
    url = controller.listen("127.0.0.1", 0)
    echoing: list[Any] = []

    def echo(session: Any) -> None:
        echoing.append(session)
        session.frames_appended.connect(lambda first, last: [
            session.client.send(frame.payload, True) for frame in session.log.frames(first, last)
            if frame.direction is Direction.IN and frame.opcode is Opcode.TEXT])

    controller.client_added.connect(echo)

    async def talk() -> str | bytes:
        async with connect(url + "feed", additional_headers={"Authorization": "Bearer s3cret"}) as ws:
            await ws.send("one")
            answer = await ws.recv()
            await ws.close(4001, "done")
            return answer

    assert run(talk()) == "one"
    qtbot.waitUntil(lambda: bool(controller.sessions) and controller.sessions[0].done, timeout=5000)
    [session] = controller.sessions
    record = store.session(session.session_id or -1)
    assert record is not None
    assert (record.status, record.close_code, record.close_reason) == (SessionStatus.CLOSED, 4001, "done")
    assert record.url.endswith("/feed") and record.name.startswith("Mock 127.0.0.1:")
    stored = StoredSession(store, record)
    frames = list(stored.frames(0, len(stored) - 1))
    assert [(f.direction, f.opcode, f.payload, f.masked) for f in frames if f.opcode is Opcode.TEXT] == [
        (Direction.IN, Opcode.TEXT, b"one", True), (Direction.OUT, Opcode.TEXT, b"one", False)]
    [kept] = [text for _seq, kind, text in stored.events if kind == HANDSHAKE_EVENT]
    handshake = Handshake.from_json(kept)
    assert handshake is not None and handshake.status == 101
    assert ("Authorization", "{{Authorization}}") in handshake.request_headers
    assert "s3cret" not in kept
    controller.stop()
    store.close()


def test_a_client_is_answered_while_the_disk_is_busy_and_every_frame_is_saved_after(
        qtbot: Any, run: Callable[..., Any], tmp_path: Path) -> None:
    """The store's writer thread commits a server's frames; the periodic save hands them over and goes on
    rather than waiting for the commit (which held the event loop: the client went unanswered meanwhile)."""
    path = tmp_path / "sessions.db"
    store = Store(path)
    store.start_writer()
    controller = ServerController(store, name="Busy disk")
    url = controller.listen("127.0.0.1", 0)
    controller.client_added.connect(lambda session: session.frames_appended.connect(lambda first, last: [
        session.client.send(frame.payload, True) for frame in session.log.frames(first, last)
        if frame.direction is Direction.IN and frame.opcode is Opcode.TEXT]))
    locker = sqlite3.connect(path, isolation_level=None)

    async def talk() -> list[str | bytes]:
        async with connect(url) as ws:
            await ws.send("warm")
            answers = [await ws.recv()]  # the session and its first events are in the store
            locker.execute("BEGIN IMMEDIATE")  # another writer holds the database: no commit can happen now
            for n in range(5):
                await ws.send(f"while busy {n}")
                answers.append(await ws.recv())
            locker.execute("ROLLBACK")
            await ws.close()
            return answers

    assert run(talk()) == ["warm", *(f"while busy {n}" for n in range(5))]
    locker.close()
    qtbot.waitUntil(lambda: bool(controller.sessions) and controller.sessions[0].done, timeout=5000)
    [session] = controller.sessions
    record = store.session(session.session_id or -1)
    assert record is not None and record.status == SessionStatus.CLOSED
    stored = StoredSession(store, record)
    texts = [(f.direction, f.payload) for f in stored.frames(0, len(stored) - 1) if f.opcode is Opcode.TEXT]
    sent = [b"warm", *(f"while busy {n}".encode() for n in range(5))]
    assert texts == [(direction, payload) for payload in sent for direction in (Direction.IN, Direction.OUT)]
    controller.stop()
    store.close()


def test_a_client_is_saved_while_it_is_connected_even_when_the_writer_is_always_busy(
        qtbot: Any, run: Callable[..., Any], tmp_path: Path, monkeypatch: Any) -> None:
    """Clients sharing a busy writer thread: a save that finds its queue full waits for room for one slice
    once this client's frames have waited long enough, rather than leaving them unsaved until it leaves."""
    store = Store(tmp_path / "sessions.db")
    store.start_writer()
    monkeypatch.setattr(Store, "writer_full", property(lambda _store: True))  # other clients always got there first
    controller = ServerController(store, name="Busy writer")
    url = controller.listen("127.0.0.1", 0)

    async def stay() -> Any:
        ws = await connect(url)
        await ws.send("keep me")
        return ws

    ws = run(stay())
    qtbot.waitUntil(lambda: bool(controller.sessions) and controller.sessions[0].log.frames_in == 1, timeout=5000)
    [session] = controller.sessions
    qtbot.waitUntil(lambda: session._saved == len(session.log), timeout=10_000)
    assert not session.done, "saved while the client is still connected"
    run(ws.close())
    controller.stop()
    store.close()
