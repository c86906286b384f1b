"""Live recording: a ConnectionController connected to real peers on 127.0.0.1 writes every frame it shows to a
real SQLite file, and ends the session with what happened to the connection."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.test_stored_session import assert_same, stored_rows
from tests.peers import WebsocketsPeer, sends_then_drops, server_frame
from wsinspector.app import connection as connection_module
from wsinspector.app import recording as recording_module
from wsinspector.app.connection import ConnectionController
from wsinspector.app.sessions import SessionsController
from wsinspector.core.chunks import OPEN_FRAMES
from wsinspector.core.events import CloseInfo, Failure, FailureKind
from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.model import header
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE, ConnectionProfile, Endpoint
from wsinspector.core.store import SEQ_MASK, SessionRecord, SessionStatus, Store
from wsinspector.core.stored import StoredSession
from wsinspector.net import pump as wire_module

WAIT_MS = 10_000
DB_NAME = "wsinspector.sqlite3"

StartPeer = Callable[..., tuple[WebsocketsPeer, str]]


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


@pytest.fixture(params=["writer-thread", "window-thread"])
def store(db_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """The store as the app has it (its frames written on a thread of its own) and as a script's is."""
    opened = Store(db_path)
    if request.param == "writer-thread":
        opened.start_writer()
    yield opened
    opened.close()


@pytest.fixture
def websockets_peer(run: Callable[..., Any]) -> Iterator[StartPeer]:
    """``websockets_peer(handler=None, **serve_kwargs)`` starts a WebsocketsPeer (echo by default) and returns it
    with its URL; all are stopped after the test."""
    peers: list[WebsocketsPeer] = []

    def start(handler: Callable[[Any], Awaitable[None]] | None = None, **kwargs: Any) -> tuple[WebsocketsPeer, str]:
        peer = WebsocketsPeer(handler, **kwargs)
        peers.append(peer)
        return peer, str(run(peer.start()))

    yield start
    for peer in peers:
        run(peer.stop())




@pytest.fixture
def controller(
    qtbot: Any, store: Store, websockets_peer: StartPeer, hostile: Callable[..., str]
) -> Iterator[ConnectionController]:
    """The session controller recording to ``store``; shut down before the peers stop and the store closes."""
    session = ConnectionController(store)
    yield session
    session.shutdown()


def profile(url: str, **records: Any) -> ConnectionProfile:
    """``records``: settings to change, by record, e.g. ``protocol={"engine": ENGINE_QT}``."""
    return ConnectionProfile(name="recorded", endpoint=Endpoint(url)).with_changes(**records)


def open_session(qtbot: Any, controller: ConnectionController, url: str, **fields: Any) -> int:
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        assert controller.connect_to(profile(url, **fields))
    assert controller.session_id is not None
    return controller.session_id


def disconnect(qtbot: Any, controller: ConnectionController, code: int = 1000, reason: str = "") -> int:
    """Disconnect and wait until the recorded session is finished; returns its id."""
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS), \
            qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS) as saved:
        controller.disconnect(code, reason)
    session_id: int = saved.args[0]
    return session_id


def saved_record(store: Store, session_id: int) -> SessionRecord:
    record = store.session(session_id)
    assert record is not None, f"session {session_id} is not in the store"
    return record


def all_frames(store: Store, session_id: int) -> list[tuple[Any, ...]]:
    return list(store.read_frames(session_id, 0, SEQ_MASK))


def assert_stored_like_the_log(store: Store, controller: ConnectionController, session_id: int) -> SessionRecord:
    """The file holds exactly what the live view showed: every frame, field for field, and the counters."""
    log = controller.log
    record = saved_record(store, session_id)
    assert all_frames(store, session_id) == stored_rows(log, 0, len(log) - 1)
    assert store.stored_frame_count(session_id) == len(log) == record.frame_count
    assert (record.frames_in, record.bytes_in, record.bytes_out) == (log.frames_in, log.bytes_in, log.bytes_out)
    assert record.last_ts_ns == log.ts_ns(len(log) - 1)
    assert (record.started_ns, record.started_wall) == (log.started_ns, log.started_wall)
    return record


