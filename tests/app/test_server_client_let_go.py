"""A client of a headless server that is gone, its session saved, leaves nothing of its own behind: its live log,
its connection and the mock's side of it are collected. A server that runs for days serves one client after
another; what one kept would add up."""

from __future__ import annotations

import gc
import socket
import struct
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.net.served import RawClient, client_frame
from wsinspector.app.mock import MockServer
from wsinspector.app.server import ClientSession, ServerController
from wsinspector.core.mock.yaml_io import load_rules
from wsinspector.core.store import SessionStatus, Store
from wsinspector.core.stored import StoredSession

ECHO = """\
version: 1
rules:
  - match: {any: true}
    do: {echo: true}
"""
MESSAGES = 200


def test_a_client_gone_is_let_go_once_its_session_is_saved(qtbot: Any, run: Callable[..., Any],
                                                          tmp_path: Path) -> None:
    store = Store(tmp_path / "sessions.db")
    store.start_writer()
    controller = ServerController(store, name="Mock", keep_ended=False)
    mock = MockServer(controller, load_rules(ECHO))
    controller.listen("127.0.0.1", 0)
    port = controller.server.port
    kept: list[weakref.ref[Any]] = []
    session_ids: list[int | None] = []

    def watch(session: ClientSession) -> None:
        kept.extend([weakref.ref(session.log), weakref.ref(session.client), weakref.ref(mock.clients[-1])])
        session_ids.append(session.session_id)

    controller.client_added.connect(watch)
    try:
        async def echo_then_reset() -> int:
            raw = await RawClient.connect(port)
            await raw.upgrade(port)
            await raw.send(b"".join(client_frame(0x2, b"%05d" % n) for n in range(MESSAGES)))
            echoed = [await raw.frame() for _ in range(MESSAGES)]
            sock = raw.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.writer.transport.abort()  # the connection reset, no close frame
            return len(echoed)

        with qtbot.waitSignal(controller.client_ended, timeout=10_000):
            assert run(echo_then_reset()) == MESSAGES
        assert controller.sessions == [] and len(kept) == 3

        def all_gone() -> bool:
            gc.collect()
            return all(ref() is None for ref in kept)

        qtbot.waitUntil(all_gone, timeout=5000)
        record = store.session(session_ids[0] or -1)
        assert record is not None and record.status == SessionStatus.FAILED
        assert StoredSession(store, record).frames_in == MESSAGES
    finally:
        controller.stop()
        mock.deleteLater()
        controller.deleteLater()
        store.close()
