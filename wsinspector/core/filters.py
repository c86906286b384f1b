"""Which frames to show: a filter on direction, opcode and payload text, for the live log and for SQLite.

A :class:`FrameFilter` works on the packed header bits of a frame (``meta``, see
:func:`wsinspector.core.frames.pack_meta`) and its payload, so it runs over the columns of the in-memory
log without building :class:`~wsinspector.core.frames.Frame` objects. The same filter renders as an SQL
``WHERE`` fragment; :meth:`FrameFilter.matcher` and :meth:`FrameFilter.sql` select the same frames.

Text semantics: the text is searched in the payload decoded as UTF-8 with invalid bytes replaced by
U+FFFD, for text and binary frames alike. For a close frame the 2-byte close code is skipped, so the text
is searched in the close reason. Matching ignores case by default (``str.casefold``, so ``STRASSE``
finds ``straße``); a regular expression uses Python's :mod:`re` (``re.IGNORECASE`` unless case-sensitive).
"""

from __future__ import annotations

import re
import sqlite3
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from wsinspector.core.frames import META_DIRECTION_SHIFT, META_OPCODE_MASK, Direction, Opcode

__all__ = [
    "ChunkedScan",
    "FilterError",
    "FrameFilter",
    "Matcher",
    "find_next",
    "register_sql_functions",
]

#: (meta, payload) -> whether the frame passes the filter
Matcher = Callable[[int, bytes], bool]
#: fetch(first, last) -> (seq, meta, payload) for seqs first..last (both included), in order
Fetch = Callable[[int, int], Iterable[tuple[int, int, bytes]]]

_LOW_BITS = META_OPCODE_MASK | (1 << META_DIRECTION_SHIFT)  # opcode and direction: the low 5 bits
_CLOSE = int(Opcode.CLOSE)
_ALL_OPCODES = frozenset(Opcode)
_SQL_FUNCTION = "wsi_text_match"

# text modes shared by the matcher and the SQL function
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


def _text_matcher(mode: int, text: str, allowed: frozenset[int]) -> Matcher:
    """A matcher for frames whose low meta bits are in ``allowed`` and whose payload contains ``text``.

    Each case is its own closure so the per-frame work is as small as it can be: no decoding where the
    UTF-8 bytes can be searched directly, no case folding of ASCII payloads.
    """
    if mode in (_REGEX_CASE, _REGEX_NOCASE):
        search = _compile(text, mode == _REGEX_CASE).search

        def regex(meta: int, payload: bytes) -> bool:
            if (meta & _LOW_BITS) not in allowed:
                return False
            if meta & META_OPCODE_MASK == _CLOSE:
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
                if (meta & _LOW_BITS) not in allowed:
                    return False
                if meta & META_OPCODE_MASK == _CLOSE:
                    return payload.find(needle, 2) >= 0
                return needle in payload

            return plain_bytes

        def plain_decoded(meta: int, payload: bytes) -> bool:
            if (meta & _LOW_BITS) not in allowed:
                return False
            if meta & META_OPCODE_MASK == _CLOSE:
                payload = payload[2:]
            return text in payload.decode("utf-8", "replace")

        return plain_decoded

    folded = text.casefold()
    # An ASCII payload folds to ASCII, which bytes.lower() does without decoding. A folded text that is
    # not ASCII occurs in no ASCII payload.
    ascii_needle = folded.encode("ascii") if folded.isascii() else None

    def nocase(meta: int, payload: bytes) -> bool:
        if (meta & _LOW_BITS) not in allowed:
            return False
        if meta & META_OPCODE_MASK == _CLOSE:
            payload = payload[2:]
        if payload.isascii():
            return ascii_needle is not None and ascii_needle in payload.lower()
        return folded in payload.decode("utf-8", "replace").casefold()

    return nocase


_ANY_LOW_BITS = frozenset(range(_LOW_BITS + 1))


@lru_cache(maxsize=16)
def _sql_predicate(mode: int, needle: bytes) -> Matcher:
    return _text_matcher(mode, needle.decode("utf-8", "surrogatepass"), _ANY_LOW_BITS)


