"""The Sessions page: every recorded session, to open read-only, rename, annotate, delete, export, import."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.sessions import SessionsController
from wsinspector.core.frames import describe_close_code
from wsinspector.core.payloads import human_size
from wsinspector.core.retention import Retention
from wsinspector.core.store import SessionRecord
from wsinspector.ui.table_model import ColumnsModel, Index

COLUMNS = ("Name", "Status", "Started", "Ended", "Duration", "URL", "Frames ↓", "Frames ↑", "Bytes ↓", "Bytes ↑",
           "Close", "Note")


def format_started(wall: float) -> str:
    return dt.datetime.fromtimestamp(wall).strftime("%Y-%m-%d %H:%M:%S")


def format_ended(record: SessionRecord) -> str:
    """End time; a session still recording has none, an interrupted one ends at its last saved frame."""
    if record.ended_wall is None:
        return "recording…" if record.status == "live" else ""
    started = dt.datetime.fromtimestamp(record.started_wall)
    ended = dt.datetime.fromtimestamp(record.ended_wall)
    return ended.strftime("%H:%M:%S" if ended.date() == started.date() else "%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SessionsModel(ColumnsModel):
    COLUMNS = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._records: list[SessionRecord] = []

    def set_records(self, records: list[SessionRecord]) -> None:
        self.beginResetModel()
        self._records = records
        self.endResetModel()

    def record(self, row: int) -> SessionRecord | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def row_of(self, session_id: int) -> int | None:
        return next((i for i, r in enumerate(self._records) if r.id == session_id), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        record = self.record(index.row()) if index.isValid() else None
        if record is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                record.name,
                record.status,
                format_started(record.started_wall),
                format_ended(record),
                format_duration(record.duration_s),
                record.url,
                f"{record.frames_in:,}",
                f"{record.frames_out:,}",
                human_size(record.bytes_in),
                human_size(record.bytes_out),
                describe_close_code(record.close_code) if record.close_code is not None else "",
                record.note.replace("\n", " "),
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{record.name}\n{record.url}\n{record.status}"
            if record.close_reason:
                tip += f": {record.close_reason}"
            if record.replay_of:
                tip += f"\nReplay of the test {record.replay_of}"
            return tip + (f"\n\n{record.note}" if record.note else "")
        if role == Qt.ItemDataRole.TextAlignmentRole and 6 <= col <= 9:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class SessionsView(QWidget):
    """Signals:
    open_requested(int): show this session in the timeline (read-only)
    export_requested(int)
    import_requested()
    save_as_test_requested(int): make a test file of this session (its messages become steps)
    """

    open_requested = Signal(int)
    export_requested = Signal(int)
    import_requested = Signal()
    save_as_test_requested = Signal(int)

    def __init__(self, controller: SessionsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionsView")
        self._controller = controller
        self.model = SessionsModel(self)
        self.table = QTableView()
        self.table.setObjectName("sessionsTable")
        self.table.setTabKeyNavigation(False)  # a list of rows: Tab goes on to the next field
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((170, 80, 140, 140, 70, 220, 70, 70, 80, 80, 150)):
            self.table.setColumnWidth(col, width)
        self.table.doubleClicked.connect(lambda index: self._open_row(index.row()))

        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openSession")
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentIndex().row()))
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self.rename_current)
        self.note_button = QPushButton("Note…")
        self.note_button.clicked.connect(self.edit_note)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("deleteSession")
        self.delete_button.clicked.connect(self.delete_current)
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportSession")
        self.export_button.clicked.connect(self._on_export)
        self.import_button = QPushButton("Import…")
        self.import_button.setObjectName("importSession")
        self.import_button.clicked.connect(self.import_requested.emit)
        self.save_test_button = QPushButton("Save as test…")
        self.save_test_button.setObjectName("saveSessionAsTest")
        self.save_test_button.setToolTip("Make a test of this session: what was sent becomes steps that send it "
                                         "again, what was received becomes expectations")
        self.save_test_button.clicked.connect(self._on_save_as_test)
        self.summary = QLabel()
        self.disk = QLabel()
        self.disk.setObjectName("diskUsed")
        self.disk.setToolTip("The database file in the data folder, with its write-ahead log; space a deleted "
                             "session leaves there is used again by the next recordings")
        self.retention_button = QPushButton("Retention…")
        self.retention_button.setObjectName("retentionButton")
        self.retention_button.setToolTip("How long stored sessions are kept, and how much space they may take")
        self.retention_button.clicked.connect(self.edit_retention)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.rename_button, self.note_button, self.delete_button,
                       self.export_button, self.import_button, self.save_test_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        storage = QHBoxLayout()
        storage.addWidget(self.disk, 1)
        storage.addWidget(self.retention_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addLayout(storage)
        controller.sessions_changed.connect(self.refresh)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        current = self.current_record()
        self.model.set_records(self._controller.sessions())
        count = self.model.rowCount()
        self.summary.setText(f"{count:,} session{'s' if count != 1 else ''}")
        if current is not None:
            self.select(current.id)
        if self.current_record() is None and count:
            self.table.selectRow(0)
        self._update_buttons()
        self.update_disk_used()

    @Slot()
    def update_disk_used(self) -> None:
        controller = self._controller
        self.disk.setText(f"Disk used: {human_size(controller.disk_used())} (sessions: "
                          f"{human_size(controller.stored_bytes())}) · {controller.retention.describe()}")

    @Slot()
    def edit_retention(self) -> None:
        dialog = RetentionDialog(self._controller.retention, self)
        chosen = dialog.retention() if dialog.exec() else None
        dialog.deleteLater()
        if chosen is not None:
            self.set_retention(chosen)

    def set_retention(self, retention: Retention) -> None:
        """Keep sessions by ``retention``, once the user agrees to the sessions it deletes now, if any."""
        doomed = self._controller.expiring(retention)
        if doomed:
            size = "" if len(doomed) > 1 else f" “{doomed[0].name}” of {format_started(doomed[0].started_wall)}"
            answer = QMessageBox.question(
                self, "Delete sessions",
                f"This deletes {len(doomed):,} stored session{'s' if len(doomed) > 1 else ''}{size} now, the "
                "oldest first. This cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._controller.set_retention(retention)

    def select(self, session_id: int) -> None:
        row = self.model.row_of(session_id)
        if row is not None:
            self.table.selectRow(row)

    def current_record(self) -> SessionRecord | None:
        index = self.table.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    @Slot()
    def rename_current(self) -> None:
        record = self.current_record()
        if record is None:
            return
        name, ok = QInputDialog.getText(self, "Rename session", "Name", text=record.name)
        if ok and name.strip():
            self._controller.rename(record.id, name)

    @Slot()
    def edit_note(self) -> None:
        record = self.current_record()
        if record is None:
            return
        note, ok = QInputDialog.getMultiLineText(self, "Session note", f"Note for “{record.name}”", record.note)
        if ok:
            self._controller.set_note(record.id, note)

    @Slot()
    def delete_current(self) -> None:
        record = self.current_record()
        if record is None:
            return
        answer = QMessageBox.question(
            self, "Delete session",
            f"Delete the session “{record.name}” of {format_started(record.started_wall)} with its "
            f"{record.frame_count:,} frames? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self._controller.delete(record.id)

    def _open_row(self, row: int) -> None:
        record = self.model.record(row)
        if record is not None:
            self.open_requested.emit(record.id)

    def _on_export(self) -> None:
        record = self.current_record()
        if record is not None:
            self.export_requested.emit(record.id)

    def _on_save_as_test(self) -> None:
        record = self.current_record()
        if record is not None:
            self.save_as_test_requested.emit(record.id)

    def _update_buttons(self, *_: object) -> None:
        has = self.current_record() is not None
        for button in (self.open_button, self.rename_button, self.note_button, self.delete_button,
                       self.export_button, self.save_test_button):
            button.setEnabled(has)


class RetentionDialog(QDialog):
    """How long stored sessions are kept (days) and how much space they may take (MiB); 0: no limit."""

    def __init__(self, retention: Retention, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keep stored sessions")
        self.setObjectName("retentionDialog")
        self.setMinimumWidth(440)
        self.days = QDoubleSpinBox()
        self.days.setObjectName("retentionDays")
        self.days.setRange(0, 36_500)
        self.days.setDecimals(1)
        self.days.setSuffix(" days")
        self.days.setSpecialValueText("forever")
        self.days.setValue(retention.max_age_days)
        self.size = QSpinBox()
        self.size.setObjectName("retentionSize")
        self.size.setRange(0, 16 << 20)
        self.size.setSingleStep(100)
        self.size.setSuffix(" MiB")
        self.size.setSpecialValueText("no limit")
        self.size.setValue(-(-retention.max_bytes // (1 << 20)))
        note = QLabel("Older sessions are deleted when wsinspector starts and whenever a recording ends, the "
                      "oldest first. A session still recording is never deleted, and the newest one stays "
                      "even when it alone is bigger than the limit.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        form = QFormLayout()
        form.addRow("Delete sessions older than", self.days)
        form.addRow("Keep at most", self.size)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.days.setFocus()

    def retention(self) -> Retention:
        return Retention(max_age_days=self.days.value(), max_bytes=self.size.value() << 20)
