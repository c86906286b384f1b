"""Which frames to show: a filter on direction, opcode and payload text, for the live log and for stored chunks.

A :class:`FrameFilter` works on the packed header bits of a frame (``meta``, see
:mod:`wsinspector.core.model.header`) and its payload, so it runs over the columns of the in-memory
log without building :class:`~wsinspector.core.frames.Frame` objects. :func:`chunk_matches` applies it to a
stored chunk: a plain-text search looks for the text in the chunk's payloads at once and checks only where
it is found; :meth:`FrameFilter.matcher` and :func:`chunk_matches` select the same frames.

Text semantics: the text is searched in the payload decoded as UTF-8 with invalid bytes replaced by
U+FFFD, for text and binary frames alike. For a close frame the 2-byte close code is skipped, so the text
is searched in the close reason. Matching ignores case by default (``str.casefold``, so ``STRASSE``
finds ``straße``); a regular expression uses Python's :mod:`re` (``re.IGNORECASE`` unless case-sensitive).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wsinspector.core.chunks import Chunk
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header

__all__ = [
    "ChunkedScan",
    "FilterError",
    "FrameFilter",
    "Matcher",
    "chunk_matches",
    "find_next",
    "named_filter",
]

#: (meta, payload) -> whether the frame passes the filter
Matcher = Callable[[int, bytes], bool]
#: fetch(first, last) -> (seq, meta, payload) for seqs first..last (both included), in order
Fetch = Callable[[int, int], Iterable[tuple[int, int, bytes]]]

# the header module's masks, bound here for the per-frame matchers
_KIND_BITS = header.KIND_BITS
_OPCODE_BITS = header.OPCODE_BITS
_OUT_BIT = header.OUT_BIT
_HEADER_BITS = header.HEADER_BITS
_CLOSE = int(Opcode.CLOSE)
_ALL_OPCODES = frozenset(Opcode)

# text modes
_PLAIN_CASE = 0
_PLAIN_NOCASE = 1
_REGEX_CASE = 2
_REGEX_NOCASE = 3


class FilterError(ValueError):
    """A filter that cannot be applied; the message is meant for the user."""


def _compile(text: str, case_sensitive: bool) -> re.Pattern[str]:
    try:
        return re.compile(text, 0 if case_sensitive else re.IGNORECASE)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise FilterError(f"Invalid regular expression: {exc.msg}{where}") from None
    except (RecursionError, OverflowError):
        raise FilterError("Invalid regular expression: too large or nested too deeply") from None


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def _never(meta: int, payload: bytes) -> bool:
    return False


def _always(meta: int, payload: bytes) -> bool:
    return True


def _text_matcher(mode: int, text: str, allowed: frozenset[int]) -> Matcher:  # noqa: C901
    """A matcher for frames whose kind (see :func:`header.kind`) is in ``allowed`` and whose payload contains
    ``text``.

    Each case is its own closure so the per-frame work is as small as it can be: no decoding where the
    UTF-8 bytes can be searched directly, no case folding of ASCII payloads.
    """
    if mode in (_REGEX_CASE, _REGEX_NOCASE):
        search = _compile(text, mode == _REGEX_CASE).search

        def regex(meta: int, payload: bytes) -> bool:
            if (meta & _KIND_BITS) not in allowed:
                return False
            if meta & _OPCODE_BITS == _CLOSE:
                payload = payload[2:]
            return search(payload.decode("utf-8", "replace")) is not None

        return regex

    if _has_surrogate(text):
        # Decoding never yields a lone surrogate, so such text occurs in no payload.
        return _never

    if mode == _PLAIN_CASE:
        if "\ufffd" not in text:
            # The UTF-8 bytes of the text occur in the payload exactly when the text occurs in the decoded
            # payload: the text starts on a character boundary and never holds a replaced byte.
            needle = text.encode("utf-8")

            def plain_bytes(meta: int, payload: bytes) -> bool:
                if (meta & _KIND_BITS) not in allowed:
                    return False
                if meta & _OPCODE_BITS == _CLOSE:
                    return payload.find(needle, 2) >= 0
                return needle in payload

            return plain_bytes

        def plain_decoded(meta: int, payload: bytes) -> bool:
            if (meta & _KIND_BITS) not in allowed:
                return False
            if meta & _OPCODE_BITS == _CLOSE:
                payload = payload[2:]
            return text in payload.decode("utf-8", "replace")

        return plain_decoded

    folded = text.casefold()
    # An ASCII payload folds to ASCII, which bytes.lower() does without decoding. A folded text that is
    # not ASCII occurs in no ASCII payload.
    ascii_needle = folded.encode("ascii") if folded.isascii() else None

    def nocase(meta: int, payload: bytes) -> bool:
        if (meta & _KIND_BITS) not in allowed:
            return False
        if meta & _OPCODE_BITS == _CLOSE:
            payload = payload[2:]
        if payload.isascii():
            return ascii_needle is not None and ascii_needle in payload.lower()
        return folded in payload.decode("utf-8", "replace").casefold()

    return nocase


@dataclass(frozen=True, slots=True)
class FrameFilter:
    """What to show: frames of the chosen directions and opcodes whose payload contains ``text``.

    ``opcodes=None`` (or a set of every opcode) means any opcode; an empty ``text`` means any payload.
    An empty set of directions or opcodes matches nothing.
    """

    directions: frozenset[Direction] = frozenset(Direction)
    opcodes: frozenset[Opcode] | None = None
    text: str = ""
    regex: bool = False
    case_sensitive: bool = False

    def _any_opcode(self) -> bool:
        return self.opcodes is None or self.opcodes >= _ALL_OPCODES

    def _any_direction(self) -> bool:
        return len(self.directions) == len(Direction)

    def is_empty(self) -> bool:
        """Whether the filter lets every frame through."""
        return self._any_direction() and self._any_opcode() and not self.text

    def _mode(self) -> int:
        if self.regex:
            return _REGEX_CASE if self.case_sensitive else _REGEX_NOCASE
        return _PLAIN_CASE if self.case_sensitive else _PLAIN_NOCASE

    def _allowed(self) -> frozenset[int]:
        """The kinds of frame (opcode and direction, see :func:`header.kind`) that pass."""
        return header.kinds(self.directions, None if self._any_opcode() else self.opcodes or ())

    def validate(self) -> None:
        """Raise :class:`FilterError` when the filter cannot be applied (an invalid regular expression)."""
        if self.regex and self.text:
            _compile(self.text, self.case_sensitive)

    def matcher(self) -> Matcher:
        """A fast ``(meta, payload) -> bool`` for this filter; raises :class:`FilterError` on a bad regex."""
        if self.is_empty():
            return _always
        allowed = self._allowed()
        if not allowed:
            self.validate()
            return _never
        if self.text:
            return _text_matcher(self._mode(), self.text, allowed)
        if self._any_opcode():  # only the direction is filtered
            out = _OUT_BIT if Direction.OUT in self.directions else 0

            def by_direction(meta: int, payload: bytes) -> bool:
                return meta & _OUT_BIT == out

            return by_direction

        def by_meta(meta: int, payload: bytes) -> bool:
            return (meta & _KIND_BITS) in allowed

        return by_meta


_OPCODES_BY_LABEL = {opcode.label: opcode for opcode in Opcode}


def named_filter(direction: str = "", opcodes: Iterable[str] = (), text: str = "", regex: bool = False,
                 case_sensitive: bool = False) -> FrameFilter:
    """A filter from names, as a script gives them: ``direction`` "in", "out" or "" (both), ``opcodes`` by label
    ("text", "binary", "close", "ping", "pong", "continuation"; none: any). Raises :class:`FilterError` saying
    which name is unknown, or why the regular expression cannot be used."""
    directions = frozenset(Direction)
    if direction:
        try:
            directions = frozenset({Direction(direction.strip().lower())})
        except ValueError:
            raise FilterError(f"Unknown direction {direction!r}: use \"in\" or \"out\"") from None
    chosen: set[Opcode] = set()
    for label in opcodes:
        opcode = _OPCODES_BY_LABEL.get(label.strip().lower())
        if opcode is None:
            raise FilterError(f"Unknown opcode {label!r}: use {', '.join(_OPCODES_BY_LABEL)}")
        chosen.add(opcode)
    flt = FrameFilter(directions, frozenset(chosen) if chosen else None, text, regex, case_sensitive)
    flt.validate()
    return flt


def _needle(flt: FrameFilter) -> tuple[bytes, bool] | None:
    """(bytes to look for, whether to lower-case the payloads first) when the filter's text can be searched
    for in raw payload bytes, else None."""
    text = flt.text
    if not text or flt.regex or _has_surrogate(text):
        return None
    if flt.case_sensitive:
        return (text.encode("utf-8"), False) if "\ufffd" not in text else None
    folded = text.casefold()
    return (folded.encode("ascii"), True) if folded.isascii() else None


def chunk_matches(flt: FrameFilter, chunk: Chunk, lo: int, hi: int) -> list[int]:
    """The indexes in ``lo``..``hi - 1`` of ``chunk``'s frames that ``flt`` lets through.

    A plain text (case-sensitive, or ASCII without case over ASCII payloads) is looked for in the chunk's
    payloads at once: each place it occurs is checked to lie inside one frame's payload (past a close
    frame's code), and the search goes on from the end of that frame. Anything else runs the matcher per
    frame.
    """
    if hi <= lo:
        return []
    if flt.is_empty():
        return list(range(lo, hi))
    meta = chunk.meta
    allowed = flt._allowed()
    if not flt.text:
        match = flt.matcher()
        return [i for i in range(lo, hi) if match(meta[i] & _HEADER_BITS, b"")]
    needle = _needle(flt)
    ends = chunk.ends
    begin, stop = chunk.start(lo), ends[hi - 1]
    haystack: bytes = chunk.payload
    shift = 0  # where haystack starts in the chunk's payloads
    if needle is not None and needle[1]:
        view = haystack[begin:stop]
        if view.isascii():
            haystack, shift = view.lower(), begin
        else:
            needle = None  # a payload that is not ASCII may fold to the text: frame by frame
    if needle is None:
        match = flt.matcher()
        return [i for i in range(lo, hi) if match(meta[i] & _HEADER_BITS, chunk.payload_of(i))]
    wanted = needle[0]
    size = len(wanted)
    find = haystack.find
    found: list[int] = []
    pos = find(wanted, begin - shift, stop - shift)
    while pos >= 0:
        at = pos + shift
        index = chunk.index_of_offset(at)
        frame_meta = meta[index]
        if at + size > ends[index] or ((frame_meta & _OPCODE_BITS) == _CLOSE and at < chunk.start(index) + 2):
            pos = find(wanted, pos + 1, stop - shift)  # across two payloads, or in a close code: look further
            continue
        if (frame_meta & _KIND_BITS) in allowed:
            found.append(index)
        pos = find(wanted, ends[index] - shift, stop - shift)
    return found


class ChunkedScan:
    """Scan seqs [0, total) with fetch(first, last) -> iterable of (seq, meta, payload) in order; collect
    matching seqs.

    ``fetch(first, last)`` returns the frames ``first`` to ``last``, both included (as ``FrameLog.rows``).
    Each :meth:`step` fetches and scans one chunk, so a UI can show ``done / total`` and stop at any time.
    """

    def __init__(self, flt: FrameFilter, total: int, fetch: Fetch, chunk: int = 50_000) -> None:
        if chunk <= 0:
            raise ValueError("chunk must be positive")
        self.filter = flt
        self.total = max(total, 0)
        self.done = 0
        self.matches: array[int] = array("q")
        self._fetch = fetch
        self._chunk = chunk
        self._matcher = flt.matcher()  # a bad regex raises here, before any work
        self._everything = flt.is_empty()

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def step(self) -> bool:
        """Process one chunk; True when finished."""
        if self.done >= self.total:
            return True
        first = self.done
        last = min(first + self._chunk, self.total) - 1
        rows = self._fetch(first, last)
        if self._everything:
            self.matches.extend(seq for seq, _meta, _payload in rows)
        else:
            match, append = self._matcher, self.matches.append
            for seq, meta, payload in rows:
                if match(meta, payload):
                    append(seq)
        self.done = last + 1
        return self.done >= self.total

    def run(self) -> array[int]:
        """Scan everything left at once and return the matches."""
        while not self.step():
            pass
        return self.matches


def _first_match(match: Matcher, fetch: Fetch, first: int, last: int, chunk: int) -> int | None:
    for lo in range(first, last + 1, chunk):
        for seq, meta, payload in fetch(lo, min(lo + chunk - 1, last)):
            if match(meta, payload):
                return seq
    return None


def _last_match(match: Matcher, fetch: Fetch, first: int, last: int, chunk: int) -> int | None:
    for hi in range(last, first - 1, -chunk):
        found = None
        for seq, meta, payload in fetch(max(hi - chunk + 1, first), hi):
            if match(meta, payload):
                found = seq
        if found is not None:
            return found
    return None


def find_next(flt: FrameFilter, start: int, total: int, fetch: Fetch, backwards: bool = False, wrap: bool = True,
              chunk: int = 50_000) -> int | None:
    """The next matching seq after ``start`` (or before it, ``backwards``), never ``start`` itself.

    ``start`` may lie outside [0, total), e.g. -1 to search from the top or ``total`` to search backwards
    from the bottom. With ``wrap`` the search continues from the other end up to ``start``. None when no
    other frame matches. Raises :class:`FilterError` on a bad regex.
    """
    if chunk <= 0:
        raise ValueError("chunk must be positive")
    match = flt.matcher()
    if total <= 0:
        return None
    if not backwards:
        found = _first_match(match, fetch, max(start + 1, 0), total - 1, chunk)
        if found is None and wrap:
            found = _first_match(match, fetch, 0, min(start, total) - 1, chunk)
    else:
        found = _last_match(match, fetch, 0, min(start, total) - 1, chunk)
        if found is None and wrap:
            found = _last_match(match, fetch, max(start + 1, 0), total - 1, chunk)
    return found
