"""The Wire engine: RFC 6455 by the ``websockets`` library's sans-I/O ``ClientProtocol``, bytes moved by Qt sockets.

Why Qt sockets rather than asyncio streams: ``QTcpSocket``/``QSslSocket`` take the same TLS configuration,
certificate checks and application proxy as the Qt engine, so switching engines changes how frames are
handled and nothing about how the endpoint is reached; and every read happens on the Qt main thread, in
chunks this class sizes itself. Parsing for at most ``PUMP_BUDGET_S`` per turn of the event loop keeps the
window responsive under a flood (QWebSocket parses everything buffered in one go), and a bounded socket
read buffer pushes back on the sender through TCP instead of growing without limit.

Every frame that crosses the wire is reported, both ways: data frames, incoming pings and pongs, close
frames, the pongs and close replies the protocol sends by itself. Each carries its real header (FIN,
RSV1-3, opcode, mask bit and key, payload length on the wire), read by :class:`HeaderScanner` for the frames
the library reads; the payload is the decoded one (unmasked, decompressed), so a compressed frame shows both
lengths.

The bulk of a fast feed, an unmasked TEXT or BINARY frame of at most ``FAST_FRAME_MAX`` bytes with FIN set
and RSV bits clear, arriving while the connection is open and no fragmented message is under way, is taken
off the stream before the library: such a frame changes no protocol state, so the library need not see
it. Its payload is sliced out, text is checked as UTF-8, and it goes to the log in a few appends. Any
other frame, and any frame the fast path has a doubt about (invalid text, a size limit), goes to the
library, which then reads on from that frame until the stream is back at a frame boundary with nothing
under way.

Text is handled as bytes end to end: nothing is decoded to ``str`` and re-encoded, so a leading U+FEFF or
U+FFFE survives both ways. Incoming text is checked as UTF-8 frame by frame; invalid text fails the
connection with 1007 as soon as the frame that breaks it arrives.
"""

from __future__ import annotations

import codecs
import struct
import time
from collections import deque
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtNetwork import QAbstractSocket, QSslSocket, QTcpSocket
from websockets.client import ClientProtocol
from websockets.exceptions import (
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    NegotiationError,
    PayloadTooBig,
    ProtocolError,
)
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate
from websockets.frames import EXTERNAL_CLOSE_CODES, Close, CloseCode, apply_mask  # type: ignore[attr-defined]
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode
from websockets.http11 import Response
from websockets.protocol import CLOSED, CLOSING, OPEN
from websockets.uri import parse_uri

from wsinspector import __version__
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, FailureKind, OpenInfo
from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.model import header as frame_header
from wsinspector.core.profiles import ResolvedTarget
from wsinspector.core.wireheaders import HeaderScanner, RawHeader, parse_header
from wsinspector.net.client import EngineConnection, FrameSink, WholeInSink, classify_socket_error

_SocketError = QAbstractSocket.SocketError
_IN, _OUT = Direction.IN, Direction.OUT
_OPCODES = {int(op): op for op in Opcode}

#: bytes read and parsed at a time
READ_CHUNK = 16 * 1024
#: reading goes on, chunk after chunk, for this long at most per turn of the event loop (a chunk of tiny
#: frames takes a few milliseconds, a chunk of a large frame next to nothing)
PUMP_BUDGET_S = 0.005
#: the socket's own read buffer: beyond it, TCP flow control holds the sender back
SOCKET_BUFFER = 4 * 1024 * 1024

#: the largest frame the fast path takes, the most a 16-bit length says (larger frames are few, so the
#: library's cost per frame hardly matters for them)
FAST_FRAME_MAX = 0xFFFF

#: once both close frames have crossed, how long the server has to drop the TCP connection before we do
CLOSE_GRACE_S = 1.0

_NO_PONG = "not answered: automatic pongs are off for this connection"
#: notes on frames a user sent on purpose to test the server (Faults menu)
_INVALID_TEXT_OUT = "deliberately not valid UTF-8 (Faults ▸ Send the bytes as a text frame)"
_UNSOLICITED_PONG_OUT = "sent by hand (Faults ▸ Send an unsolicited pong)"
_FORBIDDEN_CLOSE_OUT = "deliberately a code RFC 6455 forbids on the wire (Faults ▸ Close with this code, unchecked)"


