"""Periodic sends and auto-replies in the window: the dialog that starts a schedule, the auto-reply rules
dialog, and the indicator in the tab's header (how many schedules run, what the auto-replies did, a menu to
stop each schedule and to switch auto-replies off)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.profiles import MESSAGE_KINDS
from wsinspector.core.sending import MATCH_KINDS, AutoReplyRule, Schedule, SendingError, rule_from_tuple
from wsinspector.ui import palette
from wsinspector.ui.qtext import PlainEditor, set_plain_text

_MATCH_LABELS = {"equals": "Text equals", "contains": "Text contains", "regex": "Regular expression",
                 "json": "JSON path value"}


class ScheduleDialog(QDialog):
    """Send the composer's message every N ms, for a count or until stopped, with optional jitter."""

    def __init__(self, preview: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scheduleDialog")
        self.setWindowTitle("Send periodically")
        self.interval = QSpinBox()
        self.interval.setObjectName("scheduleInterval")
        self.interval.setRange(1, 24 * 3600 * 1000)
        self.interval.setValue(1000)
        self.interval.setSuffix(" ms")
        self.count = QSpinBox()
        self.count.setObjectName("scheduleCount")
        self.count.setRange(0, 10_000_000)
        self.count.setSpecialValueText("until stopped")
        self.count.setValue(10)
        self.jitter = QDoubleSpinBox()
        self.jitter.setObjectName("scheduleJitter")
        self.jitter.setRange(0, 100)
        self.jitter.setSuffix(" %")
        self.jitter.setToolTip("Each wait varies by up to this much either way (0: exactly the interval)")
        shown = QLabel(preview[:200] or "(empty message)")
        shown.setTextFormat(Qt.TextFormat.PlainText)
        shown.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Message", shown)
        form.addRow("Every", self.interval)
        form.addRow("Messages", self.count)
        form.addRow("Jitter ±", self.jitter)
        form.addRow(QLabel("Dynamic values ({{$counter}}, {{$uuid}}, …) are new at each send; the schedule "
                           "stops when the connection closes."))
        form.addRow(buttons)
        self.interval.setFocus()

    def schedule(self, kind: str, text: str) -> Schedule:
        return Schedule(kind=kind, text=text, interval_ms=self.interval.value(), count=self.count.value(),
                        jitter_pct=self.jitter.value())


class AutoReplyDialog(QDialog):
    """The connection's auto-reply rules: when an incoming text message matches, the reply is sent; at most the
    rate limit's replies a second."""

    def __init__(self, rules: tuple[tuple[str, str, str, str, str, str, bool], ...], limit: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("autoReplyDialog")
        self.setWindowTitle("Auto-reply rules")
        self.resize(760, 440)
        self._build_fields(limit)
        for values in rules:
            self._append(values)
        self._lay_out()
        if self.list.count():
            self.list.setCurrentRow(0)
        self._show(self.list.currentRow())

    def _build_fields(self, limit: int) -> None:
        self.list = QListWidget()
        self.list.setObjectName("autoReplyList")
        self.name_edit = QLineEdit()
        self.enabled = QCheckBox("On")
        self.match = QComboBox()
        for kind in MATCH_KINDS:
            self.match.addItem(_MATCH_LABELS[kind], kind)
        self.path = QLineEdit()
        self.path.setObjectName("autoReplyPath")
        self.path.setPlaceholderText("$.type")
        self.pattern = QLineEdit()
        self.pattern.setObjectName("autoReplyPattern")
        self.reply_kind = QComboBox()
        self.reply_kind.addItems(list(MESSAGE_KINDS))
        self.reply = PlainEditor()
        self.reply.setObjectName("autoReplyReply")
        self.reply.setTabChangesFocus(True)
        self.reply.setPlaceholderText('{"type": "pong", "id": "{{$uuid}}"}')
        self.limit = QSpinBox()
        self.limit.setObjectName("autoReplyLimit")
        self.limit.setRange(0, 100_000)
        self.limit.setSpecialValueText("no limit")
        self.limit.setSuffix(" replies/s")
        self.limit.setValue(limit)
        self.error = QLabel()
        self.error.setObjectName("autoReplyError")
        palette.style(self.error, "color: {error};")
        self.error.setWordWrap(True)
        self.error.setMinimumHeight(self.fontMetrics().height() * 2)  # the dialog keeps its size when it shows
        self.new_button, self.delete_button = QPushButton("New rule"), QPushButton("Delete")
        self.new_button.clicked.connect(self.add)
        self.delete_button.clicked.connect(self.delete)
        self._editors = (self.name_edit, self.enabled, self.match, self.path, self.pattern, self.reply_kind,
                         self.reply, self.delete_button)
        self.list.currentRowChanged.connect(self._show)
        self.name_edit.textEdited.connect(self._store)
        self.enabled.toggled.connect(self._store)
        self.match.currentIndexChanged.connect(self._store)
        self.path.textEdited.connect(self._store)
        self.pattern.textEdited.connect(self._store)
        self.reply_kind.currentIndexChanged.connect(self._store)
        self.reply.textChanged.connect(self._store)

    def _lay_out(self) -> None:
        editor = QWidget()
        form = QFormLayout(editor)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name_edit)
        form.addRow("", self.enabled)
        form.addRow("When", self.match)
        form.addRow("JSON path", self.path)
        form.addRow("Is / has", self.pattern)
        form.addRow("Reply as", self.reply_kind)
        form.addRow("Reply", self.reply)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.delete_button)
        left.addLayout(row)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addWidget(editor, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        limit_row = QHBoxLayout()
        limit_row.addWidget(QLabel("At most"))
        limit_row.addWidget(self.limit)
        limit_row.addWidget(QLabel("(the others are counted, not sent)"), 1)
        layout.addLayout(limit_row)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _append(self, values: tuple[str, str, str, str, str, str, bool]) -> QListWidgetItem:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, tuple(values))
        self._label(item)
        self.list.addItem(item)
        return item

    @staticmethod
    def _label(item: QListWidgetItem) -> None:
        rule = rule_from_tuple(item.data(Qt.ItemDataRole.UserRole))
        item.setText(f"{'●' if rule.enabled else '○'} {rule.name or '(unnamed)'}")

    @Slot()
    def add(self) -> None:
        item = self._append((f"Rule {self.list.count() + 1}", "equals", "", "", "text", "", True))
        self.list.setCurrentItem(item)
        self.name_edit.setFocus()

    @Slot()
    def delete(self) -> None:
        if self.list.currentRow() >= 0:
            self.list.takeItem(self.list.currentRow())

    def _show(self, row: int) -> None:
        item = self.list.item(row) if row >= 0 else None
        for widget in self._editors:
            widget.setEnabled(item is not None)
        values = item.data(Qt.ItemDataRole.UserRole) if item else ("", "equals", "", "", "text", "", True)
        rule = rule_from_tuple(values)
        for widget in self._editors:
            widget.blockSignals(True)
        self.name_edit.setText(rule.name)
        self.enabled.setChecked(rule.enabled)
        self.match.setCurrentIndex(max(0, self.match.findData(rule.match)))
        self.path.setText(rule.path)
        self.pattern.setText(rule.pattern)
        self.reply_kind.setCurrentText(rule.reply_kind)
        set_plain_text(self.reply, rule.reply)
        for widget in self._editors:
            widget.blockSignals(False)
        self.path.setEnabled(item is not None and rule.match == "json")

    def _store(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        match = self.match.currentData()
        item.setData(Qt.ItemDataRole.UserRole, (self.name_edit.text().strip(), match, self.pattern.text(),
                                                self.path.text().strip(), self.reply_kind.currentText(),
                                                self.reply.toPlainText(), self.enabled.isChecked()))
        self.path.setEnabled(match == "json")
        self._label(item)

    def rules(self) -> tuple[tuple[str, str, str, str, str, str, bool], ...]:
        return tuple(self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.list.count()))

    @Slot()
    def _accept(self) -> None:
        try:
            for values in self.rules():
                rule_from_tuple(values).check()
        except SendingError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class AutomationIndicator(QToolButton):
    """In the tab's header: "2 schedules · 3 auto-replies", with a menu to stop each schedule and to switch
    auto-replies off. Hidden while nothing runs.

    Signals:
        stop_requested(int): stop this schedule (0: every one)
        auto_reply_toggled(bool)
    """

    stop_requested = Signal(int)
    auto_reply_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("automationIndicator")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        palette.style(self, "QToolButton {{ color: white; background: {automation_bg}; border-radius: 4px; "
                            "padding: 2px 8px; }}")
        self.setMenu(QMenu(self))
        self.hide()

    def show_state(self, schedules: list[Schedule], rules: tuple[AutoReplyRule, ...], on: bool, sent: int,
                   refused: int) -> None:
        parts = []
        if schedules:
            parts.append(f"{len(schedules)} schedule{'s' if len(schedules) != 1 else ''}")
        active = [rule for rule in rules if rule.enabled]
        if active:
            state = f"{sent:,} auto-repl{'ies' if sent != 1 else 'y'}" if on else "auto-reply off"
            parts.append(state + (f", {refused:,} over the limit" if refused else ""))
        self.setText(" · ".join(parts))
        self.setToolTip("Periodic sends and auto-replies of this connection: click to stop one")
        menu = self.menu()
        menu.clear()
        for schedule in schedules:
            menu.addAction(f"Stop {schedule.describe()}", lambda s=schedule.id: self.stop_requested.emit(s))
        if len(schedules) > 1:
            menu.addAction("Stop every schedule", lambda: self.stop_requested.emit(0))
        if active:
            toggle = menu.addAction("Auto-replies on")
            toggle.setCheckable(True)
            toggle.setChecked(on)
            toggle.toggled.connect(self.auto_reply_toggled)
        self.setVisible(bool(parts))
