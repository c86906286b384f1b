"""Ending a connection after an HTTP answer that refused its request, without losing the answer.

A server that answers a request it did not read whole (a request line of a mebibyte, thousands of headers,
a client over the limit) and closes its socket at once leaves the rest of the request unread: the system
then resets the connection, and a reset can discard the answer before the client reads it. So the answer is
written whole, our side of the stream ended (TCP half-close; over TLS the answer alone), and what the
client still sends is read and dropped until it closes its side or ``LINGER_MS`` have passed."""

from __future__ import annotations

import contextlib
import socket

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtNetwork import QAbstractSocket, QSslSocket, QTcpSocket

#: how long the rest of a refused request is read and dropped, at most
LINGER_MS = 2000


def end_after_answer(sock: QTcpSocket, linger_ms: int = LINGER_MS) -> None:
    """End ``sock`` once what was written to it is out (see the module's text)."""
    if sock.state() is QAbstractSocket.SocketState.UnconnectedState:
        return
    _Linger(sock, linger_ms)


class _Linger(QObject):
    """Lives as long as the socket it ends (its child)."""

    def __init__(self, sock: QTcpSocket, linger_ms: int) -> None:
        super().__init__(sock)
        self._sock = sock
        self._half_closed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._give_up)
        self._timer.start(linger_ms)
        sock.readyRead.connect(self._drop_input)
        sock.bytesWritten.connect(self._written)
        self._drop_input()
        self._written()

    @Slot()
    def _drop_input(self) -> None:
        while self._sock.bytesAvailable() > 0:
            self._sock.readAll()

    @Slot()
    def _written(self) -> None:
        sock = self._sock
        if self._half_closed or sock.bytesToWrite() > 0:
            return
        self._half_closed = True
        if isinstance(sock, QSslSocket):
            sock.disconnectFromHost()  # TLS has no half-close of its own: the answer is out, the end follows
            return
        descriptor = int(sock.socketDescriptor())
        if descriptor < 0:
            return
        raw = socket.socket(fileno=descriptor)
        try:
            with contextlib.suppress(OSError):  # the client is gone already: its end comes as disconnected
                raw.shutdown(socket.SHUT_WR)
        finally:
            raw.detach()  # the descriptor stays Qt's

    @Slot()
    def _give_up(self) -> None:
        if self._sock.state() is not QAbstractSocket.SocketState.UnconnectedState:
            self._sock.abort()
