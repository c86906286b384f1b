"""A WebSocket connection over QWebSocket, reporting core events.

QWebSocket limits what can be seen: RSV bits, masking and wire lengths of incoming frames, incoming
pings and the close frame itself are not exposed. Those fields stay unknown (None) in the frames this
engine reports; the peer's close frame is reconstructed from ``closeCode()``/``closeReason()`` and
labelled as such.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import cast
from urllib.parse import urlsplit

from PySide6.QtCore import SIGNAL, QByteArray, QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QNetworkProxy, QNetworkRequest, QSslCertificate, QSslError
from PySide6.QtWebSockets import QWebSocket, QWebSocketHandshakeOptions, QWebSocketProtocol

from wsinspector.core.events import (
    CertificateInfo,
    CloseInfo,
    ConnectionState,
    Failure,
    FailureKind,
    OpenInfo,
    printable_bytes,
)
from wsinspector.core.frames import Direction, Frame, Opcode, close_payload, describe_close_code, split_payload
from wsinspector.core.handshake import Handshake, asked_of_qt
from wsinspector.core.model import header as frame_header
from wsinspector.core.profiles import ResolvedTarget
from wsinspector.core.proxies import ProxyChoice
from wsinspector.core.wire.engine import ANSWER_QUOTED, is_http_start
from wsinspector.core.wire.sinks import FrameSink, WholeInSink
from wsinspector.core.words import plural
from wsinspector.net import proxy, tls
from wsinspector.net.qt_feed import QtFrameFeed
from wsinspector.net.qt_refusals import classify_socket_error, qt_refusal

_SocketError = QAbstractSocket.SocketError
_QtState = QAbstractSocket.SocketState

_STATE = {
    _QtState.UnconnectedState: ConnectionState.CLOSED,
    _QtState.HostLookupState: ConnectionState.CONNECTING,
    _QtState.ConnectingState: ConnectionState.CONNECTING,
    _QtState.ConnectedState: ConnectionState.OPEN,
    _QtState.ClosingState: ConnectionState.CLOSING,
    _QtState.BoundState: ConnectionState.CONNECTING,
    _QtState.ListeningState: ConnectionState.CLOSED,
}

_TOO_BIG = re.compile(r"too big|too large|exceed", re.IGNORECASE)
#: what QWebSocket makes of a server's close frame it cannot accept (too short, a code not allowed on the wire,
#: a reason not UTF-8): it reports the close as received, with its own code and words in place of the server's
_QT_CLOSE_REWRITE = re.compile(r"close frame is too small|Invalid close code|Invalid UTF-8", re.IGNORECASE)
#: the signals of QWebSocket's frame reader (a private child object): its own protocol errors, and the close
#: frames it reads, which QWebSocket itself does not expose
_QT_ERROR = SIGNAL("errorEncountered(QWebSocketProtocol::CloseCode,QString)")
_QT_CLOSE_FRAME = SIGNAL("closeReceived(QWebSocketProtocol::CloseCode,QString)")
#: Qt's words for a close frame it refused name the code it answers with, not the one it got
_QT_CLOSE_CODE = re.compile(r"Invalid close code \d+ detected\.?", re.IGNORECASE)
#: QWebSocket drops the connection by itself about 3 s after its close frame, without saying whether the
#: server answered; the Qt engine decides before that, at the profile's close timeout or this, the sooner
QT_CLOSE_WAIT_S = 2.5
_IN, _OUT = Direction.IN, Direction.OUT
_TEXT, _BINARY, _CONTINUATION = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION
# QWebSocket shows neither RSV bits nor masking, and text only after decoding it (the wire bytes may differ)
_WHOLE_TEXT = frame_header.whole_in(_TEXT, header_known=False, length_known=False)
_WHOLE_BINARY = frame_header.whole_in(_BINARY, header_known=False, length_known=True)


_BOMS = ("\ufeff", "\ufffe")
_BOM_NOTE = ("the Qt engine altered this text: PySide's conversion to QString drops a leading U+FEFF and "
             "byte-swaps text after a leading U+FFFE (the Wire engine sends text byte-exact)")


def _through_qstring(text: str) -> str:
    """``text`` after a round trip through QString, as QWebSocket.sendTextMessage receives it."""
    probe = QObject()
    probe.setObjectName(text)
    return str(probe.objectName())


_BOM_IN_NOTE = ("the Qt engine altered this text: QWebSocket's UTF-8 decoder dropped the U+FEFF (byte order mark) "
                "it started with (the Wire engine shows text byte-exact)")

_UNSEEN = "QWebSocket does not expose incoming close frames: reconstructed from closeCode()/closeReason()"


def _frame_reader(ws: QWebSocket) -> QObject | None:
    """QWebSocket's frame reader, found by its class name (it is private: its signals are reached by name)."""
    for child in ws.findChildren(QObject):
        if child.metaObject().className() == "QWebSocketDataProcessor":
            return child
    return None


