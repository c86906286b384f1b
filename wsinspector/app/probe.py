"""Running a probe: the core's cases (:mod:`wsinspector.core.probe`) driven over real connections.

Each case is a state machine in the core; this controller does what it says (open a connection with the saved
connection's settings and the case's changes, send, ping, close, pause reads), feeds it what the connection
reports and the time, and arms one timer at its deadline. Every connection a case opens is recorded as a
stored session (the evidence), named after the case; the result refers to those sessions by id and is kept
in the store (``core/probe/plan.py``).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.app.auth import PreConnect
from wsinspector.app.recording import LogRecording
from wsinspector.core.auth import checked_target, needs_requests, prepared_target, shown_url
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, FailureKind, OpenInfo
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.probe import steps
from wsinspector.core.probe.cases import CASES
from wsinspector.core.probe.plan import PROBES_SETTING, finish, kept_with
from wsinspector.core.probe.row import CaseTiming, ProbeResult
from wsinspector.core.profiles import ENGINE_WIRE, ConnectionProfile, ProfileError, ResolvedTarget
from wsinspector.core.store import SessionStatus, Store, StoreError
from wsinspector.net.alpn import AlpnCheck
from wsinspector.net.wire import WireConnection

log = logging.getLogger(__name__)

FLUSH_INTERVAL_MS = 50
#: a case's time limit (the size search and the flood have their own, shorter, bounds inside)
CASE_LIMIT_S = 40.0
#: the longest an opening handshake may take in a probe (the connection's own timeout when shorter)
HANDSHAKE_TIMEOUT_S = 5.0
#: how long the end of a probe waits for the connections still closing
WIND_DOWN_S = 1.0
_IN = Direction.IN
_OPCODE_NAMES = {Opcode.TEXT: "text", Opcode.BINARY: "binary", Opcode.CONTINUATION: "continuation",
                 Opcode.PING: "ping", Opcode.PONG: "pong", Opcode.CLOSE: "close"}


def _now() -> float:
    return time.monotonic_ns() / 1e9


def broke_how(failure: Failure) -> str:
    """What the endpoint did that our side refused, in words a cell reads after "broke the protocol: " ("sent
    a frame with RSV2 set"): the failure's own sentence without who sent it and what we closed with."""
    text = failure.detail if failure.kind is FailureKind.PROTOCOL and failure.detail else failure.message
    for who in ("the server ", "The server "):
        text = text.removeprefix(who)
    return text.split("; ", 1)[0].removeprefix("broke the protocol: ")


class ProbeLink(QObject, LogRecording):
    """One connection of a case and its recording as a session: it tells the controller what happens as
    :mod:`steps` events (``event``)."""

    happened = Signal(object, object)  # (link, steps.Event)
    ended = Signal(object)

    def __init__(self, store: Store | None, name: str, shown: str, profile_id: str | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log = FrameLog()
        self._store = store
        self.session_id: int | None = None
        self.recording_error = ""
        self._saved = self._packed = 0
        self._open_chunk = None
        self.done = False
        self.opened = False
        #: how the endpoint broke the protocol, once our side failed the connection for it ("" not)
        self.broke = ""
        self._sent_code: int | None = None  # the code of our last close frame
        self.connection = WireConnection(self, sink=self._on_frame, whole_in=self._on_whole_in)
        self.connection.opened.connect(self._on_opened)
        self.connection.failed.connect(self._on_failed)
        self.connection.rejected.connect(self._on_rejected)
        self.connection.cancelled.connect(self._on_cancelled)
        self.connection.closed.connect(self._on_closed)
        self._flush = QTimer(self)
        self._flush.setObjectName("probeFlush")
        self._flush.setInterval(FLUSH_INTERVAL_MS)
        self._flush.timeout.connect(self._save)
        if store is not None:
            try:
                self.session_id = store.create_session(name, shown, self.log.started_wall, self.log.started_ns,
                                                       profile_id, SessionStatus.LIVE)
            except (StoreError, sqlite3.Error) as exc:
                self._recording_failed(str(exc))

    def open(self, target: ResolvedTarget) -> None:
        self._flush.start()
        self.connection.open(target)

    def _recording_failed(self, error: str) -> None:
        if not self.recording_error:
            self.recording_error = error
            log.warning("probe recording stopped: %s", error)

    def _on_frame(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                  rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                  masked: bool | None = None, payload_length: int | None = None, mask_key: bytes | None = None,
                  note: str = "") -> int:
        seq = self.log.append_fields(direction, opcode, payload, ts_ns, fin, rsv1, rsv2, rsv3, masked,
                                     payload_length, mask_key, note)
        if direction is not _IN:
            if opcode is Opcode.CLOSE and len(payload) >= 2:
                self._sent_code = int.from_bytes(payload[:2], "big")
        elif not self.broke:  # the frame refused, and all after it, are no answer of the endpoint's
            self.happened.emit(self, steps.Received(ts_ns / 1e9, _OPCODE_NAMES.get(opcode, "binary"), payload,
                                                    fin is not False, bool(rsv1),
                                                    payload_length if payload_length is not None else len(payload)))
        return seq

    def _on_whole_in(self, meta: int, payload: bytes, ts_ns: int) -> None:
        seq = len(self.log)
        self.log.append_whole_in(meta, payload, ts_ns)
        if not self.broke:
            opcode = _OPCODE_NAMES.get(self.log.opcode(seq), "binary")
            self.happened.emit(self, steps.Received(ts_ns / 1e9, opcode, payload, True, False, len(payload)))

    @Slot(object)
    def _on_rejected(self, failure: Failure) -> None:
        """Our side refused what the endpoint sent and fails the connection: the case hears it as the end now,
        the endpoint having broken the protocol (the closing handshake goes on; its end is not told again)."""
        if self.broke or self.done:
            return
        self.broke = broke_how(failure)
        self._event("failed", failure.message)
        self.happened.emit(self, steps.Closed(_now(), None, by_peer=False, clean=False, message=failure.message,
                                              broke=self.broke))

    @Slot(object)
    def _on_opened(self, info: OpenInfo) -> None:
        self.opened = True
        if self.session_id is not None and self._store is not None and info.subprotocol and not self.recording_error:
            try:
                self._store.update_session(self.session_id, subprotocol=info.subprotocol)
            except (StoreError, sqlite3.Error) as exc:
                self._recording_failed(str(exc))
        self.happened.emit(self, steps.Opened(_now(), info.subprotocol, info.extensions,
                                           tuple(info.response_headers or ())))

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        self._event("failed", failure.message)
        self._end(SessionStatus.FAILED, None, failure.message)
        self.happened.emit(self, steps.Refused(_now(), failure.http_status, tuple(failure.response_headers or ()),
                                            failure.message))

    @Slot()
    def _on_cancelled(self) -> None:
        self._end(SessionStatus.CLOSED, None, "")
        self.happened.emit(self, steps.Refused(_now(), None, (), "abandoned"))

    @Slot(object)
    def _on_closed(self, info: CloseInfo) -> None:
        self._event("disconnect", info.message)
        if self.broke:  # failed by our side, with the code our close frame carried; the case knows already
            self._end(SessionStatus.FAILED, self._sent_code if self._sent_code is not None else info.code,
                      info.reason)
            return
        failed = info.failure is not None and info.failure.kind is not FailureKind.CONNECTION_LOST
        self._end(SessionStatus.FAILED if failed else SessionStatus.CLOSED, info.code, info.reason)
        if info.by_peer:
            code = info.code if info.clean else None
        elif info.reply is not None:
            code = info.reply[0]
        else:
            code = info.code if info.clean and info.failure is None else None
        detail = info.failure.detail if info.failure is not None else ""
        message = info.message + (f" ({detail})" if detail and detail not in info.message else "")
        self.happened.emit(self, steps.Closed(_now(), code, info.by_peer, info.clean, message))

    @Slot()
    def _save(self) -> None:
        self._save_frames(len(self.log) - 1)

    def _end(self, status: str, code: int | None, reason: str) -> None:
        if self.done:
            return
        self.done = True
        self._flush.stop()
        self._save()
        if self._store is not None and self.session_id is not None:
            try:
                self._store.finish_session(self.session_id, status if not self.recording_error
                                           else SessionStatus.INCOMPLETE, time.time(), code, reason)
            except (StoreError, sqlite3.Error) as exc:
                log.warning("could not finish session %s: %s", self.session_id, exc)
        self.ended.emit(self)

    def drop(self) -> None:
        """End the connection now, without waiting (a probe ending, a case moving on)."""
        if not self.done:
            self.connection.abort()
            if not self.done:
                self._end(SessionStatus.CLOSED, None, "")


class ProbeController(QObject):
    """Runs the cases ``names`` against ``profile``'s endpoint, one after the other, once.

    Signals: ``case_started(str)``, ``case_finished(str, float)`` (its name and seconds),
    ``finished(ProbeResult)`` once every case is over and its connections have ended (the result is kept in
    the store when one was given)."""

    case_started = Signal(str)
    case_finished = Signal(str, float)
    finished = Signal(object)

    def __init__(self, profile: ConnectionProfile, names: tuple[str, ...], *, store: Store | None = None,
                 aggressive: bool = False, ctx: steps.CaseContext | None = None, name: str = "",
                 profile_id: str | None = None, variables: Mapping[str, str] | None = None,
                 parent: QObject | None = None) -> None:
        """``profile_id``: the saved connection the sessions belong to (None: a URL typed for once);
        ``variables``: the merged variable layers to resolve it with (None: its own)."""
        super().__init__(parent)
        self._profile_id = profile_id
        self._variables = dict(variables) if variables is not None else None
        self.profile = profile.with_changes(protocol={"engine": ENGINE_WIRE})
        self.names = names
        self._store = store
        self._ctx_template = ctx or steps.CaseContext(aggressive=aggressive)
        try:
            self._shown = shown_url(self.profile, self._variables)
        except ProfileError:
            self._shown = self.profile.url  # start() says what is wrong with it
        #: why the first connection that never opened did not (what a probe that could not connect says)
        self.first_failure = ""
        self._answered = False  # an HTTP answer came, or a connection opened
        self._codes_sent: set[int] = set()  # the close codes the endpoint's close frames carried
        self.result = ProbeResult(url=self._shown, started=time.time(), aggressive=aggressive, name=name)
        self._captured: dict[str, str] = {}
        self._token = ""
        self._index = -1
        self._run: steps.CaseRun | None = None
        self._case_name = ""
        self._case_started = 0.0
        self._case_sessions: list[int] = []
        self._link: ProbeLink | None = None
        self._links: list[ProbeLink] = []
        self._queue: deque[tuple[ProbeLink | None, steps.Event]] = deque()
        self._started_at = 0.0
        self._done = False
        #: stopped before its cases were over (:meth:`cancel`)
        self.cancelled = False
        self.pre_connect: PreConnect | None = None
        self._deadline = QTimer(self)
        self._deadline.setObjectName("probeDeadline")
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._on_deadline)
        self._pump = QTimer(self)
        self._pump.setObjectName("probePump")
        self._pump.setSingleShot(True)
        self._pump.setInterval(0)
        self._pump.timeout.connect(self._drain)
        self._limit = QTimer(self)
        self._limit.setObjectName("probeCaseLimit")
        self._limit.setSingleShot(True)
        self._limit.timeout.connect(self._on_case_limit)
        self._wind = QTimer(self)
        self._wind.setObjectName("probeWindDown")
        self._wind.setSingleShot(True)
        self._wind.timeout.connect(self._complete)

    @property
    def done(self) -> bool:
        return self._done

    def start(self) -> None:
        self._started_at = _now()
        try:
            checked_target(self.profile, self._variables)
        except ProfileError as exc:
            self.first_failure = str(exc)
            self._fail_all(str(exc))
            return
        if needs_requests(self.profile.auth):
            self.pre_connect = PreConnect(parent=self)
            self.pre_connect.ready.connect(self._on_pre_connect_ready)
            self.pre_connect.failed.connect(self._fail_all)
            try:
                self.pre_connect.start(self.profile)
            except ProfileError as exc:
                self._fail_all(str(exc))
            return
        self._next_case()

    def cancel(self) -> None:
        """Stop: the running case's remaining columns say the probe was cancelled."""
        self.cancelled = True
        if self._run is not None and not self._run.done:
            self._run.stop("the probe was cancelled")
            self._end_case()
        self.names = self.names[: self._index + 1]
        self._next_case()

    @Slot(object, str)
    def _on_pre_connect_ready(self, captured: dict[str, str], token: str) -> None:
        self._captured, self._token = dict(captured), token
        self._next_case()

    @Slot(str)
    def _fail_all(self, message: str) -> None:
        self.first_failure = self.first_failure or message
        for name in self.names:
            self.result.cases.append(CaseTiming(name, 0.0, (), message))
        self.names = ()
        self.result.cells["versions"] = steps.unknown(message)
        self._complete()

    # -- the cases --------------------------------------------------------------------------------

    def _next_case(self) -> None:
        if self._done:
            return
        if self._index >= 0 and not self._answered and self.first_failure:
            # nothing answered at all (no TCP, no TLS, no HTTP): the other cases would only fail the same way
            why = "not run: no connection could be opened"
            self.result.cases += [CaseTiming(name, 0.0, (), why) for name in self.names[self._index + 1:]]
            self.names = self.names[: self._index + 1]
        self._index += 1
        if self._index >= len(self.names):
            self._wind_down()
            return
        self._case_name = name = self.names[self._index]
        ctx = replace(self._ctx_template, received=[], subprotocols=self.profile.handshake.subprotocols,
                      secure=self.profile.url.strip().lower().startswith("wss:"))
        self._run = steps.CaseRun(CASES[name], ctx, self._do)
        self._case_started = _now()
        self._case_sessions = []
        self._limit.start(math.ceil(CASE_LIMIT_S * 1000))
        self.case_started.emit(name)
        self._run.start(_now())
        self._after_feed()

    def _after_feed(self) -> None:
        run = self._run
        if run is None:
            return
        if run.done:
            self._end_case()
            self._next_case()
            return
        if self._queue:
            self._pump.start()
        elif run.deadline is not None:
            self._deadline.start(max(0, math.ceil((run.deadline - _now()) * 1000)))

    def _end_case(self) -> None:
        run = self._run
        assert run is not None and run.cells is not None
        self._limit.stop()
        self._deadline.stop()
        stopped = run.cells.pop("_stopped", None)
        sessions = tuple(self._case_sessions)
        for key, cell in run.cells.items():
            self.result.cells[key] = replace(cell, sessions=sessions)
        seconds = _now() - self._case_started
        self.result.cases.append(CaseTiming(self._case_name, seconds, sessions,
                                            stopped.detail if stopped is not None else ""))
        self._let_go()
        self._queue.clear()
        self._run = None
        self.case_finished.emit(self._case_name, seconds)

    @Slot()
    def _on_case_limit(self) -> None:
        if self._run is not None and not self._run.done:
            self._run.stop(f"its time was up ({CASE_LIMIT_S:g} s)")
            self._end_case()
            self._next_case()

    @Slot()
    def _on_deadline(self) -> None:
        run = self._run
        if run is None or run.deadline is None:
            return
        if run.deadline > _now() + 0.001:
            self._after_feed()
            return
        unsent = self._link.connection.bytes_to_write if self._link is not None else 0
        run.feed(steps.TimedOut(_now(), unsent))
        self._after_feed()

    @Slot(object, object)
    def _on_link_event(self, link: ProbeLink, event: steps.Event) -> None:
        if link is self._link:
            self._queue.append((link, event))
            if not self._pump.isActive():
                self._pump.start()

    @Slot()
    def _drain(self) -> None:
        while self._queue and self._run is not None and not self._run.done:
            link, event = self._queue.popleft()
            if link is not self._link:
                continue
            if isinstance(event, steps.Opened):
                self.result.connected = self._answered = True
            elif isinstance(event, steps.Refused):
                self._answered = self._answered or event.status is not None
                self.first_failure = self.first_failure or event.message
            if isinstance(event, steps.Received) and event.opcode == "close" and len(event.payload) >= 2:
                self._codes_sent.add(int.from_bytes(event.payload[:2], "big"))
            if isinstance(event, steps.Closed) and link is not None:
                event = replace(event, unsent=link.connection.bytes_to_write)
            self._run.feed(event)
        self._after_feed()

    # -- doing what a case says -------------------------------------------------------------------

    def _do(self, action: steps.Action) -> float:
        if isinstance(action, steps.Open):
            self._open(action)
            return _now()
        if isinstance(action, steps.AskAlpn):
            self._ask_alpn()
            return _now()
        link = self._link
        if link is None or link.done:
            return _now()
        conn = link.connection
        try:
            if isinstance(action, steps.Send):
                conn.send(action.data, action.text)
            elif isinstance(action, steps.SendParts):
                conn.send_parts(list(action.parts), action.text, action.ping_between)
            elif isinstance(action, steps.SendFrame):
                conn.send_raw_frame(action.opcode, action.data, action.rsv)
            elif isinstance(action, steps.Ping):
                conn.ping(action.data)
            elif isinstance(action, steps.Close):
                conn.close(action.code, action.reason)
            elif isinstance(action, steps.HoldReading):
                conn.hold_reading(action.held)
            elif isinstance(action, steps.Drop):
                link.drop()
        except RuntimeError:
            pass  # the connection ended meanwhile: its Closed event is on its way
        return _now()

    def _target(self, action: steps.Open) -> ResolvedTarget:
        handshake = self.profile.handshake
        changes: dict[str, dict[str, object]] = {
            "protocol": {"engine": ENGINE_WIRE, "auto_pong": action.auto_pong},
            "handshake": {"subprotocols": action.subprotocols if action.subprotocols is not None
                          else handshake.subprotocols,
                          "origin": action.origin if action.origin is not None else handshake.origin,
                          "timeout_s": min(handshake.timeout_s, HANDSHAKE_TIMEOUT_S)},
            "limits": {"max_message_size": action.max_size, "max_frame_size": action.max_size},
            "compression": ({"deflate": True, "server_max_window_bits": 0, "client_max_window_bits": 0,
                             "server_no_context_takeover": False, "client_no_context_takeover": False,
                             **action.deflate} if action.deflate is not None else {"deflate": False}),
        }
        profile = self.profile.with_changes(**changes)
        if self._captured or self._token:
            target = prepared_target(profile, self._captured, self._token, self._variables)
        else:
            target = checked_target(profile, self._variables)
        if not action.version:
            return target
        # a connection may not set the version itself (the handshake does): the probe does, on the target
        headers = tuple((k, v) for k, v in target.handshake.headers if k.lower() != "sec-websocket-version")
        return replace(target, handshake=replace(target.handshake,
                                                 headers=(*headers, ("Sec-WebSocket-Version", action.version))))

    def _let_go(self) -> None:
        """The case's connection is no longer its: an open one is closed (the closing handshake ends in the
        background, bounded by the close timeout), one still opening is abandoned."""
        link, self._link = self._link, None
        if link is None or link.done:
            return
        state = link.connection.state
        if state is ConnectionState.OPEN:
            link.connection.close(1000, "wsinspector probe")
        elif state is not ConnectionState.CLOSING:
            link.drop()

    def _open(self, action: steps.Open) -> None:
        self._let_go()
        name = f"Probe · {self._case_name}: {action.label}"
        link = ProbeLink(self._store, name, self._shown, self._profile_id, parent=self)
        self._links.append(link)
        link.happened.connect(self._on_link_event)
        if link.session_id is not None:
            self._case_sessions.append(link.session_id)
        self._link = link
        try:
            target = self._target(action)
        except ProfileError as exc:
            link.drop()
            self._on_link_event(link, steps.Refused(_now(), None, (), str(exc)))
            return
        link.open(target)

    def _ask_alpn(self) -> None:
        self._let_go()
        try:
            target = self._target(steps.Open("ALPN"))
        except ProfileError as exc:
            self._queue.append((None, steps.Alpn(_now(), "", str(exc))))
            self._pump.start()
            return
        check = AlpnCheck(self)

        def answered(protocol: str, error: str, settings: list[list[int]], settings_error: str) -> None:
            if self._run is not None and not self._run.done and self._link is None:
                pairs = tuple((int(k), int(v)) for k, v in settings)
                self._queue.append((None, steps.Alpn(_now(), protocol, error, pairs, settings_error)))
                self._pump.start()
            check.deleteLater()

        check.answered.connect(answered)
        check.start(target, HANDSHAKE_TIMEOUT_S)

    # -- the end ----------------------------------------------------------------------------------

    def _wind_down(self) -> None:
        if all(link.done for link in self._links):
            self._complete()
            return
        for link in self._links:
            if not link.done:
                link.ended.connect(self._on_link_ended)
        self._wind.start(math.ceil(WIND_DOWN_S * 1000))

    @Slot(object)
    def _on_link_ended(self, _link: ProbeLink) -> None:
        if all(link.done for link in self._links):
            self._complete()

    @Slot()
    def _complete(self) -> None:
        if self._done:
            return
        self._done = True
        for timer in (self._deadline, self._pump, self._limit, self._wind):
            timer.stop()
        if self.pre_connect is not None:
            self.pre_connect.abort()
        for link in self._links:
            link.drop()
            link.blockSignals(True)
            link.deleteLater()
        self._links.clear()
        self.result.seconds = _now() - self._started_at
        finish(self.result, self._codes_sent)
        if self._store is not None:
            try:
                text, _ = kept_with(self._store.setting(PROBES_SETTING), self.result)
                self._store.set_setting(PROBES_SETTING, text)
            except (StoreError, sqlite3.Error) as exc:
                log.warning("could not keep the probe: %s", exc)
        self.finished.emit(self.result)
