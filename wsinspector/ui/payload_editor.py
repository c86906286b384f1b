"""The message editor every place that composes a message shares: the Inspector's composer, the Server page's
send and broadcast, the Proxy tab's Inject and its paused-message Edit. Text, JSON (checked as typed, Format
pretty-prints it), binary typed as hex or base64, or a file's bytes (File…); a bad payload is one line under the
editor, with the cursor where it went wrong, and nothing is sent. Up on the editor's first line shows an older
sent message, Down on its last a newer one. What is typed, pasted, loaded or recalled is sent character for
character (the editor is a ``qtext.PlainEditor``). A message shown to be edited (a paused one)
comes back byte for byte while it is left as it was."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QFontDatabase, QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from wsinspector.core.payloads import EncodedPayload, PayloadError, PayloadMode, encode, pretty_json
from wsinspector.core.sending import HISTORY_KEEP, HistoryWalk, kind_of, mode_of
from wsinspector.core.words import counted
from wsinspector.ui import palette
from wsinspector.ui.inline_message import ElidedLabel
from wsinspector.ui.qtext import PlainEditor, set_plain_text

#: the longest message (in characters, as the editor shows it) loaded into the editor to be edited
EDIT_LIMIT = 1024 * 1024
#: the largest file File… loads (its base64 is about EDIT_LIMIT characters)
FILE_LIMIT = EDIT_LIMIT * 3 // 4
#: bytes on a line of hex, characters on a line of base64, as the editor shows bytes
HEX_LINE, BASE64_LINE = 32, 76

PLACEHOLDERS = {
    PayloadMode.TEXT: "Message text. Ctrl+Enter sends.",
    PayloadMode.JSON: '{"type": "hello"}  (validated before sending; Format pretty-prints)',
    PayloadMode.HEX: "Hex bytes, e.g. 01 02 ff or 0x01,0x02",
    PayloadMode.BASE64: "Base64, e.g. AQL/ (standard or URL-safe alphabet)",
}


def exact_text(data: bytes) -> str | None:
    """``data`` as text the editor gives back byte for byte (it keeps every character, showing the invisible ones
    as symbols), or None when it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def shown_as(data: bytes, mode: PayloadMode) -> str | None:
    """How the editor shows ``data`` in ``mode`` (hex in lines of 32 bytes, base64 in lines of 76 characters;
    text and JSON only for text that comes back exactly), or None when it cannot."""
    if mode is PayloadMode.HEX:
        return "\n".join(data[i:i + HEX_LINE].hex(" ") for i in range(0, len(data), HEX_LINE))
    if mode is PayloadMode.BASE64:
        encoded = base64.b64encode(data).decode("ascii")
        return "\n".join(encoded[i:i + BASE64_LINE] for i in range(0, len(encoded), BASE64_LINE))
    return exact_text(data)


