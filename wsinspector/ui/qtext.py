"""Text into and out of Qt widgets, exactly.

PySide's conversion of a Python ``str`` into a ``QString`` takes a leading U+FEFF for a byte-order mark and
drops it, and a leading U+FFFE for a byte-swapped one and swaps every character after it. Anywhere but at
the start both characters go through unchanged, and the way back (``QString`` to ``str``) is exact. So text
that starts with one of them is handed over behind a placeholder character, which is then deleted in Qt.

A ``QTextDocument`` keeps lines as blocks: a CR, a CRLF, an LF, U+2029 and the non-characters U+FDD0 and U+FDD1
all become the same block break, and ``toPlainText`` turns U+00A0 into a space and U+2028 into an LF.
:class:`PlainEditor` reads its text from the document's raw characters and puts every character the document
would change (and the other invisible controls, and U+FEFF/U+FFFE) in as a visible symbol that carries the
character it stands for: what is pasted, typed or set is what :meth:`PlainEditor.toPlainText` gives back.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QPoint, Qt
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QGuiApplication,
    QHelpEvent,
    QInputMethodEvent,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QToolTip, QWidget

#: what the conversion would change when a string starts with it
_MANGLED_FIRST = ("\ufeff", "\ufffe")
_PLACEHOLDER = "\u200b"
#: a line longer than this is shown unwrapped: Qt lays out a wrapped line that has nowhere to break in time that
#: grows with its square (300,000 characters: 12 s; unwrapped, 0.2 s)
LONG_LINE = 10_000

#: the characters :class:`PlainEditor` shows as a symbol, and the symbol: CR as ⏎ (in the common fonts, which lack
#: the control pictures), the other C0 controls (but tab and LF) and DEL as their control pictures (␀ ␛ …), U+2029
#: as ¶, the non-characters Qt uses itself, U+FFFE and U+FEFF as �
SYMBOLS: dict[str, str] = {
    **{chr(code): chr(0x2400 + code) for code in range(32) if chr(code) not in "\t\n"},
    "\r": "\u23ce",
    "\x7f": "\u2421",
    "\u2029": "\u00b6",
    "\ufdd0": "\ufffd",
    "\ufdd1": "\ufffd",
    "\ufeff": "\ufffd",
    "\ufffe": "\ufffd",
}
_SPECIAL = re.compile("[" + re.escape("".join(SYMBOLS)) + "]")
_SHOWN = re.compile("[" + re.escape("".join(sorted(set(SYMBOLS.values())))) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
#: the symbols that stand for one character only
_STANDS_FOR = {symbol: char for char, symbol in SYMBOLS.items() if list(SYMBOLS.values()).count(symbol) == 1}
_NAMES = {"\x00": "null", "\r": "carriage return", "\x1b": "escape", "\x7f": "delete", "\ufeff": "byte-order mark",
          "\ufffe": "not a character", "\ufdd0": "not a character", "\ufdd1": "not a character"}
#: the character format property that holds the character a symbol stands for
ORIGINAL = QTextFormat.Property.UserProperty + 0x5753


def has_long_line(text: str) -> bool:
    """Whether a line of ``text`` is longer than :data:`LONG_LINE`."""
    return len(text) > LONG_LINE and any(len(line) > LONG_LINE for line in text.splitlines())


def fit_wrap(edit: QPlainTextEdit, text: str) -> None:
    """Wrap ``edit``'s lines to its width, unless ``text`` has a line too long to wrap in good time."""
    long = has_long_line(text)
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap if long else QPlainTextEdit.LineWrapMode.WidgetWidth)


def symbol_tip(char: str) -> str:
    """What the tooltip of a symbol says about the character it stands for."""
    name = _NAMES.get(char) or unicodedata.name(char, "control character").lower()
    return f"U+{ord(char):04X} ({name}): kept and sent as it is"


def insert_exact(cursor: QTextCursor, text: str, symbol_color: QColor | None = None,
                 symbol_background: QColor | None = None) -> None:
    """Insert ``text`` at ``cursor`` (replacing its selection) so that :func:`document_text` gives it back: a
    character the document would change goes in as its symbol, marked with the character (one undo step)."""
    plain = QTextCharFormat()
    cursor.beginEditBlock()
    try:
        cursor.removeSelectedText()
        start = 0
        for match in _SPECIAL.finditer(text):
            if match.start() > start:
                cursor.insertText(text[start:match.start()], plain)
            char = match.group()
            marked = QTextCharFormat()
            marked.setProperty(ORIGINAL, ord(char))  # a number: a string "\ufeff" would lose it on the way in
            if symbol_color is not None:
                marked.setForeground(symbol_color)
            if symbol_background is not None:
                marked.setBackground(symbol_background)
            cursor.insertText(SYMBOLS[char], marked)
            start = match.end()
        if start < len(text):
            cursor.insertText(text[start:], plain)
    finally:
        cursor.endEditBlock()