def _is_utf8(data: bytes) -> bool:
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True
_WHOLE_TEXT = frame_header.whole_in(Opcode.TEXT, header_known=True, length_known=True)
_WHOLE_BINARY = frame_header.whole_in(Opcode.BINARY, header_known=True, length_known=True)
_WS_STATE = {OPEN: ConnectionState.OPEN, CLOSING: ConnectionState.CLOSING, CLOSED: ConnectionState.CLOSED}


class _Protocol(ClientProtocol):
    """ClientProtocol that also checks incoming text as UTF-8, frame by frame, and can leave pings
    unanswered (fault injection: a client that never answers).

    A frame whose text is not valid UTF-8 still reaches the events (so it can be shown), then the
    ``UnicodeDecodeError`` makes the library fail the connection with 1007 and stop parsing there.
    """

    auto_pong = True
    invalid_text: WsFrame | None = None
    _decoder: codecs.IncrementalDecoder | None = None

    def recv_frame(self, frame: WsFrame) -> None:
        op = frame.opcode
        if op is WsOpcode.PING and not self.auto_pong:
            self.events.append(frame)
            return
        if op is WsOpcode.CLOSE and self.current_size is not None:
            # RFC 6455 lets a close frame come between the fragments of a message: the message is left
            # unfinished and the closing handshake goes on (the library would fail the connection instead)
            self.current_size = None
            self._decoder = None
        super().recv_frame(frame)  # sequence checks first: they decide before the text does
        if op is WsOpcode.TEXT:
            if frame.fin:
                try:
                    codecs.decode(frame.data, "utf-8")
                except UnicodeDecodeError:
                    self.invalid_text = frame
                    raise
                return
            self._decoder = codecs.getincrementaldecoder("utf-8")()
        elif op is not WsOpcode.CONT or self._decoder is None:
            return
        try:
            self._decoder.decode(frame.data, frame.fin)
        except UnicodeDecodeError:
            self.invalid_text = frame
            raise
        if frame.fin:
            self._decoder = None


def deflate_factory(target: ResolvedTarget) -> ClientPerMessageDeflateFactory:
    return ClientPerMessageDeflateFactory(
        server_no_context_takeover=target.compression.server_no_context_takeover,
        client_no_context_takeover=target.compression.client_no_context_takeover,
        server_max_window_bits=target.compression.server_max_window_bits or None,
        client_max_window_bits=target.compression.client_max_window_bits or True,
    )


def describe_extensions(extensions: list[object]) -> str:
    """The negotiated extensions as the response header would put them."""
    parts = []
    for ext in extensions:
        if isinstance(ext, PerMessageDeflate):
            params = ["permessage-deflate"]
            if ext.remote_no_context_takeover:
                params.append("server_no_context_takeover")
            if ext.local_no_context_takeover:
                params.append("client_no_context_takeover")
            params.append(f"server_max_window_bits={ext.remote_max_window_bits}")
            params.append(f"client_max_window_bits={ext.local_max_window_bits}")
            parts.append("; ".join(params))
        else:
            parts.append(getattr(ext, "name", type(ext).__name__))
    return ", ".join(parts)