class PayloadEditor(QWidget):
    """The mode, File… and Format in ``row`` (a host adds its own buttons there), the editor, and the one-line
    error under it. ``name`` prefixes the object names: ``<name>Mode``, ``<name>Editor``, ``<name>Error``.
    With ``convert`` the editor's bytes are shown anew when the mode changes (hex ↔ base64 ↔ text)."""

    def __init__(self, name: str, parent: QWidget | None = None, *, convert: bool = False,
                 text_hint: str = PLACEHOLDERS[PayloadMode.TEXT]) -> None:
        super().__init__(parent)
        self.convert = convert
        #: the empty editor's hint in each mode (``text_hint``: what this editor's text is for, and its keys)
        self.placeholders = {**PLACEHOLDERS, PayloadMode.TEXT: text_hint}
        self.mode = QComboBox()
        self.mode.setObjectName(f"{name}Mode")
        for mode in PayloadMode:
            self.mode.addItem(mode.value, mode)
        self._mode_shown = PayloadMode.TEXT
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.editor = PlainEditor()
        self.editor.setObjectName(f"{name}Editor")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTabChangesFocus(True)
        self.editor.textChanged.connect(self._on_text_changed)
        #: Up/Down through the messages sent (``set_history``, or ``remember`` each one)
        self.walk = HistoryWalk()
        self._showing_history = False
        self.editor.installEventFilter(self)
        self.error = ElidedLabel()  # one line that keeps its place: an error never moves the buttons
        self.error.setObjectName(f"{name}Error")
        palette.style(self.error, "color: {error};")
        self.error.hide()
        #: what a text or JSON message's text becomes before it is checked as typed (the composer's variables)
        self.prepare: Callable[[str], str] = lambda text: text
        self.format_button = QPushButton("Format")
        self.format_button.setObjectName(f"{name}Format")
        self.format_button.setToolTip("Validate and pretty-print the JSON")
        self.format_button.clicked.connect(self.format_json)
        self.file_button = QPushButton("File…")
        self.file_button.setObjectName(f"{name}File")
        self.file_button.setToolTip("Put a file's bytes in the editor, to be sent byte for byte: in Text or JSON "
                                    "mode a text file as text; anything else as base64 (hex in hex mode)")
        self.file_button.clicked.connect(lambda _checked=False: self.load_file())
        self._loaded: tuple[PayloadMode, str] | None = None
        #: a message too large to edit is shown as nothing, and goes on as it came
        self._frozen = False
        self.row = QHBoxLayout()
        self.row.addWidget(self.mode)
        self.row.addWidget(self.file_button)
        self.row.addStretch(1)
        self.row.addWidget(self.format_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.row)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error)
        self._on_mode_changed()

    # -- the mode and the text --------------------------------------------------------------------

    def current_mode(self) -> PayloadMode:
        mode = self.mode.currentData()
        assert isinstance(mode, PayloadMode)
        return mode

    def set_mode(self, mode: PayloadMode) -> None:
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str, mode: PayloadMode | None = None) -> None:
        """Put ``text`` in the editor (in ``mode``, when given), exactly."""
        if mode is not None:
            self._show_mode(mode)
        set_plain_text(self.editor, text)

    def _show_mode(self, mode: PayloadMode) -> None:
        """Change the mode without converting what the editor holds (it is about to be replaced)."""
        converting, self.convert = self.convert, False
        try:
            self.set_mode(mode)
        finally:
            self.convert = converting

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    # -- the history ----------------------------------------------------------------------------------

    def set_history(self, entries: list[tuple[str, str]]) -> None:
        """The messages sent, oldest first, as (kind, text as typed): what Up and Down walk."""
        self.walk.reset(entries)

    def remember(self, typed: str) -> None:
        """The message typed in the current mode was sent: the newest for Up (kept while the window is open)."""
        entries = [entry[1:] for entry in self.walk.entries][-(HISTORY_KEEP - 1):]
        self.walk.reset([*entries, (kind_of(self.current_mode()), typed)])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up on the editor's first line shows an older sent message, Down on its last line a newer one."""
        if watched is self.editor and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            cursor = self.editor.textCursor()
            if event.key() == Qt.Key.Key_Up and cursor.blockNumber() == 0:
                return self._show_history(self.walk.back((kind_of(self.current_mode()), self.text())))
            if event.key() == Qt.Key.Key_Down and cursor.blockNumber() == self.editor.blockCount() - 1:
                return self._show_history(self.walk.forward())
        return super().eventFilter(watched, event)

    def _show_history(self, entry: tuple[str, str] | None) -> bool:
        if entry is None:
            return False
        self._showing_history = True
        try:
            self.set_text(entry[1], mode_of(entry[0]))
        finally:
            self._showing_history = False
        self.editor.moveCursor(QTextCursor.MoveOperation.End)
        return True

    def _on_text_changed(self) -> None:
        if not self._showing_history:
            self.walk.leave()
        self.validate_live()

    # -- bytes in -----------------------------------------------------------------------------------

    def set_payload(self, data: bytes, is_text: bool) -> bool:
        """Show a message to be edited: text as text when it comes back exactly, anything else as hex. False
        (and why, under the editor) when it is too large to edit here; :meth:`is_unchanged` stays true."""
        text = exact_text(data) if is_text else None
        shown = shown_as(data, PayloadMode.HEX) or ""
        too_large = len(text if text is not None else shown) > EDIT_LIMIT
        self._frozen = too_large
        for widget in (self.mode, self.file_button):
            widget.setEnabled(not too_large)
        self.editor.setReadOnly(too_large)
        if too_large:
            self.set_text("", PayloadMode.HEX)
            self._loaded = (PayloadMode.HEX, "")
            self.show_error(f"This message is {counted(len(data), 'byte')}: too large to edit here; it goes on as "
                            "it came")
            return False
        if text is not None:
            self.set_text(text, PayloadMode.TEXT)
        held = text is None or self.text() == text
        if not held or text is None:  # not text, or text the editor would not give back: its bytes, then
            self.set_text(shown, PayloadMode.HEX)
        self._loaded = (self.current_mode(), self.text())
        self.show_error("" if held else "This text holds characters the editor cannot keep: shown as its bytes")
        return True

    def clear_payload(self) -> None:
        """Nothing to edit: the editor empty, and nothing remembered as shown."""
        self._loaded = None
        self._frozen = False
        for widget in (self.mode, self.file_button):
            widget.setEnabled(True)
        self.editor.setReadOnly(False)
        self.set_text("")
        self.show_error("")

    def is_unchanged(self) -> bool:
        """Whether the message :meth:`set_payload` showed is still as it was shown (in the same mode)."""
        return self._loaded is not None and (self._frozen or self._loaded == (self.current_mode(), self.text()))

    @Slot()
    def load_file(self, path: str | None = None) -> bool:
        """Put a file's bytes in the editor (``path`` None: ask for it). False, and why, when it cannot."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Send a file's bytes", "", "All files (*)")
            if not path:
                return False
        name = Path(path).name
        try:
            size = Path(path).stat().st_size
            if size > FILE_LIMIT:
                self.show_error(f"{name} is {counted(size, 'byte')}: at most {FILE_LIMIT:,} bytes can be loaded "
                                "here")
                return False
            data = Path(path).read_bytes()
        except OSError as exc:
            self.show_error(f"Cannot read {name}: {exc.strerror or exc}")
            return False
        mode = self.current_mode()
        text = exact_text(data) if not mode.is_binary else None
        if text is None:
            mode = PayloadMode.HEX if mode is PayloadMode.HEX else PayloadMode.BASE64
            text = shown_as(data, mode) or ""
        elif mode is PayloadMode.JSON:
            try:
                encode(mode, text)
            except PayloadError:
                mode = PayloadMode.TEXT
        self.set_text(text, mode)
        self.editor.setFocus()
        return True

    # -- bytes out ----------------------------------------------------------------------------------

    def encoded(self, expand: Callable[[str], str] | None = None) -> EncodedPayload | None:
        """The editor's message as bytes (``expand``: what a text or JSON message's text becomes first;
        ValueError says why not), or None with why under the editor and the cursor where it went wrong."""
        text = self.text()
        mode = self.current_mode()
        if expand is not None and not mode.is_binary:
            try:
                text = expand(text)
            except ValueError as exc:
                self.show_error(str(exc))
                return None
        try:
            result = encode(mode, text)
        except PayloadError as exc:
            self.show_error(str(exc))
            self._move_cursor_to(exc.line, exc.column)
            return None
        self.show_error("")
        return result

    @Slot()
    def format_json(self) -> None:
        try:
            pretty = pretty_json(self.text())
        except PayloadError as exc:
            self.show_error(str(exc))
            self._move_cursor_to(exc.line, exc.column)
            return
        self._show_mode(PayloadMode.JSON)
        set_plain_text(self.editor, pretty)
        self.show_error("")

    @Slot()
    def validate_live(self) -> None:
        """JSON and binary input is checked as the user types; text never has an error."""
        mode = self.current_mode()
        source = self.text()
        if mode is PayloadMode.TEXT or not source.strip():
            self.show_error("")
            return
        if not mode.is_binary:
            source = self.prepare(source)
        try:
            encode(mode, source)
        except PayloadError as exc:
            self.show_error(str(exc))
        else:
            self.show_error("")

    def _on_mode_changed(self) -> None:
        mode, before = self.current_mode(), self._mode_shown
        self._mode_shown = mode
        self.editor.setPlaceholderText(self.placeholders[mode])
        self.format_button.setVisible(mode is PayloadMode.JSON)
        if self.convert and mode is not before and not self.editor.isReadOnly() and not self._convert(before, mode):
            return
        self.validate_live()

    def _convert(self, before: PayloadMode, mode: PayloadMode) -> bool:
        """The editor's bytes as ``mode`` shows them (left as typed when they are not valid as typed, or when
        text and JSON, which are the same bytes, trade places). False when bytes that are not text were to be
        shown as text: the mode goes back, saying why."""
        if not before.is_binary and not mode.is_binary:
            return True
        try:
            data = encode(before, self.text()).data
        except PayloadError:
            return True
        shown = shown_as(data, mode)
        if shown is None:
            self._show_mode(before)
            self.show_error(f"These bytes are not text that can be edited as text: they stay {before.value}")
            return False
        set_plain_text(self.editor, shown)
        return True

    def _move_cursor_to(self, line: int | None, column: int | None) -> None:
        if line is None:
            return
        block = self.editor.document().findBlockByLineNumber(line - 1)
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.Right, n=max(0, (column or 1) - 1))
        self.editor.setTextCursor(cursor)


def send_shortcut(editor: PlainEditor, send: Callable[[], None], what: str = "Send the message") -> None:
    """Ctrl+Enter in ``editor`` calls ``send``."""
    for keys in ("Ctrl+Return", "Ctrl+Enter"):
        QShortcut(QKeySequence(keys), editor, send, context=Qt.ShortcutContext.WidgetShortcut, whatsThis=what)