def test_echo_session_is_saved_frame_for_frame_and_closed(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer
) -> None:
    peer, url = websockets_peer(subprotocols=["chat.v1"])
    session_id = open_session(qtbot, controller, url, handshake={"subprotocols": ("chat.v1",)})
    live = saved_record(store, session_id)
    assert live.status == SessionStatus.LIVE and live.url == url and live.name == "recorded"
    assert live.subprotocol == "chat.v1"

    texts = [f"message {i} ✓" for i in range(25)]
    blobs = [bytes([i]) * (i * 37) for i in range(1, 6)]
    for text in texts:
        controller.send(text.encode(), True)
    for blob in blobs:
        controller.send(blob, False)
    controller.ping(b"are you there")
    sent = len(texts) + len(blobs)
    qtbot.waitUntil(lambda: controller.log.frames_in >= sent, timeout=WAIT_MS)
    assert peer.received == [*texts, *blobs]

    assert disconnect(qtbot, controller, 4000, "done for today") == session_id
    record = assert_stored_like_the_log(store, controller, session_id)
    assert record.status == SessionStatus.CLOSED
    assert (record.close_code, record.close_reason) == (4000, "done for today")
    assert record.ended_wall is not None and record.ended_wall >= record.started_wall
    assert record.subprotocol == "chat.v1"

    # what the user sent and got back, in the file
    frames = all_frames(store, session_id)
    data = (Opcode.TEXT, Opcode.BINARY)
    out_data = [payload for _, _, meta, *_, payload in frames if header.is_out(meta) and header.opcode(meta) in data]
    in_data = [payload for _, _, meta, *_, payload in frames if not header.is_out(meta) and header.opcode(meta) in data]
    expected = [t.encode() for t in texts] + blobs
    assert out_data == expected and in_data == expected
    assert [payload for _, _, meta, *_, payload in frames if header.opcode(meta) is Opcode.PING] == [b"are you there"]
    closes = [(header.direction(meta), payload) for _, _, meta, *_, payload in frames
              if header.opcode(meta) is Opcode.CLOSE]
    # ours first (the engine may not see the reply)
    assert closes[0] == (Direction.OUT, close_payload(4000, "done for today"))


def test_refused_connection_is_saved_as_a_failed_session(
    qtbot: Any, controller: ConnectionController, store: Store
) -> None:
    # a bound socket that does not listen: the connection is refused, and no other test can take the port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        port = blocker.getsockname()[1]
        with qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as failed, \
                qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS) as saved:
            assert controller.connect_to(profile(f"ws://127.0.0.1:{port}/"))
    failure: Failure = failed.args[0]
    assert failure.kind is FailureKind.REFUSED

    [record] = store.sessions()
    assert record.id == saved.args[0]
    assert record.status == SessionStatus.FAILED
    assert record.close_reason == failure.message
    assert "refused" in record.close_reason.lower() and f"127.0.0.1:{port}" in record.close_reason
    assert record.close_code is None
    assert record.frame_count == 0 and store.stored_frame_count(record.id) == 0
    assert record.ended_wall is not None and record.ended_wall >= record.started_wall
    assert record.url == f"ws://127.0.0.1:{port}/"


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_server_close_code_and_reason_are_saved(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer, engine: str
) -> None:
    async def says_bye(ws: Any) -> None:
        await ws.recv()
        await ws.close(4001, "bye")

    _, url = websockets_peer(says_bye)
    session_id = open_session(qtbot, controller, url, protocol={"engine": engine})
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS) as closed, \
            qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS):
        controller.send(b"hello", True)
    info: CloseInfo = closed.args[0]
    assert (info.code, info.reason, info.by_peer) == (4001, "bye", True)

    record = assert_stored_like_the_log(store, controller, session_id)
    assert record.status == SessionStatus.CLOSED
    assert (record.close_code, record.close_reason) == (4001, "bye")
    frames = all_frames(store, session_id)
    bye = close_payload(4001, "bye")
    if engine == ENGINE_QT:
        # QWebSocket hides close frames: the server's is rebuilt from closeCode()/closeReason(), and says so
        last = frames[-1]
        assert header.opcode(last[2]) is Opcode.CLOSE and header.direction(last[2]) is Direction.IN
        assert last[6] == bye
        assert last[5], "a rebuilt close frame carries a note"
        return
    # the Wire engine saves the server's real close frame, then our reply (the same code and reason, masked)
    server_close, our_reply = frames[-2:]
    assert server_close[2] == header.pack(Direction.IN, Opcode.CLOSE, True, False, False, False, False)
    assert (server_close[3], server_close[4], server_close[5], server_close[6]) == (len(bye), None, None, bye)
    assert our_reply[2] == header.pack(Direction.OUT, Opcode.CLOSE, True, False, False, False, True)
    assert (our_reply[3], len(our_reply[4]), our_reply[5], our_reply[6]) == (len(bye), 4, None, bye)


