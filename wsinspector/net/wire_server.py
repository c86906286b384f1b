"""The server side: a listening socket whose every client is driven by a :class:`~wsinspector.core.wire.engine.
WireEngine` in the server role, pumped as the client engine is (:mod:`wsinspector.net.pump`), so each frame both
ways is reported with its real header (the client's masked frames with their mask keys).

:class:`WireServer` listens (plain TCP, or TLS with a certificate and key it is given) and accepts clients
up to a maximum (one more is answered ``503 Service Unavailable``); each is a :class:`ServerClient`, announced
by ``client_connected`` before it reads a byte, so its owner can :meth:`ServerClient.attach` a frame sink. When
the client's opening request has come, ``requested(ClientRequest)`` is emitted: a slot may answer it
(:meth:`~ServerClient.accept` with a subprotocol and headers, :meth:`~ServerClient.refuse` with an HTTP status)
or :meth:`~ServerClient.hold` it (a reverse proxy dialling its upstream first; a fault that never answers); a
request no slot answered or held is accepted as the server's settings say.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import (
    QAbstractSocket,
    QHostAddress,
    QSsl,
    QSslCertificate,
    QSslConfiguration,
    QSslKey,
    QSslSocket,
    QTcpServer,
    QTcpSocket,
)
from websockets.http11 import Request, Response

from wsinspector.core.events import ConnectionState, Failure, FailureKind, OpenInfo
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.handshake import Handshake
from wsinspector.core.wire.engine import HandshakeFailed, Opened, Rejected, Requested, WireEngine, WireEvent
from wsinspector.core.wire.server import ServerSettings, received_handshake, server_engine
from wsinspector.core.wire.sinks import FrameSink, WholeInSink
from wsinspector.net.client import EngineConnection
from wsinspector.net.linger import end_after_answer
from wsinspector.net.pump import SOCKET_BUFFER, WirePump
from wsinspector.net.tls_server import TlsServer

__all__ = ["DEFAULT_MAX_CLIENTS", "ClientRequest", "ServerClient", "ServerListenError", "ServerTls", "WireServer"]

_SocketError = QAbstractSocket.SocketError
_IN = Direction.IN
_TEXT, _BINARY, _CONTINUATION, _PING = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION, Opcode.PING
#: clients at once unless told otherwise; one more is answered 503
DEFAULT_MAX_CLIENTS = 64
#: what a client over the limit is told
BUSY_STATUS = 503
#: what a client whose request did not come whole within the handshake time limit is answered
TIMEOUT_STATUS = 408
_TIMEOUT_BODY = b"No whole upgrade request came within the time limit.\n"
TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY))


class ServerListenError(RuntimeError):
    """The server cannot listen: the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class ServerTls:
    """A server's certificate (PEM, the chain after it) and private key (PEM, unencrypted)."""

    certificate_pem: bytes
    key_pem: bytes


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A client's opening request, as it came."""

    #: the path with its query ("/chat?room=1")
    path: str
    headers: tuple[tuple[str, str], ...]
    #: the client's address, "127.0.0.1:50123"
    peer: str

    def header(self, name: str) -> str:
        """The values of a header (joined with ", " when it came more than once), or ""."""
        wanted = name.lower()
        return ", ".join(value for key, value in self.headers if key.lower() == wanted)

    @property
    def origin(self) -> str:
        return self.header("Origin")

    @property
    def subprotocols(self) -> tuple[str, ...]:
        """The subprotocols the client offers, in its order."""
        offered = self.header("Sec-WebSocket-Protocol")
        return tuple(part.strip() for part in offered.split(",") if part.strip())

    @property
    def extensions(self) -> str:
        """The extensions the client offers, as its header says."""
        return self.header("Sec-WebSocket-Extensions")

    @property
    def route(self) -> str:
        """The path without its query: what a server routes by."""
        return urlsplit(self.path).path or "/"


