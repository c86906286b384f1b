"""An open connection's socket taken from Qt and read on a thread of its own: what a recording proxy's plain
TCP hops run on once both are open (:mod:`wsinspector.net.relay`).

Through Qt, each hop of a proxy costs a turn of the window's event loop: the socket's readiness is polled,
``readyRead`` is dispatched, what was read is copied into a ``QByteArray`` and out again. A thread blocked in
``recv`` wakes with the bytes and forwards them at once. The socket's descriptor is duplicated and the
``QTcpSocket`` aborted with its signals blocked: the TCP connection stays up, and Qt no longer reads it.

The engine is only touched under :attr:`HopThread.lock` (the thread reads, any thread may send). Bytes to
write go to an outbox under that lock, so they leave in the order the engine made them, whichever thread
writes them. What the socket does not take at once is left to a second thread, which waits for the peer to
read it; nobody else waits, so a peer that writes without reading while the other writes back (both hops'
sockets full) does not stop the proxy. Past ``OUTBOX_MOST`` bytes waiting, a hop's thread forwarding to it
waits too, and TCP holds its own peer back: memory stays bounded. The window's thread never waits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtNetwork import QAbstractSocket, QTcpSocket

from wsinspector.core.threads import start_thread

if TYPE_CHECKING:
    from wsinspector.core.wire.engine import WireEngine

log = logging.getLogger(__name__)

#: bytes asked of the socket per read (more when the engine waits for the rest of a larger frame, up to
#: READ_MOST: a large frame comes in few reads, not piece by piece)
READ_SIZE = 256 * 1024
READ_MOST = 4 * 1024 * 1024
#: a read that brought fewer bytes than this makes the next one read into the thread's buffer and copy them out;
#: a larger one, into bytes of its own (allocating READ_SIZE costs more than copying a few bytes, less than
#: copying many)
COPY_BELOW = 16 * 1024
#: bytes waiting to be written to a peer that does not read, past which the thread forwarding more waits
OUTBOX_MOST = 64 * 1024 * 1024
#: most pieces written in one gathering write (the system's limit is 1,024)
GATHER = 512
_END = b""
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
#: ``reading`` is set on a hop's reading thread: only such a thread waits for a peer to read (never Qt's)
_ON_HOP = threading.local()


def gathering(out: list[bytes]) -> list[bytes]:
    """``out`` as one gathering write takes it: its pieces, or joined when there are too many."""
    return out if len(out) <= GATHER else [b"".join(out)]


def unwritten(out: list[bytes], written: int) -> list[bytes | memoryview]:
    """What a gathering write of ``out`` that took ``written`` bytes left to write (a piece begun, as a view of
    its rest: not copied)."""
    for index, data in enumerate(out):
        if written < len(data):
            return [memoryview(data)[written:], *out[index + 1:]]
        written -= len(data)
    return []


def can_take(sock: QTcpSocket) -> bool:
    """Whether ``sock``'s connection can be read on a thread: a plain TCP socket, reached without a proxy, on a
    system whose socket descriptors are file descriptors (not Windows)."""
    if os.name != "posix" or not _DONTWAIT or type(sock) is not QTcpSocket:
        return False
    if sock.state() is not QAbstractSocket.SocketState.ConnectedState or sock.socketDescriptor() < 0:
        return False
    from PySide6.QtNetwork import QNetworkProxy  # noqa: PLC0415  (only a proxy's hops ask)
    kind = sock.proxy().type()
    if kind is QNetworkProxy.ProxyType.DefaultProxy:
        kind = QNetworkProxy.applicationProxy().type()
    return kind is QNetworkProxy.ProxyType.NoProxy


def _take(sock: QTcpSocket) -> tuple[socket.socket, bytes]:
    """``sock``'s connection as a blocking Python socket, and what Qt had read but not handed on (Qt has nothing
    left to write: see :func:`can_take`)."""
    pending = bytes(sock.readAll().data())
    fd = os.dup(int(sock.socketDescriptor()))
    sock.blockSignals(True)
    sock.abort()  # Qt closes its descriptor; the duplicate keeps the connection
    taken = socket.socket(fileno=fd)
    taken.setblocking(True)
    taken.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return taken, pending


class HopThread:
    """One open connection: its socket, its engine's lock, the thread that reads it.

    ``on_read()`` is called on the thread after each read (outside the lock: it may take another hop's, or wait);
    ``on_shutdown()`` once the connection is being ended (from any thread: a wait in ``on_read`` ends);
    ``wake()`` when the window's thread has something to look at (the engine's events, its close deadline, the
    end of the stream). :attr:`ended` once the thread has read the end and stopped; :attr:`lost` why the stream
    ended when it was not a clean end."""

    def __init__(self, sock: QTcpSocket, engine: WireEngine, wake: Callable[[], None]) -> None:
        self.engine = engine
        self.sock, self._pending = _take(sock)
        self.lock = threading.RLock()
        self.on_read: Callable[[], None] | None = None
        self.on_shutdown: Callable[[], None] | None = None
        self._wake = wake
        self._outbox: deque[bytes | memoryview] = deque()
        self._writing = threading.Lock()
        #: bytes in the outbox (kept under its own lock: the engine's lock adds, the writer's takes away)
        self._waiting = 0
        self._count = threading.Lock()
        self._to_write = threading.Event()
        self._readable = threading.Event()
        self._readable.set()
        #: reading is held (:meth:`hold`): looked at before each read, the event waited on only then
        self._held = False
        self._thread = threading.Thread(target=self._run, name="wsinspector-hop-read", daemon=True)
        self._writer = threading.Thread(target=self._write_rest, name="wsinspector-hop-write", daemon=True)
        self._deadline = engine.close_deadline_ns
        self.ended = False
        self.lost = ""
        self._shut = False
        self._closed = False

    def start(self) -> None:
        start_thread(self._thread)
        start_thread(self._writer)

    # -- writing ----------------------------------------------------------------------------------------

    def push(self) -> None:
        """What the engine has to send, written now as far as the socket takes it, the rest to the outbox (the
        caller holds :attr:`lock`)."""
        out = self.engine.data_to_send()
        if not out:
            return
        if not self._outbox and b"" not in out and self._writing.acquire(blocking=False):
            # nothing waits before it, nobody is writing: straight to the socket
            try:
                if not self._closed:
                    out = self._write_now(out)
            finally:
                self._writing.release()
            if not out:
                return
        self._outbox.extend(out)
        size = sum(map(len, out))
        with self._count:
            self._waiting += size

    def _write_now(self, out: list[bytes]) -> list[bytes]:
        """Write ``out`` as far as the socket takes it at once; what is left (all of it when the connection is
        gone: the reading thread finds its end)."""
        out = gathering(out)
        try:
            written = self.sock.sendmsg(out, (), _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return out
        except OSError as exc:
            self.lost = self.lost or exc.strerror or str(exc)
            self.shutdown()
            return []
        return unwritten(out, written)  # type: ignore[return-value]

    @property
    def waiting_bytes(self) -> int:
        return self._waiting

    def send_out(self) -> None:
        """Write what the socket takes now; the rest is left to the writing thread (from a hop's thread past
        ``OUTBOX_MOST``: written before this returns, whichever thread is writing it now)."""
        if self._waiting > OUTBOX_MOST and getattr(_ON_HOP, "reading", False):
            self.flush(True)
        elif not self.flush(False):
            self._to_write.set()

    def _write_rest(self) -> None:
        """The writing thread: what the socket did not take at once, as the peer reads."""
        while not self._closed:
            self._to_write.wait()
            self._to_write.clear()
            self.flush(True)
            if self.ended and not self._outbox:
                return

    def flush(self, block: bool) -> bool:
        """Write the outbox, in order: waiting for the socket (``block``), or what it takes now. False when
        something is left because the socket is full; True when all is written, or another thread is writing
        (it looks at the outbox again before it stops)."""
        while self._outbox:
            if not self._writing.acquire(blocking=block):
                return True
            try:
                done = self._write_out(block)
            finally:
                self._writing.release()
            if not done:
                return False
        return True

    def _write_out(self, block: bool) -> bool:
        out = self._outbox
        flags = 0 if block else _DONTWAIT
        while out:
            if self._closed:
                out.clear()
                self._waiting = 0
                return True
            if out[0] is _END or (type(out[0]) is bytes and not out[0]):
                out.popleft()
                self._shut_write()
                continue
            pieces: list[bytes | memoryview] = []
            for data in out:
                if not data or len(pieces) == GATHER:
                    break
                pieces.append(data)
            try:
                written = self.sock.sendmsg(pieces, (), flags)
            except (BlockingIOError, InterruptedError):
                if not block:
                    return False
                continue
            except OSError as exc:  # the connection is gone: the reading thread finds its end
                self.lost = self.lost or exc.strerror or str(exc)
                out.clear()
                with self._count:
                    self._waiting = 0
                self.shutdown()
                return True
            with self._count:
                self._waiting -= written
            while written:
                size = len(out[0])
                if written >= size:
                    out.popleft()
                    written -= size
                else:
                    out[0] = memoryview(out[0])[written:]
                    written = 0
        return True

    def _shut_write(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    # -- from the window's thread -----------------------------------------------------------------------

    def hold(self, held: bool) -> None:
        """Stop reading for now (TCP holds the peer back), or go on."""
        self._held = held
        if held:
            self._readable.clear()
        else:
            self._readable.set()

    def shutdown(self) -> None:
        """End the connection both ways now: the thread reads the end and stops. The descriptor stays open
        until :meth:`close` (no other connection can get its number while a thread may still use it)."""
        self._shut = True
        self._readable.set()
        with contextlib.suppress(OSError):  # it ended already
            self.sock.shutdown(socket.SHUT_RDWR)
        if self.on_shutdown is not None:
            self.on_shutdown()

    @property
    def shut(self) -> bool:
        """Whether the connection is being ended (:meth:`shutdown`): the thread reads no more of it."""
        return self._shut

    def close(self) -> None:
        """Release the descriptor, once the thread has :attr:`ended`. What the peer has not read by then is
        dropped: the connection is shut down first, so a write waiting for the peer to read (a peer that ended
        its side and reads no more) returns rather than keeping the caller waiting."""
        self.shutdown()
        with self._writing:
            if not self._closed:
                self._closed = True
                self._outbox.clear()
                self.sock.close()
        self._to_write.set()

    def deadline_changed(self) -> bool:
        """Whether the engine's close deadline moved since the last look."""
        deadline = self.engine.close_deadline_ns
        if deadline == self._deadline:
            return False
        self._deadline = deadline
        return True

    # -- the thread -------------------------------------------------------------------------------------

    def _reader(self) -> Callable[[], bytes]:
        """What the thread reads with: the next bytes the peer sent, b"" at the end of the stream (or a failure,
        said in :attr:`lost`)."""
        engine, recv, recv_into = self.engine, self.sock.recv, self.sock.recv_into
        buffer = bytearray(READ_SIZE)
        view = memoryview(buffer)
        small = True  # what the last read brought: a small read is copied out of the buffer, a large one is not

        def read() -> bytes:
            nonlocal small
            try:
                wanted = engine.wanted
                if wanted > READ_SIZE:  # the rest of a large frame, in as few reads as it comes
                    data = recv(min(wanted, READ_MOST))
                elif small:  # cheaper than a buffer of READ_SIZE for each few bytes
                    data = bytes(view[:recv_into(buffer)])
                else:  # bytes of their own: the engine keeps a payload of them without a copy
                    data = recv(READ_SIZE)
            except OSError as exc:
                self.lost = exc.strerror or str(exc)
                return b""
            small = len(data) < COPY_BELOW
            return data

        return read

    def _run(self) -> None:
        _ON_HOP.reading = True
        data, self._pending = self._pending, b""
        engine, read = self.engine, self._reader()
        try:
            while True:
                if not data:
                    if self._held:
                        self._readable.wait()
                    data = b"" if self._shut else read()
                now = time.monotonic_ns()
                with self.lock:
                    if data:
                        engine.receive_data(data, now)
                    else:
                        engine.receive_eof(now)
                    self.push()
                    moved = self.deadline_changed()
                if self._outbox:
                    self.send_out()
                if self.on_read is not None:
                    self.on_read()
                if moved:
                    self._wake()
                if not data:
                    break
                data = b""
        except Exception as exc:  # a fault of ours: the connection ends, said, rather than hanging unread
            log.exception("reading a connection on its thread failed")
            self.lost = f"wsinspector could not go on reading it: {exc}"
            self.shutdown()
        self.ended = True
        self._to_write.set()
        self._wake()
