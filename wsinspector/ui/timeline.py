"""The frame timeline: a virtual table model over the session's FrameLog, and its view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from wsinspector.core.frames import Direction, Frame, Opcode, describe_close_code
from wsinspector.core.log import FrameLog
from wsinspector.core.payloads import decode_text, preview

COLUMNS = ("#", "Time (s)", "Dir", "Opcode", "FIN", "Size", "Preview")
COL_SEQ, COL_TIME, COL_DIR, COL_OPCODE, COL_FIN, COL_SIZE, COL_PREVIEW = range(len(COLUMNS))

_IN_COLOUR = QColor("#1f7a3d")
_OUT_COLOUR = QColor("#1f5fa8")
_CONTROL_COLOUR = QColor("#8a5a00")

Index = QModelIndex | QPersistentModelIndex


def format_time(us: float) -> str:
    """Seconds since the session started, to the microsecond."""
    return f"{us / 1e6:.6f}"


def frame_preview(frame: Frame, data_opcode: Opcode | None = None) -> str:
    """The table's one-line preview. ``data_opcode`` is the message opcode a continuation frame belongs to."""
    if frame.opcode is Opcode.CLOSE:
        reason = f' "{frame.close_reason}"' if frame.close_reason else ""
        return f"{describe_close_code(frame.close_code)}{reason}"
    if frame.opcode.is_control:
        # ping/pong payloads are arbitrary bytes: text only when they are clean UTF-8
        is_text = decode_text(frame.payload)[1]
    else:
        is_text = (data_opcode or frame.opcode) is Opcode.TEXT
    return preview(frame.payload, is_text, limit=160)


class TimelineModel(QAbstractTableModel):
    """Rows are frames of the log, in order; nothing per row is kept beyond the log itself."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._log: FrameLog | None = None
        self._rows = 0
        self._continuations: set[int] = set()
        bold = QFont()
        bold.setBold(True)
        self._bold = bold

    def set_log(self, log: FrameLog) -> None:
        self.beginResetModel()
        self._log = log
        self._rows = len(log)
        self.endResetModel()

    @Slot(int, int)
    def on_frames_appended(self, first: int, last: int) -> None:
        if self._log is None or last < self._rows:
            return
        first = max(first, self._rows)
        self.beginInsertRows(QModelIndex(), first, last)
        self._rows = last + 1
        self.endInsertRows()

    def frame_at(self, row: int) -> Frame | None:
        if self._log is None or not 0 <= row < self._rows:
            return None
        return self._log[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._log is None:
            return None
        row, col = index.row(), index.column()
        if not 0 <= row < self._rows:
            return None
        frame = self._log[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(frame, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == COL_DIR:
                return QBrush(_IN_COLOUR if frame.direction is Direction.IN else _OUT_COLOUR)
            if col == COL_OPCODE and frame.opcode.is_control:
                return QBrush(_CONTROL_COLOUR)
            return None
        if role == Qt.ItemDataRole.FontRole and frame.opcode is Opcode.CLOSE:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_SEQ, COL_TIME, COL_SIZE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and frame.note:
            return frame.note
        return None

    def _display(self, frame: Frame, col: int) -> str:
        if col == COL_SEQ:
            return str(frame.seq)
        if col == COL_TIME:
            assert self._log is not None
            return format_time(self._log.relative_us(frame))
        if col == COL_DIR:
            return frame.direction.arrow
        if col == COL_OPCODE:
            return frame.opcode.label
        if col == COL_FIN:
            return "?" if frame.fin is None else ("1" if frame.fin else "0")
        if col == COL_SIZE:
            return f"{frame.size:,}"
        return frame_preview(frame, self._log.data_opcode(frame.seq) if self._log is not None else None)


class TimelineView(QTableView):
    """Fixed-height rows; follows new frames only while already scrolled to the bottom.

    Signals:
        frame_selected(object): the Frame under the cursor, or None
    """

    frame_selected = Signal(object)

    def __init__(self, model: TimelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._model = model
        self.setObjectName("timeline")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vheader = self.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        widths = {COL_SEQ: 60, COL_TIME: 100, COL_DIR: 60, COL_OPCODE: 100, COL_FIN: 40, COL_SIZE: 80}
        for col, width in widths.items():
            header.resizeSection(col, width)
        self._follow = True
        model.rowsAboutToBeInserted.connect(self._on_rows_about_to_be_inserted)
        model.rowsInserted.connect(self._on_rows_inserted)
        self.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

    def _on_rows_about_to_be_inserted(self, *_: object) -> None:
        bar = self.verticalScrollBar()
        self._follow = bar.value() >= bar.maximum()

    def _on_rows_inserted(self, *_: object) -> None:
        if self._follow:
            self.scrollToBottom()

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.frame_selected.emit(self._model.frame_at(current.row()) if current.isValid() else None)