def test_many_flushes_store_each_frame_exactly_once(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer
) -> None:
    _, url = websockets_peer()
    session_id = open_session(qtbot, controller, url)
    appended: list[tuple[int, int]] = []
    controller.frames_appended.connect(lambda first, last: appended.append((first, last)))

    total, batch = 2000, 100
    for start in range(0, total, batch):
        for i in range(start, start + batch):
            controller.send(f"frame {i}".encode(), True)
        frames = 2 * (start + batch)
        # wait for the flush that covers this batch's echoes: the next batch goes into later flushes
        qtbot.waitUntil(lambda frames=frames: bool(appended) and appended[-1][1] >= frames - 1, timeout=WAIT_MS)
        # what the view was told about is in the file already
        assert saved_record(store, session_id).frame_count == frames
    assert controller.recording_error == ""

    disconnect(qtbot, controller)
    log = controller.log
    frames = all_frames(store, session_id)
    assert [row[0] for row in frames] == list(range(len(log)))  # no duplicates, no gaps
    assert frames == stored_rows(log, 0, len(log) - 1)
    assert_stored_like_the_log(store, controller, session_id)
    # the views were told about each frame once, in order, over many flushes
    assert len(appended) >= total // batch
    assert appended[0][0] == 0 and appended[-1][1] == len(log) - 1
    assert all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(appended))
    sent = [f"frame {i}".encode() for i in range(total)]
    assert [r[6] for r in frames if header.opcode(r[2]) is Opcode.TEXT and header.is_out(r[2])] == sent
    assert [r[6] for r in frames if header.opcode(r[2]) is Opcode.TEXT and not header.is_out(r[2])] == sent


def test_disk_full_stops_recording_but_not_the_live_view(
    qtbot: Any, controller: ConnectionController, store: Store, db_path: Path, websockets_peer: StartPeer
) -> None:
    _, url = websockets_peer()
    session_id = open_session(qtbot, controller, url)
    appended: list[tuple[int, int]] = []
    controller.frames_appended.connect(lambda first, last: appended.append((first, last)))
    failures: list[str] = []
    controller.recording_failed.connect(failures.append)
    for i in range(20):
        controller.send(f"saved {i}".encode(), True)
    qtbot.waitUntil(lambda: bool(appended) and appended[-1][1] >= 39, timeout=WAIT_MS)
    saved = stored_rows(controller.log, 0, 39)
    assert saved_record(store, session_id).frame_count == 40

    # the disk is full from now on
    page_count = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count = {page_count}")
    with qtbot.waitSignal(controller.recording_failed, timeout=WAIT_MS) as failed:
        for i in range(5):
            controller.send(bytes([i]) * 65536, False)
    message: str = failed.args[0]
    assert "database or disk is full" in message, message
    assert "Recording stopped" in message and "the first 40 frames are saved" in message, message
    assert not controller.is_recording

    # the live view goes on: the big echoes and more messages still arrive and are shown
    for i in range(10):
        controller.send(f"after {i}".encode(), True)
    qtbot.waitUntil(lambda: controller.log.frames_in >= 35, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: appended[-1][1] == len(controller.log) - 1, timeout=WAIT_MS)
    assert controller.log.payload(len(controller.log) - 1) == b"after 9"
    assert len(controller.log) == 70
    disconnect(qtbot, controller)
    assert failures == [message]  # said once, not at every flush

    # after a restart, the frames saved before the disk filled up are all there
    reopened = Store(db_path)
    try:
        assert reopened.integrity_check() == "ok"
        assert all_frames(reopened, session_id) == saved
        record = saved_record(reopened, session_id)
        assert record.frame_count == 40 == reopened.stored_frame_count(session_id)
        assert record.last_ts_ns == saved[-1][1]
    finally:
        reopened.close()


