"""The protocol library's sans-I/O protocol, both roles, reading frames through our own header reader.

``websockets`` parses every frame itself and keeps nothing of its header once the frame is decoded: the
mask key, RSV1 of a compressed frame and the wire length are gone. Here its frame loop is replaced by one
that reads each header once (:func:`~wsinspector.core.wire.head.read_head`) and carries it on the frame it
yields (:class:`HeadedFrame`), so that a frame and its real header never have to be paired up again; the
library still does everything else: unmasking, extensions, checks, the state of the connection.

Three more things differ from the library, all deliberate:

* incoming text is checked as UTF-8 frame by frame, and within a frame as its bytes arrive: a frame that
  breaks it still becomes an event (so it can be shown; cut where it broke, if it had not arrived whole),
  then the connection is failed with 1007 (:attr:`invalid_text` names that frame);
* a close frame may come between the fragments of a message: the message is left unfinished and the closing
  handshake goes on (RFC 6455 allows it; the library would fail the connection);
* pings can be left unanswered (:attr:`auto_pong`, fault injection: a peer that never answers).

At a frame boundary, with the connection open and no message under way, the reader *parks*: it stops and
lets the owner (:class:`~wsinspector.core.wire.engine.WireEngine`) take the bytes that follow, so that its
fast path reads whole-message frames without the library. The owner hands a frame back with its header
already read (:attr:`handoff`), and the reader goes on from that frame's payload.
"""

from __future__ import annotations

import codecs
import dataclasses
from collections.abc import Generator

from websockets.client import ClientProtocol
from websockets.exceptions import PayloadTooBig, ProtocolError
from websockets.frames import Close, CloseCode, apply_mask  # type: ignore[attr-defined]
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode
from websockets.protocol import OPEN, SERVER, Protocol
from websockets.server import ServerProtocol

from wsinspector.core.wire.head import Head, read_head

__all__ = ["HeadedFrame", "WireClientProtocol", "WireProtocol", "WireServerProtocol"]


@dataclasses.dataclass
class HeadedFrame(WsFrame):
    """A decoded frame with the header it crossed the wire with."""

    head: Head | None = None


