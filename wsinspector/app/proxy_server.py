"""The recording reverse proxy's listening side: ``ProxyController`` listens on a local port, gives each client
that connects a :class:`~wsinspector.app.proxy.ProxiedClient` of its own, and stops them all within a bounded
time, every session saved."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.app.bursts import AfterBurst
from wsinspector.app.preload import preload
from wsinspector.app.proxy import ProxiedClient
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.proxy.breakpoints import Breakpoints, BreakRule, Held
from wsinspector.core.store import Store
from wsinspector.core.wire.server import ServerSettings
from wsinspector.net.wire_server import ServerClient, ServerListenError, WireServer

#: how long a stopping proxy waits for its clients' closing handshakes before it drops what is still open (as
#: ``wsinspector serve`` does): a stop is bounded whatever the peers do
STOP_WAIT_MS = 2000


class ProxyError(Exception):
    """The proxy cannot listen (a port in use, an address that is not this machine's): one line for the user."""


class ProxyController(QObject):
    """Listens on a local port and gives each client that connects a :class:`ProxiedClient` to ``url``.

    Signals: ``said(str)`` a line about what happened; ``paused(ProxiedClient, Held)`` a message waits;
    ``stopped()`` after :meth:`stop`, once every client's session is saved."""

    said = Signal(str)
    paused = Signal(object, object)
    client_added = Signal(object)
    stopped = Signal()

    def __init__(self, url: str, profile: ConnectionProfile, rules: list[BreakRule], store: Store | None,
                 parent: QObject | None = None, max_clients: int = 64) -> None:
        super().__init__(parent)
        self.url = url
        self.profile = profile
        self.rules = list(rules)
        self._store = store
        self.max_clients = max_clients
        self.clients: list[ProxiedClient] = []
        self.sessions_recorded = 0
        self._ids = itertools.count(1)
        self._stopping = False
        self._told_stopped = False
        self._server: WireServer | None = None
        self._after_burst = AfterBurst(self)

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_listening

    def listen(self, host: str, port: int) -> str:
        """Start listening; the URL clients connect to. ProxyError (one line) says why it cannot."""
        limits = self.profile.limits
        settings = ServerSettings(deflate=True, max_message_size=limits.max_message_size,
                                  max_frame_size=limits.max_frame_size,
                                  close_timeout_s=self.profile.protocol.close_timeout_s)
        server = WireServer(settings, max_clients=self.max_clients, parent=self)
        server.client_connected.connect(self._add_client)
        try:
            url = server.listen(host, port)
        except ServerListenError as exc:
            server.deleteLater()
            raise ProxyError(str(exc)) from None
        self._server = server
        preload()  # the recording packs frames with numpy: imported on a thread, not at the first flush
        return url

    @Slot(object)
    def _add_client(self, downstream: ServerClient) -> ProxiedClient:
        client = ProxiedClient(downstream, self.url, self.profile, Breakpoints(list(self.rules), ids=self._ids),
                               self._store, self)
        client.said.connect(self.said)
        client.paused.connect(lambda held: self.paused.emit(client, held))
        client.finished.connect(lambda: self._on_finished(client))
        self.clients.append(client)
        self.client_added.emit(client)
        return client

    def _on_finished(self, client: ProxiedClient) -> None:
        self._after_burst.client_gone()
        if client in self.clients:
            self.clients.remove(client)
            if client.recorded:
                self.sessions_recorded += 1
            client.deleteLater()
        if self._stopping and not self.clients:
            self._stopped()

    def set_rules(self, rules: list[BreakRule]) -> None:
        """Breakpoints from now on, for every client (messages paused by a rule no longer given go on)."""
        self.rules = list(rules)
        for client in self.clients:
            client.set_rules(self.rules)

    def paused_messages(self) -> list[tuple[ProxiedClient, Held]]:
        """Every paused message of every client, oldest first."""
        return sorted(((c, h) for c in self.clients for h in c.held), key=lambda pair: pair[1].id)

    def decide(self, message_id: int | None, action: str, payload: bytes | None = None) -> None:
        """Forward (``payload``: edited) or drop a paused message (None: the oldest). ValueError says why not."""
        waiting = self.paused_messages()
        if not waiting:
            raise ValueError("no message is paused")
        found = waiting[0] if message_id is None else next(((c, h) for c, h in waiting if h.id == message_id), None)
        if found is None:
            raise ValueError(f"message {message_id} is not paused")
        client, held = found
        client.decide(held.id, action, payload)

    def inject(self, direction: Direction, opcode: Opcode, payload: bytes) -> None:
        """A message of the user's own to the newest client (``in``) or its upstream (``out``)."""
        if not self.clients:
            raise ValueError("no client is connected")
        self.clients[-1].inject(direction, opcode, payload)

    def stop(self) -> None:
        """Stop listening and close every client (1001 going away) and its upstream; ``stopped`` follows once
        they have ended, or after ``STOP_WAIT_MS`` at the latest: the hops still open then (a peer that never
        answers the close, whatever the close timeout) are dropped, every session saved."""
        if self._stopping:
            return
        self._stopping = True
        for client in list(self.clients):
            client.close()
        self._close_server()
        if not self.clients:
            QTimer.singleShot(0, self, self._stopped)
        else:
            QTimer.singleShot(STOP_WAIT_MS, self, self._stop_overdue)

    @Slot()
    def _stop_overdue(self) -> None:
        if self.clients:
            self.shutdown()
        if self.clients:  # a client that could not end (it is told no more): stopped all the same
            self.clients.clear()
            self._stopped()

    def shutdown(self) -> None:
        """Quitting: stop listening, drop every client and its upstream at once, their sessions saved now."""
        self._stopping = True
        for client in list(self.clients):
            client.drop()
        self._close_server()

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()

    @Slot()
    def _stopped(self) -> None:
        if not self._told_stopped:
            self._told_stopped = True
            self.stopped.emit()
