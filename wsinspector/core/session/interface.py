"""The session interface: one shape for a live log and a stored session.

Readers (the timeline, the detail pane, the latency graph, filters, export, tests made from sessions) take a
:class:`Session` and never ask which kind it is. The store records a live session through the narrower
:class:`FrameColumns`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple, Protocol

from wsinspector.core.frames import Direction, Frame, Message, Opcode

if TYPE_CHECKING:
    from wsinspector.core.filters import FrameFilter


class Columns(NamedTuple):
    """Frames ``first`` to ``first + len(ts) - 1`` as columns."""

    first: int
    #: monotonic ns of each frame
    ts: array[int]
    #: packed header bits and the log's flags of each frame (see :mod:`wsinspector.core.model.header`)
    meta: array[int]
    #: where each payload starts, and after the last where it ends: frame i is
    #: ``payload[offsets[i] - offsets[0]:offsets[i + 1] - offsets[0]]``
    offsets: array[int]
    #: the payloads end to end
    payload: bytes
    #: (index in the run, payload length when it differs, mask key, note) of the frames with rare fields, in order
    extras: list[tuple[int, int | None, bytes | None, str | None]]


class FrameColumns(Protocol):
    """What the store reads to record a live session: runs of frames as columns, and their counters."""

    def __len__(self) -> int: ...

    def columns(self, first: int, end: int) -> Columns:
        """Frames ``first`` up to ``end`` (exclusive)."""
        ...

    def counts(self, first: int, last: int) -> tuple[int, int, int, int]:
        """(frames in, frames out, payload bytes in, payload bytes out) of frames ``first``..``last``."""
        ...


class Session(Protocol):
    """A session's frames numbered from 0, the messages they make, its pings and pongs, events and counters."""

    @property
    def started_ns(self) -> int: ...

    @property
    def started_wall(self) -> float: ...

    def __len__(self) -> int: ...

    @property
    def dropped(self) -> range:
        """Seqs of frames that are not kept (a live view that does not record keeps only its newest frames):
        they read as empty frames, and filters and find pass them by."""
        ...

    # -- frames -----------------------------------------------------------------------------------

    def ts_ns(self, seq: int) -> int: ...
    def meta(self, seq: int) -> int: ...
    def origin(self, seq: int) -> int:
        """The frame's marks (``header.MARK_BITS``): what sent an outgoing frame when it was not the user's own
        send (``header.ORIGIN_BITS``), and ``header.UPSTREAM`` for a frame of a recording proxy's upstream hop."""
        ...

    def direction(self, seq: int) -> Direction: ...
    def opcode(self, seq: int) -> Opcode: ...
    def size(self, seq: int) -> int:
        """The payload length on the wire when known (a compressed frame's compressed bytes), else the data's."""
        ...

    def payload_size(self, seq: int) -> int:
        """The length of the payload as delivered (decompressed)."""
        ...

    def payload_head(self, seq: int, limit: int) -> bytes: ...
    def payload(self, seq: int) -> bytes: ...
    def note(self, seq: int) -> str: ...
    def frame(self, seq: int) -> Frame: ...

    def frames(self, first: int, last: int) -> Iterator[Frame]:
        """Frames ``first``..``last`` (inclusive), in order."""
        ...

    def scan(self, first: int, last: int) -> Iterable[tuple[int, int, bytes]]:
        """(seq, meta, payload) of frames ``first``..``last``, for filters and find."""
        ...

    def match_seqs(self, flt: FrameFilter, first: int, last: int) -> list[int]:
        """Seqs in ``first``..``last`` that ``flt`` lets through. Raises FilterError on a bad regex."""
        ...

    def seq_at_or_after(self, ts_ns: int) -> int:
        """The first seq stamped at or after ``ts_ns`` (``len(self)`` when none)."""
        ...

    def relative_us(self, frame: Frame | int) -> float: ...

    # -- messages ---------------------------------------------------------------------------------

    def data_opcode(self, seq: int) -> Opcode:
        """TEXT or BINARY for a data frame (a continuation takes its message's), else the frame's own opcode."""
        ...

    def message_for(self, seq: int) -> Message | None:
        """The complete message a data frame belongs to (None: a control frame, or not complete)."""
        ...

    def iter_messages(self) -> Iterator[Message]:
        """Every complete data message, in the order they completed."""
        ...

    def message_starts(self, first: int, last: int) -> array[int]:
        """The seqs in ``first``..``last`` that start a row of the message view: every frame but a continuation
        (a fragmented message is one row at its first frame; control and damaged frames a row each). Read from
        the packed headers alone, with numpy."""
        ...

    # -- control frames, RTTs, events -------------------------------------------------------------

    def rtt_ns(self, seq: int) -> int | None: ...
    def is_unsolicited(self, seq: int) -> bool: ...

    @property
    def rtt_samples(self) -> list[tuple[int, int, int]]:
        """(pong seq, pong monotonic ns, rtt ns) of every answered ping, in order."""
        ...

    @property
    def events(self) -> list[tuple[int, str, str]]:
        """(monotonic ns, kind, text) of the connection's events, in order."""
        ...

    def starts_segment(self, seq: int) -> bool: ...

    # -- counters ---------------------------------------------------------------------------------

    @property
    def frames_in(self) -> int: ...
