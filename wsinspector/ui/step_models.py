"""The item models of the test editor: a table of text pairs (variables, captures) and the list of steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal

from wsinspector.core.scenario.model import (
    DEFAULT_TIMEOUT_S,
    SendStep,
    WaitStep,
    step_label,
)
from wsinspector.ui import palette
from wsinspector.ui.step_draft import (
    StepDraft,
    format_seconds,
)
from wsinspector.ui.table_model import ColumnsModel, Index

#: the colour of a field or summary that cannot be used


class PairsModel(ColumnsModel):
    """An editable two-column table of text pairs (variable and value, variable and JSON path).

    Signals:
        changed(): a cell was edited, a row added or removed, or the pairs replaced
    """

    changed = Signal()

    def __init__(self, columns: tuple[str, str], parent: Any = None) -> None:
        super().__init__(parent)
        self.COLUMNS = columns
        self._rows: list[list[str]] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < 2:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole text, where the column is too narrow for it
            return self._rows[index.row()][index.column()] or None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return False
        text = "" if value is None else str(value)
        if self._rows[index.row()][index.column()] == text:
            return True
        self._rows[index.row()][index.column()] = text
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole])
        self.changed.emit()
        return True

    def pairs(self) -> list[tuple[str, str]]:
        """Every row as typed, empty rows included (the caller decides what they mean)."""
        return [(name, value) for name, value in self._rows]

    def set_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.beginResetModel()
        self._rows = [[name, value] for name, value in pairs]
        self.endResetModel()
        self.changed.emit()

    def add_row(self, name: str = "", value: str = "") -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append([name, value])
        self.endInsertRows()
        self.changed.emit()
        return row

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
            self.changed.emit()


STEP_COLUMNS = ("#", "Kind", "Name", "Payload / matcher", "Timeout", "Delay")
COL_INDEX, COL_KIND, COL_NAME, COL_SUMMARY, COL_TIMEOUT, COL_DELAY = range(len(STEP_COLUMNS))


class StepsModel(ColumnsModel):
    """The steps of the test being edited, one row each (drafts: an invalid step keeps its text)."""

    COLUMNS = STEP_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._drafts: list[StepDraft] = []
        self._default_timeout = DEFAULT_TIMEOUT_S

    @property
    def drafts(self) -> list[StepDraft]:
        return list(self._drafts)

    def draft(self, row: int) -> StepDraft | None:
        return self._drafts[row] if 0 <= row < len(self._drafts) else None

    def set_drafts(self, drafts: Sequence[StepDraft]) -> None:
        self.beginResetModel()
        self._drafts = list(drafts)
        self.endResetModel()

    def set_default_timeout(self, seconds: float) -> None:
        if seconds != self._default_timeout:
            self._default_timeout = seconds
            if self._drafts:
                self.dataChanged.emit(self.index(0, COL_TIMEOUT), self.index(len(self._drafts) - 1, COL_TIMEOUT))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._drafts)

    def insert(self, row: int, draft: StepDraft) -> int:
        row = max(0, min(row, len(self._drafts)))
        self.beginInsertRows(QModelIndex(), row, row)
        self._drafts.insert(row, draft)
        self.endInsertRows()
        self._renumber(row)
        return row

    def remove(self, row: int) -> None:
        if 0 <= row < len(self._drafts):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._drafts[row]
            self.endRemoveRows()
            self._renumber(row)

    def move(self, row: int, delta: int) -> int:
        """Move a step up (-1) or down (+1); its new row."""
        target = row + delta
        if not (0 <= row < len(self._drafts) and 0 <= target < len(self._drafts)) or delta not in (-1, 1):
            return row
        # beginMoveRows takes the row *before which* the moved row lands, counted before the move
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), target + 1 if delta > 0 else target)
        self._drafts.insert(target, self._drafts.pop(row))
        self.endMoveRows()
        self._renumber(min(row, target))
        return target

    def refresh(self, row: int) -> None:
        if 0 <= row < len(self._drafts):
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(STEP_COLUMNS) - 1))

    def _renumber(self, first: int) -> None:
        if first < len(self._drafts):
            self.dataChanged.emit(self.index(first, COL_INDEX), self.index(len(self._drafts) - 1, COL_INDEX))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: C901, PLR0911, PLR0912
        draft = self.draft(index.row()) if index.isValid() else None
        if draft is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_INDEX:
                return str(index.row())
            if col == COL_KIND:
                return draft.kind_text()
            if col == COL_NAME:
                return draft.name
            if col == COL_SUMMARY:
                return draft.summary()
            if col == COL_TIMEOUT:
                return self._timeout_text(draft)
            if col == COL_DELAY:
                step = draft.step
                if isinstance(step, SendStep) and step.delay_s is not None:
                    return f"{format_seconds(step.delay_s)} s"
                return ""
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if draft.error is not None and col == COL_SUMMARY:
                return palette.qcolour("error")
            if col == COL_TIMEOUT and draft.step is not None and not draft.timeout.strip():
                return palette.qcolour("muted")  # the file's default
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if draft.error is not None:
                return f"steps[{index.row()}]: {draft.error.message}"
            if draft.step is not None:
                return step_label(index.row(), draft.step)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_INDEX, COL_TIMEOUT, COL_DELAY):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _timeout_text(self, draft: StepDraft) -> str:
        step = draft.step
        if isinstance(step, SendStep) or step is None:
            return ""
        if isinstance(step, WaitStep) and step.until is None:
            return ""
        if step.timeout_s is not None:
            return f"{format_seconds(step.timeout_s)} s"
        return f"({format_seconds(self._default_timeout)} s)"
