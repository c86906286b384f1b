"""The Probe page: an endpoint (a saved connection or a URL) measured by the probe's cases, and the kept probes
side by side as the comparison table's rows, sortable, exported as Markdown, CSV, JSON or MediaWiki. A cell's
evidence is one double-click away: its first session opens in a tab of its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.connections import ConnectionsController
from wsinspector.app.probes import EXPORTS, ProbesController
from wsinspector.core.probe.cases import AGGRESSIVE_CASES, DEFAULT_CASES
from wsinspector.core.probe.row import COLUMNS, ProbeResult
from wsinspector.core.probe.steps import Cell
from wsinspector.ui.palette import qcolour
from wsinspector.ui.table_model import ColumnsModel, Index

#: what each case checkbox says it does
CASE_TIPS = {
    "versions": "Sec-WebSocket-Version 13, 8, 7 and 99: accepted, and what a refusal lists",
    "messages": "a text and a binary message: accepted, echoed", "fragments": "a message in 3 frames, pings between",
    "pings": "5 pings: pongs, payloads, RTT", "heartbeat": "3 s without pongs: its pings, an idle timeout",
    "compression": "permessage-deflate offers", "subprotocols": "which offered subprotocol it picks",
    "origin": "a foreign Origin", "closing": "our close code echoed; 1005 (aggressive)",
    "utf8": "invalid UTF-8 in a text message", "size": "the largest message, up to 16 MiB, 25 s",
    "flow": "16 MiB sent while we do not read", "violations": "reserved bits and opcodes, a 126-byte ping",
}
_HEADS = ("Endpoint", "When", "Seconds", *(heading for _, heading in COLUMNS))
_FIXED = 3
#: what the table sorts by: the time and the seconds as numbers, the rest as shown
SORT_ROLE = Qt.ItemDataRole.UserRole
#: the widest a column starts (pixels)
COLUMN_WIDTH_MAX = 240


class ProbesModel(ColumnsModel):
    """The kept probes, a row each: endpoint, when, how long, then the table's columns."""

    COLUMNS = _HEADS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._probes: list[ProbeResult] = []

    def set_probes(self, probes: list[ProbeResult]) -> None:
        self.beginResetModel()
        self._probes = probes
        self.endResetModel()

    def probe(self, row: int) -> ProbeResult | None:
        return self._probes[row] if 0 <= row < len(self._probes) else None

    def cell(self, index: Index) -> Cell | None:
        probe = self.probe(index.row()) if index.isValid() else None
        if probe is None or index.column() < _FIXED:
            return None
        return probe.cell(COLUMNS[index.column() - _FIXED][0])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._probes)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        probe = self.probe(index.row()) if index.isValid() else None
        if probe is None:
            return None
        column = index.column()
        if column < _FIXED:
            return self._fixed(probe, column, role)
        cell = self.cell(index)
        assert cell is not None
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            return cell.value
        if role == Qt.ItemDataRole.ToolTipRole:
            sessions = (f"\n\nEvidence: session {', '.join(map(str, cell.sessions))} (double-click to open)"
                        if cell.sessions else "")
            return (cell.detail or cell.value) + sessions
        if role == Qt.ItemDataRole.ForegroundRole and not cell.known:
            return qcolour("muted")
        return None


    @staticmethod
    def _fixed(probe: ProbeResult, column: int, role: int) -> Any:
        """The endpoint, when and how long: the columns before the table's own."""
        when = dt.datetime.fromtimestamp(probe.started).strftime("%Y-%m-%d %H:%M")
        values = (probe.label + (" (aggressive)" if probe.aggressive else ""), when, f"{probe.seconds:.1f}")
        if role == Qt.ItemDataRole.DisplayRole:
            return values[column]
        if role == SORT_ROLE:
            return (values[0].casefold(), probe.started, probe.seconds)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return probe.url + "\n" + "\n".join(f"{t.name}: {t.seconds:.2f} s" + (f" ({t.stopped})" if t.stopped
                                                                                    else "") for t in probe.cases)
        return None


