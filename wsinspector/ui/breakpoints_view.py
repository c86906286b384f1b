"""The proxy's breakpoints as a small table: each rule's direction, kind of match and pattern, read into
:class:`~wsinspector.core.proxy.breakpoints.BreakRule` by the same parser the command line uses."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.proxy.breakpoints import BREAK_KINDS, BreakRule, parse_rule

#: a rule's direction as the table names it, and as the rule is written
DIRECTIONS = (("client → upstream", "out"), ("upstream → client", "in"), ("both ways", "both"))
_PATTERN_HINTS = {"every": "(every message)", "json": "$.type=subscribe", "regex": "^subscribe",
                  "equals": "the whole text", "contains": "a part of the text"}


class BreakpointsEditor(QWidget):
    """Rows of (direction, match, pattern); :meth:`rules` reads them (BreakpointError names a bad one).

    Signals: ``apply_requested()`` the user asked for the rules to take effect (Set, or Enter in a pattern)."""

    apply_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("proxyBreakpoints")
        self.table.setHorizontalHeaderLabels(["Direction", "Match", "Pattern"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        # the combo boxes' widths: each shows its longest choice
        for col, choices in ((0, [label for label, _ in DIRECTIONS]), (1, list(BREAK_KINDS))):
            sample = QComboBox()
            sample.addItems(choices)
            header.resizeSection(col, sample.sizeHint().width() + 4)
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 14)
        add = QPushButton("Add")
        add.setObjectName("proxyAddBreakpoint")
        add.clicked.connect(lambda _checked=False: self.add_rule())
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        self.apply_button = QPushButton("Set breakpoints")
        self.apply_button.setObjectName("proxySetRules")
        self.apply_button.clicked.connect(self.apply_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def add_rule(self, direction: str = "out", kind: str = "contains", pattern: str = "") -> int:
        """A row for a rule (``direction`` out / in / both, ``kind`` one of BREAK_KINDS); its row number."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        side = QComboBox()
        for label, value in DIRECTIONS:
            side.addItem(label, value)
        side.setCurrentIndex(max(side.findData(direction), 0))
        match = QComboBox()
        for value in BREAK_KINDS:
            match.addItem(value, value)
        match.setCurrentIndex(max(match.findData(kind), 0))
        text = QLineEdit(pattern)
        text.returnPressed.connect(self.apply_requested)
        match.currentIndexChanged.connect(lambda _i, m=match, t=text: self._hint(m, t))
        self._hint(match, text)
        self.table.setCellWidget(row, 0, side)
        self.table.setCellWidget(row, 1, match)
        self.table.setCellWidget(row, 2, text)
        return row

    @staticmethod
    def _hint(match: QComboBox, text: QLineEdit) -> None:
        kind = match.currentData()
        text.setEnabled(kind != "every")
        text.setPlaceholderText(_PATTERN_HINTS.get(kind, ""))

    @Slot()
    def _remove(self) -> None:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)

    def set_text(self, text: str) -> None:
        """Rows from rules written as on the command line (``out:regex:^sub in:every``)."""
        self.table.setRowCount(0)
        for written in text.split():
            side, _, rest = written.partition(":")
            kind, _, pattern = rest.partition(":")
            self.add_rule(side, kind, pattern)

    def written(self) -> list[str]:
        """Each row as the command line writes it."""
        rules = []
        for row in range(self.table.rowCount()):
            side = self.table.cellWidget(row, 0).currentData()  # type: ignore[attr-defined]
            kind = self.table.cellWidget(row, 1).currentData()  # type: ignore[attr-defined]
            pattern = self.table.cellWidget(row, 2).text()  # type: ignore[attr-defined]
            rules.append(f"{side}:{kind}" if kind == "every" else f"{side}:{kind}:{pattern}")
        return rules

    def rules(self) -> list[BreakRule]:
        """The rows as rules (BreakpointError: the first that is wrong, and why)."""
        return [parse_rule(text) for text in self.written()]
