"""Whether bytes are UTF-8: whole (a text message), or could still become so (the start of one, cut anywhere)."""

from __future__ import annotations

import codecs

__all__ = ["can_be_utf8", "is_utf8"]


def is_utf8(data: bytes) -> bool:
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


def can_be_utf8(start: bytes) -> bool:
    """Whether some bytes could follow ``start`` to make valid UTF-8 (it may end inside a character)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(start)
    except UnicodeDecodeError:
        return False
    return True