class ProbeView(QWidget):
    """Signals: ``open_session_requested(int)`` (a cell's evidence), ``message(str, str)`` (text, level)."""

    open_session_requested = Signal(int)
    message = Signal(str, str)

    def __init__(self, probes: ProbesController, connections: ConnectionsController,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probes = probes
        self._connections = connections
        self._done: list[str] = []
        self.target = QComboBox()
        self.target.setObjectName("probeTarget")
        self.target.setEditable(True)
        self.target.setMinimumContentsLength(40)
        self.target.lineEdit().setPlaceholderText("ws://host/path, or choose a saved connection")
        self.run_button = QPushButton("Probe")
        self.run_button.setObjectName("probeRun")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.status = QLabel("Probes measure what an endpoint does; each value names the sessions it was read "
                             "from.")
        self.status.setWordWrap(True)
        self.case_boxes: dict[str, QCheckBox] = {}
        cases, harsh = self._build_cases()
        self._build_table()

        top = QHBoxLayout()
        top.addWidget(QLabel("Endpoint:"))
        top.addWidget(self.target, 1)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)
        under = QHBoxLayout()
        under.addWidget(QLabel("Kept probes (double-click a cell for its evidence):"))
        under.addStretch(1)
        under.addWidget(self.export_button)
        under.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(cases)
        layout.addWidget(harsh)
        layout.addWidget(self.status)
        layout.addLayout(under)
        layout.addWidget(self.table, 1)

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(probes.cancel)
        probes.started.connect(self._on_started)
        probes.case_finished.connect(self._on_case_finished)
        probes.finished.connect(self._on_finished)
        probes.refused.connect(lambda text: self.message.emit(text, "warning"))
        probes.changed.connect(self.refresh)
        connections.profiles_changed.connect(self._fill_targets)
        self._fill_targets()
        self.refresh()

    def _build_cases(self) -> tuple[QGroupBox, QGroupBox]:
        cases = QGroupBox("Cases")
        grid = QGridLayout(cases)
        for index, name in enumerate(DEFAULT_CASES):
            box = self._case_box(name, True)
            grid.addWidget(box, index // 5, index % 5)
        harsh = QGroupBox("Aggressive cases (bounded floods, size search, protocol violations; off loopback only "
                          "once you confirm)")
        harsh_row = QHBoxLayout(harsh)
        for name in AGGRESSIVE_CASES:
            harsh_row.addWidget(self._case_box(name, False))
        harsh_row.addStretch(1)
        return cases, harsh

    def _build_table(self) -> None:
        self.model = ProbesModel(self)
        self.sorted = QSortFilterProxyModel(self)
        self.sorted.setSourceModel(self.model)
        self.sorted.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("probeTable")
        self.table.setModel(self.sorted)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # the newest first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(self._open_evidence)
        self.export_button = QPushButton("Export…")
        export_menu = QMenu(self.export_button)
        for kind in EXPORTS:
            export_menu.addAction(kind, lambda _c=False, k=kind: self.export(k))
        self.export_button.setMenu(export_menu)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)

    def _case_box(self, name: str, checked: bool) -> QCheckBox:
        box = QCheckBox(name)
        box.setObjectName(f"probeCase_{name}")
        box.setChecked(checked)
        box.setToolTip(CASE_TIPS.get(name, ""))
        self.case_boxes[name] = box
        return box

    @Slot()
    def _fill_targets(self) -> None:
        typed = self.target.currentText()
        self.target.blockSignals(True)
        self.target.clear()
        for profile in self._connections.profiles:
            self.target.addItem(profile.name, profile.id)
        self.target.setEditText(typed)
        self.target.blockSignals(False)

    @Slot()
    def refresh(self) -> None:
        self.model.set_probes(self.probes.kept())
        self.table.resizeColumnsToContents()
        for column in range(self.model.columnCount()):  # a long "unknown — why" is elided; its tooltip is whole
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), COLUMN_WIDTH_MAX))

    @Slot()
    def run(self) -> None:
        """Probe what the endpoint field names: a saved connection (by name) or a URL."""
        text = self.target.currentText().strip()
        names = [name for name, box in self.case_boxes.items() if box.isChecked()]
        index = self.target.findText(text, Qt.MatchFlag.MatchExactly)
        profile = self._connections.get(self.target.itemData(index)) if index >= 0 else None
        saved = profile is not None
        if profile is None:
            profile = self.probes.profile_for(text)
        confirmed = False
        if self.probes.needs_confirmation(profile.url, names):
            chosen = [name for name in names if name in AGGRESSIVE_CASES]
            answer = QMessageBox.warning(
                self, "Aggressive cases", f"Run {', '.join(chosen)} against {profile.url}?\n\nThey send up to "
                "16 MiB at a time, pause reading, or break the protocol on purpose (bounded in bytes and time). "
                "Do it only against a server you may test.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return
            confirmed = True
        self.probes.start(profile, names, confirmed=confirmed, saved=saved)

    @Slot(str)
    def _on_started(self, url: str) -> None:
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._done = []
        self.status.setText(f"Probing {url}…")

    @Slot(str, float)
    def _on_case_finished(self, name: str, seconds: float) -> None:
        self._done.append(f"{name} {seconds:.1f} s")
        self.status.setText("Probing… " + ", ".join(self._done))

    @Slot(object)
    def _on_finished(self, result: ProbeResult) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        where = "" if result.connected else " — no WebSocket connection could be opened"
        self.status.setText(f"{result.label}: probed in {result.seconds:.1f} s ({', '.join(self._done)}){where}")

    def _selected_ids(self) -> list[int]:
        rows = sorted({self.sorted.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        probes = [self.model.probe(r) for r in rows] if rows else [self.model.probe(r)
                                                                 for r in range(self.model.rowCount())]
        return [p.id for p in probes if p is not None]

    @Slot(QModelIndex)
    def _open_evidence(self, index: QModelIndex) -> None:
        cell = self.model.cell(self.sorted.mapToSource(index))
        if cell is not None and cell.sessions:
            self.open_session_requested.emit(cell.sessions[0])

    def export(self, kind: str, path: Path | None = None) -> bool:
        """The selected probes (all, when none is selected) as ``kind``, written to ``path`` (asked for)."""
        ids = self._selected_ids()
        if not ids:
            self.message.emit("There is no probe to export yet", "warning")
            return False
        if path is None:
            suffix = EXPORTS[kind][0]
            name, _ = QFileDialog.getSaveFileName(self, f"Export probes as {kind}", f"probes.{suffix}",
                                                  f"{kind} (*.{suffix})")
            if not name:
                return False
            path = Path(name)
        try:
            path.write_text(self.probes.table(ids, kind), encoding="utf-8")
        except OSError as exc:
            self.message.emit(f"Could not write {path}: {exc.strerror or exc}", "error")
            return False
        self.message.emit(f"Exported {len(ids)} probe{'s' if len(ids) != 1 else ''} to {path}", "")
        return True

    @Slot()
    def delete_selected(self) -> None:
        rows = {self.sorted.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        ids = [p.id for p in (self.model.probe(r) for r in rows) if p is not None]
        if ids:
            self.probes.delete(ids)
