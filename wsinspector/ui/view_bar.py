"""The bar above the timeline: frames or messages, Pause / Resume, Clear, Follow.

Pausing and clearing change what the view shows, never what is recorded: the session keeps every frame.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QToolButton, QWidget

from wsinspector.core.session import Session
from wsinspector.ui import palette
from wsinspector.ui.timeline import TimelineModel, TimelineView

CLEAR_TIP = ("Empty the view: it shows only the frames that arrive from now on. The recording keeps every "
             "frame (the Sessions page has the whole session).")
PAUSE_TIP = ("Stop adding new frames to the view; the connection and the recording go on. Resume shows what "
             "arrived meanwhile.")


def _tool(text: str, name: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setToolButtonStyle(button.toolButtonStyle().ToolButtonTextOnly)
    return button


class ViewBar(QWidget):
    """Signals:
    changed(): what the view shows changed (paused, resumed, cleared, frames or messages)
    cleared(): the view was emptied (the frame the detail pane shows is no longer in it)
    """

    changed = Signal()
    cleared = Signal()

    def __init__(self, model: TimelineModel, view: TimelineView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewBar")
        self._model, self._view = model, view
        self.frames_button = _tool("Frames", "viewFrames", "One row per frame", checkable=True)
        self.messages_button = _tool("Messages", "viewMessages",
                                     "One row per message: a fragmented message's frames fold into one row "
                                     "(the detail pane shows the whole message)", checkable=True)
        self.frames_button.setChecked(True)
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.frames_button)
        group.addButton(self.messages_button)
        self.pause_button = _tool("Pause", "pauseView", PAUSE_TIP, checkable=True)
        self.clear_button = _tool("Clear view", "clearView", CLEAR_TIP)
        self.follow_button = _tool("Follow", "followButton",
                                   "Keep the newest row in view (End). Selecting a row stops following.",
                                   checkable=True)
        self.follow_button.setChecked(view.following)
        self.status = QLabel()
        self.status.setObjectName("viewStatus")
        palette.style(self.status, "color: {warning};")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.frames_button, self.messages_button):
            layout.addWidget(widget)
        layout.addSpacing(12)
        for widget in (self.pause_button, self.clear_button, self.follow_button):
            layout.addWidget(widget)
        layout.addWidget(self.status, 1)
        self._pending = 0
        self.messages_button.toggled.connect(self._on_messages_toggled)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.clear_button.clicked.connect(self.clear)
        self.follow_button.clicked.connect(self._on_follow_clicked)
        view.following_changed.connect(self.follow_button.setChecked)

    @property
    def paused(self) -> bool:
        return self.pause_button.isChecked()

    @property
    def pending(self) -> int:
        """Frames that arrived while paused, not shown yet."""
        return self._pending

    def take(self, first: int, last: int) -> None:
        """New frames ``first``..``last`` of the live session: shown now, or counted while paused."""
        if self.paused:
            self._pending = max(0, last + 1 - self._model.known_frames)
            self._show_status()
            return
        self._model.on_frames_appended(first, last)

    def reset(self) -> None:
        """A new source: not paused, nothing pending (the model starts it uncleared)."""
        self._pending = 0
        if self.paused:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
        self._model.set_messages(self.messages_button.isChecked())
        self._show_status()

    def set_live(self, live: bool) -> None:
        """Pause and Clear act on a session that grows; a stored one shows everything."""
        for button in (self.pause_button, self.clear_button):
            button.setEnabled(live)

    @Slot()
    def clear(self) -> None:
        source: Session | None = self._model.source
        if source is None:
            return
        self._pending = 0
        self._model.clear_view(len(source))
        self._show_status()
        self.cleared.emit()
        self.changed.emit()

    def _on_pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if not paused:
            source = self._model.source
            self._pending = 0
            if source is not None and len(source) > self._model.known_frames:
                self._model.on_frames_appended(self._model.known_frames, len(source) - 1)
        self._show_status()
        self.changed.emit()

    def _on_messages_toggled(self, on: bool) -> None:
        self._model.set_messages(on)
        self._show_status()
        self.changed.emit()

    def _on_follow_clicked(self) -> None:
        self._view.follow()
        self.follow_button.setChecked(True)

    def _show_status(self) -> None:
        parts = []
        if self.paused:
            parts.append(f"Paused: {self._pending:,} new frame{'s' if self._pending != 1 else ''} not shown yet "
                         "(still recorded)")
        base = self._model.cleared_before
        if base:
            parts.append(f"Cleared: showing from #{base:,} on")
        self.status.setText(" · ".join(parts))
        self.status.setToolTip(CLEAR_TIP if base else "")
