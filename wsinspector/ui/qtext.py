"""Text into Qt widgets, exactly.

PySide's conversion of a Python ``str`` into a ``QString`` takes a leading U+FEFF for a byte-order mark and
drops it, and a leading U+FFFE for a byte-swapped one and swaps every character after it. Anywhere but at
the start both characters go through unchanged, and the way back (``QString`` to ``str``) is exact. So text
that starts with one of them is handed over behind a placeholder character, which is then deleted in Qt.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

#: what the conversion would change when a string starts with it
_MANGLED_FIRST = ("\ufeff", "\ufffe")
_PLACEHOLDER = "\u200b"
#: a line longer than this is shown unwrapped: Qt lays out a wrapped line that has nowhere to break in time that
#: grows with its square (300,000 characters: 12 s; unwrapped, 0.2 s)
LONG_LINE = 10_000


def has_long_line(text: str) -> bool:
    """Whether a line of ``text`` is longer than :data:`LONG_LINE`."""
    return len(text) > LONG_LINE and any(len(line) > LONG_LINE for line in text.splitlines())


def fit_wrap(edit: QPlainTextEdit, text: str) -> None:
    """Wrap ``edit``'s lines to its width, unless ``text`` has a line too long to wrap in good time."""
    long = has_long_line(text)
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap if long else QPlainTextEdit.LineWrapMode.WidgetWidth)


class PlainEditor(QPlainTextEdit):
    """A plain text editor that stops wrapping while it holds a line too long to wrap (pasted, typed or set with
    :func:`set_plain_text`), and wraps again once the text is short."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.textChanged.connect(self._rewrap)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if source.hasText() and has_long_line(source.text()):
            self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        super().insertFromMimeData(source)

    def _rewrap(self) -> None:
        if (self.lineWrapMode() is QPlainTextEdit.LineWrapMode.NoWrap
                and self.document().characterCount() <= LONG_LINE):
            self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)


def starts_mangled(text: str) -> bool:
    """Whether PySide would change ``text`` on its way into Qt."""
    return text[:1] in _MANGLED_FIRST


def set_plain_text(edit: QPlainTextEdit, text: str) -> None:
    """``edit.setPlainText(text)``, keeping a leading U+FEFF or U+FFFE; a line too long to wrap is not wrapped."""
    fit_wrap(edit, text)
    if not starts_mangled(text):
        edit.setPlainText(text)
        return
    document = edit.document()
    # the placeholder is nobody's business: one textChanged at the end, with the text as given
    blocked = edit.blockSignals(True)
    try:
        edit.setPlainText(_PLACEHOLDER + text)
        QTextCursor(document).deleteChar()
    finally:
        edit.blockSignals(blocked)
    document.clearUndoRedoStacks()
    document.setModified(False)
    edit.textChanged.emit()  # as setPlainText would have
    edit.moveCursor(QTextCursor.MoveOperation.Start)
