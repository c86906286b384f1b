"""Replaying a test file over a real connection: :class:`core.scenario.run.Replay` driven by Qt.

The core state machine decides what to send and when, and judges what arrives; this controller owns the
connection (the engine the test's profile names, Wire by default), the clock (one single-shot timer armed
for the next deadline, never a busy loop or a sleep), message assembly (the run's :class:`FrameLog`), and,
when given a store, the recording of the replay as a session linked to the test (``replay_of``).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from wsinspector.app.auth import PreConnect
from wsinspector.app.connection import WINDOW_BYTES, WINDOW_FRAMES
from wsinspector.app.preload import preload
from wsinspector.app.recording import LogRecording
from wsinspector.core.auth import checked_target, needs_requests, prepared_target, shown_url
from wsinspector.core.connection_defaults import ConnectionDefaults, effective, proxy_source
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, FailureKind, OpenInfo
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.handshake import HANDSHAKE_EVENT, placeholders_for
from wsinspector.core.log import FrameLog
from wsinspector.core.profiles import ENGINE_WIRE, ConnectionProfile, ProfileError, ResolvedTarget
from wsinspector.core.redact import REDACTED
from wsinspector.core.scenario.inbox import LogInbox
from wsinspector.core.scenario.matching import describe_received
from wsinspector.core.scenario.model import Scenario
from wsinspector.core.scenario.run import Finished, Replay, SendAction, WaitAction
from wsinspector.core.scenario.secrets import run_secret_values
from wsinspector.core.scenario.variables import to_profile
from wsinspector.core.scenario.verdict import RunResult, Verdict
from wsinspector.core.secrets import masked, secret_values
from wsinspector.core.store import SessionStatus, Store, StoreError
from wsinspector.core.stored import StoredSession
from wsinspector.net.engines import Connection, make_connection
from wsinspector.net.wire import WireConnection

log = logging.getLogger(__name__)

FLUSH_INTERVAL_MS = 50
#: beyond the engine's own close timeout, how long the end of a run waits for the connection to end
CLOSE_WAIT_MARGIN_S = 1.0
_IN = Direction.IN
_CLOSE = Opcode.CLOSE


def _now() -> float:
    """The replay's clock: seconds on the monotonic clock the engines stamp frames with."""
    return time.monotonic_ns() / 1e9


