"""The frame timeline: a virtual table model over a session, live or stored, and its view."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPushButton, QTableView, QWidget

from wsinspector.core.frames import (
    Direction,
    Frame,
    Opcode,
    describe_close_code,
    parse_close_payload,
)
from wsinspector.core.model import header as frame_header
from wsinspector.core.payloads import decode_text, preview
from wsinspector.core.session import Session
from wsinspector.ui.table_model import ColumnsModel, Index

COLUMNS = ("#", "Time (s)", "Dir", "Opcode", "FIN", "Size", "Preview")
COL_SEQ, COL_TIME, COL_DIR, COL_OPCODE, COL_FIN, COL_SIZE, COL_PREVIEW = range(len(COLUMNS))

_IN_COLOUR = QColor("#1f7a3d")
_OUT_COLOUR = QColor("#1f5fa8")
_CONTROL_COLOUR = QColor("#8a5a00")
_RECONNECT_COLOUR = QColor(255, 196, 0, 60)
#: the roles the timeline answers
_ROLES = frozenset(int(r) for r in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                                    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.BackgroundRole,
                                    Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole))
#: a frame read back damaged from the file (see core/model/header.py): its row says so instead of an opcode
DAMAGED_LABEL = "damaged"
DAMAGED_COLOUR = "#b00020"
_DAMAGED_TIP = ("This frame is damaged in the file: what its header held cannot be read. The bytes shown are "
                "those stored.")
_DROPPED_COLOUR = QColor("#8a8a8a")



def format_time(us: float) -> str:
    """Seconds since the session started, to the microsecond."""
    return f"{us / 1e6:.6f}"


def preview_of(opcode: Opcode, head: bytes, data_opcode: Opcode | None = None) -> str:
    if opcode is Opcode.CLOSE:
        code, reason = parse_close_payload(head)
        return f"{describe_close_code(code)}" + (f' "{reason}"' if reason else "")
    if opcode.is_control:
        # ping/pong payloads are arbitrary bytes: text only when they are clean UTF-8
        is_text = decode_text(head)[1]
    else:
        is_text = (data_opcode or opcode) is Opcode.TEXT
    return preview(head, is_text, limit=PREVIEW_CHARS)


#: what a frame the live view let go of without recording it shows
DROPPED_TEXT = "not kept (not recorded: a live view keeps only its newest frames)"
PREVIEW_CHARS = 160
_HEAD_BYTES = PREVIEW_CHARS * 4


#: what marks a frame a periodic send or an auto-reply sent, at the start of its preview, and its tool tip
ORIGIN_MARKS = {"scheduled": "◷ ", "auto-reply": "↩ "}
ORIGIN_TIPS = {"scheduled": "Sent by a periodic send (◷)", "auto-reply": "Sent by an auto-reply rule (↩)"}


def origin_mark(source: Session, seq: int) -> str:
    """The mark of a frame a periodic send or an auto-reply sent ("" for any other)."""
    return ORIGIN_MARKS.get(frame_header.origin_label(source.origin(seq)), "")


def _flag(value: bool | None) -> str:
    return "?" if value is None else ("1" if value else "0")


class TimelineModel(ColumnsModel):
    COLUMNS = COLUMNS
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        COL_SIZE: "Payload length on the wire: a compressed frame counts its compressed bytes "
                  "(the detail pane shows both lengths)",
        COL_FIN: "1: the last frame of its message; 0: more frames follow; ? the engine cannot tell",
    }

    """Rows are frames of a source, in order, or the subset given by an index array (a filter).

    Nothing is kept per row beyond the source itself (and the index array while filtered).
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._source: Session | None = None
        self._count = 0
        self._rows: array[int] | None = None
        self._matcher: Callable[[int, bytes], bool] | None = None
        bold = QFont()
        bold.setBold(True)
        self._bold = bold

    @property
    def source(self) -> Session | None:
        return self._source

    @property
    def known_frames(self) -> int:
        """Frames of the source the model has been told about (a live log may already hold more)."""
        return self._count

    @property
    def is_filtered(self) -> bool:
        return self._rows is not None

    def set_source(self, source: Session | None) -> None:
        self.beginResetModel()
        self._source = source
        self._count = len(source) if source is not None else 0
        self._rows = None
        self._matcher = None
        self.endResetModel()

    def set_filter(self, rows: array[int] | None, matcher: Callable[[int, bytes], bool] | None = None,
                   upto: int | None = None) -> None:
        """Show only ``rows`` (seqs, ascending), which were computed over seqs below ``upto``; frames after that
        are checked with ``matcher`` here, so a filter computed while frames keep arriving misses none."""
        self.beginResetModel()
        self._rows = rows
        self._matcher = matcher if rows is not None else None
        if rows is not None and matcher is not None and self._source is not None and upto is not None:
            for seq in range(upto, self._count):
                if matcher(self._source.meta(seq), self._source.payload_head(seq, 1 << 30)):
                    rows.append(seq)
        self.endResetModel()

    @Slot(int, int)
    def on_frames_appended(self, first: int, last: int) -> None:
        if self._source is None or last < self._count:
            return
        first = max(first, self._count)
        if self._rows is None:
            self.beginInsertRows(QModelIndex(), first, last)
            self._count = last + 1
            self.endInsertRows()
            return
        self._count = last + 1
        if self._matcher is None:
            return
        source, matcher = self._source, self._matcher
        added = [seq for seq in range(first, last + 1) if matcher(source.meta(seq), source.payload_head(seq, 1 << 30))]
        if added:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()

    def seq_at(self, row: int) -> int:
        return self._rows[row] if self._rows is not None else row

    def row_of(self, seq: int) -> int | None:
        """The row showing ``seq``, or None when the filter hides it."""
        if self._rows is None:
            return seq if 0 <= seq < self._count else None
        index = bisect_left(self._rows, seq)
        return index if index < len(self._rows) and self._rows[index] == seq else None

    def nearest_row(self, seq: int) -> int:
        """The row of ``seq`` or of the first shown frame after it (clamped to the last row)."""
        if self._rows is None:
            return max(0, min(seq, self._count - 1))
        return max(0, min(bisect_left(self._rows, seq), len(self._rows) - 1))

    def frame_at(self, row: int) -> Frame | None:
        if self._source is None or not 0 <= row < self.rowCount():
            return None
        return self._source.frame(self.seq_at(row))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._rows) if self._rows is not None else self._count

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        source = self._source
        # a view asks each visible cell for a dozen roles on every repaint; most say nothing here
        if role not in _ROLES or source is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if not 0 <= row < self.rowCount():
            return None
        seq = self.seq_at(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(source, seq, col)
        return self._decoration(source, seq, col, role)

    def _decoration(self, source: Session, seq: int, col: int, role: int) -> Any:  # noqa: PLR0911
        """Colours, fonts, tool tips and alignment of a cell."""
        if seq in source.dropped:
            return QBrush(_DROPPED_COLOUR) if role == Qt.ItemDataRole.ForegroundRole else None
        meta = source.meta(seq)
        if frame_header.damaged(meta):
            return self._damaged_role(col, role)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(meta, col)
        opcode = frame_header.opcode(meta)
        if role == Qt.ItemDataRole.FontRole and opcode is Opcode.CLOSE:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and source.starts_segment(seq):
            return QBrush(_RECONNECT_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole and source.starts_segment(seq):
            return "First frame after a reconnect: the connection was down before it (see the time gap)"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_SEQ, COL_TIME, COL_SIZE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and opcode is Opcode.CLOSE:
            return source.note(seq) or None
        if role == Qt.ItemDataRole.ToolTipRole:
            return ORIGIN_TIPS.get(frame_header.origin_label(source.origin(seq)))
        return None

    def _damaged_role(self, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and col in (COL_OPCODE, COL_PREVIEW):
            return QBrush(QColor(DAMAGED_COLOUR))
        if role == Qt.ItemDataRole.ToolTipRole:
            return _DAMAGED_TIP
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_SEQ, COL_TIME, COL_SIZE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _foreground(meta: int, col: int) -> QBrush | None:
        if col == COL_DIR:
            return QBrush(_IN_COLOUR if frame_header.direction(meta) is Direction.IN else _OUT_COLOUR)
        if col == COL_OPCODE and frame_header.opcode(meta).is_control:
            return QBrush(_CONTROL_COLOUR)
        return None

    def _display(self, source: Session, seq: int, col: int) -> str:  # noqa: PLR0911
        if col == COL_SEQ:
            return str(seq)
        if seq in source.dropped:
            return DROPPED_TEXT if col == COL_PREVIEW else ""
        if col == COL_TIME:
            return format_time(source.relative_us(seq))
        meta = source.meta(seq)
        if col == COL_DIR:
            return frame_header.direction(meta).arrow
        if frame_header.damaged(meta):
            return self._damaged_display(source, seq, col)
        if col == COL_OPCODE:
            return frame_header.opcode(meta).label
        if col == COL_FIN:
            return _flag(frame_header.fin(meta))
        if col == COL_SIZE:
            return f"{source.size(seq):,}"
        return self._preview(source, seq, meta)

    @staticmethod
    def _preview(source: Session, seq: int, meta: int) -> str:
        opcode = frame_header.opcode(meta)
        data_opcode = source.data_opcode(seq) if opcode is Opcode.CONTINUATION else None
        text = preview_of(opcode, source.payload_head(seq, _HEAD_BYTES), data_opcode)
        if source.starts_segment(seq):
            text = "⟳ reconnected · " + text
        text = origin_mark(source, seq) + text
        if opcode is Opcode.PONG and frame_header.direction(meta) is Direction.IN:
            rtt = source.rtt_ns(seq)
            if rtt is not None:
                return f"RTT {rtt / 1e6:.3f} ms" + (f" · {text}" if text else "")
            if source.is_unsolicited(seq):
                return "unsolicited" + (f" · {text}" if text else "")
        return text


    @staticmethod
    def _damaged_display(source: Session, seq: int, col: int) -> str:
        if col == COL_OPCODE:
            return DAMAGED_LABEL
        if col == COL_FIN:
            return "?"
        if col == COL_SIZE:
            return f"{source.size(seq):,}"
        head = source.payload_head(seq, _HEAD_BYTES)
        shown = preview(head, decode_text(head)[1], limit=PREVIEW_CHARS)
        return "damaged in the file" + (f" · {shown}" if head else "")


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
        self._unseen = 0
        self.new_frames = QPushButton(self.viewport())
        self.new_frames.setObjectName("newFramesButton")
        self.new_frames.setCursor(Qt.CursorShape.PointingHandCursor)
        self.new_frames.setStyleSheet("QPushButton { background: #1f5fa8; color: white; border-radius: 10px; "
                                      "padding: 3px 12px; font-weight: bold; }")
        self.new_frames.clicked.connect(self.follow)
        self.new_frames.hide()
        model.rowsAboutToBeInserted.connect(self._on_rows_about_to_be_inserted)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.modelReset.connect(self._on_model_reset)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

    @property
    def following(self) -> bool:
        return self._follow

    @Slot()
    def follow(self) -> None:
        """Jump to the newest frame and keep following."""
        self._follow = True
        self._unseen = 0
        self.new_frames.hide()
        self.scrollToBottom()

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum()

    def _on_rows_about_to_be_inserted(self, *_: object) -> None:
        self._follow = self._at_bottom()

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        if self._follow:
            self.scrollToBottom()
            return
        self._unseen += last - first + 1
        self.new_frames.setText(f"↓ {self._unseen:,} new frame{'s' if self._unseen != 1 else ''}")
        self.new_frames.adjustSize()
        self._place_button()
        self.new_frames.show()
        self.new_frames.raise_()

    def _on_model_reset(self) -> None:
        self._follow = True
        self._unseen = 0
        self.new_frames.hide()

    def _on_scrolled(self, _value: int) -> None:
        if self._at_bottom() and self.new_frames.isVisible():
            self._unseen = 0
            self.new_frames.hide()

    def _place_button(self) -> None:
        viewport = self.viewport()
        size = self.new_frames.sizeHint()
        self.new_frames.move(viewport.width() - size.width() - 12, viewport.height() - size.height() - 8)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_button()

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.frame_selected.emit(self._model.frame_at(current.row()) if current.isValid() else None)
