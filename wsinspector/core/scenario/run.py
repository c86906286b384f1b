"""Running a test: the replay speed, and :class:`Replay`, the runner as a state machine.

The caller owns the connection and the clock, feeds the runner what arrives and does what it says (send
this, wait until then), which keeps it testable without sleeps.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..dynamic import SendContext, UnknownDynamicValueError
from ..frames import Opcode
from ..profiles import UnknownVariableError
from ..protocols.base import ProtocolError
from ..redact import is_secret_field
from ..words import plural
from .inbox import Inbox, Want
from .matching import Incoming, describe_expected, describe_received, match
from .model import (
    BytesMatcher,
    EventStep,
    ExpectStep,
    Matcher,
    OpcodeMatcher,
    Scenario,
    SendStep,
    Step,
    TextMatcher,
    VerbStep,
    WaitStep,
    seconds_text,
    step_kind,
    step_label,
)
from .protocol_run import ProtocolPump
from .secrets import MASK
from .variables import expand, initial_variables, render_send
from .verdict import RunResult, StepResult, Verdict


def _bytes(count: int) -> str:
    return f"{count} {plural(count, 'byte')}"


# -- replay speed ------------------------------------------------------------------------------------


def parse_speed(value: str | float) -> float:
    """A replay speed: 1 as recorded, 0.5 half speed, 2 twice as fast, 0 or ``max`` without delays.
    Accepts ``2x``. ``ValueError`` with a message for the user."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("max", "inf", "infinite"):
            return 0.0
        try:
            speed = float(text.removesuffix("x"))
        except ValueError:
            raise ValueError(f"speed {value!r}: expected a number (1 as recorded, 2 twice as fast) or max") from None
    else:
        speed = float(value)
    if math.isnan(speed) or speed < 0:
        raise ValueError(f"speed {value!r}: must be positive (or 0 / max for no delays)")
    return 0.0 if math.isinf(speed) else speed


def scaled_delay(delay_s: float | None, speed: float) -> float:
    """Seconds to wait for a recorded delay at ``speed`` (0 = as fast as possible)."""
    if delay_s is None or delay_s <= 0 or speed <= 0 or math.isinf(speed):
        return 0.0
    return delay_s / speed


def _reads(step: Step) -> bool:
    """Whether ``step`` reads the messages received."""
    return isinstance(step, ExpectStep | EventStep) or (isinstance(step, WaitStep) and step.until is not None)


def send_delays(steps: Sequence[Step], speed: float) -> list[tuple[int, float]]:
    """(step index, seconds to wait before it) for every send step (and protocol verb) at ``speed``. The wait
    counts from the end of the step before; fixed waits and timeouts are not scaled."""
    return [(i, scaled_delay(step.delay_s, speed)) for i, step in enumerate(steps)
            if isinstance(step, SendStep | VerbStep)]


# -- the runner --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendAction:
    """Send this message now, then call :meth:`Replay.poll` again. ``step`` is -1 for the housekeeping of the
    test's protocol (a pong, a heart-beat)."""

    step: int
    opcode: Opcode
    payload: bytes


@dataclass(frozen=True, slots=True)
class WaitAction:
    """Feed what arrives to :meth:`Replay.on_message` and call :meth:`Replay.poll` again when something
    arrived or at ``until`` (seconds, on the clock the caller uses), whichever comes first."""

    until: float


@dataclass(frozen=True, slots=True)
class Finished:
    """The run is over: close the connection and report ``result``."""

    result: RunResult


Action = SendAction | WaitAction | Finished


