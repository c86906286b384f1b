"""The model of a test file: the test, its steps, their payloads and matchers, frozen and comparable.

The format itself is described in ``docs/test-format.md``; :mod:`.yaml_io` reads and writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from wsinspector.core.jsonpath import WILDCARD, JsonPathError, parse_json_path

from ..frames import Opcode
from ..profiles import Auth, Tls

#: The format version this code reads and writes (the ``version`` key).
FORMAT_VERSION = 1
#: Seconds an ``expect`` or ``wait until`` step waits when neither it nor the file says otherwise.
DEFAULT_TIMEOUT_S = 5.0

SEND_KINDS = ("text", "json", "binary")
MATCHER_KINDS = ("text", "binary", "json", "regex", "opcode")
#: Opcodes an ``opcode`` matcher can name.
OPCODE_NAMES: dict[str, Opcode] = {
    "text": Opcode.TEXT,
    "binary": Opcode.BINARY,
    "ping": Opcode.PING,
    "pong": Opcode.PONG,
    "close": Opcode.CLOSE,
}

#: what a variable name may be: letters, digits, ``_ . -``, not starting with a digit
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True)
class TextPayload:
    """A text message; ``{{variables}}`` are expanded when it is sent."""

    text: str


@dataclass(frozen=True, slots=True)
class JsonPayload:
    """A JSON message (sent as compact JSON text); variables are expanded in every string, keys included."""

    value: Any


@dataclass(frozen=True, slots=True)
class BinaryPayload:
    """A binary message, sent as is (no variables)."""

    data: bytes


Payload = TextPayload | JsonPayload | BinaryPayload


@dataclass(frozen=True, slots=True)
class TextMatcher:
    """A text message equal to ``text`` (after variable expansion)."""

    text: str


@dataclass(frozen=True, slots=True)
class BytesMatcher:
    """A binary message with exactly these bytes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class JsonMatcher:
    """A text message holding JSON deeply equal to ``value``, apart from the ``ignore`` paths."""

    value: Any
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for path in self.ignore:
            parse_json_path(path)


@dataclass(frozen=True, slots=True)
class RegexMatcher:
    """A text message in which the regular expression finds a match (``re.search``; anchor with ^ and $).
    Variables are expanded in the pattern with their values escaped, so they match literally."""

    pattern: str

    def __post_init__(self) -> None:
        re.compile(self.pattern)


@dataclass(frozen=True, slots=True)
class OpcodeMatcher:
    """Any message of this opcode."""

    opcode: Opcode


Matcher = TextMatcher | BytesMatcher | JsonMatcher | RegexMatcher | OpcodeMatcher


def _check_captures(capture: tuple[tuple[str, str], ...]) -> None:
    for name, path in capture:
        if not VARIABLE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a variable name")
        if WILDCARD in parse_json_path(path):
            raise JsonPathError(f"{path!r}: a capture needs one value, not a wildcard")


@dataclass(frozen=True, slots=True)
class SendStep:
    payload: Payload
    #: seconds to wait before sending, after the previous step finished (the recorded gap); scaled by the
    #: replay speed. None: no recorded timing, send at once.
    delay_s: float | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class ExpectStep:
    """The next incoming message must match (pings and pongs are passed over unless the matcher asks for
    them); ``capture`` stores values of it (JSON paths) in variables for later steps."""

    matcher: Matcher
    capture: tuple[tuple[str, str], ...] = ()
    #: None: the file's default timeout
    timeout_s: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _check_captures(self.capture)


@dataclass(frozen=True, slots=True)
class WaitStep:
    """Either a fixed pause of ``seconds`` or, with ``until``, a wait for the first message that matches
    (messages that do not are dropped)."""

    seconds: float | None = None
    until: Matcher | None = None
    capture: tuple[tuple[str, str], ...] = ()
    timeout_s: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("a wait step has either seconds or until")
        if self.until is None and (self.capture or self.timeout_s is not None):
            raise ValueError("capture and timeout belong to a wait until a message matches")
        _check_captures(self.capture)