def test_each_connection_is_its_own_session(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer
) -> None:
    _, url = websockets_peer()
    first = open_session(qtbot, controller, url)
    controller.send(b"first session", True)
    qtbot.waitUntil(lambda: controller.log.frames_in >= 1, timeout=WAIT_MS)
    disconnect(qtbot, controller)
    first_rows = stored_rows(controller.log, 0, len(controller.log) - 1)

    second = open_session(qtbot, controller, url)
    assert second != first
    controller.send(b"second session", True)
    qtbot.waitUntil(lambda: controller.log.frames_in >= 1, timeout=WAIT_MS)
    disconnect(qtbot, controller)

    assert all_frames(store, first) == first_rows
    assert_stored_like_the_log(store, controller, second)
    assert [r.id for r in store.sessions()] == [second, first]
    assert all(r.status == SessionStatus.CLOSED for r in store.sessions())
    # the frames of each session start at seq 0 and mention only that session's messages
    first_frame = all_frames(store, second)[0]
    assert first_frame[6] == b"second session"
    # as it went out: compressed (the peer accepted permessage-deflate, so RSV1 is set) and masked with its key
    assert first_frame[2] == header.pack(Direction.OUT, Opcode.TEXT, True, True, False, False, True)
    assert len(first_frame[4]) == 4


def test_connection_lost_is_saved_as_a_failed_session(
    qtbot: Any, controller: ConnectionController, store: Store, hostile: Callable[..., str]
) -> None:
    url = hostile(sends_then_drops(server_frame(0x1, b"last words")))
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS) as closed, \
            qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS) as saved:
        assert controller.connect_to(profile(url))
    info: CloseInfo = closed.args[0]
    assert info.failure is not None and info.failure.kind is FailureKind.CONNECTION_LOST

    record = assert_stored_like_the_log(store, controller, saved.args[0])
    assert record.status == SessionStatus.FAILED
    assert (record.close_code, record.close_reason) == (1006, info.message)
    assert "dropped" in record.close_reason
    assert [row[6] for row in all_frames(store, record.id)] == [b"last words"]


#: the frame size the Wire engine is asked to split at (it sends each message as one frame unless asked)
WIRE_FRAME_SIZE = 64 * 1024


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_fragmented_messages_read_back_like_the_live_view(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer, engine: str
) -> None:
    """A message bigger than the outgoing frame size goes out in fragments, with pings and echoes around it;
    opening the saved session shows the same frames and messages as the live view did.

    QWebSocket splits every message at its outgoing frame size (512 KiB); the Wire engine splits only when
    asked to (the composer's frame size), here at WIRE_FRAME_SIZE."""
    _, url = websockets_peer(max_size=None)
    session_id = open_session(qtbot, controller, url, protocol={"engine": engine})
    if engine == ENGINE_QT:
        frame_size = controller.outgoing_frame_size
        assert frame_size == 512 * 1024

        def send_big(data: bytes, is_text: bool) -> None:
            controller.send(data, is_text)
    else:
        assert controller.outgoing_frame_size == 0  # one frame per message
        frame_size = WIRE_FRAME_SIZE

        def send_big(data: bytes, is_text: bool) -> None:
            controller.send_fragmented(data, is_text, frame_size)
    big = bytes(range(256)) * (frame_size * 2 // 256 + 3)  # three frames
    controller.send(b"before", True)
    send_big(big, False)
    controller.ping(b"between")
    send_big(("✓" + "t" * (frame_size + 100)).encode(), True)  # two frames
    controller.send(b"after", True)
    qtbot.waitUntil(lambda: controller.log.frames_in >= 5, timeout=WAIT_MS)
    disconnect(qtbot, controller)

    log = controller.log
    assert [log.opcode(s) for s in range(len(log)) if log.direction(s) is Direction.OUT][:8] == [
        Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION, Opcode.CONTINUATION, Opcode.PING,
        Opcode.TEXT, Opcode.CONTINUATION, Opcode.TEXT]
    record = assert_stored_like_the_log(store, controller, session_id)
    stored = StoredSession(store, record)
    assert len(stored) == len(log)
    assert_same(stored, log)
    messages = [stored.message_for(seq) for seq in range(len(stored))]
    assert sum(1 for m in messages if m is not None and m.payload == big) == 3 + 1  # 3 fragments out, 1 echo in


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_quitting_while_connected_saves_every_frame_and_ends_the_session(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer, engine: str
) -> None:
    """The user quits the app in the middle of a session (the window shuts the controller down)."""
    peer, url = websockets_peer()
    session_id = open_session(qtbot, controller, url, protocol={"engine": engine})
    controller.send(b"echoed", True)
    qtbot.waitUntil(lambda: controller.log.frames_in >= 1, timeout=WAIT_MS)
    controller.send(b"sent just before quitting", True)  # not flushed yet
    with qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS):
        controller.shutdown()

    record = assert_stored_like_the_log(store, controller, session_id)
    assert all_frames(store, session_id)[-2][6] == b"sent just before quitting"
    assert record.status == SessionStatus.CLOSED
    assert record.ended_wall is not None
    assert store.recover_interrupted() == []  # nothing left to recover at the next start
    # the server is told the app is going, and the session says so: the close frame sent last, its code kept
    last = all_frames(store, session_id)[-1]
    assert (last[2] & 0xF, last[6]) == (Opcode.CLOSE, close_payload(1001, "wsinspector quit"))
    assert (record.close_code, record.close_reason) == (1001, "wsinspector quit")
    qtbot.waitUntil(lambda: len(peer.closes) == 1, timeout=WAIT_MS)
    assert (peer.closes[0].code, peer.closes[0].reason) == (1001, "wsinspector quit")


