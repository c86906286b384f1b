"""Counts in sentences: "1 step", "2 steps", "1,024 frames" (the one place a noun follows its number); a long value
cut for a printed line."""

from __future__ import annotations

#: how many characters of a value (a request path, a header, a reason) a printed status line shows
SHOWN_CHARS = 200

#: nouns whose plural is not the singular with an "s"
_IRREGULAR = {"entry": "entries", "match": "matches", "reply": "replies", "body": "bodies"}


def plural(count: int, noun: str) -> str:
    """``noun`` as ``count`` of it reads: the singular for exactly one, the plural otherwise (zero included)."""
    if count == 1:
        return noun
    return _IRREGULAR.get(noun, noun + "s")


def counted(count: int, noun: str) -> str:
    """``count`` with thousands separators, then ``noun`` in the number it needs: ``counted(1, "step")`` is
    "1 step", ``counted(1200, "frame")`` "1,200 frames"."""
    return f"{count:,} {plural(count, noun)}"


def shortened(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` as a status line prints it: whole up to ``limit`` characters, else its start and its whole size
    ("/aaaa… (5,003 bytes)"). Cut what is already redacted: a secret cut in two would not be masked."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({counted(len(text.encode('utf-8', 'surrogateescape')), 'byte')})"
