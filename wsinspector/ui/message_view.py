"""The timeline's message view: one row per message, a fragmented message folded into the row of its first
frame, and the columns that read a row's wall-clock time.

The rows are the seqs the session's :meth:`~wsinspector.core.session.Session.message_starts` gives (read from
the packed header columns with numpy); a row's message is assembled by the session (``message_for``) only when
the row is drawn, and only a few of those are kept.
"""

from __future__ import annotations

from array import array
from datetime import datetime

from wsinspector.core.frames import Message, Opcode
from wsinspector.core.model import header as frame_header
from wsinspector.core.payloads import preview
from wsinspector.core.session import Session

#: messages kept for the rows on screen (the rest are assembled again when drawn)
CACHED_MESSAGES = 512
#: the columns a folded row shows differently from its first frame: opcode, FIN, size, preview
_OPCODE, _FIN, _SIZE, _PREVIEW = 3, 4, 5, 6
_PREVIEW_CHARS = 160


def format_wall(source: Session, seq: int) -> str:
    """The local time of day a frame was read or written, to the microsecond."""
    if seq in source.dropped:
        return ""
    wall = source.started_wall + (source.ts_ns(seq) - source.started_ns) / 1e9
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")


class MessageRows:
    """Which seqs the message view shows, and the messages of the folded rows drawn lately."""

    def __init__(self) -> None:
        self.on = False
        #: the seqs that start a row, over the frames below ``_upto``
        self.starts = array("q")
        self._upto = 0
        self._cache: dict[int, Message | None] = {}

    def reset(self, source: Session | None, count: int) -> None:
        """A new source (or none): its rows are read now when the view is on."""
        self._cache.clear()
        self.starts = array("q")
        self._upto = 0
        if self.on:
            self.extend_to(source, count)

    def switch(self, on: bool, source: Session | None, count: int) -> None:
        self.on = on
        self.reset(source, count)

    def extend_to(self, source: Session | None, count: int) -> None:
        """Take the frames up to ``count`` (exclusive) into the rows."""
        if self.on and source is not None and count > self._upto:
            self.append(source, self._upto, count - 1)

    def append(self, source: Session, first: int, last: int) -> array[int]:
        """The rows frames ``first``..``last`` start (kept, and returned)."""
        first = max(first, self._upto)
        if last < first:
            return array("q")
        added = source.message_starts(first, last)
        self.starts.extend(added)
        self._upto = last + 1
        # a message folded into an earlier row may have grown: those rows are assembled again
        self._cache = {seq: message for seq, message in self._cache.items() if message is not None}
        return added

    def intersect(self, rows: array[int]) -> array[int]:
        """The seqs of ``rows`` (ascending) that start a row."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        both = np.intersect1d(np.asarray(rows, dtype=np.int64), np.asarray(self.starts, dtype=np.int64),
                              assume_unique=True)
        return array("q", both.astype(np.int64).tobytes())

    def message(self, source: Session, seq: int) -> Message | None:
        if seq in self._cache:
            return self._cache[seq]
        message = source.message_for(seq)
        if len(self._cache) >= CACHED_MESSAGES:
            self._cache.clear()
        self._cache[seq] = message
        return message


def folded(source: Session, seq: int) -> bool:
    """Whether the row of ``seq`` stands for more than its frame: a data frame that more frames continue."""
    meta = source.meta(seq)
    return frame_header.opcode(meta) in (Opcode.TEXT, Opcode.BINARY) and frame_header.fin(meta) is False


def message_display(rows: MessageRows, source: Session, seq: int, col: int) -> str | None:
    """What a folded row shows in ``col`` (None: what its first frame shows)."""
    if seq in source.dropped or not folded(source, seq):
        return None
    opcode = frame_header.opcode(source.meta(seq))
    message = rows.message(source, seq)
    if message is None:
        return f"{opcode.label} · incomplete" if col == _OPCODE else None
    if col == _OPCODE:
        return f"{opcode.label} · {message.frame_count} frames"
    if col == _FIN:
        return "1"
    if col == _SIZE:
        size = f"{len(message.payload):,}"
        return f"{size} ◆" if frame_header.rsv1(source.meta(seq)) else size
    return preview(message.payload[: _PREVIEW_CHARS * 4], opcode is Opcode.TEXT, limit=_PREVIEW_CHARS)
