"""What the composer sends besides a typed message, without Qt or clocks (callers pass time and randomness in):
saved messages (a connection's and the app's shared ones), periodic sends and their delays, auto-reply rules
and their rate limit, and the composer's history bound.

A template is a message as the composer takes it: its kind (``core.profiles.MESSAGE_KINDS``) and its text, with
``{{variables}}`` and dynamic values (``core/dynamic.py``) expanded at each send.
"""

from __future__ import annotations

import json
import random
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wsinspector.core.jsonpath import JsonPathError, parse_json_path, resolve_json_path
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import MESSAGE_KINDS

__all__ = [
    "HISTORY_KEEP",
    "MATCH_KINDS",
    "SHARED_MESSAGES_SETTING",
    "AutoReplyRule",
    "HistoryWalk",
    "RateLimit",
    "Schedule",
    "SendingError",
    "kind_of",
    "messages_from_json",
    "messages_to_json",
    "mode_of",
    "rule_from_tuple",
]

#: the most sent messages the history keeps per connection
HISTORY_KEEP = 1000
#: the store's setting holding the shared saved messages (a JSON list of [name, kind, payload])
SHARED_MESSAGES_SETTING = "composer.shared_messages"
#: how an auto-reply rule tells an incoming message it answers
MATCH_KINDS = ("equals", "contains", "regex", "json")
_MODES = {"text": PayloadMode.TEXT, "json": PayloadMode.JSON, "hex": PayloadMode.HEX, "base64": PayloadMode.BASE64}


class SendingError(ValueError):
    """A schedule, rule or saved message the user wrote that cannot be used; the message says why."""


def mode_of(kind: str) -> PayloadMode:
    """The composer's mode of a saved message's kind (text for one this version does not know)."""
    return _MODES.get(kind, PayloadMode.TEXT)


def kind_of(mode: PayloadMode) -> str:
    return next(kind for kind, value in _MODES.items() if value is mode)


# -- saved messages ---------------------------------------------------------------------------------------

SavedMessage = tuple[str, str, str]


def messages_to_json(messages: Iterable[SavedMessage]) -> str:
    return json.dumps([list(m) for m in messages], ensure_ascii=False)


def messages_from_json(text: str | None) -> tuple[SavedMessage, ...]:
    """The shared saved messages from their setting; an entry that is not [name, kind, payload] is left out."""
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(data, list):
        return ()
    return tuple((m[0], m[1] if m[1] in MESSAGE_KINDS else "text", m[2]) for m in data
                 if isinstance(m, list) and len(m) == 3 and all(isinstance(v, str) for v in m))


# -- periodic sends ---------------------------------------------------------------------------------------

@dataclass(slots=True)
class Schedule:
    """A template sent every ``interval_ms``, ``count`` times (0: until stopped), each delay varied by up to
    ``jitter_pct`` percent either way."""

    kind: str
    text: str
    interval_ms: int
    count: int = 0
    jitter_pct: float = 0.0
    sent: int = 0
    id: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.interval_ms < 1:
            raise SendingError("The interval must be at least 1 ms")
        if self.count < 0:
            raise SendingError("The count is a number of messages (0: until stopped)")
        if not 0 <= self.jitter_pct <= 100:
            raise SendingError("The jitter is a percentage from 0 to 100")

    @property
    def done(self) -> bool:
        return bool(self.count) and self.sent >= self.count

    def next_delay_ms(self) -> int:
        """The wait before the next send: the interval, moved by a random part of the jitter (at least 1 ms)."""
        if not self.jitter_pct:
            return self.interval_ms
        spread = self.interval_ms * self.jitter_pct / 100
        return max(1, round(self.interval_ms + self.rng.uniform(-spread, spread)))

    def describe(self) -> str:
        every = f"every {self.interval_ms:,} ms" + (f" ±{self.jitter_pct:g}%" if self.jitter_pct else "")
        left = f"{self.sent:,}/{self.count:,}" if self.count else f"{self.sent:,} sent, until stopped"
        first = self.text.splitlines()[0] if self.text else ""
        return f"{first[:40]!r} {every} ({left})"


