"""Memory a burst of traffic freed goes back to the system once the burst is over (``core/allocator.py``): a
proxy or a server says each time one of its clients goes, and a second after the last of them the heaps are
trimmed once (trimming walks every heap: not for each of many clients leaving together)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from wsinspector.core.allocator import give_back

#: how long after the last client went the heaps are trimmed
QUIET_MS = 1000


class AfterBurst(QObject):
    """Trims the heaps ``QUIET_MS`` after the last :meth:`client_gone`."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(QUIET_MS)
        self._timer.timeout.connect(give_back)

    def client_gone(self) -> None:
        self._timer.start()
