"""The built-in echo server over QWebSocketServer: what a new user connects to with no network.

Its own ``QTcpServer`` accepts each connection, sets TCP_NODELAY on it and hands it to the ``QWebSocketServer``
(``handleConnection``): a socket QWebSocketServer accepts itself keeps Nagle's algorithm, and QWebSocket writes
a frame's header and its payload apart, so an echo or a pong leaving while the last was unacknowledged waited
for the client's delayed acknowledgement (some 40 ms on Linux)."""

from __future__ import annotations

from functools import partial

import shiboken6
from PySide6.QtCore import QByteArray, QObject, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QHostAddress, QTcpServer
from PySide6.QtWebSockets import QWebSocket, QWebSocketProtocol, QWebSocketServer


class EchoServerError(RuntimeError):
    pass


class EchoServer(QObject):
    """Echoes every text and binary message back, on 127.0.0.1.

    Signals:
        client_count_changed(int)
    """

    client_count_changed = Signal(int)

    def __init__(self, parent: QObject | None = None, name: str = "wsinspector echo") -> None:
        super().__init__(parent)
        self._server = QWebSocketServer(name, QWebSocketServer.SslMode.NonSecureMode, self)
        self._server.newConnection.connect(self._on_new_connection)
        self._tcp = QTcpServer(self)
        self._tcp.newConnection.connect(self._on_accepted)
        self._clients: list[QWebSocket] = []

    def listen(self, port: int = 0) -> str:
        if not self._tcp.listen(QHostAddress(QHostAddress.SpecialAddress.LocalHost), port):
            raise EchoServerError(f"Cannot listen on 127.0.0.1:{port}: {self._tcp.errorString()}")
        return self.url

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._tcp.serverPort()}/"

    @property
    def port(self) -> int:
        return int(self._tcp.serverPort())

    @property
    def is_listening(self) -> bool:
        return bool(self._tcp.isListening())

    @Slot()
    def _on_accepted(self) -> None:
        while self._tcp.hasPendingConnections():
            sock = self._tcp.nextPendingConnection()
            sock.setSocketOption(QAbstractSocket.SocketOption.LowDelayOption, 1)
            self._server.handleConnection(sock)  # the WebSocket server owns it from now on

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def close(self) -> None:
        """Stop listening and close every client connection (1001 going away)."""
        self._tcp.close()
        self._server.close()
        clients, self._clients = self._clients, []
        for client in clients:
            if shiboken6.isValid(client):
                # kept until the client answers the close frame: then Qt drops the TCP connection, as a
                # server should (deleting it now would leave the connection open with no one to close it)
                client.disconnected.disconnect()
                client.disconnected.connect(client.deleteLater)
                client.close(QWebSocketProtocol.CloseCode.CloseCodeGoingAway, "server shutting down")
        if clients:
            self.client_count_changed.emit(0)

    @Slot()
    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            client = self._server.nextPendingConnection()
            client.setParent(self)
            client.textMessageReceived.connect(partial(self._echo_text, client))
            client.binaryMessageReceived.connect(partial(self._echo_binary, client))
            client.disconnected.connect(partial(self._forget, client))
            self._clients.append(client)
        self.client_count_changed.emit(len(self._clients))

    def _echo_text(self, client: QWebSocket, text: str) -> None:
        client.sendTextMessage(text)

    def _echo_binary(self, client: QWebSocket, data: QByteArray) -> None:
        client.sendBinaryMessage(data)

    def _forget(self, client: QWebSocket) -> None:
        if shiboken6.isValid(self) and client in self._clients:
            self._clients.remove(client)
            if shiboken6.isValid(client):
                client.deleteLater()
            self.client_count_changed.emit(len(self._clients))
