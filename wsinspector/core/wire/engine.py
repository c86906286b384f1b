"""The Wire engine's decisions, without I/O: bytes in, frames and events out, bytes to send.

:class:`WireEngine` owns one :mod:`~wsinspector.core.wire.protocol` object (either role) and adds what the
timeline needs: every frame that crosses the wire is reported, both ways, with its real header (FIN, RSV1-3,
opcode, mask bit and key, payload length on the wire) next to its decoded payload (unmasked, decompressed),
so a compressed frame shows both lengths. It owns no socket, timer or clock: the caller feeds it what it
reads, writes what :meth:`WireEngine.data_to_send` returns, passes the time with every call, and reads
:attr:`WireEngine.close_deadline_ns` to know when to give up on the peer.

The bulk of a fast feed, whole-message frames that change no protocol state, is taken off the stream before
the library (the *fast path*, :mod:`~wsinspector.core.wire.fast_path`). The other way, a whole message in one
frame, with no extension negotiated, is framed here too (``_send_whole``), as the library would frame it. Any
other frame, and any frame the fast path has a doubt about (invalid text, a size limit), is handed to the
library with its header already read; the library reads on until it is back at a frame boundary with nothing
under way, and hands the bytes after it back (see the protocol module).

Text is handled as bytes end to end: nothing is decoded to ``str`` and re-encoded, so a leading U+FEFF or
U+FFFE survives both ways. Incoming text is checked as UTF-8 frame by frame; invalid text fails the
connection with 1007 as soon as the frame that breaks it arrives.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import replace

from websockets import exceptions as ws_errors
from websockets.frames import EXTERNAL_CLOSE_CODES, Close, CloseCode, apply_mask  # type: ignore[attr-defined]
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode
from websockets.http11 import Request, Response
from websockets.protocol import CLOSED, CLOSING, CONNECTING, OPEN, SERVER

from wsinspector.core.events import BODY_SHOWN, CloseInfo, Failure, FailureKind
from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.wire import notes
from wsinspector.core.wire.bytes_read import is_http_start, is_utf8
from wsinspector.core.wire.extensions import describe_extensions
from wsinspector.core.wire.fast_path import FastReader
from wsinspector.core.wire.head import head_at
from wsinspector.core.wire.protocol import HeadedFrame, WireProtocol
from wsinspector.core.wire.sinks import FrameSink, WholeInSink
from wsinspector.core.wire.unreadable import ANSWER_QUOTED, unreadable_failure, unreadable_request_answer
from wsinspector.core.wire.violations import describe_violation
from wsinspector.core.wire.wire_events import HandshakeFailed, Opened, Rejected, Requested, WireEvent

__all__ = ["ANSWER_QUOTED", "CLOSE_GRACE_S", "FAST_FRAME_MAX", "HandshakeFailed", "Opened", "Rejected", "Requested",
           "WireEngine", "WireEvent", "is_http_start", "is_utf8"]

_IN, _OUT = Direction.IN, Direction.OUT
_TEXT, _BINARY = Opcode.TEXT, Opcode.BINARY
_OPCODES = {int(op): op for op in Opcode}

#: the largest frame the fast path takes (a 64 KiB message is one of its own; larger frames are few, so the
#: library's cost per frame hardly matters for them)
FAST_FRAME_MAX = 256 * 1024
#: a frame the fast path sends with a payload of this many bytes or more goes out as its header, then its payload,
#: not copied behind the header: whoever writes them writes them together (a gathering write, or one buffer)
GATHER_FROM = 2048
#: bytes of mask keys drawn from the system's randomness at once
MASK_KEYS = 256
#: once both close frames have crossed, how long the peer has to drop the TCP connection before we do
CLOSE_GRACE_S = 1.0

#: how much of the server's answer to the upgrade is kept, to say what it was when it cannot be read
ANSWER_KEPT = 4096



class WireEngine(FastReader):
    """One connection's protocol, either role, as a plain object (see the module's docstring).

    ``sink`` and ``whole_in`` receive the frames as they are read or written, in wire order; ``on_event``
    receives :data:`WireEvent` objects in the same order, so a frame never reaches the sink before the
    handshake that opened its connection is reported. ``host`` and ``port`` only go into failures.
    """

    def __init__(self, proto: WireProtocol, *, sink: FrameSink, whole_in: WholeInSink,
                 on_event: Callable[[WireEvent], object], close_timeout_s: float,
                 max_size: int | None = None, host: str = "", port: int | None = None) -> None:
        self._proto = proto
        self._sink = sink
        self._whole_in = whole_in
        self._on_event = on_event
        self.close_timeout_s = close_timeout_s
        self._host, self._port = host, port
        # the fast path reads the frames of either role: masked ones (the server's) are unmasked in C
        self._fast = True
        self._masked_in = proto.side is SERVER
        proto.parking = True
        self._fast_limit = min(FAST_FRAME_MAX, max_size if max_size is not None else FAST_FRAME_MAX)
        self._start_fast_reader()
        #: mask keys drawn ahead for the frames the fast path sends, and where the next one starts
        self._keys = b""
        self._key_at = 0
        self._http_out = proto.state is CONNECTING  # the first write is the handshake's HTTP message
        self._out: list[bytes] = []
        self._handshake_failed = False
        #: the start of the peer's answer to the upgrade, and how many bytes of it came
        self._answer = bytearray()
        self._answer_size = 0
        self._we_closed = False
        self._sent_close: tuple[int | None, str] | None = None  # what our own close frame carried
        self._rejected_shown = False
        self._rejected_length: int | None = None  # wire length of the frame the protocol refused
        self._grace = False
        #: the server role: the request read, until it is answered, and what came after it meanwhile
        self._requested: Request | None = None
        self._early = b""
        #: the server role: the last bytes of the request read so far, where its blank line may begin
        self._request_tail = b""
        #: the server role: our answer to the request, once sent
        self.answer_sent: Response | None = None
        #: when to stop waiting for the peer (``time.monotonic_ns()`` scale), once the closing handshake began
        self.close_deadline_ns: int | None = None

    def report_to(self, sink: FrameSink, whole_in: WholeInSink, on_event: Callable[[WireEvent], object]) -> None:
        """Where frames and events are reported from now on (a connection moved to a thread of its own)."""
        self._sink, self._whole_in, self._on_event = sink, whole_in, on_event

    # -- state ------------------------------------------------------------------------------------

    @property
    def protocol(self) -> WireProtocol:
        return self._proto

    @property
    def is_open(self) -> bool:
        return self._proto.state is OPEN

    @property
    def is_closing(self) -> bool:
        return self._proto.state is CLOSING

    @property
    def handshake_failed(self) -> bool:
        return self._handshake_failed

    @property
    def auto_pong(self) -> bool:
        return self._proto.auto_pong

    @auto_pong.setter
    def auto_pong(self, on: bool) -> None:
        self._proto.auto_pong = on

    def answer_close_with(self, code: int, reason: str = "") -> None:
        """Answer the peer's close frame with ``code`` instead of its own (a fault a mock server commits)."""
        self._proto.close_answer = Close(code, reason)

    def data_to_send(self) -> list[bytes]:
        """The bytes to write, in order; ``b""`` means: end the stream (half-close)."""
        out, self._out = self._out, []
        return out

    # -- reading ----------------------------------------------------------------------------------

    def receive_data(self, data: bytes, now_ns: int) -> None:
        """Bytes read from the peer at ``now_ns``: every frame they complete is reported, stamped with it."""
        proto = self._proto
        if proto.state is CLOSED or self._handshake_failed:
            return
        if proto.state is CONNECTING:
            opening = self._opening_bytes(data)
            if opening is None:
                return
            data = opening
        fast = self._fast
        pos = 0
        if self._held:
            data, pos = self._after_held(data, now_ns)
            if pos < 0:
                return
        while True:
            if fast and proto.parked and proto.state is OPEN:
                rest = self._take_fast(data, now_ns, pos)
                pos = 0
                if rest is None:
                    return
                data = rest
            self._library(data, now_ns)
            if self._handshake_failed or proto.state is CLOSED or not (fast and proto.parked):
                return
            buffer = proto.reader.buffer  # what follows the library's last frame: the fast path's again
            if not buffer:
                return
            data = bytes(buffer)
            del buffer[:]

    def receive_eof(self, now_ns: int) -> None:
        """The peer ended the stream (everything it sent has gone through :meth:`receive_data`)."""
        proto = self._proto
        if self._handshake_failed:
            return
        if self._held and proto.state is not CLOSED:
            held, self._held = self._joined_held(b""), b""
            if self._held_head is not None:
                held = self._hand_off(self._held_head, held, 0)
                self._held_head = None
            self._library(held, now_ns)  # a frame cut short by the end of the stream: the library says so
        if self._handshake_failed or (proto.state is CLOSED and proto.reader.eof):
            return
        proto.receive_eof()
        self._after_library(now_ns)

    def _opening_bytes(self, data: bytes) -> bytes | None:
        """What of ``data``, read during the opening handshake, goes to the library now (None: nothing)."""
        self._keep_answer(data)
        if self._requested is not None:  # the request is read; what comes before the answer waits
            self._early += data
            return None
        if self._proto.side is SERVER:
            return self._up_to_request_end(data)
        if not is_http_start(bytes(self._answer[:5])):  # garbage: no need to wait for a line to say so
            self._handshake_failed = True
            self._on_event(HandshakeFailed(self._unreadable_answer(ValueError("not an HTTP response"))))
            return None
        return data

    def _up_to_request_end(self, data: bytes) -> bytes:
        """``data`` up to the request's end (server role); what follows it waits for our answer as later reads
        do (the library would read its frames, a close among them, before we answered)."""
        joined = self._request_tail + data
        end = joined.find(b"\r\n\r\n")
        self._request_tail = joined[-3:]
        if end < 0:
            return data
        cut = end + 4 - len(joined) + len(data)
        self._early = data[cut:]
        return data[:cut]

    def _library(self, data: bytes, now_ns: int) -> None:
        try:
            self._proto.receive_data(data)
        except EOFError:  # the stream had ended already
            return
        self._after_library(now_ns)

    def _after_library(self, now_ns: int) -> None:
        self._report_events(now_ns)
        self._check_answer()
        self._report_rejected(now_ns)
        self._collect(now_ns)

    def _report_events(self, now_ns: int) -> None:
        proto = self._proto
        sink = self._sink
        for event in proto.events_received():
            if isinstance(event, Request):
                if proto.handshake_exc is not None:  # the library answered it already (a line too long…)
                    self._handshake_failed = True
                    self._on_event(HandshakeFailed(Failure(FailureKind.HANDSHAKE_INVALID, host=self._host,
                                                           port=self._port, detail=str(proto.handshake_exc),
                                                           peer="client")))
                    return
                self._requested = event
                self._on_event(Requested(event))
                continue
            if isinstance(event, Response):
                if not self._handshake_done(event):
                    return
                continue
            if not isinstance(event, WsFrame):
                continue
            op = event.opcode
            note = ""
            data = bytes(event.data)
            head = event.head if isinstance(event, HeadedFrame) else None
            if event is proto.invalid_text:
                note = notes.INVALID_TEXT_IN
                if head is not None and len(data) < head[3]:
                    note = notes.INVALID_TEXT_CUT.format(got=len(data), length=head[3])
                self._tell_rejected()
            elif op is WsOpcode.PING and not proto.auto_pong:
                note = notes.NO_PONG
            if head is not None:
                b0, masked, key, length, _ = head
                sink(_IN, _OPCODES[b0 & 0x0F], data, now_ns, bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20),
                     bool(b0 & 0x10), masked, length, key, note)
            else:
                sink(_IN, _OPCODES[int(op)], data, now_ns, event.fin, event.rsv1, event.rsv2, event.rsv3, False,
                     len(data), None, note)

    def _report_rejected(self, now_ns: int) -> None:
        """A frame the protocol refused (masked, RSV bits, bad opcode, too big, not inflatable, a bad close
        frame) never becomes an event: report its header, with why, so the timeline has what broke the link."""
        proto = self._proto
        if self._rejected_shown:
            return
        exc = proto.parser_exc
        head = proto.head
        if exc is None or isinstance(exc, EOFError) or proto.invalid_text is not None:
            return
        self._rejected_shown = True
        if head is not None:  # before it is told: a frame that inflates past the limit is said by its size
            self._rejected_length = head[3]
        self._tell_rejected()
        if head is None:
            return
        b0, masked, key, length, _ = head
        opcode = _OPCODES.get(b0 & 0x0F)
        label = "" if opcode is not None else f" (opcode 0x{b0 & 0x0F:x}, reserved)"
        note = f"rejected{label}: {exc}; payload not shown"
        self._sink(_IN, opcode if opcode is not None else Opcode.BINARY, b"", now_ns, bool(b0 & 0x80),
                   bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10), masked, length, key, note)

    def _tell_rejected(self) -> None:
        exc = self._proto.parser_exc
        if exc is not None:
            failure = self._parser_failure(exc)
            self._on_event(Rejected(replace(failure, peer="client") if self._proto.side is SERVER else failure))

    def _handshake_done(self, message: Response | Request) -> bool:
        proto = self._proto
        exc = proto.handshake_exc
        if exc is not None:
            self._handshake_failed = True
            self._on_event(HandshakeFailed(self._handshake_failure(exc, message)))
            return False
        headers = tuple((str(k), str(v)) for k, v in message.headers.raw_items())
        reason = message.reason_phrase if isinstance(message, Response) else ""
        self._on_event(Opened(subprotocol=proto.subprotocol or "", headers=headers,
                              extensions=describe_extensions(list(proto.extensions)), reason=reason))
        return True

    # -- the server role's answer -----------------------------------------------------------------

    def accept(self, now_ns: int, subprotocol: str | None = None,
               headers: tuple[tuple[str, str], ...] = ()) -> Response:
        """Answer the request read (server role) with 101, the subprotocol and extensions negotiated as the
        protocol's settings say (``subprotocol``: this one if the client offered it, whatever they say), plus
        ``headers``. A request that is not a valid upgrade is refused by the library instead (400, 426…):
        :class:`HandshakeFailed` follows. Returns the answer as sent."""
        proto = self._proto
        request = self._requested
        if request is None or proto.state is not CONNECTING or proto.side is not SERVER:
            raise RuntimeError("no opening request to answer")
        if subprotocol is not None:
            proto.available_subprotocols = [subprotocol]  # type: ignore[list-item]
        response = proto.accept(request)  # type: ignore[union-attr]
        for name, value in headers:
            response.headers[name] = value
        self._answer_request(response, now_ns)
        if response.status_code == 101:
            request_headers = tuple((str(k), str(v)) for k, v in request.headers.raw_items())
            self._on_event(Opened(subprotocol=proto.subprotocol or "", headers=request_headers,
                                  extensions=describe_extensions(list(proto.extensions), server=True),
                                  reason=response.reason_phrase))
            early, self._early = self._early, b""
            if early:
                self.receive_data(early, now_ns)
        else:
            exc = proto.handshake_exc
            self._handshake_failed = True
            self._on_event(HandshakeFailed(Failure(
                FailureKind.HANDSHAKE_INVALID, host=self._host, port=self._port, peer="client",
                detail=f"{exc}; answered {response.status_code} {response.reason_phrase}")))
        return response

    def can_accept(self) -> bool:
        """Whether the request read is a valid upgrade the server role could accept (False: :meth:`accept`
        answers it with the library's refusal, 400, 405, 426 or 505), asked before anyone acts on it."""
        request, proto = self._requested, self._proto
        if request is None or proto.side is not SERVER:
            return False
        ok = proto.accept(request).status_code == 101  # type: ignore[union-attr]
        proto.handshake_exc = None  # asked, not answered: accept() asks again
        return ok

    def refuse(self, status: int, now_ns: int, headers: tuple[tuple[str, str], ...] = (),
               body: bytes = b"") -> Response:
        """Refuse the request read (server role) with an HTTP ``status``, ``headers`` (replacing the library's of
        the same name) and ``body``; the stream ends after it. Returns the answer as sent."""
        proto = self._proto
        if self._requested is None or proto.state is not CONNECTING or proto.side is not SERVER:
            raise RuntimeError("no opening request to answer")
        response = proto.reject(status, "")  # type: ignore[union-attr]
        response.body = body
        if "Content-Length" in response.headers:  # the library's (0): an answer has one, the body's
            del response.headers["Content-Length"]
        response.headers["Content-Length"] = str(len(body))
        for name in {name.lower() for name, _ in headers}:
            if name in response.headers:
                del response.headers[name]
        for name, value in headers:
            response.headers[name] = value
        self._answer_request(response, now_ns)
        self._handshake_failed = True
        return response

    def _answer_request(self, response: Response, now_ns: int) -> None:
        self.answer_sent = response
        self._requested = None
        self._answer_size, self._answer = 0, bytearray()
        self.send_handshake(response, now_ns)

    def _handshake_failure(self, exc: Exception, message: Response | Request) -> Failure:
        host, port = self._host, self._port
        headers = tuple((str(k), str(v)) for k, v in message.headers.raw_items())
        if isinstance(exc, ws_errors.InvalidStatus) and isinstance(message, Response):
            body = bytes(message.body or b"")
            return Failure(FailureKind.HANDSHAKE_REJECTED, host=host, port=port, http_status=message.status_code,
                           http_reason=message.reason_phrase, response_headers=headers,
                           response_body=body[:BODY_SHOWN], body_size=len(body))
        if isinstance(exc, ws_errors.NegotiationError):
            said = "; ".join(f"{name}: {', '.join(message.headers.get_all(name))}"
                             for name in ("Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol")
                             if message.headers.get_all(name))
            answered = f" (the server answered {said})" if said else ""
            return Failure(FailureKind.HANDSHAKE_INVALID, host=host, port=port, response_headers=headers,
                           detail=f"extension or subprotocol not agreed: {exc}{answered}")
        detail = str(exc) if isinstance(exc, ws_errors.InvalidHandshake) else (str(exc) or type(exc).__name__)
        return Failure(FailureKind.HANDSHAKE_INVALID, detail=detail, host=host, port=port, response_headers=headers)

    def _keep_answer(self, data: bytes) -> None:
        self._answer_size += len(data)
        room = ANSWER_KEPT - len(self._answer)
        if room > 0:
            self._answer += data[:room]

    def _check_answer(self) -> None:
        """The library gave up on the answer before it was a whole HTTP response: say so, with what came."""
        proto = self._proto
        exc = proto.handshake_exc
        if self._handshake_failed or exc is None:  # set only while the handshake is under way, or after it failed
            return
        self._handshake_failed = True
        failure = self._unreadable_answer(exc)
        if proto.side is SERVER:  # answered in place of the library's answer (or its silence)
            proto.data_to_send()
            self.answer_sent = answer = unreadable_request_answer(proto, exc, bytes(self._answer))  # type: ignore[arg-type]
            self._out += [answer.serialize(), b""]  # the server writes it as it writes a refusal
            failure = replace(failure, detail=f"{failure.detail}; answered {answer.status_code} {answer.reason_phrase}")
        self._on_event(HandshakeFailed(failure))

    def _unreadable_answer(self, exc: Exception) -> Failure:
        return unreadable_failure(exc, bytes(self._answer), self._answer_size, server=self._proto.side is SERVER,
                                  host=self._host, port=self._port)

    # -- writing ----------------------------------------------------------------------------------

    def send_handshake(self, message: Request | Response, now_ns: int) -> None:
        """Send the opening handshake's HTTP message: the client's request (the server role answers with
        ``ServerProtocol.accept``/``reject`` and this)."""
        proto = self._proto
        if isinstance(message, Request):
            proto.send_request(message)  # type: ignore[union-attr]
        else:
            proto.send_response(message)  # type: ignore[union-attr]
            self._report_events(now_ns)
        self._collect(now_ns)

    def _require_open(self, now_ns: int) -> WireProtocol:
        """The protocol, open, with its own frames (a pong a read answers) reported before the command's."""
        proto = self._proto
        if proto.state is not OPEN:
            raise RuntimeError("the connection is not open")
        if proto.writes:
            self._collect(now_ns)
        return proto

    def send(self, data: bytes, is_text: bool, now_ns: int) -> None:
        """Send one message in one frame. Text goes out as the bytes given, valid UTF-8 or not."""
        proto = self._require_open(now_ns)
        note = notes.INVALID_TEXT_OUT if is_text and not is_utf8(data) else ""
        if self._send_whole(0x81 if is_text else 0x82, data, now_ns, note):
            return
        if is_text:
            proto.send_text(data)
        else:
            proto.send_binary(data)
        self._collect(now_ns, data, note)

    def send_fragmented(self, data: bytes, is_text: bool, frame_size: int, now_ns: int) -> None:
        """Send one message split into frames of ``frame_size`` payload bytes (the last may be shorter)."""
        if frame_size < 1:
            raise ValueError("frame size must be at least 1 byte")
        proto = self._require_open(now_ns)
        parts = [data[i:i + frame_size] for i in range(0, len(data), frame_size)] or [b""]
        last = len(parts) - 1
        note = notes.INVALID_TEXT_OUT if is_text and not is_utf8(data) else ""
        for index, part in enumerate(parts):
            if index == 0:
                (proto.send_text if is_text else proto.send_binary)(part, fin=index == last)
            else:
                proto.send_continuation(part, fin=index == last)
            self._collect(now_ns, part, note if index == 0 else "")

    def send_parts(self, parts: list[bytes], is_text: bool, ping_between: bytes | None, now_ns: int) -> None:
        """Send one message in frames of these payloads, with a ping carrying ``ping_between`` after each frame
        but the last when given (control frames in the middle of a message, RFC 6455 §5.4)."""
        proto = self._require_open(now_ns)
        parts = parts or [b""]
        last = len(parts) - 1
        for index, part in enumerate(parts):
            if index == 0:
                (proto.send_text if is_text else proto.send_binary)(part, fin=index == last)
            else:
                proto.send_continuation(part, fin=index == last)
            self._collect(now_ns, part)
            if ping_between is not None and index < last:
                proto.send_ping(ping_between)
                self._collect(now_ns, ping_between)

    def send_frame(self, opcode: Opcode, data: bytes, fin: bool, now_ns: int) -> None:
        """Send one data frame of a message as it comes (a proxy forwarding fragments one by one): TEXT or
        BINARY starts a message, CONTINUATION goes on with it, ``fin`` ends it; compressed as negotiated."""
        proto = self._require_open(now_ns)
        if fin and opcode is not Opcode.CONTINUATION and self._send_whole(0x80 | opcode, data, now_ns):
            return
        if opcode is Opcode.TEXT:
            proto.send_text(data, fin=fin)
        elif opcode is Opcode.BINARY:
            proto.send_binary(data, fin=fin)
        elif opcode is Opcode.CONTINUATION:
            proto.send_continuation(data, fin=fin)
        else:
            raise ValueError("send_frame sends data frames: text, binary or continuation")
        self._collect(now_ns, data)

    def _send_whole(self, b0: int, data: bytes, now_ns: int, note: str = "") -> bool:
        """A whole message in one frame (``b0``: FIN and TEXT or BINARY), framed here as the library frames it
        when no extension was negotiated and no message of ours is under way: no frame object, no header read
        back. False when it is the library's to send."""
        proto = self._proto
        if proto.extensions or proto.expect_continuation_frame or proto.writes or b0 not in {0x81, 0x82}:
            return False
        length = len(data)
        masked = proto.side is not SERVER
        bit = 0x80 if masked else 0
        if length < 126:
            head = bytes((b0, bit | length))
        elif length < 0x10000:
            head = struct.pack("!BBH", b0, bit | 126, length)
        else:
            head = struct.pack("!BBQ", b0, bit | 127, length)
        key = None
        if masked:
            key = self._mask_key()
            if length < GATHER_FROM:
                self._out.append(head + key + apply_mask(data, key))
            else:  # the masked payload not copied again behind its header
                self._out += (head + key, apply_mask(data, key))
        elif length < GATHER_FROM:
            self._out.append(head + data)
        else:  # no copy of a large payload (never empty: b"" would end the stream)
            self._out += (head, data)
        self._sink(_OUT, _TEXT if b0 == 0x81 else _BINARY, data, now_ns, True, False, False, False, masked, length,
                   key, note)
        return True

    def _mask_key(self) -> bytes:
        """A fresh mask key: the next four of a batch drawn from the system's randomness (a system call per
        ``MASK_KEYS`` bytes, not per frame)."""
        at = self._key_at
        if at >= len(self._keys):
            self._keys, at = os.urandom(MASK_KEYS), 0
        self._key_at = at + 4
        return self._keys[at:at + 4]

    def ping(self, payload: bytes, now_ns: int) -> None:
        self._require_open(now_ns).send_ping(payload)
        self._collect(now_ns, payload)

    def send_pong(self, payload: bytes, now_ns: int, note: str | None = None) -> None:
        """An unsolicited pong (or a late answer to a ping when automatic pongs are off); ``note``: why, when
        not the Faults menu."""
        self._require_open(now_ns).send_pong(payload)
        self._collect(now_ns, payload, notes.UNSOLICITED_PONG_OUT if note is None else note)

    def send_raw(self, data: bytes, now_ns: int, note: str = "") -> None:
        """Write frames built by hand (a fault: a masked frame from a server, a reserved opcode, a frame larger
        than the peer takes, a message never finished), each reported with its header and ``note``. The
        protocol does not know of them: they change none of its state."""
        self._require_open(now_ns)
        self._out.append(data)
        pos = 0
        while pos + 2 <= len(data):
            head = head_at(data, pos, data[pos + 1])
            if head is None:
                break
            b0, masked, key, length, size = head
            body = data[pos + size:pos + size + length]
            payload = bytes(apply_mask(body, key)) if key else bytes(body)
            opcode = _OPCODES.get(b0 & 0x0F)
            label = "" if opcode is not None else f" (opcode 0x{b0 & 0x0F:x}, reserved)"
            self._sink(_OUT, opcode if opcode is not None else Opcode.BINARY, payload, now_ns, bool(b0 & 0x80),
                       bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10), masked, length, key,
                       f"{note}{label}" if note or label else "")
            pos += size + length

    def close(self, code: int | None, reason: str, now_ns: int) -> bool:
        """Start the closing handshake with any code, valid or not (``None``: a close frame with no body).
        False when the connection is not open (nothing is sent)."""
        if self._proto.state is not OPEN:
            return False
        proto = self._require_open(now_ns)
        self._we_closed = True
        self._sent_close = (code, reason)
        note = ""
        if code is None:
            proto.send_close()
        elif code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000:
            proto.send_close(code, reason)
        else:
            note = notes.FORBIDDEN_CLOSE_OUT
            # a code RFC 6455 forbids on the wire: written as asked, to see what the peer does with it
            data = struct.pack("!H", code & 0xFFFF) + reason.encode("utf-8", "surrogatepass")
            proto.send_frame(WsFrame(WsOpcode.CLOSE, data))
            proto.close_sent = Close(code, reason)
            proto.state = CLOSING
        self._collect(now_ns, close_payload(code, reason), note)
        return True

    def _collect(self, now_ns: int, payload: bytes | None = None, note: str = "") -> None:
        """Take what the protocol has to send, reporting each frame with the header it goes out with;
        ``payload`` and ``note`` belong to the first frame, the one the command at hand wrote."""
        proto = self._proto
        out = self._out
        for data in proto.data_to_send():
            out.append(data)
            if not data:
                continue
            if self._http_out:
                self._http_out = False
                continue
            b0, masked, key, length, size = head_at(data, 0, data[1])  # type: ignore[misc]
            if payload is None:
                # written by the protocol itself (a pong, a close frame): control frames, never compressed
                body = data[size:]
                frame_payload = bytes(apply_mask(body, key)) if key else bytes(body)
            else:
                frame_payload, payload = payload, None
            self._sink(_OUT, _OPCODES.get(b0 & 0x0F, Opcode.BINARY), frame_payload, now_ns, bool(b0 & 0x80),
                       bool(b0 & 0x40), bool(b0 & 0x20), bool(b0 & 0x10), masked, length, key, note)
            note = ""
        if proto.close_expected():
            self._arm_close_deadline(now_ns)

    # -- closing ----------------------------------------------------------------------------------

    def _arm_close_deadline(self, now_ns: int) -> None:
        """Waiting for the peer: first for its close frame (the close timeout), then, once both close
        frames have crossed, for it to drop the TCP connection (a short grace, then we drop it)."""
        proto = self._proto
        if self._grace:
            return
        if proto.close_rcvd is not None and proto.close_sent is not None:
            self._grace = True
            self.close_deadline_ns = now_ns + int(min(CLOSE_GRACE_S, self.close_timeout_s) * 1e9)
        elif self.close_deadline_ns is None:
            self.close_deadline_ns = now_ns + int(self.close_timeout_s * 1e9)

    def close_info(self, *, aborted: bool, timed_out: bool, lost_detail: str) -> CloseInfo:
        """How the open connection ended, once the stream is gone: ``aborted`` by us, after the close
        deadline passed (``timed_out``), or otherwise; ``lost_detail`` says why the stream ended."""
        info = self._close_info(aborted, timed_out, lost_detail)
        if self._proto.side is not SERVER:
            return info
        failure = info.failure
        return replace(info, peer="client", failure=None if failure is None else replace(failure, peer="client"))

    def _close_info(self, aborted: bool, timed_out: bool, lost_detail: str) -> CloseInfo:
        proto = self._proto
        rcvd, sent = proto.close_rcvd, proto.close_sent
        exc = proto.parser_exc
        if aborted:  # our close frame, when one went out before the drop (the app quitting), is the end's code
            ours, our_reason = self._sent_close or (None, "")
            return CloseInfo(code=ours, reason=our_reason, by_peer=False, clean=False)
        if exc is not None and not isinstance(exc, EOFError):
            return CloseInfo(code=int(sent.code) if sent is not None else None,
                             reason=sent.reason if sent is not None else "", by_peer=False, clean=False,
                             failure=self._parser_failure(exc))
        if timed_out and rcvd is None:  # our close frame was never answered
            detail = (f"no close frame came back within {self.close_timeout_s:g} s of ours; the connection "
                      "was dropped")
            ours, our_reason = self._sent_close or (None, "")
            return CloseInfo(code=ours, reason=our_reason, by_peer=False, clean=False,
                             failure=Failure(FailureKind.CLOSE_TIMEOUT, detail=detail,
                                             timeout_s=self.close_timeout_s))
        if rcvd is not None:
            code = None if rcvd.code == CloseCode.NO_STATUS_RCVD else int(rcvd.code)
            by_peer = not self._we_closed or bool(proto.close_rcvd_then_sent)
            if not by_peer and self._sent_close is not None:
                ours, our_reason = self._sent_close
                reply = None if code == ours else (code, rcvd.reason)
                return CloseInfo(code=ours, reason=our_reason, by_peer=False, clean=True, reply=reply)
            return CloseInfo(code=code, reason=rcvd.reason, by_peer=True, clean=True)
        return CloseInfo(code=1006, reason="", by_peer=True, clean=False,
                         failure=Failure(FailureKind.CONNECTION_LOST, detail=lost_detail))

    def _parser_failure(self, exc: BaseException) -> Failure:
        # the protocol answers a broken frame with a close frame, unless ours had already gone out
        answered = self._sent_close is None

        def closed_with(code: int, name: str) -> str:
            return f"; closed with {code} ({name})" if answered else "; the connection was already closing"

        peer = "the client" if self._proto.side is SERVER else "the server"
        if isinstance(exc, ws_errors.PayloadTooBig):
            # the library raises it without a size when inflating passes the limit
            inflated_from = self._rejected_length if exc.size is None else None
            return Failure(FailureKind.MESSAGE_TOO_BIG, detail=str(exc) + closed_with(1009, "message too big"),
                           limit=self._proto.max_message_size, inflated_from=inflated_from)
        if isinstance(exc, UnicodeDecodeError):
            what = "text" if self._proto.invalid_text is not None else "a close reason"
            return Failure(FailureKind.PROTOCOL, detail=f"{peer} sent {what} that is not valid UTF-8 "
                           f"({exc.reason})" + closed_with(1007, "invalid data"))
        if isinstance(exc, ws_errors.ProtocolError):
            what = describe_violation(exc, self._proto.head, self._proto.close_payload, peer)
            return Failure(FailureKind.PROTOCOL, detail=what + closed_with(1002, "protocol error"))
        return Failure(FailureKind.PROTOCOL,
                       detail=f"{type(exc).__name__}: {exc}" + closed_with(1011, "internal error"))
