"""The frame timeline: a virtual table model over a session, live or stored, and its view."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QModelRoleDataSpan, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QBrush, QFont, QKeyEvent, QMouseEvent, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QPushButton, QTableView, QWidget

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
from wsinspector.ui import palette
from wsinspector.ui.decoding import TabDecoding, decoded_cell
from wsinspector.ui.message_view import MessageRows, format_wall, message_display
from wsinspector.ui.table_model import ColumnsModel, Index
from wsinspector.ui.timeline_paint import RowPainter

COLUMNS = ("#", "Time (s)", "Dir", "Opcode", "FIN", "Size", "Preview", "Time of day", "Gap (ms)", "Protocol",
           "Decoded")
(COL_SEQ, COL_TIME, COL_DIR, COL_OPCODE, COL_FIN, COL_SIZE, COL_PREVIEW, COL_WALL, COL_GAP, COL_PROTOCOL,
 COL_DECODED) = range(len(COLUMNS))
#: the columns of the message decoded (ui/decoding.py): shown by themselves when a protocol decoder reads the tab
DECODED_COLUMNS = (COL_PROTOCOL, COL_DECODED)
#: columns whose texts many rows share
REPEATING_COLUMNS = frozenset({COL_DIR, COL_OPCODE, COL_FIN, COL_PROTOCOL})
#: columns hidden until the user shows them (the header's context menu)
OPTIONAL_COLUMNS = (COL_WALL, COL_GAP, *DECODED_COLUMNS)
#: what marks the size of a frame that was compressed on the wire (permessage-deflate)
COMPRESSED_MARK = "◆"
_RIGHT_ALIGNED = (COL_SEQ, COL_TIME, COL_SIZE, COL_GAP)

#: the palette's colours (ui/palette.py) the rows use: light or dark as the window is
_BRUSHES = {"in": "in", "out": "out", "control": "control", "reconnect": "reconnect_row", "damaged": "error",
            "dropped": "muted"}
#: the roles the timeline answers
_ROLES = frozenset(int(r) for r in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                                    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.BackgroundRole,
                                    Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole))
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND, _FONT = int(Qt.ItemDataRole.ForegroundRole), int(Qt.ItemDataRole.FontRole)
_BACKGROUND, _ALIGNMENT = int(Qt.ItemDataRole.BackgroundRole), int(Qt.ItemDataRole.TextAlignmentRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
#: the roles every cell of a column answers alike (the tool tips differ by column: ``data`` gives them)
_DECORATIONS = frozenset(int(r) for r in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
                                          Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.TextAlignmentRole))
#: a frame read back damaged from the file (see core/model/header.py): its row says so instead of an opcode
DAMAGED_LABEL = "damaged"
_DAMAGED_TIP = ("This frame is damaged in the file: what its header held cannot be read. The bytes shown are "
                "those stored.")



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
#: the most rows whose painted texts the timeline keeps (a few screens)
PAINTED_ROWS = 512
_HEAD_BYTES = PREVIEW_CHARS * 4


#: what marks a frame a periodic send or an auto-reply sent, at the start of its preview, and its tool tip
ORIGIN_MARKS = {"scheduled": "◷ ", "auto-reply": "↩ "}
ORIGIN_TIPS = {"scheduled": "Sent by a periodic send (◷)", "auto-reply": "Sent by an auto-reply rule (↩)"}


def origin_mark(source: Session, seq: int) -> str:
    """The mark of a frame a periodic send or an auto-reply sent ("" for any other)."""
    return ORIGIN_MARKS.get(frame_header.origin_label(source.origin(seq)), "")


def is_compressed(source: Session, seq: int) -> bool:
    """Whether a frame's payload was compressed on the wire (permessage-deflate): RSV1 on a message's first
    frame, a wire length other than the payload's on its continuations."""
    meta = source.meta(seq)
    if frame_header.rsv1(meta) and not frame_header.opcode(meta).is_control:
        return True
    return frame_header.opcode(meta) is Opcode.CONTINUATION and source.size(seq) != source.payload_size(seq)


def format_size(source: Session, seq: int) -> str:
    """The Size column: the payload as delivered, marked when it was compressed on the wire."""
    size = f"{source.payload_size(seq):,}"
    return f"{size} {COMPRESSED_MARK}" if is_compressed(source, seq) else size