class ReplayController(QObject, LogRecording):
    """Runs one test over one connection, once.

    Build it, connect to its signals, call :meth:`start`; everything else arrives through the signals, even
    an error found before connecting (an invalid URL): :meth:`start` never reports synchronously.
    ``finished`` comes once, after the connection has ended (closed with 1000 by us at the end of the run,
    bounded by the profile's close timeout).

    Signals:
        step_started(int): the index of a step that begins (skipped steps never begin)
        step_finished(StepResult): a step's verdict, in order; skipped steps included
        progress(int, int): steps finished so far, total steps
        opened(OpenInfo): the connection is open (the run's clock starts)
        authenticated(list): the values the auth's requests before connecting gave (captures, a token): secrets
            that output should mask
        frames_appended(int, int): first and last seq added to :attr:`log` since the last time (every frame,
            both ways; every 50 ms)
        recording_failed(str): the replay can no longer be recorded; the run goes on
        finished(RunResult): the run is over and the connection has ended
    """

    step_started = Signal(int)
    step_finished = Signal(object)
    progress = Signal(int, int)
    opened = Signal(object)
    authenticated = Signal(list)
    frames_appended = Signal(int, int)
    recording_failed = Signal(str)
    finished = Signal(object)

    def __init__(self, test: Scenario, *, variables: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 url: str | None = None, speed: float = 1.0, engine: str | None = None,
                 connect_timeout_s: float | None = None,
                 store: Store | None = None, replay_of: str = "", session_name: str = "",
                 changes: Mapping[str, Mapping[str, object]] | None = None, base_dir: Path | None = None,
                 secrets: Iterable[str] = (), defaults: ConnectionDefaults | None = None,
                 proxy_from: str = "", parent: QObject | None = None) -> None:
        """``variables``: the ``--var`` overrides; ``url`` replaces the file's; ``speed`` scales recorded delays
        (0: none); ``engine``: "wire" or "qt" (default: the profile's, Wire); ``connect_timeout_s``: how long
        the opening handshake may take (default: a connection's). With a ``store`` the replay is recorded as a
        session named ``session_name`` whose ``replay_of`` is ``replay_of`` (the test's path). ``changes``:
        connection settings to change, by record (TLS options from the command line, say); ``base_dir``: the
        test file's folder, which relative TLS file names start from; ``secrets``: values never recorded (a
        token the URL carries is replaced in the session's URL); ``defaults``: the app-wide TLS and proxy
        defaults, applied after ``changes`` (``core/connection_defaults.py``: what the test or ``changes`` set
        wins); ``proxy_from``: where a proxy ``changes`` gives was set (``--proxy``), for messages."""
        super().__init__(parent)
        self._secrets = tuple(secrets)
        overrides = dict(variables.items() if isinstance(variables, Mapping) else variables)
        self.test = test
        self.profile: ConnectionProfile = to_profile(test, overrides, url, base_dir)
        if engine:
            self.profile = self.profile.with_changes(protocol={"engine": engine})
        if connect_timeout_s is not None:
            self.profile = self.profile.with_changes(handshake={"timeout_s": connect_timeout_s})
        if changes:
            self.profile = self.profile.with_changes(**{name: dict(values) for name, values in changes.items()})
        given = "mode" in (changes or {}).get("proxy", {})
        self._proxy_source = proxy_source(self.profile, defaults) or (proxy_from if given else "")
        self.profile = effective(self.profile, defaults)
        # the test's own secrets too: a run started from the window is given none
        self._secrets += tuple(run_secret_values(test, dict(self.profile.variables), url))
        self.log = FrameLog()
        #: the run reads the server's messages from the log, as a step asks for them
        self.inbox = LogInbox(self.log)
        self.replay = Replay(test, overrides, speed, inbox=self.inbox, wall_clock=time.time)
        #: how the connection ended (None while open, or when it never opened)
        self.close_info: CloseInfo | None = None
        #: why it could not open
        self.failure: Failure | None = None
        self.result: RunResult | None = None
        self.session_id: int | None = None
        self.recording_error = ""
        self._store = store
        self._replay_of = replay_of
        self._session_name = session_name or f"Replay: {test.name or Path(replay_of).name or 'test'}"
        self._target: ResolvedTarget | None = None
        self._connection: Connection | None = None
        self._started = False
        self._opened = False
        self._link_done = False  # the connection has ended (or never existed): no more signals from it
        self._end_told = False  # the Replay was told the connection ended
        self._close_seen = ""  # what the server's close frame said
        self._close_sent = False  # the run is over and our close frame went out
        self._rejected = False  # the engine refused a frame from the server: nothing after it is a message
        self._kicked = False  # a drive is due on the next turn of the event loop
        self._announced_frames = 0  # frames told through frames_appended
        self._driving = False
        self._winding = False  # the run is over: waiting for the connection to end
        self._completed = False
        self._reported = 0
        self._announced: int | None = None
        self._saved = self._packed = 0
        self._open_chunk = None
        #: the requests the test's auth makes before connecting (None: none, or not yet)
        self.pre_connect: PreConnect | None = None

        self._timer = QTimer(self)
        self._timer.setObjectName("replayDrive")
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._drive)
        self._close_guard = QTimer(self)
        self._close_guard.setObjectName("replayCloseGuard")
        self._close_guard.setSingleShot(True)
        self._close_guard.timeout.connect(self._on_close_guard)
        self._flush_timer = QTimer(self)
        self._flush_timer.setObjectName("replayFlush")
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._save_now)

    # -- commands ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._started and not self._completed

    @property
    def done(self) -> bool:
        return self._completed

    def start(self) -> None:
        """Connect and run (on the next turn of the event loop)."""
        if self._started:
            raise RuntimeError("a ReplayController runs once; make a new one to run again")
        self._started = True
        preload()  # the log and the recording pack frames with numpy: imported on a thread, not at a save
        self._timer.start(0)  # the first drive begins the run

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the run: the running step is an error (``reason``), the rest are skipped; the connection is
        closed and ``finished`` follows. A second cancel while the connection is closing drops it at once."""
        if self._completed:
            return
        if self._winding:
            if self._connection is not None and not self._link_done:
                self._connection.abort()
            self._complete()
            return
        self.replay.on_error(reason, _now())
        if not self._started:
            self._started = True
        self._kick()

    # -- the run ----------------------------------------------------------------------------------

    def _kick(self) -> None:
        if not self._kicked:
            self._kicked = True
            self._schedule(0.0)

    def _schedule(self, seconds: float) -> None:
        if self._winding or self._completed:
            return
        ms = max(0, math.ceil(seconds * 1000))
        if self._timer.isActive() and self._timer.remainingTime() <= ms:
            return
        self._timer.start(ms)

    @Slot()
    def _drive(self) -> None:
        self._kicked = False
        if self._driving or self._winding or self._completed:
            return
        if self._connection is None and self.pre_connect is None and not self.replay.done:
            self._begin()
            return
        if not self._opened and not self.replay.done:
            return  # still connecting: the clock starts when the connection opens
        self._driving = True
        try:
            while True:
                now = _now()
                action = self.replay.poll(now)
                self._report()
                if isinstance(action, SendAction):
                    self._send(action, now)
                    continue
                if isinstance(action, WaitAction):
                    if self._link_done and not self._end_told:
                        self._tell_end(now)
                        continue
                    self._schedule(action.until - now)
                    return
                assert isinstance(action, Finished)
                self.result = action.result
                self._wind_down()
                return
        finally:
            self._driving = False

    def _begin(self) -> None:
        self.replay.connecting(_now())
        try:
            target = checked_target(self.profile)  # the values the requests before connecting give stand in
        except ProfileError as exc:
            self.replay.on_error(str(exc), _now())
            self._link_done = True
            self._kick()
            return
        self._target = target
        self._start_recording(shown_url(self.profile))
        if needs_requests(self.profile.auth):
            self.pre_connect = PreConnect(parent=self)
            self.pre_connect.ready.connect(self._on_pre_connect_ready)
            self.pre_connect.failed.connect(self._on_pre_connect_failed)
            try:
                self.pre_connect.start(self.profile)
            except ProfileError as exc:
                self._on_pre_connect_failed(str(exc))
            return
        self._open(target)

    @Slot(object, str)
    def _on_pre_connect_ready(self, captured: dict[str, str], access_token: str) -> None:
        try:
            target = prepared_target(self.profile, captured, access_token)
        except ProfileError as exc:
            self._on_pre_connect_failed(str(exc))
            return
        self._target = target
        # what a login captured and an OAuth token are secrets of this run: never recorded
        self._secrets += tuple(value for value in (*captured.values(), access_token) if value)
        self.replay.use_variables(captured)
        self.authenticated.emit([*captured.values(), *([access_token] if access_token else [])])
        self._open(target)

    @Slot(str)
    def _on_pre_connect_failed(self, message: str) -> None:
        self._on_failed(Failure(FailureKind.AUTH, detail=message))

    def _open(self, target: ResolvedTarget) -> None:
        if target.protocol.engine == ENGINE_WIRE:
            # the window's fast path as it is: whole messages straight into the log, one wake-up per read
            connection = make_connection(ENGINE_WIRE, self, sink=self._on_frame, whole_in=self.log.append_whole_in)
            assert isinstance(connection, WireConnection)
            connection.received.connect(self._kick)
        else:
            connection = make_connection(target.protocol.engine, self, sink=self._on_frame,
                                         whole_in=self._on_whole_in)
        connection.opened.connect(self._on_opened)
        connection.failed.connect(self._on_failed)
        connection.cancelled.connect(self._on_cancelled)
        connection.rejected.connect(self._on_rejected)
        connection.closed.connect(self._on_closed)
        self._connection = connection
        self._flush_timer.start()
        connection.open(replace(target, proxy_source=self._proxy_source))

    def _send(self, action: SendAction, now: float) -> None:
        if self.replay.done:
            return  # cancelled while this step was being announced
        connection = self._connection
        if connection is None or self._link_done or connection.state is not ConnectionState.OPEN:
            self.replay.on_error(f"cannot send: {self._why_not_open()}", now)
            return
        try:
            connection.send(action.payload, action.opcode is Opcode.TEXT)
        except RuntimeError:
            self.replay.on_error(f"cannot send: {self._why_not_open()}", now)

    def _why_not_open(self) -> str:
        if self._close_seen:
            return f"the server closed the connection ({self._close_seen})"
        if self.close_info is not None:
            return self.close_info.message
        return "the connection is not open"

    def _tell_end(self, now: float) -> None:
        """The Replay needs more input and the connection is gone: a drop is an error, a close fails the step."""
        self._end_told = True
        info = self.close_info
        if info is not None and info.failure is not None:
            self.replay.on_error(info.message, now)
        else:
            self.replay.on_closed(now, info.message if info is not None else "")

    def _report(self) -> None:
        results = self.replay.results
        total = len(self.test.steps)
        while self._reported < len(results):
            step = results[self._reported]
            self._reported += 1
            if step.index != self._announced and step.status is not Verdict.SKIPPED:
                self._announced = step.index
                self.step_started.emit(step.index)
            self.step_finished.emit(step)
            self.progress.emit(self._reported, total)
        current = self.replay.current
        if current is not None and current != self._announced:
            self._announced = current
            self.step_started.emit(current)

    # -- the end ----------------------------------------------------------------------------------

    def _wind_down(self) -> None:
        self._winding = True
        self._timer.stop()
        connection = self._connection
        if connection is None or self._link_done:
            if not self._end_told:
                self._closing_check()  # it ended after the last step, before our close frame
            self._complete()
            return
        state = connection.state
        if state is ConnectionState.OPEN:
            self._close_sent = True
            connection.close(1000, "")
        elif state is ConnectionState.CONNECTING:
            connection.close()  # abandons the attempt: cancelled follows at once
        if self._completed:
            return
        if connection.state is ConnectionState.CLOSED and not self._link_done:
            self._complete()
            return
        wait = (self._target.protocol.close_timeout_s if self._target is not None else 5.0) + CLOSE_WAIT_MARGIN_S
        self._close_guard.start(math.ceil(wait * 1000))

    @Slot()
    def _on_close_guard(self) -> None:
        if self._completed:
            return
        if self._connection is not None and not self._link_done:
            self._connection.abort()
            wait = self._close_guard.interval() / 1000
            self.replay.on_closing_failed(f"the connection did not end within {wait:g} s of our close frame; "
                                          "it was dropped", _now())
        self._complete()

    def _complete(self) -> None:
        if self._completed:
            return
        self._completed = True
        if self.pre_connect is not None:
            self.pre_connect.abort()
        self._timer.stop()
        self._close_guard.stop()
        self._flush_timer.stop()
        self.result = self.replay.result()  # with what the end of the connection added to it
        self._finish_recording()
        if self._connection is not None:
            self._connection.blockSignals(True)
            self._connection.deleteLater()
            self._connection = None
        self.finished.emit(self.result)

    # -- connection events ------------------------------------------------------------------------

    def _on_frame(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                  rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                  masked: bool | None = None, payload_length: int | None = None, mask_key: bytes | None = None,
                  note: str = "") -> int:
        """The engine's frame sink: into the log, where the run reads the messages when a step asks for them
        (the drive runs on the next turn, never inside the engine's callback)."""
        seq = self.log.append_fields(direction, opcode, payload, ts_ns, fin, rsv1, rsv2, rsv3, masked,
                                     payload_length, mask_key, note)
        if direction is _IN:
            if opcode is _CLOSE and not self._rejected:
                self._close_seen = describe_received(_CLOSE, payload)
            self._kick()
        return seq

    def _on_whole_in(self, meta: int, payload: bytes, ts_ns: int) -> None:
        """The Qt engine's whole messages: into the log, as the window's log takes them, and a drive due."""
        self.log.append_whole_in(meta, payload, ts_ns)
        if not self._kicked:
            self._kick()

    @Slot(object)
    def _on_rejected(self, failure: Failure) -> None:
        """The engine refused a frame from the server: no frame from here on is a message, and the run says
        what the server did wrong (the step waiting, or, after the last one, the run's closing)."""
        if self._rejected:
            return
        self._rejected = True
        self.inbox.stop_at(len(self.log))
        self.replay.on_protocol_error(failure.message, _now())
        self._kick()

    @Slot(object)
    def _on_opened(self, info: OpenInfo) -> None:
        self._opened = True
        self._keep_handshake(101, info.reason or "Switching Protocols", info.response_headers)
        if self.is_recording and info.subprotocol:
            assert self._store is not None and self.session_id is not None
            try:
                self._store.update_session(self.session_id, subprotocol=info.subprotocol)
            except (StoreError, sqlite3.Error) as exc:
                self._recording_failed(str(exc))
        self.opened.emit(info)
        self._kick()

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        self._keep_handshake(failure.http_status, failure.http_reason, failure.response_headers,
                             failure.response_body, failure.body_size)
        self.failure = failure
        self._link_done = True
        self.replay.on_error(failure.message, _now())
        self._after_link_end()

    @Slot()
    def _on_cancelled(self) -> None:
        self._link_done = True
        self.replay.on_error("cancelled before the connection opened", _now())
        self._after_link_end()

    @Slot(object)
    def _on_closed(self, info: CloseInfo) -> None:
        self.close_info = info
        self._link_done = True
        self._event("disconnect", info.message)
        if self.replay.done:
            self._closing_check()
        self._after_link_end()

    def _closing_check(self) -> None:
        """After the last step: an end of the connection that was not a closing handshake is the run's closing
        error (a refused frame has said so already)."""
        info = self.close_info
        if info is None or info.failure is None or self._rejected:
            return
        if info.failure.kind is FailureKind.CONNECTION_LOST:
            what = ("the server ended the connection without answering our close frame" if self._close_sent
                    else "the server dropped the connection without a close frame")
            self.replay.on_closing_failed(f"{what} ({info.message})", _now())
        else:
            self.replay.on_closing_failed(info.message, _now())  # the closing handshake timed out

    def _after_link_end(self) -> None:
        if self._winding:
            self._complete()
        else:
            self._kick()

    # -- recording --------------------------------------------------------------------------------

    def _start_recording(self, url: str) -> None:
        if self._store is None:
            return
        url = masked(url, self._secrets, REDACTED)
        try:
            self.session_id = self._store.create_session(self._session_name, url, self.log.started_wall,
                                                         self.log.started_ns, None, SessionStatus.LIVE,
                                                         replay_of=self._replay_of or None)
            record = self._store.session(self.session_id)
        except (StoreError, sqlite3.Error) as exc:
            self._recording_failed(str(exc))
            return
        if record is not None:
            self.log.read_older_from(StoredSession(self._store, record))  # what left memory, for the views

    @Slot()
    def _save_now(self) -> None:
        """Every 50 ms: record what a couple of milliseconds take, without waiting for the store's writer thread
        unless far behind (:meth:`LogRecording._save_new`), and tell the views about the new frames."""
        self._save(wait=False)

    def _save(self, wait: bool = True) -> None:
        """Record the new frames (``wait``: all of them, committed when this returns), keep the log's window
        bounded and tell the views about the new frames, in one range."""
        last = len(self.log) - 1
        self._save_new(last, wait)
        self._keep_window(last)
        if last >= self._announced_frames:
            first, self._announced_frames = self._announced_frames, last + 1
            self.frames_appended.emit(first, last)

    def _keep_window(self, last: int) -> None:
        """Let the log hold only its newest frames, as a connection's does, but never a frame a step has yet to
        read (the inbox reads the log in place), nor one not recorded yet. When no step to come reads
        messages, what arrives is passed over and may go."""
        inbox = self.inbox
        if not self.replay.reads_more:
            inbox.pass_over(last + 1)
        releasable = min(self._releasable(last), inbox.unread)
        self.log.keep_window(WINDOW_FRAMES, WINDOW_BYTES, releasable,
                             self._saved if self.session_id is not None else 0)

    def _finish_recording(self) -> None:
        self._save()
        if self._store is None or self.session_id is None:
            return
        info, failure = self.close_info, self.failure
        if self.recording_error:
            status = SessionStatus.INCOMPLETE
        elif failure is not None or (info is not None and info.failure is not None):
            status = SessionStatus.FAILED
        else:
            status = SessionStatus.CLOSED
        code = info.code if info is not None else None
        if failure is not None:
            reason = failure.message
        elif info is not None:
            reason = info.reason or (info.message if info.failure is not None else "")
        else:
            reason = ""
        self._finish_stored(self.session_id, status, code, reason)

    def _keep_handshake(self, status: int | None, reason: str, headers: tuple[tuple[str, str], ...] | None,
                        body: bytes = b"", body_size: int | None = None) -> None:
        """The opening handshake, the request the engine sent and the answer, as a connection keeps it: an event
        of the recording, without the run's secrets (a header that carries one keeps its template)."""
        request = self._connection.request_sent if self._connection is not None else None
        if request is None:
            return  # the request never went out: nothing was said either way
        secrets = {value for value in (*self._secrets, *secret_values(self.profile).values()) if value}
        handshake = self.profile.handshake
        secret_variables = [name for name, value in self.profile.variables if value in secrets]
        placeholders = placeholders_for(handshake.headers, handshake.secret_headers, secret_variables)
        kept = replace(request, placeholders=placeholders).answered(status, reason, headers, body, body_size)
        self._event(HANDSHAKE_EVENT, kept.without_secrets(secrets).to_json())

    def _recording_failed(self, error: str) -> None:
        if self.recording_error:
            return
        self.recording_error = error
        log.warning("replay recording stopped: %s", error)
        self.recording_failed.emit(f"Recording stopped: {error}. The run goes on.")
