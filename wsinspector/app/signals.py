"""Ctrl+C and SIGTERM reach a running Qt event loop, also when they arrive before it starts."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Protocol

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal, Slot

WATCHED = (signal.SIGINT, signal.SIGTERM)
#: the signals that came after :func:`hold_signals` and before a watcher took them over
_held: list[int] = []


class _Writing:
    """Whether the window's thread writes a line that can block (a command's standard output, which nobody may
    be reading): a signal then ends the write rather than waiting behind it."""

    out = False


class WriteInterrupted(Exception):
    """SIGINT or SIGTERM came while a line was being written to a stream that did not take it."""


@contextlib.contextmanager
def interruptible_write() -> Iterator[None]:
    """A blocking write in the block ends with :class:`WriteInterrupted` when SIGINT or SIGTERM comes (the
    signal still reaches :class:`SignalWatcher` through the wakeup pipe). Only on the main thread, where Python
    runs signal handlers: anywhere else the exception would come out of whatever the main thread was doing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Writing.out = True
    try:
        yield
    finally:
        _Writing.out = False


def hold_signals() -> None:
    """From now until a :class:`SignalWatcher` is made, Ctrl+C and SIGTERM wait for it (it tells them as soon as
    its event loop runs) instead of interrupting the start-up with a traceback, or being lost in it (a
    ``KeyboardInterrupt`` raised in code Qt called, where nothing sees it). For commands that start a loop."""
    for sig in WATCHED:
        signal.signal(sig, _hold)


def _hold(signum: int, _frame: FrameType | None) -> None:
    _held.append(signum)


class SignalWatcher(QObject):
    """Turns SIGINT and SIGTERM into the Qt signal ``received(signum)``.

    Python runs its signal handlers only when the interpreter gets control, which a Qt event loop waiting
    for events does not give it. The C-level handler also writes the signal's number to a wakeup pipe
    (``signal.set_wakeup_fd``); a ``QSocketNotifier`` on the other end wakes the event loop at once. A
    signal that arrives before the loop runs leaves its byte in the pipe, so the loop sees it as soon as
    it starts: nothing is lost in between. The pipe is a plain one on POSIX (no ``socket`` module to load
    before the window's first paint), a socket pair on Windows, where the wakeup fd must be a socket.

    Signals: ``received(int)``.
    """

    received = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = _wakeup_pair()
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in WATCHED}
        self._closed = False
        early, _held[:] = list(_held), []
        for signum in early:  # held since the start-up: told once the loop runs, as one arriving now would be
            QTimer.singleShot(0, self, lambda s=signum: self.received.emit(s))

    @staticmethod
    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        """Nothing to do in Python, the wakeup byte carries the signal to the event loop, unless a write holds
        the loop up: that write ends (:func:`interruptible_write`)."""
        if _Writing.out:
            raise WriteInterrupted

    @Slot()
    def _on_readable(self) -> None:
        try:
            data = self._reader.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            if signum in WATCHED:
                self.received.emit(signum)

    def close(self) -> None:
        """Give the signals back to whoever had them before."""
        if self._closed:
            return
        self._closed = True
        self._notifier.setEnabled(False)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()


class _WakeupEnd(Protocol):
    def fileno(self) -> int: ...

    def recv(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


class _PipeEnd:
    """One end of a non-blocking ``os.pipe()``, with the few calls of a socket the watcher makes."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        os.set_blocking(fd, False)

    def fileno(self) -> int:
        return self._fd

    def recv(self, size: int, /) -> bytes:
        return os.read(self._fd, size)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _wakeup_pair() -> tuple[_WakeupEnd, _WakeupEnd]:
    """The two ends the wakeup bytes travel through: reader, writer."""
    if os.name == "nt":
        import socket  # noqa: PLC0415  (Windows only: its wakeup fd must be a socket)

        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        return reader, writer
    read_fd, write_fd = os.pipe()
    return _PipeEnd(read_fd), _PipeEnd(write_fd)
