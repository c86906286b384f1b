"""The recording reverse proxy: each client that connects to the local port gets an upstream hop of its own,
both hops recorded as one session (``core/proxy``), messages forwarded both ways through the breakpoints.

``ProxiedClient`` is one client and its upstream hop: the client's upgrade waits until the upstream's answer
(its choice of subprotocol goes back to the client; a refusal or failure is answered with an HTTP error naming
it), then each whole message read on one hop is offered to the breakpoints and sent on the other, a close goes
on with its code behind the messages held before it, a client hop that dies takes the upstream's with it, and an
upstream hop that fails is the client's close 1014. ``ProxyController`` (:mod:`wsinspector.app.proxy_server`)
listens and keeps them.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.app.auth import PreConnect
from wsinspector.app.connection import FLUSH_INTERVAL_MS, WINDOW_BYTES, WINDOW_FRAMES, WRITER_POLL_MS
from wsinspector.app.recording import SAVE_BUDGET_S, LogRecording
from wsinspector.core.auth import checked_target, needs_requests, prepared_target
from wsinspector.core.chunks import OPEN_BYTES, OPEN_FRAMES
from wsinspector.core.events import CloseInfo, Failure, OpenInfo
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.handshake import HANDSHAKE_EVENT, placeholders_for
from wsinspector.core.log import FrameLog
from wsinspector.core.model import header
from wsinspector.core.profiles import ConnectionProfile, ProfileError, ResolvedTarget
from wsinspector.core.proxy import PROXY_EVENT
from wsinspector.core.proxy.breakpoints import Breakpoints, BreakRule, Held, Release
from wsinspector.core.proxy.forwarding import (
    Refusal,
    close_for,
    close_for_failed,
    refusal_for,
    upstream_profile,
    upstream_url,
)
from wsinspector.core.redact import REDACTED, subprotocol_secrets, url_secrets
from wsinspector.core.secrets import masked, secret_values
from wsinspector.core.store import SessionStatus, Store, StoreError
from wsinspector.core.words import counted, shortened
from wsinspector.net.hop_thread import OUTBOX_MOST
from wsinspector.net.relay import Relay
from wsinspector.net.wire import WireConnection
from wsinspector.net.wire_server import ClientRequest, ServerClient

if TYPE_CHECKING:
    from wsinspector.core.wire.sinks import FrameSink, WholeInSink
    from wsinspector.net.pump import WirePump

log = logging.getLogger(__name__)

_IN, _OUT = Direction.IN, Direction.OUT
#: a proxy's new frames wait at most this long for the store while fewer than a chunk's worth have come (what
#: a crash can lose beyond the writer's queue)
SAVE_AT_LEAST_S = 0.5
_TEXT, _CONTINUATION = Opcode.TEXT, Opcode.CONTINUATION


#: what the header bits of a frame say of forwarding it, by those bits: (opcode, fin) of a data frame read on
#: either hop, None for a frame not forwarded (written by us, a control frame, a damaged one)
_KINDS: dict[int, tuple[Opcode, bool] | None] = {}


def _kind(meta: int) -> tuple[Opcode, bool] | None:
    opcode = header.opcode(meta)
    if header.is_out(meta) or opcode.is_control or header.damaged(meta):
        return None
    return opcode, header.fin(meta) is not False


class ProxiedClient(QObject, LogRecording):
    """One client of the proxy and its upstream hop, recorded as one session.

    Signals: ``paused(Held)`` a message waits for a decision; ``said(str)`` a line about what happened (the
    client came, the upstream opened or refused, a hop closed, a message paused, forwarded, dropped), and
    ``told(str, dict)`` the same as an event name and its fields (``wsinspector proxy --json``; not for a
    pause, which ``paused`` tells);
    ``finished()`` both hops are closed and the session is saved; ``frames_appended(first, last)`` the seqs
    added to :attr:`log` since the last flush (every 50 ms), for a view of it."""

    frames_appended = Signal(int, int)
    paused = Signal(object)
    said = Signal(str)
    told = Signal(str, object)
    finished = Signal()

    def __init__(self, downstream: ServerClient, url: str, profile: ConnectionProfile, breakpoints: Breakpoints,
                 store: Store | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.peer = downstream.peer
        #: the upstream URL clients are forwarded to (a client's path other than "/" is added to it)
        self.forward_to = url
        self.profile = profile
        self.breakpoints = breakpoints
        self.log = FrameLog()
        self._store = store
        self.session_id: int | None = None
        #: the session this client's hops were recorded as (None: not recorded)
        self.recorded: int | None = None
        self.recording_error = ""
        self._saved = 0
        self._packed = 0
        #: when frames were last handed to the store (see _worth_saving)
        self._saved_at = 0.0
        #: the next seq to look at for whole messages read on either hop
        self._scanned = 0
        #: the frames of :attr:`log` announced by ``frames_appended``
        self._announced = 0
        self.downstream = downstream
        self.upstream: WireConnection | None = None
        self._client_open = False
        self._upstream_open = False
        self._client_done = False
        self._upstream_done = False
        self._done = False
        #: which hops are not read for now (client, upstream): neither while the store is far behind, and one
        #: while the other has more than OUTBOX_MOST waiting for its peer to read
        self._holding = (False, False)
        #: both hops go on threads once Qt has written what it had for them (see _relay_on_threads)
        self._relay_pending = False
        #: per direction: the message under way is forwarded frame by frame (it started with no breakpoint set)
        self._streaming = {_IN: False, _OUT: False}
        #: per direction: a message forwarded frame by frame has not had its last frame yet
        self._mid = {_IN: False, _OUT: False}
        #: per direction: frames forwarded this turn wait with that hop's engine for its flush
        self._unwritten = {_IN: False, _OUT: False}
        #: per direction: messages let go toward a hop that had begun closing, never sent (said at the end)
        self._undelivered = {_IN: 0, _OUT: 0}
        #: per direction: the close (code, reason) that goes to that hop once the messages held toward it are
        #: sent or dropped (the other hop closed while the breakpoints held them: the close waits behind them)
        self._close_after: dict[Direction, tuple[int | None, str] | None] = {_IN: None, _OUT: None}
        self._secrets: set[str] = set()
        self._url = ""
        self._upstream_profile: ConnectionProfile | None = None
        self._pre_connect: PreConnect | None = None
        self._flush_timer = QTimer(self)
        self._flush_timer.setObjectName("proxy-flush")
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)
        #: while the hops are held for the store, it is looked at every WRITER_POLL_MS: reading goes on as soon
        #: as the writer thread has caught up, not at the next flush
        self._store_poll = QTimer(self)
        self._store_poll.setObjectName("proxy-store-poll")
        self._store_poll.setSingleShot(True)
        self._store_poll.setInterval(WRITER_POLL_MS)
        self._store_poll.timeout.connect(self._flush)
        #: the payloads of the data frames read since the last look, by seq, as the engine reported them: they
        #: are forwarded as they are, not copied back out of the log
        self._read: dict[int, bytes] = {}
        #: both hops read on threads of their own, once both are open (None: through Qt's event loop)
        self._relay: Relay | None = None
        downstream.attach(*self._reading(self.log.append_fields, self.log.append_whole_in))
        downstream.requested.connect(self._on_requested)
        downstream.opened.connect(self._on_client_opened)
        downstream.received.connect(self._forward_new)
        downstream.closed.connect(self._on_client_closed)
        downstream.failed.connect(self._on_client_failed)
        downstream.cancelled.connect(self._on_client_cancelled)

    # -- the upstream hop ---------------------------------------------------------------------------

    @Slot(object)
    def _on_requested(self, request: ClientRequest) -> None:
        """The client asked to upgrade: its answer waits while its upstream hop opens with its offer."""
        if not self.downstream.acceptable:  # the library's refusal goes out: no upstream for a request no server takes
            self.downstream.accept()
            return
        self.downstream.hold()
        url = upstream_url(self.forward_to, request.path)
        profile = upstream_profile(self.profile, url, request.headers, request.subprotocols)
        self._upstream_profile = profile
        # every secret value of the saved connection, and a token in either URL, stays out of what is recorded
        # and said
        self._secrets = ({value for value in secret_values(profile).values() if value} | url_secrets(url)
                         | subprotocol_secrets(request.subprotocols))
        self._start_recording(profile)
        shown = shortened(masked(request.path, self._secrets, REDACTED))
        self._say(f"{self.peer}: client asks for {shown}", "request", path=request.path)
        self._event(PROXY_EVENT, f"client {self.peer} -> {masked(url, self._secrets, REDACTED)}")
        self._flush_timer.start()
        self._url = url
        try:
            checked_target(profile)  # a setting that cannot work is found before anything is sent
            if needs_requests(profile.auth):  # a login or a token first, then the upstream hop
                self._pre_connect = PreConnect(parent=self)
                self._pre_connect.ready.connect(lambda captured, token: self._open_engine(
                    prepared_target(profile, captured, token)))
                self._pre_connect.failed.connect(self._on_pre_connect_failed)
                self._pre_connect.start(profile)
                return
            self._open_engine(prepared_target(profile, {}, ""))
        except ProfileError as exc:
            self._on_pre_connect_failed(str(exc))

    def _on_pre_connect_failed(self, message: str) -> None:
        self._upstream_done = True
        self._refuse(Refusal(502, "Bad Gateway", f"wsinspector proxy: the upstream hop cannot be opened: {message}"))

    def _open_engine(self, target: ResolvedTarget) -> None:
        sink, whole_in = self._reading(*self.log.upstream_sinks())
        upstream = WireConnection(self, sink=sink, whole_in=whole_in)
        upstream.opened.connect(self._on_upstream_opened)
        upstream.failed.connect(self._on_upstream_failed)
        upstream.cancelled.connect(self._on_upstream_cancelled)
        upstream.closed.connect(self._on_upstream_closed)
        upstream.received.connect(self._forward_new)
        self.upstream = upstream
        upstream.open(target)

    @Slot(object)
    def _on_upstream_opened(self, info: OpenInfo) -> None:
        self._upstream_open = True
        assert self.upstream is not None
        self.upstream.send_at_once()
        self._keep_upstream_handshake(101, info.reason, info.response_headers)
        chosen = f" (subprotocol {info.subprotocol})" if info.subprotocol else ""
        request = self.downstream.request
        self._say(f"{self.peer}: upstream open{chosen}", "open", path=request.path if request else "",
                  subprotocol=info.subprotocol, extensions=info.extensions)
        self._accept_client(info.subprotocol)

    @Slot(object)
    def _on_upstream_failed(self, failure: Failure) -> None:
        self._upstream_done = True
        self._keep_upstream_handshake(failure.http_status, failure.http_reason, failure.response_headers,
                                      failure.response_body, failure.body_size)
        if self._client_done:  # the client went first: nothing to answer
            self._end_if_both_done()
            return
        self._refuse(refusal_for(failure, shortened(masked(self._url, self._secrets, REDACTED))))

    @Slot()
    def _on_upstream_cancelled(self) -> None:
        self._upstream_done = True
        self._end_if_both_done()

    @Slot(object)
    def _on_upstream_closed(self, info: CloseInfo) -> None:
        self._upstream_open = False
        self._upstream_done = True
        self._close_after[_OUT] = None
        self._read_all()
        self._say(f"{self.peer}: upstream closed: {info.message}", "closed", hop="upstream", code=info.code,
                  reason=info.reason, message=info.message)
        self._drop_held(_OUT, "the upstream hop closed")
        if info.by_peer or not info.clean:
            # a close from the upstream goes on with its code; a failed upstream hop is the client's 1014
            code, reason = (info.code, info.reason) if info.clean else close_for_failed(info.failure)
            if self._waits_for_release(_IN):
                self._close_after[_IN] = (code, reason)
            else:
                self._close_client(code, reason)
        self._end_if_both_done()

    def _close_upstream(self, code: int | None, reason: str) -> None:
        """The client's hop ended: the upstream's follows (with the code the client closed with)."""
        upstream = self.upstream
        if upstream is None or self._upstream_done:
            if self._pre_connect is not None and self._pre_connect.running:
                self._pre_connect.abort()
            if upstream is None:  # never opened (the client went before its request was forwarded): nothing to wait for
                self._upstream_done = True
            return
        with_frame, code = close_for(code)
        if with_frame and self._upstream_open:
            upstream.close(code, reason)
        else:
            upstream.abort()

    # -- the client hop -----------------------------------------------------------------------------

    def _keep_upstream_handshake(self, status: int | None, reason: str,
                                 headers: tuple[tuple[str, str], ...] | None, body: bytes = b"",
                                 body_size: int | None = None) -> None:
        """The upstream hop's opening handshake as a session event (``core/handshake.py``), without secrets."""
        request = self.upstream.request_sent if self.upstream is not None else None
        if request is None or self._upstream_profile is None:
            return  # the request never went out
        own = self._upstream_profile.handshake
        placeholders = placeholders_for(own.headers, own.secret_headers, self._upstream_profile.secret_variables)
        handshake = replace(request, placeholders=placeholders).answered(status, reason, headers, body, body_size)
        self._event(HANDSHAKE_EVENT, handshake.without_secrets(self._secrets).to_json())

    def _keep_client_handshake(self) -> None:
        """The client's opening request and our answer as a session event, without secrets (credentials by
        their name): the session's last handshake, which ``wsinspector handshake`` shows."""
        handshake = self.downstream.handshake
        if handshake is not None:
            self._event(HANDSHAKE_EVENT, handshake.without_secrets(self._secrets).to_json())

    def _accept_client(self, subprotocol: str) -> None:
        if not self._client_done:
            self.downstream.accept(subprotocol or None)
            self._keep_client_handshake()

    @Slot(object)
    def _on_client_opened(self, _info: OpenInfo) -> None:
        self._client_open = True
        self.downstream.send_at_once()
        if self.upstream is not None:  # once our 101 is written (this is called from inside the answer)
            QTimer.singleShot(0, self, self._relay_on_threads)

    @Slot()
    def _relay_on_threads(self) -> None:
        """Both hops open over plain TCP: each is read on a thread that forwards what it reads at once
        (:mod:`wsinspector.net.relay`), rather than on the window's event loop, a turn of it per hop."""
        upstream = self.upstream
        self._relay_pending = False
        if upstream is None or self._relay is not None or not (self._client_open and self._upstream_open):
            return
        self._forward_new()  # what Qt read before goes on first
        sinks = (self.log.append_fields, self.log.append_whole_in)
        # read on the client hop: toward the upstream (out); on the upstream hop: toward the client (in)
        under_way = {_OUT: self.log.incoming_so_far(), _IN: self.log.incoming_so_far(upstream=True)}
        self._relay = Relay.take(self.downstream, upstream, sinks, self.log.upstream_sinks(), self._offer,
                                 self._streaming, self._mid, under_way)
        if self._relay is not None:
            self._gate()
            self._relay.run()
        elif self.downstream.can_run_on_thread(now=False) and upstream.can_run_on_thread(now=False):
            self._relay_pending = True  # Qt still writes to one of them: again at the next flush

    @Slot(object)
    def _on_client_closed(self, info: CloseInfo) -> None:
        self._client_open = False
        self._client_done = True
        self._close_after[_IN] = None
        self._read_all()
        self._say(f"{self.peer}: client closed: {info.message}", "closed", hop="client", code=info.code,
                  reason=info.reason, message=info.message)
        self._drop_held(_IN, "the client's hop closed")
        if info.by_peer or not info.clean:  # the client closed, or its hop died: the upstream follows
            if info.clean and self._waits_for_release(_OUT):  # behind the messages it sent before its close
                self._close_after[_OUT] = (info.code, info.reason)
            else:
                self._drop_held(_OUT, "the client's hop died")
                self._close_upstream(info.code if info.clean else 1006, info.reason)
        self._end_if_both_done()

    def _read_all(self) -> None:
        """A hop has ended: every message read before its end goes to the breakpoints or on now, before the end
        is carried to the other hop."""
        if self._relay is not None:
            self._relay.drain()
        self._forward_new()

    def _waits_for_release(self, toward: Direction) -> bool:
        """Whether messages toward that hop are held, or handed to the breakpoints and not offered yet: a close
        going that way waits behind them."""
        relay = self._relay
        return bool(self.breakpoints.held(toward) or (relay is not None and relay.offers[toward]))

    def _close_when_released(self) -> None:
        """The close that waited behind held messages goes once none is left that way."""
        for toward in (_OUT, _IN):
            pending = self._close_after[toward]
            if pending is None or self._waits_for_release(toward):
                continue
            self._close_after[toward] = None
            if toward is _OUT:
                self._close_upstream(*pending)
            else:
                self._close_client(*pending)
        self._end_if_both_done()

    def _drop_held(self, toward: Direction, why: str) -> None:
        """The hop messages ``toward`` go to is gone: what the breakpoints hold for it is dropped, each paused
        message said, those behind them counted."""
        for held in self.breakpoints.discard(toward):
            if held.rule is None:
                self._undelivered[toward] += 1
            else:
                self._say(f"{self.peer}: dropped #{held.id}: {why}", "dropped", id=held.id, edited=held.edited,
                          reason=why)

    @Slot(object)
    def _on_client_failed(self, failure: Failure) -> None:
        if self._client_done:
            return
        self._client_done = True
        self._say(f"{self.peer}: client gone before it opened: {failure.message}", "failed", hop="client",
                  message=failure.message)
        self._close_upstream(None, "")
        self._end_if_both_done()

    @Slot()
    def _on_client_cancelled(self) -> None:
        self._client_done = True
        self._close_upstream(None, "")
        self._end_if_both_done()

    def _refuse(self, refusal: Refusal) -> None:
        self._say(f"{self.peer}: refused with HTTP {refusal.status}: {refusal.body}", "refused",
                  status=refusal.status, message=refusal.body)
        self._event(PROXY_EVENT, f"answered the client HTTP {refusal.status} {refusal.reason}: {refusal.body}")
        done, self._client_done = self._client_done, True
        if not done:
            self.downstream.refuse(refusal.status, (("Content-Type", "text/plain; charset=utf-8"),),
                                   refusal.body.encode() + b"\n")
            self._keep_client_handshake()
        self._end_if_both_done()

    def _close_client(self, code: int | None, reason: str = "") -> None:
        """The upstream's hop ended: the client's follows (with the code the upstream closed with)."""
        if self._client_done:
            return
        with_frame, code = close_for(code)
        if with_frame and self._client_open:
            self.downstream.close(code, reason)
        else:
            self.downstream.drop()

    # -- forwarding ---------------------------------------------------------------------------------

    def _reading(self, sink: FrameSink, whole_in: WholeInSink) -> tuple[FrameSink, WholeInSink]:
        """A hop's sinks, which also keep the payload of each data frame read for :meth:`_forward_new`."""
        log_, read = self.log, self._read

        def frame(direction: Direction, opcode: Opcode, payload: bytes, *fields: Any) -> object:
            if direction is _IN and type(payload) is bytes:
                read[len(log_)] = payload
            return sink(direction, opcode, payload, *fields)

        def whole(meta: int, payload: bytes, ts_ns: int) -> object:
            if type(payload) is bytes:
                read[len(log_)] = payload
            return whole_in(meta, payload, ts_ns)

        return frame, whole  # type: ignore[return-value]

    @Slot()
    def _forward_new(self) -> None:
        """The data frames read on either hop since the last look, sent on to the other hop. Without
        breakpoints (and nothing held) each frame goes on as it comes, fragments kept as the sender cut them;
        else each whole message is offered to the breakpoints, and sent on or paused."""
        if self._relay is not None:  # the threads forward
            return
        log_, read = self.log, self._read
        first, end = self._scanned, len(log_)
        self._scanned = end
        for seq in range(first, end):
            meta = log_.meta(seq)
            try:
                kind = _KINDS[meta]
            except KeyError:
                kind = _KINDS[meta] = _kind(meta)
            # not a data frame read; or one with a note, which the engine refused as it fails the connection:
            # shown, never sent on
            if kind is None or log_.note(seq):
                continue
            opcode, fin = kind
            # read on the upstream hop: on its way to the client (in); on the client hop: to the upstream (out)
            toward = _IN if header.upstream(log_.origin(seq)) else _OUT
            if opcode is not _CONTINUATION:  # a message starts: frame by frame, or whole through the breakpoints
                self._streaming[toward] = not self.breakpoints.rules and not self.breakpoints.held(toward)
            if self._streaming[toward]:
                self._mid[toward] = not fin
                payload = read.get(seq)
                self._send_frame(toward, opcode, log_.payload(seq) if payload is None else payload, fin)
                continue
            message = log_.message_for(seq)
            if message is not None and message.last_seq == seq:
                self._paused(self._offer_read(toward, message.opcode, message.payload))
        read.clear()
        # what this turn forwarded goes out now, in one write per hop, not once the event loop comes round
        if self._unwritten[_IN]:
            self._unwritten[_IN] = False
            self.downstream.flush()
        if self._unwritten[_OUT] and self.upstream is not None:
            self._unwritten[_OUT] = False
            self.upstream.flush()

    def _offer_read(self, toward: Direction, opcode: Opcode, payload: bytes) -> Release | Held | None:
        """A whole message read on one hop, to the breakpoints: sent on, or paused (said); None when the hop it
        goes to has begun closing (nothing more pauses for it: counted as not sent)."""
        if self._hop_toward(toward) is None:
            self._undelivered[toward] += 1
            return None
        result = self.breakpoints.offer(toward, opcode, payload)
        if isinstance(result, Release):
            self.send_release(result)
        return result

    def _paused(self, result: Release | Held | None) -> None:
        if isinstance(result, Held) and result.rule is not None:
            self._say(f"{self.peer}: paused {result.direction.value} #{result.id} ({result.rule.describe()})")
            self.paused.emit(result)

    def _send_frame(self, toward: Direction, opcode: Opcode, payload: bytes, fin: bool) -> None:
        try:
            if toward is _OUT:
                if self.upstream is not None and self._upstream_open:
                    self._unwritten[_OUT] = True
                    self.upstream.send_frame(opcode, payload, fin, later=True)
            elif self._client_open:
                self._unwritten[_IN] = True
                self.downstream.send_frame(opcode, payload, fin, later=True)
        except RuntimeError as exc:  # the hop is closing: what it cannot take is lost with it
            log.info("not forwarded: %s", exc)

    def _offer(self, toward: Direction, opcode: Opcode, payload: bytes) -> None:
        """A whole message a hop's thread handed to the breakpoints: sent on, or paused."""
        relay = self._relay
        assert relay is not None
        with relay.lock(toward):
            relay.offers[toward] -= 1
            result = self._offer_read(toward, opcode, payload)
            self._gate()
        self._paused(result)
        if self._close_after[toward] is not None:
            self._close_when_released()

    def _gate(self) -> None:
        """Tell the hops' threads which directions the breakpoints want whole (a rule, or a message held)."""
        relay = self._relay
        if relay is None:
            return
        for toward in (_IN, _OUT):
            with relay.lock(toward):
                relay.gated[toward] = bool(self.breakpoints.rules) or self.breakpoints.held(toward) > 0

    def set_rules(self, rules: list[BreakRule]) -> None:
        """The breakpoints' rules from now on (messages paused by a rule no longer given go on)."""
        for release in self.breakpoints.set_rules(rules):
            self.send_release(release)
        self._gate()
        self._close_when_released()

    def _hop_toward(self, toward: Direction) -> WirePump | None:
        """The hop messages ``toward`` go to (``out``: the upstream's), None once it has begun closing."""
        pump: WirePump | None = ((self.upstream if self._upstream_open else None) if toward is _OUT
                                 else (self.downstream if self._client_open else None))
        return pump if pump is not None and pump.can_send else None

    def send_release(self, release: Release) -> None:
        """Send a message the breakpoints let go: ``out`` to the upstream, ``in`` to the client. Toward a hop
        that has begun closing it cannot go: a paused one is said dropped, the others are counted (said when
        the session ends)."""
        pump = self._hop_toward(release.direction)
        if pump is not None:
            try:
                pump.send(release.payload, release.opcode is _TEXT)
                return
            except RuntimeError:  # its thread read a close since: what it cannot take is lost with it
                pass
        if release.id and release.action in ("forwarded", "edited"):
            hop = "upstream" if release.direction is _OUT else "client's"
            self._say(f"{self.peer}: dropped #{release.id}: the {hop} hop has closed", "dropped", id=release.id,
                      edited=release.action == "edited", reason=f"the {hop} hop has closed")
        else:
            self._undelivered[release.direction] += 1

    def decide(self, message_id: int, action: str, payload: bytes | None = None) -> None:
        """The user's decision on a paused message: "forward" (``payload``: edited), or "drop". BreakpointError
        when it is not paused."""
        releases = (self.breakpoints.drop(message_id) if action == "drop"
                    else self.breakpoints.forward(message_id, payload))
        done = "dropped" if action == "drop" else "forwarded"
        self._say(f"{self.peer}: {done} #{message_id}", done, id=message_id, edited=payload is not None)
        for release in releases:
            self.send_release(release)
        self._gate()
        self._close_when_released()

    def inject(self, direction: Direction, opcode: Opcode, payload: bytes) -> None:
        """A message of the user's own: ``out`` to the upstream server, ``in`` to the client. ValueError while a
        fragmented message is under way that way (it cannot be cut)."""
        relay = self._relay
        if relay is not None:
            relay.drain()  # messages read before it are offered to the breakpoints first
        with relay.lock(direction) if relay is not None else nullcontext():
            if self._mid[direction]:
                raise ValueError("a fragmented message is being forwarded that way: inject once it has ended")
            if self._hop_toward(direction) is None:
                hop = "upstream" if direction is _OUT else "client's"
                raise ValueError(f"the {hop} hop is closed or closing: nothing more can be sent on it")
            self.send_release(self.breakpoints.inject(direction, opcode, payload))

    @property
    def held(self) -> list[Held]:
        return self.breakpoints.paused

    # -- the end ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop: both hops close (1001 going away; one not open yet is dropped), the session is saved; what the
        breakpoints hold is dropped."""
        self._close_after = {_IN: None, _OUT: None}
        for toward in (_OUT, _IN):
            self._drop_held(toward, "the proxy stopped")
        self._close_client(1001, "proxy stopped")
        self._close_upstream(1001, "proxy stopped")

    def drop(self) -> None:
        """Drop both hops at once (quitting); the session is saved before this returns."""
        if not self._client_done:
            self.downstream.drop()
            self._client_done = True
        if self.upstream is not None and not self._upstream_done:
            self.upstream.abort()
        self._upstream_done = True
        self._end_if_both_done()

    def _end_if_both_done(self) -> None:
        if self._done or not (self._client_done and self._upstream_done):
            return
        self._done = True
        self._flush_timer.stop()
        self._store_poll.stop()
        for toward in (_OUT, _IN):
            self._drop_held(toward, "both hops have closed")
        self._flush()
        for toward, count in self._undelivered.items():
            if count:
                hop = "upstream" if toward is _OUT else "client"
                self._say(f"{self.peer}: {counted(count, 'message')} to the {hop} not sent: its hop had begun "
                          "closing", "undelivered", direction=toward.value, messages=count)
        self._finish_recording()
        self.finished.emit()

    # -- recording ----------------------------------------------------------------------------------

    def _start_recording(self, profile: ConnectionProfile) -> None:
        if self._store is None:
            return
        try:
            url = masked(profile.endpoint.url, self._secrets, REDACTED)
            self.session_id = self._store.create_session(f"proxy {self.peer}", url, self.log.started_wall,
                                                         self.log.started_ns, profile.id if profile.name else None)
            self.recorded = self.session_id
        except StoreError as exc:
            self._recording_failed(str(exc))

    def _finish_recording(self) -> None:
        if self._store is None or self.session_id is None:
            return
        session_id, self.session_id = self.session_id, None
        self._finish_stored(session_id, SessionStatus.CLOSED)

    def _recording_failed(self, error: str) -> None:
        self.recording_error = error
        self._say(f"{self.peer}: recording stopped: {error}; forwarding goes on "
                  f"({counted(self._saved, 'frame')} saved)", "problem", message=f"recording stopped: {error}",
                  frames_saved=self._saved)

    @Slot()
    def _flush(self) -> None:
        """Every 50 ms: the new frames to the store (a couple of milliseconds' worth; a writer thread commits
        them when the store has one), the log's memory bounded; while the store is far behind, neither hop is
        read (TCP holds both peers back)."""
        if self._relay is not None:
            self._relay.drain()
            if self._done:
                self._relay.detach()
        log_ = self.log
        last = len(log_) - 1
        if last >= 0:
            if self._done:
                self._save_frames(last)
            elif self._worth_saving(last):
                self._saved_at = time.monotonic()
                self._save_frames_within(last, SAVE_BUDGET_S)
            else:
                self._take_stored()
        if last >= self._announced:
            first, self._announced = self._announced, last + 1
            self.frames_appended.emit(first, last)
        log_.keep_window(WINDOW_FRAMES, WINDOW_BYTES, self._releasable(last), self._saved)
        behind = not self._done and self._behind_store
        relay = self._relay
        # what the breakpoints let go is sent from this thread, which never waits for a peer to read: the hop
        # it comes from is held instead
        holding = (behind or (relay is not None and not self._done and relay.backlogged(_OUT, OUTBOX_MOST)),
                   behind or (relay is not None and not self._done and relay.backlogged(_IN, OUTBOX_MOST)))
        if holding != self._holding:
            self._holding = holding
            self.downstream.hold_reading(holding[0])
            if self.upstream is not None:
                self.upstream.hold_reading(holding[1])
        if behind:
            self._store_poll.start()
        if self._relay_pending and not self._done:
            self._relay_on_threads()

    def _worth_saving(self, last: int) -> bool:
        """Whether the frames not handed to the store yet, through ``last``, go now: enough of them for a chunk
        that is not left open, or they have waited ``SAVE_AT_LEAST_S``. (Each flush handing over a few frames
        packed the chunk the last one left open again with them: a round trip's four frames made each flush
        of a proxy under steady traffic repack and rewrite up to 256 frames.)"""
        new = last + 1 - self._packed
        if new <= 0:
            return False
        return (new >= OPEN_FRAMES or time.monotonic() - self._saved_at >= SAVE_AT_LEAST_S
                or self.log.payload_bytes_from(self._packed) >= OPEN_BYTES)

    def _say(self, text: str, event: str = "", **fields: object) -> None:
        """A line about what happened, and as ``event`` with its ``fields`` (the peer and the session's id
        added), without a secret in either."""
        self.said.emit(masked(text, self._secrets, REDACTED))
        if event:
            told = {name: masked(value, self._secrets, REDACTED) if isinstance(value, str) else value
                    for name, value in fields.items()}
            self.told.emit(event, {"peer": self.peer, **told, "session": self.recorded})
