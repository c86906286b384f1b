"""The in-memory frame log of a live session: append-only, dense sequence numbers, O(1) append."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

from wsinspector.core.frames import Direction, FragmentationError, Frame, Message, MessageAssembler


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

    @property
    def messages(self) -> list[Message]:
        return self._messages

    def relative_us(self, frame: Frame) -> float:
        return (frame.ts_ns - self.started_ns) / 1000.0

    def new_segment(self) -> None:
        """A new connection starts within the same log: unfinished fragments of the old one are dropped."""
        for assembler in self._assemblers.values():
            assembler.reset()
