"""Editing a test: its header (name, URL, default timeout, variables), its steps in a table, and a form for
the selected step.

Every field is checked as it is typed, with the core's own rules (``core.scenario`` and ``core.payloads``),
and a mistake is shown next to its field in one sentence. A step is kept as a *draft* (the text of its
fields): nothing typed is lost while it is invalid; the table marks the step, and building the test (to save
or run it) names the first invalid field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
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

from wsinspector.core.profiles import ProfileError, validate_url
from wsinspector.core.scenario.model import (
    OPCODE_NAMES,
    Scenario,
    Step,
)
from wsinspector.core.scenario.variables import expand
from wsinspector.core.scenario.yaml_io import ScenarioFileError, dump, load
from wsinspector.ui import palette
from wsinspector.ui.qtext import PlainEditor, set_plain_text
from wsinspector.ui.step_draft import (
    MATCH_KINDS,
    SEND_KINDS,
    STEP_KINDS,
    WAIT_MODES,
    DraftError,
    StepDraft,
    format_seconds,
    parse_seconds,
)
from wsinspector.ui.step_models import (
    COL_DELAY,
    COL_INDEX,
    COL_KIND,
    COL_NAME,
    COL_SUMMARY,
    COL_TIMEOUT,
    PairsModel,
    StepsModel,
)


def monospace() -> Any:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


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
    palette.style(label, "color: {error};")
    label.hide()
    return label


def show_error(label: QLabel, message: str, warning: bool = False) -> None:
    palette.style(label, "color: {warning};" if warning else "color: {error};")
    label.setText(message)
    label.setVisible(bool(message))


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    palette.style(widget, "border: 1px solid {error};" if invalid else "")


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
        self.payload = PlainEditor()
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
        self.pattern = PlainEditor()
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
        # a protocol's step (emit, expect an event…) is edited in its file: the fields here are a message's
        self.setEnabled(draft is not None and draft.kind != "protocol")
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
        self.table.setTabKeyNavigation(False)  # a list of rows: Tab goes on to the next field
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
        self._protocol: tuple[str, tuple[tuple[str, str], ...]] = ("", ())
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
            self._protocol = (test.protocol, test.protocol_options)  # kept as the file has it: its steps need it
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
        protocol, options = self._protocol
        test = Scenario(self.name.text(), self.url.text().strip(), (), variables, subprotocols, headers, timeout,
                        protocol=protocol, protocol_options=options)
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
