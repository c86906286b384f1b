"""Ctrl+C and SIGTERM reach a running Qt event loop, also when they arrive before it starts."""

from __future__ import annotations

import contextlib
import signal
import socket
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier, Signal, Slot

WATCHED = (signal.SIGINT, signal.SIGTERM)


class SignalWatcher(QObject):
    """Turns SIGINT and SIGTERM into the Qt signal ``received(signum)``.

    Python runs its signal handlers only when the interpreter gets control, which a Qt event loop waiting
    for events does not give it. The C-level handler also writes the signal's number to a wakeup socket
    (``signal.set_wakeup_fd``); a ``QSocketNotifier`` on the other end wakes the event loop at once. A
    signal that arrives before the loop runs leaves its byte in the socket, so the loop sees it as soon as
    it starts: nothing is lost in between.

    Signals: ``received(int)``.
    """

    received = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in WATCHED}
        self._closed = False

    @staticmethod
    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        """Nothing to do in Python: the wakeup byte carries the signal to the event loop."""

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
