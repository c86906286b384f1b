"""One way to fold bursts of calls into few: redraws, filters typed key by key, rates."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot


class Throttle(QObject):
    """Calls ``func`` at most once per ``interval_ms`` however often it is called.

    With ``leading`` (the default) a call after a quiet interval runs at once; calls within the interval
    fold into one run at its end. Without it every call waits: the first call of a burst starts the interval
    and one run follows at its end (a search field filters after typing settles rather than per key).
    Its timer carries ``name``, so a timer left running names its owner.
    """

    def __init__(self, func: Callable[[], object], interval_ms: int, name: str, *, leading: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._func = func
        self._interval_ms = interval_ms
        self._leading = leading
        self._last_ns: int | None = None
        self._timer = QTimer(self)
        self._timer.setObjectName(name)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run)

    @property
    def pending(self) -> bool:
        """A run is waiting for the end of the interval."""
        return self._timer.isActive()

    def __call__(self, *_signal_args: object) -> None:
        """Ask for a run (a signal's arguments are ignored, so any signal can be connected)."""
        if self._timer.isActive():
            return
        now = time.monotonic_ns()
        since_ms = None if self._last_ns is None else (now - self._last_ns) // 1_000_000
        if self._leading and (since_ms is None or since_ms >= self._interval_ms):
            self._run()
        elif self._leading and since_ms is not None:
            self._timer.start(max(0, self._interval_ms - since_ms))
        else:
            self._timer.start(self._interval_ms)

    def flush(self) -> None:
        """Run a waiting call now."""
        if self._timer.isActive():
            self._timer.stop()
            self._run()

    def cancel(self) -> None:
        """Drop a waiting call."""
        self._timer.stop()

    @Slot()
    def _run(self) -> None:
        self._last_ns = time.monotonic_ns()
        self._func()
