"""The heartbeat against real peers: one that answers pings, one that never does."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from tests.peers import after_upgrade, server_frame
from wsinspector.app.session import SessionController
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import HEARTBEAT_CLOSE, HEARTBEAT_MARK, ConnectionProfile

WAIT_MS = 10_000


async def _read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(length)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def _ignores_pings(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads every frame, answers no ping, and answers a close frame properly."""
    while True:
        opcode, payload = await _read_client_frame(reader)
        if opcode == 0x8:
            writer.write(server_frame(0x8, payload[:2]))
            await writer.drain()
            return


never_pongs = after_upgrade(_ignores_pings)


@pytest.fixture
def controller(qtbot: Any) -> Iterator[SessionController]:
    controller = SessionController()
    yield controller
    controller.shutdown()


def _profile(url: str, **heartbeat: Any) -> ConnectionProfile:
    return ConnectionProfile(name="heartbeat", url=url, **heartbeat)


def _pongs_with_rtt(controller: SessionController) -> int:
    log = controller.log
    return sum(1 for seq in range(len(log))
               if log.opcode(seq) is Opcode.PONG and log.direction(seq) is Direction.IN and log.rtt_ns(seq))


def test_heartbeat_pings_are_answered_and_measured(qtbot: Any, run: Any, controller: SessionController) -> None:
    from tests.peers import WebsocketsPeer

    peer = WebsocketsPeer()
    url = run(peer.start())
    try:
        health: list[bool] = []
        controller.health_changed.connect(lambda healthy, _reason: health.append(healthy))
        with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
            controller.connect_to(_profile(url, heartbeat_interval_s=0.02, heartbeat_timeout_s=5))
        qtbot.waitUntil(lambda: _pongs_with_rtt(controller) >= 5, timeout=WAIT_MS)
        assert controller.healthy and health == []
        with qtbot.waitSignal(controller.closed, timeout=WAIT_MS):
            controller.disconnect()
    finally:
        run(peer.stop())


def test_unanswered_pings_mark_the_link_unhealthy_but_keep_it_open(qtbot: Any, hostile: Any,
                                                                    controller: SessionController) -> None:
    url = hostile(never_pongs)
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(_profile(url, heartbeat_interval_s=0.02, heartbeat_timeout_s=0.1,
                                       heartbeat_action=HEARTBEAT_MARK))
    with qtbot.waitSignal(controller.health_changed, timeout=WAIT_MS) as blocker:
        pass
    healthy, reason = blocker.args
    assert healthy is False and "No pong for 0.1 s" in reason
    assert controller.is_open
    assert _pongs_with_rtt(controller) == 0
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS):
        controller.disconnect()


def test_unanswered_pings_close_the_connection_when_told_to(qtbot: Any, hostile: Any,
                                                            controller: SessionController) -> None:
    url = hostile(never_pongs)
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(_profile(url, heartbeat_interval_s=0.02, heartbeat_timeout_s=0.1,
                                       heartbeat_action=HEARTBEAT_CLOSE))
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS) as blocker:
        pass
    info = blocker.args[0]
    assert not info.by_peer and info.code == 1001 and info.reason == "heartbeat timeout"
    assert not controller.healthy
