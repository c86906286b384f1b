"""The application context owns one controller per open connection: several are open at once, each records
its own session, and closing one leaves the others running."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wsinspector.app.context import AppContext
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Direction
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.rates import Rates
from wsinspector.core.retention import DAY_S, Retention
from wsinspector.core.store import SessionStatus, Store

WAIT_MS = 10_000


@pytest.fixture
def context(qtbot: Any, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir)
    assert ctx.echo_url is not None
    yield ctx
    ctx.shutdown()
    ctx.deleteLater()


def _echo(context: AppContext, name: str) -> ConnectionProfile:
    assert context.echo_url is not None
    return ConnectionProfile(name=name, endpoint=Endpoint(context.echo_url))


def _texts(controller: Any) -> list[tuple[Direction, bytes]]:
    log = controller.log
    return [(f.direction, f.payload) for f in (log.frame(seq) for seq in range(len(log)))]


def test_two_connections_at_once_each_with_its_own_session(qtbot: Any, context: AppContext) -> None:
    first = context.session
    second = context.open_controller()
    assert context.controllers == [first, second]
    for controller, name in ((first, "first"), (second, "second")):
        with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
            assert controller.connect_to(_echo(context, name))
    first.send(b"to the first", True)
    second.send(b"to the second", True)
    qtbot.waitUntil(lambda: len(first.log) == 2 and len(second.log) == 2, timeout=WAIT_MS)
    assert _texts(first) == [(Direction.OUT, b"to the first"), (Direction.IN, b"to the first")]
    assert _texts(second) == [(Direction.OUT, b"to the second"), (Direction.IN, b"to the second")]
    assert first.session_id != second.session_id
    second_id = second.session_id
    assert second_id is not None

    # closing the second connection's controller saves its session and leaves the first one open
    with qtbot.waitSignal(second.session_saved, timeout=WAIT_MS):
        context.close_controller(second)
    assert context.controllers == [first]
    record = context.store.session(second_id)
    assert record is not None
    # the server was told: a close frame, 1001 "going away", the tab closed
    assert (record.name, record.frame_count, record.status) == ("second", 3, SessionStatus.CLOSED)
    assert (record.close_code, record.close_reason) == (1001, "tab closed in wsinspector")
    assert first.state is ConnectionState.OPEN
    with qtbot.waitSignal(first.frames_appended, timeout=WAIT_MS):
        first.send(b"still here", True)
    qtbot.waitUntil(lambda: len(first.log) == 4, timeout=WAIT_MS)


def test_a_deleted_session_stops_only_its_own_recording(qtbot: Any, context: AppContext) -> None:
    first, second = context.session, context.open_controller()
    for controller, name in ((first, "first"), (second, "second")):
        with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
            controller.connect_to(_echo(context, name))
    assert first.session_id is not None
    with qtbot.waitSignal(first.recording_failed, timeout=WAIT_MS):
        context.sessions.delete(first.session_id)
    assert first.session_id is None
    assert second.session_id is not None and not second.recording_error


def test_refused_actions_say_why(qtbot: Any, context: AppContext) -> None:
    controller = context.session
    with qtbot.waitSignal(controller.refused, timeout=WAIT_MS) as refused:
        controller.request_send(b"nobody there", True)
    assert refused.args == ["Not connected"]
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(_echo(context, "echo"))
    with qtbot.waitSignal(controller.refused, timeout=WAIT_MS) as refused:
        controller.request_ping(b"x" * 126)
    assert refused.args == ["A ping payload can be at most 125 bytes"]
    with qtbot.waitSignal(controller.refused, timeout=WAIT_MS) as refused:
        controller.request_disconnect(1005, "")
    assert "may not be sent by a client" in refused.args[0]
    assert controller.is_open


def test_rates_while_open_and_once_at_the_close(qtbot: Any, context: AppContext) -> None:
    controller = context.session
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(_echo(context, "echo"))
    controller.send(b"x" * 1000, False)
    seen: list[Rates] = []
    controller.rates_changed.connect(lambda rates, _t: seen.append(rates))
    qtbot.waitUntil(lambda: any(r.bytes_in > 0 for r in seen), timeout=WAIT_MS)
    count = len(seen)
    with qtbot.waitSignal(controller.rates_changed, timeout=WAIT_MS) as last:
        controller.disconnect()
    assert len(seen) > count
    assert isinstance(last.args[0], Rates) and last.args[1] > 0


def _record(qtbot: Any, context: AppContext, name: str, payload: bytes) -> int:
    controller = context.session
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        assert controller.connect_to(_echo(context, name))
    controller.send(payload, False)
    qtbot.waitUntil(lambda: controller.log.frames_in == 1, timeout=WAIT_MS)
    session_id = controller.session_id
    assert session_id is not None
    with qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS):
        controller.disconnect()
    return session_id


def test_a_retention_by_size_deletes_the_oldest_sessions_when_a_recording_ends(
    qtbot: Any, context: AppContext
) -> None:
    sessions = context.sessions
    first = _record(qtbot, context, "first", b"a" * 40_000)
    second = _record(qtbot, context, "second", b"b" * 40_000)
    sizes = context.store.stored_bytes()
    assert sizes[first] >= 80_000 and sizes[second] >= 80_000 and sessions.stored_bytes() == sum(sizes.values())
    assert sessions.disk_used() >= sessions.stored_bytes()
    # room for one session and a half: setting it deletes the oldest at once
    with qtbot.waitSignal(sessions.session_deleted, timeout=WAIT_MS) as deleted:
        assert sessions.set_retention(Retention(max_bytes=sizes[second] * 3 // 2)) == 1
    assert deleted.args == [first] and [r.id for r in sessions.sessions()] == [second]
    # and each recording that ends lets the oldest go again
    third = _record(qtbot, context, "third", b"c" * 40_000)
    assert [r.id for r in sessions.sessions()] == [third]
    assert sessions.retention == Retention(max_bytes=sizes[second] * 3 // 2)


def test_a_retention_by_age_applies_at_start_up(qtbot: Any, data_dir: Path) -> None:
    store = Store(data_dir / "wsinspector.sqlite3")
    for name, age_days in (("last year", 365), ("last week", 7), ("yesterday", 1)):
        started = time.time() - age_days * DAY_S
        session_id = store.create_session(name, "ws://127.0.0.1:1/", started, 0)
        store.finish_session(session_id, SessionStatus.CLOSED, started + 5)
    store.set_setting("retention", Retention(max_age_days=30).to_json())
    store.close()
    context = AppContext(data_dir, start_echo=False)
    try:
        assert [r.name for r in context.sessions.sessions()] == ["yesterday", "last week"]
    finally:
        context.shutdown()
        context.deleteLater()