def test_deleting_the_session_being_recorded_does_not_break_the_next_recording(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer
) -> None:
    """On the Sessions page the user deletes the session that is still being recorded, then goes on, then
    connects again: the new session is recorded in full, and nothing of the deleted one is left in the file."""
    _, url = websockets_peer()
    sessions = SessionsController(store)
    first = open_session(qtbot, controller, url)
    controller.send(b"before the delete", True)
    qtbot.waitUntil(lambda: store.stored_frame_count(first) == 2, timeout=WAIT_MS)
    sessions.delete(first)
    assert store.session(first) is None
    controller.send(b"after the delete", True)
    qtbot.waitUntil(lambda: controller.log.frames_in >= 2, timeout=WAIT_MS)
    disconnect(qtbot, controller)

    failures: list[str] = []
    controller.recording_failed.connect(failures.append)
    second = open_session(qtbot, controller, url)
    for i in range(5):
        controller.send(f"second {i}".encode(), True)
    qtbot.waitUntil(lambda: controller.log.frames_in >= 5, timeout=WAIT_MS)
    disconnect(qtbot, controller)

    assert failures == [], failures
    assert_stored_like_the_log(store, controller, second)
    orphans = store.connection.execute(
        "SELECT coalesce(sum(count), 0) FROM chunks WHERE key >> 32 NOT IN (SELECT id FROM sessions)").fetchone()[0]
    assert orphans == 0, f"{orphans} frames of the deleted session are still in the file"


# -- a bounded window in memory: a live session under a long flood keeps only its newest frames; recorded
# frames come back from the store through the same session, and one that is not recorded says what it dropped

MESSAGES = 3000
WINDOW = 200


