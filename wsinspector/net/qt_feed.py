"""The Qt engine's reading, once the connection is open: QWebSocket's socket is read here, in its place.

QWebSocket parses everything its socket has buffered in one go, and its socket buffer has no bound: under a
flood it held the event loop (the whole window) for tens of seconds and grew by hundreds of MiB. Once the
handshake is done, :class:`QtFrameFeed` takes the socket's ``readyRead`` from QWebSocket, bounds the socket's
buffer (beyond it TCP holds the sender back) and reads for at most ``FEED_BUDGET_S`` per turn of the event
loop, handing QWebSocket's own frame reader (a private child object, reached through its ``process`` slot)
whole frames through a buffer of its own. QWebSocket still decides everything about the frames: what is
valid, what to answer, when to close.

Reading the bytes first also shows what QWebSocket hides: its UTF-8 decoder drops a U+FEFF at the start of a
text message; :meth:`QtFrameFeed.take_text_frame` says, frame by frame, whether it did.
"""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import SIGNAL, SLOT, QBuffer, QByteArray, QIODevice, QObject, QTimer, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket

__all__ = ["FEED_BUDGET_S", "FEED_SOCKET_BUFFER", "QtFrameFeed"]

#: reading and parsing go on for this long at most per turn of the event loop
FEED_BUDGET_S = 0.005
#: bytes read from the socket at a time
FEED_CHUNK = 16 * 1024
#: the socket's own read buffer: beyond it, TCP flow control holds the sender back
FEED_SOCKET_BUFFER = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_READ_ONLY = QIODevice.OpenModeFlag.ReadOnly


class QtFrameFeed(QObject):
    """Reads an open QWebSocket's socket and feeds its frame reader whole frames, a bounded amount per turn.

    ``max_frame_size``: QWebSocket's limit; a frame announced larger is handed over by its header alone, for
    QWebSocket to refuse it without its payload being read."""

    _feed = Signal(QIODevice)

    def __init__(self, sock: QAbstractSocket, reader: QObject, max_frame_size: int, parent: QObject) -> None:
        super().__init__(parent)
        self._sock = sock
        self._limit = max_frame_size
        self._pending = bytearray()
        self._stopped = False
        #: per text frame still to be reported by QWebSocket: whether it dropped a leading U+FEFF from it
        self._text_frames: deque[bool] = deque()
        self._in_text = False  # a text message is under way
        self._text_started = False  # ... and has had a byte of payload
        self._in_message = False
        self._device = QBuffer(self)
        self._timer = QTimer(self)
        self._timer.setObjectName("qt-feed")
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._pump)
        QObject.connect(self, SIGNAL("_feed(QIODevice*)"), reader, SLOT("process(QIODevice*)"))
        sock.readyRead.disconnect()  # QWebSocket's own reading: from now on, this object reads
        self._pending += _bytes(sock.readAll())  # what came in the same read as the 101 answer
        sock.setReadBufferSize(FEED_SOCKET_BUFFER)
        sock.readyRead.connect(self._on_ready_read)
        self._timer.start()  # after the handshake's own signals are done

    def take_text_frame(self) -> bool:
        """For the text frame QWebSocket reports now: whether it dropped a U+FEFF from its start."""
        return self._text_frames.popleft() if self._text_frames else False

    def stop(self) -> None:
        """Read nothing more (QWebSocket failed the connection: what follows is not to be parsed)."""
        self._timer.stop()
        if self._stopped:
            return
        self._stopped = True
        self._pending.clear()
        if self._sock.isOpen():
            self._sock.readAll()
        self._sock.readyRead.disconnect(self._on_ready_read)

    def drain(self) -> None:
        """The connection is ending: hand over every whole frame already read, whatever the time it takes."""
        self._timer.stop()
        while not self._stopped:
            chunk = _bytes(self._sock.read(FEED_CHUNK)) if self._sock.isOpen() else b""
            self._pending += chunk
            self._hand_over()
            if not chunk:
                return

    @Slot()
    def _on_ready_read(self) -> None:
        if not self._timer.isActive():
            self._pump()

    @Slot()
    def _pump(self) -> None:
        deadline = time.monotonic() + FEED_BUDGET_S
        while not self._stopped:
            chunk = _bytes(self._sock.read(FEED_CHUNK)) if self._sock.isOpen() else b""
            self._pending += chunk
            self._hand_over()
            if not chunk or self._stopped:
                return
            if time.monotonic() >= deadline:
                break
        self._timer.start()  # the rest on the next turn: timers and paints get theirs in between

    def _hand_over(self) -> None:
        """Feed QWebSocket's frame reader the whole frames at the start of what was read."""
        end = self._whole_frames()
        if end == 0:
            return
        data, self._pending = bytes(self._pending[:end]), self._pending[end:]
        device = self._device
        if device.isOpen():
            device.close()
        device.setData(QByteArray(data))
        device.open(_READ_ONLY)
        device.readyRead.emit()  # as a socket would: it stops the frame reader's wait for the rest of a message
        feed, available = self._feed.emit, device.bytesAvailable
        while available() > 0 and not self._stopped:
            feed(device)  # one message, or one control frame, per call

    def _whole_frames(self) -> int:  # noqa: C901, PLR0912  (one loop: a frame costs one pass)
        """Where the whole frames at the start of the pending bytes end (a frame QWebSocket will refuse for its
        size: where its header ends); notes, for each text frame, whether QWebSocket's decoder drops the U+FEFF
        it starts with (it does at the start of a text message's first bytes)."""
        data = self._pending
        pos, size, limit = 0, len(data), self._limit
        in_text, started, in_message = self._in_text, self._text_started, self._in_message
        text_frames = self._text_frames
        while pos + 2 <= size:
            b0, b1 = data[pos], data[pos + 1]
            if b1 < 126:  # unmasked, a 7-bit length: the bulk of a feed
                length, start = b1, pos + 2
            else:
                length, start = b1 & 0x7F, pos + 2
                if length == 126:
                    if start + 2 > size:
                        break
                    length, start = (data[start] << 8) | data[start + 1], start + 2
                elif length == 127:
                    if start + 8 > size:
                        break
                    length, start = int.from_bytes(data[start:start + 8], "big"), start + 8
                if b1 & 0x80:  # a masked frame, which QWebSocket accepts from a server
                    if start + 4 > size:
                        break
                    start += 4
            if length > limit:
                pos = start  # its header only: QWebSocket refuses it from there
                break
            end = start + length
            if end > size:
                break
            opcode = b0 & 0x0F
            if opcode < 8 and (opcode != 0 or in_message):
                if opcode != 0:  # a new message (QWebSocket refuses one in the middle of another)
                    in_text, started = opcode == 1, False
                in_message = not b0 & 0x80
                if in_text:
                    dropped = False
                    if not started and length:
                        started = True
                        head = data[start:start + 3]
                        if b1 & 0x80:
                            key = data[start - 4:start]
                            head = bytearray(b ^ key[i] for i, b in enumerate(head))
                        dropped = head == _BOM
                    text_frames.append(dropped)
            pos = end
        self._in_text, self._text_started, self._in_message = in_text, started, in_message
        return pos

def _bytes(array: QByteArray) -> bytes:
    data: bytes = array.data()  # type: ignore[assignment]
    return data
