"""QtConnection against a QWebSocketServer peer: echo, a fragmenting server, a server-side close."""

from __future__ import annotations

import pytest

from tests.net.conftest import WAIT_MS, Net, is_in_final
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Opcode


def test_text_and_binary_echo(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_text("ping ✓")
    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_binary(bytes(range(256)))

    assert [(f.opcode, f.payload, f.fin) for f in rec.incoming()] == [
        (Opcode.TEXT, "ping ✓".encode(), True),
        (Opcode.BINARY, bytes(range(256)), True),
    ]
    assert peer.received == ["ping ✓", bytes(range(256))]


@pytest.mark.parametrize(("kind", "first"), [("text", Opcode.TEXT), ("binary", Opcode.BINARY)])
def test_fragmenting_server_shows_every_frame(net: Net, kind: str, first: Opcode) -> None:
    _peer, url = net.qt_peer(outgoing_frame_size=1024)
    rec = net.open(url)
    payload = bytes(ord("a") + i % 26 for i in range(5000))

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        if kind == "text":
            rec.conn.send_text(payload.decode())
        else:
            rec.conn.send_binary(payload)

    frames = rec.incoming()
    assert [f.opcode for f in frames] == [first] + [Opcode.CONTINUATION] * 4
    assert [f.fin for f in frames] == [False, False, False, False, True]
    assert [len(f.payload) for f in frames] == [1024, 1024, 1024, 1024, 904]
    assert b"".join(f.payload for f in frames) == payload


def test_server_closes_with_code_and_reason(net: Net) -> None:
    peer, url = net.qt_peer()
    rec = net.open(url)
    net.qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)

    with net.qtbot.waitSignal(rec.conn.closed, timeout=WAIT_MS) as blocker:
        peer.close_all(4001, "bye")

    info = blocker.args[0]
    assert (info.code, info.reason, info.by_peer, info.failure) == (4001, "bye", True, None)
    assert "4001" in info.message
    assert "bye" in info.message
    assert [(f.close_code, f.close_reason) for f in rec.in_closes()] == [(4001, "bye")]
    assert rec.conn.state is ConnectionState.CLOSED
