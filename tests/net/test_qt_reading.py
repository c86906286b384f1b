"""What the Qt engine's own reading (once the connection is open) must give the user: text QWebSocket altered is
marked as such, and a flood reaches the window a bounded amount at a time, with the event loop turning in
between (the Wire engine is held to the same)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer

from tests.net.conftest import WAIT_MS, Net
from tests.net.hostile_extra import FrameRecorder
from tests.peers import server_frame

BOM = "\ufeff".encode()


@pytest.mark.parametrize(
    ("frames", "altered"),
    [
        pytest.param([server_frame(0x1, BOM + b"hi")], [True], id="whole-message"),
        pytest.param([server_frame(0x1, b"hi"), server_frame(0x1, BOM + b"there")], [False, True], id="second-message"),
        pytest.param([server_frame(0x1, b"x" + BOM)], [False], id="inner-U+FEFF"),
        pytest.param([server_frame(0x1, "\ufffe".encode() + b"x")], [False], id="leading-U+FFFE"),
        pytest.param([server_frame(0x1, BOM + b"a", fin=False), server_frame(0x0, BOM + b"b")], [True, False],
                     id="fragmented"),
        pytest.param([server_frame(0x1, b"", fin=False), server_frame(0x0, BOM + b"b")], [False, True],
                     id="after-an-empty-first-fragment"),
        pytest.param([server_frame(0x2, BOM + b"bin"), server_frame(0x1, BOM)], [False, True], id="binary-then-text"),
    ],
)
def test_text_whose_leading_u_feff_qt_dropped_is_marked(net: Net, frames: list[bytes], altered: list[bool]) -> None:
    recorder = FrameRecorder(send_first=b"".join(frames), echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    rec = net.start(url)
    net.qtbot.waitUntil(lambda: len(rec.incoming(data_only=True)) == len(frames), timeout=WAIT_MS)

    marked = [f.note.startswith("the Qt engine altered this text") for f in rec.incoming(data_only=True)]
    if net.sees_every_frame:
        assert marked == [False] * len(frames)  # the Wire engine keeps text byte-exact
        assert [f.payload for f in rec.incoming(data_only=True)] == [f[2:] for f in frames]
    else:
        assert marked == altered
        for frame, was_altered in zip(rec.incoming(data_only=True), altered, strict=True):
            if was_altered:
                assert "U+FEFF" in frame.note


def test_a_flood_reaches_the_window_a_bounded_amount_per_turn_of_the_event_loop(net: Net) -> None:
    """200,000 small frames sent in one go: the engine must not report them all in one turn of the event loop
    (the window would be frozen meanwhile); a timer firing on every turn sees them arrive in slices."""
    total = 200_000
    burst = b"".join(server_frame(0x2, i.to_bytes(4, "big")) for i in range(total))
    recorder = FrameRecorder(send_first=burst, echo_close=True)
    _peer, url = net.hostile(recorder.behaviour())
    counts: list[int] = []
    rec = net.open(url)
    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: counts.append(len(rec.frames)))
    ticker.start()
    try:
        net.qtbot.waitUntil(lambda: len(rec.frames) >= total, timeout=60_000)
    finally:
        ticker.stop()

    per_turn = [b - a for a, b in zip([0, *counts], counts, strict=False)]
    assert max(per_turn) < total // 4, f"{max(per_turn)} frames reported in one turn of the event loop"
    assert [int.from_bytes(f.payload, "big") for f in rec.incoming(data_only=True)] == list(range(total))


def test_frames_read_before_the_server_hangs_up_are_all_reported(net: Net) -> None:
    """The server sends a burst, then its close frame, and hangs up at once: every frame it sent is reported,
    however far behind the reading was when the connection ended."""
    import asyncio

    from tests.peers import after_upgrade

    total = 50_000
    burst = b"".join(server_frame(0x2, i.to_bytes(4, "big")) for i in range(total))

    async def then(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(burst + server_frame(0x8, (1000).to_bytes(2, "big") + b"done"))
        await writer.drain()
        writer.close()

    _peer, url = net.hostile(after_upgrade(then))
    rec = net.open_until("closed", url)

    assert [int.from_bytes(f.payload, "big") for f in rec.incoming(data_only=True)] == list(range(total))
    [info] = rec.closed
    assert (info.code, info.reason, info.by_peer) == (1000, "done", True)
