"""Text into Qt widgets, exactly.

PySide's conversion of a Python ``str`` into a ``QString`` takes a leading U+FEFF for a byte-order mark and
drops it, and a leading U+FFFE for a byte-swapped one and swaps every character after it. Anywhere but at
the start both characters go through unchanged, and the way back (``QString`` to ``str``) is exact. So text
that starts with one of them is handed over behind a placeholder character, which is then deleted in Qt.
"""

from __future__ import annotations

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

#: what the conversion would change when a string starts with it
_MANGLED_FIRST = ("\ufeff", "\ufffe")
_PLACEHOLDER = "\u200b"


def starts_mangled(text: str) -> bool:
    """Whether PySide would change ``text`` on its way into Qt."""
    return text[:1] in _MANGLED_FIRST


def set_plain_text(edit: QPlainTextEdit, text: str) -> None:
    """``edit.setPlainText(text)``, keeping a leading U+FEFF or U+FFFE."""
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
