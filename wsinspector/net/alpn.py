"""Which application protocol a TLS server chooses when offered h2 and http/1.1 (ALPN): what tells whether
an endpoint speaks HTTP/2 at all, before WebSocket over HTTP/2 (RFC 8441) could be offered. When it chooses
h2, the HTTP/2 client preface is sent and the server's first frame read (at most a SETTINGS frame's bounded
length, :mod:`wsinspector.core.probe.h2settings` parses it); then the connection is dropped."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import QByteArray, QObject, QTimer, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QSslConfiguration, QSslSocket

from wsinspector.core.probe.h2settings import CLIENT_PREFACE, HEADER, MAX_SETTINGS, FrameError, first_settings
from wsinspector.core.profiles import ResolvedTarget
from wsinspector.net import proxy, tls

OFFERED = (b"h2", b"http/1.1")


class AlpnCheck(QObject):
    """``answered(protocol, error, settings, settings_error)``: the protocol the server chose ("" none), or why
    the check failed; with h2, the server's SETTINGS as ``[[parameter, value], …]``, or why they were not read."""

    answered = Signal(str, str, list, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sock = QSslSocket(self)
        self._sock.encrypted.connect(self._on_encrypted)
        self._sock.errorOccurred.connect(self._on_error)
        self._sock.readyRead.connect(self._on_ready_read)
        # only the choice of protocol is read, nothing is sent: the certificate's trust is the cases' to judge
        self._sock.sslErrors.connect(lambda _errors: self._sock.ignoreSslErrors())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)
        self._done = False
        self._h2 = False
        self._read = b""

    def start(self, target: ResolvedTarget, timeout_s: float) -> None:
        parts = urlsplit(target.url)
        host, port = parts.hostname or "", parts.port or 443
        try:
            config: QSslConfiguration = tls.configuration(target.tls)
        except tls.TlsSetupError as exc:
            why = str(exc)
            QTimer.singleShot(0, lambda: self._answer("", why))
            return
        config.setAllowedNextProtocols([QByteArray(p) for p in OFFERED])
        self._sock.setSslConfiguration(config)
        self._sock.setProxy(proxy.network_proxy(target.url, target.proxy, target.proxy_source)[0])
        address, _, connect_port = target.endpoint.connect_to.rpartition(":")
        self._timer.start(int(timeout_s * 1000))
        if address:
            self._sock.connectToHostEncrypted(address.strip("[]"), int(connect_port), host)
        else:
            self._sock.connectToHostEncrypted(host, port)

    def abort(self) -> None:
        self._done = True
        self._timer.stop()
        self._sock.abort()

    @Slot()
    def _on_encrypted(self) -> None:
        chosen = bytes(self._sock.sslConfiguration().nextNegotiatedProtocol().data()).decode("ascii", "replace")
        if chosen != "h2":
            self._answer(chosen, "")
            return
        self._h2 = True
        self._sock.write(CLIENT_PREFACE)

    @Slot()
    def _on_ready_read(self) -> None:
        if not self._h2 or self._done:
            return
        self._read += bytes(self._sock.read(HEADER + MAX_SETTINGS - len(self._read)).data())
        try:
            settings = first_settings(self._read)
        except FrameError as exc:
            self._answer("h2", "", settings_error=str(exc))
            return
        if settings is not None:
            self._answer("h2", "", [[k, v] for k, v in settings.items()])

    @Slot(QAbstractSocket.SocketError)
    def _on_error(self, _error: QAbstractSocket.SocketError) -> None:
        if self._h2:
            self._answer("h2", "", settings_error=f"the connection ended after {len(self._read)} bytes "
                         f"({self._sock.errorString()})")
        else:
            self._answer("", self._sock.errorString())

    def _on_timeout(self) -> None:
        if self._h2:
            self._answer("h2", "", settings_error=f"no whole SETTINGS frame within the time limit "
                         f"({len(self._read)} bytes read)")
        else:
            self._answer("", "no TLS handshake within the time limit")

    def _answer(self, protocol: str, error: str, settings: list[list[int]] | None = None,
                settings_error: str = "") -> None:
        if self._done:
            return
        self.abort()
        self.answered.emit(protocol, error, settings or [], settings_error)

