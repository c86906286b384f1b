"""The Tests page: open, edit and save a test file, replay it against a server and read the verdicts.

The left half edits the test (:class:`~wsinspector.ui.test_editor.ScenarioEditor`); the right half replays it
with :class:`~wsinspector.app.replayer.ReplayController` (asynchronous: the window never waits) and lists a
verdict per step. Selecting a step that failed shows what was expected and what arrived side by side, and
the diff. Each run is recorded as a session linked to the test, which the page can open.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.replayer import ReplayController
from wsinspector.core.connection_defaults import ConnectionDefaults
from wsinspector.core.environments import merge_variables
from wsinspector.core.profiles import ENGINE_WIRE, ENGINES
from wsinspector.core.scenario.model import Scenario, step_label
from wsinspector.core.scenario.variables import UndefinedVariablesError, check_variables
from wsinspector.core.scenario.verdict import RunResult, StepResult, Verdict, format_duration
from wsinspector.core.scenario.yaml_io import ScenarioFileError, dump, read_test
from wsinspector.core.store import Store
from wsinspector.ui import palette
from wsinspector.ui.qtext import set_plain_text
from wsinspector.ui.table_model import ColumnsModel, Index
from wsinspector.ui.test_editor import PairsEditor, ScenarioBuildError, ScenarioEditor, compact_rows, monospace

SUFFIX = ".wstest.yaml"
FILE_FILTER = "wsinspector tests (*.wstest.yaml *.yaml *.yml);;All files (*)"
#: (label, speed for ReplayController: 0 = no delays)
SPEEDS = (("As recorded (1×)", 1.0), ("Half speed (0.5×)", 0.5), ("Twice as fast (2×)", 2.0),
          ("As fast as possible", 0.0))

_MARKS = {Verdict.PASSED: "✓", Verdict.FAILED: "✗", Verdict.ERROR: "✗", Verdict.SKIPPED: "–"}
#: the palette's colour of each verdict (ui/palette.py)
_MARK_COLOURS = {Verdict.PASSED: "ok", Verdict.FAILED: "error", Verdict.ERROR: "error", Verdict.SKIPPED: "muted"}
_RUNNING = "▶"
#: turns of the event loop a run may take to end when the window closes
_SHUTDOWN_TURNS = 20


def suggested_file_name(name: str) -> str:
    stem = re.sub(r"[^\w.-]+", "-", name.strip()).strip("-.") or "test"
    return stem + SUFFIX


# -- verdicts -----------------------------------------------------------------------------------------

VERDICT_COLUMNS = ("", "Step", "Duration", "Message")
VCOL_MARK, VCOL_NAME, VCOL_DURATION, VCOL_MESSAGE = range(len(VERDICT_COLUMNS))


class VerdictModel(ColumnsModel):
    """One row per step of the run (pending, running, or its verdict); a first row for a connection that
    failed before any step could run, a last one for a connection that did not end well after the steps."""

    COLUMNS = VERDICT_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._results: list[StepResult | None] = []
        self._running = -1
        self._connection_error = ""
        self._closing_error = ""

    def start(self, test: Scenario) -> None:
        self.beginResetModel()
        self._names = [step_label(i, step) for i, step in enumerate(test.steps)]
        self._results = [None] * len(test.steps)
        self._running = -1
        self._connection_error = ""
        self._closing_error = ""
        self.endResetModel()

    def clear(self) -> None:
        self.start(Scenario("", ""))

    @property
    def offset(self) -> int:
        return 1 if self._connection_error else 0

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._names) + self.offset + (1 if self._closing_error else 0)

    def set_running(self, index: int) -> None:
        previous, self._running = self._running, index
        for row in (previous, index):
            if 0 <= row < len(self._names):
                self._refresh(row + self.offset)

    def set_result(self, result: StepResult) -> None:
        if 0 <= result.index < len(self._results):
            self._results[result.index] = result
            if self._running == result.index:
                self._running = -1
            self._refresh(result.index + self.offset)

    def set_connection_error(self, message: str) -> None:
        """The run could not start (or the connection failed): say why in a row of its own, first."""
        if self._connection_error or not message:
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._connection_error = message
        self.endInsertRows()

    def set_closing_error(self, message: str) -> None:
        """After the steps, the connection did not end well (a protocol error, no answer to our close frame):
        say so in a row of its own, last."""
        if self._closing_error or not message:
            return
        row = len(self._names) + self.offset
        self.beginInsertRows(QModelIndex(), row, row)
        self._closing_error = message
        self.endInsertRows()

    def result(self, row: int) -> StepResult | None:
        """The verdict on a row (for the connection row: an error result named "connection"; for the closing
        row, one named "closing")."""
        if self._connection_error and row == 0:
            return StepResult(-1, "connection", "connection", Verdict.ERROR, 0.0, self._connection_error)
        if self._closing_error and row == len(self._names) + self.offset:
            return StepResult(-1, "closing", "closing", Verdict.ERROR, 0.0, self._closing_error)
        index = row - self.offset
        return self._results[index] if 0 <= index < len(self._results) else None

    def row_of_step(self, index: int) -> int:
        return index + self.offset

    def _refresh(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(VERDICT_COLUMNS) - 1))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: C901, PLR0911, PLR0912
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        row, col = index.row(), index.column()
        result = self.result(row)
        step = row - self.offset
        if role == Qt.ItemDataRole.DisplayRole:
            if col == VCOL_MARK:
                if result is not None:
                    return _MARKS[result.status]
                return _RUNNING if step == self._running else ""
            if col == VCOL_NAME:
                return result.name if result is not None else self._names[step]
            if col == VCOL_DURATION:
                if result is None or result.status is Verdict.SKIPPED or result.index < 0:
                    return ""
                return format_duration(result.duration_s)
            if col == VCOL_MESSAGE:
                if result is None:
                    return "running…" if step == self._running else ""
                if result.index < 0:
                    return result.message
                if result.status is Verdict.SKIPPED:
                    return "skipped"
                if not result.message and result.status is Verdict.PASSED:
                    return "matched" if result.kind == "expect" else "done"
                return result.message.split("\n", 1)[0]
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col in (VCOL_MARK, VCOL_MESSAGE) and result is not None:
            if col == VCOL_MARK or result.status is not Verdict.PASSED:
                return palette.qcolour(_MARK_COLOURS[result.status])
            return None
        if role == Qt.ItemDataRole.ToolTipRole and result is not None:
            return f"{result.name}: {result.status.value}" + (f"\n{result.message}" if result.message else "")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col == VCOL_MARK:
                return int(Qt.AlignmentFlag.AlignCenter)
            if col == VCOL_DURATION:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


# -- the page -----------------------------------------------------------------------------------------


class ScenariosView(QWidget):
    """Open, edit, save and replay a test file.

    Signals:
        banner_requested(str, str): a message for the window's banner, and its level (error, warning, info)
        session_recorded(int): a run was recorded as this session (the Sessions page should list it)
        open_session_requested(int): show this recorded session in the timeline
        run_finished(object): a run is over (its RunResult)
    """

    banner_requested = Signal(str, str)
    session_recorded = Signal(int)
    open_session_requested = Signal(int)
    run_finished = Signal(object)

    def __init__(self, store: Store | None = None, default_url: str = "", parent: QWidget | None = None) -> None:  # noqa: PLR0915
        super().__init__(parent)
        self.setObjectName("testsView")
        self._store = store
        self._default_url = default_url or "ws://127.0.0.1:8765/"
        self.path: Path | None = None
        #: credentials of a test made from a session, put among the overrides for it; they go when
        #: another test is opened (the path: where that test was saved, once it was)
        self._made_secrets: list[tuple[str, str]] = []
        self._made_path: Path | None = None
        self.dirty = False
        self.origin = ""
        self.runner: ReplayController | None = None
        self.recorded_session: int | None = None
        #: the globals and the active environment's variables, for a run (the window's environments)
        self.environment_layers: Callable[[], tuple[dict[str, str], dict[str, str]]] = lambda: ({}, {})
        #: the app-wide TLS and proxy defaults a run applies (none until the window sets it)
        self.connection_defaults: Callable[[], ConnectionDefaults | None] = lambda: None

        # -- file bar
        self.title = QLabel()
        self.title.setObjectName("testTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setMinimumWidth(100)
        self.new_action = QAction("&New test", self, triggered=self.new_test)
        self.open_action = QAction("&Open test…", self, triggered=self._on_open_chosen)
        self.save_action = QAction("&Save test", self, triggered=self._on_save_chosen)
        self.save_as_action = QAction("Save test &as…", self, triggered=self._on_save_as_chosen)
        self.run_action = QAction("&Run test", self, triggered=self._on_run_chosen)
        self.cancel_action = QAction("&Cancel run", self, triggered=self.cancel)
        self.new_button = QPushButton("New")
        self.new_button.setObjectName("newTest")
        self.new_button.clicked.connect(self.new_action.trigger)
        self.open_button = QPushButton("Open…")
        self.open_button.setObjectName("openTest")
        self.open_button.clicked.connect(self.open_action.trigger)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("saveTest")
        self.save_button.clicked.connect(self.save_action.trigger)
        self.save_as_button = QPushButton("Save as…")
        self.save_as_button.setObjectName("saveTestAs")
        self.save_as_button.clicked.connect(self.save_as_action.trigger)
        file_bar = QHBoxLayout()
        file_bar.addWidget(self.title, 1)
        for button in (self.new_button, self.open_button, self.save_button, self.save_as_button):
            file_bar.addWidget(button)

        # -- the editor
        self.editor = ScenarioEditor()
        self.editor.changed.connect(self._on_edited)
        self.editor.url.textChanged.connect(self._on_url_edited)
        editor_box = QGroupBox("Test")
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(6, 6, 6, 6)
        editor_layout.addWidget(self.editor)

        # -- replay options
        self.url_override = QLineEdit()
        self.url_override.setObjectName("replayUrl")
        self.url_override.setClearButtonEnabled(True)
        self.speed = QComboBox()
        self.speed.setObjectName("replaySpeed")
        for text, value in SPEEDS:
            self.speed.addItem(text, value)
        self.speed.setToolTip("Scales the recorded delays before sends; timeouts and fixed waits are not scaled")
        self.engine = QComboBox()
        self.engine.setObjectName("replayEngine")
        for key, label in ENGINES.items():
            self.engine.addItem(label.split(" (")[0], key)
            self.engine.setItemData(self.engine.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
        self.engine.setCurrentIndex(self.engine.findData(ENGINE_WIRE))
        self.engine.setToolTip("The connection engine of the replay (wsinspector run --engine)")
        self.overrides = PairsEditor(("Variable", "Value"), "overrides", rows_shown=2)
        self.overrides.setToolTip("Values that replace the test's variables for this run")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runTest")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run_action.trigger)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelRun")
        self.cancel_button.clicked.connect(self.cancel_action.trigger)
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setObjectName("runStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_session_button = QPushButton("Open recorded session")
        self.open_session_button.setObjectName("openRecordedSession")
        self.open_session_button.setToolTip("Show the frames of this run in the timeline (read-only)")
        self.open_session_button.clicked.connect(self._on_open_session)
        self.open_session_button.setEnabled(False)

        options = QFormLayout()
        options.setContentsMargins(0, 0, 0, 0)
        options.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        options.addRow("URL", self.url_override)
        speed_row = QHBoxLayout()
        speed_row.setContentsMargins(0, 0, 0, 0)
        speed_row.addWidget(self.speed, 1)
        speed_row.addWidget(QLabel("Engine"))
        speed_row.addWidget(self.engine)
        options.addRow("Speed", speed_row)
        options.addRow("Variables", self.overrides)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.open_session_button)

        self.verdicts = VerdictModel(self)
        self.verdict_table = QTableView()
        self.verdict_table.setObjectName("verdictTable")
        self.verdict_table.setTabKeyNavigation(False)  # a list of rows: Tab goes on to the next field
        self.verdict_table.setModel(self.verdicts)
        self.verdict_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verdict_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verdict_table.setWordWrap(False)
        compact_rows(self.verdict_table)
        header = self.verdict_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in ((VCOL_MARK, 28), (VCOL_NAME, 150), (VCOL_DURATION, 70)):
            self.verdict_table.setColumnWidth(col, width)
        self.verdict_table.selectionModel().currentRowChanged.connect(self._on_verdict_selected)

        self.expected = self._pane("expectedPane")
        self.received = self._pane("receivedPane")
        self.diff = self._pane("diffPane")
        self.detail_title = QLabel("Select a step to see what was expected and what arrived.")
        self.detail_title.setObjectName("verdictDetail")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        side_by_side = QSplitter(Qt.Orientation.Horizontal)
        side_by_side.setChildrenCollapsible(False)
        side_by_side.addWidget(self._titled("Expected", self.expected))
        side_by_side.addWidget(self._titled("Received", self.received))
        compare = QSplitter(Qt.Orientation.Vertical)
        compare.setChildrenCollapsible(False)
        compare.addWidget(side_by_side)
        compare.addWidget(self._titled("Diff", self.diff))
        compare.setSizes([150, 130])
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail_title)
        detail_layout.addWidget(compare, 1)
        results = QSplitter(Qt.Orientation.Vertical)
        results.setChildrenCollapsible(False)
        results.addWidget(self.verdict_table)
        results.addWidget(detail)
        results.setSizes([200, 260])

        replay_box = QGroupBox("Replay")
        replay_layout = QVBoxLayout(replay_box)
        replay_layout.setContentsMargins(6, 6, 6, 6)
        replay_layout.addLayout(options)
        replay_layout.addLayout(run_row)
        replay_layout.addWidget(self.status)
        replay_layout.addWidget(results, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(editor_box)
        split.addWidget(replay_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        self.split = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(file_bar)
        layout.addWidget(split, 1)

        self._set_test(Scenario("New test", self._default_url), None, dirty=False)

    @staticmethod
    def _pane(name: str) -> QPlainTextEdit:
        pane = QPlainTextEdit()
        pane.setObjectName(name)
        pane.setReadOnly(True)
        pane.setFont(monospace())
        pane.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        return pane

    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel(f"<b>{title}</b>")
        layout.addWidget(label)
        layout.addWidget(widget, 1)
        return box

    # -- the test and its file ----------------------------------------------------------------------

    @Slot()
    def _on_open_chosen(self) -> None:
        self.open_file()

    @Slot()
    def _on_save_chosen(self) -> None:
        self.save()

    @Slot()
    def _on_save_as_chosen(self) -> None:
        self.save_as()

    @Slot()
    def _on_run_chosen(self) -> None:
        self.run()

    def _set_test(self, test: Scenario, path: Path | None, *, dirty: bool, origin: str = "") -> None:
        if self.runner is not None and self.runner.running:
            # the run goes on to its end, detached: its verdicts belong to the test it started with
            runner, self.runner = self.runner, None
            runner.finished.connect(runner.deleteLater)
            runner.cancel("another test was opened")
        if self._made_secrets and (path is None or path != self._made_path):
            made = set(self._made_secrets)
            self.overrides.set_pairs([pair for pair in self.overrides.pairs() if pair not in made])
            self._made_secrets, self._made_path = [], None
        self.editor.set_test(test)
        self.path = path
        self.dirty = dirty
        self.origin = origin
        self._clear_run()
        self._update_title()

    def set_new_test(self, test: Scenario, origin: str = "", secrets: Iterable[tuple[str, str]] = ()) -> None:
        """Show a test that has no file yet (made from a session: ``origin`` says which). ``secrets`` are
        the credentials kept out of it, ``(variable, value)``: they become this page's overrides, so the
        test runs here as recorded, and are never written to the file."""
        self._set_test(test, None, dirty=True, origin=origin)
        secrets = list(secrets)
        if not secrets:
            return
        names = {name for name, _ in secrets}
        kept = [(name, value) for name, value in self.overrides.pairs() if name.strip() not in names]
        self.overrides.set_pairs([*kept, *secrets])
        self._made_secrets = secrets
        listed = ", ".join(f"{{{{{name}}}}}" for name, _ in secrets)
        self._show_status(
            f"Credentials are kept out of the test file: {listed}. Runs of this test here use the recorded values "
            "(under Variables) until another test is opened; elsewhere give them as overrides, or on the command "
            "line with --var NAME, which reads the environment variable NAME.", "")

    def test(self) -> Scenario:
        """The test as edited; :class:`ScenarioBuildError` if a field is wrong."""
        return self.editor.build_test()

    def _update_title(self) -> None:
        name = self.editor.name.text().strip() or "Untitled test"
        where = str(self.path) if self.path is not None else ("not saved yet" + (f" · made from {self.origin}"
                                                                                  if self.origin else ""))
        self.title.setText(f"{name} — {where}{' · modified' if self.dirty and self.path is not None else ''}")
        self.save_action.setEnabled(True)

    @Slot()
    def _on_edited(self) -> None:
        self.dirty = True
        self._update_title()

    @Slot(str)
    def _on_url_edited(self, url: str) -> None:
        self.url_override.setPlaceholderText(f"the test's: {url}" if url.strip() else "the test's URL")

    def confirm_discard(self) -> bool:
        """Before the test is replaced: True if there is nothing to lose, or the user says so (or saved)."""
        if not self.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved test", f"“{self.editor.name.text() or 'Untitled test'}” has changes that are not saved. "
            "Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    @Slot()
    def new_test(self) -> None:
        if self.confirm_discard():
            self._set_test(Scenario("New test", self._default_url), None, dirty=False)

    def ask_open_path(self) -> Path | None:
        """The file to open, from a dialog (tests replace this)."""
        start = str(self.path.parent if self.path is not None else Path.home())
        name, _ = QFileDialog.getOpenFileName(self, "Open test", start, FILE_FILTER)
        return Path(name) if name else None

    def ask_save_path(self, suggested: Path) -> Path | None:
        """Where to save, from a dialog (tests replace this)."""
        name, _ = QFileDialog.getSaveFileName(self, "Save test", str(suggested), FILE_FILTER)
        return Path(name) if name else None

    def open_file(self, path: Path | None = None) -> bool:
        """Open a test file; a file that cannot be read is named in the banner, with its line, column and
        field, and the test shown before stays."""
        if path is None:
            if not self.confirm_discard():
                return False
            path = self.ask_open_path()
            if path is None:
                return False
        try:
            test = read_test(path, check_url=False)  # a bad URL is shown at its field, to be put right
        except ScenarioFileError as exc:
            self.banner_requested.emit(f"Cannot open the test {path.name}: {exc}", "error")
            return False
        except OSError as exc:
            self.banner_requested.emit(f"Cannot open the test {path.name}: {exc.strerror or exc}", "error")
            return False
        self._set_test(test, path, dirty=False)
        self.banner_requested.emit("", "")
        return True

    def save(self, path: Path | None = None) -> bool:
        """Save to ``path``, else to the test's file, else ask where (Save as)."""
        target = path or self.path
        if target is None:
            return self.save_as()
        return self._write(target)

    def save_as(self, path: Path | None = None) -> bool:
        if path is None:
            folder = self.path.parent if self.path is not None else Path.home()
            path = self.ask_save_path(folder / suggested_file_name(self.editor.name.text()))
            if path is None:
                return False
            if not path.name.endswith((".yaml", ".yml")):
                path = path.with_name(path.name + SUFFIX)
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            test = self.test()
        except ScenarioBuildError as exc:
            self.banner_requested.emit(f"The test cannot be saved yet: {exc}", "error")
            return False
        part = path.with_name(path.name + ".part")
        try:
            with part.open("w", encoding="utf-8", newline="\n") as fp:
                fp.write(dump(test))
                fp.flush()
                os.fsync(fp.fileno())
            os.replace(part, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                part.unlink()
            self.banner_requested.emit(f"Cannot save the test to {path}: {exc.strerror or exc}", "error")
            return False
        self.path = path
        if self._made_secrets:
            self._made_path = path  # reopening it keeps them
        self.dirty = False
        self.origin = ""
        self._update_title()
        self.banner_requested.emit(f"Saved the test to {path}", "info")
        return True

    # -- replay -------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.runner is not None and self.runner.running

    def run(self) -> ReplayController | None:
        """Replay the test as edited. Mistakes in it, and variables nothing defines, are reported here, before
        anything connects (None is returned); otherwise the run starts and reports through signals."""
        if self.running:
            return None
        self._clear_run()
        try:
            test = self.test()
        except ScenarioBuildError as exc:
            self._fail_before_run(f"Fix the test first: {exc}")
            return None
        overrides: list[tuple[str, str]] = []
        for number, (name, value) in enumerate(self.overrides.pairs(), 1):
            if not name.strip() and not value:
                continue
            if not name.strip():
                self.overrides.show_error(f"row {number}: the variable has no name")
                self._fail_before_run("A variable override has no name")
                return None
            overrides.append((name.strip(), value))
        url = self.url_override.text().strip() or None
        globals_, environment = self.environment_layers()  # globals < the test's < the environment < overrides
        test = replace(test, variables=tuple(merge_variables(globals_=globals_.items(),
                                                             connection=test.variables).items()))
        overrides = list(merge_variables(environment=environment.items(), overrides=overrides).items())
        try:
            check_variables(test if url is None else replace(test, url=url), overrides)
        except UndefinedVariablesError as exc:
            them = "them" if len(exc.names) > 1 else "it"
            self._fail_before_run(f"{exc}. Define {them} in the test's variables, the active environment or as an "
                                  "override for this run.")
            return None
        self.verdicts.start(test)
        self.progress.setRange(0, max(1, len(test.steps)))
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m steps")
        replay_of = str(self.path) if self.path is not None else (test.name or "untitled test")
        try:
            runner = ReplayController(test, variables=overrides, url=url, speed=float(self.speed.currentData()),
                                      engine=str(self.engine.currentData()), store=self._store,
                                      replay_of=replay_of,
                                      base_dir=self.path.parent if self.path is not None else None,
                                      defaults=self.connection_defaults(), parent=self)
        except ValueError as exc:
            self._fail_before_run(str(exc))
            return None
        runner.step_started.connect(self._on_step_started)
        runner.step_finished.connect(self._on_step_finished)
        runner.progress.connect(self._on_progress)
        runner.recording_failed.connect(lambda message: self.banner_requested.emit(message, "warning"))
        runner.finished.connect(self._on_finished)
        self.runner = runner
        self._show_status(f"Running {len(test.steps)} steps against {runner.profile.url}…", "")
        runner.start()
        self._update_run_buttons()
        return runner

    @Slot()
    def cancel(self) -> None:
        if self.runner is not None and self.runner.running:
            self.runner.cancel("cancelled by you")

    def shutdown(self) -> None:
        """The window closes: end a run now, while its recording can still be finished (the store closes
        next). The run ends in a few turns of the event loop: cancel, then, once it is closing, drop it."""
        runner = self.runner
        if runner is None or runner.done:
            return
        runner.blockSignals(True)  # the page is going away: nothing more to show
        for _ in range(_SHUTDOWN_TURNS):
            if runner.done:
                break
            runner.cancel("the window was closed")
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)

    def _fail_before_run(self, message: str) -> None:
        self._show_status(message, "error")

    def _clear_run(self) -> None:
        if self.runner is not None and not self.runner.running:
            self.runner.deleteLater()
            self.runner = None
        self.recorded_session = None
        self.verdicts.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("not run yet")
        self.overrides.show_error("")
        self._show_status("", "")
        self._show_detail(None)
        self._update_run_buttons()

    def _show_status(self, text: str, level: str) -> None:
        colour = {"error": "error", "ok": "ok"}.get(level, "")
        palette.style(self.status, f"color: {{{colour}}}; font-weight: bold;" if colour else "")
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _update_run_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(not running)
        self.run_action.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.cancel_action.setEnabled(running)
        self.open_session_button.setEnabled(not running and self.recorded_session is not None)

    @Slot(int)
    def _on_step_started(self, index: int) -> None:
        if self.sender() is not self.runner:
            return
        self.verdicts.set_running(index)

    @Slot(object)
    def _on_step_finished(self, result: StepResult) -> None:
        if self.sender() is not self.runner:
            return
        self.verdicts.set_result(result)
        if result.status in (Verdict.FAILED, Verdict.ERROR):
            # a run stops at its first failure: show it at once, side by side
            self.verdict_table.selectRow(self.verdicts.row_of_step(result.index))

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self.sender() is not self.runner:
            return
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    @Slot(object)
    def _on_finished(self, result: RunResult) -> None:
        runner = self.sender()
        if not isinstance(runner, ReplayController) or runner is not self.runner:
            return
        self.recorded_session = runner.session_id
        failed = next((step for step in result.steps if step.status in (Verdict.FAILED, Verdict.ERROR)), None)
        if result.error and failed is None:
            self.verdicts.set_connection_error(result.error)
            self.verdict_table.selectRow(0)
        if result.closing:
            self.verdicts.set_closing_error(result.closing)
            if failed is None and not result.error:
                self.verdict_table.selectRow(self.verdicts.rowCount() - 1)
        totals = result.totals
        counts = (f"{totals['passed']} passed, {totals['failed']} failed, {totals['error']} errors, "
                  f"{totals['skipped']} skipped of {totals['total']} steps in {format_duration(result.duration_s)}")
        if result.ok:
            self._show_status(f"PASSED: {counts}", "ok")
        elif result.error or result.closing:
            self._show_status(f"ERROR: {result.error or result.closing}. {counts}", "error")
        else:
            self._show_status(f"FAILED: {counts}", "error")
        if runner.session_id is not None:
            self.open_session_button.setToolTip(f"Session {runner.session_id}: the frames of this run, read-only")
            self.session_recorded.emit(runner.session_id)
        self._update_run_buttons()
        self.run_finished.emit(result)

    @Slot()
    def _on_open_session(self) -> None:
        if self.recorded_session is not None:
            self.open_session_requested.emit(self.recorded_session)

    # -- one verdict, side by side ------------------------------------------------------------------

    @Slot(QModelIndex, QModelIndex)
    def _on_verdict_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_detail(self.verdicts.result(current.row()) if current.isValid() else None)

    def _show_detail(self, result: StepResult | None) -> None:
        if result is None:
            self.detail_title.setText("Select a step to see what was expected and what arrived.")
            for pane in (self.expected, self.received, self.diff):
                pane.clear()
            return
        mark = _MARKS[result.status]
        self.detail_title.setText(f"{mark} {result.name}: {result.status.value}"
                                  + (f" — {result.message}" if result.message else ""))
        set_plain_text(self.expected, result.expected)
        set_plain_text(self.received, result.received)
        diff = result.diff
        if not diff and result.status is not Verdict.PASSED and result.message:
            diff = result.message
        self.diff.setPlainText(diff)

