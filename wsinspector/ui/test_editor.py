"""Editing a test: its header (name, URL, default timeout, variables), its steps in a table, and a form for
the selected step.

Every field is checked as it is typed, with the core's own rules (``core.scenario`` and ``core.payloads``),
and a mistake is shown next to its field in one sentence. A step is kept as a *draft* (the text of its
fields): nothing typed is lost while it is invalid; the table marks the step, and building the test (to save
or run it) names the first invalid field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QModelIndex, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.payloads import PayloadError, parse_hex, parse_json
from wsinspector.core.profiles import ProfileError, validate_url
from wsinspector.core.scenario.jsonpath import JsonPathError, parse_json_path
from wsinspector.core.scenario.model import (
    DEFAULT_TIMEOUT_S,
    OPCODE_NAMES,
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Matcher,
    OpcodeMatcher,
    RegexMatcher,
    Scenario,
    SendStep,
    Step,
    TextMatcher,
    TextPayload,
    WaitStep,
    step_label,
)
from wsinspector.core.scenario.variables import expand
from wsinspector.core.scenario.yaml_io import ScenarioFileError, dump, load
from wsinspector.ui.qtext import set_plain_text
from wsinspector.ui.table_model import ColumnsModel, Index

SEND_KINDS = (("text", "Text"), ("json", "JSON"), ("binary", "Binary (hex)"))
MATCH_KINDS = (("text", "Exact text"), ("binary", "Exact bytes (hex)"), ("json", "JSON"),
               ("regex", "Regular expression"), ("opcode", "Any message of opcode"))
STEP_KINDS = (("send", "Send"), ("expect", "Expect"), ("wait", "Wait"))
WAIT_MODES = ((False, "A fixed time"), (True, "Until a message matches"))
_OPCODE_LABELS = {opcode: name for name, opcode in OPCODE_NAMES.items()}
_HEX_PER_LINE = 16
_SUMMARY_LIMIT = 120
_ERROR_COLOUR = "#b00020"
_WARNING_COLOUR = "#8a5a00"


def monospace() -> Any:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def format_seconds(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def hex_lines(data: bytes) -> str:
    return "\n".join(data[i: i + _HEX_PER_LINE].hex(" ") for i in range(0, len(data), _HEX_PER_LINE))


def _one_line(text: str, limit: int = _SUMMARY_LIMIT) -> str:
    text = text.replace("\r", "").replace("\n", " ⏎ ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class DraftError(ValueError):
    """A field of the form that cannot be used: ``field`` names it (``payload``, ``delay``, ``pattern``,
    ``ignore``, ``timeout``, ``capture``, ``seconds``, ``step``), the message says what is wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_seconds(text: str, field_name: str, *, positive: bool) -> float | None:
    """Seconds typed in a field; empty is None."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DraftError(field_name, f"“{text}” is not a number of seconds (for example 2 or 0.5)") from None
    if not math.isfinite(value):
        raise DraftError(field_name, f"“{text}” is out of range")
    if positive and value <= 0:
        raise DraftError(field_name, "must be a positive number of seconds")
    if value < 0:
        raise DraftError(field_name, "must not be negative")
    return value


@dataclass
class StepDraft:
    """The fields of one step as typed; ``step`` is what they make (None while ``error`` says why not)."""

    kind: str = "send"
    name: str = ""
    send_kind: str = "text"
    payload: str = ""
    delay: str = ""
    match_kind: str = "text"
    #: the matcher's text, hex, JSON or regular expression
    pattern: str = ""
    opcode: str = "text"
    #: JSON paths to ignore, one a line
    ignore: str = ""
    timeout: str = ""
    wait_until: bool = False
    seconds: str = "1"
    capture: list[tuple[str, str]] = field(default_factory=list)
    step: Step | None = None
    error: DraftError | None = None

    @classmethod
    def from_step(cls, step: Step) -> StepDraft:
        draft = cls(name=step.name, step=step)
        if isinstance(step, SendStep):
            draft.kind = "send"
            payload = step.payload
            if isinstance(payload, TextPayload):
                draft.send_kind, draft.payload = "text", payload.text
            elif isinstance(payload, JsonPayload):
                draft.send_kind, draft.payload = "json", json.dumps(payload.value, indent=2, ensure_ascii=False)
            else:
                draft.send_kind, draft.payload = "binary", hex_lines(payload.data)
            draft.delay = "" if step.delay_s is None else format_seconds(step.delay_s)
            return draft
        if isinstance(step, WaitStep) and step.until is None:
            draft.kind, draft.wait_until = "wait", False
            draft.seconds = format_seconds(step.seconds or 0.0)
            return draft
        draft.kind = "expect" if isinstance(step, ExpectStep) else "wait"
        draft.wait_until = isinstance(step, WaitStep)
        matcher = step.matcher if isinstance(step, ExpectStep) else step.until
        assert matcher is not None
        draft.set_matcher(matcher)
        draft.timeout = "" if step.timeout_s is None else format_seconds(step.timeout_s)
        draft.capture = list(step.capture)
        return draft

    @classmethod
    def new(cls, kind: str) -> StepDraft:
        draft = cls(kind=kind)
        if kind == "send":
            draft.payload = "hello"
        elif kind == "expect":
            draft.match_kind, draft.pattern = "text", "hello"
        draft.validate()
        return draft

    def set_matcher(self, matcher: Matcher) -> None:
        if isinstance(matcher, TextMatcher):
            self.match_kind, self.pattern = "text", matcher.text
        elif isinstance(matcher, BytesMatcher):
            self.match_kind, self.pattern = "binary", hex_lines(matcher.data)
        elif isinstance(matcher, JsonMatcher):
            self.match_kind = "json"
            self.pattern = json.dumps(matcher.value, indent=2, ensure_ascii=False)
            self.ignore = "\n".join(matcher.ignore)
        elif isinstance(matcher, RegexMatcher):
            self.match_kind, self.pattern = "regex", matcher.pattern
        else:
            self.match_kind, self.opcode = "opcode", _OPCODE_LABELS.get(matcher.opcode, "text")

    @property
    def valid(self) -> bool:
        return self.step is not None

    def validate(self) -> bool:
        try:
            self.step = self.build()
        except DraftError as exc:
            self.step, self.error = None, exc
            return False
        self.error = None
        return True

    # -- building -----------------------------------------------------------------------------------

    def build(self) -> Step:
        """The step these fields make, checked as the file format would check it; :class:`DraftError`."""
        step = self._build()
        try:
            again = load(dump(Scenario("", "ws://check", (step,)))).steps[0]
        except (ScenarioFileError, ValueError) as exc:
            raise DraftError("step", str(exc)) from None
        if again != step:
            raise DraftError("step", "this step would not read back the same from a test file")
        return step

    def _build(self) -> Step:
        if self.kind == "send":
            payload = self._payload()
            return SendStep(payload, parse_seconds(self.delay, "delay", positive=False), self.name)
        if self.kind == "wait" and not self.wait_until:
            seconds = parse_seconds(self.seconds, "seconds", positive=False)
            if seconds is None:
                raise DraftError("seconds", "how long to wait? (seconds, for example 0.5)")
            return WaitStep(seconds=seconds, name=self.name)
        matcher = self._matcher()
        timeout = parse_seconds(self.timeout, "timeout", positive=True)
        capture = self._captures()
        try:
            if self.kind == "expect":
                return ExpectStep(matcher, capture, timeout, self.name)
            return WaitStep(until=matcher, capture=capture, timeout_s=timeout, name=self.name)
        except (JsonPathError, ValueError) as exc:
            raise DraftError("capture", str(exc)) from None

    def _payload(self) -> TextPayload | JsonPayload | BinaryPayload:
        if self.send_kind == "text":
            return TextPayload(self.payload)
        try:
            if self.send_kind == "json":
                return JsonPayload(parse_json(self.payload))
            return BinaryPayload(parse_hex(self.payload))
        except PayloadError as exc:
            raise DraftError("payload", str(exc)) from None

    def _matcher(self) -> Matcher:
        kind = self.match_kind
        if kind == "text":
            return TextMatcher(self.pattern)
        if kind == "regex":
            try:
                return RegexMatcher(self.pattern)
            except re.error as exc:
                raise DraftError("pattern", f"invalid regular expression: {exc}") from None
        if kind == "opcode":
            return OpcodeMatcher(OPCODE_NAMES[self.opcode])
        try:
            if kind == "binary":
                return BytesMatcher(parse_hex(self.pattern))
            value = parse_json(self.pattern)
        except PayloadError as exc:
            raise DraftError("pattern", str(exc)) from None
        paths = []
        for number, line in enumerate(self.ignore.splitlines(), 1):
            path = line.strip()
            if not path:
                continue
            try:
                parse_json_path(path)
            except JsonPathError as exc:
                raise DraftError("ignore", f"line {number}: {exc}") from None
            paths.append(path)
        return JsonMatcher(value, tuple(paths))

    def _captures(self) -> tuple[tuple[str, str], ...]:
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for number, (name, path) in enumerate(self.capture, 1):
            name, path = name.strip(), path.strip()
            if not name and not path:
                continue
            if not name:
                raise DraftError("capture", f"row {number}: name the variable that takes {path}")
            if not path:
                raise DraftError("capture", f"row {number}: give the JSON path of {name}, for example $.id")
            if name in seen:
                raise DraftError("capture", f"{name} is captured twice")
            seen.add(name)
            try:
                parse_json_path(path)
            except JsonPathError as exc:
                raise DraftError("capture", f"row {number}: {exc}") from None
            pairs.append((name, path))
        return tuple(pairs)

    # -- for the table ------------------------------------------------------------------------------

    def kind_text(self) -> str:
        if self.kind == "send":
            return f"send {self.send_kind}"
        if self.kind == "expect":
            return f"expect {self.match_kind}"
        return f"wait until {self.match_kind}" if self.wait_until else "wait"

    def summary(self) -> str:
        if self.error is not None:
            return f"⚠ {self.error.message}"
        step = self.step
        if isinstance(step, SendStep):
            payload = step.payload
            if isinstance(payload, TextPayload):
                return _one_line(payload.text)
            if isinstance(payload, JsonPayload):
                return _one_line(_compact_json(payload.value))
            size = len(payload.data)
            return _one_line(f"{size} byte{'s' if size != 1 else ''}: {payload.data[:32].hex(' ')}")
        if isinstance(step, WaitStep) and step.until is None:
            return f"pause {format_seconds(step.seconds or 0.0)} s"
        assert isinstance(step, ExpectStep | WaitStep)
        matcher = step.matcher if isinstance(step, ExpectStep) else step.until
        text = describe_matcher(matcher)
        if step.capture:
            text += "  → " + ", ".join(f"{name} ← {path}" for name, path in step.capture)
        return _one_line(text)


def describe_matcher(matcher: Matcher | None) -> str:
    if isinstance(matcher, TextMatcher):
        return f"= {matcher.text}"
    if isinstance(matcher, BytesMatcher):
        size = len(matcher.data)
        return f"= {size} byte{'s' if size != 1 else ''}: {matcher.data[:32].hex(' ')}"
    if isinstance(matcher, JsonMatcher):
        ignored = f"  (ignoring {', '.join(matcher.ignore)})" if matcher.ignore else ""
        return f"= {_compact_json(matcher.value)}{ignored}"
    if isinstance(matcher, RegexMatcher):
        return f"~ /{matcher.pattern}/"
    if isinstance(matcher, OpcodeMatcher):
        return f"any {matcher.opcode.label} message"
    return ""


# -- models -------------------------------------------------------------------------------------------


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
                return QColor(_ERROR_COLOUR)
            if col == COL_TIMEOUT and draft.step is not None and not draft.timeout.strip():
                return QColor("#767676")  # the file's default
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


# -- widgets ------------------------------------------------------------------------------------------


def compact_rows(table: QTableView) -> None:
    """No row numbers, and rows of one fixed, text-sized height (the view need not measure them)."""
    header = table.verticalHeader()
    header.setVisible(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    header.setDefaultSectionSize(table.fontMetrics().height() + 8)


def error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(f"color: {_ERROR_COLOUR};")
    label.hide()
    return label


def show_error(label: QLabel, message: str, warning: bool = False) -> None:
    label.setStyleSheet(f"color: {_WARNING_COLOUR if warning else _ERROR_COLOUR};")
    label.setText(message)
    label.setVisible(bool(message))


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    widget.setStyleSheet(f"border: 1px solid {_ERROR_COLOUR};" if invalid else "")


class PairsEditor(QWidget):
    """A small table of pairs with + and − buttons, and a line for what is wrong with them.

    Signals:
        changed(): the pairs changed
    """

    changed = Signal()

    def __init__(self, columns: tuple[str, str], name: str, rows_shown: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.model = PairsModel(columns, self)
        self.model.changed.connect(self.changed)
        self.table = QTableView()
        self.table.setObjectName(f"{name}Table")
        self.table.setModel(self.model)
        compact_rows(self.table)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(0, 105)
        # the value column takes what is left; a long value shows in full in its tooltip and its editor
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.SelectedClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        row_height = self.table.verticalHeader().defaultSectionSize()
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() + row_height * rows_shown
                                  + 2 * self.table.frameWidth())
        self.add_button = QToolButton(text="+")
        self.add_button.setObjectName(f"{name}Add")
        self.add_button.setToolTip(f"Add a {columns[0].lower()}")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button = QToolButton(text="−")
        self.remove_button.setObjectName(f"{name}Remove")
        self.remove_button.setToolTip(f"Remove the selected {columns[0].lower()}")
        self.remove_button.clicked.connect(self.remove_current)
        self.error = error_label(f"{name}Error")
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.table, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row, 1)
        layout.addWidget(self.error)

    def pairs(self) -> list[tuple[str, str]]:
        return self.model.pairs()

    def set_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.model.set_pairs(pairs)

    @Slot()
    def _on_add_clicked(self) -> None:
        self.add_row()

    def add_row(self, name: str = "", value: str = "") -> None:
        row = self.model.add_row(name, value)
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        if not name:
            self.table.edit(index)

    @Slot()
    def remove_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.model.remove_row(index.row())

    def show_error(self, message: str) -> None:
        show_error(self.error, message)
        mark_invalid(self.table, bool(message))


class StepEditor(QWidget):
    """The form for one step. Every change goes into the draft at once and is checked.

    Signals:
        edited(): the draft changed (its ``step`` and ``error`` are up to date)
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:  # noqa: PLR0915
        super().__init__(parent)
        self.setObjectName("stepEditor")
        self._draft: StepDraft | None = None
        self._loading = False

        self.kind = QComboBox()
        self.kind.setObjectName("stepKind")
        for value, text in STEP_KINDS:
            self.kind.addItem(text, value)
        self.name = QLineEdit()
        self.name.setObjectName("stepName")
        self.name.setPlaceholderText("optional: how reports call this step")

        self.send_kind = QComboBox()
        self.send_kind.setObjectName("sendKind")
        for value, text in SEND_KINDS:
            self.send_kind.addItem(text, value)
        self.payload = QPlainTextEdit()
        self.payload.setObjectName("sendPayload")
        self.payload.setFont(monospace())
        self.payload.setTabChangesFocus(True)
        self.payload.setMinimumHeight(60)
        self.payload_error = error_label("payloadError")
        self.delay = QLineEdit()
        self.delay.setObjectName("sendDelay")
        self.delay.setPlaceholderText("none: send at once")
        self.delay_error = error_label("delayError")

        self.wait_mode = QComboBox()
        self.wait_mode.setObjectName("waitMode")
        for until, text in WAIT_MODES:
            self.wait_mode.addItem(text, until)
        self.seconds = QLineEdit()
        self.seconds.setObjectName("waitSeconds")
        self.seconds_error = error_label("secondsError")

        self.match_kind = QComboBox()
        self.match_kind.setObjectName("matchKind")
        for value, text in MATCH_KINDS:
            self.match_kind.addItem(text, value)
        self.pattern = QPlainTextEdit()
        self.pattern.setObjectName("matchPattern")
        self.pattern.setFont(monospace())
        self.pattern.setTabChangesFocus(True)
        self.pattern.setMinimumHeight(60)
        self.pattern_error = error_label("patternError")
        self.opcode = QComboBox()
        self.opcode.setObjectName("matchOpcode")
        for name in OPCODE_NAMES:
            self.opcode.addItem(name, name)
        self.ignore = QPlainTextEdit()
        self.ignore.setObjectName("ignorePaths")
        self.ignore.setFont(monospace())
        self.ignore.setTabChangesFocus(True)
        self.ignore.setPlaceholderText("$.ts\n$.items[*].id")
        self.ignore.setFixedHeight(self.ignore.fontMetrics().lineSpacing() * 3 + 12)
        self.ignore_error = error_label("ignoreError")
        self.timeout = QLineEdit()
        self.timeout.setObjectName("stepTimeout")
        self.timeout_error = error_label("timeoutError")
        self.capture = PairsEditor(("Variable", "JSON path"), "captures", rows_shown=2)
        self.step_error = error_label("stepError")

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form = form
        form.addRow("Step", self._pair(self.kind, self.name, "Name"))
        form.addRow("Send", self.send_kind)
        form.addRow("Payload", self.payload)
        form.addRow("", self.payload_error)
        form.addRow("Delay (s)", self.delay)
        form.addRow("", self.delay_error)
        form.addRow("Wait", self.wait_mode)
        form.addRow("Seconds", self.seconds)
        form.addRow("", self.seconds_error)
        form.addRow("Match", self._pair(self.match_kind, self.opcode, ""))
        form.addRow("Expected", self.pattern)
        form.addRow("", self.pattern_error)
        form.addRow("Ignore paths", self.ignore)
        form.addRow("", self.ignore_error)
        form.addRow("Timeout (s)", self.timeout)
        form.addRow("", self.timeout_error)
        form.addRow("Capture", self.capture)
        form.addRow("", self.step_error)

        for combo in (self.kind, self.send_kind, self.wait_mode, self.match_kind, self.opcode):
            combo.currentIndexChanged.connect(self._on_changed)
        for line in (self.name, self.delay, self.seconds, self.timeout):
            line.textChanged.connect(self._on_changed)
        for box in (self.payload, self.pattern, self.ignore):
            box.textChanged.connect(self._on_changed)
        self.capture.changed.connect(self._on_changed)
        self.set_draft(None)

    @staticmethod
    def _pair(first: QWidget, second: QWidget, label: str) -> QWidget:
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(first)
        if label:
            layout.addWidget(QLabel(label))
        layout.addWidget(second, 1)
        return box

    @property
    def draft(self) -> StepDraft | None:
        return self._draft

    def set_draft(self, draft: StepDraft | None) -> None:
        """Show a step's fields (None: no step selected)."""
        self._draft = draft
        self._loading = True
        try:
            shown = draft or StepDraft()
            self._select(self.kind, shown.kind)
            self.name.setText(shown.name)
            self._select(self.send_kind, shown.send_kind)
            set_plain_text(self.payload, shown.payload)
            self.delay.setText(shown.delay)
            self._select(self.wait_mode, shown.wait_until)
            self.seconds.setText(shown.seconds)
            self._select(self.match_kind, shown.match_kind)
            set_plain_text(self.pattern, shown.pattern)
            self._select(self.opcode, shown.opcode)
            self.ignore.setPlainText(shown.ignore)
            self.timeout.setText(shown.timeout)
            self.capture.set_pairs(shown.capture)
        finally:
            self._loading = False
        self.setEnabled(draft is not None)
        self._update_rows()
        self._show_errors()

    def set_default_timeout(self, seconds: float) -> None:
        self.timeout.setPlaceholderText(f"default: {format_seconds(seconds)} (the test's timeout)")

    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        with QSignalBlocker(combo):
            combo.setCurrentIndex(max(0, combo.findData(value)))

    @Slot()
    def _on_changed(self) -> None:
        draft = self._draft
        if self._loading or draft is None:
            return
        draft.kind = self.kind.currentData()
        draft.name = self.name.text()
        draft.send_kind = self.send_kind.currentData()
        draft.payload = self.payload.toPlainText()
        draft.delay = self.delay.text()
        draft.wait_until = bool(self.wait_mode.currentData())
        draft.seconds = self.seconds.text()
        draft.match_kind = self.match_kind.currentData()
        draft.pattern = self.pattern.toPlainText()
        draft.opcode = self.opcode.currentData()
        draft.ignore = self.ignore.toPlainText()
        draft.timeout = self.timeout.text()
        draft.capture = self.capture.pairs()
        draft.validate()
        self._update_rows()
        self._show_errors()
        self.edited.emit()

    def _update_rows(self) -> None:
        draft = self._draft or StepDraft()
        send = draft.kind == "send"
        wait = draft.kind == "wait"
        fixed = wait and not draft.wait_until
        matching = not send and not fixed
        form = self.form
        for widget in (self.send_kind, self.payload, self.delay):
            form.setRowVisible(widget, send)
        form.setRowVisible(self.wait_mode, wait)
        form.setRowVisible(self.seconds, fixed)
        form.setRowVisible(self.match_kind.parentWidget(), matching)
        opcode = draft.match_kind == "opcode"
        self.opcode.setVisible(opcode)
        form.setRowVisible(self.pattern, matching and not opcode)
        form.setRowVisible(self.ignore, matching and draft.match_kind == "json")
        form.setRowVisible(self.timeout, matching)
        form.setRowVisible(self.capture, matching)
        label = form.labelForField(self.pattern)
        if isinstance(label, QLabel):
            label.setText({"regex": "Pattern", "binary": "Bytes (hex)", "json": "JSON"}.get(draft.match_kind,
                                                                                          "Text"))
        payload_label = form.labelForField(self.payload)
        if isinstance(payload_label, QLabel):
            payload_label.setText({"json": "JSON", "binary": "Bytes (hex)"}.get(draft.send_kind, "Text"))
        self.payload.setPlaceholderText({"json": '{"op": "hello", "user": "{{user}}"}',
                                         "binary": "01 02 ff"}.get(draft.send_kind, "Message text; {{variables}}"))
        self.pattern.setPlaceholderText({"json": '{"op": "welcome"}', "binary": "01 02 ff",
                                         "regex": r"^pong \d+$"}.get(draft.match_kind, "The exact text expected"))

    def _show_errors(self) -> None:
        error = self._draft.error if self._draft is not None else None
        fields = {
            "payload": (self.payload_error, self.payload),
            "delay": (self.delay_error, self.delay),
            "seconds": (self.seconds_error, self.seconds),
            "pattern": (self.pattern_error, self.pattern),
            "ignore": (self.ignore_error, self.ignore),
            "timeout": (self.timeout_error, self.timeout),
            "step": (self.step_error, None),
        }
        for name, (label, widget) in fields.items():
            message = error.message if error is not None and error.field == name else ""
            show_error(label, message)
            self.form.setRowVisible(label, bool(message))
            if widget is not None:
                mark_invalid(widget, bool(message))
        self.capture.show_error(error.message if error is not None and error.field == "capture" else "")


