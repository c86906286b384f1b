"""Message assembly: data frames of both directions in, complete messages out.

The one place a session's frames become messages, for the live log (frame by frame, as they arrive) and for a
stored session (over a run of frames read back). A broken fragment sequence (RFC 6455 section 5.4) is dropped:
that direction starts afresh, and the error is kept.
"""

from __future__ import annotations

from array import array
from collections.abc import Container, Iterable, Iterator

from wsinspector.core.frames import Direction, FragmentationError, Frame, Message, MessageAssembler, Opcode
from wsinspector.core.model import header

#: a run of at most this many frames (a large payload's block of its own) is read frame by frame, here and by the
#: live log's runs over its parts: numpy would cost more than it spares
FEW_FRAMES = 8


class MessageStream:
    """One :class:`MessageAssembler` per direction and hop, and what went wrong so far.

    A connection has one hop; a recording proxy's session has two (``header.UPSTREAM``), whose messages may
    be under way at once in the same direction, so each hop's fragments are assembled apart."""

    def __init__(self) -> None:
        #: the assembler of each direction (the live log reads ``current_opcode`` on its append path)
        self.assemblers = {d: MessageAssembler(d) for d in Direction}
        #: the same for a recording proxy's upstream hop
        self.upstream_assemblers = {d: MessageAssembler(d, upstream=True) for d in Direction}
        #: fragmentation errors, in order
        self.errors: list[str] = []

    def assembler(self, direction: Direction, upstream: bool = False) -> MessageAssembler:
        return (self.upstream_assemblers if upstream else self.assemblers)[direction]

    def feed(self, direction: Direction, opcode: Opcode, fin: bool | None, seq: int,
             payload: bytes, upstream: bool = False) -> Message | None:
        """The message this data frame completes (None: none, or the frame broke the sequence)."""
        assembler = (self.upstream_assemblers if upstream else self.assemblers)[direction]
        try:
            return assembler.feed_parts(opcode, fin, seq, payload)
        except FragmentationError as exc:
            assembler.reset()
            self.errors.append(str(exc))
            return None

    def reset(self) -> None:
        """A new connection: unfinished messages are dropped."""
        for assembler in (*self.assemblers.values(), *self.upstream_assemblers.values()):
            assembler.reset()


def assemble(frames: Iterable[Frame], segment_starts: Container[int] = ()) -> Iterator[Message]:
    """The complete data messages of a run of frames, in the order they complete. A frame whose seq is in
    ``segment_starts`` begins a new connection: what was unfinished before it is dropped."""
    stream = MessageStream()
    for frame in frames:
        if frame.seq in segment_starts:
            stream.reset()
        if frame.damaged:
            # what the damaged frame was is unknown: the message under way in its direction is lost with it
            stream.assembler(frame.direction, frame.upstream).reset()
            continue
        if frame.opcode.is_control:
            continue
        message = stream.feed(frame.direction, frame.opcode, frame.fin, frame.seq, frame.payload, frame.upstream)
        if message is not None:
            yield message


def starts_in(first: int, headers: array[int]) -> array[int]:
    """The seqs of a run of packed headers (the first is frame ``first``) that start a row of the message view:
    every frame but a continuation, so a fragmented message is one row at its first frame."""
    import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

    if len(headers) <= FEW_FRAMES:  # a large payload's block of its own: numpy would cost more than it spares
        return array("q", [first + index for index, meta in enumerate(headers) if header.starts_row(meta)])
    column = np.frombuffer(headers, dtype=np.uint32)
    seqs = np.flatnonzero(header.starts_row_column(column)).astype(np.int64) + first
    return array("q", seqs.tobytes())
