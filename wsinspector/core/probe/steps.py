"""What a probe case asks of its driver and what the driver tells it, and :class:`CaseRun`, the state machine
that runs one case.

A case is a generator (``cases.py``): it yields an :data:`Action` (done at once; the driver sends back the
time it was done, in seconds on the engines' monotonic clock) or a :class:`Wait` (the driver sends back the
next :data:`Event` of its connection, or :class:`TimedOut` at the wait's end). It returns its cells. The
generator never touches a socket or a clock: the caller feeds it events and the time, as
``core/scenario/run.py``'s ``Replay`` is fed, so a case is a plain object to test.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field

# -- actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Open:
    """A new connection with the saved connection's settings and these changes (the previous one is dropped).
    ``version``: the ``Sec-WebSocket-Version`` to send instead of 13; ``deflate``: the permessage-deflate offer
    (None: none); ``subprotocols`` / ``origin`` / ``headers``: replace the connection's when given."""

    label: str
    version: str = ""
    deflate: Mapping[str, object] | None = None
    subprotocols: tuple[str, ...] | None = None
    origin: str | None = None
    auto_pong: bool = True
    max_size: int = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Send:
    data: bytes
    text: bool = False


@dataclass(frozen=True, slots=True)
class SendParts:
    """One message in frames of these payloads; ``ping_between``: a ping with this payload after each frame but
    the last (control frames interleaved, as RFC 6455 §5.4 allows)."""

    parts: tuple[bytes, ...]
    text: bool = False
    ping_between: bytes | None = None


@dataclass(frozen=True, slots=True)
class SendFrame:
    """One frame as given: an opcode (reserved ones included) and reserved bits, for conformance checks."""

    opcode: int
    data: bytes
    rsv: int = 0


@dataclass(frozen=True, slots=True)
class Ping:
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """The closing handshake with any code, valid or not (None: a close frame without a body)."""

    code: int | None = 1000
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HoldReading:
    held: bool


@dataclass(frozen=True, slots=True)
class Drop:
    """Drop the connection without a closing handshake."""


@dataclass(frozen=True, slots=True)
class AskAlpn:
    """A TLS handshake offering h2 and http/1.1 (ALPN); when the server chooses h2, the HTTP/2 client preface
    and the server's first frame (its SETTINGS) read: answered by :class:`Alpn`."""


Action = Open | Send | SendParts | SendFrame | Ping | Close | HoldReading | Drop | AskAlpn


@dataclass(frozen=True, slots=True)
class Wait:
    """Until the next event, at most ``seconds``."""

    seconds: float


# -- events -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    at: float
    subprotocol: str | None
    extensions: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Refused:
    """The connection never opened: ``status`` the HTTP answer (None: none came), ``message`` why, in words."""

    at: float
    status: int | None
    headers: tuple[tuple[str, str], ...]
    message: str


@dataclass(frozen=True, slots=True)
class Received:
    """A frame from the endpoint."""

    at: float
    opcode: str  # "text", "binary", "continuation", "ping", "pong", "close"
    payload: bytes
    fin: bool
    compressed: bool
    size: int


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection ended: the code the endpoint's close frame carried (None: none, or it ended without one),
    ``clean`` False when the TCP connection ended without a closing handshake. ``broke``: the endpoint broke
    the protocol and our side failed the connection (how, in words); what it sent then is no answer."""

    at: float
    code: int | None
    by_peer: bool
    clean: bool
    message: str
    #: written to the socket but not taken by the endpoint when it ended (flow control)
    unsent: int = 0
    broke: str = ""


@dataclass(frozen=True, slots=True)
class Alpn:
    """The protocol the server chose ("" none), or why the TLS handshake failed (``error``); with h2, the
    parameters of the server's SETTINGS frame, or why they were not read (``settings_error``)."""

    at: float
    protocol: str
    error: str = ""
    settings: tuple[tuple[int, int], ...] = ()
    settings_error: str = ""


@dataclass(frozen=True, slots=True)
class TimedOut:
    at: float
    #: bytes written but still waiting in our socket (the endpoint not reading)
    unsent: int = 0


Event = Opened | Refused | Received | Closed | Alpn | TimedOut
Step = Action | Wait
Case = Generator[Step, object, "Cells"]


# -- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """One column's value for an endpoint: ``value`` short (a table cell), ``detail`` the evidence in words,
    ``known`` False when the probe could not decide (``value`` then starts with "unknown")."""

    value: str
    detail: str = ""
    known: bool = True
    #: the stored sessions holding the frames this value was read from
    sessions: tuple[int, ...] = ()
    #: data for scripts (numbers, lists), beside the words
    data: Mapping[str, object] = field(default_factory=dict)


def unknown(why: str, data: Mapping[str, object] | None = None) -> Cell:
    return Cell(f"unknown — {why}", why, known=False, data=data or {})


Cells = dict[str, Cell]


@dataclass(slots=True)
class CaseContext:
    """What a case reads besides its events: the time (kept by :class:`CaseRun`), every frame received in the
    case so far, and the bounds it runs within."""

    aggressive: bool = False
    #: the most bytes an aggressive case sends in all
    byte_cap: int = 16 * 1024 * 1024
    #: the longest a case waits for something the endpoint may never do (heartbeat pings, an idle timeout)
    patience_s: float = 3.0
    #: how long a case waits for an answer to a message, a ping or a close frame
    answer_s: float = 1.0
    #: the subprotocols the saved connection offers (the subprotocol case offers them first)
    subprotocols: tuple[str, ...] = ()
    #: the endpoint is wss:// (TLS: ALPN can tell whether it speaks h2)
    secure: bool = False
    now: float = 0.0
    received: list[Received] = field(default_factory=list)


class CaseRun:
    """One case as a state machine over the driver's ``do`` (which does an action and returns the time it was
    done): :meth:`start`, then :meth:`feed` each event. :attr:`deadline` is when to feed :class:`TimedOut`
    (None: the case is not waiting); :attr:`cells` once it is over. Events ``do`` causes at once (a
    connection refused before it began) are the driver's to queue and feed afterwards."""

    def __init__(self, case: Callable[[CaseContext], Case], ctx: CaseContext,
                 do: Callable[[Action], float]) -> None:
        self.ctx = ctx
        self._gen = case(ctx)
        self._do = do
        self.deadline: float | None = None
        self.cells: Cells | None = None

    @property
    def done(self) -> bool:
        return self.cells is not None

    def start(self, now: float) -> None:
        self.ctx.now = now
        self._advance(None)

    def feed(self, event: Event) -> None:
        """An event of the case's connection, or the deadline passed (:class:`TimedOut`)."""
        if isinstance(event, Received):
            self.ctx.received.append(event)
        if self.done or self.deadline is None:
            return
        self.ctx.now = max(self.ctx.now, event.at)
        self._advance(event)

    def _advance(self, value: object) -> None:
        self.deadline = None
        try:
            step = self._gen.send(value) if value is not None else next(self._gen)
            while not isinstance(step, Wait):
                self.ctx.now = self._do(step)
                step = self._gen.send(self.ctx.now)
            self.deadline = self.ctx.now + max(0.0, step.seconds)
        except StopIteration as stop:
            self.cells = dict(stop.value or {})

    def stop(self, why: str) -> Cells:
        """End the case now (its time is up, the probe was cancelled): the cells it has not given say why."""
        self._gen.close()
        self.deadline = None
        if self.cells is None:
            self.cells = {}
        self.cells = {**self.cells, "_stopped": unknown(why)}
        return self.cells
