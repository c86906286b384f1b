"""The composer's dialogs for saved messages and the history: Save message (a name; this connection's or
shared), Manage saved messages (create, rename, edit, delete), and History (the sent messages, filtered as
you type)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.dynamic import DYNAMIC_NAMES
from wsinspector.core.profiles import MESSAGE_KINDS
from wsinspector.ui.qtext import PlainEditor, set_plain_text

SavedMessage = tuple[str, str, str]
_DYNAMIC_HINT = ("{{variables}} and dynamic values are expanded at each send: "
                 + ", ".join("{{$" + name + "}}" for name in DYNAMIC_NAMES))


class SaveMessageDialog(QDialog):
    """A name for a message to keep, and whether every connection has it (shared) or only this one."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saveMessageDialog")
        self.setWindowTitle("Save message")
        self.setMinimumWidth(460)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("savedMessageName")
        self.name_edit.setPlaceholderText("A name, e.g. Subscribe")
        self.shared = QCheckBox("Shared: every connection has it")
        self.shared.setObjectName("savedMessageShared")
        preview = QLabel(text[:300] + ("…" if len(text) > 300 else ""))
        preview.setTextFormat(Qt.TextFormat.PlainText)
        preview.setWordWrap(True)
        preview.setStyleSheet("color: palette(placeholder-text);")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setEnabled(False)
        self.name_edit.textChanged.connect(lambda text: self._ok.setEnabled(bool(text.strip())))
        form = QFormLayout(self)
        form.addRow("Name", self.name_edit)
        form.addRow("", self.shared)
        form.addRow("Message", preview)
        form.addRow(buttons)
        self.name_edit.setFocus()

    def name(self) -> str:
        return " ".join(self.name_edit.text().split())


