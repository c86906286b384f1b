"""Moving bytes between a Qt socket and a :class:`~wsinspector.core.wire.engine.WireEngine`, for either role.

Both the client (:mod:`wsinspector.net.wire`) and each client of a server (:mod:`wsinspector.net.wire_server`)
pump alike: read for at most ``PUMP_BUDGET_S`` per turn of the event loop, feed the engine, write what it
returns, arm one timer at its close deadline, and signal ``received()`` once per turn however many frames it
read. Each read is sized by how long the one before took to parse (``READ_SLICE_S``), so tiny frames do not
take a turn past its budget. A bounded socket read buffer pushes back on the sender through TCP instead of
growing without limit.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Slot
from PySide6.QtNetwork import QAbstractSocket, QNetworkProxy, QSslSocket, QTcpSocket
from websockets.exceptions import ProtocolError

from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Opcode
from wsinspector.core.wire.engine import WireEngine
from wsinspector.net.client import byte_string
from wsinspector.net.hop_thread import HopThread, can_take, gathering, unwritten

#: bytes read and parsed at a time, at most and at least (more when the engine waits for the rest of a large
#: frame: it comes in one read, not piece by piece)
READ_CHUNK = 16 * 1024
MIN_READ_CHUNK = 1024
#: a read is sized to take about this long to parse: the pump's budget is looked at between reads, and parsing
#: costs per frame, so 16 KiB of 3-byte frames (some 3,000 frames) would take it over by a millisecond or more
READ_SLICE_S = 0.0005
#: reading goes on, chunk after chunk, for this long at most per turn of the event loop
PUMP_BUDGET_S = 0.003
#: a socket's descriptor is a file descriptor that takes a gathering write (not on Windows)
_WRITEV = hasattr(os, "writev")
#: the socket's own read buffer: beyond it, TCP flow control holds the sender back
SOCKET_BUFFER = 4 * 1024 * 1024
#: a piece the engine returns of this many bytes or more goes to Qt on its own, not joined with its neighbours
WRITTEN_ALONE = 64 * 1024
#: the engine's guard while Qt reads the socket on the window's thread: none needed
_UNGUARDED = nullcontext()


class WirePump:
    """The pump, mixed into an :class:`~wsinspector.net.client.EngineConnection` (which gives it ``_finished``,
    ``_was_open``, ``_state``, the timers, what ended the connection and ``_set_state``); the class sets ``_sock``
    and ``_engine`` and emits ``received`` (a Qt signal it declares). It also holds what both roles do alike once
    the connection is open: sending, pinging, the close's time limit and the end."""

    _sock: QTcpSocket | None
    _engine: WireEngine | None
    _finished: bool
    _was_open: bool
    _state: ConnectionState
    _aborted: bool
    _close_timed_out: bool
    _socket_error: tuple[Any, str] | None
    _close_timer: QTimer
    _handshake_timer: QTimer
    received: Any
    closed: Any

    def _init_pump(self) -> None:
        self._armed_deadline: int | None = None
        #: the socket's descriptor, written to directly (see send_at_once); -1: through Qt
        self._fd = -1
        self._held = False
        #: not read because the peer does not take what was written to it (see :meth:`hold_when_unwritten`)
        self._backlogged = False
        self._unwritten_most: int | None = None
        #: the next read's size (see READ_SLICE_S)
        self._read_size = READ_CHUNK
        self._pump_timer = QTimer(self)  # type: ignore[arg-type]
        self._pump_timer.setObjectName("wire-pump")
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)
        #: the connection read on a thread of its own (see :meth:`run_on_thread`), and what guards its engine
        self._hop: HopThread | None = None
        self._guard: AbstractContextManager[Any] = _UNGUARDED
        self._hop_events: deque[Any] = deque()

    if TYPE_CHECKING:
        def _set_state(self, state: ConnectionState) -> None: ...
        def _on_engine_event(self, event: Any) -> None: ...

    # -- read on a thread of its own --------------------------------------------------------------

    def can_run_on_thread(self, now: bool = True) -> bool:
        """Whether :meth:`run_on_thread` would (``now=False``: once what Qt has yet to write is out)."""
        sock = self._sock
        return (self._hop is None and sock is not None and self._engine is not None and not self._finished
                and self._state is ConnectionState.OPEN and can_take(sock)
                and (not now or sock.bytesToWrite() == 0))

    def run_on_thread(self, wake: Callable[[], None]) -> HopThread | None:
        """From now on, read this open connection on a thread of its own (:mod:`wsinspector.net.hop_thread`);
        None when it cannot be (TLS, a proxy between, not open, Windows). The caller sets the hop's
        ``on_read`` and the engine's sinks for that thread, then starts it; ``wake`` is called from the thread
        when :meth:`after_thread` has something to do, and must get the window's thread to call it. Call
        :meth:`flush` first: what Qt has yet to write keeps the connection with Qt."""
        if not self.can_run_on_thread():
            return None
        sock, engine = self._sock, self._engine
        assert sock is not None and engine is not None
        self._pump_timer.stop()
        self._fd = -1
        hop = HopThread(sock, engine, wake)
        hop.hold(self._held)
        self._hop, self._guard = hop, hop.lock
        return hop

    def thread_events(self, event: Any) -> None:
        """The engine's event, from the hop's thread: told on the window's thread (:meth:`after_thread`)."""
        self._hop_events.append(event)

    def after_thread(self) -> None:
        """On the window's thread, once the hop's thread woke it: the engine's events, its close deadline, the
        end of the connection."""
        hop = self._hop
        if hop is None:
            return
        events = self._hop_events
        while events and not self._finished:
            self._on_engine_event(events.popleft())
        if not self._finished:
            self._write()
        if hop.ended:
            if not self._finished:
                if hop.lost and self._socket_error is None:
                    self._socket_error = (QAbstractSocket.SocketError.RemoteHostClosedError, hop.lost)
                self._finish_closed()
            hop.close()
            self._thread_done()

    def _thread_done(self) -> None:
        """The connection read on a thread is over and its descriptor released."""

    def _on_disconnected(self) -> None:
        """The socket's stream ended: each role ends the connection its own way."""
        raise NotImplementedError

    def _peer_ended_stream(self, error: QAbstractSocket.SocketError) -> None:
        """A socket error on an open connection. ``RemoteHostClosedError`` over TLS may be the peer's
        close_notify, after which Qt reads nothing more and never emits ``disconnected``: waiting for it held
        every close for its whole grace. On the next turn of the event loop (Qt first finishes its own
        handling), a connection no ``disconnected`` ended is ended as one would, and its socket closed. A plain
        socket's own ``disconnected`` follows its error."""
        sock = self._sock
        if (not self._was_open or self._finished or error != QAbstractSocket.SocketError.RemoteHostClosedError
                or not isinstance(sock, QSslSocket)):
            return

        def end() -> None:
            if self._finished or self._sock is not sock:
                return
            self._on_disconnected()
            if sock.state() is not QAbstractSocket.SocketState.UnconnectedState:
                sock.disconnectFromHost()

        QTimer.singleShot(0, end)

    def _drop_socket(self) -> None:
        """End the TCP connection now (what Qt has yet to write goes out first); read on a thread: both ways."""
        if self._hop is not None:
            self._hop.shutdown()
            return
        sock = self._sock
        if sock is not None:
            if sock.bytesToWrite() > 0:
                sock.disconnectFromHost()
            else:
                sock.abort()

    # -- what both roles do alike, once open ------------------------------------------------------

    @property
    def auto_pong(self) -> bool:
        return self._engine.auto_pong if self._engine is not None else True

    @property
    def can_send(self) -> bool:
        """Whether a message sent now goes out: the connection is open and no close frame has gone either way
        (a connection read on a thread may begin closing at any moment: :meth:`send` may still refuse)."""
        engine = self._engine
        return engine is not None and self._state is ConnectionState.OPEN and engine.is_open

    def send(self, data: bytes, is_text: bool) -> None:
        """Send one message in one frame. Text goes out as the bytes given, valid UTF-8 or not."""
        with self._guard:
            self._require_open().send(data, is_text, time.monotonic_ns())
            self._write()

    def send_frame(self, opcode: Opcode, data: bytes, fin: bool, later: bool = False) -> None:
        """Send one data frame as it comes (TEXT or BINARY starts a message, CONTINUATION goes on, ``fin`` ends
        it): what a proxy forwards frame by frame. ValueError for a control opcode; RuntimeError when not open
        or when the frame does not follow the one before (a continuation with no message under way).
        ``later``: the frame waits for :meth:`flush` (frames forwarded in one turn go out in one write)."""
        with self._guard:
            try:
                self._require_open().send_frame(opcode, data, fin, time.monotonic_ns())
            except ProtocolError as exc:
                raise RuntimeError(str(exc)) from None
            if not later:
                self._write()

    def ping(self, payload: bytes = b"") -> None:
        with self._guard:
            self._require_open().ping(payload, time.monotonic_ns())
            self._write()

    def flush(self) -> None:
        """Write what waits to be written now, not on the event loop's next turn (Qt writes a socket's buffer
        once the loop comes round to it): a proxy forwarding what a turn read, in one write, at once."""
        sock = self._sock
        if sock is None or self._finished:
            return
        self._write()
        if self._hop is None and sock.bytesToWrite() > 0:
            sock.flush()

    def _no_delay(self) -> None:
        """Once the TCP connection is up: what is written goes out at once, not held until the peer has
        acknowledged what went before (TCP_NODELAY, as browsers and asyncio set it). Otherwise a message sent
        while the last is unacknowledged, a ping behind a message included, waits for the peer's delayed
        acknowledgement: some 40 ms on Linux, in every round trip measured."""
        sock = self._sock
        if sock is not None:
            sock.setSocketOption(QAbstractSocket.SocketOption.LowDelayOption, 1)

    def send_at_once(self) -> None:
        """From now on, on a plain TCP connection with no proxy between, what the engine has to send goes to the
        socket itself while Qt's buffer is empty (Qt's own write waits for the event loop's next turn and wakes
        it twice more): a proxy's forwarded frames are not held back."""
        sock = self._sock
        if sock is None or self._finished or self._hop is not None:
            return
        proxy = sock.proxy().type()
        if proxy is QNetworkProxy.ProxyType.DefaultProxy:
            proxy = QNetworkProxy.applicationProxy().type()
        if _WRITEV and not isinstance(sock, QSslSocket) and proxy is QNetworkProxy.ProxyType.NoProxy:
            self._fd = int(sock.socketDescriptor())

    def _require_open(self) -> WireEngine:
        if self._engine is None or self._state is not ConnectionState.OPEN or not self._engine.is_open:
            raise RuntimeError("the connection is not open")
        return self._engine

    @Slot()
    def _on_close_timeout(self) -> None:
        if self._finished or self._sock is None:
            return
        self._close_timed_out = True
        if self._hop is not None:
            self._hop.shutdown()
        else:
            self._sock.abort()
        if not self._finished:
            self._finish_closed()

    def _stop_timers(self) -> None:
        self._finished = True
        self._handshake_timer.stop()
        self._close_timer.stop()
        self._pump_timer.stop()

    def _finish_closed(self) -> None:
        self._stop_timers()
        assert self._engine is not None
        with self._guard:
            info = self._engine.close_info(aborted=self._aborted, timed_out=self._close_timed_out,
                                           lost_detail=self._socket_error[1] if self._socket_error else "")
        self._set_state(ConnectionState.CLOSED)
        self.closed.emit(info)

    @property
    def bytes_to_write(self) -> int:
        """Bytes written but not yet taken by the socket (the peer not reading holds them here)."""
        if self._hop is not None:
            return self._hop.waiting_bytes
        return int(self._sock.bytesToWrite()) if self._sock is not None else 0

    @property
    def backlogged(self) -> bool:
        """Whether the peer is not read now because more than :meth:`hold_when_unwritten`'s bound waits for it."""
        return self._backlogged

    def hold_when_unwritten(self, most: int) -> None:
        """Before the connection starts: once more than ``most`` bytes written wait for the peer to take them
        (it sends and does not read: what answers it piles up), stop reading it until they are down to half of
        that; what it sends meanwhile waits in the bounded socket buffer, then TCP holds it back. What is already
        read is answered, so the bound is passed by the answers to one read at most."""
        self._unwritten_most = most

    def _on_bytes_written(self, _count: int) -> None:
        sock, most = self._sock, self._unwritten_most
        if not self._backlogged or sock is None or most is None or _unwritten(sock) > most // 2:
            return
        self._backlogged = False
        if not self._held and not self._finished and sock.bytesAvailable() > 0:
            self._pump_timer.start()

    def hold_reading(self, held: bool) -> None:
        """Stop reading the socket for now (what arrives waits in its bounded buffer, then TCP holds the sender
        back), or go on reading. The end of the connection is read whole either way."""
        self._held = held
        if self._hop is not None:
            self._hop.hold(held)
            return
        sock = self._sock
        if not held and sock is not None and not self._finished and sock.bytesAvailable() > 0:
            self._pump_timer.start()

    def _write(self) -> None:
        """Write what the engine has to send, arm the close timer at its deadline, follow its state."""
        engine, sock = self._engine, self._sock
        if engine is None or sock is None:
            return
        hop = self._hop
        if hop is not None:
            with hop.lock:
                hop.push()
            hop.send_out()
            out = []
        else:
            out = engine.data_to_send()
        if (self._fd >= 0 and out and b"" not in out and not self._finished and sock.bytesToWrite() == 0
                and sock.socketDescriptor() == self._fd):  # the descriptor is still this socket's (and open)
            out = self._write_fd(out)
        _write_to_qt(sock, out)
        if self._finished:
            return
        most = self._unwritten_most
        if most is not None and hop is None and _unwritten(sock) > most:
            self._backlogged = True
        deadline = engine.close_deadline_ns
        if deadline is not None and deadline != self._armed_deadline:
            self._armed_deadline = deadline
            self._close_timer.start(max(0, (deadline - time.monotonic_ns()) // 1_000_000))
        if self._was_open and engine.is_closing:
            self._set_state(ConnectionState.CLOSING)

    def _write_fd(self, out: list[bytes]) -> list[bytes]:
        """Write ``out`` to the socket's descriptor in one gathering write (see :meth:`send_at_once`); what it
        did not take, for Qt's buffer (all of it when the socket fails: Qt finds out why)."""
        out = gathering(out)
        try:
            written = os.writev(self._fd, out)
        except BlockingIOError:
            return out
        except OSError:
            self._fd = -1
            return out
        return [bytes(data) for data in unwritten(out, written)]

    def _on_ready_read(self) -> None:
        if not self._pump_timer.isActive():
            self._pump()

    def _pump(self) -> None:
        sock, engine = self._sock, self._engine
        if sock is None or engine is None or self._finished or self._held or self._backlogged:
            return
        deadline = time.monotonic() + PUMP_BUDGET_S
        size = self._read_size
        chunk = byte_string(sock.read(max(size, engine.wanted)))
        if not chunk:
            return
        while True:
            started = time.monotonic()
            engine.receive_data(chunk, time.monotonic_ns())
            self._write()
            now = time.monotonic()
            size = _next_read_size(size, len(chunk), now - started)
            if self._finished or self._backlogged or sock.bytesAvailable() <= 0 or now >= deadline:
                break
            chunk = byte_string(sock.read(max(size, engine.wanted)))
            if not chunk:
                break
        self._read_size = size
        if not self._finished and not self._held and not self._backlogged and sock.bytesAvailable() > 0:
            self._pump_timer.start()  # the rest on the next turn: timers and paints get theirs in between
        self.received.emit()

    def _drain(self, eof: bool = True) -> None:
        """Parse everything still buffered (the peer's last frames before it closed), then the end (unless
        ``eof`` is False: before the request went out the client engine has nothing to judge)."""
        sock, engine = self._sock, self._engine
        if sock is None or engine is None:
            return
        self._pump_timer.stop()
        while not self._finished and sock.bytesAvailable() > 0:
            engine.receive_data(byte_string(sock.read(max(READ_CHUNK, engine.wanted))), time.monotonic_ns())
            self._write()
        if not self._finished and eof:
            engine.receive_eof(time.monotonic_ns())
            self._write()


def _unwritten(sock: QTcpSocket) -> int:
    """Bytes written to ``sock`` that the peer has not taken yet (over TLS, encrypted ones too)."""
    waiting = int(sock.bytesToWrite())
    if isinstance(sock, QSslSocket):
        waiting += int(sock.encryptedBytesToWrite())
    return waiting


def _write_to_qt(sock: QTcpSocket, out: list[bytes]) -> None:
    """``out`` into Qt's buffer: the pieces under ``WRITTEN_ALONE`` bytes between two large ones joined
    (:func:`_one`), ``b""`` ending the stream."""
    pieces: list[bytes] = []
    for data in out:
        if data and len(data) < WRITTEN_ALONE:
            pieces.append(data)
            continue
        if pieces:
            sock.write(_one(pieces))
            pieces = []
        if data:
            sock.write(data)
        elif sock.state() is not QAbstractSocket.SocketState.UnconnectedState:
            sock.disconnectFromHost()  # end of stream: the peer has closed its side already
    if pieces:
        sock.write(_one(pieces))


def _one(pieces: list[bytes]) -> bytes:
    """The engine's pieces (a frame's header and its payload, frames) as one write: Qt writes each buffer of
    4 KiB or more it is given in a system call of its own, on a turn of the event loop of its own. (A piece of
    ``WRITTEN_ALONE`` bytes or more is given to Qt as it is: joining it would copy it once more, and with
    TCP_NODELAY the header written before it goes out at once.)"""
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _next_read_size(size: int, read: int, took_s: float) -> int:
    """The size of the read after one of ``size`` bytes that got ``read`` and took ``took_s`` to parse: halved
    while a read takes longer than READ_SLICE_S, doubled again (up to READ_CHUNK) once a full one takes well
    under it."""
    if took_s > READ_SLICE_S:
        return max(MIN_READ_CHUNK, size // 2)
    if took_s < READ_SLICE_S / 4 and read >= size:
        return min(READ_CHUNK, size * 2)
    return size