def _flag(value: bool | None) -> str:
    return "?" if value is None else ("1" if value else "0")


class _RowStyle(NamedTuple):
    """What a row's colours, font and background depend on."""

    dropped: bool = False
    damaged: bool = False
    out: bool = False
    control: bool = False
    close: bool = False
    segment_start: bool = False


class TimelineModel(ColumnsModel):
    COLUMNS = COLUMNS
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        COL_SIZE: f"Payload length as delivered (decompressed); {COMPRESSED_MARK} marks a frame that was "
                  "compressed on the wire (its tool tip and the detail pane give the compressed length)",
        COL_TIME: "Seconds since the session began",
        COL_WALL: "Wall-clock time of day the frame was read or written, to the microsecond",
        COL_GAP: "Time since the row above (milliseconds)",
        COL_FIN: "1: the last frame of its message; 0: more frames follow; ? the engine cannot tell",
        COL_PROTOCOL: "The decoder reading the connection's messages (its settings' Decoding tab chooses one)",
        COL_DECODED: "The message decoded, in one line (a message of several frames: on the row of its last frame, "
                     "or of the message in the message view)",
    }

    """Rows are frames of a source, in order, or the subset given by an index array (a filter, the message view,
    a view cleared from some frame on).

    Nothing is kept per row beyond the source itself (and the index array while one is needed).
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._source: Session | None = None
        self._count = 0
        #: the frames before this seq are not shown (the view was cleared there)
        self._base = 0
        #: the seqs shown, when not every frame from _base on is
        self._rows: array[int] | None = None
        #: the filter's seqs (None: no filter) and how frames after them are checked
        self._filter_rows: array[int] | None = None
        self._matcher: Callable[[int, bytes], bool] | None = None
        self.messages = MessageRows()
        #: the decoded form of the rows (None: no Protocol or Decoded cells)
        self.decoding: TabDecoding | None = None
        #: a seq-wise test of frames arriving after a filter was computed (a decoded filter)
        self._keeps: Callable[[int], bool] | None = None
        bold = QFont()
        bold.setBold(True)
        self._bold = bold
        self._brushes: dict[str, QBrush] = {}
        #: the Dir column names each frame's hop too (a recording proxy's session: client or upstream)
        self.show_hops = False
        #: the look of the row painted last, by its seq (a row's cells are painted one after the other and ask
        #: for the same frame's header); a frame's header, whether it was dropped and whether it starts a
        #: segment never change once it is in the session
        self._style_of: tuple[Session | None, int, _RowStyle] = (None, -1, _RowStyle())
        #: the colours, font, background and alignment of a cell, by its row's look and its column
        self._looks: dict[tuple[_RowStyle, int], dict[int, Any]] = {}
        #: the rows painted lately, by row: [look, seq, then each column's text once painted] (ui/timeline_paint.py);
        #: forgotten whenever the rows or what they show may have changed
        self._painted: dict[int, list[Any]] = {}
        self.on_scheme_changed()
        palette.watcher().changed.connect(self.on_scheme_changed)
        for changed in (self.modelReset, self.rowsInserted, self.rowsRemoved, self.dataChanged, self.layoutChanged):
            changed.connect(self.forget_painted)

    @property
    def source(self) -> Session | None:
        return self._source

    @property
    def known_frames(self) -> int:
        """Frames of the source the model has been told about (a live log may already hold more)."""
        return self._count

    @property
    def is_filtered(self) -> bool:
        return self._filter_rows is not None

    @property
    def shows_messages(self) -> bool:
        return self.messages.on

    @property
    def cleared_before(self) -> int:
        """The first seq the view shows since it was cleared (0: never cleared)."""
        return self._base

    def set_source(self, source: Session | None) -> None:
        self.beginResetModel()
        self._source = source
        self._count = len(source) if source is not None else 0
        self._base = 0
        self._filter_rows = None
        self._matcher = None
        self._keeps = None
        self.messages.reset(source, self._count)
        self._rebuild()
        self.endResetModel()

    def set_decoding(self, decoding: TabDecoding) -> None:
        self.decoding = decoding
        decoding.changed.connect(self._on_decoding_changed)

    @Slot()
    def _on_decoding_changed(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, COL_PROTOCOL), self.index(self.rowCount() - 1, COL_DECODED))

    def set_filter(self, rows: array[int] | None, matcher: Callable[[int, bytes], bool] | None = None,
                   upto: int | None = None, keeps: Callable[[int], bool] | None = None) -> None:
        """Show only ``rows`` (seqs, ascending), which were computed over seqs below ``upto``; frames after that
        are checked with ``matcher`` (and ``keeps``, by seq) here, so a filter computed while frames keep
        arriving misses none."""
        self.beginResetModel()
        self._filter_rows = rows
        self._matcher = matcher if rows is not None else None
        self._keeps = keeps if rows is not None and matcher is not None else None
        if rows is not None and matcher is not None and self._source is not None and upto is not None:
            for seq in range(upto, self._count):
                if self._passes(self._source, matcher, seq):
                    rows.append(seq)
        self._rebuild()
        self.endResetModel()

    def set_messages(self, on: bool) -> None:
        """One row per message (fragments folded into the row of their first frame), or one per frame."""
        if on == self.messages.on:
            return
        self.beginResetModel()
        self.messages.switch(on, self._source, self._count)
        self._rebuild()
        self.endResetModel()

    def clear_view(self, upto: int) -> None:
        """Show nothing before seq ``upto`` (the frames stay in the session)."""
        self.beginResetModel()
        self._base = upto
        self._count = max(self._count, upto)
        self.messages.extend_to(self._source, self._count)
        self._rebuild()
        self.endResetModel()

    def _rebuild(self) -> None:
        """The shown seqs from the filter, the message view and the clearing point (a copy of its own)."""
        wanted = self._filter_rows
        if self.messages.on:
            wanted = self.messages.starts if wanted is None else self.messages.intersect(wanted)
        if wanted is None:
            self._rows = None
            return
        self._rows = wanted[bisect_left(wanted, self._base):]

    @Slot(int, int)
    def on_frames_appended(self, first: int, last: int) -> None:
        if self._source is None or last < self._count:
            return
        # a message's row (its size, its decoded line) may say more now that more of its frames came
        self._painted.clear()
        first = max(first, self._count)
        if self._rows is None:
            self.beginInsertRows(QModelIndex(), first - self._base, last - self._base)
            self._count = last + 1
            self.endInsertRows()
            return
        self._count = last + 1
        source = self._source
        added: list[int] | array[int] | range = range(first, last + 1)
        if self._filter_rows is not None:
            if self._matcher is None:
                return
            matcher = self._matcher
            added = [seq for seq in added if self._passes(source, matcher, seq)]
            self._filter_rows.extend(added)
        if self.messages.on:
            starts = self.messages.append(source, first, last)
            starting = set(starts)
            added = starts if self._filter_rows is None else [seq for seq in added if seq in starting]
        if added:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()

    def _passes(self, source: Session, matcher: Callable[[int, bytes], bool], seq: int) -> bool:
        if not matcher(source.meta(seq), source.payload_head(seq, 1 << 30)):
            return False
        return self._keeps is None or self._keeps(seq)

    def seq_at(self, row: int) -> int:
        return self._rows[row] if self._rows is not None else row + self._base

    def row_of(self, seq: int) -> int | None:
        """The row showing ``seq``, or None when the filter hides it."""
        if self._rows is None:
            return seq - self._base if self._base <= seq < self._count else None
        index = bisect_left(self._rows, seq)
        return index if index < len(self._rows) and self._rows[index] == seq else None

    def nearest_row(self, seq: int) -> int:
        """The row of ``seq`` or of the first shown frame after it (clamped to the last row)."""
        if self._rows is None:
            return max(0, min(seq - self._base, self._count - self._base - 1))
        return max(0, min(bisect_left(self._rows, seq), len(self._rows) - 1))

    def frame_at(self, row: int) -> Frame | None:
        if self._source is None or not 0 <= row < self.rowCount():
            return None
        return self._source.frame(self.seq_at(row))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._rows) if self._rows is not None else self._count - self._base

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
            return self._cell(source, row, seq, col)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_SIZE:
            return self._size_tip(source, seq)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_DECODED:
            return decoded_cell(self.decoding, self.messages, source, seq, False, tip=True) or None
        return self._decoration(source, seq, col, role)

    def multiData(self, index: Index, roles: QModelRoleDataSpan) -> None:
        """The roles a delegate asks for all at once when it paints a cell: only those the timeline answers are
        looked up (one call from the view per cell instead of one per role)."""
        source = self._source
        if source is None or not index.isValid():
            return
        row, col = index.row(), index.column()
        rows = self._rows  # (rowCount and seq_at, without their calls: this runs for every painted cell)
        if rows is None:
            seq = row + self._base
            if not 0 <= row < self._count - self._base:
                return
        elif 0 <= row < len(rows):
            seq = rows[row]
        else:
            return
        looks = self.look(self._row_style(source, seq), col)
        for position in range(roles.size()):
            role = roles[position]
            wanted = role.role()
            if wanted == _DISPLAY:
                role.setData(self._cell(source, row, seq, col))
            elif wanted in looks:
                role.setData(looks[wanted])
            elif wanted in _ROLES:
                role.setData(self.data(index, wanted))

    def look(self, style: _RowStyle, col: int) -> dict[int, Any]:
        """The colours, font, background and alignment of a cell of a row of ``style``, by role."""
        looks = self._looks.get((style, col))
        if looks is None:
            looks = self._looks[(style, col)] = {wanted: self._styled(style, col, wanted) for wanted in _DECORATIONS}
        return looks

    def painted_row(self, row: int) -> list[Any]:
        """The row's look and seq, then its columns' texts as far as they were painted (None: not yet): kept until
        the rows change, so painting a row again (a selection, the window shown again) formats and decodes
        nothing."""
        held = self._painted.get(row)
        if held is None:
            if len(self._painted) >= PAINTED_ROWS:
                self._painted.clear()
            seq = self.seq_at(row)
            assert self._source is not None
            held = self._painted[row] = [self._row_style(self._source, seq), seq, *[None] * len(COLUMNS)]
        return held

    def painted_text(self, held: list[Any], row: int, col: int) -> str:
        """The text of a cell of a row from :meth:`painted_row`, made the first time it is painted."""
        text: str | None = held[2 + col]
        if text is None:
            assert self._source is not None
            text = held[2 + col] = self._cell(self._source, row, held[1], col)
        return text

    @Slot()
    def forget_painted(self) -> None:
        self._painted.clear()

    def _cell(self, source: Session, row: int, seq: int, col: int) -> str:
        if col == COL_GAP:
            return self._gap(source, row, seq)
        if col == COL_WALL:
            return format_wall(source, seq)
        if col in DECODED_COLUMNS:
            return decoded_cell(self.decoding, self.messages, source, seq, col == COL_PROTOCOL)
        if self.messages.on and col in (COL_OPCODE, COL_FIN, COL_SIZE, COL_PREVIEW):
            shown = message_display(self.messages, source, seq, col)
            if shown is not None:
                return shown
        return self._display(source, seq, col)

    def _gap(self, source: Session, row: int, seq: int) -> str:
        if row == 0 or seq in source.dropped:
            return ""
        return f"{(source.ts_ns(seq) - source.ts_ns(self.seq_at(row - 1))) / 1e6:,.3f}"

    @staticmethod
    def _size_tip(source: Session, seq: int) -> str | None:
        if seq in source.dropped or not is_compressed(source, seq):
            return None
        return (f"compressed on the wire: {source.size(seq):,} B "
                f"({source.payload_size(seq):,} B decompressed)")

    def _row_style(self, source: Session, seq: int) -> _RowStyle:
        held_source, held_seq, style = self._style_of
        if held_seq == seq and held_source is source:
            return style
        if seq in source.dropped:
            style = _RowStyle(dropped=True)
        else:
            meta = source.meta(seq)
            opcode = frame_header.opcode(meta)
            style = _RowStyle(False, frame_header.damaged(meta), frame_header.is_out(meta), opcode.is_control,
                              opcode is Opcode.CLOSE, source.starts_segment(seq))
        self._style_of = (source, seq, style)
        return style

    def _styled(self, style: _RowStyle, col: int, role: int) -> Any:
        """Colours, fonts and alignment of a cell of a row of ``style``."""
        if style.dropped:
            return self._brushes["dropped"] if role == _FOREGROUND else None
        if style.damaged:
            return self._damaged_role(col, role)
        if role == _FOREGROUND:
            if col == COL_DIR:
                return self._brushes["out" if style.out else "in"]
            return self._brushes["control"] if col == COL_OPCODE and style.control else None
        if role == _FONT:
            return self._bold if style.close else None
        if role == _BACKGROUND:
            return self._brushes["reconnect"] if style.segment_start else None
        if role == _ALIGNMENT and col in _RIGHT_ALIGNED:
            return _RIGHT
        return None

    def _decoration(self, source: Session, seq: int, col: int, role: int) -> Any:
        """Colours, fonts, tool tips and alignment of a cell."""
        style = self._row_style(source, seq)
        if role != Qt.ItemDataRole.ToolTipRole:
            return self._styled(style, col, role)
        if style.dropped:
            return None
        if style.damaged:
            return _DAMAGED_TIP
        if style.segment_start:
            return "First frame after a reconnect: the connection was down before it (see the time gap)"
        if style.close:
            return source.note(seq) or None
        return ORIGIN_TIPS.get(frame_header.origin_label(source.origin(seq)))

    def _damaged_role(self, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and col in (COL_OPCODE, COL_PREVIEW):
            return self._brushes["damaged"]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _DAMAGED_TIP
        if role == Qt.ItemDataRole.TextAlignmentRole and col in _RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @Slot(bool)
    def on_scheme_changed(self, _dark: bool = False) -> None:
        """The window turned light or dark: the rows' colours follow."""
        self._brushes = {key: QBrush(palette.qcolour(name)) for key, name in _BRUSHES.items()}
        self._looks.clear()
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(COLUMNS) - 1),
                                  [Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole])

    def _display(self, source: Session, seq: int, col: int) -> str:  # noqa: PLR0911
        if col == COL_SEQ:
            return str(seq)
        if seq in source.dropped:
            return DROPPED_TEXT if col == COL_PREVIEW else ""
        if col == COL_TIME:
            return format_time(source.relative_us(seq))
        meta = source.meta(seq)
        if col == COL_DIR:
            if self.show_hops:  # a recording proxy's session: the hop beside the direction
                hop = "upstream" if frame_header.upstream(source.origin(seq)) else "client"
                return f"{frame_header.direction(meta).arrow} {hop}"
            return frame_header.direction(meta).arrow
        if frame_header.damaged(meta):
            return self._damaged_display(source, seq, col)
        if col == COL_OPCODE:
            return frame_header.opcode(meta).label
        if col == COL_FIN:
            return _flag(frame_header.fin(meta))
        if col == COL_SIZE:
            return format_size(source, seq)
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