class Replay:
    """Runs a test against a connection that the caller owns.

    The caller connects (with :func:`to_profile`; if that fails, :meth:`on_error` before the first poll),
    then loops: ``action = replay.poll(now)``; on a :class:`SendAction` it sends, on a :class:`WaitAction`
    it waits for a message or the deadline, on :class:`Finished` it closes the connection and stops. Every
    received message or control frame goes to :meth:`on_message` (or the caller hands over an ``inbox`` that
    reads them where they are, :class:`~.inbox.LogInbox`), the end of the connection to :meth:`on_closed`, a
    failure (cannot send, dropped) to :meth:`on_error`, a frame the client refused to
    :meth:`on_protocol_error`, and after the run a closing handshake that went wrong to
    :meth:`on_closing_failed`. ``now`` is any monotonic clock in seconds. The run stops at the first step that
    does not pass; the rest are skipped.
    """

    def __init__(self, test: Scenario, variables: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 speed: float = 1.0, inbox: Inbox | None = None, wall_clock: Callable[[], float] | None = None,
                 rng: random.Random | None = None) -> None:
        self.test = test
        self.speed = speed
        #: the wall clock (epoch seconds) and generator of dynamic values in send steps (``{{$uuid}}``…); without
        #: a clock they are sent as written
        self.wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._sends = 0
        self._variables = initial_variables(test, variables)
        self._results: list[StepResult] = []
        #: a send handed to the caller: it passes at the next poll, unless on_error comes first
        self._sending: StepResult | None = None
        self._inbox = inbox if inbox is not None else Inbox()
        #: what the waiting step asks of the inbox, by step index
        self._wants: dict[int, Want] = {}
        self._step_start: float | None = None
        self._connect_start: float | None = None
        self._run_start: float | None = None
        self._run_end: float | None = None
        self._closed = ""
        self._error = ""
        #: the client refused what the server sent (a protocol error), and when
        self._broken = ""
        self._broken_at = 0.0
        self._broken_told = False  # a step's verdict says it
        #: what went wrong once the steps were over: the closing handshake, a protocol error
        self._closing = ""
        self._done = False
        #: the test's protocol, when it names one
        self._pump: ProtocolPump | None = ProtocolPump(test) if test.protocol else None
        #: the index of the last step that reads the messages received (-1: none does)
        self._last_reader = max((index for index, step in enumerate(test.steps) if _reads(step)), default=-1)

    @property
    def variables(self) -> dict[str, str]:
        """The variables now (captures included)."""
        return dict(self._variables)

    def use_variables(self, values: Mapping[str, str]) -> None:
        """Values found before the steps run (what the login before connecting captured): they win over the
        file's and the command line's, and a step's capture wins over them."""
        self._variables.update(values)

    @property
    def results(self) -> tuple[StepResult, ...]:
        """The steps finished so far."""
        return tuple(self._results)

    @property
    def current(self) -> int | None:
        """Index of the step running or next to run; None when the run is over."""
        if self._sending is not None:
            return self._sending.index
        return None if self._done or len(self._results) >= len(self.test.steps) else len(self._results)

    @property
    def done(self) -> bool:
        return self._done

    @property
    def reads_more(self) -> bool:
        """Whether a step still to finish, or the test's protocol, will read messages from the inbox: when not,
        what arrives is for no step (a fixed wait that ends the test, the connection closing)."""
        if self._done:
            return False
        return self._pump is not None or len(self._results) <= self._last_reader

    def result(self) -> RunResult:
        start = self._run_start or 0.0
        end = self._run_end if self._run_end is not None else start
        steps = (*self._results, self._sending) if self._sending is not None else tuple(self._results)
        return RunResult(steps, self.test.name, max(0.0, end - start), self._error, self._closing)

    def connecting(self, now: float) -> None:
        """The caller starts to connect: if that fails, the run lasted from here."""
        if self._connect_start is None:
            self._connect_start = now

    def on_message(self, opcode: Opcode, payload: bytes, now: float) -> None:
        """A message (or control frame) arrived at ``now``."""
        if self._done:
            return
        self._inbox.push(Opcode(opcode), payload, now)
        if opcode is Opcode.CLOSE:
            self._closed = f"the connection was closed ({describe_received(Opcode.CLOSE, payload)})"

    def on_protocol_error(self, message: str, now: float) -> None:
        """The client refused what the server sent (a frame RFC 6455 forbids; ``message`` says what) and is
        failing the connection: nothing after it is a message. The messages that came before it still count;
        the step they do not finish is an error saying what the server did wrong, whatever its kind. After
        the last step, the run's closing is (:attr:`RunResult.closing`)."""
        if self._done:
            self.on_closing_failed(message, now)
        elif not self._broken:
            self._broken, self._broken_at = message, now

    def on_closing_failed(self, message: str, now: float) -> None:
        """After the last step, the connection did not end well: a protocol error, or the server did not
        answer our close frame in time. Before that, it is an error like :meth:`on_error`."""
        if not self._done:
            self.on_error(message, now)
        elif not self._closing:
            self._closing = message

    def on_closed(self, now: float, reason: str = "") -> None:
        """The connection ended (after a close frame, or without one). Steps still waiting for a message fail."""
        if not self._closed:
            self._closed = f"the connection was closed{': ' + reason if reason else ''}"

    def on_error(self, message: str, now: float) -> None:
        """The connection failed or dropped, or a send failed: the running step (the send just handed out, if
        any) is an error and the rest are skipped. Before the first poll (cannot connect), every step is
        skipped and the run has the error. After the last step, it changes nothing."""
        if self._done:
            return
        if self._run_start is None:
            self._run_start = self._step_start = self._connect_start if self._connect_start is not None else now
            self._error = message
            self._skip_rest("not run: the connection failed")
        elif self._sending is not None:
            self._error = message
            failed, self._sending = self._sending, None
            self._record(StepResult(failed.index, failed.name, failed.kind, Verdict.ERROR, failed.duration_s,
                                    message, failed.expected))
        elif len(self._results) < len(self.test.steps):
            self._error = message
            self._finish(Verdict.ERROR, now, message)
        self._end(now)

    def poll(self, now: float) -> Action:
        """What to do next."""
        pump = self._pump
        if pump is None or self._done:
            return self._poll(now)
        if not pump.started:
            try:
                pump.start(now, self._variables)
            except (ProtocolError, UnknownVariableError) as exc:
                if self._run_start is None:
                    self._run_start = self._step_start = now  # the run starts, and its first step fails
                self.on_error(f"{self.test.protocol}: {exc}", now)
                return Finished(self.result())
        closed = pump.feed(self._inbox, now)
        if closed and not self._closed:
            self._closed = closed
        out = pump.next_out()
        if out is not None:
            return SendAction(-1, Opcode.TEXT if out.text else Opcode.BINARY, out.payload)
        action = self._poll(now)
        deadline = pump.deadline()
        if isinstance(action, WaitAction) and deadline is not None and deadline < action.until:
            return WaitAction(deadline)
        return action

    def _poll(self, now: float) -> Action:  # noqa: C901, PLR0912
        if self._run_start is None:
            self._run_start = self._step_start = now
        if self._sending is not None:
            sent, self._sending = self._sending, None
            self._record(sent)
        while not self._done:
            index = len(self._results)
            if index >= len(self.test.steps):
                self._end(now)
                break
            step = self.test.steps[index]
            start = self._step_start if self._step_start is not None else now
            if isinstance(step, VerbStep | EventStep):
                action = self._protocol_step(index, step, start, now)
                if action is None:
                    continue
                return action
            if isinstance(step, SendStep):
                if self._broken:
                    self._fail_broken(max(start, self._broken_at), f"cannot send: {self._broken}")
                    continue
                ready = start + scaled_delay(step.delay_s, self.speed)
                if now < ready:
                    return WaitAction(ready)
                try:
                    opcode, payload = render_send(step, self._variables, self._send_context())
                except (UnknownVariableError, UnknownDynamicValueError) as exc:
                    self._error = str(exc)
                    self._finish(Verdict.ERROR, now, str(exc))
                    continue
                self._sending = self._step_result(Verdict.PASSED, now, f"sent {opcode.label} ({_bytes(len(payload))})",
                                                  expected=describe_received(opcode, payload))
                self._step_start = max(start, now)
                self._sends += 1
                return SendAction(index, opcode, payload)
            matcher = step.matcher if isinstance(step, ExpectStep) else step.until
            if matcher is None:
                assert isinstance(step, WaitStep) and step.seconds is not None
                until = start + step.seconds
                if self._broken and self._broken_at <= until:
                    self._fail_broken(max(start, self._broken_at), self._broken)
                    continue
                if now < until:
                    return WaitAction(until)
                self._finish(Verdict.PASSED, now, f"waited {seconds_text(step.seconds)} s")
                continue
            assert not isinstance(step, SendStep)
            deadline = start + self.test.step_timeout(step)
            if self._consume(step, matcher, deadline):
                continue
            if self._broken and self._broken_at <= deadline:
                self._finish_unmatched(max(start, self._broken_at), self._broken, step, Verdict.ERROR)
            elif self._closed:
                self._finish_unmatched(now, f"{self._closed} before a matching message", step)
            elif now >= deadline:
                timeout = seconds_text(self.test.step_timeout(step))
                self._finish_unmatched(deadline, f"timeout: no matching message within {timeout} s", step)
            else:
                return WaitAction(deadline)
        return Finished(self.result())

    def _protocol_step(self, index: int, step: VerbStep | EventStep, start: float,  # noqa: PLR0911
                       now: float) -> Action | None:
        """A step of the test's protocol: what to do now, or None when it finished."""
        pump = self._pump
        if pump is None:
            self._finish(Verdict.ERROR, now, "this step needs the test to name its protocol (protocol: …)")
            return None
        if isinstance(step, VerbStep):
            if self._broken:
                self._fail_broken(max(start, self._broken_at), f"cannot send: {self._broken}")
                return None
            ready = start + scaled_delay(step.delay_s, self.speed)
            if now < ready:
                return WaitAction(ready)
            try:
                done = pump.invoke(step, self._variables, now)
            except (ProtocolError, UnknownVariableError) as exc:
                self._error = str(exc)
                self._finish(Verdict.ERROR, now, str(exc))
                return None
            self._finish(Verdict.PASSED, now, done)
            out = pump.next_out()
            return None if out is None else SendAction(index, Opcode.TEXT if out.text else Opcode.BINARY,
                                                       out.payload)
        deadline = start + self.test.step_timeout(step)
        try:
            outcome = pump.take(step, self._variables, deadline)
        except UnknownVariableError as exc:
            self._error = str(exc)
            self._finish(Verdict.ERROR, now, str(exc))
            return None
        if outcome is not None:
            pump.reset_passed()
            self._finish(Verdict.PASSED if outcome.ok else Verdict.FAILED, outcome.at, outcome.summary,
                         expected=outcome.expected, received=outcome.received, diff=outcome.diff)
            return None
        if self._broken and self._broken_at <= deadline:
            self._error, self._broken_told = self._broken, True
            self._finish(Verdict.ERROR, max(start, self._broken_at), pump.unmatched(self._broken))
        elif self._closed:
            self._finish(Verdict.FAILED, now, pump.unmatched(f"{self._closed} before a matching {step.kind}"))
        elif now >= deadline:
            timeout = seconds_text(self.test.step_timeout(step))
            self._finish(Verdict.FAILED, deadline, pump.unmatched(f"timeout: no matching {step.kind} within "
                                                                  f"{timeout} s"))
        else:
            return WaitAction(deadline)
        pump.reset_passed()
        return None

    def _want(self, index: int, step: ExpectStep | WaitStep, matcher: Matcher) -> Want:
        """What the step asks of the inbox: an ``expect`` the next message it considers; a ``wait until``
        only those that can match (and close frames, which end its wait)."""
        want = self._wants.get(index)
        if want is not None:
            return want
        asked = matcher.opcode if isinstance(matcher, OpcodeMatcher) else None
        considered = frozenset(op for op in Opcode if op not in (Opcode.PING, Opcode.PONG) or op is asked)
        if isinstance(step, ExpectStep):
            want = Want(considered, considered)
        elif isinstance(matcher, OpcodeMatcher):
            want = Want(frozenset({matcher.opcode, Opcode.CLOSE}), considered)
        elif isinstance(matcher, BytesMatcher):
            want = Want(frozenset({Opcode.BINARY, Opcode.CLOSE}), considered, exact=matcher.data)
        else:
            exact = None
            if isinstance(matcher, TextMatcher):
                try:
                    exact = expand(matcher.text, self._variables).encode("utf-8", "surrogatepass")
                except UnknownVariableError:
                    exact = None  # the match says so
            want = Want(frozenset({Opcode.TEXT, Opcode.CLOSE}), considered, exact=exact)
        self._wants[index] = want
        return want

    def _consume(self, step: ExpectStep | WaitStep, matcher: Matcher, deadline: float) -> bool:
        """Check what the inbox holds for the step; True when the step finished."""
        lenient = isinstance(step, WaitStep)
        inbox = self._inbox
        want = self._want(len(self._results), step, matcher)
        while True:
            item = inbox.take(want, deadline)
            if item is None:
                return False
            opcode, payload, at = item
            message = Incoming(opcode, payload)
            if opcode is Opcode.CLOSE:
                self._closed = f"the connection was closed ({describe_received(Opcode.CLOSE, payload)})"
            try:
                outcome = match(step, message, self._variables, describe=not lenient)
                if outcome.ok and lenient:
                    outcome = match(step, message, self._variables)
            except UnknownVariableError as exc:
                self._error = str(exc)
                self._finish(Verdict.ERROR, at, str(exc))
                return True
            if outcome.ok:
                self._variables.update(outcome.captured)
                captured = ", ".join(f"{name}={MASK if is_secret_field(name) else value}"
                                     for name, value in outcome.captured.items())
                self._finish(Verdict.PASSED, at, f"captured {captured}" if captured else "",
                             expected=outcome.expected, received=outcome.received)
                return True
            if not lenient:
                self._finish(Verdict.FAILED, at, outcome.summary, expected=outcome.expected,
                             received=outcome.received, diff=outcome.diff_text)
                return True
            inbox.passed += 1
            inbox.last_passed = (opcode, payload)

    def _fail_broken(self, at: float, message: str) -> None:
        self._error, self._broken_told = self._broken, True
        self._finish(Verdict.ERROR, at, message)

    def _finish_unmatched(self, at: float, message: str, step: ExpectStep | WaitStep,
                          status: Verdict = Verdict.FAILED) -> None:
        """A step that waited for a message in vain; for a wait-until, what arrived instead."""
        matcher = step.matcher if isinstance(step, ExpectStep) else step.until
        assert matcher is not None
        if status is Verdict.ERROR:
            self._error, self._broken_told = message, True
        inbox = self._inbox
        last, count = inbox.last_passed, inbox.passed
        if last is None:
            self._finish(status, at, message, expected=describe_expected(matcher, self._variables))
            return
        try:
            mismatch = match(step, Incoming(*last), self._variables)
        except UnknownVariableError:
            self._finish(status, at, message, expected=describe_expected(matcher, self._variables))
            return
        plural = "s" if count > 1 else ""
        message += f"; {count} message{plural} did not match, the last: {mismatch.summary}"
        self._finish(status, at, message, expected=mismatch.expected or describe_expected(matcher, self._variables),
                     received=mismatch.received, diff=mismatch.diff_text)

    def _send_context(self) -> SendContext | None:
        """Dynamic values of the next send: its time, its number in the run (``{{$counter}}``)."""
        return None if self.wall_clock is None else SendContext(self.wall_clock(), self._sends + 1, self._rng)

    def _step_result(self, status: Verdict, at: float, message: str = "", expected: str = "", received: str = "",
                     diff: str = "") -> StepResult:
        index = len(self._results)
        step = self.test.steps[index]
        start = self._step_start if self._step_start is not None else at
        return StepResult(index, step_label(index, step), step_kind(step), status, max(0.0, at - start), message,
                          expected, received, diff)

    def _finish(self, status: Verdict, at: float, message: str = "", expected: str = "", received: str = "",
                diff: str = "") -> None:
        self._inbox.reset_passed()
        self._record(self._step_result(status, at, message, expected, received, diff))
        if self._step_start is None or at > self._step_start:
            self._step_start = at
        if status is not Verdict.PASSED:
            self._end(at)

    def _record(self, result: StepResult) -> None:
        self._results.append(result)
        if result.status is not Verdict.PASSED:
            self._skip_rest(f"not run: {result.name} {result.status.value}")

    def _skip_rest(self, message: str) -> None:
        for index in range(len(self._results), len(self.test.steps)):
            step = self.test.steps[index]
            self._results.append(StepResult(index, step_label(index, step), step_kind(step), Verdict.SKIPPED,
                                            0.0, message))

    def _end(self, at: float) -> None:
        if not self._done:
            self._done = True
            self._run_end = at
            if self._broken and not self._broken_told and not self._closing:
                self._closing = self._broken  # after the last step, or after the step that ended the run

