"""Long operations on the main thread in short slices, with progress and cancel, so the window never freezes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QTimer, Signal, Slot

log = logging.getLogger(__name__)

SLICE_MS = 25


class ChunkedTask(QObject):
    """Runs ``steps`` (an iterator yielding ``(done, total)``) a slice at a time from the event loop.

    ``result()`` is called once the iterator is exhausted; its value is emitted with ``finished``.
    ``describe_error`` turns an exception from a step into the sentence the user reads.

    Signals:
        progress(int, int): done, total (total 0 when unknown)
        finished(object): the result
        failed(str): what went wrong
        cancelled()
    """

    progress = Signal(object, object)  # byte offsets of files over 2 GiB do not fit a C int
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, title: str, steps: Iterator[tuple[int, int]], result: Callable[[], object] = lambda: None,
                 describe_error: Callable[[Exception], str] = str, cleanup: Callable[[], None] = lambda: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self._steps = steps
        self._result = result
        self._describe = describe_error
        self._cleanup = cleanup
        self._timer = QTimer(self)
        self._timer.setObjectName(f"task: {title}")
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_slice)
        self.running = False
        self.done = 0
        self.total = 0

    def start(self) -> None:
        self.running = True
        self._timer.start()

    @Slot()
    def cancel(self) -> None:
        if not self.running:
            return
        self.running = False
        self._timer.stop()
        self._close_steps()
        self._safe_cleanup()
        self.cancelled.emit()

    @Slot()
    def _run_slice(self) -> None:
        if not self.running:
            return
        deadline = time.monotonic() + SLICE_MS / 1000
        try:
            while time.monotonic() < deadline:
                try:
                    self.done, self.total = next(self._steps)
                except StopIteration:
                    self.running = False
                    result = self._result()
                    self.progress.emit(self.done, self.total)
                    self.finished.emit(result)
                    return
        except Exception as exc:  # reported to the user, never a traceback dialog
            self.running = False
            log.warning("%s failed", self.title, exc_info=True)
            self._safe_cleanup()
            self.failed.emit(self._describe(exc))
            return
        self.progress.emit(self.done, self.total)
        self._timer.start()

    def _close_steps(self) -> None:
        close = getattr(self._steps, "close", None)
        if close is not None:
            close()

    def _safe_cleanup(self) -> None:
        try:
            self._cleanup()
        except Exception:  # cleanup must not mask the outcome
            log.warning("cleanup after %s failed", self.title, exc_info=True)
