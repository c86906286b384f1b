"""The message composer: text, JSON, binary from hex/base64; ping; close with code and reason."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.frames import is_sendable_close_code
from wsinspector.core.payloads import PayloadError, PayloadMode, encode, pretty_json

_PLACEHOLDERS = {
    PayloadMode.TEXT: "Message text. Ctrl+Enter sends.",
    PayloadMode.JSON: '{"type": "hello"}  (validated before sending; Format pretty-prints)',
    PayloadMode.HEX: "Hex bytes, e.g. 01 02 ff or 0x01,0x02",
    PayloadMode.BASE64: "Base64, e.g. AQL/ (standard or URL-safe alphabet)",
}


class Composer(QWidget):
    """Signals:
    send_requested(bytes, bool): payload and whether it is text
    ping_requested(bytes)
    close_requested(int, str): close code and reason
    """

    send_requested = Signal(bytes, bool)
    ping_requested = Signal(bytes)
    close_requested = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.mode = QComboBox()
        self.mode.setObjectName("composerMode")
        for mode in PayloadMode:
            self.mode.addItem(mode.value, mode)
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("composerEditor")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTabChangesFocus(True)
        self.editor.textChanged.connect(self._on_text_changed)
        self.error = QLabel()
        self.error.setObjectName("composerError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        self.format_button = QPushButton("Format")
        self.format_button.setToolTip("Validate and pretty-print the JSON")
        self.format_button.clicked.connect(self.format_json)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send the message (Ctrl+Enter)")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.ping_button = QPushButton("Ping")
        self.ping_button.setToolTip("Send a ping frame; its payload is the text in the box below when in Text mode "
                                    "or the bytes when in a binary mode (at most 125 bytes)")
        self.ping_button.clicked.connect(self.ping)

        self.close_code = QSpinBox()
        self.close_code.setObjectName("closeCode")
        self.close_code.setRange(1000, 4999)
        self.close_code.setValue(1000)
        self.close_code.setToolTip("Close code: 1000 normal, 1001 going away, 3000-4999 application codes")
        self.close_reason = QLineEdit()
        self.close_reason.setObjectName("closeReason")
        self.close_reason.setPlaceholderText("Close reason (optional, up to 123 bytes)")
        self.close_button = QPushButton("Close connection")
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(self.request_close)

        for shortcut in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(shortcut), self.editor, self.send, context=Qt.ShortcutContext.WidgetShortcut)

        row = QHBoxLayout()
        row.addWidget(QLabel("Payload"))
        row.addWidget(self.mode)
        row.addStretch(1)
        row.addWidget(self.format_button)
        row.addWidget(self.ping_button)
        row.addWidget(self.send_button)
        close_row = QHBoxLayout()
        close_row.addWidget(QLabel("Close code"))
        close_row.addWidget(self.close_code)
        close_row.addWidget(self.close_reason, 1)
        close_row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error)
        layout.addLayout(close_row)
        self._on_mode_changed()
        self.set_connected(False)

    def current_mode(self) -> PayloadMode:
        mode = self.mode.currentData()
        assert isinstance(mode, PayloadMode)
        return mode

    def set_mode(self, mode: PayloadMode) -> None:
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def set_connected(self, connected: bool) -> None:
        for widget in (self.send_button, self.ping_button, self.close_button):
            widget.setEnabled(connected)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    @Slot()
    def send(self) -> None:
        if not self.send_button.isEnabled():
            self.show_error("Not connected: connect first, then send")
            return
        try:
            encoded = encode(self.current_mode(), self.editor.toPlainText())
        except PayloadError as exc:
            self.show_error(str(exc))
            self._move_cursor_to(exc.line, exc.column)
            return
        self.show_error("")
        self.send_requested.emit(encoded.data, encoded.is_text)

    @Slot()
    def ping(self) -> None:
        mode = self.current_mode()
        source = self.editor.toPlainText()
        try:
            payload = encode(mode, source).data if mode.is_binary and source.strip() else b""
            if not mode.is_binary:
                payload = source.encode("utf-8")
        except PayloadError as exc:
            self.show_error(str(exc))
            return
        if len(payload) > 125:
            self.show_error(f"A ping payload can be at most 125 bytes; this one has {len(payload)}")
            return
        self.show_error("")
        self.ping_requested.emit(payload)

    @Slot()
    def request_close(self) -> None:
        code = self.close_code.value()
        reason = self.close_reason.text()
        if not is_sendable_close_code(code):
            self.show_error(f"Close code {code} is reserved: use 1000-1003, 1007-1011 or 3000-4999")
            return
        if len(reason.encode("utf-8")) > 123:
            self.show_error("The close reason is longer than 123 bytes of UTF-8")
            return
        self.show_error("")
        self.close_requested.emit(code, reason)

    @Slot()
    def format_json(self) -> None:
        try:
            pretty = pretty_json(self.editor.toPlainText())
        except PayloadError as exc:
            self.show_error(str(exc))
            self._move_cursor_to(exc.line, exc.column)
            return
        self.set_mode(PayloadMode.JSON)
        self.editor.setPlainText(pretty)
        self.show_error("")

    def _on_mode_changed(self) -> None:
        mode = self.current_mode()
        self.editor.setPlaceholderText(_PLACEHOLDERS[mode])
        self.format_button.setVisible(mode is PayloadMode.JSON)
        self._validate_live()

    def _on_text_changed(self) -> None:
        self._validate_live()

    def _validate_live(self) -> None:
        """JSON and binary input is checked as the user types; text never has an error."""
        mode = self.current_mode()
        source = self.editor.toPlainText()
        if mode is PayloadMode.TEXT or not source.strip():
            self.show_error("")
            return
        try:
            encode(mode, source)
        except PayloadError as exc:
            self.show_error(str(exc))
        else:
            self.show_error("")

    def _move_cursor_to(self, line: int | None, column: int | None) -> None:
        if line is None:
            return
        block = self.editor.document().findBlockByLineNumber(line - 1)
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.Right, n=max(0, (column or 1) - 1))
        self.editor.setTextCursor(cursor)
