"""A connection's protocol mode: the protocol session (core/protocols) that speaks on top of the WebSocket.

The driver belongs to a :class:`~wsinspector.app.connection.ConnectionController`. When the connection opens it
makes the session the profile's mode names (``decoding.mode``: a protocol, or ``auto`` for the one the decoder
chooses: the decoder override, the negotiated subprotocol, the URL, else the first messages received), hands it
every whole message received, sends what it answers through the controller's normal send path (so the frames
are in the timeline and the recording), and wakes it at its next deadline with one timer. It stops when the
connection ends.

The composer's side: :meth:`ProtocolDriver.verbs` describes the verbs and their fields, :meth:`invoke` does one.

Signals:
    started(str): a session began speaking (the protocol's name)
    stopped(): the session ended with its connection
    protocol_event(ProtocolEvent): every event the session reported
    acknowledged(ProtocolEvent): an answer matched to what we sent (Socket.IO ack, STOMP receipt, PUBACK…)
    data_received(ProtocolEvent): subscription data (a GraphQL result, a STOMP MESSAGE, an MQTT PUBLISH, an event)
    problem(str): one line: a frame the session could not read, a silent server, a refused verb
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.core.decoders.base import FrameView
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.protocols.base import Invoked, Outgoing, ProtocolError, ProtocolSession, Verb
from wsinspector.core.protocols.registry import MODE_AUTO, SESSIONS, make_session, mode_for

if TYPE_CHECKING:
    from wsinspector.app.connection import ConnectionController
    from wsinspector.core.events import OpenInfo

#: how many received messages an ``auto`` mode looks at to recognise the protocol
SNIFF_MESSAGES = 16


class ProtocolDriver(QObject):
    started = Signal(str)
    stopped = Signal()
    protocol_event = Signal(object)
    acknowledged = Signal(object)
    data_received = Signal(object)
    problem = Signal(str)

    def __init__(self, controller: ConnectionController) -> None:
        super().__init__(controller)
        self._controller = controller
        self.session: ProtocolSession | None = None
        self._sniffing = 0
        self._subprotocol = ""
        self._seen = 0  # the log's length up to which messages were handed over
        self._timer = QTimer(self)
        self._timer.setObjectName("protocolDeadline")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_deadline)
        controller.opened.connect(self._on_opened)
        controller.frames_arrived.connect(self._on_frames)
        controller.closed.connect(self._stop)
        controller.failed.connect(self._stop)
        controller.session_started.connect(self._stop)
        controller.session_started.connect(self._ready)

    # -- the composer's side -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The protocol spoken now ("" when none)."""
        return self.session.name if self.session is not None else ""

    def verbs(self) -> tuple[Verb, ...]:
        """The verbs of the protocol spoken now, with their fields (none when no protocol is spoken)."""
        return self.session.verbs() if self.session is not None else ()

    def invoke(self, verb: str, **fields: Any) -> Invoked:
        """Do ``verb`` and send what it makes; ProtocolError (one line) when it cannot."""
        if self.session is None:
            raise ProtocolError("No protocol is spoken on this connection: choose a protocol mode")
        invoked = self.session.invoke(verb, time.monotonic(), **fields)
        self._send(list(invoked.messages))
        return invoked

    # -- the connection's side -------------------------------------------------------------------------

    @Slot(object)
    def _on_opened(self, info: OpenInfo) -> None:
        self._stop()
        profile = self._controller.profile
        if profile is None or not profile.decoding.mode:
            return
        self._subprotocol = info.subprotocol
        self._seen = len(self._controller.log)
        mode = profile.decoding.mode
        if mode == MODE_AUTO:
            from wsinspector.core.decoders.registry import decoder_registry  # noqa: PLC0415

            try:
                chosen = decoder_registry().choose(override=profile.decoding.decoder, subprotocol=info.subprotocol,
                                                   url=info.url)
            except KeyError as exc:
                self._problem(str(exc).strip("'\""))
                return
            name = mode_for(mode, chosen.name if chosen is not None else "")
            if not name:
                self._sniffing = SNIFF_MESSAGES  # the first messages received tell
                return
            mode = name
        self._begin(mode)

    def _begin(self, name: str) -> None:
        profile = self._controller.profile
        options = profile.decoding.mode_options if profile is not None else ()
        try:
            resolved = profile.decoding.resolved(self._controller.variables) if profile is not None else None
            session = make_session(name, resolved.mode_options if resolved is not None else options,
                                   self._subprotocol)
        except (ProtocolError, ValueError) as exc:
            self._problem(f"Protocol mode {name}: {exc}")
            return
        self.session = session
        self._sniffing = 0
        self._controller.add_event("protocol", f"speaking {session.title}")
        self.started.emit(name)
        self._send(session.start(time.monotonic()))

    @Slot(int, int)
    def _on_frames(self, first: int, last: int) -> None:
        if self.session is None and not self._sniffing:
            return
        log = self._controller.log
        for seq in range(max(first, self._seen), last + 1):
            if log.direction(seq) is not Direction.IN or log.opcode(seq).is_control:
                continue
            message = log.message_for(seq)
            if message is None or message.last_seq != seq:
                continue
            text = message.opcode is Opcode.TEXT
            if self.session is None:
                self._sniff(message.payload, text, seq)
                if self.session is None:
                    continue
            self._send(self.session.receive(message.payload, text, time.monotonic()))
        self._seen = max(self._seen, last + 1)

    def _sniff(self, payload: bytes, text: bool, seq: int) -> None:
        from wsinspector.core.decoders.registry import decoder_registry  # noqa: PLC0415

        self._sniffing -= 1
        found = decoder_registry().sniffed(FrameView(payload, text, False, seq))
        if found is not None and found.name in SESSIONS:
            self._begin(found.name)

    @Slot()
    def _on_deadline(self) -> None:
        if self.session is not None:
            self._send(self.session.tick(time.monotonic()))

    def _send(self, messages: list[Outgoing]) -> None:
        session = self.session
        if session is None:
            return
        for message in messages:
            try:
                self._controller.send(message.payload, message.text)
            except (RuntimeError, ValueError) as exc:
                self._problem(f"{session.title}: could not send: {exc}")
                break
        for event in session.drain_events():
            self.protocol_event.emit(event)
            if event.kind == "ack":
                self.acknowledged.emit(event)
            elif event.kind in ("data", "event"):
                self.data_received.emit(event)
            elif event.kind == "error":
                self._problem(event.text)
            elif event.kind in ("connected", "closed"):
                self._controller.add_event("protocol", event.text)
        self._arm()

    def _arm(self) -> None:
        deadline = self.session.next_deadline() if self.session is not None else None
        if deadline is None:
            self._timer.stop()
            return
        self._timer.start(max(0, int((deadline - time.monotonic()) * 1000) + 1))

    def _problem(self, text: str) -> None:
        self._controller.add_event("protocol", text)
        self.problem.emit(text)

    @Slot()
    def _ready(self) -> None:
        """A connect begins: an automatic mode reads the decoders now, before the server's first ping waits
        for an answer."""
        profile = self._controller.profile
        if profile is not None and profile.decoding.mode == MODE_AUTO:
            from wsinspector.core.decoders.registry import decoder_registry  # noqa: PLC0415

            decoder_registry()

    @Slot()
    def _stop(self, *_: object) -> None:
        self._timer.stop()
        self._sniffing = 0
        if self.session is not None:
            self.session = None
            self.stopped.emit()