@pytest.fixture
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A live session that keeps only its newest WINDOW frames (and lets go of more beyond twice that)."""
    monkeypatch.setattr(connection_module, "WINDOW_FRAMES", WINDOW)


def _text(index: int) -> str:
    return f"message {index:05d}"


async def flood(ws: Any) -> None:
    """Answers any message with MESSAGES text messages, every 500th one in fragments, then echoes."""
    await ws.recv()
    for index in range(MESSAGES):
        if index % 500 == 250:
            await ws.send(iter([_text(index)[:3], _text(index)[3:8], _text(index)[8:]]))
        else:
            await ws.send(_text(index))
    async for message in ws:
        await ws.send(message)


def expected_payloads() -> Iterator[bytes]:
    yield b"go"
    for index in range(MESSAGES):
        text = _text(index).encode()
        if index % 500 == 250:
            yield from (text[:3], text[3:8], text[8:], b"")  # websockets ends with an empty frame
        else:
            yield text


def _await_flood(qtbot: Any, controller: ConnectionController) -> int:
    total = len(list(expected_payloads()))
    controller.send(b"go", True)
    qtbot.waitUntil(lambda: len(controller.log) >= total, timeout=WAIT_MS)
    controller.flush()  # as the flush timer would next
    return total


@pytest.mark.usefixtures("small_window")
def test_a_recorded_flood_leaves_memory_and_reads_back_whole_through_the_live_session(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer
) -> None:
    _, url = websockets_peer(flood)
    session_id = open_session(qtbot, controller, url)
    total = _await_flood(qtbot, controller)
    log = controller.log
    # no more than twice the window stays in memory, and nothing was dropped
    assert 0 < total - log.first_held <= 2 * WINDOW and log.dropped == range(0)
    assert [log.payload(seq) for seq in range(total)] == list(expected_payloads())
    first = log.match_seqs(FrameFilter(text=_text(7)), 0, total - 1)
    assert first == [8] and log.frame(8).payload == _text(7).encode() and log.direction(8) is Direction.IN
    # a fragmented message long out of memory comes back whole, its fragments each pointing to it
    message = log.message_for(252)
    assert message is not None and message.payload == _text(250).encode() and message.seqs == (251, 252, 253, 254)
    assert log.data_opcode(253) is Opcode.TEXT
    assert log.seq_at_or_after(log.ts_ns(100)) <= 100 < log.first_held
    assert sum(1 for m in log.iter_messages() if m.direction is Direction.IN) == MESSAGES
    disconnect(qtbot, controller)
    stored = StoredSession(store, saved_record(store, session_id))
    assert len(stored) == len(log)
    assert_same(stored, log)


@pytest.mark.usefixtures("small_window")
def test_a_connection_that_is_not_recorded_keeps_its_newest_frames_and_says_it_dropped_the_rest(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer
) -> None:
    _, url = websockets_peer(flood)
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        assert controller.connect_to(profile(url, health={"record": False}))
    assert controller.session_id is None and not controller.records and not controller.is_recording
    total = _await_flood(qtbot, controller)
    log = controller.log
    assert log.dropped == range(0, log.first_held) and 0 < total - log.first_held <= 2 * WINDOW
    newest = list(expected_payloads())[log.first_held:]
    assert [log.payload(seq) for seq in range(log.first_held, total)] == newest
    assert log.payload(0) == b"" and log.frame(0).note == "dropped: not recorded"
    assert log.match_seqs(FrameFilter(text="message"), 0, total - 1)[0] == log.first_held
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS):
        controller.disconnect()
    assert store.sessions() == []


def test_a_flood_is_stored_a_slice_at_a_time_and_the_views_are_told_only_what_is_stored(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no time to spare per turn, each turn stores one slice: the rest waits for the next turn, and what
    the views are told has arrived is always already in the file."""
    monkeypatch.setattr(connection_module, "SAVE_BUDGET_S", 0.0)
    monkeypatch.setattr(recording_module, "SAVE_SLICE_FRAMES", 500)
    _, url = websockets_peer(flood)
    session_id = open_session(qtbot, controller, url)
    announced: list[tuple[int, int, int]] = []
    controller.frames_appended.connect(
        lambda first, last: announced.append((first, last, store.stored_frame_count(session_id))))
    total = len(list(expected_payloads()))
    controller.send(b"go", True)
    qtbot.waitUntil(lambda: bool(announced) and announced[-1][1] + 1 >= total, timeout=WAIT_MS)
    assert all(stored > last for _first, last, stored in announced)
    assert [first for first, _, _ in announced] == [0] + [last + 1 for _, last, _ in announced[:-1]]
    disconnect(qtbot, controller)
    assert_stored_like_the_log(store, controller, session_id)
    # each transaction wrote a slice of new frames (with the small chunk the one before left open)
    assert max(chunk.count for chunk in store.chunks(session_id, 0, total - 1)) <= 500 + OPEN_FRAMES