class WireConnection(EngineConnection):
    """One connection attempt and its life, frame by frame. Same signals and commands as QtConnection,
    plus the fault-injection commands (:meth:`send_fragmented`, :meth:`send_pong`, :meth:`close` with any
    code, text that is not UTF-8 through :meth:`send`)."""

    #: the Wire engine reports every frame with its real header
    sees_every_frame = True

    def __init__(self, parent: QObject | None = None, sink: FrameSink | None = None,
                 whole_in: WholeInSink | None = None) -> None:
        super().__init__(parent, sink, whole_in)
        self._sock: QTcpSocket | None = None
        self._proto: _Protocol | None = None
        self._host = ""
        self._port: int | None = None
        self._request_sent = False
        self._request_written = False
        self._close_grace = False
        self._sent_close: tuple[int | None, str] | None = None  # what our own close frame carried
        self._rejected_shown = False
        #: wire length of the frame the protocol refused
        self._rejected_length: int | None = None
        self._in_scanner = HeaderScanner(skip_http=True)
        self._in_headers: deque[RawHeader] = deque()
        #: the start of a frame the fast path is waiting to complete (the library has not seen it)
        self._held = b""
        self._fast_limit = FAST_FRAME_MAX
        #: what the next frames out carry, with a note for the timeline (a deliberate fault says so)
        self._out_payloads: deque[tuple[bytes, str]] = deque()
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)

    # -- commands ---------------------------------------------------------------------------------

    @property
    def outgoing_frame_size(self) -> int:
        """Messages go out as one frame unless sent with :meth:`send_fragmented`."""
        return 0

    @property
    def auto_pong(self) -> bool:
        return self._proto.auto_pong if self._proto is not None else True

    def set_auto_pong(self, on: bool) -> None:
        if self._proto is not None:
            self._proto.auto_pong = on

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
            uri = parse_uri(target.url)
        except InvalidURI as exc:
            self._finished = True
            self._set_state(ConnectionState.CLOSED)
            self.failed.emit(Failure(FailureKind.INVALID_TARGET, detail=f"The URL is not valid: {exc}"))
            return
        self._proto = _Protocol(
            uri,
            origin=target.handshake.origin or None,  # type: ignore[arg-type]
            extensions=[deflate_factory(target)] if target.compression.deflate else None,
            subprotocols=list(target.handshake.subprotocols) or None,  # type: ignore[arg-type]
            max_size=(target.limits.max_message_size, target.limits.max_frame_size),
        )
        self._proto.auto_pong = target.protocol.auto_pong
        self._fast_limit = min(FAST_FRAME_MAX, target.limits.max_message_size, target.limits.max_frame_size)
        sock: QTcpSocket = QSslSocket(self) if secure else QTcpSocket(self)
        self._sock = sock
        sock.setReadBufferSize(SOCKET_BUFFER)
        sock.readyRead.connect(self._on_ready_read)
        sock.disconnected.connect(self._on_disconnected)
        sock.errorOccurred.connect(self._on_error)
        self._handshake_timer.start(int(target.handshake.timeout_s * 1000))
        if isinstance(sock, QSslSocket):
            sock.sslErrors.connect(self._on_ssl_errors)
            sock.encrypted.connect(self._send_request)
            sock.connectToHostEncrypted(self._host, self._port)
        else:
            sock.connected.connect(self._send_request)
            sock.connectToHost(self._host, self._port)

    def send(self, data: bytes, is_text: bool) -> None:
        """Send one message in one frame. Text goes out as the bytes given, valid UTF-8 or not."""
        proto = self._require_open()
        if is_text:
            proto.send_text(data)
        else:
            proto.send_binary(data)
        self._out_payloads.append((data, _INVALID_TEXT_OUT if is_text and not _is_utf8(data) else ""))
        self._flush()

    def send_fragmented(self, data: bytes, is_text: bool, frame_size: int) -> None:
        """Send one message split into frames of ``frame_size`` payload bytes (the last may be shorter)."""
        if frame_size < 1:
            raise ValueError("frame size must be at least 1 byte")
        proto = self._require_open()
        parts = [data[i:i + frame_size] for i in range(0, len(data), frame_size)] or [b""]
        last = len(parts) - 1
        note = _INVALID_TEXT_OUT if is_text and not _is_utf8(data) else ""
        for index, part in enumerate(parts):
            if index == 0:
                (proto.send_text if is_text else proto.send_binary)(part, fin=index == last)
            else:
                proto.send_continuation(part, fin=index == last)
            self._out_payloads.append((part, note if index == 0 else ""))
        self._flush()

    def ping(self, payload: bytes = b"") -> None:
        proto = self._require_open()
        proto.send_ping(payload)
        self._out_payloads.append((payload, ""))
        self._flush()

    def send_pong(self, payload: bytes = b"") -> None:
        """An unsolicited pong (or a late answer to a ping when automatic pongs are off)."""
        proto = self._require_open()
        proto.send_pong(payload)
        self._out_payloads.append((payload, _UNSOLICITED_PONG_OUT))
        self._flush()

    def close(self, code: int | None = 1000, reason: str = "") -> None:
        """Start the closing handshake with any code, valid or not (``None``: a close frame with no body);
        before the connection is open, abandon the attempt."""
        proto = self._proto
        if proto is None or self._finished:
            return
        if self._state is ConnectionState.CONNECTING:
            self._we_closed = True
            self._finish_failed(None)
            return
        if proto.state is not OPEN:
            return
        self._we_closed = True
        self._sent_close = (code, reason)
        note = ""
        if code is None:
            proto.send_close()
        elif code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000:
            proto.send_close(code, reason)
        else:
            note = _FORBIDDEN_CLOSE_OUT
            # a code RFC 6455 forbids on the wire: written as asked, to see what the server does with it
            data = struct.pack("!H", code & 0xFFFF) + reason.encode("utf-8", "surrogatepass")
            proto.send_frame(WsFrame(WsOpcode.CLOSE, data))
            proto.close_sent = Close(code, reason)
            proto.state = CLOSING
        self._out_payloads.append((close_payload(code, reason), note))
        self._flush()

    def abort(self) -> None:
        """Drop the connection without a closing handshake (e.g. the app is quitting)."""
        if self._sock is None or self._finished:
            return
        self._we_closed = True
        if not self._was_open:
            self._finish_failed(None)
            return
        self._aborted = True
        self._sock.abort()
        if not self._finished:
            self._finish_closed()

    # -- internals --------------------------------------------------------------------------------

    def _require_open(self) -> _Protocol:
        if self._proto is None or self._state is not ConnectionState.OPEN or self._proto.state is not OPEN:
            raise RuntimeError("the connection is not open")
        return self._proto

    @Slot()
    def _send_request(self) -> None:
        proto, target = self._proto, self._target
        if proto is None or target is None or self._finished or self._request_sent:
            return
        self._request_sent = True
        request = proto.connect()
        request.headers["User-Agent"] = f"wsinspector/{__version__}"
        for name, value in target.handshake.headers:
            if name.lower() == "user-agent":
                del request.headers["User-Agent"]
            request.headers[name] = value
        proto.send_request(request)
        self._flush()

    def _flush(self) -> None:
        """Write what the protocol has to send, reporting each frame with the header it went out with."""
        proto, sock = self._proto, self._sock
        if proto is None or sock is None:
            return
        for data in proto.data_to_send():
            if not data:  # end of stream: the server has closed its side already
                if sock.state() is not QAbstractSocket.SocketState.UnconnectedState:
                    sock.disconnectFromHost()
                continue
            now = time.monotonic_ns()
            if not self._request_written:
                self._request_written = True
                sock.write(data)  # the handshake request
                continue
            sock.write(data)
            header = parse_header(data)
            if header is None:
                continue
            opcode = _OPCODES.get(header.opcode, Opcode.BINARY)
            if self._out_payloads:
                payload, note = self._out_payloads.popleft()
            else:
                # written by the protocol itself (a pong, a close reply): control frames, never compressed
                body = data[header.header_length:]
                payload = _unmask(body, header.mask_key) if header.mask_key else bytes(body)
                note = ""
            self._sink(_OUT, opcode, payload, now, header.fin, header.rsv1, header.rsv2, header.rsv3,
                       header.masked, header.length, header.mask_key, note)
        if proto.close_expected() and self._target is not None and not self._finished:
            self._arm_close_timer(proto)
        self._sync_state()

    def _arm_close_timer(self, proto: _Protocol) -> None:
        """Waiting for the server: first for its close frame (the close timeout), then, once both close
        frames have crossed, for it to drop the TCP connection (a short grace, then we drop it)."""
        assert self._target is not None
        complete = proto.close_rcvd is not None and proto.close_sent is not None
        if complete and not self._close_grace:
            self._close_grace = True
            self._close_timer.start(int(min(CLOSE_GRACE_S, self._target.protocol.close_timeout_s) * 1000))
        elif not self._close_timer.isActive() and not self._close_grace:
            self._close_timer.start(int(self._target.protocol.close_timeout_s * 1000))

    def _sync_state(self) -> None:
        proto = self._proto
        if proto is not None and self._was_open and not self._finished:
            state = _WS_STATE.get(proto.state)
            if state is ConnectionState.CLOSING:
                self._set_state(state)

    # -- reading ----------------------------------------------------------------------------------

    @Slot()
    def _on_ready_read(self) -> None:
        if not self._pump_timer.isActive():
            self._pump()

    @Slot()
    def _pump(self) -> None:
        sock = self._sock
        if sock is None or self._finished:
            return
        deadline = time.monotonic() + PUMP_BUDGET_S
        while True:
            chunk = sock.read(READ_CHUNK).data()
            if not chunk:
                return
            self._feed(chunk)
            if self._finished or sock.bytesAvailable() <= 0:
                return
            if time.monotonic() >= deadline:
                break
        self._pump_timer.start()  # the rest on the next turn: timers and paints get theirs in between

    def _feed(self, data: bytes) -> None:
        proto = self._proto
        if proto is None or proto.state is CLOSED:
            return
        while data:
            if (proto.state is OPEN and proto.current_size is None and proto.parser_exc is None
                    and self._in_scanner.at_boundary and not proto.reader.buffer):
                data = self._feed_fast(data)
                if not data:
                    return
                cut = _frame_end(data)  # the library takes the frame the fast path left, then it is back
            else:
                if self._held:
                    data, self._held = self._held + data, b""
                # the rest of the frame the library is reading, when its header is known: then the fast path
                # may take over again
                cut = self._in_scanner.payload_left or len(data)
            self._feed_library(data[:cut])
            data = data[cut:]
            if self._finished or proto.state is CLOSED:
                return

    def _feed_fast(self, data: bytes) -> bytes:
        """Take the whole-message frames at the start of ``data`` (see the module's docstring); returns what
        is left for the library, from the first frame the fast path does not take, or b"" when none is."""
        if self._held:
            data, self._held = self._held + data, b""
        size = len(data)
        pos = 0
        limit = self._fast_limit
        whole_in = self._whole_in
        monotonic_ns = time.monotonic_ns
        while pos + 2 <= size:
            b0 = data[pos]
            if b0 not in (0x81, 0x82):  # FIN, no RSV bit, TEXT or BINARY
                return data[pos:]
            length = data[pos + 1]
            if length < 126:  # unmasked (a set mask bit makes it 128 or more), 7-bit length
                start = pos + 2
            elif length == 126:
                if pos + 4 > size:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
            else:  # a 64-bit length, or masked
                return data[pos:]
            if length > limit:
                return data[pos:]
            end = start + length
            if end > size:
                break
            payload = data[start:end]
            if b0 == 0x81:
                try:
                    payload.decode()
                except UnicodeDecodeError:
                    return data[pos:]  # the library fails the connection, with the frame shown
                whole_in(_WHOLE_TEXT, payload, monotonic_ns())
            else:
                whole_in(_WHOLE_BINARY, payload, monotonic_ns())
            pos = end
        if pos < size:
            self._held = data[pos:]
        return b""

    def _feed_library(self, data: bytes) -> None:
        proto = self._proto
        assert proto is not None
        self._in_headers.extend(self._in_scanner.feed(data))
        try:
            proto.receive_data(data)
        except EOFError:
            return
        self._handle_events(proto.events_received())
        self._show_rejected()
        self._flush()

    def _show_rejected(self) -> None:
        """A frame the protocol refused (masked, RSV bits, bad opcode, too big, not inflatable, a bad close
        frame) never becomes an event: show its header, with why, so the timeline has what broke the link."""
        proto = self._proto
        if self._rejected_shown or proto is None:
            return
        exc = proto.parser_exc
        if exc is None or isinstance(exc, EOFError) or proto.invalid_text is not None or not self._in_headers:
            return
        self._rejected_shown = True
        b0, masked, key, length = self._in_headers.popleft()
        self._rejected_length = length
        self._in_headers.clear()
        opcode = _OPCODES.get(b0 & 0x0F)
        label = "" if opcode is not None else f" (opcode 0x{b0 & 0x0F:x}, reserved)"
        note = f"rejected{label}: {exc}; payload not shown"
        self._sink(_IN, opcode if opcode is not None else Opcode.BINARY, b"", time.monotonic_ns(),
                   bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10), masked, length, key, note)

    def _handle_events(self, events: list[object]) -> None:
        proto = self._proto
        assert proto is not None
        sink = self._sink
        headers = self._in_headers
        for event in events:
            if isinstance(event, Response):
                if not self._on_response(event):
                    return
                continue
            if not isinstance(event, WsFrame):
                continue
            now = time.monotonic_ns()
            header = headers.popleft() if headers else None
            op = event.opcode
            note = ""
            if event is proto.invalid_text:
                note = "not valid UTF-8: the connection is failed with 1007"
            elif op is WsOpcode.PING and not proto.auto_pong:
                note = _NO_PONG
            if header is not None:
                b0, masked, key, length = header
                sink(_IN, _OPCODES[b0 & 0x0F], bytes(event.data), now, bool(b0 & 0x80), bool(b0 & 0x40),
                     bool(b0 & 0x20), bool(b0 & 0x10), masked, length, key, note)
            else:
                data = bytes(event.data)
                sink(_IN, _OPCODES[int(op)], data, now, event.fin, event.rsv1, event.rsv2, event.rsv3, False,
                     len(data), None, note)

    def _on_response(self, response: Response) -> bool:
        """The handshake answer: open the connection, or end the attempt with the reason."""
        proto, sock, target = self._proto, self._sock, self._target
        assert proto is not None and sock is not None and target is not None
        self._handshake_timer.stop()
        exc = proto.handshake_exc
        if exc is not None:
            self._finish_failed(self._handshake_failure(exc, response))
            return False
        self._was_open = True
        self._set_state(ConnectionState.OPEN)
        headers = tuple((str(k), str(v)) for k, v in response.headers.raw_items())
        peer = f"{sock.peerAddress().toString()}:{sock.peerPort()}"
        self.opened.emit(OpenInfo(url=target.url, subprotocol=proto.subprotocol or "", peer=peer,
                                  response_headers=headers, extensions=describe_extensions(proto.extensions)))
        return True

    def _handshake_failure(self, exc: Exception, response: Response) -> Failure:
        host, port = self._host, self._port
        if isinstance(exc, InvalidStatus):
            return Failure(FailureKind.HANDSHAKE_REJECTED, detail=str(exc), host=host, port=port,
                           http_status=response.status_code, http_reason=response.reason_phrase)
        if isinstance(exc, NegotiationError):
            return Failure(FailureKind.HANDSHAKE_INVALID, detail=f"extension or subprotocol not agreed: {exc}",
                           host=host, port=port)
        if isinstance(exc, InvalidHandshake):
            return Failure(FailureKind.HANDSHAKE_INVALID, detail=str(exc), host=host, port=port)
        return Failure(FailureKind.HANDSHAKE_INVALID, detail=str(exc) or type(exc).__name__, host=host, port=port)

    # -- ending -----------------------------------------------------------------------------------

    @Slot(QAbstractSocket.SocketError)
    def _on_error(self, error: _SocketError) -> None:
        sock = self._sock
        assert sock is not None
        self._socket_error = (error, sock.errorString())
        if self._finished:
            return
        if not self._was_open:
            if error == _SocketError.RemoteHostClosedError and self._proto is not None:
                # closed during the handshake: whatever arrived may explain why (an HTTP error, say)
                self._drain()
                if self._finished:
                    return
            self._finish_failed(self._classify(error, sock))

    def _classify(self, error: _SocketError, sock: QTcpSocket) -> Failure:
        secure = isinstance(sock, QSslSocket)
        # over TLS, the request goes out once the socket is encrypted
        return classify_socket_error(error, sock.errorString(), self._host, self._port, self._ssl_errors,
                                     secure=secure, encrypted=self._request_sent if secure else None)

    @Slot()
    def _on_disconnected(self) -> None:
        if self._finished:
            return
        if not self._was_open:
            self._drain()
            if not self._finished:
                sock = self._sock
                assert sock is not None
                error = self._socket_error[0] if self._socket_error else _SocketError.RemoteHostClosedError
                self._finish_failed(self._classify(error, sock))
            return
        self._drain()
        if not self._finished:
            self._finish_closed()

    def _drain(self) -> None:
        """Parse everything still buffered (the server's last frames before it closed), then the end."""
        sock, proto = self._sock, self._proto
        if sock is None or proto is None:
            return
        self._pump_timer.stop()
        while not self._finished and sock.bytesAvailable() > 0:
            self._feed(sock.read(READ_CHUNK).data())
        if self._held and not self._finished and proto.state is not CLOSED:
            held, self._held = self._held, b""
            self._feed_library(held)  # a frame cut short by the end of the stream: the library says so
        if self._finished or (proto.state is CLOSED and proto.reader.eof):
            return
        proto.receive_eof()
        self._handle_events(proto.events_received())
        self._flush()

    @Slot()
    def _on_close_timeout(self) -> None:
        if self._finished or self._sock is None:
            return
        self._close_timed_out = True
        self._sock.abort()
        if not self._finished:
            self._finish_closed()

    def _finish_closed(self) -> None:
        self._finished = True
        self._handshake_timer.stop()
        self._close_timer.stop()
        self._pump_timer.stop()
        proto, target = self._proto, self._target
        assert proto is not None and target is not None
        rcvd, sent = proto.close_rcvd, proto.close_sent
        exc = proto.parser_exc
        info: CloseInfo
        if self._aborted:
            info = CloseInfo(code=None, reason="", by_peer=False, clean=False)
        elif exc is not None and not isinstance(exc, EOFError):
            failure = self._parser_failure(exc, target)
            code = int(sent.code) if sent is not None else None
            info = CloseInfo(code=code, reason=sent.reason if sent is not None else "", by_peer=False, clean=False,
                             failure=failure)
        elif self._close_timed_out and rcvd is None:
            # our close frame was never answered
            detail = (f"no close frame came back within {target.protocol.close_timeout_s:g} s of ours; the connection "
                      "was dropped")
            ours, our_reason = self._sent_close or (None, "")
            info = CloseInfo(code=ours, reason=our_reason, by_peer=False, clean=False,
                             failure=Failure(FailureKind.CLOSE_TIMEOUT, detail=detail,
                                             timeout_s=target.protocol.close_timeout_s))
        elif rcvd is not None:
            code = None if rcvd.code == CloseCode.NO_STATUS_RCVD else rcvd.code
            by_peer = not self._we_closed or bool(proto.close_rcvd_then_sent)
            if not by_peer and self._sent_close is not None:
                ours, our_reason = self._sent_close
                reply = None if code == ours else (None if code is None else int(code), rcvd.reason)
                info = CloseInfo(code=ours, reason=our_reason, by_peer=False, clean=True, reply=reply)
            else:
                info = CloseInfo(code=None if code is None else int(code), reason=rcvd.reason, by_peer=True,
                                 clean=True)
        else:
            detail = self._socket_error[1] if self._socket_error else ""
            info = CloseInfo(code=1006, reason="", by_peer=True, clean=False,
                             failure=Failure(FailureKind.CONNECTION_LOST, detail=detail))
        self._set_state(ConnectionState.CLOSED)
        self.closed.emit(info)

    def _parser_failure(self, exc: BaseException | None, target: ResolvedTarget) -> Failure:
        # the library answers a broken frame with a close frame, unless ours had already gone out
        answered = self._sent_close is None

        def closed_with(code: int, name: str) -> str:
            return f"; closed with {code} ({name})" if answered else "; the connection was already closing"

        if isinstance(exc, PayloadTooBig):
            # the library raises it without a size when inflating passes the limit
            inflated_from = self._rejected_length if exc.size is None else None
            return Failure(FailureKind.MESSAGE_TOO_BIG, detail=str(exc) + closed_with(1009, "message too big"),
                           limit=target.limits.max_message_size, inflated_from=inflated_from)
        if isinstance(exc, UnicodeDecodeError):
            what = "text" if self._proto is not None and self._proto.invalid_text is not None else "a close reason"
            return Failure(FailureKind.PROTOCOL, detail=f"the server sent {what} that is not valid UTF-8 "
                           f"({exc.reason})" + closed_with(1007, "invalid data"))
        if isinstance(exc, ProtocolError):
            return Failure(FailureKind.PROTOCOL, detail=f"{exc}" + closed_with(1002, "protocol error"))
        return Failure(FailureKind.PROTOCOL,
                       detail=f"{type(exc).__name__}: {exc}" + closed_with(1011, "internal error"))

    def _finish_failed(self, failure: Failure | None) -> None:
        """End a connection attempt that never opened. ``None``: the user cancelled it."""
        self._finished = True
        self._handshake_timer.stop()
        self._close_timer.stop()
        self._pump_timer.stop()
        if self._sock is not None:
            self._sock.abort()
        self._set_state(ConnectionState.CLOSED)
        if failure is not None:
            self.failed.emit(failure)
        else:
            self.cancelled.emit()


def _frame_end(data: bytes) -> int:
    """Where the frame at the start of ``data`` ends (``len(data)`` when it does not end within it)."""
    header = parse_header(data)
    if header is None:
        return len(data)
    return min(len(data), header.header_length + header.length)


def _unmask(body: bytes | memoryview, key: bytes) -> bytes:
    return bytes(apply_mask(bytes(body), key))

