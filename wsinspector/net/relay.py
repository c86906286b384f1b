"""A recording proxy's two open hops, each read on a thread of its own (:mod:`wsinspector.net.hop_thread`):
a data frame read on one hop is sent on the other by the thread that read it, before the window's thread hears
of it.

Every frame either engine reports, read or sent, goes to one queue in the order it happened; the window's
thread moves the queue into the session's log (:meth:`Relay.drain`, at each flush and when woken). While the
breakpoints have a rule, or hold a message, in a direction, the thread does not forward that direction's
messages itself: it hands each whole message to the window's thread (``offer``), which sends it on or pauses
it, in order. The window's thread is woken through a socket pair it watches, and only when something waits
for it (a message to offer, an engine's event, a close deadline, the end of a hop), not for each frame.

The queue is bounded: past ``QUEUED_MOST`` bytes waiting in it for the window's thread (a stall of that thread:
a long save, a blocked write of its own), a hop's thread stops reading after its read, holding no lock, until
the window's thread has drained it, the hop is shut down or the relay detached; TCP holds its peer back, and
no frame is lost.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import shiboken6
from PySide6.QtCore import QObject, QSocketNotifier, Slot
from websockets.exceptions import ProtocolError

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header

if TYPE_CHECKING:
    from wsinspector.core.wire.sinks import FrameSink, WholeInSink
    from wsinspector.net.hop_thread import HopThread
    from wsinspector.net.pump import WirePump

_IN, _OUT = Direction.IN, Direction.OUT
_CONTINUATION = Opcode.CONTINUATION
_DATA = frozenset((Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION))

#: ``offer(toward, opcode, payload)``: a whole message for the breakpoints, on the window's thread
Offer = Callable[[Direction, Opcode, bytes], None]

#: bytes waiting in the queue for the window's thread past which a hop's thread stops reading until it is
#: drained: each frame's payload, and FRAME_COST for what queueing it costs besides (so that empty frames are
#: bounded too). A thread looks after each read: the queue goes past the bound by what one read of each hop
#: reports at most (of large messages, one frame's rest: a read of one brings no more, read and sent on)
QUEUED_MOST = 64 * 1024 * 1024
FRAME_COST = 256


class Relay(QObject):
    """The client hop and the upstream hop of one proxied client, on two threads. Build it with
    :meth:`take` (None when either hop cannot run on a thread: it goes on through Qt), set :attr:`gated`, then
    :meth:`run`. It lives until both hops' threads have ended, whatever becomes of the proxied client."""

    _live: ClassVar[set[Relay]] = set()

    def __init__(self, client: WirePump, upstream: WirePump, offer: Offer, streaming: dict[Direction, bool],
                 mid: dict[Direction, bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pumps = (client, upstream)
        self._offer = offer
        #: what the engines reported, in order: (the log's sink, its arguments, the bytes it counts for)
        self._items: deque[tuple[Callable[..., object], tuple[Any, ...], int]] = deque()
        #: per direction (toward the client: in; toward the upstream: out): the breakpoints want its messages
        #: whole (a rule, or a message held); messages handed to them and not yet offered; a message forwarded
        #: frame by frame has not had its last frame yet, and the message under way is forwarded frame by frame
        #: (the proxied client's own, as the event loop left them)
        self.gated = {_IN: False, _OUT: False}
        self.offers = {_IN: 0, _OUT: 0}
        self.mid = mid
        self._streaming = streaming
        self._parts: dict[Direction, list[bytes]] = {_IN: [], _OUT: []}
        self._first = {_IN: Opcode.TEXT, _OUT: Opcode.TEXT}
        self._woken = False
        self._wake_lock = threading.Lock()
        self._closed = False
        self._detached = False
        self._wake_in, self._wake_out = socket.socketpair()
        self._wake_in.setblocking(False)
        self._notifier = QSocketNotifier(self._wake_in.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_woken)
        self.hops: tuple[HopThread, HopThread] | None = None
        #: bytes queued, per hop (added only under that hop's lock, by whichever thread reports its engine's
        #: frames), and bytes drained (by the window's thread alone): no update is lost without a lock per frame
        self._queued = [0, 0]
        self._drained = 0
        #: the hops' threads waiting for a drain; what wakes them (a drain, a hop shut down, the relay detached)
        self._held_back = [False, False]
        self._room = threading.Condition(threading.Lock())

    @classmethod
    def take(cls, client: WirePump, upstream: WirePump, sinks: tuple[FrameSink, WholeInSink],
              upstream_sinks: tuple[FrameSink, WholeInSink], offer: Offer, streaming: dict[Direction, bool],
              mid: dict[Direction, bool], under_way: dict[Direction, tuple[Opcode, list[bytes]] | None],
              parent: QObject | None = None) -> Relay | None:
        """Both hops' sockets taken from Qt, for threads, their frames reported to ``sinks`` (the client hop's)
        and ``upstream_sinks`` through :meth:`drain`; None when they stay with Qt. ``streaming`` and ``mid``:
        the proxied client's per-direction state of forwarding, which the threads go on keeping;
        ``under_way``: per direction, the message Qt read the first fragments of and kept for the breakpoints
        (its opcode and those fragments), which the threads go on with."""
        client.flush()
        upstream.flush()
        if not (client.can_run_on_thread() and upstream.can_run_on_thread()):
            return None  # not now (Qt has yet to write to one of them), or never
        relay = cls(client, upstream, offer, streaming, mid, parent)
        for toward, kept in under_way.items():
            if kept is not None and not streaming[toward]:  # the rest of it comes to the threads: whole, it is offered
                relay._first[toward], relay._parts[toward][:] = kept
        hop_client = client.run_on_thread(relay._wake)
        hop_upstream = upstream.run_on_thread(relay._wake)
        assert hop_client is not None and hop_upstream is not None
        relay.hops = (hop_client, hop_upstream)
        forwards = []
        for index, (hop, pump, (sink, whole_in)) in enumerate(
                ((hop_client, client, sinks), (hop_upstream, upstream, upstream_sinks))):
            read: list[tuple[Opcode, bytes, bool]] = []
            hop.engine.report_to(*relay._reporting(sink, whole_in, read, index), pump.thread_events)
            hop.on_shutdown = relay._release
            forwards.append(read)
        # read on the client hop: toward the upstream (out); on the upstream hop: toward the client (in)
        hop_client.on_read = relay._forwarding(forwards[0], hop_client, hop_upstream, _OUT)
        hop_upstream.on_read = relay._forwarding(forwards[1], hop_upstream, hop_client, _IN)
        return relay

    def run(self) -> None:
        """Start reading both hops."""
        assert self.hops is not None
        Relay._live.add(self)
        for hop in self.hops:
            hop.start()

    def _reporting(self, sink: FrameSink, whole_in: WholeInSink, read: list[tuple[Opcode, bytes, bool]],
                   index: int) -> tuple[FrameSink, WholeInSink]:
        """An engine's sinks on its thread: each frame to the queue (counted as the hop's, ``index``: they are
        called under its lock), each data frame read to ``read`` too."""
        put, keep, queued, cost = self._items.append, read.append, self._queued, FRAME_COST

        def frame(direction: Direction, opcode: Opcode, payload: bytes, *fields: Any) -> None:
            size = len(payload) + cost
            put((sink, (direction, opcode, payload, *fields), size))
            queued[index] += size
            # a data frame read with a note (the last field) is one the engine refused as it fails the
            # connection: shown, never sent on
            if direction is _IN and opcode in _DATA and (len(fields) < 9 or not fields[8]):
                keep((opcode, payload if type(payload) is bytes else bytes(payload), fields[1] is not False))

        def whole(meta: int, payload: bytes, ts_ns: int) -> None:
            size = len(payload) + cost
            put((whole_in, (meta, payload, ts_ns), size))
            queued[index] += size
            keep((header.opcode(meta), payload if type(payload) is bytes else bytes(payload), True))

        return frame, whole  # type: ignore[return-value]

    def _forwarding(self, read: list[tuple[Opcode, bytes, bool]], hop: HopThread, to: HopThread,
                    toward: Direction) -> Callable[[], None]:
        """What the thread of one hop (``hop``) does after each read: the data frames it read, sent on the other
        hop (``to``) at once, or handed to the breakpoints whole; then, past ``QUEUED_MOST`` bytes queued for the
        window's thread, it waits for a drain."""
        engine = to.engine
        streaming, mid, gated, offers = self._streaming, self.mid, self.gated, self.offers
        parts, first = self._parts[toward], self._first
        queued, queued_to = self._queued, 1 if toward is _OUT else 0
        reading = 0 if toward is _OUT else 1  # the index of the hop this thread reads

        def forward() -> None:
            if read:
                send_on()
            if queued[0] + queued[1] - self._drained > QUEUED_MOST:
                self._hold_back(hop, reading)

        def send_on() -> None:
            handed = False
            now_ns = time.monotonic_ns()
            with to.lock:
                for opcode, payload, fin in read:
                    if opcode is not _CONTINUATION:
                        streaming[toward] = not gated[toward] and not offers[toward]
                        first[toward] = opcode
                        parts.clear()  # what a message left unfinished is no message
                    if streaming[toward]:
                        mid[toward] = not fin
                        try:  # noqa: SIM105  (once per frame: no context manager)
                            engine.send_frame(opcode, payload, fin, now_ns)
                        except (RuntimeError, ProtocolError):  # that hop is closing: what it cannot take is lost
                            pass
                        continue
                    parts.append(payload)
                    if fin:
                        whole = b"".join(parts)
                        size = len(whole) + FRAME_COST
                        self._items.append((self._offer, (toward, first[toward], whole), size))
                        queued[queued_to] += size  # under the lock of the hop it goes to, as its frames are
                        parts.clear()
                        offers[toward] += 1
                        handed = True
                read.clear()
                to.push()
            if to.waiting_bytes:
                to.send_out()
            if handed:
                self._wake()

        return forward

    # -- the window's thread ----------------------------------------------------------------------------

    def _wake(self) -> None:
        """From a hop's thread: the window's thread has something to look at."""
        if self._woken:
            return
        with self._wake_lock:
            if not self._closed:
                self._woken = True
                with contextlib.suppress(OSError):
                    self._wake_out.send(b"\0")

    @Slot()
    def _on_woken(self) -> None:
        try:
            while self._wake_in.recv(4096):
                pass
        except OSError:
            pass
        self._woken = False
        try:
            self.drain()
        finally:  # the engines' events and the hops' ends are told whatever became of the drain
            self._tell_pumps()

    def _tell_pumps(self) -> None:
        hops = self.hops
        # read before the pumps are told, not after: a hop that ends while they are told (its pump looked at
        # already) must wake this thread again, which a closed relay no longer does (its end never told)
        ended = hops is not None and all(hop.ended for hop in hops)
        for index, pump in enumerate(self._pumps):
            if shiboken6.isValid(pump):
                pump.after_thread()
            elif hops is not None and hops[index].ended:  # its connection was deleted with the proxied client
                hops[index].close()
        if ended:
            self.close()

    def drain(self) -> None:
        """What the engines reported since the last drain, into the log (and each message the breakpoints
        want, offered to them), in order; a hop's thread waiting for it goes on."""
        items = self._items
        if self._detached:
            items.clear()
            return
        pop = items.popleft
        drained = 0
        try:
            for _ in range(len(items)):
                sink, arguments, size = pop()
                drained += size
                sink(*arguments)
        finally:  # counted even when a sink failed: the queue's bound never takes an item for one still waiting
            if drained:
                with self._room:
                    self._drained += drained
                    self._room.notify_all()

    def detach(self) -> None:
        """The proxied client is done with the hops (its session saved): what the threads still report is
        dropped, and none of them waits for a drain any more."""
        self._detached = True
        self._items.clear()
        self._release()

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting in the queue for the window's thread (payloads, and ``FRAME_COST`` a frame); 0 once
        detached."""
        return 0 if self._detached else self._queued[0] + self._queued[1] - self._drained

    @property
    def held_back(self) -> tuple[bool, bool]:
        """Whether the client hop's thread, and the upstream hop's, wait for the window's thread to drain the
        queue (they read nothing meanwhile)."""
        return self._held_back[0], self._held_back[1]

    def _hold_back(self, hop: HopThread, index: int) -> None:
        """On ``hop``'s thread, holding no lock but the condition's: wait while more than ``QUEUED_MOST`` bytes
        are queued, until a drain, ``hop`` is shut down (:meth:`_release`), or the relay is detached. The
        window's thread is woken to drain now rather than at its next flush."""
        self._wake()
        with self._room:
            while self.queued_bytes > QUEUED_MOST and not (hop.shut or self._detached):
                self._held_back[index] = True
                self._room.wait()
            self._held_back[index] = False

    def _release(self) -> None:
        """A hop shut down, or the relay detached: a thread waiting for a drain looks again."""
        with self._room:
            self._room.notify_all()

    def backlogged(self, toward: Direction, most: int) -> bool:
        """Whether more than ``most`` bytes wait to be written to the hop messages ``toward`` go to."""
        assert self.hops is not None
        return self.hops[1 if toward is _OUT else 0].waiting_bytes > most

    def lock(self, toward: Direction) -> threading.RLock:
        """The lock of the hop messages ``toward`` go to (held while a message is sent that way from the
        window's thread, so it goes in order with what the threads forward)."""
        assert self.hops is not None
        return self.hops[1 if toward is _OUT else 0].lock

    def close(self) -> None:
        """Both hops have ended: no more waking."""
        with self._wake_lock:
            if self._closed:
                return
            self._closed = True
            self._notifier.setEnabled(False)
            self._wake_in.close()
            self._wake_out.close()
        Relay._live.discard(self)
