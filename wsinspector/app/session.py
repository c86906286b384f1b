"""The live session: one connection, its frame log, and batched updates for the views."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.core.events import CloseInfo, ConnectionState, Failure, FailureKind, OpenInfo
from wsinspector.core.frames import Frame, is_sendable_close_code
from wsinspector.core.log import FrameLog
from wsinspector.core.profiles import ConnectionProfile, ProfileError
from wsinspector.net.client import QtConnection

FLUSH_INTERVAL_MS = 50


class SessionController(QObject):
    """Owns the current connection and its :class:`FrameLog`.

    Frames enter the log the moment the engine reports them; views hear about them once per flush
    (every ~50 ms), as one contiguous range.

    Signals:
        state_changed(ConnectionState)
        session_started(): a new log replaced the previous one (views reset)
        frames_appended(int, int): first and last seq added since the previous flush
        opened(OpenInfo)
        failed(Failure): the connection could not be opened
        closed(CloseInfo): an open connection ended
    """

    state_changed = Signal(object)
    session_started = Signal()
    frames_appended = Signal(int, int)
    opened = Signal(object)
    failed = Signal(object)
    closed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log = FrameLog()
        self.profile: ConnectionProfile | None = None
        self.open_info: OpenInfo | None = None
        self._connection: QtConnection | None = None
        self._state = ConnectionState.CLOSED
        self._flushed = 0
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is ConnectionState.OPEN

    @property
    def outgoing_frame_size(self) -> int:
        return self._connection.outgoing_frame_size if self._connection else 512 * 1024

    def connect_to(self, profile: ConnectionProfile) -> bool:
        """Start a new session against ``profile``. False (and ``failed``) when its settings are invalid."""
        if self._state is not ConnectionState.CLOSED:
            raise RuntimeError("disconnect first")
        try:
            target = profile.resolved()
        except ProfileError as exc:
            self.failed.emit(Failure(FailureKind.INVALID_TARGET, detail=str(exc)))
            return False
        self._discard_connection()
        self.flush()
        self.profile = profile
        self.open_info = None
        self.log = FrameLog()
        self._flushed = 0
        self.session_started.emit()
        connection = QtConnection(self)
        connection.state_changed.connect(self._on_state_changed)
        connection.frame.connect(self._on_frame)
        connection.opened.connect(self._on_opened)
        connection.failed.connect(self._on_failed)
        connection.closed.connect(self._on_closed)
        self._connection = connection
        self._flush_timer.start()
        connection.open(target)
        return True

    def send(self, data: bytes, is_text: bool) -> None:
        self._require().send(data, is_text)

    def ping(self, payload: bytes = b"") -> None:
        if len(payload) > 125:
            raise ValueError("A ping payload can be at most 125 bytes")
        self._require().ping(payload)

    def disconnect(self, code: int = 1000, reason: str = "") -> None:
        if not is_sendable_close_code(code):
            raise ValueError(f"Close code {code} may not be sent by a client (use 1000-1003, 1007-1011 or 3000-4999)")
        if len(reason.encode("utf-8")) > 123:
            raise ValueError("A close reason can be at most 123 bytes of UTF-8")
        if self._connection is not None:
            self._connection.close(code, reason)

    def shutdown(self) -> None:
        """Leave nothing running: abort the socket and stop the flush timer."""
        if self._connection is not None:
            self._connection.abort()
        self.flush()
        self._flush_timer.stop()
        self._discard_connection()

    @Slot()
    def flush(self) -> None:
        last = len(self.log) - 1
        if last >= self._flushed:
            first = self._flushed
            self._flushed = last + 1
            self.frames_appended.emit(first, last)

    def _require(self) -> QtConnection:
        if self._connection is None or not self.is_open:
            raise RuntimeError("Not connected")
        return self._connection

    def _discard_connection(self) -> None:
        if self._connection is not None:
            self._connection.blockSignals(True)
            self._connection.deleteLater()
            self._connection = None

    @Slot(object)
    def _on_state_changed(self, state: ConnectionState) -> None:
        self._state = state
        if state is ConnectionState.CLOSED:
            self.flush()
            self._flush_timer.stop()
        self.state_changed.emit(state)

    @Slot(object)
    def _on_frame(self, frame: Frame) -> None:
        self.log.append(frame)

    @Slot(object)
    def _on_opened(self, info: OpenInfo) -> None:
        self.open_info = info
        self.opened.emit(info)

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        self.flush()
        self.failed.emit(failure)

    @Slot(object)
    def _on_closed(self, info: CloseInfo) -> None:
        self.flush()
        self.closed.emit(info)
