"""Decoding as a view over a session: the frame bytes and the session around them in, the decoded form out.

Nothing here is on the ingest path: a :class:`SessionDecoding` is asked for the frames a view shows (the visible
rows, the selected message) and keeps the last few thousand answers (a small cache per session)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView, failed
from wsinspector.core.decoders.registry import DecoderRegistry, configured
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header

if TYPE_CHECKING:
    from wsinspector.core.session import Session

#: how many of the first frames are shown to the decoders to recognise a connection's traffic
SNIFF_FRAMES = 16
DEFAULT_CACHE = 4096

FrameSource = Callable[[int], FrameView | None]


def session_source(session: Session) -> FrameSource:
    """The frames of a recorded or live session as decoders see them: a data frame's whole message at the
    frame that completes it; control frames and the fragments before a message's last are not data."""

    def source(seq: int) -> FrameView | None:
        if not 0 <= seq < len(session) or seq in session.dropped:
            return None
        meta = session.meta(seq)
        outgoing = header.direction(meta) is Direction.OUT
        opcode = header.opcode(meta)
        if opcode.is_control:
            return FrameView(b"", False, outgoing, seq, data=False)
        if opcode is Opcode.CONTINUATION or header.fin(meta) is False:
            message = session.message_for(seq)
            if message is None or message.last_seq != seq:
                return FrameView(b"", False, outgoing, seq, data=False)
            return FrameView(message.payload, message.opcode is Opcode.TEXT, outgoing, seq)
        # the head of the size is the whole payload; a stored session answers it from its page of heads
        # when the payload is short
        return FrameView(session.payload_head(seq, session.size(seq)), opcode is Opcode.TEXT, outgoing, seq)

    return source


class SessionContext(DecodeContext):
    """The context of a session's frames, read through ``source`` (index → the message, None past the end)."""

    def __init__(self, source: FrameSource) -> None:
        super().__init__()
        self._source = source

    def frame(self, index: int) -> FrameView | None:
        return self._source(index) if index >= 0 else None


class SessionDecoding:
    """The decoded form of a session's frames, one decoder for the whole connection.

    The decoder is the one the connection names (``override``), else the one its negotiated subprotocol or URL
    points to, else the first that recognises one of its first frames; ``decoder`` is None when none does."""

    def __init__(self, registry: DecoderRegistry, source: FrameSource, *, override: str = "",
                 subprotocol: str = "", url: str = "", options: Mapping[str, str] | None = None,
                 cache_size: int = DEFAULT_CACHE) -> None:
        self.registry = registry
        self.context = SessionContext(source)
        self._source = source
        self._choice = (override, subprotocol, url, dict(options or {}))
        self._decoder: Decoder | None = None
        self._chosen = False
        #: why the chosen decoder cannot be used as configured (an unknown name, a bad option), one line
        self.problem = ""
        self._cache: OrderedDict[int, Decoded] = OrderedDict()
        self._cache_size = cache_size

    @property
    def decoder(self) -> Decoder | None:
        if not self._chosen:
            self._chosen = True
            override, subprotocol, url, options = self._choice
            first = (frame for frame in map(self._source, range(SNIFF_FRAMES)) if frame is not None and frame.data)
            try:
                chosen = self.registry.choose(override=override, subprotocol=subprotocol, url=url, frames=first)
                self._decoder = configured(chosen, options) if chosen is not None else None
            except (KeyError, DecodeError) as exc:
                self.problem = str(exc.args[0] if exc.args else exc)
        return self._decoder

    def decoded(self, index: int) -> Decoded | None:
        """The frame at ``index`` decoded (or one line saying why it does not decode); None when the connection
        has no decoder or there is no such frame."""
        hit = self._cache.get(index)
        if hit is not None:
            self._cache.move_to_end(index)
            return hit
        decoder = self.decoder
        if decoder is None:
            return failed("none", self.problem) if self.problem else None
        frame = self._source(index)
        if frame is None or not frame.data:
            return None
        result = self.registry.decode(decoder, frame, self.context)
        self._cache[index] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result