def _code(code: object) -> int:
    """A close code from a QWebSocketProtocol.CloseCode (or a plain int)."""
    value = getattr(code, "value", code)
    return value if isinstance(value, int) else 1005


def _header_fields(head: bytes) -> tuple[tuple[str, str], ...]:
    """The header fields of an HTTP message's head (its start line and fields, without the blank line)."""
    pairs = (line.partition(":") for line in head.decode("latin-1").split("\r\n")[1:])
    return tuple((name.strip(), value.strip()) for name, sep, value in pairs if sep)


def _last_answer(data: bytes, end: int) -> int | None:
    """Where the answer whose head ends at ``end`` starts: QWebSocket may have read a 401 (and its body) before
    it, answering it with credentials. None when ``end`` is not the end of an answer's head."""
    pos = 0
    while pos < end:
        head_end = data.find(b"\r\n\r\n", pos, end)
        if head_end < 0:
            return None
        if head_end + 4 == end:
            return pos if data.startswith(b"HTTP/", pos) else None
        length = next((value for name, value in _header_fields(data[pos:head_end])
                       if name.lower() == "content-length"), "0")
        pos = head_end + 4 + (int(length) if length.isdigit() else 0)
    return None


def byte_string(array: QByteArray) -> bytes:
    """The bytes of a QByteArray: ``data()`` returns ``bytes`` in PySide6, whatever its stubs say."""
    return cast(bytes, array.data())


