"""A mock server: a :class:`~wsinspector.app.server.ServerController` whose clients are answered by a rules file
(``core/mock``). Per client, the core's :class:`~wsinspector.core.mock.session.MockSession` decides; this
controller routes the request, reads each of the client's messages from its live log as soon as the engine
reports it (``ServerClient.message_read``: before the frame after it is parsed, so a reply goes out ahead of
the close frame that fails a client breaking the protocol in the same packet), arms one timer at the session's
next deadline and does what is due: messages (in fragments, masked, not UTF-8 when a fault says so), pings,
late pongs, frames built by hand, closes and drops. A route's ``origins`` refuse another Origin with 403; its
``on_close`` answers a client's close frame with another code than the client's. What a rule or a periodic push
sends is marked in the log (``header.AUTO_REPLY``, ``header.SCHEDULED``), so the recording shows why it went
out.
"""

from __future__ import annotations

import math
import os
import random
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from wsinspector.app.server import UNWRITTEN_MOST, ClientSession, ServerController
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.mock.model import (
    CLOSE,
    CLOSE_MID_MESSAGE,
    DROP,
    PING,
    RAW,
    SEND,
    Action,
    MockRules,
)
from wsinspector.core.mock.session import PONG, Act, MockSession
from wsinspector.core.model import header
from wsinspector.core.wire.raw import raw_frame
from wsinspector.net.wire_server import ClientRequest

__all__ = ["MockClient", "MockServer"]

_NOT_FOUND_BODY = b"No route for this path in the mock's rules.\n"


def _now() -> float:
    return time.monotonic_ns() / 1e9


