"""The composer's protocol bar: when the connection speaks a protocol (``app/protocol.py``), its verbs (Socket.IO
emit, STOMP send, GraphQL subscribe, MQTT publish…) with each verb's fields made from the verb's description
(a line edit, a combo box, a check box), checked as they are typed (a JSON field says in one line what is
wrong), and Send. "Raw frame" shows the plain message editor instead.

Signals:
    invoke_requested(str, dict): do this verb with these fields (already checked)
    raw_toggled(bool): the user chose the raw frame editor (True) or the verbs (False)
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.protocols.base import Verb, VerbField
from wsinspector.ui import palette
from wsinspector.ui.inline_message import ElidedLabel
from wsinspector.ui.qtext import ExactLineEdit

#: fields side by side in one row of a verb's form
_PER_ROW = 2


def json_problem(item: VerbField, text: str) -> str:
    """One line saying why ``text`` is not the JSON ``item`` wants ("" when it is, or is empty)."""
    if not text.strip():
        return ""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{item.name} is not JSON: {exc.msg} at character {exc.pos + 1}"
    return ""


class VerbForm(QWidget):
    """One verb's fields."""

    def __init__(self, verb: Verb, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verb = verb
        self.inputs: dict[str, QLineEdit | QComboBox | QCheckBox] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        for index, item in enumerate(verb.fields):
            row, column = divmod(index, _PER_ROW)
            widget = self._input(item)
            widget.setObjectName(f"verbField_{item.name}")
            self.inputs[item.name] = widget
            if isinstance(widget, QCheckBox):
                grid.addWidget(widget, row, column * 2, 1, 2)
                continue
            label = QLabel(item.name + ("*" if item.required else ""))
            label.setBuddy(widget)
            if item.help:
                label.setToolTip(item.help)
            grid.addWidget(label, row, column * 2)
            grid.addWidget(widget, row, column * 2 + 1)
            grid.setColumnStretch(column * 2 + 1, 1)
        if not verb.fields:
            grid.addWidget(QLabel(f"{verb.title}: no fields"), 0, 0)
        grid.setRowStretch(grid.rowCount(), 1)

    @staticmethod
    def _input(item: VerbField) -> QLineEdit | QComboBox | QCheckBox:
        tip = item.help or item.name
        if item.kind == "bool":
            box = QCheckBox(item.help or item.name)
            box.setChecked(bool(item.default))
            return box
        if item.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(item.choices))
            if item.default is not None:
                combo.setCurrentText(str(item.default))
            combo.setToolTip(tip)
            return combo
        edit = ExactLineEdit()
        edit.setToolTip(tip)
        default = item.default
        if item.kind == "json" and default is not None:
            edit.setText(json.dumps(default))
        elif default not in (None, ""):
            edit.setText(str(default))
        hint = {"json": "JSON", "int": "a whole number"}.get(item.kind, "")
        edit.setPlaceholderText(", ".join(part for part in (item.help, hint if not item.help else "") if part)
                                or ("required" if item.required else "optional"))
        return edit

    def problem(self) -> str:
        """The first field that cannot be sent as it is, in one line ("" when all can)."""
        for item in self.verb.fields:
            widget = self.inputs[item.name]
            if not isinstance(widget, QLineEdit):
                continue
            text = widget.text()
            if item.required and not text.strip():
                return f"{self.verb.name} needs {item.name}"
            if item.kind == "json" and (found := json_problem(item, text)):
                return found
            if item.kind == "int" and text.strip() and not text.strip().lstrip("+-").isdigit():
                return f"{item.name} must be a whole number"
        return ""

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for item in self.verb.fields:
            widget = self.inputs[item.name]
            if isinstance(widget, QCheckBox):
                values[item.name] = widget.isChecked()
            elif isinstance(widget, QComboBox):
                values[item.name] = widget.currentText()
            elif widget.text() != "" or item.kind == "text":
                values[item.name] = widget.text()
        return values


class ProtocolBar(QWidget):
    invoke_requested = Signal(str, object)
    raw_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("protocolBar")
        self.protocol = ""
        self.forms: dict[str, VerbForm] = {}
        self.title = QLabel()
        self.title.setObjectName("protocolTitle")
        self.verb = QComboBox()
        self.verb.setObjectName("verbChooser")
        self.verb.setToolTip("What to do in the protocol")
        self.verb.currentIndexChanged.connect(self._on_verb)
        self.raw = QCheckBox("Raw frame")
        self.raw.setObjectName("rawFrameToggle")
        self.raw.setToolTip("Type a raw WebSocket message instead of a protocol verb")
        self.raw.toggled.connect(self._on_raw)
        self.send_button = QPushButton("Send verb")
        self.send_button.setObjectName("sendVerbButton")
        self.send_button.setToolTip("Do the verb (Ctrl+Return)")
        self.send_button.clicked.connect(self.send)
        self.stack = QStackedWidget()
        self.error = ElidedLabel()  # one line that keeps its place: an error never moves Send
        self.error.setObjectName("protocolError")
        palette.style(self.error, "color: {error};")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title)
        row.addWidget(self.verb, 1)
        row.addWidget(self.raw)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(row)
        layout.addWidget(self.stack)
        layout.addWidget(self.error)
        # the bar is as high as its tallest verb's form, never more: the error line stays under the fields
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.send, context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
                      whatsThis="Send the protocol verb")

    def set_verbs(self, protocol: str, title: str, verbs: tuple[Verb, ...]) -> None:
        """Show ``verbs`` of ``protocol`` (its ``title`` for the user)."""
        self.protocol = protocol
        self.title.setText(f"<b>{title}</b>")
        self.verb.blockSignals(True)
        self.verb.clear()
        while self.stack.count():
            widget = self.stack.widget(0)
            self.stack.removeWidget(widget)
            widget.deleteLater()
        self.forms = {}
        for verb in verbs:
            form = VerbForm(verb)
            for widget in form.inputs.values():
                if isinstance(widget, QLineEdit):
                    widget.textChanged.connect(self._validate)
            self.forms[verb.name] = form
            self.stack.addWidget(form)
            self.verb.addItem(f"{verb.name} — {verb.title}", verb.name)
        self.verb.blockSignals(False)
        self.verb.setCurrentIndex(0)
        self._on_verb()

    def choose(self, verb: str) -> VerbForm:
        """Show ``verb``'s form (KeyError when the protocol has no such verb)."""
        form = self.forms[verb]
        self.verb.setCurrentIndex(self.verb.findData(verb))
        return form

    @property
    def form(self) -> VerbForm | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, VerbForm) else None

    def show_error(self, text: str) -> None:
        self.error.setText(text)

    @Slot()
    def send(self) -> None:
        form = self.form
        if form is None or self.raw.isChecked():
            return
        problem = form.problem()
        self.show_error(problem)
        if not problem:
            self.invoke_requested.emit(form.verb.name, form.values())

    @Slot()
    def _on_verb(self) -> None:
        name = self.verb.currentData()
        if name in self.forms:
            self.stack.setCurrentWidget(self.forms[name])
        self._validate()

    @Slot()
    def _validate(self) -> None:
        form = self.form
        # a missing required field is told on Send, not while the form is still being filled in
        problem = form.problem() if form is not None else ""
        self.show_error(problem if " needs " not in problem else "")

    @Slot(bool)
    def _on_raw(self, raw: bool) -> None:
        for widget in (self.verb, self.stack, self.send_button):
            widget.setEnabled(not raw)
        self.stack.setVisible(not raw)
        self.error.setVisible(not raw)
        self.raw_toggled.emit(raw)