#: keys that move the current row: pressing one stops following
_MOVING_KEYS = frozenset({Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home})


class TimelineView(QTableView):
    """Fixed-height rows; follows new frames while following: selecting a row (or scrolling up) stops it,
    :meth:`follow` (the Follow button, End, the "N new" button) takes it up again.

    Signals:
        frame_selected(object): the Frame under the cursor, or None
        following_changed(bool): whether the view follows the newest row
    """

    frame_selected = Signal(object)
    following_changed = Signal(bool)

    def __init__(self, model: TimelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._model = model
        self.setObjectName("timeline")
        self._painter = RowPainter(self, REPEATING_COLUMNS)
        self.setTabKeyNavigation(False)  # Tab leaves the timeline; the arrows move within it
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        #: the columns the user showed or hid: they stay so whatever the decoder
        self._chosen: set[int] = set()
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vheader = self.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self._build_header()
        self._follow = True
        #: the user chose a row: new rows do not move the view until asked to follow again
        self._pinned = False
        self._unseen = 0
        self.new_frames = QPushButton(self.viewport())
        self.new_frames.setObjectName("newFramesButton")
        self.new_frames.setCursor(Qt.CursorShape.PointingHandCursor)
        palette.style(self.new_frames, lambda: (
            f"QPushButton {{ background: {palette.colour('badge_bg')}; color: {palette.colour('badge_fg')}; "
            "border-radius: 10px; padding: 3px 12px; font-weight: bold; }"))
        self.new_frames.clicked.connect(self.follow)
        self.new_frames.hide()
        model.rowsAboutToBeInserted.connect(self._on_rows_about_to_be_inserted)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.modelReset.connect(self._on_model_reset)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

    def _build_header(self) -> None:
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionsMovable(True)
        widths = {COL_SEQ: 60, COL_TIME: 100, COL_DIR: 60, COL_OPCODE: 100, COL_FIN: 40, COL_SIZE: 90,
                  COL_WALL: 120, COL_GAP: 80, COL_PROTOCOL: 80, COL_DECODED: 300}
        for col, width in widths.items():
            header.resizeSection(col, width)
        # the optional time columns sit beside the session time, hidden until asked for
        header.moveSection(header.visualIndex(COL_WALL), header.visualIndex(COL_TIME) + 1)
        header.moveSection(header.visualIndex(COL_GAP), header.visualIndex(COL_WALL) + 1)
        # the decoded columns sit before the preview, which stays last and takes the width left
        for col in DECODED_COLUMNS:
            header.moveSection(header.visualIndex(col), header.visualIndex(COL_PREVIEW))
        for col in OPTIONAL_COLUMNS:
            header.setSectionHidden(col, True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)

    def column_actions(self) -> list[QAction]:
        """A checkable action per column: shown or hidden (the last shown one cannot be hidden)."""
        header = self.horizontalHeader()
        actions = []
        shown = [col for col in range(len(COLUMNS)) if not header.isSectionHidden(col)]
        for visual in range(header.count()):
            col = header.logicalIndex(visual)
            action = QAction(COLUMNS[col], self)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(col))
            action.setEnabled(shown != [col])
            action.setData(col)
            action.toggled.connect(lambda on, c=col: self._choose_column(c, on))
            actions.append(action)
        return actions

    def show_column(self, col: int, shown: bool) -> None:
        self.horizontalHeader().setSectionHidden(col, not shown)

    def _choose_column(self, col: int, shown: bool) -> None:
        self._chosen.add(col)
        self.show_column(col, shown)

    def show_decoded(self, shown: bool) -> None:
        """The Protocol and Decoded columns as the tab's decoder says (a protocol reads it: shown), unless the
        user chose to show or hide one (the header's menu)."""
        for col in DECODED_COLUMNS:
            if col not in self._chosen:
                self.show_column(col, shown)

    def _header_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.setObjectName("timelineColumnsMenu")
        menu.setToolTipsVisible(True)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for action in self.column_actions():
            action.setParent(menu)
            menu.addAction(action)
        menu.popup(self.horizontalHeader().mapToGlobal(pos))

    @property
    def following(self) -> bool:
        return self._follow

    def _set_follow(self, on: bool) -> None:
        if on != self._follow:
            self._follow = on
            self.following_changed.emit(on)

    @Slot()
    def follow(self) -> None:
        """Jump to the newest row and keep following."""
        self._pinned = False
        self._set_follow(True)
        self._unseen = 0
        self.new_frames.hide()
        self.scrollToBottom()

    def pin(self) -> None:
        """Stop following: the user chose a row (a click, the keys, find or go to a time)."""
        self._pinned = True
        self._set_follow(False)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.indexAt(event.position().toPoint()).isValid():
            self.pin()
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _MOVING_KEYS:
            self.pin()
        if event.key() == Qt.Key.Key_End and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            last = self._model.rowCount() - 1
            if last >= 0:
                self.selectionModel().setCurrentIndex(
                    self._model.index(last, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.follow()
            return
        super().keyPressEvent(event)

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum()

    def _on_rows_about_to_be_inserted(self, *_: object) -> None:
        self._set_follow(not self._pinned and self._at_bottom())

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        if self._follow:
            self.scrollToBottom()
            return
        self._unseen += last - first + 1
        unit = "message" if self._model.shows_messages else "frame"
        self.new_frames.setText(f"↓ {self._unseen:,} new {unit}{'s' if self._unseen != 1 else ''}")
        self.new_frames.adjustSize()
        self._place_button()
        self.new_frames.show()
        self.new_frames.raise_()

    def _on_model_reset(self) -> None:
        self._pinned = False
        self._set_follow(True)
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

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._painter.paints():
            self._painter.paint(event, self._model)
        else:
            super().paintEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_button()

    def selected_seqs(self) -> list[int]:
        """The seqs of the selected rows, in order."""
        return sorted(self._model.seq_at(index.row()) for index in self.selectionModel().selectedRows())

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.frame_selected.emit(self._model.frame_at(current.row()) if current.isValid() else None)
