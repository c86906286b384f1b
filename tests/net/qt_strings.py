"""What becomes of text that crosses a QWebSocket from Python (both QtConnection and the QtPeer test server).

QWebSocket takes and gives text as QString. PySide's conversion of a Python str to a QString reads a leading
U+FEFF / U+FFFE as a UTF-16 byte order mark: U+FEFF is dropped, and after U+FFFE the rest of the text is
byte-swapped. Incoming, a leading U+FEFF is dropped as well; U+FFFE is kept. Anywhere else both are kept."""

from __future__ import annotations


def qt_outgoing(text: str) -> str:
    """The text QWebSocket puts on the wire when sent ``text`` from Python."""
    if text.startswith("\ufeff"):
        return text[1:]
    if text.startswith("\ufffe"):
        return text[1:].encode("utf-16-be").decode("utf-16-le")
    return text


def qt_incoming(text: str) -> str:
    """The text Python gets from QWebSocket for ``text`` on the wire."""
    return text[1:] if text.startswith("\ufeff") else text