def test_a_flood_faster_than_the_store_waits_in_the_socket_not_in_memory(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the store falls behind what the Wire engine reads, the engine stops reading until it catches up: what
    a crash would lose stays bounded, and every frame is still recorded in the end."""
    monkeypatch.setattr(connection_module, "SAVE_BUDGET_S", 0.0)
    monkeypatch.setattr(recording_module, "SAVE_SLICE_FRAMES", 50)  # the store: 50 frames per turn
    monkeypatch.setattr(recording_module, "SAVE_AHEAD_FRAMES", 200)
    monkeypatch.setattr(wire_module, "PUMP_BUDGET_S", 0.0)
    monkeypatch.setattr(wire_module, "READ_CHUNK", 1024)  # the engine: about 70 frames per turn
    _, url = websockets_peer(flood)
    session_id = open_session(qtbot, controller, url, protocol={"engine": ENGINE_WIRE})
    behind: list[int] = []
    connection = controller._connection
    assert connection is not None
    connection.received.connect(lambda: behind.append(len(controller.log) - store.stored_frame_count(session_id)))
    total = len(list(expected_payloads()))
    controller.send(b"go", True)
    qtbot.waitUntil(lambda: store.stored_frame_count(session_id) >= total, timeout=WAIT_MS)
    assert max(behind) <= 200 + 150, behind  # at most one turn beyond the limit
    disconnect(qtbot, controller)
    assert_stored_like_the_log(store, controller, session_id)


def test_a_flood_read_in_the_smallest_reads_arrives_whole_and_in_order(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pump sizes its reads by how long parsing one took: with every read taking too long, they shrink to
    the smallest, and frames cut across many reads (a fragmented message among them) are all recorded, in
    order, each once."""
    monkeypatch.setattr(wire_module, "READ_SLICE_S", 0.0)
    _, url = websockets_peer(flood)
    session_id = open_session(qtbot, controller, url, protocol={"engine": ENGINE_WIRE})
    connection = controller._connection
    assert connection is not None
    total = len(list(expected_payloads()))
    controller.send(b"go", True)
    qtbot.waitUntil(lambda: store.stored_frame_count(session_id) >= total, timeout=WAIT_MS)
    assert connection._read_size == wire_module.MIN_READ_CHUNK
    disconnect(qtbot, controller)
    assert_stored_like_the_log(store, controller, session_id)
    assert [controller.log.payload(seq) for seq in range(total)] == list(expected_payloads())


def test_a_flood_is_in_the_file_turn_by_turn_not_only_at_each_flush(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer
) -> None:
    """With the Wire engine, the store keeps up with what each turn of its pump read, between two flushes (a
    crash loses only the last moment of a flood), while the views hear of the stored frames once per flush
    however many turns stored them."""
    controller._flush_timer.setInterval(3_600_000)  # no flush comes while the flood arrives
    _, url = websockets_peer(flood)
    session_id = open_session(qtbot, controller, url, protocol={"engine": ENGINE_WIRE})
    announced: list[tuple[int, int]] = []
    controller.frames_appended.connect(lambda first, last: announced.append((first, last)))
    total = len(list(expected_payloads()))
    controller.send(b"go", True)
    qtbot.waitUntil(lambda: store.stored_frame_count(session_id) >= total, timeout=WAIT_MS)
    assert announced == []
    with qtbot.waitSignal(controller.frames_appended, timeout=WAIT_MS) as told:
        controller._flush_timer.setInterval(1)
    assert told.args == [0, total - 1]
    disconnect(qtbot, controller)
    assert_stored_like_the_log(store, controller, session_id)


def test_a_slow_feed_with_a_small_window_keeps_the_open_chunk_until_it_is_written_again(
    qtbot: Any, controller: ConnectionController, store: Store, websockets_peer: StartPeer,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each save writes the small chunk the last one left open again with the new frames, packed from the log:
    a window smaller than that chunk must not let go of its frames (they are committed, but written again)."""
    monkeypatch.setattr(connection_module, "WINDOW_FRAMES", 20)
    _, url = websockets_peer()
    session_id = open_session(qtbot, controller, url)
    total, batch = 600, 15  # 40 saves of 30 frames: chunks stay open up to OPEN_FRAMES, far beyond the window
    assert 2 * batch < OPEN_FRAMES
    for start in range(0, total, batch):
        for i in range(start, start + batch):
            controller.send(f"frame {i}".encode(), True)
        frames = 2 * (start + batch)
        qtbot.waitUntil(lambda frames=frames: controller.log.frames_in >= frames // 2, timeout=WAIT_MS)
        controller.flush()
        assert controller.recording_error == ""
    assert controller.log.first_held > 0  # the window let go of frames meanwhile
    disconnect(qtbot, controller)
    frames = all_frames(store, session_id)
    assert [row[0] for row in frames] == list(range(len(controller.log)))
    sent = [f"frame {i}".encode() for i in range(total)]
    assert [r[6] for r in frames if header.opcode(r[2]) is Opcode.TEXT and not header.is_out(r[2])] == sent
