"""What one connection sends besides the frames the user asks for one by one: the counter behind
``{{$counter}}``, the composer's history, periodic sends and auto-replies. One per ``ConnectionController``
(its ``composing``); the logic without Qt is in ``core/dynamic.py`` and ``core/sending.py``."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.core.dynamic import SendContext, UnknownDynamicValueError, expand_for_send
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.payloads import PayloadError, encode
from wsinspector.core.profiles import UnknownVariableError
from wsinspector.core.sending import (
    HISTORY_KEEP,
    AutoReplyRule,
    RateLimit,
    Schedule,
    SendingError,
    mode_of,
    rule_from_tuple,
)
from wsinspector.core.store import Store, StoreError

if TYPE_CHECKING:
    from wsinspector.app.connection import ConnectionController

log = logging.getLogger(__name__)


class Composing(QObject):
    """Signals:
        sent(): a message went out through here (the counter moved)
        history_changed()
        schedules_changed(): a schedule started, sent a message or ended
        auto_replies_changed(): a reply was sent, or one was over the rate limit
        refused(str): a send could not be made (why, for the user)
    """

    sent = Signal()
    history_changed = Signal()
    schedules_changed = Signal()
    auto_replies_changed = Signal()
    refused = Signal(str)

    def __init__(self, controller: ConnectionController, store: Store | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else controller)
        self._controller = controller
        self._store = store
        self.rng = random.Random()
        #: messages sent through here on this connection: ``{{$counter}}`` is the next one's number
        self.sends = 0
        #: (kind, text as typed) of the messages sent from the composer, oldest first
        self.history: list[tuple[str, str]] = []
        self._history_of: str | None = None
        self.schedules: dict[int, tuple[Schedule, QTimer]] = {}
        self._next_schedule = 1
        self.rules: tuple[AutoReplyRule, ...] = ()
        self.auto_reply_on = True
        self.limit = RateLimit(10)
        #: the clock the rate limit reads (seconds)
        self.clock: Callable[[], float] = time.monotonic
        self.replies_sent = 0
        self._seen = 0
        controller.state_changed.connect(self._on_state_changed)
        controller.session_started.connect(self._on_session_started)
        controller.frames_arrived.connect(self._on_frames_arrived)

    # -- sending ------------------------------------------------------------------------------------

    def send_context(self) -> SendContext:
        """The dynamic values' source for the next send."""
        return SendContext(time.time(), self.sends + 1, self.rng)

    def expand(self, text: str) -> str:
        """A text template as the next send sends it (ValueError naming an unknown variable or dynamic value)."""
        try:
            return expand_for_send(text, self._controller.variables, self.send_context())
        except UnknownVariableError as exc:
            raise ValueError(f"{exc} in the message: nothing was sent. Define it in an environment, the globals "
                             "or the connection's variables, or switch {{variables}} off to send it as typed.") \
                from None
        except UnknownDynamicValueError as exc:
            raise ValueError(f"{exc}: nothing was sent") from None

    def send(self, data: bytes, is_text: bool, origin: int = 0, frame_size: int = 0) -> None:
        """Send one message; frames it wrote are marked with ``origin`` (``header.SCHEDULED``/``AUTO_REPLY``)."""
        controller = self._controller
        first = len(controller.log)
        if frame_size:
            controller.send_fragmented(data, is_text, frame_size)
        else:
            controller.send(data, is_text)
        if origin:
            controller.log.mark(first, len(controller.log) - 1, origin)
        self.sends += 1
        self.sent.emit()

    def send_template(self, kind: str, text: str, expand: bool = True, origin: int = 0) -> None:
        """Expand (text and JSON, unless ``expand`` is off), encode and send a template: ValueError saying why
        nothing was sent, RuntimeError when not connected."""
        mode = mode_of(kind)
        source = self.expand(text) if expand and not mode.is_binary else text
        try:
            encoded = encode(mode, source)
        except PayloadError as exc:
            raise ValueError(str(exc)) from None
        self.send(encoded.data, encoded.is_text, origin)

    @Slot(bytes, bool)
    def request_send(self, data: bytes, is_text: bool) -> None:
        self._refusing(self.send, data, is_text)

    @Slot(bytes, bool, int)
    def request_fragmented_send(self, data: bytes, is_text: bool, frame_size: int) -> None:
        self._refusing(self.send, data, is_text, 0, frame_size)

    @Slot(str, str)
    def request_template(self, kind: str, text: str) -> None:
        """A saved message sent with one click."""
        self._refusing(self.send_template, kind, text)

    def _refusing(self, method: object, *args: object) -> bool:
        try:
            method(*args)  # type: ignore[operator]
        except (RuntimeError, ValueError) as exc:
            self.refused.emit(str(exc))
            return False
        return True

    # -- history ------------------------------------------------------------------------------------

    @property
    def profile_id(self) -> str:
        profile = self._controller.profile
        return profile.id if profile is not None else ""

    def load_history(self, profile_id: str) -> None:
        """The history of this connection (once per connection the tab shows)."""
        if profile_id == self._history_of:
            return
        self._history_of = profile_id
        rows = self._store.history(profile_id, HISTORY_KEEP) if self._store is not None else []
        self.history = [(kind, text) for _wall, kind, text in rows]
        self.history_changed.emit()

    @Slot(str, str)
    def add_history(self, kind: str, text: str) -> None:
        """A message the composer sent, as typed: kept (the newest ``HISTORY_KEEP``) and stored."""
        profile_id = self._history_of if self._history_of is not None else self.profile_id
        self.load_history(profile_id)
        self.history.append((kind, text))
        del self.history[:-HISTORY_KEEP]
        if self._store is not None:
            try:
                self._store.add_history(profile_id, time.time(), kind, text, HISTORY_KEEP)
            except StoreError as exc:
                log.warning("history not saved: %s", exc)
        self.history_changed.emit()

    # -- periodic sends -----------------------------------------------------------------------------

    def start_schedule(self, schedule: Schedule) -> Schedule:
        """Send ``schedule``'s template now and then at its intervals; RuntimeError when not connected. A message
        that cannot be sent (an unknown variable, say) ends the schedule, and ``refused`` says why."""
        if not self._controller.is_open:
            raise RuntimeError("Not connected: connect first, then start a periodic send")
        schedule.id = self._next_schedule
        self._next_schedule += 1
        timer = QTimer(self)
        timer.setObjectName(f"schedule{schedule.id}")
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self._fire(schedule.id))
        self.schedules[schedule.id] = (schedule, timer)
        self._fire(schedule.id)
        return schedule

    def stop_schedule(self, schedule_id: int) -> None:
        entry = self.schedules.pop(schedule_id, None)
        if entry is not None:
            entry[1].stop()
            entry[1].deleteLater()
            self.schedules_changed.emit()

    def shutdown(self) -> None:
        """The connection is going away for good: its schedules stop, and the store is no longer used."""
        self.stop_schedules()
        self._store = None

    def stop_schedules(self) -> None:
        for schedule_id in list(self.schedules):
            self.stop_schedule(schedule_id)

    def _fire(self, schedule_id: int) -> None:
        entry = self.schedules.get(schedule_id)
        if entry is None:
            return
        schedule, timer = entry
        try:
            self.send_template(schedule.kind, schedule.text, origin=header.SCHEDULED)
        except (RuntimeError, ValueError) as exc:
            self.stop_schedule(schedule_id)
            self.refused.emit(f"Periodic send stopped: {exc}")
            return
        schedule.sent += 1
        if schedule.done:
            self.stop_schedule(schedule_id)
            return
        timer.start(schedule.next_delay_ms())
        self.schedules_changed.emit()

    # -- auto-replies -------------------------------------------------------------------------------

    def set_rules(self, rules: tuple[tuple[str, str, str, str, str, str, bool], ...], limit: int) -> None:
        """The connection's auto-reply rules (as its profile stores them) and its replies-per-second limit. A rule
        that cannot work (a stored regular expression that is not one) is left out, and ``refused`` says why."""
        usable = []
        for values in rules:
            rule = rule_from_tuple(values)
            try:
                rule.check()
            except SendingError as exc:
                self.refused.emit(f"{exc}: it is not used")
                continue
            usable.append(rule)
        self.rules = tuple(usable)
        if limit != self.limit.per_second:
            self.limit = RateLimit(limit)
        self.auto_replies_changed.emit()

    def set_auto_reply(self, on: bool) -> None:
        self.auto_reply_on = on
        self.auto_replies_changed.emit()

    @Slot(int, int)
    def _on_frames_arrived(self, first: int, last: int) -> None:
        start = max(first, self._seen)
        self._seen = last + 1
        rules = [rule for rule in self.rules if rule.enabled] if self.auto_reply_on else []
        if not rules or not self._controller.is_open:
            return
        log_ = self._controller.log
        for seq in range(start, last + 1):
            if log_.direction(seq) is not Direction.IN or log_.opcode(seq) not in (Opcode.TEXT, Opcode.CONTINUATION):
                continue
            message = log_.message_for(seq)
            if message is None or message.last_seq != seq or message.opcode is not Opcode.TEXT:
                continue
            text = message.payload.decode("utf-8", "replace")
            rule = next((rule for rule in rules if rule.matches(text)), None)
            if rule is not None:
                self._reply(rule)

    def _reply(self, rule: AutoReplyRule) -> None:
        if not self.limit.allow(self.clock()):
            self.auto_replies_changed.emit()
            return
        if self._refusing(self.send_template, rule.reply_kind, rule.reply, True, header.AUTO_REPLY):
            self.replies_sent += 1
        self.auto_replies_changed.emit()

    # -- the connection -----------------------------------------------------------------------------

    @Slot(object)
    def _on_state_changed(self, state: ConnectionState) -> None:
        if state is not ConnectionState.OPEN and self.schedules:
            self.stop_schedules()

    @Slot()
    def _on_session_started(self) -> None:
        self._seen = 0
