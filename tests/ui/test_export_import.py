"""Export a stored session to a session file and import it back; files that are not ours are refused."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from tests.ui.helpers import (
    WAIT_MS,
    all_rows,
    click,
    close_connection,
    compose,
    connect,
    press_ctrl_enter,
    replace_text,
    send_and_wait_for_echo,
    wait_rows,
)
from tests.ui.helpers_sessions import (
    TaskOutcome,
    echo_round,
    frame_total,
    open_stored,
    session_ids,
    session_row,
    session_rows,
    show_tab,
    store_big_session,
)
from wsinspector.app.context import AppContext
from wsinspector.core.model import header
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.store import Store
from wsinspector.ui.main_window import MainWindow


def _record_with_secret(qtbot: Any, window: MainWindow, context: AppContext) -> int:
    """A session against the echo at a URL carrying a token: text, binary, a ping, a normal close."""
    assert context.echo_url is not None
    replace_text(qtbot, window.inspector.url, f"{context.echo_url}feed?token=secret&room=lobby")
    connect(qtbot, window)
    session_id = window.session.session_id
    assert session_id is not None
    send_and_wait_for_echo(qtbot, window, "hello export")
    send_and_wait_for_echo(qtbot, window, '{"quote": "\\"x\\"", "n": 1}')
    compose(qtbot, window, "de ad be ef 00 ff", PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 6)
    compose(qtbot, window, "knock", PayloadMode.TEXT)
    click(qtbot, window.inspector.composer.ping_button)
    wait_rows(qtbot, window, 8)
    with qtbot.waitSignal(window.session.session_saved, timeout=WAIT_MS):
        close_connection(qtbot, window)
    return session_id


def _export(qtbot: Any, window: MainWindow, session_id: int, path: Path) -> TaskOutcome:
    outcome = TaskOutcome(window.export_session(session_id, path)).wait(qtbot)
    assert outcome.kind == "finished", outcome.value
    return outcome


def _frames(store: Store, session_id: int) -> list[tuple[Any, Any, bytes, int]]:
    """(direction, opcode, payload, time since the start in ns) of every stored frame."""
    record = store.session(session_id)
    assert record is not None
    rows = store.read_frames(session_id, 0, store.stored_frame_count(session_id) - 1)
    return [(header.direction(meta), header.opcode(meta), bytes(payload), ts - record.started_ns)
            for _seq, ts, meta, _length, _key, _note, payload in rows]


def _no_part_files(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".part")) == []


def test_export_then_import_round_trip(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path, qtmodeltester: Any
) -> None:
    original = _record_with_secret(qtbot, window, context)
    store = context.store
    # 3 messages and their echoes, a ping and its pong, our close frame and the echo's answering one
    assert store.stored_frame_count(original) == 10
    path = tmp_path / "exported.wsession.json"

    _export(qtbot, window, original, path)
    assert path.is_file()
    _no_part_files(tmp_path)
    assert window.statusBar().currentMessage() == f"Exported to {path}"
    assert not window.tasks.progress.isVisible() and not window.tasks.cancel_button.isVisible()
    text = path.read_text("utf-8")
    doc = json.loads(text)
    assert doc["format"] == "wsinspector-session"
    assert doc["version"] == 1
    assert doc["session"]["url"] == f"{context.echo_url}feed?token=REDACTED&room=lobby"
    assert "secret" not in text
    assert doc["session"]["name"] == "Local echo"
    assert doc["session"]["status"] == "closed"
    assert doc["session"]["close_code"] == 1000
    assert len(doc["frames"]) == 10
    assert [(f["dir"], f["opcode"]) for f in doc["frames"][8:]] == [("out", "close"), ("in", "close")]
    assert [f.get("text") for f in doc["frames"][:2]] == ["hello export", "hello export"]
    assert [f["dir"] for f in doc["frames"][:2]] == ["out", "in"]
    assert doc["frames"][4]["opcode"] == "binary" and doc["frames"][4]["base64"] == "3q2+7wD/"

    show_tab(qtbot, window, "Sessions")
    before = session_ids(window)
    outcome = TaskOutcome(window.import_session(path)).wait(qtbot)
    assert outcome.kind == "finished", outcome.value
    imported = outcome.value
    assert isinstance(imported, int) and imported not in before
    assert window.statusBar().currentMessage() == "Imported exported.wsession.json"
    assert sorted(session_ids(window)) == sorted([*before, imported])
    current = window.sessions_view.current_record()
    assert current is not None and current.id == imported  # the new session is selected
    assert window.sessions_view.table.currentIndex().row() == session_row(window, imported)
    qtmodeltester.check(window.sessions_view.model)
    rows = {sid: row for sid, row in zip(session_ids(window), session_rows(window), strict=True)}
    assert rows[imported]["Status"] == "imported"
    assert rows[imported]["URL"] == f"{context.echo_url}feed?token=REDACTED&room=lobby"
    for column in ("Name", "Frames ↓", "Frames ↑", "Bytes ↓", "Bytes ↑", "Close"):
        assert rows[imported][column] == rows[original][column], column

    # identical frames: directions, opcodes, payloads and times
    assert _frames(store, imported) == _frames(store, original)

    # and the timeline shows them the same way
    open_stored(qtbot, window, original)
    shown_original = all_rows(window)
    open_stored(qtbot, window, imported)
    qtmodeltester.check(window.inspector.model)
    assert "imported" in window.inspector.viewing_label.text()
    assert all_rows(window) == shown_original


@pytest.mark.parametrize("kind", ["random bytes", "JSON of another kind", "truncated export", "empty file"])
def test_importing_a_file_that_is_not_ours(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path, kind: str
) -> None:
    store = context.store
    good = tmp_path / "good.json"
    if kind == "truncated export":
        source = store_big_session(store, 40_000, name="To be cut")
        _export(qtbot, window, source, good)
        data = good.read_bytes()
        path = tmp_path / "cut.json"
        path.write_bytes(data[: len(data) // 2])
        expected = "The session file is truncated"
    else:
        source = echo_round(qtbot, window, ["keep me"])
        _export(qtbot, window, source, good)
        path = tmp_path / "foreign.json"
        if kind == "random bytes":
            path.write_bytes(random.Random(6455).randbytes(50_000))
            expected = "This is not a wsinspector session file"
        elif kind == "JSON of another kind":
            path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"id": i} for i in range(50)]}))
            expected = 'This is not a wsinspector session file: it has no "format": "wsinspector-session" marker'
        else:
            path.write_bytes(b"")
            expected = "The file is empty"

    show_tab(qtbot, window, "Sessions")
    before_ids = session_ids(window)
    before_frames = frame_total(store)
    outcome = TaskOutcome(window.import_session(path)).wait(qtbot)
    assert outcome.kind == "failed"
    assert not window.tasks.progress.isVisible() and not window.tasks.cancel_button.isVisible()
    # nothing is left behind
    assert session_ids(window) == before_ids
    assert [r.id for r in store.sessions()] == before_ids
    assert frame_total(store) == before_frames
    # the banner says what is wrong with the file
    show_tab(qtbot, window, "Inspector")
    assert window.banner.level == "error"
    assert window.banner.text.startswith(f"Importing {path.name} failed: {expected}"), window.banner.text
    show_tab(qtbot, window, "Sessions")
    assert session_ids(window) == before_ids

    # the app stays usable: the good file imports, and a new connection records as before
    outcome = TaskOutcome(window.import_session(good)).wait(qtbot)
    assert outcome.kind == "finished", outcome.value
    assert window.sessions_view.current_record().status == "imported"  # type: ignore[union-attr]
    show_tab(qtbot, window, "Inspector")
    session_id = echo_round(qtbot, window, ["still usable"])
    assert window.banner.level == "info"  # the error was replaced by the close notice
    show_tab(qtbot, window, "Sessions")
    assert session_ids(window)[0] == session_id
    assert len(session_ids(window)) == len(before_ids) + 2


def test_an_import_error_is_visible_on_the_sessions_page(
    qtbot: Any, window: MainWindow, context: AppContext, tmp_path: Path
) -> None:
    """Import… is a button of the Sessions page: its failure must be visible there, not only in the
    Inspector's banner behind it."""
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    show_tab(qtbot, window, "Sessions")
    outcome = TaskOutcome(window.import_session(path)).wait(qtbot)
    assert outcome.kind == "failed"
    message = "This is not a wsinspector session file"
    assert message in window.banner.label.text()  # it was put in the banner...
    assert window.tabs.currentWidget() is window.sessions_view
    visible = [label.text() for label in window.findChildren(QLabel) if label.isVisible()]
    visible.append(window.statusBar().currentMessage())
    assert any(message in text for text in visible), f"nothing visible says it; visible texts: {visible}"


def test_import_of_a_missing_file_says_so(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "gone.json"
    assert window.import_session(path) is None
    assert window.banner.level == "error"
    assert window.banner.text == f"Cannot import {path}: no such file"
    assert session_ids(window) == []
