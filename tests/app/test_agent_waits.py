"""An agent's wait for a message (``wsinspector mcp``'s ``wait_for_message``) over a connection that has taken
in a flood: the wait gives up at its deadline, however many rows it has yet to read, rather than reading the
whole backlog first (a 5 s wait took 37 s behind a flood)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.helpers import WAIT_MS
from wsinspector.app import agent as agent_module
from wsinspector.app.agent import AgentLinks, LinkError
from wsinspector.app.context import AppContext
from wsinspector.core.copying import Item
from wsinspector.core.filters import FrameFilter
from wsinspector.core.profiles import ConnectionProfile, Endpoint

BACKLOG = 6 * 1024


def test_a_wait_gives_up_at_its_deadline_with_a_backlog_still_to_read(
        qtbot: Any, run: Any, websockets_server: Any, contexts: list[AppContext], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def floods(ws: Any) -> None:
        for n in range(BACKLOG):
            await ws.send(f"tick {n}")
        await ws.wait_closed()

    peer = websockets_server(floods)
    context = AppContext(tmp_path / "data", start_echo=False)
    contexts.append(context)
    links = AgentLinks(context)
    link, _ = run(links.open(ConnectionProfile(name="flood", endpoint=Endpoint(peer.url)), 10))
    qtbot.waitUntil(lambda: link.controller.log.frames_in >= BACKLOG, timeout=WAIT_MS)

    looked: list[int] = []
    wanted = links._first.__func__  # the rows a wait looks at before it gives up

    async def counting(self: AgentLinks, link_: Any, want: Any, reader: Any, timeout_s: float, what: str) -> Item:
        def counted(item: Item) -> bool:
            looked.append(item.seq)
            return bool(want(item))
        return await wanted(self, link_, counted, reader, timeout_s, what)

    monkeypatch.setattr(AgentLinks, "_first", counting)
    never = FrameFilter(text="never sent")
    with pytest.raises(LinkError, match="no matching message came within"):
        run(links.wait_for(link, never, after=-1, timeout_s=0))  # the deadline is past before the first row
    assert 0 < len(looked) <= agent_module.DEADLINE_EVERY < BACKLOG

    # with time to read, the same backlog is read through and a message in it is found
    found = run(links.wait_for(link, FrameFilter(text=f"tick {BACKLOG - 1}"), after=-1, timeout_s=30))
    assert found.payload == f"tick {BACKLOG - 1}".encode()
    run(links.close(link, 1000, "", 5))
