"""Filter and find above the timeline: search text (plain or regex), direction and opcode, find next/previous,
on a live session (frames keep arriving) and on a stored one."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt

from tests.ui.helpers import WAIT_MS, all_rows, cell, click, close_connection, connect, focus
from tests.ui.helpers_sessions import (
    choose,
    open_stored,
    send_pings,
    send_texts,
    toggle,
    type_search,
    wait_filter_settled,
    wait_total,
)
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_PREVIEW, COL_SEQ

MESSAGES = 300
PINGS = [b"knock 1", b"knock 2", b"knock 3"]


def _text(i: int) -> str:
    return f"needle {i:03d}" if i % 10 == 0 else f"hay {i:03d}"


def _needles(first: int, last: int) -> list[str]:
    return [_text(i) for i in range(first, last) if i % 10 == 0]


def _haystack(qtbot: Any, window: MainWindow) -> int:
    """A live echo session: 300 messages (every 10th holds "needle") and 3 pings; returns the frame count."""
    connect(qtbot, window)
    send_texts(qtbot, window, [_text(i) for i in range(MESSAGES)])
    send_pings(qtbot, window, PINGS)
    total = 2 * MESSAGES + 2 * len(PINGS)
    assert window.inspector.model.rowCount() == total
    return total


def _shown(window: MainWindow) -> list[tuple[str, str, str, str]]:
    """(seq, direction, opcode, preview) of every row shown."""
    return [(cell(window, row, COL_SEQ), r["dir"], r["opcode"], r["preview"]) for row, r in enumerate(all_rows(window))]


def _current_row(window: MainWindow) -> int:
    index = window.inspector.timeline.currentIndex()
    return index.row() if index.isValid() else -1


def test_search_direction_and_opcode_filters(qtbot: Any, window: MainWindow, qtmodeltester: Any) -> None:
    total = _haystack(qtbot, window)
    qtmodeltester.check(window.inspector.model)
    bar = window.inspector.filter_bar
    assert bar.status.text() == ""

    type_search(qtbot, window, "needle")
    assert window.inspector.model.is_filtered
    qtmodeltester.check(window.inspector.model)
    rows = all_rows(window)
    assert len(rows) == 60
    assert all("needle" in r["preview"] for r in rows)
    assert {r["dir"] for r in rows} == {"↑ out", "↓ in"}
    assert sorted(r["preview"] for r in rows) == sorted(_needles(0, MESSAGES) * 2)
    assert bar.status.text() == f"60 / {total}"
    assert window.inspector.counts.text() == f"showing 60 of {total} frames"

    choose(qtbot, window, bar.direction, "Out ↑")
    rows = all_rows(window)
    assert [(r["dir"], r["preview"]) for r in rows] == [("↑ out", t) for t in _needles(0, MESSAGES)]
    assert bar.status.text() == f"30 / {total}"

    choose(qtbot, window, bar.direction, "In ↓")
    assert [(r["dir"], r["preview"]) for r in all_rows(window)] == [("↓ in", t) for t in _needles(0, MESSAGES)]

    # no search text and every direction: everything again
    choose(qtbot, window, bar.direction, "In and out")
    type_search(qtbot, window, "")
    assert not window.inspector.model.is_filtered
    assert window.inspector.model.rowCount() == total
    assert bar.status.text() == ""
    assert window.inspector.counts.text() == f"frames: {total}  (↓ {total // 2}  ↑ {total // 2})"

    choose(qtbot, window, bar.opcode, "Control")
    rows = all_rows(window)
    assert len(rows) == 2 * len(PINGS)
    assert {r["opcode"] for r in rows} == {"ping", "pong"}
    # pongs carry their measured RTT before the payload
    assert sorted(re.sub(r"^RTT \d+\.\d{3} ms · ", "", r["preview"]) for r in rows) == sorted(
        p.decode() for p in PINGS * 2)
    assert all(r["preview"].startswith("RTT ") for r in rows if r["opcode"] == "pong")

    choose(qtbot, window, bar.opcode, "Data")
    assert window.inspector.model.rowCount() == 2 * MESSAGES
    assert {r["opcode"] for r in all_rows(window)} == {"text"}

    # case: "NEEDLE" matches without Aa, nothing with it
    choose(qtbot, window, bar.opcode, "All opcodes")
    type_search(qtbot, window, "NEEDLE")
    assert window.inspector.model.rowCount() == 60
    toggle(qtbot, window, bar.case, True)
    assert window.inspector.model.is_filtered and window.inspector.model.rowCount() == 0
    assert bar.status.text() == f"0 / {total}"


def test_find_next_and_previous_without_only_matches(qtbot: Any, window: MainWindow) -> None:
    total = _haystack(qtbot, window)
    bar = window.inspector.filter_bar
    type_search(qtbot, window, "needle")
    assert window.inspector.model.rowCount() == 60
    toggle(qtbot, window, bar.only_matches, False)
    assert not window.inspector.model.is_filtered
    assert window.inspector.model.rowCount() == total  # all rows again, the search text only drives find

    matches = [row for row in range(total) if "needle" in cell(window, row, COL_PREVIEW)]
    assert len(matches) == 60

    click(qtbot, bar.next)
    assert _current_row(window) == matches[0]
    assert window.inspector.detail.text.toPlainText() == "needle 000"
    # F3 from the search field
    focus(qtbot, bar.search)
    for expected in matches[1:5]:
        qtbot.keyClick(bar.search, Qt.Key.Key_F3)
        assert _current_row(window) == expected
    assert bar.error.isHidden()
    qtbot.keyClick(bar.search, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert _current_row(window) == matches[3]
    for expected in reversed(matches[:3]):
        click(qtbot, bar.previous)
        assert _current_row(window) == expected
    # wrapping: before the first match comes the last one, after the last the first
    click(qtbot, bar.previous)
    assert _current_row(window) == matches[-1]
    assert window.inspector.detail.text.toPlainText() == "needle 290"
    click(qtbot, bar.next)
    assert _current_row(window) == matches[0]

    type_search(qtbot, window, "no such thing")
    assert window.inspector.model.rowCount() == total
    click(qtbot, bar.next)
    assert bar.error.isVisible() and bar.error.text() == "No match"
    assert _current_row(window) == matches[0]


def test_find_next_skips_matches_hidden_by_the_filter(qtbot: Any, window: MainWindow) -> None:
    """With "Only matches" off and only received frames shown, F3 should walk the visible matches: the
    (hidden) sent copy of a match must not stop it."""
    _haystack(qtbot, window)
    bar = window.inspector.filter_bar
    toggle(qtbot, window, bar.only_matches, False)
    type_search(qtbot, window, "needle")
    choose(qtbot, window, bar.direction, "In ↓")
    assert window.inspector.model.rowCount() == MESSAGES + len(PINGS)
    visible = [row for row in range(window.inspector.model.rowCount()) if "needle" in cell(window, row, COL_PREVIEW)]
    assert len(visible) == 30

    seen = []
    focus(qtbot, bar.search)
    for _ in range(4):
        qtbot.keyClick(bar.search, Qt.Key.Key_F3)
        seen.append(_current_row(window))
    assert seen == visible[:4], f"F3 went to rows {seen}; the filter bar says {bar.error.text()!r}"
    assert bar.error.isHidden()


def test_bad_regex_shows_an_error_and_changes_nothing(qtbot: Any, window: MainWindow) -> None:
    total = _haystack(qtbot, window)
    bar = window.inspector.filter_bar
    toggle(qtbot, window, bar.regex, True)
    assert not window.inspector.model.is_filtered

    type_search(qtbot, window, "(")
    assert bar.error.isVisible()
    assert bar.error.text().startswith("Invalid regular expression: missing )"), bar.error.text()
    assert not window.inspector.model.is_filtered
    assert window.inspector.model.rowCount() == total
    click(qtbot, bar.next)  # find with the same bad pattern: the same error, nothing selected
    assert bar.error.text().startswith("Invalid regular expression")
    assert _current_row(window) == -1

    # a good pattern clears the error and filters
    type_search(qtbot, window, r"needle 0\d0$")
    assert bar.error.isHidden()
    assert sorted(r["preview"] for r in all_rows(window)) == sorted(_needles(0, 100) * 2)

    # a bad one now keeps the previous filter's rows
    type_search(qtbot, window, "needle [")
    assert bar.error.isVisible()
    assert sorted(r["preview"] for r in all_rows(window)) == sorted(_needles(0, 100) * 2)


def test_a_live_filter_keeps_filtering_new_frames(qtbot: Any, window: MainWindow, qtmodeltester: Any) -> None:
    total = _haystack(qtbot, window)
    type_search(qtbot, window, "needle")
    qtmodeltester.check(window.inspector.model)
    assert window.inspector.model.rowCount() == 60

    send_texts(qtbot, window, [_text(i) for i in range(MESSAGES, MESSAGES + 20)])
    total += 40
    rows = all_rows(window)
    assert len(rows) == 64
    assert sorted(r["preview"] for r in rows[60:]) == sorted(_needles(MESSAGES, MESSAGES + 20) * 2)
    assert window.inspector.filter_bar.status.text() == f"64 / {total}"
    assert window.inspector.counts.text() == f"showing 64 of {total} frames"

    # pings do not match: nothing is added
    send_pings(qtbot, window, [b"knock again"])
    assert window.inspector.model.rowCount() == 64
    assert window.inspector.filter_bar.status.text() == f"64 / {total + 2}"


def test_filter_applied_while_frames_are_arriving_misses_none(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    texts = [_text(i) for i in range(MESSAGES)]
    send_texts(qtbot, window, texts, wait=False)
    # Return applies at once (no debounce), while the echoes are still coming in
    focus(qtbot, window.inspector.filter_bar.search)
    qtbot.keyClicks(window.inspector.filter_bar.search, "needle")
    qtbot.keyClick(window.inspector.filter_bar.search, Qt.Key.Key_Return)
    wait_total(qtbot, window, 2 * MESSAGES)
    wait_filter_settled(qtbot, window)
    shown = _shown(window)
    seqs = [int(seq) for seq, *_ in shown]
    twice = sorted({seq for seq in seqs if seqs.count(seq) > 1})
    assert not twice, f"{len(shown)} rows shown; frames shown twice: {twice}"
    assert seqs == sorted(seqs)
    assert sorted(preview for *_, preview in shown) == sorted(_needles(0, MESSAGES) * 2)
    assert window.inspector.filter_bar.status.text() == f"60 / {2 * MESSAGES}"


def test_the_same_filters_on_the_stored_session(qtbot: Any, window: MainWindow, qtmodeltester: Any) -> None:
    _haystack(qtbot, window)
    session_id = window.session.session_id
    assert session_id is not None
    close_connection(qtbot, window)
    # our close frame and the echo's answer
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() == 2 * MESSAGES + 2 * len(PINGS) + 2, timeout=WAIT_MS)

    def apply_all() -> dict[str, list[tuple[str, str, str, str]]]:
        bar = window.inspector.filter_bar  # the current tab's: the live one, then the stored session's
        seen = {"everything": _shown(window)}
        type_search(qtbot, window, "needle")
        seen["needle"] = _shown(window)
        choose(qtbot, window, bar.direction, "Out ↑")
        seen["needle out"] = _shown(window)
        choose(qtbot, window, bar.direction, "In and out")
        type_search(qtbot, window, "")
        choose(qtbot, window, bar.opcode, "Control")
        seen["control"] = _shown(window)
        choose(qtbot, window, bar.opcode, "All opcodes")
        toggle(qtbot, window, bar.regex, True)
        type_search(qtbot, window, r"^(needle|hay) 1[05]\d$")
        seen["regex"] = _shown(window)
        toggle(qtbot, window, bar.regex, False)
        type_search(qtbot, window, "")
        return seen

    live = apply_all()
    assert len(live["needle"]) == 60 and len(live["needle out"]) == 30 and len(live["regex"]) == 40
    assert [(d, o) for _, d, o, _ in live["control"]][-2:] == [("↑ out", "close"), ("↓ in", "close")]
    assert len(live["control"]) == 2 * len(PINGS) + 2

    open_stored(qtbot, window, session_id)
    qtmodeltester.check(window.inspector.model)
    stored = apply_all()
    assert stored == live

    # find works on the stored session too
    bar = window.inspector.filter_bar
    type_search(qtbot, window, "needle")
    qtmodeltester.check(window.inspector.model)
    toggle(qtbot, window, bar.only_matches, False)
    click(qtbot, bar.next)
    first = _current_row(window)
    assert cell(window, first, COL_PREVIEW) == "needle 000"
    click(qtbot, bar.next)
    second = _current_row(window)
    assert second > first and "needle" in cell(window, second, COL_PREVIEW)
    click(qtbot, bar.previous)
    assert _current_row(window) == first
