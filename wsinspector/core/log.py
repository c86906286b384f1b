"""The in-memory frame log of a live session: append-only, dense sequence numbers, O(1) append."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

from wsinspector.core.frames import Direction, FragmentationError, Frame, Message, MessageAssembler, Opcode


class FrameLog:
    """Frames of one session in arrival order; ``frames[seq]`` is the frame numbered ``seq``.

    The log also assembles data frames into messages per direction, so a fragment can be shown with
    the message it belongs to.
    """

    def __init__(self) -> None:
        self._frames: list[Frame] = []
        #: message of each data frame: seq -> index into _messages (only for fragments and whole messages)
        self._message_of: dict[int, int] = {}
        self._messages: list[Message] = []
        #: opcode (TEXT/BINARY) of the message each continuation frame continues
        self._continues: dict[int, Opcode] = {}
        self._assemblers = {d: MessageAssembler(d) for d in Direction}
        self.started_ns = time.monotonic_ns()
        self.started_wall = time.time()
        self.protocol_errors: list[str] = []

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, seq: int) -> Frame:
        return self._frames[seq]

    def __iter__(self) -> Iterator[Frame]:
        return iter(self._frames)

    def append(self, frame: Frame) -> Frame:
        """Number the frame, keep it, and return it as stored."""
        stored = dataclasses.replace(frame, seq=len(self._frames))
        self._frames.append(stored)
        if not stored.opcode.is_control:
            assembler = self._assemblers[stored.direction]
            if stored.opcode is Opcode.CONTINUATION and assembler.current_opcode is not None:
                self._continues[stored.seq] = assembler.current_opcode
            try:
                message = assembler.feed(stored)
            except FragmentationError as exc:
                assembler.reset()
                self.protocol_errors.append(str(exc))
                message = None
            if message is not None:
                index = len(self._messages)
                self._messages.append(message)
                for seq in message.seqs:
                    self._message_of[seq] = index
        return stored

    def message_for(self, seq: int) -> Message | None:
        """The complete message a data frame belongs to (None while it is still being received)."""
        index = self._message_of.get(seq)
        return None if index is None else self._messages[index]

    def data_opcode(self, seq: int) -> Opcode:
        """TEXT or BINARY for a data frame (a continuation takes its message's), else the frame's own opcode."""
        frame = self._frames[seq]
        if frame.opcode is Opcode.CONTINUATION:
            return self._continues.get(seq, Opcode.CONTINUATION)
        return frame.opcode

    @property
    def messages(self) -> list[Message]:
        return self._messages

    def relative_us(self, frame: Frame) -> float:
        return (frame.ts_ns - self.started_ns) / 1000.0

    def new_segment(self) -> None:
        """A new connection starts within the same log: unfinished fragments of the old one are dropped."""
        for assembler in self._assemblers.values():
            assembler.reset()