def document_text(document: QTextDocument, start: int = 0, end: int | None = None, *, literal: bool = True) -> str:
    """The text of ``document`` (from position ``start`` to ``end``, Qt's positions) as it was put in with
    :func:`insert_exact`: the raw characters, a block break as LF, a marked symbol as the character it stands
    for. ``literal`` False says no symbol character was put in as itself: a control picture or ¶ is then a symbol
    without looking."""
    raw = document.toRawText()
    # Qt counts UTF-16 units, Python characters: a character beyond U+FFFF is two positions in Qt
    astral = [match.start() for match in _ASTRAL.finditer(raw)]
    in_qt = [index + count for count, index in enumerate(astral)]
    start = start - bisect.bisect_left(in_qt, start)
    end = len(raw) if end is None else min(len(raw), end - bisect.bisect_left(in_qt, end))
    parts: list[str] = []
    done = start
    cursor = QTextCursor(document)
    for match in _SHOWN.finditer(raw, start, end):
        original = None if literal else _STANDS_FOR.get(match.group())
        if original is None:
            # the format of the character before the position
            cursor.setPosition(match.start() + bisect.bisect_left(astral, match.start()) + 1)
            code = cursor.charFormat().property(ORIGINAL)
            if isinstance(code, int) and SYMBOLS.get(chr(code)) == match.group():
                original = chr(code)
        if original is not None:
            parts.append(raw[done:match.start()].replace("\u2029", "\n"))
            parts.append(original)
            done = match.end()
    parts.append(raw[done:end].replace("\u2029", "\n"))
    return "".join(parts)


def mime_text(source: QMimeData) -> str | None:
    """The text of pasted or dropped data, exactly: its UTF-8 bytes decoded here (``QMimeData.text()`` drops a
    leading byte-order mark), else as Qt gives it; None when it holds no text."""
    for kind in ("text/plain;charset=utf-8", "text/plain"):
        if source.hasFormat(kind):
            try:
                return bytes(source.data(kind).data()).decode("utf-8")
            except UnicodeDecodeError:
                break
    return source.text() if source.hasText() else None


class PlainEditor(QPlainTextEdit):
    """A plain text editor whose text is exactly what was typed, pasted, dropped or set (see the module's note;
    ``toPlainText``, ``setPlainText`` and ``insertPlainText`` are exact, and a copy out of it is too). It stops
    wrapping while it holds a line too long to wrap, and wraps again once the text is short. Shift+Enter breaks the
    line as Enter does."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.textChanged.connect(self._rewrap)
        self.cursorPositionChanged.connect(self._plain_after_symbol)
        #: whether a character that is also a symbol (⏎, ¶ …) was ever put in as itself
        self._literal = False

    def _symbol_colors(self) -> tuple[QColor, QColor]:
        """A symbol's colour and background: set apart from the text, so that it reads as one character."""
        palette = self.palette()
        background = QColor(palette.color(QPalette.ColorRole.Highlight))
        background.setAlpha(48)
        return palette.color(QPalette.ColorRole.Text), background

    def symbol_at(self, point: QPoint) -> str | None:
        """The character the symbol at ``point`` (in the viewport) stands for, or None when there is none."""
        cursor = self.cursorForPosition(point)
        for position in (cursor.position() + 1, cursor.position()):
            if 0 < position < self.document().characterCount():
                cursor.setPosition(position)
                code = cursor.charFormat().property(ORIGINAL)
                if isinstance(code, int) and chr(code) in SYMBOLS:
                    return chr(code)
        return None

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            char = self.symbol_at(event.pos())
            if char is not None:
                QToolTip.showText(event.globalPos(), symbol_tip(char), self.viewport())
                return True
        return super().viewportEvent(event)

    def toPlainText(self) -> str:
        return document_text(self.document(), literal=self._literal)

    def _note_literal(self, text: str) -> None:
        self._literal = self._literal or bool(_SHOWN.search(text))

    def setPlainText(self, text: str) -> None:
        fit_wrap(self, text)
        self._literal = False
        self._note_literal(text)
        document = self.document()

        def fill() -> None:
            super(PlainEditor, self).setPlainText("")
            insert_exact(QTextCursor(document), text, *self._symbol_colors())

        _filled_quietly(self, fill)

    def insertPlainText(self, text: str) -> None:
        if has_long_line(text):
            self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._note_literal(text)
        cursor = self.textCursor()
        insert_exact(cursor, text, *self._symbol_colors())
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def insertFromMimeData(self, source: QMimeData) -> None:
        text = mime_text(source)
        if text is not None:
            self.insertPlainText(text)

    def createMimeDataFromSelection(self) -> QMimeData:
        cursor = self.textCursor()
        text = document_text(self.document(), cursor.selectionStart(), cursor.selectionEnd(), literal=self._literal)
        data = QMimeData()
        data.setData("text/plain;charset=utf-8", text.encode("utf-8"))
        data.setData("text/plain", text.encode("utf-8"))
        return data

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and event.modifiers() == Qt.KeyboardModifier.ShiftModifier:
            self.insertPlainText("\n")  # not U+2028, which Qt would put in
            return
        text = event.text()
        self._note_literal(text)
        if text and text.isprintable() and _types(event.modifiers()) and self.textCursor().hasSelection():
            self._replace_selection(text)
            return
        super().keyPressEvent(event)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        text = event.commitString()
        self._note_literal(text)
        if text and not event.preeditString() and self.textCursor().hasSelection():
            self._replace_selection(text)
            return
        super().inputMethodEvent(event)

    def _replace_selection(self, text: str) -> None:
        """Typed text in place of the selection, as plain text: Qt would type it in the format of the character
        before the cursor, a symbol's when the selection was made backwards from just after one."""
        cursor = self.textCursor()
        cursor.insertText(text, QTextCharFormat())
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def _plain_after_symbol(self) -> None:
        """What is typed after a symbol is plain text, not another marked symbol."""
        # (with a selection, setCurrentCharFormat would apply the format to the selected text, unmarking it)
        if not self.textCursor().hasSelection() and self.currentCharFormat().hasProperty(ORIGINAL):
            self.setCurrentCharFormat(QTextCharFormat())

    def _rewrap(self) -> None:
        if (self.lineWrapMode() is QPlainTextEdit.LineWrapMode.NoWrap
                and self.document().characterCount() <= LONG_LINE):
            self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)


