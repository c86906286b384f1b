"""A session still marked live in the store (the app was killed while recording) is reported at the next start
and listed as interrupted, with every frame saved up to then."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.ui.helpers import all_rows, select_row
from tests.ui.helpers_sessions import open_stored, session_ids, session_rows, show_tab
from wsinspector.app.context import DB_NAME, AppContext
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.store import Store
from wsinspector.ui.main_window import MainWindow

STARTED_WALL = 1_700_000_000.25
STARTED_NS = 7_000_000_000
#: 12 frames, 0.25 s apart: 6 sent, 6 echoed
FRAMES = [(Direction.OUT if i % 2 == 0 else Direction.IN, f"tick {i // 2}") for i in range(12)]
LAST_TS_NS = STARTED_NS + 11 * 250_000_000


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder whose store holds a session that was never finished, as after a crash."""
    path = tmp_path / "data"
    path.mkdir()
    store = Store(path / DB_NAME)
    try:
        session_id = store.create_session("Ticker", "ws://127.0.0.1:9/ticker", STARTED_WALL, STARTED_NS)
        rows = []
        for seq, (direction, text) in enumerate(FRAMES):
            meta = header.pack(direction, Opcode.TEXT, True, masked=direction is Direction.OUT)
            rows.append((seq, STARTED_NS + seq * 250_000_000, meta, None, None, None, text.encode()))
        store.append_frames(session_id, rows[:8])
        store.append_frames(session_id, rows[8:])
        assert store.session(session_id).status == "live"  # type: ignore[union-attr]
    finally:
        store.close()  # without finishing the session
    return path


def test_interrupted_session_is_reported_and_listed(
    qtbot: Any, window: MainWindow, context: AppContext, qtmodeltester: Any
) -> None:
    assert len(context.interrupted) == 1
    assert window.banner.level == "warning"
    assert "1 session was interrupted when wsinspector last stopped unexpectedly" in window.banner.text
    assert "everything recorded up to then is in Sessions" in window.banner.text

    show_tab(qtbot, window, "Sessions")
    qtmodeltester.check(window.sessions_view.model)
    (row,) = session_rows(window)
    (session_id,) = session_ids(window)
    assert (row["Name"], row["Status"], row["URL"]) == ("Ticker", "interrupted", "ws://127.0.0.1:9/ticker")
    assert (row["Frames ↓"], row["Frames ↑"]) == ("6", "6")
    assert (row["Bytes ↓"], row["Bytes ↑"]) == ("36 B", "36 B")
    assert row["Close"] == ""
    # it ends at its last saved frame
    started = dt.datetime.fromtimestamp(STARTED_WALL)
    ended = dt.datetime.fromtimestamp(STARTED_WALL + (LAST_TS_NS - STARTED_NS) / 1e9)
    assert row["Ended"] == ended.strftime("%H:%M:%S" if ended.date() == started.date() else "%Y-%m-%d %H:%M:%S")
    assert row["Duration"] == "2.8 s"
    record = context.store.session(session_id)
    assert record is not None and record.status == "interrupted"

    open_stored(qtbot, window, session_id)
    qtmodeltester.check(window.inspector.model)
    assert "interrupted" in window.inspector.viewing_label.text()
    rows = all_rows(window)
    assert [(r["dir"], r["opcode"], r["preview"]) for r in rows] == [
        ("↑ out" if d is Direction.OUT else "↓ in", "text", text) for d, text in FRAMES
    ]
    assert [r["time"] for r in rows[:3]] == ["0.000000", "0.250000", "0.500000"]
    select_row(qtbot, window, 11)
    assert window.inspector.detail.text.toPlainText() == "tick 5"
    assert window.inspector.counts.text() == "frames: 12  (↓ 6  ↑ 6)"