class ServerClient(WirePump, EngineConnection):
    """One client of a :class:`WireServer`, from its TCP connection to its end.

    Signals (besides :class:`~wsinspector.net.client.EngineConnection`'s ``state_changed``, ``opened(OpenInfo)``
    — the handshake completed: its ``url`` is the one the client asked for, ``peer`` the client's address,
    ``response_headers`` our 101 answer's headers —, ``failed(Failure)`` — it never opened: a bad request, no
    request in time, refused —, ``rejected(Failure)`` — the client broke the protocol — and
    ``closed(CloseInfo)``):
        requested(ClientRequest): the opening request came; answer it in the slot, hold it, or leave it
            to be accepted
        received(): bytes from the client were read and every frame they completed reported (once per turn)
        message_read(): an incoming frame that ends a message, or a ping, has just gone to the sink — emitted
            from inside the read, before the engine parses the frame after it, so what a slot sends goes out
            ahead of the engine's answer to that frame (the close frame failing a client that broke the
            protocol in the same packet). Connect it before the client starts; it is not emitted once the
            client broke the protocol, nor for what is read once it is gone.
    """

    requested = Signal(object)
    received = Signal()
    message_read = Signal()

    #: the Wire engine reports every frame with its real header
    sees_every_frame = True

    def __init__(self, sock: QTcpSocket, settings: ServerSettings, base_url: str,
                 parent: QObject | None = None, busy: bool = False) -> None:
        super().__init__(parent)
        self._sock: QTcpSocket | None = sock
        sock.setParent(self)
        self.settings = settings
        self._base_url = base_url
        self._busy = busy
        self.peer = f"{_host_text(sock.peerAddress())}:{sock.peerPort()}"
        self.request: ClientRequest | None = None
        #: the opening request with our answer (None before the request came)
        self.handshake: Handshake | None = None
        self._request: Request | None = None
        self._answered = False
        self._held_answer = False
        self._init_pump()
        self._engine: WireEngine | None = None
        self._started = False
        #: no more ``message_read``: the client broke the protocol, or its end is being read
        self._hushed = False

    # -- set-up -----------------------------------------------------------------------------------

    def attach(self, sink: FrameSink, whole_in: WholeInSink | None = None) -> None:
        """Where this client's frames go (before :meth:`start`)."""
        if self._started:
            raise RuntimeError("attach a client's sink before it starts reading")
        self._sink = sink
        self._whole_in = whole_in or self._whole_in_to_sink

    def start(self) -> None:
        """Begin reading the client (the server calls it once ``client_connected`` has been handled)."""
        if self._started:
            return
        self._started = True
        sock = self._sock
        assert sock is not None
        sink, whole_in = self._sink, self._whole_in
        if self._is_connected("message_read()"):  # only then a call more per frame
            sink, whole_in = self._telling_sink(sink), self._telling_whole_in(whole_in)
        self._engine = server_engine(self.settings, sink=sink, whole_in=whole_in,
                                     on_event=self._on_engine_event, host=_host_text(sock.peerAddress()),
                                     port=sock.peerPort())
        self._set_state(ConnectionState.CONNECTING)
        sock.setReadBufferSize(SOCKET_BUFFER)
        self._no_delay()
        sock.readyRead.connect(self._on_ready_read)
        sock.disconnected.connect(self._on_disconnected)
        sock.errorOccurred.connect(self._on_error)
        if self._unwritten_most is not None:
            sock.bytesWritten.connect(self._on_bytes_written)
            if isinstance(sock, QSslSocket):
                sock.encryptedBytesWritten.connect(self._on_bytes_written)
        self._handshake_timer.start(int(self.settings.handshake_timeout_s * 1000))
        if sock.bytesAvailable() > 0:
            self._pump()

    def _is_connected(self, signature: str) -> bool:
        """Whether a slot listens to this object's signal ``signature``. (Looked up by name: PySide's
        ``QMetaMethod.fromSignal`` keeps a reference to the object for ever, and with it all it holds.)"""
        meta = self.metaObject()
        return self.isSignalConnected(meta.method(meta.indexOfSignal(signature)))

    def _telling_sink(self, sink: FrameSink) -> FrameSink:
        """``sink``, and ``message_read`` after each incoming frame that ends a message or is a ping."""
        emit = self.message_read.emit

        def telling(direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                    rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                    masked: bool | None = None, payload_length: int | None = None, mask_key: bytes | None = None,
                    note: str = "") -> None:
            if self._finished:  # dropped in the middle of a read: the rest of it belongs to no connection
                return
            sink(direction, opcode, payload, ts_ns, fin, rsv1, rsv2, rsv3, masked, payload_length, mask_key, note)
            if direction is _IN and not self._hushed and (
                    opcode is _PING or (fin is not False and (opcode is _TEXT or opcode is _BINARY
                                                              or opcode is _CONTINUATION))):
                emit()

        return telling

    def _telling_whole_in(self, whole_in: WholeInSink) -> WholeInSink:
        emit = self.message_read.emit

        def telling(meta: int, payload: bytes, ts_ns: int) -> None:
            if self._finished:
                return
            whole_in(meta, payload, ts_ns)
            if not self._hushed:
                emit()

        return telling

    @property
    def url(self) -> str:
        """The URL the client asked for (the server's, before its request came)."""
        return self._base_url.rstrip("/") + (self.request.path if self.request is not None else "/")

    @property
    def engine(self) -> WireEngine | None:
        return self._engine

    def set_auto_pong(self, on: bool) -> None:
        """Answer the client's pings (off: a fault, pings left unanswered or answered by :meth:`send_pong`)."""
        if self._engine is not None:
            with self._guard:
                self._engine.auto_pong = on

    def answer_close_with(self, code: int, reason: str = "") -> None:
        """Answer the client's close frame with ``code`` instead of echoing its own (a fault)."""
        if self._engine is not None:
            with self._guard:
                self._engine.answer_close_with(code, reason)

    # -- the opening handshake --------------------------------------------------------------------

    def accept(self, subprotocol: str | None = None, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """Answer the request with 101: ``subprotocol`` (when the client offered it) instead of the settings'
        choice, ``headers`` added to the answer."""
        engine, request = self._answerable()
        response = engine.accept(time.monotonic_ns(), subprotocol, headers)
        self._after_answer(request, response)

    def refuse(self, status: int, headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> None:
        """Answer the request with an HTTP ``status`` (not 101), ``headers`` and ``body``; the connection ends
        (``failed`` follows, saying what was answered)."""
        if status == 101 or not 100 <= status <= 599:
            raise ValueError("refuse with an HTTP status from 100 to 599, other than 101")
        engine, request = self._answerable()
        response = engine.refuse(status, time.monotonic_ns(), headers, body)
        self._after_answer(request, response)
        self._finish_failed(Failure(FailureKind.HANDSHAKE_REJECTED, host=self.peer, peer="client",
                                    http_status=status, http_reason=response.reason_phrase,
                                    detail=f"we refused the upgrade with {status} {response.reason_phrase}"))

    def hold(self) -> None:
        """Leave the request unanswered for now (and the handshake time limit with it): answer later, or never
        (a client's own handshake timeout is what that tests)."""
        self._answerable()
        self._held_answer = True
        self._handshake_timer.stop()

    def _answerable(self) -> tuple[WireEngine, Request]:
        if self._engine is None or self._request is None or self._answered or self._finished:
            raise RuntimeError("no opening request waits for an answer")
        return self._engine, self._request

    def _after_answer(self, request: Request, response: Response) -> None:
        self._answered = True
        self._handshake_timer.stop()
        self.handshake = received_handshake(request, response, self.url)
        self._write()

    # -- commands ---------------------------------------------------------------------------------

    def send_fragmented(self, data: bytes, is_text: bool, frame_size: int) -> None:
        """Send one message split into frames of ``frame_size`` payload bytes (the last may be shorter)."""
        with self._guard:
            self._require_open().send_fragmented(data, is_text, frame_size, time.monotonic_ns())
            self._write()

    def send_pong(self, payload: bytes = b"", note: str = "") -> None:
        """A pong: unsolicited, or a late answer to a ping while automatic pongs are off (``note``: why)."""
        with self._guard:
            self._require_open().send_pong(payload, time.monotonic_ns(), note)
            self._write()

    def send_raw(self, data: bytes, note: str = "") -> None:
        """Frames built by hand (:func:`~wsinspector.core.wire.raw.raw_frame`), written as they are: the faults
        the protocol object would refuse to send. Each is reported with its header and ``note``."""
        with self._guard:
            self._require_open().send_raw(data, time.monotonic_ns(), note)
            self._write()

    def close(self, code: int | None = 1000, reason: str = "") -> None:
        """Start the closing handshake with any code, valid or not (``None``: a close frame with no body);
        before the connection is open, drop it."""
        engine = self._engine
        if self._finished:
            return
        if engine is None or self._state is ConnectionState.CONNECTING:
            self.drop()
            return
        with self._guard:
            if engine.close(code, reason, time.monotonic_ns()):
                self._we_closed = True
                self._write()

    def drop(self) -> None:
        """End the TCP connection at once, without a closing handshake (what was written already still goes
        out first: the frames a fault wrote just before)."""
        sock = self._sock
        if self._finished or sock is None:
            return
        self._we_closed = True
        if not self._was_open:
            self._finish_failed(None)
            return
        self._aborted = True
        self._drop_socket()
        if not self._finished:
            self._finish_closed()

    abort = drop

    def _thread_done(self) -> None:
        self.deleteLater()  # Qt's socket, taken from it, never says it disconnected

    def _write(self) -> None:
        if not self._aborted:
            WirePump._write(self)
        elif self._engine is not None:
            self._engine.data_to_send()  # dropped in the middle of a read: what the engine answers goes nowhere

    # -- events -----------------------------------------------------------------------------------

    def _on_engine_event(self, event: WireEvent) -> None:
        if isinstance(event, Rejected):
            self._hushed = True
            self.rejected.emit(event.failure)
            return
        if isinstance(event, Requested):
            self._on_requested(event.request)
            return
        if isinstance(event, HandshakeFailed):
            self._handshake_timer.stop()
            if not self._answered and self._engine is not None and self._engine.answer_sent is not None:
                # the library refused the request itself (426 listing the versions it speaks, 400…) while
                # we accepted it: that answer goes out before the connection ends
                self._answered = True
                self._write()
            self._finish_failed(event.failure)
            return
        assert isinstance(event, Opened) and self._sock is not None and self._request is not None
        self._answered = True
        self.handshake = received_handshake(self._request, self._engine.answer_sent if self._engine else None,
                                            self.url)
        self._was_open = True
        self._set_state(ConnectionState.OPEN)
        handshake = self.handshake
        answer = handshake.response_headers if handshake is not None else None
        self.opened.emit(OpenInfo(url=self.url, subprotocol=event.subprotocol, peer=self.peer,
                                  response_headers=answer, extensions=event.extensions, reason=event.reason))

    @property
    def acceptable(self) -> bool:
        """Whether the request read is an upgrade a server could accept (False: :meth:`accept` answers it with
        the library's refusal, 400, 405, 426 or 505); a proxy asks before opening its upstream hop, while a mock
        route that refuses every request answers with its own status."""
        return self._engine is not None and self._engine.can_accept()

    def _on_requested(self, request: Request) -> None:
        self._request = request
        headers = tuple((str(k), str(v)) for k, v in request.headers.raw_items())
        self.request = ClientRequest(path=request.path, headers=headers, peer=self.peer)
        self.handshake = received_handshake(request, None, self.url)
        if self._busy:
            self.refuse(BUSY_STATUS, (("Retry-After", "1"),), b"Too many clients: this server takes no more now.\n")
            return
        self.requested.emit(self.request)
        if not (self._answered or self._held_answer or self._finished):
            self.accept()

    # -- ending -----------------------------------------------------------------------------------

    @Slot(QAbstractSocket.SocketError)
    def _on_error(self, error: _SocketError) -> None:
        sock = self._sock
        if sock is None:
            return
        self._socket_error = (error, sock.errorString())
        self._peer_ended_stream(error)

    @Slot()
    def _on_disconnected(self) -> None:
        if self._finished:
            return
        self._hushed = True  # what is still buffered is recorded, but the client is gone: nothing to answer
        if not self._aborted:  # dropped by us (in the middle of a read, maybe): nothing more is read
            self._drain(eof=True)
        if self._finished:
            return
        if self._was_open:
            self._finish_closed()
            return
        detail = "the client closed the connection before its upgrade request was answered"
        if self._request is None:
            detail = "the client closed the connection before sending a whole upgrade request"
        self._finish_failed(Failure(FailureKind.NETWORK, host=self.peer, peer="client", detail=detail))

    @Slot()
    def _on_handshake_timeout(self) -> None:
        if self._was_open or self._finished:
            return
        answered = self._answer_timeout()
        self._finish_failed(Failure(FailureKind.HANDSHAKE_TIMEOUT, host=self.peer, peer="client",
                                    timeout_s=self.settings.handshake_timeout_s,
                                    http_status=TIMEOUT_STATUS if answered else None,
                                    http_reason="Request Timeout" if answered else ""))

    def _answer_timeout(self) -> bool:
        """A client whose request did not come whole in time is told so (``408 Request Timeout``, then the
        connection ends once the answer is out: ``_finish_failed`` lingers) rather than dropped without a word.
        False when nothing could be written (the client is gone, or an answer went already)."""
        sock = self._sock
        if (sock is None or self._answered or self._aborted
                or sock.state() is not QAbstractSocket.SocketState.ConnectedState):
            return False
        if isinstance(sock, QSslSocket) and not sock.isEncrypted():  # still in the TLS handshake: no HTTP yet
            return False
        sock.write(TIMEOUT_ANSWER)
        self._answered = True
        return True

    def _ignore_ssl_errors(self) -> None:
        """A server asks no certificate of its clients: nothing to ignore."""

    def _finish_failed(self, failure: Failure | None) -> None:
        """End a client that never opened (``None``: we dropped it)."""
        if self._finished:
            return
        self._stop_timers()
        sock = self._sock
        if sock is not None and sock.state() is not QAbstractSocket.SocketState.UnconnectedState:
            if self._answered:
                end_after_answer(sock)  # the refusal goes out first, the rest of the request read
            else:
                sock.abort()
        self._set_state(ConnectionState.CLOSED)
        if failure is not None:
            self.failed.emit(failure)
        else:
            self.cancelled.emit()


class WireServer(QObject):
    """A WebSocket server whose clients each run a Wire engine in the server role.

    Signals:
        client_connected(ServerClient): a client's TCP (and TLS) connection is up; attach its sink in the slot
        client_count_changed(int): clients connected now (refused ones not counted)
        tls_refused(str, str): a client ("host:port") whose TLS did not come up, and why in one line: it spoke
            plain HTTP (answered 400: use wss://), broke the handshake off (a certificate it does not trust), or
            did not finish it in time (:mod:`wsinspector.net.tls_server`)
    """

    client_connected = Signal(object)
    client_count_changed = Signal(int)
    tls_refused = Signal(str, str)

    def __init__(self, settings: ServerSettings | None = None, *, max_clients: int = DEFAULT_MAX_CLIENTS,
                 tls: ServerTls | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if max_clients < 1:
            raise ValueError("a server takes at least one client")
        self.settings = settings or ServerSettings()
        self.max_clients = max_clients
        self.tls = tls
        self._server: QTcpServer | None = None
        self._clients: list[ServerClient] = []
        self._host = "127.0.0.1"

    @property
    def secure(self) -> bool:
        return self.tls is not None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return int(self._server.serverPort()) if self._server is not None else 0

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{'wss' if self.secure else 'ws'}://{host}:{self.port}/"

    @property
    def is_listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    @property
    def clients(self) -> list[ServerClient]:
        """The clients connected now, oldest first."""
        return list(self._clients)

    def listen(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host`` (an IP address, or localhost meaning 127.0.0.1; 127.0.0.1 unless asked otherwise)
        and ``port`` (0: a free one); returns the server's URL. Raises :class:`ServerListenError` (one line: a
        bad address, the port in use, a certificate that cannot be read)."""
        if self._server is not None:
            raise ServerListenError("this server is listening already")
        if not 0 <= port <= 65535:
            raise ServerListenError(f"{port} is not a port (0-65535)")
        address = QHostAddress()
        named = host.strip("[]")
        if not address.setAddress("127.0.0.1" if named.lower() == "localhost" else named):
            raise ServerListenError(f"{host!r} is not an IP address to listen on (e.g. 127.0.0.1, ::1, 0.0.0.0)")
        server: QTcpServer
        if self.tls is not None:
            ssl_server = TlsServer(_tls_configuration(self.tls), int(self.settings.handshake_timeout_s * 1000),
                                   self)
            ssl_server.refused.connect(self.tls_refused)
            server = ssl_server
        else:
            server = QTcpServer(self)
        server.pendingConnectionAvailable.connect(self._on_pending)
        if not server.listen(address, port):
            error = server.serverError()
            server.deleteLater()
            where = f"{host}:{port}"
            if error == _SocketError.AddressInUseError:
                raise ServerListenError(f"Cannot listen on {where}: the port is in use (choose another, or 0 "
                                        "for a free one)")
            if error == _SocketError.SocketAccessError:
                raise ServerListenError(f"Cannot listen on {where}: not allowed (ports below 1024 need "
                                        "privileges)")
            if error == _SocketError.SocketAddressNotAvailableError:
                raise ServerListenError(f"Cannot listen on {where}: no network interface has that address")
            raise ServerListenError(f"Cannot listen on {where}: {server.errorString()}")
        self._server = server
        self._host = _host_text(server.serverAddress())
        return self.url

    def close(self, code: int = 1001, reason: str = "server shutting down") -> None:
        """Stop listening and close every client (``code``; a client not open yet is dropped)."""
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            if shiboken6.isValid(client):
                client.close(code, reason)

    def drop_all(self) -> None:
        """Stop listening and drop every client at once."""
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            if shiboken6.isValid(client):
                client.drop()

    @Slot()
    def _on_pending(self) -> None:
        server = self._server
        if server is None:
            return
        while server.hasPendingConnections():
            sock = server.nextPendingConnection()
            if sock is None:
                break
            busy = len(self._clients) >= self.max_clients
            client = ServerClient(sock, self.settings, self.url, self, busy=busy)
            sock.disconnected.connect(client.deleteLater)  # once its end is written and it is over
            if busy:
                client.start()
                continue
            self._clients.append(client)
            client.closed.connect(lambda _info, c=client: self._forget(c))
            client.failed.connect(lambda _failure, c=client: self._forget(c))
            client.cancelled.connect(lambda c=client: self._forget(c))
            self.client_count_changed.emit(len(self._clients))
            self.client_connected.emit(client)
            client.start()

    def _forget(self, client: ServerClient) -> None:
        if client in self._clients:
            self._clients.remove(client)
            self.client_count_changed.emit(len(self._clients))


def _host_text(address: QHostAddress) -> str:
    """An address as text, an IPv4-mapped IPv6 one as its IPv4 form."""
    text = address.toString()
    if text.startswith("::ffff:") and "." in text:
        return text.removeprefix("::ffff:")
    return text


def _tls_configuration(tls: ServerTls) -> QSslConfiguration:
    certificates = QSslCertificate.fromData(tls.certificate_pem, QSsl.EncodingFormat.Pem)
    if not certificates:
        raise ServerListenError("the server's certificate is not a PEM certificate")
    key = QSslKey(tls.key_pem, QSsl.KeyAlgorithm.Rsa, QSsl.EncodingFormat.Pem)
    if key.isNull():
        key = QSslKey(tls.key_pem, QSsl.KeyAlgorithm.Ec, QSsl.EncodingFormat.Pem)
    if key.isNull():
        raise ServerListenError("the server's private key is not an unencrypted RSA or EC key in PEM")
    config = QSslConfiguration.defaultConfiguration()
    config.setLocalCertificate(certificates[0])
    config.setLocalCertificateChain(certificates)
    config.setPrivateKey(key)
    config.setPeerVerifyMode(QSslSocket.PeerVerifyMode.VerifyNone)
    return config


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address only this machine reaches."""
    address = QHostAddress()
    return address.setAddress(host.strip("[]")) and address.isLoopback()

