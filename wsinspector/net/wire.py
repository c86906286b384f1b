"""The Wire engine's pump: Qt sockets in and out of the sans-I/O core (:mod:`wsinspector.core.wire`), which
makes every protocol decision; this class moves bytes, keeps time, and arms timers at the core's deadlines.

Qt sockets take the same TLS configuration, certificate checks and proxy as the Qt engine, so switching
engines changes how frames are handled, not how the endpoint is reached. Parsing for at most
``PUMP_BUDGET_S`` per turn of the event loop keeps the window responsive under a flood, and a bounded socket
read buffer pushes back on the sender through TCP instead of growing without limit.
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import (
    QAbstractSocket,
    QSslCertificate,
    QSslError,
    QSslSocket,
    QTcpSocket,
)
from websockets.exceptions import InvalidURI

from wsinspector import __version__
from wsinspector.core.events import ConnectionState, Failure, FailureKind, OpenInfo
from wsinspector.core.handshake import Handshake
from wsinspector.core.profiles import ResolvedTarget
from wsinspector.core.wire.client import client_engine, send_request, sent_handshake
from wsinspector.core.wire.engine import (
    HandshakeFailed,
    Opened,
    Rejected,
    WireEngine,
    WireEvent,
)
from wsinspector.core.wire.raw import raw_frame
from wsinspector.core.wire.sinks import FrameSink, WholeInSink
from wsinspector.net import tls
from wsinspector.net.client import EngineConnection
from wsinspector.net.pump import SOCKET_BUFFER, WirePump
from wsinspector.net.qt_refusals import classify_socket_error

_SocketError = QAbstractSocket.SocketError

__all__ = ["WireConnection"]


class WireConnection(WirePump, EngineConnection):
    """One connection attempt and its life, frame by frame. Same signals and commands as QtConnection,
    plus the fault-injection commands (:meth:`send_fragmented`, :meth:`send_pong`, :meth:`close` with any
    code, text that is not UTF-8 through :meth:`send`)."""

    #: the Wire engine reports every frame with its real header
    sees_every_frame = True

    #: bytes from the server were read and every frame they completed reported: once per turn of the pump,
    #: however many frames (a reader of the log learns of new frames without a call per frame)
    received = Signal()

    def __init__(self, parent: QObject | None = None, sink: FrameSink | None = None,
                 whole_in: WholeInSink | None = None) -> None:
        super().__init__(parent, sink, whole_in)
        self._sock: QTcpSocket | None = None
        self._engine: WireEngine | None = None
        self._host = ""
        self._port: int | None = None
        self._request_sent = False
        self._request: Handshake | None = None
        self._init_pump()

    # -- commands ---------------------------------------------------------------------------------

    @property
    def request_sent(self) -> Handshake | None:
        """The opening request exactly as written to the socket (None before it went out)."""
        return self._request

    @property
    def outgoing_frame_size(self) -> int:
        """Messages go out as one frame unless sent with :meth:`send_fragmented`."""
        return 0

    def set_auto_pong(self, on: bool) -> None:
        if self._engine is not None:
            with self._guard:
                self._engine.auto_pong = on

    def open(self, target: ResolvedTarget) -> None:
        if self._sock is not None or self._finished:
            raise RuntimeError("a WireConnection opens once; make a new one to reconnect")
        self._target = target
        parts = urlsplit(target.url)
        secure = parts.scheme.lower() == "wss"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if secure else 80)
        self._set_state(ConnectionState.CONNECTING)
        try:
            self._engine = client_engine(target, sink=self._sink, whole_in=self._whole_in,
                                         on_event=self._on_engine_event, host=self._host, port=self._port)
        except InvalidURI as exc:
            self._finished = True
            self._set_state(ConnectionState.CLOSED)
            self.failed.emit(Failure(FailureKind.INVALID_TARGET, detail=f"The URL is not valid: {exc}"))
            return
        sock: QTcpSocket = QSslSocket(self) if secure else QTcpSocket(self)
        if isinstance(sock, QSslSocket):
            try:
                sock.setSslConfiguration(tls.configuration(target.tls))
            except tls.TlsSetupError as exc:
                sock.deleteLater()
                self._finished = True
                self._set_state(ConnectionState.CLOSED)
                self.failed.emit(Failure(FailureKind.INVALID_TARGET, detail=str(exc)))
                return
        self._sock = sock
        sock.setProxy(self._use_proxy(target))
        sock.setReadBufferSize(SOCKET_BUFFER)
        sock.readyRead.connect(self._on_ready_read)
        sock.disconnected.connect(self._on_disconnected)
        sock.errorOccurred.connect(self._on_error)
        sock.proxyAuthenticationRequired.connect(self._on_proxy_authentication)
        self._handshake_timer.start(int(target.handshake.timeout_s * 1000))
        # "connect to" reaches another address; the URL's host still names the server (SNI, Host, certificate)
        address, _, port = target.endpoint.connect_to.rpartition(":")
        address, port_number = (address.strip("[]"), int(port)) if address else (self._host, self._port)
        if isinstance(sock, QSslSocket):
            sock.sslErrors.connect(self._on_ssl_errors)
            sock.encrypted.connect(self._send_request)
            sock.connectToHostEncrypted(address, port_number, self._host)
        else:
            sock.connected.connect(self._send_request)
            sock.connectToHost(address, port_number)

    def send_fragmented(self, data: bytes, is_text: bool, frame_size: int) -> None:
        """Send one message split into frames of ``frame_size`` payload bytes (the last may be shorter)."""
        if frame_size < 1:
            raise ValueError("frame size must be at least 1 byte")
        with self._guard:
            self._require_open().send_fragmented(data, is_text, frame_size, time.monotonic_ns())
            self._write()

    def send_parts(self, parts: list[bytes], is_text: bool, ping_between: bytes | None = None) -> None:
        """Send one message in frames of these payloads, a ping between each two when ``ping_between`` is given."""
        with self._guard:
            self._require_open().send_parts(parts, is_text, ping_between, time.monotonic_ns())
            self._write()

    def send_raw_frame(self, opcode: int, payload: bytes, rsv: int = 0) -> None:
        """One frame as given, reserved opcodes and bits included (what a conformance check sends)."""
        frame = raw_frame(opcode, payload, rsv=rsv, mask_key=os.urandom(4))
        with self._guard:
            self._require_open().send_raw(frame, time.monotonic_ns(), "written as given, against RFC 6455 (probe)")
            self._write()

    def send_pong(self, payload: bytes = b"") -> None:
        """An unsolicited pong (or a late answer to a ping when automatic pongs are off)."""
        with self._guard:
            self._require_open().send_pong(payload, time.monotonic_ns())
            self._write()

    def close(self, code: int | None = 1000, reason: str = "") -> None:
        """Start the closing handshake with any code, valid or not (``None``: a close frame with no body);
        before the connection is open, abandon the attempt."""
        engine = self._engine
        if engine is None or self._finished:
            return
        if self._state is ConnectionState.CONNECTING:
            self._we_closed = True
            self._finish_failed(None)
            return
        with self._guard:
            if engine.close(code, reason, time.monotonic_ns()):
                self._we_closed = True
                self._write()

    def going_away(self, code: int, reason: str) -> None:
        """The app is quitting: an open connection gets a close frame, handed to the system at once, and is
        dropped without waiting for the answer; any other, as :meth:`abort`."""
        if self._state is ConnectionState.OPEN and self._sock is not None and self._hop is None:
            self.close(code, reason)
            self._sock.flush()
        self.abort()

    def abort(self) -> None:
        """Drop the connection without a closing handshake (e.g. the app is quitting)."""
        if self._sock is None or self._finished:
            return
        self._we_closed = True
        if not self._was_open:
            self._finish_failed(None)
            return
        self._aborted = True
        if self._hop is not None:
            self._hop.shutdown()
        else:
            self._sock.abort()
        if not self._finished:
            self._finish_closed()

    # -- writing ----------------------------------------------------------------------------------

    @Slot()
    def _send_request(self) -> None:
        engine, target = self._engine, self._target
        if engine is None or target is None or self._finished or self._request_sent:
            return
        self._request_sent = True
        self._no_delay()
        request = send_request(engine, target, f"wsinspector/{__version__}", time.monotonic_ns())
        self._request = sent_handshake(request, target.url)
        self._write()

    def _on_engine_event(self, event: WireEvent) -> None:
        if isinstance(event, Rejected):
            self.rejected.emit(event.failure)
            return
        self._handshake_timer.stop()
        if isinstance(event, HandshakeFailed):
            self._finish_failed(event.failure)
            return
        assert isinstance(event, Opened) and self._sock is not None and self._target is not None
        self._was_open = True
        self._set_state(ConnectionState.OPEN)
        sock = self._sock
        peer = f"{sock.peerAddress().toString()}:{sock.peerPort()}"
        info = (tls.tls_info(sock.sslConfiguration(), self._target.tls, self._pinned)
                if isinstance(sock, QSslSocket) else None)
        self.opened.emit(OpenInfo(url=self._target.url, subprotocol=event.subprotocol, peer=peer,
                                  response_headers=event.headers, extensions=event.extensions, tls=info,
                                  reason=event.reason))

    # -- reading ----------------------------------------------------------------------------------

    # -- ending -----------------------------------------------------------------------------------

    @Slot(QAbstractSocket.SocketError)
    def _on_error(self, error: _SocketError) -> None:
        sock = self._sock
        assert sock is not None
        self._socket_error = (error, sock.errorString())
        if self._finished:
            return
        if self._was_open:
            self._peer_ended_stream(error)
            return
        if error == _SocketError.RemoteHostClosedError and self._engine is not None:
            # closed during the handshake: whatever arrived may explain why (an HTTP error, say)
            self._drain(eof=self._request_sent)
            if self._finished:
                return
        self._finish_failed(self._classify(error, sock))

    def _classify(self, error: _SocketError, sock: QTcpSocket) -> Failure:
        secure = isinstance(sock, QSslSocket)
        # over TLS, the request goes out once the socket is encrypted
        return classify_socket_error(error, sock.errorString(), self._host, self._port, self._ssl_errors,
                                     secure=secure, encrypted=self._request_sent if secure else None)

    def _peer_certificate(self, errors: list[QSslError]) -> QSslCertificate:
        if isinstance(self._sock, QSslSocket) and not self._sock.peerCertificate().isNull():
            return self._sock.peerCertificate()
        return super()._peer_certificate(errors)

    def _ignore_ssl_errors(self) -> None:
        if isinstance(self._sock, QSslSocket):
            self._sock.ignoreSslErrors()

    @Slot()
    def _on_disconnected(self) -> None:
        if self._finished:
            return
        self._drain(eof=self._request_sent)
        if self._finished:
            return
        if self._was_open:
            self._finish_closed()
            return
        sock = self._sock
        assert sock is not None
        error = self._socket_error[0] if self._socket_error else _SocketError.RemoteHostClosedError
        self._finish_failed(self._classify(error, sock))

    def _finish_failed(self, failure: Failure | None) -> None:
        """End a connection attempt that never opened. ``None``: the user cancelled it."""
        failure = self._explained(failure) if failure is not None else None
        self._stop_timers()
        if self._sock is not None:
            self._sock.abort()
        self._set_state(ConnectionState.CLOSED)
        if failure is not None:
            self.failed.emit(failure)
        else:
            self.cancelled.emit()