class _FrameReading(Protocol):
    """The frame loop and the three differences (see the module's docstring); mixed in below the role's
    own class, so the role's handshake runs first and hands over to this loop."""

    #: answer pings by itself (off: fault injection)
    auto_pong = True
    #: stop at frame boundaries for the owner's fast path
    parking = True
    #: stopped at a frame boundary: the bytes in the reader's buffer are the owner's to take
    parked = False
    #: the header of the next frame, read by the owner; its bytes are not fed again
    handoff: Head | None = None
    #: the header of the frame being read: the one to show when the frame is refused
    head: Head | None = None
    #: the frame whose text is not valid UTF-8, once one came
    invalid_text: WsFrame | None = None
    #: the body of the last close frame read, valid or not (to say what was wrong with a refused one)
    close_payload: bytes | None = None
    #: the close frame that answers the peer's instead of its echo (a fault: another code than the peer's)
    close_answer: Close | None = None
    _decoder: codecs.IncrementalDecoder | None = None
    #: the message under way came compressed (its first frame's RSV1)
    _compressed_message: bool = False

    def parse(self) -> Generator[None]:
        try:
            while True:
                head = self.handoff
                if head is None and self.parking and self.state is OPEN and self.current_size is None:
                    self.parked = True
                    yield
                    self.parked = False
                    head = self.handoff
                self.handoff = None
                if head is None:
                    if (yield from self.reader.at_eof()):
                        raise EOFError("unexpected end of stream")
                    head = yield from read_head(self.reader.read_exact)
                self.head = head
                frame = yield from self._read_frame(head)
                self.recv_frame(frame)
        except ProtocolError as exc:
            self.fail(CloseCode.PROTOCOL_ERROR, str(exc))
            self.parser_exc = exc
        except EOFError as exc:
            self.fail(CloseCode.ABNORMAL_CLOSURE, str(exc))
            self.parser_exc = exc
        except UnicodeDecodeError as exc:
            self.fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
            self.parser_exc = exc
        except PayloadTooBig as exc:
            exc.set_current_size(self.current_size)
            self.fail(CloseCode.MESSAGE_TOO_BIG, str(exc))
            self.parser_exc = exc
        except Exception as exc:  # what the library does with a bug of its own: 1011, details kept back
            self.logger.error("parser failed", exc_info=True)
            self.fail(CloseCode.INTERNAL_ERROR)
            self.parser_exc = exc
        # fail() has replaced this generator with discard(): it is never stepped again
        yield
        raise AssertionError("the frame reader stepped after an error")

    def _size_limit(self) -> int | None:
        """The most payload the next frame may carry: the message limit less what the message has so far,
        and the frame limit."""
        limit = None
        if self.max_message_size is not None:
            limit = self.max_message_size - (self.current_size or 0)
        if self.max_fragment_size is not None:
            limit = self.max_fragment_size if limit is None else min(limit, self.max_fragment_size)
        return limit

    def _read_frame(self, head: Head) -> Generator[None, None, WsFrame]:
        b0, masked, key, length, _ = head
        try:
            opcode = WsOpcode(b0 & 0x0F)
        except ValueError as exc:
            raise ProtocolError("invalid opcode") from exc
        if masked != (self.side is SERVER):
            raise ProtocolError("incorrect masking")
        limit = self._size_limit()
        if limit is not None and length > limit:
            raise PayloadTooBig(length, limit)
        if opcode is WsOpcode.TEXT or opcode is WsOpcode.BINARY:
            # permessage-deflate marks a compressed message on its first frame only: its continuations carry
            # compressed bytes with RSV1 clear, which are not text until the message is decompressed
            self._compressed_message = bool(b0 & 0x40)
        if length > len(self.reader.buffer) and not b0 & 0x70 and (
                (opcode is WsOpcode.TEXT and self.current_size is None)
                or (opcode is WsOpcode.CONT and self._decoder is not None and not self._compressed_message)):
            yield from self._check_text_as_it_comes(head, opcode)
        data: bytes | bytearray = yield from self.reader.read_exact(length)
        if key is not None:
            data = apply_mask(data, key)
        if opcode is WsOpcode.CLOSE:
            self.close_payload = bytes(data)
        frame: WsFrame = HeadedFrame(opcode, data, bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20),
                                     bool(b0 & 0x10), head)
        for extension in reversed(self.extensions):
            frame = extension.decode(frame, max_size=limit)
        if not isinstance(frame, HeadedFrame):  # decompressed: a new frame, without the header
            frame = HeadedFrame(frame.opcode, frame.data, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3, head)
        frame.check()
        return frame

    def _check_text_as_it_comes(self, head: Head, opcode: WsOpcode) -> Generator[None]:
        """Wait until the payload of this uncompressed text frame is all there, checking its bytes as UTF-8
        as they come: bytes that no valid text can continue fail the connection now, without waiting for the
        rest of the frame (RFC 6455 §8.1 requires failing it; the sooner, the less a broken peer sends)."""
        b0, _, key, length, _ = head
        reader = self.reader
        probe = codecs.getincrementaldecoder("utf-8")()
        if opcode is WsOpcode.CONT and self._decoder is not None:
            probe.setstate(self._decoder.getstate())
        checked = 0
        while (size := len(reader.buffer)) < length:
            if size > checked:
                chunk = bytes(reader.buffer[checked:size])
                if key is not None:
                    shift = checked % 4
                    chunk = bytes(apply_mask(chunk, key[shift:] + key[:shift]))
                pending = len(probe.getstate()[0])  # the start of a character cut by the last chunk
                try:
                    probe.decode(chunk)
                except UnicodeDecodeError as exc:
                    data = bytes(reader.buffer[:size])
                    if key is not None:
                        data = bytes(apply_mask(data, key))
                    cut = HeadedFrame(opcode, data, bool(b0 & 0x80), False, False, False, head)
                    self.events.append(cut)
                    self.invalid_text = cut
                    at = max(0, checked - pending + exc.start)  # where in the frame
                    raise UnicodeDecodeError("utf-8", data, at, at + 1, exc.reason) from None
                checked = size
            if reader.eof:
                raise EOFError(f"stream ends after {size} bytes, expected {length} bytes")
            yield

    def recv_frame(self, frame: WsFrame) -> None:
        op = frame.opcode
        if op is WsOpcode.PING and not self.auto_pong:
            self.events.append(frame)
            return
        if op is WsOpcode.CLOSE and self.current_size is not None:
            self.current_size = None
            self._decoder = None
        if op is WsOpcode.CLOSE and self.close_answer is not None and self.state is OPEN:
            try:
                Close.parse(frame.data)
            except (ProtocolError, UnicodeDecodeError):
                pass  # a bad close frame: the library fails the connection as it would (1002, 1007)
            else:
                # our own close frame first: the library then takes the peer's as the answer to it
                self.send_close(self.close_answer.code, self.close_answer.reason)
                super().recv_frame(frame)
                self.close_rcvd_then_sent = True
                return
        super().recv_frame(frame)  # the sequence checks first: they decide before the text does
        if op is WsOpcode.TEXT:
            if frame.fin:
                try:
                    codecs.decode(frame.data, "utf-8")
                except UnicodeDecodeError:
                    self.invalid_text = frame
                    raise
                return
            self._decoder = codecs.getincrementaldecoder("utf-8")()
        elif op is not WsOpcode.CONT or self._decoder is None:
            return
        try:
            self._decoder.decode(frame.data, frame.fin)
        except UnicodeDecodeError:
            self.invalid_text = frame
            raise
        if frame.fin:
            self._decoder = None


class WireClientProtocol(ClientProtocol, _FrameReading):
    """The client role: ``ClientProtocol``'s handshake, then our frame loop."""


class WireServerProtocol(ServerProtocol, _FrameReading):
    """The server role: ``ServerProtocol``'s handshake, then our frame loop."""


WireProtocol = WireClientProtocol | WireServerProtocol
