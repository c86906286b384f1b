"""The built-in EchoServer, with each engine as its client."""

from __future__ import annotations

import re

from tests.net.conftest import WAIT_MS, Net, is_in_final
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Opcode


def test_listen_gives_a_loopback_url(net: Net) -> None:
    server, url = net.echo_server()

    assert re.fullmatch(r"ws://127\.0\.0\.1:(\d+)/", url)
    assert url == server.url
    assert server.port == int(url.rsplit(":", 1)[1].strip("/")) > 0
    assert server.is_listening


def test_echoes_text_and_binary(net: Net) -> None:
    _server, url = net.echo_server()
    rec = net.open(url)

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_text("héllo ✓")
    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_binary(bytes(range(256)))

    assert [(f.opcode, f.payload, f.fin) for f in rec.incoming()] == [
        (Opcode.TEXT, "héllo ✓".encode(), True),
        (Opcode.BINARY, bytes(range(256)), True),
    ]


def test_client_count_goes_up_and_back_down(net: Net) -> None:
    server, url = net.echo_server()
    counts: list[int] = []
    server.client_count_changed.connect(counts.append)

    first = net.open(url)
    net.qtbot.waitUntil(lambda: server.client_count == 1, timeout=WAIT_MS)
    second = net.open(url)
    net.qtbot.waitUntil(lambda: server.client_count == 2, timeout=WAIT_MS)

    net.close(first)
    net.qtbot.waitUntil(lambda: server.client_count == 1, timeout=WAIT_MS)
    net.close(second)
    net.qtbot.waitUntil(lambda: server.client_count == 0, timeout=WAIT_MS)

    assert counts == [1, 2, 1, 0]


def test_close_sends_going_away_to_clients(net: Net) -> None:
    server, url = net.echo_server()
    recs = [net.open(url), net.open(url)]
    net.qtbot.waitUntil(lambda: server.client_count == 2, timeout=WAIT_MS)

    with net.qtbot.waitSignals([r.conn.closed for r in recs], timeout=WAIT_MS):
        server.close()

    for rec in recs:
        [info] = rec.closed
        assert (info.code, info.by_peer, info.failure) == (1001, True, None)
        assert "1001" in info.message
        assert rec.conn.state is ConnectionState.CLOSED
    assert server.client_count == 0
    assert not server.is_listening
