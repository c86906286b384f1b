"""The Health page across a real outage: a server that drops the link, a heartbeat and auto-reconnect. The RTT
line stops at the disconnect and starts again after the reconnect; the rates fall to zero in between."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from tests.ui.helpers import WAIT_MS, click
from tests.ui.helpers_sessions import select_peer, show_tab
from wsinspector.core.profiles import Health
from wsinspector.ui.main_window import MainWindow


async def _drops_when_asked(ws: Any) -> None:
    """Echoes, and drops the link (no close frame: it is simply gone) when the client sends "drop"."""
    with contextlib.suppress(Exception):
        async for message in ws:
            if message == "drop":
                ws.transport.abort()
                return
            await ws.send(message)


def test_the_rtt_line_stops_at_a_real_outage(qtbot: Any, window: MainWindow, websockets_server: Any) -> None:
    peer = websockets_server(_drops_when_asked)
    profile = select_peer(window, peer.url, "Drops")
    window.context.connections.save(profile.with_changes(health=Health(
        heartbeat_interval_s=0.03, reconnect=True, reconnect_base_s=0.3, reconnect_max_s=0.3)))
    window.connections.select(profile.id)
    session = window.session
    opens: list[object] = []
    session.opened.connect(opens.append)
    click(qtbot, window.inspector.connect_button)
    show_tab(qtbot, window, "Health")  # drawn as it happens
    # a few RTTs on the first link, then the server drops it
    qtbot.waitUntil(lambda: len(session.log.rtt_samples) >= 3, timeout=WAIT_MS)
    session.send(b"drop", True)
    qtbot.waitUntil(lambda: len(opens) >= 2, timeout=WAIT_MS)
    second = session.log.events[-1][0]  # the reconnect
    qtbot.waitUntil(lambda: sum(1 for _, ts, _ in session.log.rtt_samples if ts > second) >= 3, timeout=WAIT_MS)
    window.inspector.toggle_connection()  # Disconnect (or Stop reconnecting)
    qtbot.waitUntil(lambda: session.state.value == "closed" and not session.is_reconnecting, timeout=WAIT_MS)

    graph = window.graph.content()
    graph.redraw()
    assert graph.rtt_curve.opts["connect"] == "finite"
    x, y = graph.rtt_curve.getData()
    (disconnect, *_rest) = [t for t, _kind, _label in graph.markers("disconnect")]
    gaps = np.flatnonzero(np.isnan(y))
    assert len(gaps) >= 1
    first_gap = gaps[0]
    assert x[first_gap - 1] <= disconnect <= x[first_gap + 1]  # nothing is drawn across the outage
    _, frames_in = graph.frames_in_curve.getData()
    assert 0.0 in frames_in.tolist()  # the rates fell to zero when the link went