# -- auto-replies -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AutoReplyRule:
    """When an incoming text message matches, send ``reply`` (a template of ``reply_kind``).

    ``match``: ``equals`` / ``contains`` (the text), ``regex`` (a search anywhere in the text), ``json`` (the
    message is JSON and the value at ``path`` equals ``pattern``: a JSON string compares by its text, any other
    value by its JSON form, e.g. ``true`` or ``42``)."""

    name: str
    match: str
    pattern: str
    reply: str
    path: str = ""
    reply_kind: str = "text"
    enabled: bool = True

    def check(self) -> None:
        """SendingError saying what is wrong with the rule."""
        if self.match not in MATCH_KINDS:
            raise SendingError(f"Rule “{self.name}”: match by {', '.join(MATCH_KINDS)}, not {self.match!r}")
        if self.reply_kind not in MESSAGE_KINDS:
            raise SendingError(f"Rule “{self.name}”: the reply is one of {', '.join(MESSAGE_KINDS)}")
        if self.match == "regex":
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise SendingError(f"Rule “{self.name}”: not a regular expression: {exc}") from None
        if self.match == "json":
            try:
                parse_json_path(self.path)
            except JsonPathError as exc:
                raise SendingError(f"Rule “{self.name}”: {exc}") from None

    def matches(self, text: str) -> bool:
        return text_matches(self.match, self.pattern, self.path, text)


def text_matches(match: str, pattern: str, path: str, text: str) -> bool:
    """Whether a text message matches by ``match`` (one of :data:`MATCH_KINDS`, as :class:`AutoReplyRule` says;
    the rule checked beforehand): what an auto-reply rule and a recording proxy's breakpoint match with."""
    if match == "equals":
        return text == pattern
    if match == "contains":
        return pattern in text
    if match == "regex":
        return _regex(pattern).search(text) is not None
    try:
        value = resolve_json_path(json.loads(text), parse_json_path(path))
    except (ValueError, LookupError, RecursionError):
        return False
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return shown == pattern


_REGEXES: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    compiled = _REGEXES.get(pattern)
    if compiled is None:
        if len(_REGEXES) > 256:
            _REGEXES.clear()
        compiled = _REGEXES[pattern] = re.compile(pattern)
    return compiled


def rule_from_tuple(values: Sequence[object]) -> AutoReplyRule:
    """A rule from its stored form: (name, match, pattern, path, reply_kind, reply, enabled)."""
    name, match, pattern, path, reply_kind, reply, enabled = values
    return AutoReplyRule(name=str(name), match=str(match), pattern=str(pattern), path=str(path),
                         reply_kind=str(reply_kind), reply=str(reply), enabled=bool(enabled))


class RateLimit:
    """At most ``per_second`` replies in any second (a sliding window over the caller's clock); what is over it
    is counted in ``refused``, not sent. ``per_second`` 0: no limit."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self.refused = 0
        self._times: deque[float] = deque()

    def allow(self, now_s: float) -> bool:
        if self.per_second <= 0:
            return True
        times = self._times
        while times and now_s - times[0] >= 1.0:
            times.popleft()
        if len(times) >= self.per_second:
            self.refused += 1
            return False
        times.append(now_s)
        return True


# -- the composer's history --------------------------------------------------------------------------------

class HistoryWalk:
    """Up and Down through sent messages as a shell walks its history: Up from the message being typed keeps it
    as the draft and shows the newest sent one, each Up an older one (a message sent several times in a row
    counts once); Down goes back towards the newest, and past it to the draft."""

    def __init__(self) -> None:
        self.entries: list[SavedMessage] = []
        #: the entry shown (None: the draft, being typed)
        self._index: int | None = None
        self._draft: tuple[str, str] = ("text", "")

    @property
    def walking(self) -> bool:
        return self._index is not None

    def reset(self, entries: Sequence[tuple[str, str]]) -> None:
        """The history changed (a send, another connection): the walk starts again from the draft."""
        self.entries = [("", kind, text) for kind, text in entries]
        self._index = None

    def leave(self) -> None:
        """The user edits what is shown: that is the draft now."""
        self._index = None

    def back(self, current: tuple[str, str]) -> tuple[str, str] | None:
        """The older message to show (kind, text), or None at the oldest."""
        index = len(self.entries) if self._index is None else self._index
        shown = current
        while index > 0:
            index -= 1
            entry = self.entries[index][1:]
            if entry != shown:
                if self._index is None:
                    self._draft = current
                self._index = index
                return entry
        return None

    def forward(self) -> tuple[str, str] | None:
        """The newer message to show, the draft after the newest, or None when already at the draft."""
        if self._index is None:
            return None
        shown = self.entries[self._index][1:]
        index = self._index + 1
        while index < len(self.entries):
            entry = self.entries[index][1:]
            if entry != shown:
                self._index = index
                return entry
            index += 1
        self._index = None
        return self._draft
