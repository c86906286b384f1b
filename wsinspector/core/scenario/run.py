"""Running a test: the replay speed, and :class:`Replay`, the runner as a state machine.

The caller owns the connection and the clock, feeds the runner what arrives and does what it says (send
this, wait until then), which keeps it testable without sleeps.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..frames import Opcode
from ..profiles import UnknownVariableError
from ..redact import is_secret_field
from .matching import Incoming, MatchResult, considers, describe_expected, describe_received, match
from .model import ExpectStep, Matcher, Scenario, SendStep, Step, WaitStep, seconds_text, step_kind, step_label
from .secrets import MASK
from .variables import initial_variables, render_send
from .verdict import RunResult, StepResult, Verdict

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


def send_delays(steps: Sequence[Step], speed: float) -> list[tuple[int, float]]:
    """(step index, seconds to wait before it) for every send step at ``speed``. The wait counts from the
    end of the step before; fixed waits and timeouts are not scaled."""
    return [(i, scaled_delay(step.delay_s, speed)) for i, step in enumerate(steps) if isinstance(step, SendStep)]


# -- the runner --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendAction:
    """Send this message now, then call :meth:`Replay.poll` again."""

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
    received message or control frame goes to :meth:`on_message`, the end of the connection to
    :meth:`on_closed`, a failure (cannot send, dropped) to :meth:`on_error`. ``now`` is any monotonic clock in
    seconds. The run stops at the first step that does not pass; the rest are skipped.
    """

    def __init__(self, test: Scenario, variables: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 speed: float = 1.0) -> None:
        self.test = test
        self.speed = speed
        self._variables = initial_variables(test, variables)
        self._results: list[StepResult] = []
        #: a send handed to the caller: it passes at the next poll, unless on_error comes first
        self._sending: StepResult | None = None
        self._inbox: deque[tuple[Opcode, bytes, float]] = deque()
        self._step_start: float | None = None
        self._connect_start: float | None = None
        self._run_start: float | None = None
        self._run_end: float | None = None
        self._closed = ""
        self._error = ""
        self._done = False
        #: a wait-until step: how many messages did not match, and the last of them
        self._passed_over = 0
        self._last_mismatch: MatchResult | None = None

    @property
    def variables(self) -> dict[str, str]:
        """The variables now (captures included)."""
        return dict(self._variables)

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

    def result(self) -> RunResult:
        start = self._run_start or 0.0
        end = self._run_end if self._run_end is not None else start
        steps = (*self._results, self._sending) if self._sending is not None else tuple(self._results)
        return RunResult(steps, self.test.name, max(0.0, end - start), self._error)

    def connecting(self, now: float) -> None:
        """The caller starts to connect: if that fails, the run lasted from here."""
        if self._connect_start is None:
            self._connect_start = now

    def on_message(self, opcode: Opcode, payload: bytes, now: float) -> None:
        """A message (or control frame) arrived at ``now``."""
        if self._done:
            return
        self._inbox.append((Opcode(opcode), payload, now))
        if opcode is Opcode.CLOSE:
            self._closed = f"the connection was closed ({describe_received(Opcode.CLOSE, payload)})"

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

    def poll(self, now: float) -> Action:  # noqa: C901
        """What to do next."""
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
            if isinstance(step, SendStep):
                ready = start + scaled_delay(step.delay_s, self.speed)
                if now < ready:
                    return WaitAction(ready)
                try:
                    opcode, payload = render_send(step, self._variables)
                except UnknownVariableError as exc:
                    self._error = str(exc)
                    self._finish(Verdict.ERROR, now, str(exc))
                    continue
                self._sending = self._step_result(Verdict.PASSED, now, f"sent {opcode.label} ({len(payload)} bytes)",
                                                  expected=describe_received(opcode, payload))
                self._step_start = max(start, now)
                return SendAction(index, opcode, payload)
            matcher = step.matcher if isinstance(step, ExpectStep) else step.until
            if matcher is None:
                assert isinstance(step, WaitStep) and step.seconds is not None
                until = start + step.seconds
                if now < until:
                    return WaitAction(until)
                self._finish(Verdict.PASSED, now, f"waited {seconds_text(step.seconds)} s")
                continue
            assert not isinstance(step, SendStep)
            deadline = start + self.test.step_timeout(step)
            if self._consume(step, matcher, deadline):
                continue
            if self._closed:
                self._finish_unmatched(now, f"{self._closed} before a matching message", matcher)
            elif now >= deadline:
                timeout = seconds_text(self.test.step_timeout(step))
                self._finish_unmatched(deadline, f"timeout: no matching message within {timeout} s", matcher)
            else:
                return WaitAction(deadline)
        return Finished(self.result())

    def _consume(self, step: ExpectStep | WaitStep, matcher: Matcher, deadline: float) -> bool:
        """Check buffered messages against the step; True when the step finished."""
        lenient = isinstance(step, WaitStep)
        while self._inbox:
            opcode, payload, at = self._inbox[0]
            if at > deadline:
                return False
            self._inbox.popleft()
            if not considers(matcher, opcode):
                continue
            try:
                outcome = match(step, Incoming(opcode, payload), self._variables)
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
            self._passed_over += 1
            self._last_mismatch = outcome
        return False

    def _finish_unmatched(self, at: float, message: str, matcher: Matcher) -> None:
        """A step that waited for a message in vain; for a wait-until, what arrived instead."""
        last, count = self._last_mismatch, self._passed_over
        if last is None:
            self._finish(Verdict.FAILED, at, message, expected=describe_expected(matcher, self._variables))
            return
        plural = "s" if count > 1 else ""
        message += f"; {count} message{plural} did not match, the last: {last.summary}"
        self._finish(Verdict.FAILED, at, message, expected=last.expected or describe_expected(matcher, self._variables),
                     received=last.received, diff=last.diff_text)

    def _step_result(self, status: Verdict, at: float, message: str = "", expected: str = "", received: str = "",
                     diff: str = "") -> StepResult:
        index = len(self._results)
        step = self.test.steps[index]
        start = self._step_start if self._step_start is not None else at
        return StepResult(index, step_label(index, step), step_kind(step), status, max(0.0, at - start), message,
                          expected, received, diff)

    def _finish(self, status: Verdict, at: float, message: str = "", expected: str = "", received: str = "",
                diff: str = "") -> None:
        self._passed_over, self._last_mismatch = 0, None
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

