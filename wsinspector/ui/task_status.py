"""A long task's progress in the status bar, with Cancel: exports and imports."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from wsinspector.app.tasks import ChunkedTask


class TaskStatus(QObject):
    """Runs one :class:`ChunkedTask` at a time with its title, progress and a Cancel button in ``status_bar``.

    Signals:
        message(str, str): what to tell the user (text, "error" for the banner or "" for the status bar)
    """

    message = Signal(str, str)

    def __init__(self, status_bar: QStatusBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.progress = QProgressBar()
        self.progress.setObjectName("taskProgress")
        self.progress.setMaximumWidth(180)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("taskCancel")
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (self.label, self.progress, self.cancel_button):
            widget.hide()
            status_bar.addPermanentWidget(widget)
        self._task: ChunkedTask | None = None

    @property
    def busy(self) -> ChunkedTask | None:
        """The task running now, if any."""
        return self._task if self._task is not None and self._task.running else None

    def run(self, task: ChunkedTask) -> bool:
        """Start ``task`` and show its progress; False (and a warning) while another one runs."""
        if self.busy is not None:
            self.message.emit(f"Wait for “{self.busy.title}” to finish, or cancel it", "warning")
            task.deleteLater()
            return False
        self._task = task
        self.label.setText(task.title + "…")
        self.progress.setRange(0, 0)
        for widget in (self.label, self.progress, self.cancel_button):
            widget.show()
        task.progress.connect(self._on_progress)
        task.finished.connect(lambda _result: self._end(task))
        task.cancelled.connect(lambda: self._end(task, f"{task.title}: cancelled"))
        task.failed.connect(lambda message: self._end(task, f"{task.title} failed: {message}", "error"))
        task.start()
        return True

    @Slot()
    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(done, total) / total))

    def _end(self, task: ChunkedTask, message: str = "", level: str = "") -> None:
        if self._task is task:
            self._task = None
            for widget in (self.label, self.progress, self.cancel_button):
                widget.hide()
        if message:
            self.message.emit(message, level)
        task.deleteLater()