class MockClient(QObject):
    """The mock's side of one client: its :class:`MockSession` and the timer that runs it.

    Signals:
        problem(str): something the rules asked for could not be done (one line)
    """

    problem = Signal(str)

    def __init__(self, session: ClientSession, rules: MockRules, rng: random.Random,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.rules = rules
        self._rng = rng
        self.mock: MockSession | None = None
        self._read = 0  # the next seq of the log to read
        self._parts: list[bytes] = []
        self._part_text = False
        self._stopped = False
        #: periodic pushes left out while the client did not take what was written to it, by their cause
        self._left_out: dict[str, int] = {}
        self._timer = QTimer(self)
        self._timer.setObjectName("mockClient")
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._run)
        client = session.client
        client.requested.connect(self._on_requested)
        client.opened.connect(self._on_opened)
        client.message_read.connect(self._on_received)
        client.rejected.connect(self._stop)
        session.ended.connect(self._stop)

    # -- the handshake ----------------------------------------------------------------------------

    def _on_requested(self, request: ClientRequest) -> None:
        client = self.session.client
        route = self.rules.route(request.route)
        if route is None:
            client.refuse(404, (("Content-Type", "text/plain; charset=utf-8"),), _NOT_FOUND_BODY)
            return
        if route.origins and request.origin not in route.origins:
            shown = request.origin or "none"
            client.refuse(403, (("Content-Type", "text/plain; charset=utf-8"),),
                          f"Origin {shown} is not allowed here.\n".encode("utf-8", "replace"))
            return
        answer = route.handshake
        if answer.never:
            client.hold()
            return
        if answer.status != 101:
            client.refuse(answer.status, answer.headers, answer.body)
            return
        self.mock = MockSession(route, dict(self.rules.variables), path=request.path, client=request.peer,
                                wall_clock=time.time, rng=self._rng)
        offered = request.subprotocols
        chosen = next((name for name in answer.subprotocols if name in offered), None)
        client.accept(subprotocol=chosen, headers=answer.headers)

    def _on_opened(self, _info: object) -> None:
        mock = self.mock
        if mock is None:
            return
        if mock.route.pings != "answer":
            self.session.client.set_auto_pong(False)
        if mock.route.on_close is not None:
            self.session.client.answer_close_with(*mock.route.on_close)
        mock.opened(_now())
        self._run()

    # -- reading ----------------------------------------------------------------------------------

    def _on_received(self) -> None:
        """A message or a ping has just been read (the read goes on after this): the client's new whole messages
        and pings, from the log, answered now."""
        mock, log = self.mock, self.session.log
        if mock is None or self._stopped:
            return
        last = len(log)
        now = _now()
        for seq in range(max(self._read, log.first_held), last):
            meta = log.meta(seq)
            if header.direction(meta) is not Direction.IN:
                continue
            opcode = header.opcode(meta)
            if opcode is Opcode.PING:
                mock.ping_received(log.payload(seq), now)
                continue
            if opcode.is_control:
                continue
            if opcode is not Opcode.CONTINUATION:
                self._parts, self._part_text = [], opcode is Opcode.TEXT
            self._parts.append(log.payload(seq))
            if header.fin(meta) is not False:
                payload, self._parts = b"".join(self._parts), []
                mock.received(payload, self._part_text, now)
        self._read = last
        self._run(now)

    # -- doing ------------------------------------------------------------------------------------

    def _run(self, now: float | None = None) -> None:
        mock = self.mock
        if mock is None or self._stopped:
            return
        for act in mock.due(_now() if now is None else now):
            if self._stopped:
                return
            self._do(act)
        deadline = mock.next_deadline()
        if deadline is not None and not self._stopped:
            self._timer.start(max(0, math.ceil((deadline - _now()) * 1000)))

    def _do(self, act: Act) -> None:
        log = self.session.log
        action = act.action
        if self.session.client.state is not ConnectionState.OPEN and action.kind not in (CLOSE, DROP):
            return  # the client is closing or gone: nothing more reaches it, and no rule is at fault
        if act.cause.startswith("every") and action.kind not in (CLOSE, DROP):
            if self.session.client.backlogged:  # it does not read: a push would only pile up here
                self._left_out[act.cause] = self._left_out.get(act.cause, 0) + 1
                return
            self._say_left_out()
        before = len(log)
        try:
            self._perform(action, act.data)
        except (RuntimeError, ValueError) as exc:
            self.problem.emit(f"{act.cause}: {exc}")
            return
        if len(log) > before and action.kind in (SEND, PING, PONG, RAW, CLOSE_MID_MESSAGE):
            flag = header.SCHEDULED if act.cause.startswith("every") else header.AUTO_REPLY
            log.mark(before, len(log) - 1, flag)

    def _perform(self, action: Action, data: bytes) -> None:
        client = self.session.client
        kind = action.kind
        if kind == SEND:
            if action.masked:
                client.send_raw(_frames(data, action.is_text, action.fragments, masked=True),
                                "deliberately masked: a server must not mask its frames (mock fault)")
            elif action.fragments > 1:
                client.send_fragmented(data, action.is_text, max(1, math.ceil(len(data) / action.fragments)))
            elif action.raw_text:
                client.send_raw(_frames(data, True, 1, masked=False),
                                "deliberately not valid UTF-8 (mock fault)")
            else:
                client.send(data, action.is_text)
        elif kind == CLOSE:
            client.close(action.code, action.reason)
        elif kind == DROP:
            client.drop()
        elif kind == PING:
            client.ping(data)
        elif kind == PONG:
            client.send_pong(data, "a late answer to the client's ping (mock: pings late)")
        elif kind == RAW:
            client.send_raw(raw_frame(action.opcode, action.data, fin=action.fin, rsv=action.rsv),
                            "built by hand (mock fault)")
        elif kind == CLOSE_MID_MESSAGE:
            half = data[:max(1, len(data) // 2)]
            client.send_raw(raw_frame(int(Opcode.TEXT), half, fin=False),
                            "the start of a message never finished (mock fault: the connection is dropped)")
            client.drop()

    def _say_left_out(self) -> None:
        """Once the client reads again (or is gone): how many pushes were left out while it did not, once for
        each time it stopped reading; a server event in its session, and a problem."""
        if not self._left_out:
            return
        left_out, self._left_out = self._left_out, {}
        for cause, count in left_out.items():
            text = (f"{cause}: {count} {'message' if count == 1 else 'messages'} not sent while the client read "
                    f"nothing (more than {UNWRITTEN_MOST >> 20} MiB waited for it)")
            self.session.add_event("server", text)
            self.problem.emit(text)

    def _stop(self, *_args: object) -> None:
        self._stopped = True
        self._timer.stop()
        self._say_left_out()


def _frames(data: bytes, is_text: bool, count: int, *, masked: bool) -> bytes:
    """A message as ``count`` frames built by hand, each masked with a key of its own when ``masked``."""
    size = max(1, math.ceil(len(data) / count)) if data else 1
    parts = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    first = int(Opcode.TEXT if is_text else Opcode.BINARY)
    return b"".join(raw_frame(first if index == 0 else int(Opcode.CONTINUATION), part, fin=index == len(parts) - 1,
                              mask_key=os.urandom(4) if masked else None)
                    for index, part in enumerate(parts))


class MockServer(QObject):
    """A :class:`ServerController` answered by ``rules``.

    Signals:
        problem(str): a client's rules asked for something that could not be done (one line)
    """

    problem = Signal(str)

    def __init__(self, controller: ServerController, rules: MockRules, *, seed: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.rules = rules
        self._rng = random.Random(seed)
        self.clients: list[MockClient] = []
        controller.client_added.connect(self._on_client)
        controller.client_ended.connect(self._forget)

    def _on_client(self, session: ClientSession) -> None:
        mock = MockClient(session, self.rules, self._rng, self)
        mock.problem.connect(self.problem)
        self.clients.append(mock)

    def _forget(self, session: ClientSession) -> None:
        for mock in list(self.clients):
            if mock.session is session:
                self.clients.remove(mock)
                QTimer.singleShot(0, mock.deleteLater)

