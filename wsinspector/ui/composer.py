"""The message composer: text, JSON, binary from hex/base64 or a file's bytes (the editor, shared with the
Server page and the proxy, is ``payload_editor.py``) with ``{{variables}}`` and dynamic values; saved messages
(sent with one click or Alt+1..9), the history (Up/Down, History…); ping and pong with a payload of their own;
close with code and reason; fragmented sends and the Wire engine's fault injection (unsolicited pong, no
automatic pongs, bytes as a text frame, any close code). Periodic sends and auto-replies are asked for here
(Automate) and run in ``app/composing.py``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.dynamic import expanded_as_typed, templated
from wsinspector.core.frames import is_sendable_close_code
from wsinspector.core.payloads import PayloadError, PayloadMode, decode_text, encode
from wsinspector.core.sending import kind_of, mode_of
from wsinspector.ui.payload_editor import EDIT_LIMIT, PayloadEditor, send_shortcut
from wsinspector.ui.qtext import ExactLineEdit, set_plain_text

__all__ = ["EDIT_LIMIT", "SAVED_SHORTCUTS", "Composer"]

#: saved messages that have a shortcut: Alt+1 .. Alt+9 (Ctrl+digits switch tabs)
SAVED_SHORTCUTS = 9


class Composer(QWidget):
    """Signals:
    send_requested(bytes, bool): payload and whether it is text
    ping_requested(bytes)
    close_requested(int, str): close code and reason
    fragmented_send_requested(bytes, bool, int): payload, is text, frame size
    pong_requested(bytes): an unsolicited pong
    raw_close_requested(object, str): any close code (None: an empty close frame) and reason
    auto_pong_toggled(bool)
    sent_as_typed(str, str): a message was sent: its kind and text as typed (for the history)
    saved_send_requested(str, str): send a saved message (kind, template)
    save_message_requested(str, str, str, bool): keep a saved message: name, kind, template, shared
    manage_saved_requested(), history_requested(), schedule_requested(), auto_replies_requested()
    """

    send_requested = Signal(bytes, bool)
    ping_requested = Signal(bytes)
    close_requested = Signal(int, object)
    fragmented_send_requested = Signal(bytes, bool, int)
    pong_requested = Signal(bytes)
    raw_close_requested = Signal(object, object)
    auto_pong_toggled = Signal(bool)
    # the text is an object: PySide turns a str signal argument into a QString, which loses a leading U+FEFF
    sent_as_typed = Signal(str, object)
    saved_send_requested = Signal(str, object)
    save_message_requested = Signal(str, str, object, bool)
    manage_saved_requested = Signal()
    history_requested = Signal()
    schedule_requested = Signal()
    auto_replies_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:  # noqa: PLR0915
        super().__init__(parent)
        self.setObjectName("composer")
        #: the mode, File…, Format, the editor and its one-line error (shared with the Server page and the proxy)
        self.payload = PayloadEditor("composer")
        self.payload.prepare = self._prepared
        self.mode = self.payload.mode
        self.editor = self.payload.editor
        self.error = self.payload.error
        self.format_button = self.payload.format_button
        self.file_button = self.payload.file_button
        #: the variables a message's {{variables}} resolve to (the connection's, as connected)
        self.variables: Callable[[], Mapping[str, str]] = dict
        #: the names of the secret ones among them (a saved message made from a sent one keeps them as {{name}})
        self.secret_names: Callable[[], Collection[str]] = tuple
        #: a text template as the next send sends it: variables and dynamic values expanded (ValueError: why not)
        self.expand: Callable[[str], str] = lambda text: text
        self.walk = self.payload.walk
        self.expand_variables = QCheckBox("{{variables}}")
        self.expand_variables.setObjectName("expandVariables")
        self.expand_variables.setChecked(True)
        self.expand_variables.toggled.connect(lambda _checked: self.payload.validate_live())
        self.expand_variables.setToolTip("Replace {{name}} in text and JSON messages with the variable's value when "
                                         "sending (globals, the connection's, the active environment's), and the "
                                         "dynamic values {{$uuid}}, {{$timestamp}}, {{$isoTimestamp}}, "
                                         "{{$randomInt}} (0-1000) and {{$counter}} with new ones at each send. "
                                         "Off: sent as typed, for templates that keep {{name}}.")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send the message (Ctrl+Enter)")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.ping_button = QPushButton("Ping")
        self.ping_button.setToolTip("Send a ping frame with the ping/pong payload below (at most 125 bytes)")
        self.ping_button.clicked.connect(self.ping)
        self.control_payload = ExactLineEdit()
        self.control_payload.setObjectName("controlPayload")
        self.control_payload.setPlaceholderText("Ping/pong payload (empty: none)")
        self.control_payload.setToolTip("The payload of Ping and of Faults ▸ Send an unsolicited pong, at most "
                                        "125 bytes; never the message above")
        self.control_mode = QComboBox()
        self.control_mode.setObjectName("controlPayloadMode")
        for mode in (PayloadMode.TEXT, PayloadMode.HEX):
            self.control_mode.addItem("Text" if mode is PayloadMode.TEXT else "Hex", mode)
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
        self.saved_button.setToolTip("Saved messages, this connection's and the shared ones: choose one to send "
                                     "it (Alt+1..9 the first nine), or load it here")
        self.saved_button.setMenu(QMenu(self.saved_button))
        self._saved: list[tuple[str, str, str]] = []
        for n in range(1, SAVED_SHORTCUTS + 1):
            QShortcut(QKeySequence(f"Alt+{n}"), self, lambda n=n: self.send_saved(n - 1),
                      whatsThis=f"Send saved message {n} (Saved menu)")
        self.history_button = QToolButton()
        self.history_button.setObjectName("historyButton")
        self.history_button.setText("History")
        self.history_button.setToolTip("The messages sent from here, searchable (Up/Down in the editor walk them)")
        self.history_button.clicked.connect(self.history_requested)
        self.automate_button = QToolButton()
        self.automate_button.setObjectName("automateButton")
        self.automate_button.setText("Automate")
        self.automate_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        automate = QMenu(self.automate_button)
        self.schedule_action = automate.addAction("Send this message periodically…")
        self.schedule_action.triggered.connect(self.schedule_requested)
        self.auto_replies_action = automate.addAction("Auto-reply rules…")
        self.auto_replies_action.triggered.connect(self.auto_replies_requested)
        self.automate_button.setMenu(automate)
        self.faults_button = QToolButton()
        self.faults_button.setObjectName("faultsButton")
        self.faults_button.setText("Faults")
        self.faults_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.faults_button.setToolTip("Deliberate protocol faults, to see how the server copes (Wire engine)")
        menu = QMenu(self.faults_button)
        self.pong_action = QAction("Send an unsolicited pong", self)
        self.pong_action.setToolTip("A pong no ping asked for, with the ping/pong payload")
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
        self.close_reason = ExactLineEdit()
        self.close_reason.setObjectName("closeReason")
        self.close_reason.setPlaceholderText("Close reason (optional, up to 123 bytes)")
        self.close_button = QPushButton("Close connection")
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(self.request_close)

        send_shortcut(self.editor, self.send)

        row = self.payload.row  # mode, File…, stretch, Format
        row.insertWidget(0, QLabel("Payload"))
        row.insertWidget(3, self.saved_button)
        row.insertWidget(4, self.history_button)
        row.insertWidget(5, self.automate_button)
        row.insertWidget(row.indexOf(self.format_button), self.expand_variables)
        row.addWidget(self.frame_size)
        row.addWidget(self.faults_button)
        row.addWidget(self.ping_button)
        row.addWidget(self.send_button)
        close_row = QHBoxLayout()
        close_row.addWidget(self.control_mode)
        close_row.addWidget(self.control_payload, 1)
        close_row.addWidget(QLabel("Close code"))
        close_row.addWidget(self.close_code)
        close_row.addWidget(self.close_reason, 1)
        close_row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.payload, 1)
        layout.addLayout(close_row)
        self.set_connected(False)

    def set_saved_messages(self, messages: tuple[tuple[str, str, str], ...],
                           shared: tuple[tuple[str, str, str], ...] = ()) -> None:
        """The saved messages (name, kind, payload) in the Saved menu: the connection's, then the shared ones.
        Choosing one sends it; Load ▸ puts it in the editor."""
        self._saved = [*messages, *shared]
        menu = self.saved_button.menu()
        menu.clear()
        load = QMenu("Load into the editor", menu)
        for index, (name, kind, payload) in enumerate(self._saved):
            if index == len(messages) and shared:
                menu.addSection("Shared")
            action = menu.addAction(name or "(unnamed)")
            action.setToolTip(payload[:200])
            if index < SAVED_SHORTCUTS:
                action.setShortcut(QKeySequence(f"Alt+{index + 1}"))
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the composer's own shortcuts fire
            action.triggered.connect(lambda _checked=False, i=index: self.send_saved(i))
            loader = load.addAction(name or "(unnamed)")
            loader.triggered.connect(lambda _checked=False, k=kind, p=payload: self.load_message(k, p))
        if self._saved:
            menu.addSeparator()
            menu.addMenu(load)
        menu.addAction("Save this message…", self.save_current)
        menu.addAction("Manage saved messages…", self.manage_saved_requested.emit)

    @property
    def saved_messages(self) -> list[tuple[str, str, str]]:
        """What the Saved menu lists, in order: the connection's, then the shared ones."""
        return list(self._saved)

    @Slot()
    def send_saved(self, index: int) -> None:
        """Send saved message number ``index`` of the Saved menu (one click, or Alt+index+1)."""
        if not 0 <= index < len(self._saved):
            self.show_error(f"There is no saved message {index + 1}: Saved ▸ Manage saved messages… adds one")
            return
        if not self.send_button.isEnabled():
            self.show_error("Not connected: connect first, then send")
            return
        _name, kind, payload = self._saved[index]
        self.show_error("")
        self.saved_send_requested.emit(kind, payload)
        self.sent_as_typed.emit(kind, payload)

    def load_message(self, kind: str, payload: str) -> None:
        """Put a saved message in the editor, in its mode (one too large to edit here is refused, saying so)."""
        if len(payload) > EDIT_LIMIT:
            self.show_error(f"This message is {len(payload):,} characters: too large to edit here (the limit is "
                            f"{EDIT_LIMIT:,}); Resend sends it as it was")
            return
        self.set_mode(mode_of(kind))
        set_plain_text(self.editor, payload)
        self.editor.setFocus()

    @Slot()
    def save_current(self) -> None:
        """Keep the message in the editor as a saved message (asks for a name and where)."""
        self._ask_to_save(kind_of(self.current_mode()), self.editor.toPlainText())

    def save_as_saved_message(self, payload: bytes, binary: bool) -> None:
        """Keep a message that was sent or received as a saved message: asks for a name and whether it is the
        connection's or shared. A secret variable's value in it is kept as ``{{name}}``."""
        text, is_text = decode_text(payload)
        if binary or not is_text:
            import base64  # noqa: PLC0415

            self._ask_to_save("base64", base64.b64encode(payload).decode("ascii"))
            return
        self._ask_to_save("text", templated(text, self.variables(), self.secret_names()))

    def _ask_to_save(self, kind: str, text: str) -> None:
        from wsinspector.ui.saved_messages import SaveMessageDialog  # noqa: PLC0415

        dialog = SaveMessageDialog(text, self)
        if dialog.exec() and dialog.name():
            self.save_message_requested.emit(dialog.name(), kind, text, dialog.shared.isChecked())

    # -- the history ----------------------------------------------------------------------------------

    def set_history(self, entries: list[tuple[str, str]]) -> None:
        self.payload.set_history(entries)

    def current_mode(self) -> PayloadMode:
        return self.payload.current_mode()

    def set_mode(self, mode: PayloadMode) -> None:
        self.payload.set_mode(mode)

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
        self.payload.show_error(message)

    @Slot()
    def send(self) -> None:
        if not self.send_button.isEnabled():
            self.show_error("Not connected: connect first, then send")
            return
        typed = self.editor.toPlainText()
        encoded = self.payload.encoded(self.expand if self.expand_variables.isChecked() else None)
        if encoded is None:
            return
        size = self.frame_size.value() if self._faults else 0
        if size:
            self.fragmented_send_requested.emit(encoded.data, encoded.is_text, size)
        else:
            self.send_requested.emit(encoded.data, encoded.is_text)
        self.sent_as_typed.emit(kind_of(self.current_mode()), typed)

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
        """The ping/pong payload field's bytes (its text as UTF-8, or its hex): never the message above."""
        mode = self.control_mode.currentData()
        source = self.control_payload.text()
        try:
            payload = encode(mode, source).data if source.strip() else b""
        except PayloadError as exc:
            self.show_error(f"The {kind} payload: {exc}")
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
        self.payload.format_json()

    def _prepared(self, text: str) -> str:
        """A text or JSON message as checked while it is typed: its {{variables}} as they stand now."""
        return expanded_as_typed(text, self.variables()) if self.expand_variables.isChecked() else text
