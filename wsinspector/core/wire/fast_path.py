"""The Wire engine's fast path for reading (mixed into :class:`~wsinspector.core.wire.engine.WireEngine`).

A TEXT or BINARY frame of at most ``FAST_FRAME_MAX`` bytes with FIN set and RSV bits clear, masked as the role
expects (a client's frames to the server role are, a server's are not), arriving while the connection is open
and no fragmented message is under way, changes no protocol state: it is taken off the stream here, before the
library. Its payload is sliced out (unmasked by ``websockets``' C ``apply_mask`` straight from the bytes read),
text is checked as UTF-8, and it goes to ``whole_in`` (a masked one to the sink, with its key). A frame cut
short by the end of a read is held with its header read; its later pieces are kept apart (a text frame's
checked as UTF-8 as each comes) and joined once, into its payload, when its last byte comes. Any frame the
fast path has a doubt about (invalid text, a size limit, another kind of frame) is handed to the library with
its header already read.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from websockets.frames import apply_mask  # type: ignore[attr-defined]
from websockets.protocol import OPEN

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header as frame_header
from wsinspector.core.wire.bytes_read import can_be_utf8, is_utf8, unmasked
from wsinspector.core.wire.head import Head, head_at

if TYPE_CHECKING:
    from wsinspector.core.wire.protocol import WireProtocol
    from wsinspector.core.wire.sinks import FrameSink, WholeInSink

_IN = Direction.IN


def _decodes(decoder: codecs.IncrementalDecoder, piece: bytes | memoryview, key: bytes | None, at: int) -> bool:
    """Whether ``piece`` (payload bytes from the ``at``-th on, masked with ``key``) goes on the text ``decoder``
    has read as UTF-8, or the start of it."""
    if key is not None:
        turn = at % 4
        piece = apply_mask(piece, key[turn:] + key[:turn])
    try:
        decoder.decode(piece)
    except UnicodeDecodeError:
        return False
    return True
_TEXT, _BINARY = Opcode.TEXT, Opcode.BINARY
_WHOLE_TEXT = frame_header.whole_in(Opcode.TEXT, header_known=True, length_known=True)
_WHOLE_BINARY = frame_header.whole_in(Opcode.BINARY, header_known=True, length_known=True)


class FastReader:
    """The engine's state and steps for reading whole-message frames itself."""

    _proto: WireProtocol
    _sink: FrameSink
    _whole_in: WholeInSink
    _fast_limit: int
    _masked_in: bool
    #: the start of a frame the fast path is waiting to complete, and its header once read; a binary frame's
    #: later pieces, and their bytes, kept apart until it is whole (joined once, not at every read)
    _held: bytes
    _held_head: Head | None
    _pieces: list[bytes]
    _pieces_size: int
    #: a text frame held in pieces: its header, the UTF-8 check so far, and how many payload bytes it has read
    _text: tuple[Head, codecs.IncrementalDecoder, int] | None

    def _start_fast_reader(self) -> None:
        self._held = b""
        self._held_head = None
        self._pieces = []
        self._pieces_size = 0
        self._text = None

    @property
    def wanted(self) -> int:
        """How many more bytes complete the frame the fast path waits for (0: none it knows of): the read
        that brings them all at once spares reading it piece by piece."""
        head = self._held_head
        return head[4] + head[3] - len(self._held) - self._pieces_size if head is not None else 0

    def _after_held(self, data: bytes, now_ns: int) -> tuple[bytes, int]:
        """``data`` read after a held start: what to read on, and from where (-1: nothing, all of it kept)."""
        proto = self._proto
        head = self._held_head
        fast = proto.parked and proto.state is OPEN
        if head is not None and fast:
            if head[0] == 0x82:
                return data, self._binary_piece(head, data, now_ns)
            if self._text_piece_kept(head, data):
                return data, -1
        self._text = None
        data, self._held = self._joined_held(data), b""
        if head is not None and not fast:
            data = self._hand_off(head, data, 0)
            self._held_head = None
        return data, 0

    def _joined_held(self, data: bytes) -> bytes:
        """What is held, then ``data``, as one."""
        if not self._pieces:
            return self._held + data if data else self._held
        joined = b"".join((self._held, *self._pieces, data))
        self._pieces.clear()
        self._pieces_size = 0
        return joined

    def _text_piece_kept(self, head: Head, data: bytes) -> bool:
        """Keep ``data``, read while a text frame the fast path took waits for the rest, when the frame goes on
        past it and its text so far is UTF-8 or the start of it (checked piece by piece: a frame trickling in
        costs one pass, not one per read). False: read it with what is held, as one (the frame is whole, or
        its text is broken, which the library then fails)."""
        if len(self._held) + self._pieces_size + len(data) >= head[4] + head[3]:
            return False
        key = head[2]
        if self._text is None or self._text[0] is not head:
            decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
            start = memoryview(self._held)[head[4]:]
            self._text = (head, decoder, len(start))
            if not _decodes(decoder, start, key, 0):
                return False
        _head, decoder, at = self._text
        if not _decodes(decoder, data, key, at):
            return False
        self._text = (head, decoder, at + len(data))
        self._pieces.append(data)
        self._pieces_size += len(data)
        return True

    def _binary_piece(self, head: Head, data: bytes, now_ns: int) -> int:
        """``data`` read while a binary frame the fast path took waits for the rest (its start held, its header
        ``head``): kept, or the frame reported whole, its payload joined once from the pieces. Where in ``data``
        the next frame starts; -1 when it is all kept."""
        held, pieces = self._held, self._pieces
        before = len(held) + self._pieces_size
        start, end = head[4], head[4] + head[3]
        if before + len(data) < end:
            pieces.append(data)
            self._pieces_size += len(data)
            return -1
        cut = end - before  # the frame's last byte is data[cut - 1]
        payload = b"".join((memoryview(held)[start:], *pieces, memoryview(data)[:cut]))
        key = head[2]
        if key is not None:
            payload = apply_mask(payload, key)
        self._held, self._held_head = b"", None
        pieces.clear()
        self._pieces_size = 0
        self._whole(0x82, payload, key, now_ns)
        return cut

    def _hand_off(self, head: Head, data: bytes, pos: int) -> bytes:
        """Give the library the frame at ``data[pos]``, whose header is read: it goes on from the payload."""
        self._proto.handoff = head
        return data[pos + head[4]:]

    def _take_fast(self, data: bytes, now_ns: int, pos: int = 0) -> bytes | None:  # noqa: C901, PLR0911, PLR0912  (one loop: a frame costs one pass)
        """Take the whole-message frames of ``data`` from ``pos`` on; returns what the library reads next (the
        payload of a frame handed to it, and all after), or None when nothing is left for it."""
        size = len(data)
        limit = self._fast_limit
        whole_in = self._whole_in
        masked_in = self._masked_in  # the server role: every frame the client sends is masked
        held = self._held_head
        if held is not None:  # a frame the fast path took, cut short by the last read: its header is read
            self._held_head = None
            b0, _, key, length, start = held
            end = start + length
            if end > size:
                if b0 == 0x81 and not can_be_utf8(unmasked(data[start:], key)):  # broken already: fail it now
                    return self._hand_off(held, data, 0)
                self._held, self._held_head = data, held
                return None
            payload = data[start:end] if key is None else apply_mask(memoryview(data)[start:end], key)
            if b0 == 0x81 and not is_utf8(payload):
                return self._hand_off(held, data, 0)
            self._whole(b0, payload, key, now_ns)
            pos = end
        while pos + 2 <= size:
            b0 = data[pos]
            b1 = data[pos + 1]
            key = None
            if b1 < 126 and not masked_in:  # unmasked (a set mask bit makes it 128 or more), 7-bit length
                length = b1
                start = pos + 2
            elif b1 == 126 and not masked_in:
                if pos + 4 > size:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
            else:  # masked, or a 64-bit length
                head = head_at(data, pos, b1)
                if head is None:
                    break
                if head[1] is not masked_in or b0 not in {129, 130} or head[3] > limit:
                    return self._hand_off(head, data, pos)  # the library judges it
                _, _, key, length, start = head
                start += pos
            if (b0 not in {129, 130}) or length > limit:  # FIN, no RSV bit, TEXT or BINARY, small
                return self._hand_off((b0, False, None, length, start - pos), data, pos)
            end = start + length
            if end > size:
                head = (b0, key is not None, key, length, start - pos)
                if b0 == 0x81 and not can_be_utf8(unmasked(data[start:], key)):  # broken already: fail it now
                    return self._hand_off(head, data, pos)
                self._held_head = head
                break
            if key is not None:  # unmasked straight from the bytes read, not from a copy of them
                payload = apply_mask(memoryview(data)[start:end], key)
                if b0 == 0x81 and not is_utf8(payload):
                    return self._hand_off((b0, True, key, length, start - pos), data, pos)
                self._sink(_IN, _TEXT if b0 == 0x81 else _BINARY, payload, now_ns, True, False, False, False, True,
                           length, key)
            else:
                payload = data[start:end]
                if b0 == 0x81:
                    try:
                        payload.decode()
                    except UnicodeDecodeError:  # the library fails the connection, with the frame shown
                        return self._hand_off((b0, False, None, length, start - pos), data, pos)
                whole_in(_WHOLE_TEXT if b0 == 0x81 else _WHOLE_BINARY, payload, now_ns)
            pos = end
        if pos < size:
            self._held = data[pos:]
        return None

    def _whole(self, b0: int, payload: bytes, key: bytes | None, now_ns: int) -> None:
        """Report a whole-message frame the fast path read (``key``: its mask key, the payload unmasked)."""
        if key is None:
            self._whole_in(_WHOLE_TEXT if b0 == 0x81 else _WHOLE_BINARY, payload, now_ns)
        else:
            self._sink(_IN, _TEXT if b0 == 0x81 else _BINARY, payload, now_ns, True, False, False, False, True,
                       len(payload), key)