class SavedMessagesDialog(QDialog):
    """Create, rename, edit and delete saved messages: the connection's and the shared ones in one list."""

    def __init__(self, own: tuple[SavedMessage, ...], shared: tuple[SavedMessage, ...], connection: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("savedMessagesDialog")
        self.setWindowTitle("Saved messages")
        self.resize(720, 420)
        self._connection = connection
        self.list = QListWidget()
        self.list.setObjectName("savedMessagesList")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("savedMessageName")
        self.kind = QComboBox()
        self.kind.addItems(list(MESSAGE_KINDS))
        self.shared = QCheckBox("Shared: every connection has it")
        self.shared.setObjectName("savedMessageShared")
        self.payload = PlainEditor()
        self.payload.setObjectName("savedMessagePayload")
        self.payload.setPlaceholderText(_DYNAMIC_HINT)
        self.payload.setTabChangesFocus(True)
        self.new_button = QPushButton("New")
        self.delete_button = QPushButton("Delete")
        self.new_button.clicked.connect(self.add)
        self.delete_button.clicked.connect(self.delete)
        for own_or_shared, messages in ((False, own), (True, shared)):
            for message in messages:
                self._append(message, own_or_shared)
        self.list.currentRowChanged.connect(self._show)
        self.name_edit.textEdited.connect(self._store)
        self.kind.currentIndexChanged.connect(self._store)
        self.shared.toggled.connect(self._store)
        self.payload.textChanged.connect(self._store)
        editor = QWidget()
        form = QFormLayout(editor)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name_edit)
        form.addRow("Kind", self.kind)
        form.addRow("", self.shared)
        form.addRow(self.payload)
        hint = QLabel(_DYNAMIC_HINT)
        hint.setWordWrap(True)
        form.addRow(hint)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.new_button)
        buttons_row.addWidget(self.delete_button)
        left.addLayout(buttons_row)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addWidget(editor, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._show(self.list.currentRow())
        self.list.setFocus()

    def _append(self, message: SavedMessage, shared: bool) -> QListWidgetItem:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, (*message, shared))
        self._label(item)
        self.list.addItem(item)
        return item

    def _label(self, item: QListWidgetItem) -> None:
        name, _kind, _payload, shared = item.data(Qt.ItemDataRole.UserRole)
        item.setText(f"{name or '(unnamed)'} — {'shared' if shared else self._connection}")

    @Slot()
    def add(self) -> None:
        item = self._append((f"Message {self.list.count() + 1}", "text", ""), False)
        self.list.setCurrentItem(item)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    @Slot()
    def delete(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)

    def _show(self, row: int) -> None:
        item = self.list.item(row) if row >= 0 else None
        for widget in (self.name_edit, self.kind, self.shared, self.payload, self.delete_button):
            widget.setEnabled(item is not None)
        name, kind, payload, shared = item.data(Qt.ItemDataRole.UserRole) if item else ("", "text", "", False)
        for widget in (self.name_edit, self.kind, self.shared, self.payload):
            widget.blockSignals(True)
        self.name_edit.setText(name)
        self.kind.setCurrentText(kind)
        self.shared.setChecked(shared)
        set_plain_text(self.payload, payload)
        for widget in (self.name_edit, self.kind, self.shared, self.payload):
            widget.blockSignals(False)

    def _store(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        item.setData(Qt.ItemDataRole.UserRole, (" ".join(self.name_edit.text().split()), self.kind.currentText(),
                                                self.payload.toPlainText(), self.shared.isChecked()))
        self._label(item)

    def messages(self) -> tuple[tuple[SavedMessage, ...], tuple[SavedMessage, ...]]:
        """(the connection's, the shared ones) as edited."""
        own: list[SavedMessage] = []
        shared: list[SavedMessage] = []
        for row in range(self.list.count()):
            name, kind, payload, is_shared = self.list.item(row).data(Qt.ItemDataRole.UserRole)
            (shared if is_shared else own).append((name or f"Message {row + 1}", kind, payload))
        return tuple(own), tuple(shared)


class HistoryDialog(QDialog):
    """The messages sent from the composer, newest first, filtered by what the box holds; choosing one (double
    click or Enter) loads it into the composer."""

    def __init__(self, entries: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle("Sent messages")
        self.resize(640, 420)
        self.filter = QLineEdit()
        self.filter.setObjectName("historyFilter")
        self.filter.setPlaceholderText("Filter: text the message contains")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.setUniformItemSizes(True)
        self.count = QLabel()
        seen: set[tuple[str, str]] = set()
        for kind, text in reversed(entries):
            if (kind, text) in seen:
                continue
            seen.add((kind, text))
            item = QListWidgetItem(" ⏎ ".join(text.splitlines())[:300] or "(empty)")
            item.setData(Qt.ItemDataRole.UserRole, (kind, text))
            item.setToolTip(f"{kind}: {text[:1000]}")
            self.list.addItem(item)
        self.chosen: tuple[str, str] | None = None
        self.filter.textChanged.connect(self.apply_filter)
        self.filter.returnPressed.connect(self._choose_current)
        self.list.itemActivated.connect(self._choose)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        load = buttons.addButton("Load", QDialogButtonBox.ButtonRole.AcceptRole)
        load.clicked.connect(self._choose_current)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.count)
        layout.addWidget(buttons)
        self.apply_filter("")
        self.filter.setFocus()

    @Slot(str)
    def apply_filter(self, text: str) -> None:
        needle = text.casefold()
        shown = 0
        first: QListWidgetItem | None = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            hidden = bool(needle) and needle not in item.data(Qt.ItemDataRole.UserRole)[1].casefold()
            item.setHidden(hidden)
            if not hidden:
                shown += 1
                first = first or item
        if first is not None:
            self.list.setCurrentItem(first)
        total = self.list.count()
        noun = "sent message" if total == 1 else "sent messages"
        self.count.setText(f"{shown:,} of {total:,} {noun}" if needle else f"{total:,} {noun}")

    def visible_texts(self) -> list[str]:
        return [self.list.item(r).data(Qt.ItemDataRole.UserRole)[1] for r in range(self.list.count())
                if not self.list.item(r).isHidden()]

    @Slot()
    def _choose_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and not item.isHidden():
            self._choose(item)

    def _choose(self, item: QListWidgetItem) -> None:
        self.chosen = item.data(Qt.ItemDataRole.UserRole)
        self.accept()
