"""The live session: one connection, its frame log, recording to the store, batched updates for the views."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeGuard

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.app.auth import PreConnect
from wsinspector.app.composing import Composing
from wsinspector.app.preload import preload
from wsinspector.app.protocol import ProtocolDriver
from wsinspector.app.recording import SAVE_BUDGET_S, LogRecording
from wsinspector.core.auth import checked_target, needs_requests, prepared_target, shown_url
from wsinspector.core.connection_defaults import ConnectionDefaults, applied, effective, proxy_source
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, FailureKind, OpenInfo
from wsinspector.core.frames import is_sendable_close_code
from wsinspector.core.handshake import HANDSHAKE_EVENT, Handshake, placeholders_for
from wsinspector.core.latency import PingPayloads
from wsinspector.core.log import FrameLog
from wsinspector.core.profiles import (
    ENGINE_WIRE,
    HEARTBEAT_CLOSE,
    HEARTBEAT_RECONNECT,
    ConnectionProfile,
    ProfileError,
    ResolvedTarget,
    backoff_delay,
)
from wsinspector.core.protocols.registry import offering_mode_subprotocols
from wsinspector.core.rates import Counters, RateMeter, Rates
from wsinspector.core.redact import REDACTED, redact_url
from wsinspector.core.secrets import masked, secret_values
from wsinspector.core.store import SessionStatus, Store, StoreError
from wsinspector.core.stored import StoredSession
from wsinspector.core.words import counted

if TYPE_CHECKING:
    from wsinspector.net.engines import Connection
    from wsinspector.net.wire import WireConnection

log = logging.getLogger(__name__)

FLUSH_INTERVAL_MS = 50
#: how often, while the store's writer thread has frames to commit, the controller looks at what it committed
WRITER_POLL_MS = 2
RATES_INTERVAL_MS = 500
#: the close frame an open connection gets when the app quits or its tab is closed: 1001, "going away"
#: (RFC 6455 7.4.1), with why
GOING_AWAY = 1001
QUIT_REASON = "wsinspector quit"
TAB_CLOSED_REASON = "tab closed in wsinspector"
#: the newest frames a live session keeps in memory, and at most this much of their payloads; it lets go of
#: older ones once it holds twice as many (recorded ones are read back from the store, the others are dropped)
WINDOW_FRAMES = 100_000
WINDOW_BYTES = 16 << 20

_P = ParamSpec("_P")


def _refusing(
    method: Callable[Concatenate[ConnectionController, _P], None],
) -> Callable[Concatenate[ConnectionController, _P], None]:
    """A slot for the user's action: what the controller refuses (ValueError, RuntimeError) goes to ``refused``
    with the reason, for the view that asked to show."""

    def slot(self: ConnectionController, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            method(self, *args, **kwargs)
        except (RuntimeError, ValueError) as exc:
            self.refused.emit(str(exc))

    slot.__doc__ = f"{method.__name__}, for a view: a refusal goes to ``refused``."
    return slot


class ConnectionController(QObject, LogRecording):
    """Owns the current connection, its :class:`FrameLog`, and its recording in the store.

    Frames enter the log the moment the engine reports them. Every ~50 ms one flush writes the new
    frames to SQLite in one transaction and tells the views about them as one contiguous range.

    Signals:
        state_changed(ConnectionState)
        session_started(): a new log replaced the previous one (views reset)
        frames_appended(int, int): first and last seq added since the previous flush
        frames_arrived(int, int): first and last seq added to the log since the last time, as they come (each
            turn of the Wire engine's reading; for the Qt engine, the turn of the event loop after its frames),
            stored or not: what answers frames (auto-replies, the protocol mode, an agent waiting for a
            message) reacts at once rather than at the next flush, after the store
        opened(OpenInfo)
        failed(Failure): the connection could not be opened
        closed(CloseInfo): an open connection ended
        recording_failed(str): frames can no longer be saved; the live view goes on
        session_saved(int): a recorded session ended (its id), e.g. to refresh the sessions list
        health_changed(bool, str): the heartbeat found the link healthy again, or not (with the reason)
        reconnecting(int, float): attempt number and the seconds until it starts
        event_added(int, str, str): a connection event (monotonic ns, kind, text) was added to the log
        rates_changed(Rates, float): frame and byte rates over the last second, every 0.5 s while open, and
            zero when it closes; with the seconds since the session began
        refused(str): an action asked through a ``request_…`` slot could not be done (why, for the user)
        handshake_changed(object): the opening handshake of the latest attempt (``handshake``), or None when a
            new session starts
    """

    state_changed = Signal(object)
    session_started = Signal()
    frames_appended = Signal(int, int)
    frames_arrived = Signal(int, int)
    opened = Signal(object)
    failed = Signal(object)
    closed = Signal(object)
    recording_failed = Signal(str)
    session_saved = Signal(int)
    health_changed = Signal(bool, str)
    reconnecting = Signal(int, float)
    event_added = Signal(object, str, str)  # monotonic ns do not fit a C int
    rates_changed = Signal(object, float)
    refused = Signal(str)
    handshake_changed = Signal(object)

    def __init__(self, store: Store | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.log = FrameLog()
        self.profile: ConnectionProfile | None = None
        self.session_id: int | None = None
        self.recording_error = ""
        self._connection: Connection | None = None
        self._state = ConnectionState.CLOSED
        self._flushed = 0
        #: the frames of the log told through ``frames_arrived``
        self._arrived = 0
        self._saved = 0
        self._packed = 0
        #: for the Qt engine, whose frames come through its sinks one by one: one ``frames_arrived`` a turn
        self._arrival = QTimer(self)
        self._arrival.setObjectName("sessionArrival")
        self._arrival.setSingleShot(True)
        self._arrival.setInterval(0)
        self._arrival.timeout.connect(self._announce_arrived)
        #: the Wire engine was told to stop reading until the store catches up
        self._holding = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setObjectName("sessionFlush")
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush_slice)
        #: a flush that could not store everything within its budget goes on at the next turn of the loop
        self._save_more = QTimer(self)
        self._save_more.setObjectName("sessionSaveMore")
        self._save_more.setSingleShot(True)
        self._save_more.setInterval(0)
        self._save_more.timeout.connect(self._save_backlog)
        self.healthy = True
        self._target: ResolvedTarget | None = None
        #: where the proxy of the current connection is set, for messages ("": its own settings)
        self._proxy_source = ""
        #: what a profile's ``{{variables}}`` resolve to (the app's: globals, the connection's, the active
        #: environment's); without it, the profile's own
        self.variables_source: Callable[[ConnectionProfile], dict[str, str]] | None = None
        #: the values of the secret variables of the layers over a profile (the globals, the active environment)
        self.secrets_source: Callable[[ConnectionProfile], Iterable[str]] | None = None
        #: the secret values of the current session: never shown or recorded (the URL, events, what opened)
        self.secret_values: set[str] = set()
        #: the app-wide TLS and proxy defaults a connect applies (``core/connection_defaults.py``); none without it
        self.defaults_source: Callable[[], ConnectionDefaults] | None = None
        #: the variables the current session was connected with (the composer's messages resolve them too)
        self.variables: dict[str, str] = {}
        #: the latest attempt's opening handshake, secrets included (``Handshake.without_secrets`` to show)
        self.handshake: Handshake | None = None
        self._user_closed = False
        self._ever_opened = False
        self._attempt = 0
        self._reconnect_timer = QTimer(self)
        self._reconnect_timer.setObjectName("reconnect")
        self._reconnect_timer.setSingleShot(True)
        self._reconnect_timer.timeout.connect(self._reconnect_now)
        self._pings = PingPayloads()
        self._heartbeat_reconnect = False
        self._heartbeat = QTimer(self)
        self._heartbeat.setObjectName("heartbeat")
        self._heartbeat.timeout.connect(self._on_heartbeat)
        self._rates = RateMeter()
        self._rates_timer = QTimer(self)
        self._rates_timer.setObjectName("rates")
        self._rates_timer.setInterval(RATES_INTERVAL_MS)
        self._rates_timer.timeout.connect(self._sample_rates)
        #: the requests before each connect (login, OAuth token); its token cache lasts as long as the connection
        self.pre_connect = PreConnect(parent=self)
        #: the connection's protocol mode (decoding.mode): its housekeeping and the composer's verbs
        self.protocol = ProtocolDriver(self)
        self.pre_connect.ready.connect(self._on_pre_connect_ready)
        self.pre_connect.failed.connect(self._on_pre_connect_failed)
        #: the counter of dynamic values, the composer's history, periodic sends and auto-replies
        self.composing = Composing(self, store)

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is ConnectionState.OPEN

    @property
    def outgoing_frame_size(self) -> int:
        return self._connection.outgoing_frame_size if self._connection else 512 * 1024

    def effective(self, profile: ConnectionProfile) -> ConnectionProfile:
        """``profile`` as it connects: with the app-wide TLS and proxy defaults applied."""
        return effective(profile, self.defaults_source() if self.defaults_source else None)

    def connect_to(self, profile: ConnectionProfile) -> bool:
        """Start a new session against ``profile`` (with the app-wide defaults applied: ``profile`` is then the
        connection as connected). False (and ``failed``) when its settings are invalid."""
        if self._state is not ConnectionState.CLOSED:
            raise RuntimeError("disconnect first")
        preload()  # the recording packs frames with numpy: imported on a thread before they arrive
        defaults = self.defaults_source() if self.defaults_source else None
        from_defaults = applied(profile, defaults)
        self._proxy_source = proxy_source(profile, defaults)
        profile = offering_mode_subprotocols(effective(profile, defaults))
        variables = self.variables_source(profile) if self.variables_source else dict(profile.variables)
        try:
            target: ResolvedTarget | None = checked_target(profile, variables)  # the requests' values stand in
        except ProfileError as exc:
            target, invalid = None, Failure(FailureKind.INVALID_TARGET, detail=str(exc))
        self.variables = variables
        self.secret_values = {value for value in (*secret_values(profile).values(),
                                                  *(self.secrets_source(profile) if self.secrets_source else ()))
                              if value}
        self._discard_connection()
        self.flush()
        self._finish_recording(SessionStatus.CLOSED, None, "")  # never leave a previous session 'live'
        self.profile = profile
        self.log = FrameLog()
        self._flushed = self._arrived = self._saved = self._packed = 0
        self._arrival.stop()
        self._open_chunk = None
        self.recording_error = ""
        self.session_id = None
        self.handshake = None
        self.handshake_changed.emit(None)
        if target is None:  # nothing is sent: the views show this connection's empty log, and why
            self._target = None
            self.session_started.emit()
            self.failed.emit(invalid)
            return False
        self.healthy = True
        self._target = target
        self._user_closed = False
        self._ever_opened = False
        self._attempt = 0
        self._rates.reset()
        self._start_recording(profile, shown_url(profile, variables))
        if from_defaults:
            self._event("defaults", f"app-wide connection defaults: {'; '.join(from_defaults)}")
        if target.url.lower().startswith("wss:") and not target.tls.verify:
            self._event("tls", "the server's certificate is not verified: any certificate is accepted")
        self.session_started.emit()
        self._open_connection()
        return True

    @property
    def is_reconnecting(self) -> bool:
        """Waiting for, or making, an automatic reconnect attempt."""
        return self._reconnect_timer.isActive() or (self._attempt > 0 and self._state is ConnectionState.CONNECTING)

    def cancel_reconnect(self) -> None:
        """The user gives up waiting: the session ends here."""
        if self.pre_connect.running:
            self._stop_pre_connect()
        elif self._reconnect_timer.isActive():
            self._reconnect_timer.stop()
            self._attempt = 0
            self._finish_recording(SessionStatus.CLOSED, None, "reconnecting cancelled")
        elif self._connection is not None:
            self._user_closed = True
            self._connection.close()

    def _open_connection(self) -> None:
        """Open the engine's connection, after the requests the profile's auth makes first (each attempt)."""
        assert self._target is not None
        self._discard_connection()
        if self.profile is not None and needs_requests(self.profile.auth):
            try:
                self.pre_connect.start(self.profile, self.variables)
            except ProfileError as exc:
                self._on_pre_connect_failed(str(exc))
                return
            self._state = ConnectionState.CONNECTING
            self.state_changed.emit(self._state)
            return
        self._open_engine()

    @Slot(object, str)
    def _on_pre_connect_ready(self, captured: dict[str, str], access_token: str) -> None:
        assert self.profile is not None
        # what a login captured (a session token) and an OAuth token are secrets of this session
        self.secret_values |= {value for value in (*captured.values(), access_token) if value}
        try:
            self._target = prepared_target(self.profile, captured, access_token, self.variables)
        except ProfileError as exc:
            self._on_pre_connect_failed(str(exc))
            return
        self._open_engine()

    @Slot(str)
    def _on_pre_connect_failed(self, message: str) -> None:
        self._state = ConnectionState.CLOSED
        self._on_failed(Failure(FailureKind.AUTH, detail=message))
        self.state_changed.emit(self._state)

    def _stop_pre_connect(self) -> None:
        """The user stops a connect while its requests are under way: the session ends here."""
        self.pre_connect.abort()
        self._attempt = 0
        self._state = ConnectionState.CLOSED
        self.flush()
        self._flush_timer.stop()
        self._finish_recording(SessionStatus.CLOSED, None, "cancelled before the connection opened")
        self.state_changed.emit(self._state)

    def _open_engine(self) -> None:
        assert self._target is not None
        from wsinspector.net.engines import make_connection  # noqa: PLC0415  (websockets: at the first connect)

        log = self.log
        if self._target.protocol.engine == ENGINE_WIRE:  # the hot path: straight into the log; each turn says
            sink, whole_in = log.append_fields, log.append_whole_in
        else:
            sink, whole_in = self._arriving(log.append_fields), self._arriving(log.append_whole_in)
        connection = make_connection(self._target.protocol.engine, self, sink=sink, whole_in=whole_in)
        connection.state_changed.connect(self._on_state_changed)
        connection.opened.connect(self._on_opened)
        connection.failed.connect(self._on_failed)
        connection.cancelled.connect(self._on_cancelled)
        connection.closed.connect(self._on_closed)
        if _is_wire(connection):  # each turn of its pump is followed by a turn of saving what it read
            connection.received.connect(self._on_received)
        self._connection = connection
        self._holding = False
        self._flush_timer.start()
        connection.open(replace(self._target, proxy_source=self._proxy_source))

    def add_event(self, kind: str, text: str) -> int:
        """A connection event (what the protocol mode did, …) in the session's log and its recording."""
        return self._event(kind, text)

    def _event(self, kind: str, text: str) -> int:
        text = masked(text, self.secret_values, REDACTED)
        ts = super()._event(kind, text)
        self.event_added.emit(ts, kind, text)
        return ts

    def _reconnect_or_finish(self, status: str, code: int | None, reason: str) -> bool:
        """After the link ended by itself: schedule the next attempt if the profile asks for it. True if so."""
        profile = self.profile
        wants = profile is not None and self._ever_opened and not self._user_closed and (
            profile.health.reconnect or self._heartbeat_reconnect)
        self._heartbeat_reconnect = False
        if not wants or profile is None:
            return False
        limit = profile.health.reconnect_max_attempts
        if limit and self._attempt >= limit:
            self._event("disconnect", f"gave up after {self._attempt} reconnect attempts")
            return False
        self._attempt += 1
        delay = backoff_delay(self._attempt, profile.health.reconnect_base_s, profile.health.reconnect_max_s)
        self._reconnect_timer.start(int(delay * 1000))
        self.reconnecting.emit(self._attempt, delay)
        return True

    @Slot()
    def _reconnect_now(self) -> None:
        if self._target is None:
            return
        self.log.new_segment()
        self._open_connection()

    def send(self, data: bytes, is_text: bool) -> None:
        self._require().send(data, is_text)

    def ping(self, payload: bytes = b"") -> None:
        if len(payload) > 125:
            raise ValueError("A ping payload can be at most 125 bytes")
        self._require().ping(payload)

    @property
    def engine(self) -> str:
        """The engine of the current (or last) connection: "wire" or "qt"."""
        return self._target.protocol.engine if self._target is not None else ""

    @property
    def can_inject_faults(self) -> bool:
        return _is_wire(self._connection)

    def _require_wire(self) -> WireConnection:
        connection = self._require()
        if not _is_wire(connection):
            raise RuntimeError("This needs the Wire engine: choose it in the connection's settings")
        return connection

    def send_fragmented(self, data: bytes, is_text: bool, frame_size: int) -> None:
        if frame_size < 1:
            raise ValueError("The frame size must be at least 1 byte")
        self._require_wire().send_fragmented(data, is_text, frame_size)

    def send_pong(self, payload: bytes = b"") -> None:
        if len(payload) > 125:
            raise ValueError("A pong payload can be at most 125 bytes")
        self._require_wire().send_pong(payload)

    @property
    def auto_pong(self) -> bool:
        return self._connection.auto_pong if _is_wire(self._connection) else True

    def set_auto_pong(self, on: bool) -> None:
        self._require_wire().set_auto_pong(on)

    def close_with_any_code(self, code: int | None, reason: str = "") -> None:
        """Fault injection: a close frame with any code, valid or not (None: no body at all)."""
        if code is not None and not 0 <= code <= 0xFFFF:
            raise ValueError("A close code is a number from 0 to 65535")
        if len(reason.encode("utf-8", "surrogatepass")) > 123:
            raise ValueError("A close reason can be at most 123 bytes of UTF-8")
        connection = self._require_wire()
        self._user_closed = True
        connection.close(code, reason)

    def disconnect(self, code: int = 1000, reason: str = "") -> None:  # type: ignore[override]  # not QObject's
        if not is_sendable_close_code(code):
            raise ValueError(f"Close code {code} may not be sent by a client (use 1000-1003, 1007-1011 or 3000-4999)")
        if len(reason.encode("utf-8")) > 123:
            raise ValueError("A close reason can be at most 123 bytes of UTF-8")
        if self._reconnect_timer.isActive() or self.pre_connect.running:
            self.cancel_reconnect()
            return
        if self._connection is not None:
            self._user_closed = True
            self._connection.close(code, reason)

    def shutdown(self, reason: str = QUIT_REASON) -> None:
        """Leave nothing running: an open connection is told it is left (a close frame, 1001 and ``reason``,
        recorded; its answer is not waited for), the socket dropped, what is left saved, the timers stopped."""
        self._user_closed = True
        self._reconnect_timer.stop()
        self.pre_connect.abort()
        if self._connection is not None:
            self._connection.going_away(GOING_AWAY, reason)
        self.flush()
        self._finish_recording(SessionStatus.CLOSED, None, "")
        self._flush_timer.stop()
        self._arrival.stop()
        self._save_more.stop()
        self._heartbeat.stop()
        self._rates_timer.stop()
        self.composing.shutdown()
        self._discard_connection()

    @property
    def records(self) -> bool:
        """Whether this connection's sessions are recorded (its settings can make it a live view only)."""
        return self.profile is None or self.profile.health.record

    @Slot()
    def flush(self) -> None:
        """Store every frame received so far and tell the views."""
        self._save_more.stop()
        self._flush(len(self.log) - 1, None)

    @Slot()
    def _flush_slice(self) -> None:
        """The flush timer's: store what arrived for a few milliseconds at most, tell the views what is stored;
        the rest is stored a slice at a time at the next turns (:meth:`_save_backlog`)."""
        # while the backlog is being saved turn by turn, this turn only tells the views
        self._flush(len(self.log) - 1, 0.0 if self._save_more.isActive() else SAVE_BUDGET_S)
        self._save_later()
        self._hold_while_behind()

    @Slot()
    def _save_backlog(self) -> None:
        """Between two flushes: store what has arrived, a few milliseconds per turn of the event loop, so the
        store keeps up with a flood turn by turn. The views hear of it at the next flush (one update, one
        repaint per flush however many slices were stored)."""
        self._save_frames_within(len(self.log) - 1, SAVE_BUDGET_S)
        self._save_later()
        self._hold_while_behind()

    @Slot()
    def _on_received(self) -> None:
        """A turn of the Wire engine's pump read frames: they are told, then a turn of saving follows."""
        self._announce_arrived()
        self._save_later()
        self._hold_while_behind()

    def _arriving(self, append: Callable[..., Any]) -> Callable[..., Any]:
        """A Qt engine's sink: ``append`` into the log, ``frames_arrived`` at the loop's next turn."""
        arrival = self._arrival

        def sink(*fields: Any) -> Any:
            kept = append(*fields)
            if not arrival.isActive():
                arrival.start()
            return kept

        return sink

    @Slot()
    def _announce_arrived(self) -> None:
        last = len(self.log) - 1
        if last >= self._arrived:
            first, self._arrived = self._arrived, last + 1
            self.frames_arrived.emit(first, last)

    def _save_later(self) -> None:
        if not self.is_recording or self._saved >= len(self.log) or self._save_more.isActive():
            return
        assert self._store is not None
        # all handed over, or no room: look again soon for what the writer thread has committed
        waiting = self._packed >= len(self.log) or self._store.writer_full
        self._save_more.start(WRITER_POLL_MS if waiting else 0)

    def _hold_while_behind(self) -> None:
        """The Wire engine reads on only while the store is no more than SAVE_AHEAD_FRAMES (or _BYTES) behind."""
        connection = self._connection
        if not _is_wire(connection):
            return
        behind = self._behind_store
        if behind != self._holding:
            self._holding = behind
            connection.hold_reading(behind)

    def _flush(self, last: int, budget_s: float | None) -> None:
        self._announce_arrived()  # what no turn of reading told (the frames sent)
        if budget_s is None:
            self._save_frames(last)
        elif budget_s > 0:
            self._save_frames_within(last, budget_s)
        else:
            self._take_stored()
        # a frame not recorded yet stays in memory while the recording goes on; what a deleted session had
        # recorded is not there to read back
        self.log.keep_window(WINDOW_FRAMES, WINDOW_BYTES, self._releasable(last),
                             self._saved if self.session_id is not None else 0)
        if not self.healthy and not self._heartbeat_late():
            self._set_health(True, "")
        shown = min(last, self._saved - 1) if self.is_recording else last  # the views show what is stored
        if shown >= self._flushed:
            first = self._flushed
            self._flushed = shown + 1
            self.frames_appended.emit(first, shown)

    @Slot()
    def _sample_rates(self) -> None:
        log = self.log
        counters = Counters(log.frames_in, len(log) - log.frames_in, log.bytes_in, log.bytes_out)
        rates = self._rates.sample(time.monotonic(), counters)
        if rates is not None:
            self.rates_changed.emit(rates, (time.monotonic_ns() - log.started_ns) / 1e9)

    def _rates_stopped(self) -> None:
        """Nothing flows on a closed link: the rates fall to zero at once, not at the next open."""
        self._rates.reset()
        self.rates_changed.emit(Rates(), (time.monotonic_ns() - self.log.started_ns) / 1e9)

    # -- the user's actions, as slots for the views -------------------------------------------------

    request_send = _refusing(send)
    request_ping = _refusing(ping)
    request_disconnect = _refusing(disconnect)
    request_fragmented_send = _refusing(send_fragmented)
    request_pong = _refusing(send_pong)
    request_raw_close = _refusing(close_with_any_code)
    request_auto_pong = _refusing(set_auto_pong)

    # -- heartbeat --------------------------------------------------------------------------------

    def _heartbeat_late(self) -> bool:
        """Has a ping been waiting for its pong longer than the heartbeat timeout?"""
        oldest = self.log.oldest_open_ping_ns()
        if oldest is None or self.profile is None:
            return False
        return time.monotonic_ns() - oldest > self.profile.health.heartbeat_timeout_s * 1e9

    def _set_health(self, healthy: bool, reason: str) -> None:
        if healthy != self.healthy:
            self.healthy = healthy
            self.health_changed.emit(healthy, reason)

    @Slot()
    def _on_heartbeat(self) -> None:
        profile = self.profile
        if not self.is_open or profile is None:
            self._heartbeat.stop()
            return
        if self._heartbeat_late():
            reason = f"No pong for {profile.health.heartbeat_timeout_s:g} s: the heartbeat timed out"
            self._set_health(False, reason)
            self._event("timeout", reason)
            if profile.health.heartbeat_action in (HEARTBEAT_CLOSE, HEARTBEAT_RECONNECT):
                self._heartbeat.stop()
                self._heartbeat_reconnect = profile.health.heartbeat_action == HEARTBEAT_RECONNECT
                if self._connection is not None:
                    self._connection.close(1001, "heartbeat timeout")  # not the user's doing
                return
        self.ping(self._pings.next_payload())

    # -- recording --------------------------------------------------------------------------------

    @Slot(int)
    def on_session_deleted(self, session_id: int) -> None:
        """The user deleted the session being recorded: stop recording it; the live view goes on."""
        if session_id == self.session_id:
            self.session_id = None
            self.recording_error = "the session was deleted"
            self.recording_failed.emit("Recording stopped: you deleted this session. The live view goes on.")

    def _start_recording(self, profile: ConnectionProfile, url: str) -> None:
        if self._store is None or not profile.health.record:
            return
        try:
            # a secret variable (of any layer) expanded into the URL is not kept with the session
            url = masked(url, self.secret_values, REDACTED)
            self.session_id = self._store.create_session(profile.name, url, self.log.started_wall,
                                                         self.log.started_ns, profile.id)
            record = self._store.session(self.session_id)
        except StoreError as exc:
            self._recording_failed(str(exc))
            return
        if record is not None:
            self.log.read_older_from(StoredSession(self._store, record))

    def _finish_recording(self, status: str, code: int | None, reason: str) -> None:
        if self._store is None or self.session_id is None:
            return
        session_id, self.session_id = self.session_id, None
        self._finish_stored(session_id, status, code, reason)
        self.session_saved.emit(session_id)

    def _recording_failed(self, error: str) -> None:
        self.recording_error = error
        log.warning("recording stopped: %s", error)
        saved = (f"the first {counted(self._saved, 'frame')} {'is' if self._saved == 1 else 'are'} saved"
                 if self._saved else "nothing of it could be saved")
        self.recording_failed.emit(f"Recording stopped: {error}. The live view goes on; {saved}.")

    # -- internals --------------------------------------------------------------------------------

    def _require(self) -> Connection:
        if self._connection is None or not self.is_open:
            raise RuntimeError("Not connected")
        return self._connection

    def _discard_connection(self) -> None:
        if self._connection is not None:
            self._connection.blockSignals(True)
            self._connection.deleteLater()
            self._connection = None

    @Slot(object)
    def _on_state_changed(self, state: ConnectionState) -> None:
        self._state = state
        if state is ConnectionState.OPEN:
            self._rates.reset()
            self._sample_rates()  # the baseline: what arrives from now on counts in the first rates
            self._rates_timer.start()
        elif state is ConnectionState.CLOSED:
            self._heartbeat.stop()
            self.flush()
            self._flush_timer.stop()
            self._rates_timer.stop()
            self._rates_stopped()
        self.state_changed.emit(state)

    @Slot(object)
    def _on_opened(self, info: OpenInfo) -> None:
        if self._attempt:
            self._event("reconnect", f"reconnected (attempt {self._attempt})")
        self._attempt = 0
        self._ever_opened = True
        self.healthy = True
        if self.profile is not None and self.profile.health.heartbeat_interval_s > 0:
            self._heartbeat.start(max(10, int(self.profile.health.heartbeat_interval_s * 1000)))
        if self._store is not None and self.session_id is not None and info.subprotocol:
            try:
                self._store.update_session(self.session_id, subprotocol=info.subprotocol)
            except StoreError as exc:
                self._recording_failed(str(exc))
        self._keep_handshake(101, info.reason or "Switching Protocols", info.response_headers)
        self.opened.emit(replace(info, url=masked(redact_url(info.url), self.secret_values, REDACTED)))

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        self._keep_handshake(failure.http_status, failure.http_reason, failure.response_headers,
                             failure.response_body, failure.body_size)
        self.flush()
        if not self._reconnect_or_finish(SessionStatus.FAILED, None, failure.message):
            self._finish_recording(SessionStatus.FAILED, None, failure.message)
        self.failed.emit(failure)

    def _keep_handshake(self, status: int | None, reason: str, headers: tuple[tuple[str, str], ...] | None,
                        body: bytes = b"", body_size: int | None = None) -> None:
        """The attempt's handshake: the request the engine sent, the answer; recorded without secrets."""
        request = self._connection.request_sent if self._connection is not None else None
        if request is None or self.profile is None:
            return  # the request never went out: nothing was said either way
        handshake = self.profile.handshake
        placeholders = placeholders_for(handshake.headers, handshake.secret_headers, self.profile.secret_variables)
        self.handshake = replace(request, placeholders=placeholders).answered(status, reason, headers, body,
                                                                              body_size)
        self._event(HANDSHAKE_EVENT, self.handshake.without_secrets(self.secret_values).to_json())
        self.handshake_changed.emit(self.handshake)

    @Slot()
    def _on_cancelled(self) -> None:
        self.flush()
        self._finish_recording(SessionStatus.CLOSED, None, "cancelled before the connection opened")

    @Slot(object)
    def _on_closed(self, info: CloseInfo) -> None:
        self.flush()
        status = SessionStatus.FAILED if info.failure is not None else SessionStatus.CLOSED
        reason = info.reason or (info.message if info.failure else "")
        self._event("disconnect", info.message)
        if not self._reconnect_or_finish(status, info.code, reason):
            self._finish_recording(status, info.code, reason)
        self.closed.emit(info)


def _is_wire(connection: Connection | None) -> TypeGuard[WireConnection]:
    """Whether ``connection`` is a Wire engine's (whose module is loaded by then, since it made one)."""
    if connection is None:
        return False
    from wsinspector.net.wire import WireConnection  # noqa: PLC0415

    return isinstance(connection, WireConnection)
