"""The message composer: text, JSON, binary from hex/base64; ping; close with code and reason; fragmented
sends and the Wire engine's fault injection (unsolicited pong, no automatic pongs, bytes as a text frame,
any close code)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.environments import expand_message, expand_message_as_typed
from wsinspector.core.frames import is_sendable_close_code
from wsinspector.core.payloads import PayloadError, PayloadMode, encode, pretty_json
from wsinspector.core.profiles import UnknownVariableError
from wsinspector.ui import palette
from wsinspector.ui.inline_message import ElidedLabel

#: a saved message's kind (core.profiles.MESSAGE_KINDS) as the composer's mode
_SAVED_KINDS = {"text": PayloadMode.TEXT, "json": PayloadMode.JSON, "hex": PayloadMode.HEX,
                "base64": PayloadMode.BASE64}

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
    fragmented_send_requested(bytes, bool, int): payload, is text, frame size
    pong_requested(bytes): an unsolicited pong
    raw_close_requested(object, str): any close code (None: an empty close frame) and reason
    auto_pong_toggled(bool)
    """

    send_requested = Signal(bytes, bool)
    ping_requested = Signal(bytes)
    close_requested = Signal(int, str)
    fragmented_send_requested = Signal(bytes, bool, int)
    pong_requested = Signal(bytes)
    raw_close_requested = Signal(object, str)
    auto_pong_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:  # noqa: PLR0915
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
        self.error = ElidedLabel()  # one line that keeps its place: an error never moves Send
        self.error.setObjectName("composerError")
        palette.style(self.error, "color: {error};")
        self.error.hide()
        #: the variables a message's {{variables}} resolve to (the connection's, as connected)
        self.variables: Callable[[], Mapping[str, str]] = dict
        self.expand_variables = QCheckBox("{{variables}}")
        self.expand_variables.setObjectName("expandVariables")
        self.expand_variables.setChecked(True)
        self.expand_variables.toggled.connect(lambda _checked: self._validate_live())
        self.expand_variables.setToolTip("Replace {{name}} in text and JSON messages with the variable's value when "
                                         "sending (globals, the connection's, the active environment's). Off: "
                                         "sent as typed, for templates that keep {{name}}.")
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
        self.frame_size = QSpinBox()
        self.frame_size.setObjectName("frameSize")
        self.frame_size.setRange(0, 64 * 1024 * 1024)
        self.frame_size.setSpecialValueText("one frame")
        self.frame_size.setSuffix(" B per frame")
        self.frame_size.setToolTip("Split each message into frames of this many payload bytes (Wire engine). "
                                   "\"one frame\" sends the whole message in a single frame. With "
                                   "permessage-deflate the message is split first, then each piece is "
                                   "compressed: frames on the wire are smaller or larger than this.")
        self.saved_button = QToolButton()
        self.saved_button.setObjectName("savedMessagesButton")
        self.saved_button.setText("Saved")
        self.saved_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.saved_button.setToolTip("The connection's saved messages: choose one to load it here")
        self.saved_button.setMenu(QMenu(self.saved_button))
        self.saved_button.hide()
        self.faults_button = QToolButton()
        self.faults_button.setObjectName("faultsButton")
        self.faults_button.setText("Faults")
        self.faults_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.faults_button.setToolTip("Deliberate protocol faults, to see how the server copes (Wire engine)")
        menu = QMenu(self.faults_button)
        self.pong_action = QAction("Send an unsolicited pong", self)
        self.pong_action.setToolTip("A pong no ping asked for; its payload as for Ping")
        self.pong_action.triggered.connect(self.pong)
        self.auto_pong_action = QAction("Answer pings automatically", self)
        self.auto_pong_action.setCheckable(True)
        self.auto_pong_action.setChecked(True)
        self.auto_pong_action.toggled.connect(self.auto_pong_toggled)
        self.text_bytes_action = QAction("Send the bytes as a text frame (not checked as UTF-8)", self)
        self.text_bytes_action.setToolTip("Hex or Base64 bytes sent with the text opcode, valid UTF-8 or not: "
                                          "a conforming server fails the connection with 1007")
        self.text_bytes_action.triggered.connect(self.send_bytes_as_text)
        self.raw_close_action = QAction("Close with this code, unchecked", self)
        self.raw_close_action.setToolTip("Send the close code and reason as they are, even a code RFC 6455 "
                                         "forbids on the wire (0-999, 1004-1006, 1015, 5000+)")
        self.raw_close_action.triggered.connect(self.request_raw_close)
        self.empty_close_action = QAction("Close with an empty close frame (no code)", self)
        self.empty_close_action.triggered.connect(lambda: self.raw_close_requested.emit(None, ""))
        for action in (self.pong_action, self.auto_pong_action, self.text_bytes_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.raw_close_action)
        menu.addAction(self.empty_close_action)
        self.faults_button.setMenu(menu)
        self._connected = False
        self._faults = True

        self.close_code = QSpinBox()
        self.close_code.setObjectName("closeCode")
        self.close_code.setRange(0, 65535)
        self.close_code.setValue(1000)
        self.close_code.setToolTip("Close code: 1000 normal, 1001 going away, 3000-4999 application codes")
        self.close_reason = QLineEdit()
        self.close_reason.setObjectName("closeReason")
        self.close_reason.setPlaceholderText("Close reason (optional, up to 123 bytes)")
        self.close_button = QPushButton("Close connection")
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(self.request_close)

        for shortcut in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(shortcut), self.editor, self.send, context=Qt.ShortcutContext.WidgetShortcut,
                      whatsThis="Send the message")

        row = QHBoxLayout()
        row.addWidget(QLabel("Payload"))
        row.addWidget(self.mode)
        row.addWidget(self.saved_button)
        row.addStretch(1)
        row.addWidget(self.expand_variables)
        row.addWidget(self.format_button)
        row.addWidget(self.frame_size)
        row.addWidget(self.faults_button)
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

    def set_saved_messages(self, messages: tuple[tuple[str, str, str], ...]) -> None:
        """The connection's saved messages (name, kind, payload) in the Saved menu; hidden when there are none."""
        menu = self.saved_button.menu()
        menu.clear()
        for name, kind, payload in messages:
            action = menu.addAction(name or "(unnamed)")
            action.setToolTip(payload[:200])
            action.triggered.connect(lambda _checked=False, k=kind, p=payload: self.load_message(k, p))
        self.saved_button.setVisible(bool(messages))

    def load_message(self, kind: str, payload: str) -> None:
        """Put a saved message in the editor, in its mode."""
        self.set_mode(_SAVED_KINDS.get(kind, PayloadMode.TEXT))
        self.editor.setPlainText(payload)
        self.editor.setFocus()

    def current_mode(self) -> PayloadMode:
        mode = self.mode.currentData()
        assert isinstance(mode, PayloadMode)
        return mode

    def set_mode(self, mode: PayloadMode) -> None:
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def set_connected(self, connected: bool) -> None:
        self._connected = connected
        for widget in (self.send_button, self.ping_button, self.close_button):
            widget.setEnabled(connected)
        self._update_faults()

    def set_fault_injection(self, available: bool, auto_pong: bool = True) -> None:
        """Whether the connection's engine can send frames the protocol forbids (the Wire engine can)."""
        self._faults = available
        blocker = QSignalBlocker(self.auto_pong_action)
        self.auto_pong_action.setChecked(auto_pong)
        blocker.unblock()
        self._update_faults()

    def _update_faults(self) -> None:
        enabled = self._connected and self._faults
        self.faults_button.setEnabled(enabled)
        self.frame_size.setEnabled(self._faults)
        hint = "" if self._faults else " Needs the Wire engine: choose it in the connection's settings."
        self.faults_button.setToolTip("Deliberate protocol faults, to see how the server copes." + hint)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    @Slot()
    def send(self) -> None:
        if not self.send_button.isEnabled():
            self.show_error("Not connected: connect first, then send")
            return
        text = self.editor.toPlainText()
        if self.expand_variables.isChecked() and not self.current_mode().is_binary:
            try:
                text = expand_message(text, self.variables())
            except UnknownVariableError as exc:
                self.show_error(f"{exc} in the message: nothing was sent. Define it in an environment, the globals "
                                "or the connection's variables, or switch {{variables}} off to send it as typed.")
                return
        try:
            encoded = encode(self.current_mode(), text)
        except PayloadError as exc:
            self.show_error(str(exc))
            self._move_cursor_to(exc.line, exc.column)
            return
        self.show_error("")
        size = self.frame_size.value() if self._faults else 0
        if size:
            self.fragmented_send_requested.emit(encoded.data, encoded.is_text, size)
        else:
            self.send_requested.emit(encoded.data, encoded.is_text)

    @Slot()
    def send_bytes_as_text(self) -> None:
        mode = self.current_mode()
        if not mode.is_binary:
            self.show_error("Switch to Hex or Base64 and enter the bytes to send as a text frame")
            return
        try:
            data = encode(mode, self.editor.toPlainText()).data
        except PayloadError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.send_requested.emit(data, True)

    @Slot()
    def ping(self) -> None:
        payload = self._control_payload("ping")
        if payload is not None:
            self.ping_requested.emit(payload)

    @Slot()
    def pong(self) -> None:
        payload = self._control_payload("pong")
        if payload is not None:
            self.pong_requested.emit(payload)

    def _control_payload(self, kind: str) -> bytes | None:
        mode = self.current_mode()
        source = self.editor.toPlainText()
        try:
            payload = encode(mode, source).data if mode.is_binary and source.strip() else b""
            if not mode.is_binary:
                payload = source.encode("utf-8")
        except PayloadError as exc:
            self.show_error(str(exc))
            return None
        if len(payload) > 125:
            self.show_error(f"A {kind} payload can be at most 125 bytes; this one has {len(payload)}")
            return None
        self.show_error("")
        return payload

    @Slot()
    def request_close(self) -> None:
        code = self.close_code.value()
        reason = self.close_reason.text()
        if not is_sendable_close_code(code):
            hint = " (or Faults ▸ Close with this code, unchecked)" if self._faults else ""
            self.show_error(f"Close code {code} is reserved: use 1000-1003, 1007-1011 or 3000-4999{hint}")
            return
        if len(reason.encode("utf-8")) > 123:
            self.show_error("The close reason is longer than 123 bytes of UTF-8")
            return
        self.show_error("")
        self.close_requested.emit(code, reason)

    @Slot()
    def request_raw_close(self) -> None:
        reason = self.close_reason.text()
        if len(reason.encode("utf-8")) > 123:
            self.show_error("The close reason is longer than 123 bytes of UTF-8")
            return
        self.show_error("")
        self.raw_close_requested.emit(self.close_code.value(), reason)

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
        if self.expand_variables.isChecked() and not mode.is_binary:
            source = expand_message_as_typed(source, self.variables())
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