class EngineConnection(QObject):
    """What the engines share: their signals, state, frame sink, the handshake timeout and the end of a
    failed attempt's bookkeeping. Each engine implements open, send, ping, close and abort.

    Signals:
        state_changed(ConnectionState)
        frame(Frame): every frame sent or received, with seq -1 (the session log numbers it)
        opened(OpenInfo): the handshake completed
        failed(Failure): the connection could not be opened
        cancelled(): the attempt was given up by us (Cancel, quitting) before the connection opened
        rejected(Failure): the server broke the protocol: the engine refused what it sent and is failing the
            connection, at once (``closed`` follows with the same failure); what the engine reports after
            it (the refused frame itself, shown with a note) is no message
        closed(CloseInfo): an open connection ended (cleanly or not)
    """

    state_changed = Signal(object)
    frame = Signal(object)
    opened = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    rejected = Signal(object)
    closed = Signal(object)

    #: whether the engine reports every frame with its real header
    sees_every_frame = False

    def __init__(self, parent: QObject | None = None, sink: FrameSink | None = None,
                 whole_in: WholeInSink | None = None) -> None:
        """``sink``: called with each frame's fields instead of emitting ``frame`` (the fast path the session
        uses: no Frame object and no signal per frame). ``whole_in``: called instead of the sink for an
        incoming frame that is a whole message, the bulk of a fast feed (by default it goes to the sink)."""
        super().__init__(parent)
        self._sink: FrameSink = sink or self._emit_frame
        self._whole_in: WholeInSink = whole_in or self._whole_in_to_sink
        self._target: ResolvedTarget | None = None
        self._state = ConnectionState.CLOSED
        self._was_open = False
        self._we_closed = False
        self._aborted = False
        #: the close frame sent as the app quit, just before the drop (:meth:`going_away`)
        self._going_away: tuple[int, str] | None = None
        self._finished = False
        self._close_timed_out = False
        self._ssl_errors: list[str] = []
        self._peer_info: CertificateInfo | None = None
        #: the server's certificate failed verification but is one the user trusts
        self._pinned = False
        self._proxy: ProxyChoice | None = None
        self._proxy_refused = False
        self._socket_error: tuple[_SocketError, str] | None = None
        self._handshake_timer = QTimer(self)
        self._handshake_timer.setSingleShot(True)
        self._handshake_timer.timeout.connect(self._on_handshake_timeout)
        self._close_timer = QTimer(self)
        self._close_timer.setSingleShot(True)
        self._close_timer.timeout.connect(self._on_close_timeout)

    @property
    def state(self) -> ConnectionState:
        return self._state

    def send(self, data: bytes, is_text: bool) -> None:
        raise NotImplementedError

    def send_text(self, text: str) -> None:
        self.send(text.encode("utf-8", "surrogatepass"), True)

    def send_binary(self, data: bytes) -> None:
        self.send(data, False)

    def _finish_failed(self, failure: Failure | None) -> None:
        raise NotImplementedError

    def _emit_frame(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                    rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                    masked: bool | None = None, payload_length: int | None = None, mask_key: bytes | None = None,
                    note: str = "") -> None:
        self.frame.emit(Frame(seq=-1, ts_ns=ts_ns, direction=direction, opcode=opcode, payload=payload, fin=fin,
                              rsv1=rsv1, rsv2=rsv2, rsv3=rsv3, masked=masked, payload_length=payload_length,
                              mask_key=mask_key, note=note))

    def _whole_in_to_sink(self, meta: int, payload: bytes, ts_ns: int) -> None:
        self._sink(*frame_header.whole_in_fields(meta, payload, ts_ns))  # type: ignore[arg-type]

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state)

    def _host_port(self) -> tuple[str, int | None]:
        if self._target is None:
            return "", None
        parts = urlsplit(self._target.url)
        default = 443 if parts.scheme.lower() == "wss" else 80
        return parts.hostname or "", parts.port or default

    @Slot(list)
    def _on_ssl_errors(self, errors: list[QSslError]) -> None:
        """Verification failed: go on if the user trusts this very certificate, else remember why (and the
        certificate, for "Trust this certificate")."""
        peer = self._peer_certificate(errors)
        if self._target is not None and tls.pinned_match(errors, peer, self._target.tls):
            self._pinned = True
            self._ignore_ssl_errors()
            return
        self._ssl_errors = [e.errorString() for e in errors]
        self._peer_info = None if peer.isNull() else tls.certificate_info(peer)

    def _peer_certificate(self, errors: list[QSslError]) -> QSslCertificate:
        """The server's own certificate, as far as the engine can tell (here: from the errors about it)."""
        certificates = [e.certificate() for e in errors if not e.certificate().isNull()]
        return certificates[0] if certificates else QSslCertificate()

    def _ignore_ssl_errors(self) -> None:
        raise NotImplementedError

    def _explained(self, failure: Failure) -> Failure:
        """A failure with what explains it: a TLS failure the certificate the server showed, any failure before
        the connection opened the proxy it went through."""
        if failure.kind is FailureKind.TLS and self._peer_info is not None:
            failure = replace(failure, peer_certificate=self._peer_info)
        if self._target is not None and not self._was_open:
            failure = tls.explained(failure, self._target)
        if self._proxy is not None and not self._was_open:
            failure = proxy.explained(replace(failure, proxy=self._proxy.describe()), self._proxy)
        return failure

    def _on_proxy_authentication(self, _proxy: QNetworkProxy, _authenticator: object) -> None:
        """The proxy answered 407 (it wants credentials, or refused ours); Qt would ask again with the same. The
        attempt ends on the next turn of the event loop: aborting inside Qt's reading of the answer would crash."""
        if not (self._finished or self._was_open or self._proxy_refused):
            self._proxy_refused = True
            QTimer.singleShot(0, self, self._fail_proxy_authentication)

    @Slot()
    def _fail_proxy_authentication(self) -> None:
        if not (self._finished or self._was_open):
            host, port = self._host_port()
            self._finish_failed(Failure(FailureKind.PROXY, detail=proxy.authentication_refused(self._proxy),
                                        host=host, port=port))

    def _use_proxy(self, target: ResolvedTarget) -> QNetworkProxy:
        """The proxy for ``target`` (remembered for messages)."""
        network, self._proxy = proxy.network_proxy(target.url, target.proxy, target.proxy_source)
        return network

    @Slot()
    def _on_handshake_timeout(self) -> None:
        if self._was_open or self._finished or self._target is None:
            return
        host, port = self._host_port()
        self._finish_failed(Failure(FailureKind.HANDSHAKE_TIMEOUT, host=host, port=port,
                                    timeout_s=self._target.handshake.timeout_s))

    @Slot()
    def _on_close_timeout(self) -> None:
        raise NotImplementedError