# -- the whole test -----------------------------------------------------------------------------------


class ScenarioBuildError(ValueError):
    """The test as edited cannot be saved or run: ``where`` names the field (``url``, ``steps[2].timeout``),
    ``row`` the step (or None)."""

    def __init__(self, where: str, message: str, row: int | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message
        self.row = row


def _named_pairs(editor: PairsEditor, field: str, what: str) -> tuple[tuple[str, str], ...]:
    """The pairs typed, names stripped, empty rows left out; :class:`ScenarioBuildError` for a value without a
    name."""
    pairs = []
    for number, (name, value) in enumerate(editor.pairs(), 1):
        if not name.strip() and not value:
            continue
        if not name.strip():
            raise ScenarioBuildError(field, f"row {number}: the {what} has no name")
        pairs.append((name.strip(), value))
    return tuple(pairs)


class ScenarioEditor(QWidget):
    """The test's header and its steps: a table with add / remove / move, and the selected step's form.

    Signals:
        changed(): anything in the test changed (by the user)
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:  # noqa: PLR0915
        super().__init__(parent)
        self.setObjectName("testEditor")
        self._loading = False

        self.name = QLineEdit()
        self.name.setObjectName("testName")
        self.name.setPlaceholderText("shown in reports")
        self.url = QLineEdit()
        self.url.setObjectName("testUrl")
        self.url.setPlaceholderText("ws://host:port/path  ({{variables}} allowed)")
        self.url_error = error_label("urlError")
        self.timeout = QLineEdit()
        self.timeout.setObjectName("testTimeout")
        self.timeout.setMaximumWidth(70)
        self.timeout.setToolTip("How long an expect or a wait for a message waits when the step sets no timeout")
        self.timeout_error = error_label("testTimeoutError")
        self.subprotocols = QLineEdit()
        self.subprotocols.setObjectName("testSubprotocols")
        self.subprotocols.setPlaceholderText("none  (comma-separated, preferred first)")
        self.subprotocols.setToolTip("Offered in the handshake (Sec-WebSocket-Protocol); {{variables}} allowed")
        self.subprotocols_error = error_label("subprotocolsError")
        self.variables = PairsEditor(("Variable", "Value"), "variables", rows_shown=2)
        self.headers = PairsEditor(("Header", "Value"), "headers", rows_shown=2)
        self.headers.setToolTip("Extra HTTP headers of the opening handshake; {{variables}} allowed")

        header = QWidget()
        header_form = QFormLayout(header)
        header_form.setContentsMargins(0, 0, 0, 0)
        header_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        header_form.addRow("Name", self.name)
        header_form.addRow("URL", self.url)
        header_form.addRow("", self.url_error)
        timeout_row = QHBoxLayout()
        timeout_row.addWidget(self.timeout)
        timeout_row.addWidget(QLabel("seconds, for steps that set none"))
        timeout_row.addStretch(1)
        header_form.addRow("Timeout", timeout_row)
        header_form.addRow("", self.timeout_error)
        header_form.addRow("Subprotocols", self.subprotocols)
        header_form.addRow("", self.subprotocols_error)
        self.header_form = header_form
        self.header_tabs = QTabWidget()
        self.header_tabs.setObjectName("testHeaderTabs")
        self.header_tabs.setDocumentMode(True)
        self.header_tabs.addTab(self.variables, "")
        self.header_tabs.setTabToolTip(0, "Default values of {{name}} in the URL, headers, texts and JSON")
        self.header_tabs.addTab(self.headers, "")
        self.header_tabs.setTabToolTip(1, "Extra HTTP headers of the opening handshake")
        header_row = QHBoxLayout()
        header_row.setContentsMargins(0, 0, 0, 0)
        header_row.addWidget(header, 1)
        header_row.addWidget(self.header_tabs, 1)

        self.model = StepsModel(self)
        self.table = QTableView()
        self.table.setObjectName("stepsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        compact_rows(self.table)
        horizontal = self.table.horizontalHeader()
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        horizontal.setSectionResizeMode(COL_SUMMARY, QHeaderView.ResizeMode.Stretch)
        for col, width in ((COL_INDEX, 32), (COL_KIND, 110), (COL_NAME, 110), (COL_TIMEOUT, 62), (COL_DELAY, 62)):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)

        self.add_send = QPushButton("+ Send")
        self.add_send.setObjectName("addSend")
        self.add_send.setToolTip("Add a step that sends a message, after the selected step")
        self.add_expect = QPushButton("+ Expect")
        self.add_expect.setObjectName("addExpect")
        self.add_expect.setToolTip("Add a step that checks the next message, after the selected step")
        self.add_wait = QPushButton("+ Wait")
        self.add_wait.setObjectName("addWait")
        self.add_wait.setToolTip("Add a pause, or a wait until a message matches, after the selected step")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeStep")
        self.up_button = QPushButton("↑")
        self.up_button.setObjectName("moveStepUp")
        self.up_button.setToolTip("Move the step up")
        self.down_button = QPushButton("↓")
        self.down_button.setObjectName("moveStepDown")
        self.down_button.setToolTip("Move the step down")
        self.add_send.clicked.connect(lambda: self.add_step("send"))
        self.add_expect.clicked.connect(lambda: self.add_step("expect"))
        self.add_wait.clicked.connect(lambda: self.add_step("wait"))
        self.remove_button.clicked.connect(self.remove_step)
        self.up_button.clicked.connect(lambda: self.move_step(-1))
        self.down_button.clicked.connect(lambda: self.move_step(1))
        for button in (self.up_button, self.down_button):
            button.setFixedWidth(button.sizeHint().height() + 8)
        self.step_count = QLabel()
        self.step_count.setObjectName("stepCount")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_send, self.add_expect, self.add_wait, self.remove_button, self.up_button,
                       self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.step_count)

        self.step_editor = StepEditor()
        self.step_editor.edited.connect(self._on_step_edited)
        scroll = QScrollArea()
        scroll.setObjectName("stepEditorScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.step_editor)
        steps_box = QWidget()
        steps_layout = QVBoxLayout(steps_box)
        steps_layout.setContentsMargins(0, 0, 0, 0)
        steps_layout.addLayout(buttons)
        steps_layout.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(steps_box)
        split.addWidget(scroll)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([250, 330])
        self.split = split

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header_row)
        layout.addWidget(split, 1)

        for line in (self.name, self.url, self.timeout, self.subprotocols):
            line.textChanged.connect(self._on_header_changed)
        self.variables.changed.connect(self._on_header_changed)
        self.headers.changed.connect(self._on_header_changed)
        self.set_test(Scenario("", ""))

    # -- loading ------------------------------------------------------------------------------------

    def set_test(self, test: Scenario) -> None:
        """Show a test (the user has changed nothing yet)."""
        self._loading = True
        try:
            self.name.setText(test.name)
            self.url.setText(test.url)
            for line in (self.name, self.url):
                line.setCursorPosition(0)  # a long URL shows from its start: scheme and host
            self.timeout.setText(format_seconds(test.timeout_s))
            self.variables.set_pairs(test.variables)
            self.subprotocols.setText(", ".join(test.subprotocols))
            self.headers.set_pairs(test.headers)
            self.model.set_drafts([StepDraft.from_step(step) for step in test.steps])
        finally:
            self._loading = False
        self._check_header()
        if self.model.rowCount():
            self.select_step(0)
        else:
            self.step_editor.set_draft(None)
        self._update_buttons()

    def select_step(self, row: int) -> None:
        index = self.model.index(row, COL_SUMMARY)
        if index.isValid():
            self.table.setCurrentIndex(index)
            self.table.scrollTo(index)

    @property
    def current_row(self) -> int:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else -1

    # -- editing steps ------------------------------------------------------------------------------

    def add_step(self, kind: str) -> int:
        """A new step of ``kind`` after the selected one (or at the end); it becomes the selected step."""
        current = self.current_row
        row = self.model.insert(current + 1 if current >= 0 else self.model.rowCount(), StepDraft.new(kind))
        self.select_step(row)
        self._changed()
        return row

    @Slot()
    def remove_step(self) -> None:
        row = self.current_row
        if row < 0:
            return
        self.model.remove(row)
        if self.model.rowCount():
            self.select_step(min(row, self.model.rowCount() - 1))
        else:
            self.step_editor.set_draft(None)
        self._changed()

    def move_step(self, delta: int) -> None:
        row = self.current_row
        target = self.model.move(row, delta)
        if target != row:
            self.select_step(target)
            self._changed()

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.step_editor.set_draft(self.model.draft(current.row()) if current.isValid() else None)
        self._update_buttons()

    @Slot()
    def _on_step_edited(self) -> None:
        self.model.refresh(self.current_row)
        self._changed()

    def _update_buttons(self) -> None:
        row, count = self.current_row, self.model.rowCount()
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < count - 1)
        invalid = sum(1 for draft in self.model.drafts if not draft.valid)
        text = f"{count} step{'s' if count != 1 else ''}"
        if invalid:
            text += f", {invalid} invalid"
        self.step_count.setText(text)

    # -- the header ---------------------------------------------------------------------------------

    @Slot()
    def _on_header_changed(self) -> None:
        if self._loading:
            return
        self._check_header()
        self._changed()

    def _changed(self) -> None:
        self._update_buttons()
        if not self._loading:
            self.changed.emit()

    def _header(self) -> Scenario:
        """The header as typed (no steps): :class:`ScenarioBuildError` for the first field that is wrong."""
        try:
            timeout = parse_seconds(self.timeout.text(), "timeout", positive=True)
        except DraftError as exc:
            raise ScenarioBuildError("timeout", exc.message) from None
        if timeout is None:
            raise ScenarioBuildError("timeout", "how long should a step wait for a message? (seconds, for example 5)")
        variables = _named_pairs(self.variables, "variables", "variable")
        headers = _named_pairs(self.headers, "headers", "header")
        subprotocols = tuple(part.strip() for part in self.subprotocols.text().split(",") if part.strip())
        if len(set(subprotocols)) != len(subprotocols):
            raise ScenarioBuildError("subprotocols", "a subprotocol is offered twice")
        test = Scenario(self.name.text(), self.url.text().strip(), (), variables, subprotocols, headers, timeout)
        try:
            load(dump(test), check_url=False)  # a URL it cannot connect to is a warning here
        except ScenarioFileError as exc:
            raise ScenarioBuildError(exc.field.split(".")[0].split("[")[0] or "url", exc.message) from None
        except ValueError as exc:  # a name twice
            where, _, message = str(exc).partition(": ")
            raise ScenarioBuildError(where if message else "", message or str(exc)) from None
        return test

    def _check_header(self) -> bool:
        errors = {"url": "", "timeout": "", "variables": "", "headers": "", "subprotocols": ""}
        warning = False
        ok = True
        try:
            test = self._header()
        except ScenarioBuildError as exc:
            errors[exc.where if exc.where in errors else "url"] = exc.message
            ok = False
        else:
            self.model.set_default_timeout(test.timeout_s)
            self.step_editor.set_default_timeout(test.timeout_s)
            # a URL the format takes but a connection would not (variables given at run time aside)
            try:
                validate_url(expand(test.url, dict(test.variables)))
            except ProfileError as exc:
                if not getattr(exc, "names", None):
                    errors["url"], warning = str(exc), True
        show_error(self.url_error, errors["url"], warning)
        mark_invalid(self.url, bool(errors["url"]) and not warning)
        self.header_form.setRowVisible(self.url_error, bool(errors["url"]))
        show_error(self.timeout_error, errors["timeout"])
        mark_invalid(self.timeout, bool(errors["timeout"]))
        self.header_form.setRowVisible(self.timeout_error, bool(errors["timeout"]))
        self.variables.show_error(errors["variables"])
        self.headers.show_error(errors["headers"])
        show_error(self.subprotocols_error, errors["subprotocols"])
        mark_invalid(self.subprotocols, bool(errors["subprotocols"]))
        self.header_form.setRowVisible(self.subprotocols_error, bool(errors["subprotocols"]))
        self._update_header_tabs(errors)
        return ok

    def _update_header_tabs(self, errors: dict[str, str]) -> None:
        for index, (title, editor, key) in enumerate((("Variables", self.variables, "variables"),
                                                      ("Headers", self.headers, "headers"))):
            count = sum(1 for name, value in editor.pairs() if name.strip() or value)
            self.header_tabs.setTabText(index, f"{title} ({count})" + (" ⚠" if errors[key] else ""))

    # -- the result ---------------------------------------------------------------------------------

    def build_test(self) -> Scenario:
        """The test as edited, checked as the file format checks it; :class:`ScenarioBuildError` names the
        first field that is wrong (and the step is selected)."""
        self._check_header()
        test = self._header()
        steps: list[Step] = []
        for row, draft in enumerate(self.model.drafts):
            if draft.step is None:
                error = draft.error or DraftError("step", "this step is not complete")
                self.select_step(row)
                where = f"steps[{row}]" + (f" ({draft.name})" if draft.name else "")
                raise ScenarioBuildError(where, f"{error.field}: {error.message}" if error.field != "step"
                                         else error.message, row)
            steps.append(draft.step)
        test = replace(test, steps=tuple(steps))
        try:
            checked = load(dump(test), check_url=False)
        except (ScenarioFileError, ValueError) as exc:
            raise ScenarioBuildError("", str(exc)) from None
        if checked != test:
            raise ScenarioBuildError("", "the test would not read back the same from its file")
        return test
