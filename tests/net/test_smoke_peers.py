"""Every kind of test peer accepts a connection of either engine and is stopped cleanly by the ``net`` fixture:
when one of these fails, look at the peer or the fixture before the engine."""

from __future__ import annotations

import pytest

from tests.net.conftest import Net
from tests.net.hostile_extra import FrameRecorder
from wsinspector.core.events import ConnectionState


@pytest.mark.parametrize("kind", ["websockets", "qt", "echo", "raw"])
def test_peer_accepts_a_connection(net: Net, kind: str) -> None:
    if kind == "websockets":
        _peer, url = net.websockets_peer()
    elif kind == "qt":
        _peer, url = net.qt_peer()
    elif kind == "echo":
        _server, url = net.echo_server()
    else:
        _peer, url = net.hostile(FrameRecorder(echo_close=True).behaviour())

    rec = net.open(url)

    assert rec.conn.state is ConnectionState.OPEN
    assert rec.opened[0].url == url
    assert rec.opened[0].peer.startswith("127.0.0.1:")
    info = net.close(rec)
    assert (info.code, info.by_peer) == (1000, False)