def _types(modifiers: Qt.KeyboardModifier) -> bool:
    """Whether a key with these modifiers types its text rather than being a shortcut (Ctrl+V's text can be
    "v"); Ctrl+Alt together is AltGr on some systems."""
    control, alt = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier
    shortcut = control | alt | Qt.KeyboardModifier.MetaModifier
    return not modifiers & shortcut or bool(modifiers & control and modifiers & alt)


def starts_mangled(text: str) -> bool:
    """Whether PySide would change ``text`` on its way into Qt."""
    return text[:1] in _MANGLED_FIRST


def set_plain_text(edit: QPlainTextEdit, text: str) -> None:
    """``edit.setPlainText(text)``, keeping a leading U+FEFF or U+FFFE; a line too long to wrap is not wrapped.
    A :class:`PlainEditor` keeps every character."""
    if isinstance(edit, PlainEditor):
        edit.setPlainText(text)
        return
    fit_wrap(edit, text)
    if not starts_mangled(text):
        edit.setPlainText(text)
        return
    def fill() -> None:  # the placeholder is nobody's business
        edit.setPlainText(_PLACEHOLDER + text)
        QTextCursor(edit.document()).deleteChar()

    _filled_quietly(edit, fill)


def _filled_quietly(edit: QPlainTextEdit, fill: Callable[[], None]) -> None:
    """``fill`` the editor's document as setPlainText would: one textChanged at the end, with the text as given,
    nothing to undo, not modified, the cursor at the start."""
    blocked = edit.blockSignals(True)
    try:
        fill()
    finally:
        edit.blockSignals(blocked)
    document = edit.document()
    document.clearUndoRedoStacks()
    document.setModified(False)
    edit.textChanged.emit()  # as setPlainText would have
    edit.moveCursor(QTextCursor.MoveOperation.Start)


class ExactLineEdit(QLineEdit):
    """A line edit whose paste (Ctrl+V, or Paste in its menu) keeps every character of the clipboard's text:
    Qt's own paste takes the clipboard's text without a leading U+FEFF. What a line edit holds is exact."""

    def paste(self) -> None:
        text = mime_text(QGuiApplication.clipboard().mimeData())
        if text is not None and not self.isReadOnly():
            self.insert_exact(text)

    def insert_exact(self, text: str) -> None:
        """Insert ``text`` at the cursor, replacing the selection (a leading U+FEFF or U+FFFE too)."""
        if not starts_mangled(text):
            self.insert(text)
            return
        self.insert(_PLACEHOLDER + text)
        end = self.cursorPosition()
        start = end - len(text.encode("utf-16-le")) // 2 - 1  # the position counts UTF-16 units
        self.setSelection(start, 1)
        self.del_()
        self.setCursorPosition(end - 1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu()
        for action in menu.actions():
            if action.objectName() == "edit-paste":
                action.triggered.disconnect()
                action.triggered.connect(self.paste)
        menu.exec(event.globalPos())
        menu.deleteLater()
