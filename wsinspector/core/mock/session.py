"""One client of a mock server, as a state machine: told when the connection opened, each message and ping the
client sent, and the time; it says what to do and when (:meth:`MockSession.due`, :meth:`MockSession.next_deadline`).

A reply's ``{{variables}}`` (the file's, ``message``, ``path``, ``client``, and what the rule captured) are
expanded when the message that caused it comes; its dynamic values (``{{$uuid}}``, ``{{$counter}}``…,
``core/dynamic.py``) when it is sent, ``{{$counter}}`` counting the messages this client was sent.
"""

from __future__ import annotations

import heapq
import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wsinspector.core.dynamic import SendContext, expand_dynamic
from wsinspector.core.jsonpath import parse_json_path, resolve_json_path
from wsinspector.core.mock.model import ECHO, SEND, WAIT, Action, Route, Rule, json_text
from wsinspector.core.profiles import expand

__all__ = ["Act", "MockSession"]

#: when a pong is due (``pings: late``), the action that sends it
PONG = "pong"


@dataclass(frozen=True, slots=True)
class Act:
    """An action due for one client at ``at`` (the caller's clock, seconds): ``data`` is what it sends (a
    message's bytes, dynamic values expanded; a ping's or pong's payload); ``cause`` says why ("on connect",
    the rule's name, "every 5 s", "late pong")."""

    action: Action
    at: float
    data: bytes
    cause: str


class MockSession:
    """What a mock server does for one client of one route."""

    def __init__(self, route: Route, variables: Mapping[str, str], *, path: str = "/", client: str = "",
                 wall_clock: Callable[[], float], rng: random.Random | None = None) -> None:
        self.route = route
        self._variables = {**variables, "path": path, "client": client}
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._queue: list[tuple[float, int, Action, str, str]] = []  # (at, order, action, text, cause)
        self._order = 0
        self._sent = 0
        self._used: dict[int, int] = {}  # rule index: times it answered
        self._periodic: list[tuple[float, int]] = []  # per periodic: next time, sends left (-1: no end)
        self._next_reply = 0  # replay: the next group of the sequence

    # -- what happened ------------------------------------------------------------------------------

    def opened(self, now: float) -> None:
        """The connection is open: the on-connect actions, and the periodic pushes' clocks start."""
        self._schedule(self.route.on_connect, now, self._variables, "on connect")
        self._periodic = [(now + every.interval, every.count or -1) for every in self.route.every]

    def received(self, payload: bytes, is_text: bool, now: float) -> str | None:
        """A whole message from the client: the first rule it matches answers it. Returns the rule's name
        (None: no rule matched)."""
        if self.route.sequence:
            if self._next_reply >= len(self.route.sequence):
                return None
            index, self._next_reply = self._next_reply, self._next_reply + 1
            text = payload.decode("utf-8", "replace") if is_text else ""
            self._schedule(self.route.sequence[index], now, {**self._variables, "message": text},
                           f"recorded reply {index + 1}")
            return f"recorded reply {index + 1}"
        for index, rule in enumerate(self.route.rules):
            if rule.times and self._used.get(index, 0) >= rule.times:
                continue
            captured = self._match(rule, payload, is_text)
            if captured is None:
                continue
            self._used[index] = self._used.get(index, 0) + 1
            self._schedule(rule.actions, now + rule.delay, {**self._variables, **captured}, rule.name,
                           (payload, is_text))
            return rule.name
        return None

    def ping_received(self, payload: bytes, now: float) -> None:
        """A ping the protocol did not answer (``pings: late``: its pong is scheduled; ``never``: nothing)."""
        if self.route.pings == "late":
            self._push(now + self.route.pong_delay, Action(PONG, data=payload), "", "late pong")

    # -- what to do ---------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When something is due next (None: nothing until the client sends something)."""
        times = [at for at, left in self._periodic if left != 0]
        if self._queue:
            times.append(self._queue[0][0])
        return min(times) if times else None

    def due(self, now: float) -> list[Act]:
        """The actions due by ``now``, in order (periodic pushes included)."""
        for index, (at, left) in enumerate(self._periodic):
            while left != 0 and at <= now:
                every = self.route.every[index]
                self._schedule(every.actions, at, self._variables, f"every {every.interval:g} s")
                at += every.interval
                left = left - 1 if left > 0 else -1
            self._periodic[index] = (at, left)
        acts = []
        while self._queue and self._queue[0][0] <= now:
            at, _, action, text, cause = heapq.heappop(self._queue)
            acts.append(Act(action, at, self._bytes(action, text), cause))
        return acts

    # -- inside -------------------------------------------------------------------------------------

    def _match(self, rule: Rule, payload: bytes, is_text: bool) -> dict[str, str] | None:
        """The variables a match gives (``message`` and the captures), or None when it does not match."""
        if rule.binary is not None:
            return {"message": ""} if not is_text and payload == rule.binary else None
        if rule.matcher is None:
            return {"message": payload.decode("utf-8", "replace") if is_text else ""}
        if not is_text:
            return None
        text = payload.decode("utf-8", "replace")
        if not rule.matcher.matches(text):
            return None
        captured = {"message": text}
        if rule.matcher.match == "regex":
            found = re.search(rule.matcher.pattern, text)
            if found is not None:
                captured.update({name: value or "" for name, value in found.groupdict().items()})
        if rule.captures:
            try:
                document = json.loads(text)
            except ValueError:
                document = None
            for name, path in rule.captures:
                try:
                    value = resolve_json_path(document, parse_json_path(path))
                except (LookupError, TypeError, ValueError):
                    value = ""
                captured[name] = value if isinstance(value, str) else json_text(value)
        return captured

    def _schedule(self, actions: tuple[Action, ...], start: float, variables: Mapping[str, str], cause: str,
                  message: tuple[bytes, bool] = (b"", True)) -> None:
        at = start
        for action in actions:
            if action.kind == WAIT:
                at += action.seconds
                continue
            if action.kind == ECHO:
                action = Action(SEND, data=message[0], is_text=message[1])
            text = expand(action.payload, variables) if action.payload else ""
            self._push(at, action, text, cause)

    def _push(self, at: float, action: Action, text: str, cause: str) -> None:
        self._order += 1
        heapq.heappush(self._queue, (at, self._order, action, text, cause))

    def _bytes(self, action: Action, text: str) -> bytes:
        """What an action sends: a text template's dynamic values expanded now, anything else as it is."""
        if action.kind == SEND:
            self._sent += 1
        if not text:
            return action.data
        context = SendContext(now=self._wall_clock(), counter=self._sent, rng=self._rng)
        return expand_dynamic(text, context).encode("utf-8", "surrogatepass")
