"""Where frames go: the two callables an engine reports every frame through (no Frame object, no signal)."""

from __future__ import annotations

from typing import Protocol

from wsinspector.core.frames import Direction, Opcode


class FrameSink(Protocol):
    """Receives each frame's fields (the signature of FrameLog.append_fields)."""

    def __call__(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                 rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                 masked: bool | None = None, payload_length: int | None = None, mask_key: bytes | None = None,
                 note: str = "") -> object: ...


class WholeInSink(Protocol):
    """Receives an incoming frame that is a whole message (the signature of FrameLog.append_whole_in): its
    packed bits from :func:`~wsinspector.core.model.header.whole_in`, its payload and its time stamp."""

    def __call__(self, meta: int, payload: bytes, ts_ns: int) -> object: ...