class QtConnection(EngineConnection):
    """One connection attempt and its life, over QWebSocket (signals: :class:`EngineConnection`)."""

    #: QWebSocket hides incoming pings, close frames, RSV bits and masking
    sees_every_frame = False

    def __init__(self, parent: QObject | None = None, sink: FrameSink | None = None,
                 whole_in: WholeInSink | None = None) -> None:
        super().__init__(parent, sink, whole_in)
        self._ws: QWebSocket | None = None
        self._incoming_in_message = False
        #: QWebSocket's frame reader can be heard: its own protocol errors, the server's close frames
        self._hears_reader = False
        #: the code and reason of the close QWebSocket started itself, the server having broken the protocol
        self._qt_error: tuple[int, str] | None = None
        #: QWebSocket failed the connection itself: our own close can no longer go out
        self._qt_failed = False
        #: the server sent a close frame (QWebSocket read it)
        self._close_frame_in = False
        self._reader: QObject | None = None
        #: reads the socket in QWebSocket's place once the connection is open
        self._feed: QtFrameFeed | None = None
        #: the TCP connection is up: a ConnectionRefusedError from now on is QWebSocket refusing the upgrade
        self._tcp_up = False
        #: the reason phrase of the server's answer to the upgrade, once read again
        self._answer_reason = ""

    # -- commands ---------------------------------------------------------------------------------

    @property
    def outgoing_frame_size(self) -> int:
        return self._ws.outgoingFrameSize() if self._ws is not None else 512 * 1024

    @property
    def request_sent(self) -> Handshake | None:
        """What we asked QWebSocket to send (it builds the request itself and adds its own headers: the
        handshake's note says which); None before it opened."""
        if self._target is None or self._ws is None or not self._tcp_up:
            return None
        return asked_of_qt(self._target)

    def open(self, target: ResolvedTarget) -> None:
        if self._ws is not None:
            raise RuntimeError("a QtConnection opens once; make a new one to reconnect")
        self._target = target
        ws = QWebSocket(target.handshake.origin, QWebSocketProtocol.Version.VersionLatest, self)
        self._ws = ws
        # QWebSocket parses everything buffered in one go, so a flood can hold the event loop for a while.
        # Its read buffer cannot be bounded to prevent that: a frame larger than the buffer never completes.
        ws.setMaxAllowedIncomingMessageSize(target.limits.max_message_size)
        ws.setMaxAllowedIncomingFrameSize(target.limits.max_frame_size)
        ws.stateChanged.connect(self._on_state_changed)
        ws.connected.connect(self._on_connected)
        ws.disconnected.connect(self._on_disconnected)
        ws.textFrameReceived.connect(self._on_text_frame)
        ws.binaryFrameReceived.connect(self._on_binary_frame)
        ws.pong.connect(self._on_pong)
        ws.errorOccurred.connect(self._on_error)
        ws.sslErrors.connect(self._on_ssl_errors)
        ws.proxyAuthenticationRequired.connect(self._on_proxy_authentication)
        reader = _frame_reader(ws)
        if reader is not None:
            self._hears_reader = True
            self._reader = reader
            QObject.connect(reader, _QT_ERROR, self._on_qt_error)
            QObject.connect(reader, _QT_CLOSE_FRAME, self._on_close_frame)

        if target.endpoint.connect_to:
            self._finished = True
            self.failed.emit(Failure(FailureKind.INVALID_TARGET, detail=(
                f"“Connect to {target.endpoint.connect_to}” needs the Wire engine: the Qt engine always "
                "connects to the URL's host")))
            return
        if target.url.lower().startswith("wss:"):
            try:
                ws.setSslConfiguration(tls.configuration(target.tls))
            except tls.TlsSetupError as exc:
                self._finished = True
                self.failed.emit(Failure(FailureKind.INVALID_TARGET, detail=str(exc)))
                return
        ws.setProxy(self._use_proxy(target))
        request = QNetworkRequest(QUrl(target.url))
        for name, value in target.handshake.headers:
            request.setRawHeader(QByteArray(name.encode("latin-1", "replace")),
                                 QByteArray(value.encode("utf-8")))
        options = QWebSocketHandshakeOptions()
        options.setSubprotocols(list(target.handshake.subprotocols))
        self._set_state(ConnectionState.CONNECTING)
        self._handshake_timer.start(int(target.handshake.timeout_s * 1000))
        ws.open(request, options)
        sock = ws.findChild(QAbstractSocket)
        if sock is not None:
            sock.connected.connect(self._on_tcp_connected)

    def send(self, data: bytes, is_text: bool) -> None:
        self._send(data, Opcode.TEXT if is_text else Opcode.BINARY)

    def ping(self, payload: bytes = b"") -> None:
        ws = self._require_open()
        now = time.monotonic_ns()
        ws.ping(QByteArray(payload))
        self._emit_out(Opcode.PING, payload, now)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake; before the connection is open, abandon the attempt."""
        ws = self._ws
        if ws is None or self._finished:
            return
        if self._state is ConnectionState.CONNECTING:
            self._we_closed = True
            self._finish_failed(None)
            return
        if self._state is not ConnectionState.OPEN or self._qt_failed:
            return  # after a refused frame QWebSocket has sent its own close frame and ends the connection itself
        self._we_closed = True
        now = time.monotonic_ns()
        assert self._target is not None
        self._close_timer.start(int(min(self._target.protocol.close_timeout_s, QT_CLOSE_WAIT_S) * 1000))
        ws.close(QWebSocketProtocol.CloseCode(code), reason)
        self._emit_out(Opcode.CLOSE, close_payload(code, reason), now)

    def going_away(self, code: int, reason: str) -> None:
        """The app is quitting: an open connection gets a close frame, handed to the system at once, and is
        dropped without waiting for the answer; any other, as :meth:`abort`."""
        if self._ws is not None and self._state is ConnectionState.OPEN and not self._qt_failed:
            self.close(code, reason)
            self._ws.flush()
            self._going_away = (code, reason)
        self.abort()

    def abort(self) -> None:
        """Drop the connection without a closing handshake (e.g. the app is quitting)."""
        if self._ws is None or self._finished:
            return
        self._we_closed = True
        if not self._was_open:
            self._finish_failed(None)  # an attempt given up, not a failure
            return
        self._aborted = True
        self._ws.abort()

    # -- internals --------------------------------------------------------------------------------

    def _require_open(self) -> QWebSocket:
        if self._ws is None or self._state is not ConnectionState.OPEN:
            raise RuntimeError("the connection is not open")
        return self._ws

    def _send(self, data: bytes, opcode: Opcode) -> None:
        ws = self._require_open()
        now = time.monotonic_ns()
        note = ""
        if opcode is Opcode.TEXT:
            text = data.decode("utf-8", "surrogatepass")
            if text[:1] in _BOMS:
                # PySide's str -> QString conversion drops a leading U+FEFF and byte-swaps the text after a
                # leading U+FFFE: show what QWebSocket actually sends
                sent = _through_qstring(text)
                if sent != text:
                    data = sent.encode("utf-8", "surrogatepass")
                    note = _BOM_NOTE
            ws.sendTextMessage(text)
        else:
            ws.sendBinaryMessage(QByteArray(data))
        parts = split_payload(data, ws.outgoingFrameSize())
        for index, part in enumerate(parts):
            self._emit_out(opcode if index == 0 else Opcode.CONTINUATION, part, now, fin=index == len(parts) - 1,
                           note=note if index == 0 else "")

    def _emit_out(self, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool = True, note: str = "") -> None:
        # QWebSocket masks every client frame and negotiates no extensions: these fields are known.
        self._sink(_OUT, opcode, payload, ts_ns, fin, False, False, False, True, len(payload), None, note)

    def _emit_in(self, opcode: Opcode, payload: bytes, fin: bool | None, note: str = "",
                 payload_length: int | None = None) -> None:
        self._sink(_IN, opcode, payload, time.monotonic_ns(), fin, None, None, None, None, payload_length, None,
                   note)

    # -- slots ------------------------------------------------------------------------------------

    @Slot(QAbstractSocket.SocketState)
    def _on_state_changed(self, qt_state: _QtState) -> None:
        state = _STATE.get(qt_state, ConnectionState.CONNECTING)
        if state is ConnectionState.CLOSED or self._finished:
            return  # CLOSED is announced once, by _on_disconnected / _finish_failed
        if state is ConnectionState.OPEN and not self._was_open:
            return  # TCP is up but the WebSocket handshake is not done: still connecting
        self._set_state(state)

    @Slot()
    def _on_connected(self) -> None:
        ws = self._ws
        assert ws is not None and self._target is not None
        self._handshake_timer.stop()
        headers, _frames = self._read_answer()
        unoffered = self._unoffered_extensions(headers or ())
        if unoffered:  # RFC 6455 4.1: the client must fail the connection
            host, port = self._host_port()
            self._finish_failed(Failure(
                FailureKind.HANDSHAKE_INVALID, host=host, port=port, response_headers=headers,
                detail=f"the server accepted an extension we did not offer: Sec-WebSocket-Extensions: "
                       f"{', '.join(unoffered)}"))
            return
        self._was_open = True
        sock = ws.findChild(QAbstractSocket)
        if sock is not None and self._reader is not None:
            self._feed = QtFrameFeed(sock, self._reader, self._target.limits.max_frame_size, self)
        self._set_state(ConnectionState.OPEN)
        peer = f"{ws.peerAddress().toString()}:{ws.peerPort()}"
        self.opened.emit(OpenInfo(url=self._target.url, subprotocol=ws.subprotocol(), peer=peer,
                                  response_headers=headers, reason=self._answer_reason))

    @Slot(str, bool)
    def _on_text_frame(self, text: str, is_last: bool) -> None:
        feed = self._feed
        altered = feed is not None and feed.take_text_frame()
        if is_last and not self._incoming_in_message and not altered:
            # a whole message, the hottest path of a text feed: no helper calls beyond the sink
            self._whole_in(_WHOLE_TEXT, text.encode("utf-8", "surrogatepass"), time.monotonic_ns())
            return
        opcode = _CONTINUATION if self._incoming_in_message else _TEXT
        self._incoming_in_message = not is_last
        self._sink(_IN, opcode, text.encode("utf-8", "surrogatepass"), time.monotonic_ns(), is_last, None, None,
                   None, None, None, None, _BOM_IN_NOTE if altered else "")

    @Slot(QByteArray, bool)
    def _on_binary_frame(self, data: QByteArray, is_last: bool) -> None:
        if is_last and not self._incoming_in_message:
            self._whole_in(_WHOLE_BINARY, byte_string(data), time.monotonic_ns())
            return
        opcode = _CONTINUATION if self._incoming_in_message else _BINARY
        self._incoming_in_message = not is_last
        payload = byte_string(data)
        self._sink(_IN, opcode, payload, time.monotonic_ns(), is_last, None, None, None, None, len(payload))

    @Slot(int, QByteArray)
    def _on_pong(self, _elapsed_ms: int, payload: QByteArray) -> None:
        data = byte_string(payload)
        self._emit_in(Opcode.PONG, data, True, payload_length=len(data))

    @Slot()
    def _on_tcp_connected(self) -> None:
        self._tcp_up = True
        sock = self._ws.findChild(QAbstractSocket) if self._ws is not None else None
        if sock is not None and not sock.isTransactionStarted():
            # QWebSocket reads the server's answer and shows none of it: in a transaction, it can be read again
            sock.startTransaction()
            sock.readyRead.connect(self._on_answer_bytes)  # until the feed takes over, or the attempt ends

    @Slot()
    def _on_answer_bytes(self) -> None:
        """QWebSocket waits for a blank line whatever came: an answer that is not HTTP fails at once."""
        sock = self._ws.findChild(QAbstractSocket) if self._ws is not None else None
        if sock is None or self._was_open or self._finished or not sock.isTransactionStarted():
            return
        unread = sock.bytesAvailable()
        sock.rollbackTransaction()
        data = byte_string(sock.peek(ANSWER_QUOTED))
        size = sock.bytesAvailable()
        sock.startTransaction()
        sock.read(size - unread)  # back to where QWebSocket was
        if is_http_start(data[:5]):
            return
        host, port = self._host_port()
        quoted = printable_bytes(data, ANSWER_QUOTED)
        self._finish_failed(Failure(FailureKind.HANDSHAKE_INVALID, host=host, port=port,
                                    detail=f'the server sent {size} {plural(size, "byte")} starting "{quoted}"; we '
                                           "stopped reading: it does not start with an HTTP status line"))

    def _read_answer(self) -> tuple[tuple[tuple[str, str], ...] | None, bytes]:
        """The server's answer to the upgrade, read again from its start: its headers (None: not whole), and
        the bytes after them, left in the socket for whoever reads next."""
        sock = self._ws.findChild(QAbstractSocket) if self._ws is not None else None
        if sock is None or not sock.isTransactionStarted():
            return None, b""
        unread = sock.bytesAvailable()
        sock.rollbackTransaction()
        data = byte_string(sock.peek(sock.bytesAvailable()))
        read = len(data) - unread  # what QWebSocket read: its last answer's header ends there
        start = _last_answer(data, read)
        if start is None:
            return None, data  # QWebSocket read no whole answer (its limit was hit, or it was not HTTP)
        sock.read(read)
        status = data[start:data.find(b"\r\n", start)].split(b" ", 2)
        self._answer_reason = status[2].decode("latin-1").strip() if len(status) > 2 else ""
        return _header_fields(data[start:read - 4]), data[read:]

    def _unoffered_extensions(self, headers: tuple[tuple[str, str], ...]) -> list[str]:
        """The extensions the server's 101 answer accepts that we did not offer (QWebSocket offers none, and
        would not check)."""
        assert self._target is not None
        offered = {item.split(";", 1)[0].strip().lower() for name, value in self._target.handshake.headers
                   if name.lower() == "sec-websocket-extensions" for item in value.split(",")}
        return [item.strip() for name, value in headers if name.lower() == "sec-websocket-extensions"
                for item in value.split(",") if item.split(";", 1)[0].strip().lower() not in offered]

    @Slot(QAbstractSocket.SocketError)
    def _on_error(self, error: _SocketError) -> None:
        ws = self._ws
        assert ws is not None
        self._socket_error = (error, ws.errorString())
        if not self._was_open and not self._finished:
            if error == _SocketError.ConnectionRefusedError and self._tcp_up:
                self._finish_failed(self._refusal(ws.errorString()))
                return
            self._finish_failed(self._classify(error, ws.errorString()))

    def _refusal(self, text: str) -> Failure:
        """QWebSocket refused the server's answer to the upgrade: its words, what they mean, the status, and the
        answer's headers and the start of its body, read again from the socket."""
        host, port = self._host_port()
        headers, after = self._read_answer()
        return qt_refusal(text, host, port, headers, after, self._answer_reason)

    def _on_qt_error(self, code: object, reason: str) -> None:
        """QWebSocket found the server breaking the protocol and sent its close frame (it has, by now)."""
        if self._was_open and not self._finished and self._qt_error is None:
            self._qt_error = (_code(code), reason)
            self._refused_by_qt()

    def _on_close_frame(self, code: object, reason: str) -> None:
        self._close_frame_in = True
        value = _code(code)
        if value in (1002, 1007) and _QT_CLOSE_REWRITE.search(reason or "") and self._qt_error is None:
            self._qt_error = (value, reason)  # the server's close frame was not valid: the error is QWebSocket's
            self._refused_by_qt()

    def _stop_reading(self) -> None:
        """Drop what follows the bad frame, now and later: QWebSocket would parse it as more (bogus) frames."""
        if self._feed is not None:
            self._feed.stop()
            return
        ws = self._ws
        sock = ws.findChild(QAbstractSocket) if ws is not None else None
        if sock is not None:
            if sock.isOpen():
                sock.readAll()
            sock.readyRead.disconnect()  # QWebSocket's own reading included: no more frames are parsed

    def _refused_by_qt(self) -> None:
        """QWebSocket failed the connection over what the server sent: no more reading, and say so at once."""
        assert self._qt_error is not None
        self._stop_reading()
        if self._we_closed:
            return  # the server's answer to our close: the connection ends as we asked
        self._qt_failed = True
        self.rejected.emit(self._qt_failure(*self._qt_error))

    def _qt_failure(self, code: int, reason: str) -> Failure:
        """What QWebSocket's own closing of the connection (``code``, ``reason``) says the server did wrong."""
        if code == 1009 and _TOO_BIG.search(reason or ""):
            assert self._target is not None
            return Failure(FailureKind.MESSAGE_TOO_BIG, detail=f"{reason} (QWebSocket)",
                           limit=self._target.limits.max_message_size)
        if _QT_CLOSE_CODE.fullmatch(reason.strip()):
            detail = ("the server sent a close frame with a code that RFC 6455 does not allow on the wire "
                      "(QWebSocket does not say which, and refuses 1012 to 1014 too, which the registry allows)")
        else:
            detail = f"QWebSocket refused what the server sent: {reason.strip().rstrip('.')}"
        return Failure(FailureKind.PROTOCOL, detail=f"{detail}; closed with {describe_close_code(code)}")

    @Slot()
    def _on_close_timeout(self) -> None:
        if self._finished or self._ws is None:
            return
        self._close_timed_out = True
        self._ws.abort()

    @Slot()
    def _on_disconnected(self) -> None:
        if self._finished:
            return
        ws = self._ws
        assert ws is not None
        if self._feed is not None:
            self._feed.drain()  # the frames read before the end, and the close frame among them
            self._feed.stop()
        if not self._was_open:
            if self._we_closed:
                self._finish_failed(None)
                return
            # Qt emits disconnected before errorOccurred here: read the error from the socket itself.
            self._finish_failed(self._classify(ws.error(), ws.errorString()))  # type: ignore[operator]  # error(): the method, not the signal of that name
            return
        self._finished = True
        self._handshake_timer.stop()
        self._close_timer.stop()
        code = int(ws.closeCode().value)
        reason = ws.closeReason()
        error = self._socket_error
        info: CloseInfo
        if not self._we_closed and (self._qt_error is not None or (
                not self._hears_reader and code == 1009 and _TOO_BIG.search(reason))):
            # QWebSocket failed the connection over what the server sent (our own close was not under way)
            code, reason = self._qt_error or (code, reason)
            info = CloseInfo(code=code, reason=reason, by_peer=False, clean=False,
                             failure=self._qt_failure(code, reason))
        elif self._close_timed_out:
            assert self._target is not None
            wait = min(self._target.protocol.close_timeout_s, QT_CLOSE_WAIT_S)
            info = CloseInfo(code=code, reason=reason, by_peer=False, clean=False,
                             failure=Failure(FailureKind.CLOSE_TIMEOUT, timeout_s=wait,
                                             detail=f"no close frame came back within {wait:g} s of ours"))
        elif self._aborted:
            # QWebSocket's closeCode() is only its default here: the code is that of our close frame, when one
            # went out before the drop (the app quitting), else none
            ours, our_reason = self._going_away or (None, "")
            info = CloseInfo(code=ours, reason=our_reason, by_peer=False, clean=False)
        elif self._we_closed and (self._close_frame_in or not self._hears_reader):  # else it hung up on ours
            info = CloseInfo(code=code, reason=reason, by_peer=False, clean=True)
        elif code == 1006 or (error is not None and code == 1000 and not reason) or (
                self._hears_reader and not self._close_frame_in):
            info = CloseInfo(code=1006, reason="", by_peer=True, clean=False,
                             failure=Failure(FailureKind.CONNECTION_LOST, detail=error[1] if error else ""))
        else:
            info = CloseInfo(code=None if code == 1005 else code, reason=reason, by_peer=True, clean=True)
            note = _UNSEEN
            if code == 1000 and not reason:
                note += "; QWebSocket reports an empty close frame (no status code) as 1000 too"
            self._emit_in(Opcode.CLOSE, close_payload(None if code == 1005 else code, reason), True, note=note)
        self._set_state(ConnectionState.CLOSED)
        self.closed.emit(info)

    def _finish_failed(self, failure: Failure | None) -> None:
        """End a connection attempt that never opened. ``None``: the user cancelled it."""
        failure = self._explained(failure) if failure is not None else None
        self._finished = True
        self._handshake_timer.stop()
        self._close_timer.stop()
        if self._ws is not None:
            self._ws.abort()
        self._set_state(ConnectionState.CLOSED)
        if failure is not None:
            self.failed.emit(failure)
        else:
            self.cancelled.emit()

    def _classify(self, error: _SocketError, text: str) -> Failure:
        host, port = self._host_port()
        secure = self._target is not None and self._target.url.lower().startswith("wss:")
        return classify_socket_error(error, text, host, port, self._ssl_errors, secure=secure)

    def _ignore_ssl_errors(self) -> None:
        if self._ws is not None:
            self._ws.ignoreSslErrors()
