"""A TLS listening socket that says why a client's TLS never came up.

Qt's ``QSslServer`` closes a client whose first bytes are not a TLS handshake without a word, and a handshake
that fails is reported only on the socket it drops. The most common case is a ``ws://`` URL pointed at a
``wss://`` server: the client sends a plain HTTP upgrade request and sees its connection closed, and the
server's user sees nothing at all. :class:`TlsServer` looks at the first bytes a client sends before handing
its connection to ``QSslServer``: anything but a TLS record is answered ``400 Bad Request`` in plain HTTP,
saying to use ``wss://``. :attr:`TlsServer.refused` names the client and what happened, for that and for a
handshake the client broke off (its alert: most often a certificate it does not trust) or did not finish in
time.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QSsl, QSslConfiguration, QSslServer, QSslSocket, QTcpSocket

from wsinspector.net.linger import end_after_answer

#: the first byte of a TLS record that carries a handshake (a ClientHello, for a client)
_HANDSHAKE_RECORD = 0x16
_PLAIN_BODY = (b"This port speaks TLS: connect with wss:// (https://), not ws:// (http://).\n")
PLAIN_ANSWER = (b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(_PLAIN_BODY), _PLAIN_BODY))
_HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"OPTIONS ", b"CONNECT ", b"DELETE ", b"PATCH ")
#: alerts a client sends when it does not trust the certificate it was shown
_DISTRUST = {QSsl.AlertType.UnknownCa, QSsl.AlertType.BadCertificate, QSsl.AlertType.CertificateUnknown,
             QSsl.AlertType.UnsupportedCertificate, QSsl.AlertType.CertificateExpired,
             QSsl.AlertType.CertificateRevoked}


def _peer_text(host: str, port: int) -> str:
    host = host.removeprefix("::ffff:") if "." in host else host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class TlsServer(QSslServer):
    """``QSslServer`` that answers a client speaking plain HTTP, and says who failed TLS and how.

    Signals:
        refused(str, str): a client's address ("host:port") and why its TLS did not come up (one line)
    """

    refused = Signal(str, str)

    def __init__(self, configuration: QSslConfiguration, wait_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSslConfiguration(configuration)
        self.setHandshakeTimeout(wait_ms)
        self._wait_ms = wait_ms
        self.alertReceived.connect(self._on_alert)
        self.errorOccurred.connect(self._on_error)

    def incomingConnection(self, handle: int) -> None:
        _FirstBytes(self, handle, self._wait_ms)

    def take(self, handle: int) -> None:
        """A client whose first byte begins a TLS handshake: ``QSslServer`` goes on with it."""
        QSslServer.incomingConnection(self, handle)

    def answer_plain(self, handle: int, peer: str, first: bytes) -> None:
        """A client that spoke something else first: answered in plain HTTP when it spoke HTTP, then let go."""
        sock = QTcpSocket(self)
        if not sock.setSocketDescriptor(handle):
            sock.deleteLater()
            _close(handle)
            return
        sock.disconnected.connect(sock.deleteLater)
        if first.startswith(_HTTP_METHODS):
            sock.write(PLAIN_ANSWER)
            end_after_answer(sock)
            self.refused.emit(peer, "sent a plain HTTP request (a ws:// URL?) to this wss:// server: answered 400, "
                                    "use wss://")
            return
        end_after_answer(sock)  # what it sent is read and dropped: it sees the end, not a reset
        self.refused.emit(peer, f"sent {first[:8].hex(' ')} where a TLS handshake begins: not TLS, let go")

    @Slot(QSslSocket, QSsl.AlertLevel, QSsl.AlertType, str)
    def _on_alert(self, sock: QSslSocket, level: QSsl.AlertLevel, kind: QSsl.AlertType, description: str) -> None:
        if level is not QSsl.AlertLevel.Fatal or sock.property("wsinspector_told"):
            return
        sock.setProperty("wsinspector_told", True)
        hint = " (does it trust this server's certificate?)" if kind in _DISTRUST else ""
        self.refused.emit(_peer_text(sock.peerAddress().toString(), sock.peerPort()),
                          f"ended the TLS handshake: {description}{hint}")

    @Slot(QSslSocket, QAbstractSocket.SocketError)
    def _on_error(self, sock: QSslSocket, error: QAbstractSocket.SocketError) -> None:
        if sock.property("wsinspector_told"):
            return
        sock.setProperty("wsinspector_told", True)
        if error is QAbstractSocket.SocketError.RemoteHostClosedError:  # with no alert: some clients send none
            detail = "closed the connection during the TLS handshake (does it trust this server's certificate?)"
        elif error is QAbstractSocket.SocketError.SocketTimeoutError:
            detail = f"did not finish the TLS handshake within {self._wait_ms / 1000:g} s"
        else:
            detail = f"TLS handshake failed: {sock.errorString()}"
        self.refused.emit(_peer_text(sock.peerAddress().toString(), sock.peerPort()), detail)


class _FirstBytes(QObject):
    """Waits (up to ``wait_ms``) for a new client's first bytes, looks at them without reading them, and hands
    the connection on."""

    def __init__(self, server: TlsServer, handle: int, wait_ms: int) -> None:
        super().__init__(server)
        self._server, self._handle = server, handle
        self._peer = ""
        with contextlib.suppress(OSError), _borrowed(handle) as sock:
            self._peer = _peer_text(*sock.getpeername()[:2])
        self._notifier = QSocketNotifier(handle, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._silent)
        self._timer.start(wait_ms)

    @Slot()
    def _readable(self) -> None:
        self._done()
        try:
            with _borrowed(self._handle) as sock:
                first = sock.recv(16, socket.MSG_PEEK)
        except OSError:
            first = b""
        if not first:  # it went without a word (a port check): nothing to say
            _close(self._handle)
        elif first[0] == _HANDSHAKE_RECORD:
            self._server.take(self._handle)
        else:
            self._server.answer_plain(self._handle, self._peer, first)

    @Slot()
    def _silent(self) -> None:
        self._done()
        _close(self._handle)
        self._server.refused.emit(self._peer, f"sent nothing within {self._timer.interval() / 1000:g} s: let go")

    def _done(self) -> None:
        self._notifier.setEnabled(False)
        self._timer.stop()
        self.deleteLater()


@contextlib.contextmanager
def _borrowed(handle: int) -> Iterator[socket.socket]:
    """The socket of ``handle``, not owned: left open afterwards."""
    sock = socket.socket(fileno=handle)
    try:
        yield sock
    finally:
        sock.detach()


def _close(handle: int) -> None:
    with contextlib.suppress(OSError):
        socket.socket(fileno=handle).close()
