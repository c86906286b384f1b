"""Auto-reconnect against real peers: drops are retried with backoff, the user's own disconnect never is."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.peers import WebsocketsPeer, sends_then_drops, server_frame
from wsinspector.app.connection import ConnectionController
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Health
from wsinspector.core.store import SessionStatus, Store

WAIT_MS = 10_000
FAST = Health(reconnect=True, reconnect_base_s=0.02, reconnect_max_s=0.05)


@pytest.fixture
def controller(qtbot: Any, store: Store) -> Iterator[ConnectionController]:
    controller = ConnectionController(store)
    yield controller
    controller.shutdown()


def test_a_dropped_connection_is_reopened_and_the_session_goes_on(qtbot: Any, hostile: Any, store: Store,
                                                                   controller: ConnectionController) -> None:
    url = hostile(sends_then_drops(server_frame(0x1, b"hello")))
    opened: list[object] = []
    attempts: list[tuple[int, float]] = []
    controller.opened.connect(opened.append)
    controller.reconnecting.connect(lambda attempt, delay: attempts.append((attempt, delay)))
    controller.connect_to(ConnectionProfile(name="flaky", endpoint=Endpoint(url), health=FAST))
    qtbot.waitUntil(lambda: len(opened) >= 3, timeout=WAIT_MS)
    session_id = controller.session_id
    with qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS):
        controller.disconnect()

    log = controller.log
    hellos = [seq for seq in range(len(log)) if log.payload(seq) == b"hello"]
    assert len(hellos) >= 3  # one per connection, in one log with dense seqs
    assert all(log.starts_segment(seq) for seq in hellos[1:])  # the gap before each reconnect is marked
    kinds = [kind for _, kind, _ in log.events]
    assert kinds.count("disconnect") >= 2 and kinds.count("reconnect") >= 2
    assert all(attempt == 1 and 0.01 <= delay <= 0.02 for attempt, delay in attempts)  # reset after each success
    record = store.session(session_id)  # type: ignore[arg-type]
    assert record is not None and record.status != SessionStatus.LIVE
    assert store.stored_frame_count(record.id) == len(log)
    assert len(store.sessions()) == 1  # one session across all the reconnects


def test_the_users_own_disconnect_is_never_retried(qtbot: Any, run: Any, store: Store,
                                                   controller: ConnectionController) -> None:
    peer = WebsocketsPeer()
    url = run(peer.start())
    try:
        attempts: list[int] = []
        controller.reconnecting.connect(lambda attempt, _delay: attempts.append(attempt))
        with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
            controller.connect_to(ConnectionProfile(name="echo", endpoint=Endpoint(url), health=FAST))
        with qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS):
            controller.disconnect()
        assert attempts == [] and not controller.is_reconnecting
        (record,) = store.sessions()
        assert record.status == SessionStatus.CLOSED and record.close_code == 1000
    finally:
        run(peer.stop())


def test_reconnecting_gives_up_after_the_attempts_allowed(qtbot: Any, run: Any, store: Store,
                                                          controller: ConnectionController) -> None:
    peer = WebsocketsPeer()
    url = run(peer.start())
    attempts: list[int] = []
    controller.reconnecting.connect(lambda attempt, _delay: attempts.append(attempt))
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(ConnectionProfile(name="gone", endpoint=Endpoint(url),
                                                health=replace(FAST, reconnect_max_attempts=3)))
    with qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS):
        run(peer.stop())  # the server goes away for good: every attempt is refused
    assert attempts == [1, 2, 3]
    (record,) = store.sessions()
    assert record.status == SessionStatus.FAILED
    assert any("gave up after 3" in text for _, _, text in controller.log.events)


def test_a_reopened_session_shows_its_reconnects_as_the_live_one_did(qtbot: Any, hostile: Any, store: Store,
                                                                       controller: ConnectionController) -> None:
    from wsinspector.core.stored import StoredSession

    url = hostile(sends_then_drops(server_frame(0x1, b"hello")))
    opened: list[object] = []
    controller.opened.connect(opened.append)
    controller.connect_to(ConnectionProfile(name="flaky", endpoint=Endpoint(url), health=FAST))
    qtbot.waitUntil(lambda: len(opened) >= 3, timeout=WAIT_MS)
    with qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS) as saved:
        controller.disconnect()
    log = controller.log
    record = store.session(saved.args[0])
    assert record is not None
    stored = StoredSession(store, record)
    assert [stored.starts_segment(seq) for seq in range(len(stored))] == [
        log.starts_segment(seq) for seq in range(len(log))]
    assert sum(stored.starts_segment(seq) for seq in range(len(stored))) >= 2
    assert stored.events == log.events