def _sql_text_match(meta: object, payload: object, mode: object, needle: object) -> int:
    # Called once per row: the common case (a BLOB payload, as stored) goes straight to the cached predicate.
    if type(payload) is bytes and type(meta) is int and type(mode) is int and type(needle) is bytes:
        return 1 if _sql_predicate(mode, needle)(meta, payload) else 0
    if not isinstance(meta, int) or not isinstance(mode, int) or not isinstance(needle, bytes):
        return 0
    if payload is None:  # SQLite yields NULL for some expressions over an empty BLOB
        payload = b""
    elif isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    if not isinstance(payload, bytes):
        return 0
    return 1 if _sql_predicate(mode, needle)(meta, payload) else 0


def register_sql_functions(db: sqlite3.Connection) -> None:
    """Register the SQL function that :meth:`FrameFilter.sql` fragments call for text matching.

    ``wsi_text_match(meta, payload, mode, text)`` is 1 when the frame's payload contains the text under the
    given mode (plain or regex, with or without case), exactly as :meth:`FrameFilter.matcher` decides.
    """
    db.create_function(_SQL_FUNCTION, 4, _sql_text_match, deterministic=True)


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
        """The values of the low 5 meta bits (opcode and direction) that pass."""
        directions = [1 if d is Direction.OUT else 0 for d in self.directions]
        opcodes = range(META_OPCODE_MASK + 1) if self._any_opcode() else [int(op) for op in self.opcodes or ()]
        return frozenset(op | (d << META_DIRECTION_SHIFT) for d in directions for op in opcodes)

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
            bit = 1 if Direction.OUT in self.directions else 0

            def by_direction(meta: int, payload: bytes) -> bool:
                return (meta >> META_DIRECTION_SHIFT) & 1 == bit

            return by_direction

        def by_meta(meta: int, payload: bytes) -> bool:
            return (meta & _LOW_BITS) in allowed

        return by_meta

    def sql(self) -> tuple[str, list[object]]:
        """A ``WHERE`` fragment over the columns ``meta`` (INTEGER, as pack_meta) and ``payload`` (BLOB).

        Returns the fragment and its parameters; ``"1"`` when the filter is empty. Text matching other than
        a plain case-sensitive search needs :func:`register_sql_functions` on the connection.
        Raises :class:`FilterError` on a bad regex.
        """
        self.validate()
        if self.is_empty():
            return "1", []
        clauses: list[str] = []
        params: list[object] = []
        if not self._any_direction():
            if not self.directions:
                return "0", []
            (direction,) = self.directions
            clauses.append(f"((meta >> {META_DIRECTION_SHIFT}) & 1) = {1 if direction is Direction.OUT else 0}")
        if not self._any_opcode():
            if not self.opcodes:
                return "0", []
            listed = ", ".join(str(int(op)) for op in sorted(self.opcodes))
            clauses.append(f"(meta & {META_OPCODE_MASK}) IN ({listed})")
        if self.text:
            mode = self._mode()
            if mode == _PLAIN_CASE and _has_surrogate(self.text):
                return "0", []
            searched = f"CASE WHEN (meta & {META_OPCODE_MASK}) = {_CLOSE} THEN substr(payload, 3) ELSE payload END"
            folded = self.text.casefold()
            if mode == _PLAIN_CASE and "\ufffd" not in self.text:
                clauses.append(f"instr({searched}, ?) > 0")
                params.append(self.text.encode("utf-8"))
            elif mode == _PLAIN_NOCASE and folded.isascii() and not _has_surrogate(self.text):
                # SQLite's lower() folds ASCII exactly as casefold() does, so it decides every payload made of
                # ASCII alone in C. length() of the payload as text counts characters up to a NUL: it is
                # shorter than the byte length exactly when a multibyte character (one that may fold to
                # ASCII, such as U+212A KELVIN SIGN) or a NUL is there; only those rows go to Python.
                as_text = f"CAST({searched} AS TEXT)"
                clauses.append(
                    f"instr(lower({as_text}), ?) > 0 OR (length({as_text}) < length({searched}) "
                    f"AND {_SQL_FUNCTION}(meta, payload, {mode}, ?))"
                )
                params.extend([folded.encode("ascii"), self.text.encode("utf-8")])
            else:
                clauses.append(f"{_SQL_FUNCTION}(meta, payload, {mode}, ?)")
                params.append(self.text.encode("utf-8", "surrogatepass"))
        return " AND ".join(f"({clause})" for clause in clauses), params


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