@dataclass(frozen=True, slots=True)
class VerbStep:
    """Do a verb of the test's protocol (core/protocols): ``emit`` an event, ``subscribe``, ``publish``…, with
    its fields as JSON values (strings may hold ``{{variables}}``)."""

    verb: str
    fields: tuple[tuple[str, Any], ...] = ()
    #: as a send step's
    delay_s: float | None = None
    name: str = ""


#: what an event step waits for: a named event, subscription data, an answer to something we sent
EVENT_KINDS = ("event", "data", "ack")
#: the keys of a data event a step may pick its data by
DATA_FILTERS = ("id", "topic", "destination", "subscription", "qos")


@dataclass(frozen=True, slots=True)
class EventStep:
    """The next protocol event of ``kind`` (an ``event`` named ``event``; ``data`` whose ``filters`` hold;
    an ``ack``) must carry ``value`` (compared as JSON, ``ignore`` paths left out); events of other kinds, and
    events or data of other names or filters, are passed over. ``has_value`` False: any value."""

    kind: str
    value: Any = None
    has_value: bool = True
    event: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    ignore: tuple[str, ...] = ()
    timeout_s: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"an event step expects one of {', '.join(EVENT_KINDS)}, not {self.kind!r}")


Step = SendStep | ExpectStep | WaitStep | VerbStep | EventStep


@dataclass(frozen=True, slots=True)
class Scenario:
    """A test file: where to connect, and the steps to run there."""

    name: str
    #: may contain {{variables}}
    url: str
    steps: tuple[Step, ...] = ()
    #: defaults; ``--var name=value`` overrides them
    variables: tuple[tuple[str, str], ...] = ()
    subprotocols: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    #: timeout of expect and wait-until steps that set none
    timeout_s: float = DEFAULT_TIMEOUT_S
    #: TLS settings of a wss:// URL; relative file names are relative to the test file's folder
    tls: Tls = field(default_factory=Tls)
    #: "host:port" to connect to instead of the URL's host (which still names the server)
    connect_to: str = ""
    #: credentials for the handshake and the requests before connecting; secrets only as {{variables}}
    auth: Auth = field(default_factory=Auth)
    #: the protocol the test speaks (core/protocols: socket.io, graphql, stomp, mqtt, signalr, phoenix), "" none
    protocol: str = ""
    protocol_options: tuple[tuple[str, str], ...] = ()

    def step_timeout(self, step: ExpectStep | WaitStep | EventStep) -> float:
        return step.timeout_s if step.timeout_s is not None else self.timeout_s


def step_kind(step: Step) -> str:
    """``send``, ``expect`` or ``wait``; a protocol step's verb (``emit``, ``subscribe``…)."""
    if isinstance(step, VerbStep):
        return step.verb
    if isinstance(step, EventStep):
        return "expect"
    if isinstance(step, SendStep):
        return "send"
    return "expect" if isinstance(step, ExpectStep) else "wait"


def _payload_kind(payload: Payload) -> str:
    if isinstance(payload, TextPayload):
        return "text"
    return "json" if isinstance(payload, JsonPayload) else "binary"


def matcher_kind(matcher: Matcher) -> str:
    if isinstance(matcher, TextMatcher):
        return "text"
    if isinstance(matcher, BytesMatcher):
        return "binary"
    if isinstance(matcher, JsonMatcher):
        return "json"
    return "regex" if isinstance(matcher, RegexMatcher) else "opcode"


def step_label(index: int, step: Step) -> str:
    """How reports name a step: its ``name``, else e.g. ``steps[2] expect json``."""
    if step.name:
        return step.name
    if isinstance(step, VerbStep):
        return f"steps[{index}] {step.verb}"
    if isinstance(step, EventStep):
        return f"steps[{index}] expect {step.kind}{' ' + step.event if step.event else ''}"
    if isinstance(step, SendStep):
        what = f"send {_payload_kind(step.payload)}"
    elif isinstance(step, ExpectStep):
        what = f"expect {matcher_kind(step.matcher)}"
    elif step.until is not None:
        what = f"wait until {matcher_kind(step.until)}"
    else:
        what = f"wait {seconds_text(step.seconds or 0.0)} s"
    return f"steps[{index}] {what}"


def seconds_text(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)

