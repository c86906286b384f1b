"""The Probe page in the real window: a probe of a `websockets` peer on 127.0.0.1 run from the page, its row in
the kept probes' table (sortable, checked by qtmodeltester), a cell's evidence opened with a double-click,
the table exported as MediaWiki syntax, and aggressive cases against another host held back until confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from wsinspector.core.probe.row import HEADINGS
from wsinspector.ui.main_window import MainWindow

PROBE_MS = 30_000


def _only(view: Any, *names: str) -> None:
    for name, box in view.case_boxes.items():
        box.setChecked(name in names)


def test_a_probe_from_the_page_shows_its_row_and_opens_its_evidence(
        qtbot: Any, qtmodeltester: Any, window: MainWindow, peer: Any, tmp_path: Path) -> None:
    url = peer()
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.probe_page
    view = window.probe_page.content()
    _only(view, "messages", "pings")
    view.target.setEditText(url)
    with qtbot.waitSignal(view.probes.finished, timeout=PROBE_MS):
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert "probed in" in view.status.text() and "messages" in view.status.text()
    assert view.model.rowCount() == 1
    qtmodeltester.check(view.model)
    column = view.model.COLUMNS.index(HEADINGS["text"])
    index = view.sorted.index(0, column)
    assert index.data() == "yes, echoed"
    assert "double-click to open" in index.data(Qt.ItemDataRole.ToolTipRole)
    unprobed = view.sorted.index(0, view.model.COLUMNS.index(HEADINGS["size_limit"]))
    assert unprobed.data().startswith("unknown — not probed")

    # the evidence: the session the cell names opens in a read-only tab of its own
    (session_id,) = view.model.probe(0).cell("text").sessions
    view.table.scrollTo(index)
    rect = view.table.visualRect(index)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is window.connection_tabs
    assert window.connection_tabs.page_for_session(session_id) is window.connection_tabs.currentWidget()

    out = tmp_path / "probes.wiki"
    assert view.export("MediaWiki", out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith('{| class="wikitable sortable"') and "| yes, echoed" in text


def test_aggressive_cases_against_another_host_wait_for_a_confirmation(
        qtbot: Any, window: MainWindow, monkeypatch: Any) -> None:
    asked: list[str] = []

    def cancel(_parent: Any, _title: str, text: str, *_args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "warning", cancel)
    window.tabs.setCurrentWidget(window.probe_page)
    view = window.probe_page.content()
    _only(view, "pings", "size")
    view.target.setEditText("ws://probe.invalid/")
    started: list[str] = []
    view.probes.started.connect(started.append)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert asked and "size against ws://probe.invalid/" in asked[0]
    assert started == [] and view.probes.running is None and view.run_button.isEnabled()
