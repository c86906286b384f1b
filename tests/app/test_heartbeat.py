"""The heartbeat against real peers: one that answers pings, one that never does."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.peers import after_upgrade, server_frame
from wsinspector.app.connection import ConnectionController
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import HEARTBEAT_CLOSE, HEARTBEAT_MARK, ConnectionProfile, Endpoint, Health

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
def controller(qtbot: Any) -> Iterator[ConnectionController]:
    controller = ConnectionController()
    yield controller
    controller.shutdown()


def _profile(url: str, **heartbeat: Any) -> ConnectionProfile:
    return ConnectionProfile(name="heartbeat", endpoint=Endpoint(url), health=Health(**heartbeat))


def _pongs_with_rtt(controller: ConnectionController) -> int:
    log = controller.log
    return sum(1 for seq in range(len(log))
               if log.opcode(seq) is Opcode.PONG and log.direction(seq) is Direction.IN and log.rtt_ns(seq))


def test_heartbeat_pings_are_answered_and_measured(qtbot: Any, run: Any, controller: ConnectionController) -> None:
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
                                                                    controller: ConnectionController) -> None:
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
                                                            controller: ConnectionController) -> None:
    url = hostile(never_pongs)
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(_profile(url, heartbeat_interval_s=0.02, heartbeat_timeout_s=0.1,
                                       heartbeat_action=HEARTBEAT_CLOSE))
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS) as blocker:
        pass
    info = blocker.args[0]
    assert not info.by_peer and info.code == 1001 and info.reason == "heartbeat timeout"
    assert not controller.healthy


def _delays_pongs(delay_s: float, held_ns: list[int]) -> Any:
    """Answers each ping after holding it for about ``delay_s``; records how long it really held each one."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            opcode, payload = await _read_client_frame(reader)
            if opcode == 0x9:
                received = time.monotonic_ns()
                await asyncio.sleep(delay_s)  # the peer's own behaviour: it answers late
                writer.write(server_frame(0xA, payload))
                await writer.drain()
                held_ns.append(time.monotonic_ns() - received)
            elif opcode == 0x8:
                writer.write(server_frame(0x8, payload[:2]))
                await writer.drain()
                return

    return after_upgrade(behaviour)


def test_the_rtt_reflects_a_server_that_answers_late(qtbot: Any, hostile: Any,
                                                     controller: ConnectionController) -> None:
    held_ns: list[int] = []
    url = hostile(_delays_pongs(0.15, held_ns))
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(_profile(url))
    for i in range(3):
        controller.ping(f"late {i}".encode())
    qtbot.waitUntil(lambda: _pongs_with_rtt(controller) == 3, timeout=WAIT_MS)
    log = controller.log
    rtts = [log.rtt_ns(seq) for seq in range(len(log)) if log.rtt_ns(seq)]
    # Each ping was sent before the server got it and its pong seen after the server sent it: the RTT we
    # report can never be shorter than the time the server itself held that pong.
    assert len(rtts) == len(held_ns) == 3
    assert all(rtt is not None and rtt >= held for rtt, held in zip(rtts, held_ns, strict=True)), (rtts, held_ns)
    assert min(held_ns) > 100_000_000  # and the server really did hold them
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS):
        controller.disconnect()


def test_unsolicited_pongs_are_shown_but_never_counted(qtbot: Any, hostile: Any,
                                                       controller: ConnectionController) -> None:
    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(server_frame(0xA, b"unasked 1") + server_frame(0xA, b"unasked 2"))
        await writer.drain()
        await _ignores_pings(reader, writer)

    url = hostile(after_upgrade(behaviour))
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(_profile(url))
    log = controller.log
    qtbot.waitUntil(lambda: sum(1 for s in range(len(log)) if log.opcode(s) is Opcode.PONG) == 2, timeout=WAIT_MS)
    pongs = [s for s in range(len(log)) if log.opcode(s) is Opcode.PONG]
    assert all(log.is_unsolicited(s) and log.rtt_ns(s) is None for s in pongs)
    assert _pongs_with_rtt(controller) == 0
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS):
        controller.disconnect()


def test_unanswered_pings_reconnect_when_told_to(qtbot: Any, hostile: Any, controller: ConnectionController) -> None:
    from wsinspector.core.profiles import HEARTBEAT_RECONNECT

    url = hostile(never_pongs)
    opened: list[object] = []
    controller.opened.connect(opened.append)
    controller.connect_to(_profile(url, heartbeat_interval_s=0.02, heartbeat_timeout_s=0.1,
                                   heartbeat_action=HEARTBEAT_RECONNECT, reconnect_base_s=0.02,
                                   reconnect_max_s=0.05))
    qtbot.waitUntil(lambda: len(opened) >= 2, timeout=WAIT_MS)  # timed out, closed, opened again
    kinds = [kind for _, kind, _ in controller.log.events]
    # each attempt's handshake is kept between them
    assert kinds[:5] == ["handshake", "timeout", "disconnect", "reconnect", "handshake"]
    controller.disconnect()  # whether open or waiting to reconnect: it ends here
    qtbot.waitUntil(lambda: controller.state is ConnectionState.CLOSED and not controller.is_reconnecting,
                    timeout=WAIT_MS)
