"""A server's controller: a :class:`~wsinspector.net.wire_server.WireServer` whose every client is a live log,
recorded as a stored session exactly as a client connection is (``recording.py``'s flush, the handshake kept as
a session event without secrets), so the Sessions page and ``wsinspector messages`` read it alike.

In a client's session, *in* is what the client sent to us and *out* what we sent it. The session is named after
the server and the client ("Server 127.0.0.1:8080 ← 127.0.0.1:50123") and its URL is the one the client asked
for.
"""

from __future__ import annotations

import logging
import sqlite3

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector.app.bursts import AfterBurst
from wsinspector.app.preload import preload
from wsinspector.app.recording import LogRecording
from wsinspector.core.events import CloseInfo, Failure, OpenInfo
from wsinspector.core.handshake import HANDSHAKE_EVENT
from wsinspector.core.log import FrameLog
from wsinspector.core.redact import redact_subprotocols, redact_url
from wsinspector.core.store import SessionStatus, Store, StoreError
from wsinspector.core.wire.server import ServerSettings
from wsinspector.net.wire_server import ClientRequest, ServerClient, ServerTls, WireServer

log = logging.getLogger(__name__)

__all__ = ["ClientSession", "ServerController"]

FLUSH_INTERVAL_MS = 50
#: a client's frames kept in memory (the rest are read back from the store): as a connection's
WINDOW_FRAMES = 100_000
WINDOW_BYTES = 16 << 20
#: bytes written to a client and not yet taken by it, past which it is not read until it takes half of them: a
#: client that sends and does not read holds itself back through TCP, rather than the answers piling up here
UNWRITTEN_MOST = 4 << 20


class ClientSession(QObject, LogRecording):
    """One client of a server: its frames in a live :class:`FrameLog`, recorded when given a store.

    Signals:
        frames_appended(int, int): first and last seq added since the last flush (every 50 ms)
        opened(OpenInfo), failed(Failure), closed(CloseInfo): the client's, after they are recorded
        ended(): the client is gone and its session finished
        recording_failed(str): the client can no longer be recorded; it stays connected
    """

    frames_appended = Signal(int, int)
    opened = Signal(object)
    failed = Signal(object)
    closed = Signal(object)
    ended = Signal()
    recording_failed = Signal(str)

    def __init__(self, client: ServerClient, store: Store | None, server_name: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.peer = client.peer
        self.log = FrameLog()
        self.session_id: int | None = None
        self.recording_error = ""
        self._store = store
        self._saved = self._packed = 0
        self._open_chunk = None
        self._announced = 0
        self.done = False
        self.name = f"{server_name} ← {client.peer}"
        client.attach(self.log.append_fields, self.log.append_whole_in)
        client.hold_when_unwritten(UNWRITTEN_MOST)
        client.requested.connect(self._on_requested)
        client.opened.connect(self._on_opened)
        client.failed.connect(self._on_failed)
        client.cancelled.connect(self._on_cancelled)
        client.closed.connect(self._on_closed)
        self._flush_timer = QTimer(self)
        self._flush_timer.setObjectName("serverClientFlush")
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush_slice)
        self._flush_timer.start()
        if store is not None:
            try:
                self.session_id = store.create_session(self.name, client.url, self.log.started_wall,
                                                       self.log.started_ns, None, SessionStatus.LIVE)
            except (StoreError, sqlite3.Error) as exc:
                self._recording_failed(str(exc))
        self._event("server", f"client {client.peer} connected")

    @Slot()
    def flush(self) -> None:
        """Record every new frame (committed when this returns) and tell the views about them, in one range;
        keep the log's window bounded."""
        self._flush(wait=True)

    @Slot()
    def _flush_slice(self) -> None:
        """The flush timer's: record what a couple of milliseconds take, without waiting for the store's writer
        thread unless far behind (:meth:`LogRecording._save_new`)."""
        self._flush(wait=False)

    def _flush(self, wait: bool) -> None:
        last = len(self.log) - 1
        self._save_new(last, wait)
        if last >= self._announced:
            first, self._announced = self._announced, last + 1
            self.frames_appended.emit(first, last)
        self.log.keep_window(WINDOW_FRAMES, WINDOW_BYTES, self._releasable(last), self._saved)

    def add_event(self, kind: str, text: str) -> None:
        """An event of this client's (what the server did about it) into its log and its recorded session."""
        self._event(kind, text)

    def _update(self, **fields: object) -> None:
        if self.is_recording:
            assert self._store is not None and self.session_id is not None
            try:
                self._store.update_session(self.session_id, **fields)
            except (StoreError, sqlite3.Error) as exc:
                self._recording_failed(str(exc))

    @Slot(object)
    def _on_requested(self, request: ClientRequest) -> None:
        self._update(url=self.client.url)
        said = [f"GET {redact_url(request.path)}"]
        if request.origin:
            said.append(f"origin {request.origin}")
        if request.subprotocols:
            said.append(f"offers {redact_subprotocols(', '.join(request.subprotocols))}")
        if request.extensions:
            said.append(f"extensions {request.extensions}")
        self._event("server", "upgrade request: " + "; ".join(said))

    def _keep_handshake(self) -> None:
        handshake = self.client.handshake
        if handshake is not None:
            self._event(HANDSHAKE_EVENT, handshake.without_secrets(()).to_json())

    @Slot(object)
    def _on_opened(self, info: OpenInfo) -> None:
        self._keep_handshake()
        if info.subprotocol:
            self._update(subprotocol=info.subprotocol)
        self.opened.emit(info)

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        self._keep_handshake()
        self._event("disconnect", failure.message)
        self._finish(SessionStatus.FAILED, None, failure.message)
        self.failed.emit(failure)
        self.ended.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        self._event("disconnect", "dropped before the opening handshake completed")
        self._finish(SessionStatus.CLOSED, None, "dropped")
        self.ended.emit()

    @Slot(object)
    def _on_closed(self, info: CloseInfo) -> None:
        self._event("disconnect", info.message)
        status = SessionStatus.FAILED if info.failure is not None else SessionStatus.CLOSED
        self._finish(status, info.code, info.reason or (info.message if info.failure is not None else ""))
        self.closed.emit(info)
        self.ended.emit()

    def _finish(self, status: str, code: int | None, reason: str) -> None:
        if self.done:
            return
        self.done = True
        self._flush_timer.stop()
        self.flush()
        if self._store is None or self.session_id is None:
            return
        self._finish_stored(self.session_id, status, code, reason)

    def _recording_failed(self, error: str) -> None:
        if self.recording_error:
            return
        self.recording_error = error
        log.warning("server client recording stopped: %s", error)
        self.recording_failed.emit(f"Recording stopped: {error}. The client stays connected.")


class ServerController(QObject):
    """One listening server and its clients' sessions.

    Signals:
        client_added(ClientSession): a client connected (its request has not come yet)
        client_ended(ClientSession): a client is gone, its session finished
    """

    client_added = Signal(object)
    client_ended = Signal(object)

    def __init__(self, store: Store | None, settings: ServerSettings | None = None, *, max_clients: int = 64,
                 tls: ServerTls | None = None, name: str = "Server", keep_ended: bool = True,
                 parent: QObject | None = None) -> None:
        """``keep_ended``: keep the sessions of clients that are gone in :attr:`sessions` (a window shows them);
        off, they are let go once recorded (a headless server that runs for days)."""
        super().__init__(parent)
        self.keep_ended = keep_ended
        #: clients served since the server started
        self.served = 0
        self.server = WireServer(settings, max_clients=max_clients, tls=tls, parent=self)
        self.server.client_connected.connect(self._on_client)
        self._after_burst = AfterBurst(self)
        self.name = name
        self._store = store
        #: every client's session since the server started, oldest first
        self.sessions: list[ClientSession] = []

    @property
    def url(self) -> str:
        return self.server.url

    def listen(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (see :meth:`WireServer.listen`: raises ``ServerListenError`` with a one-line message)."""
        url = self.server.listen(host, port)
        self.name = f"{self.name} {self.server.host}:{self.server.port}"
        preload()  # a client's log and its recording pack frames with numpy: imported on a thread, not at a save
        return url

    @property
    def live(self) -> list[ClientSession]:
        """The clients connected now."""
        return [session for session in self.sessions if not session.done]

    def close(self, code: int = 1001, reason: str = "server shutting down") -> None:
        self.server.close(code, reason)

    def stop(self) -> None:
        """Drop every client at once and record their ends (quitting)."""
        self.server.drop_all()
        for session in self.live:
            session.flush()

    @Slot(object)
    def _on_client(self, client: ServerClient) -> None:
        session = ClientSession(client, self._store, self.name, self)
        self.sessions.append(session)
        self.served += 1
        session.ended.connect(lambda s=session: self._on_ended(s))
        self.client_added.emit(session)

    def _on_ended(self, session: ClientSession) -> None:
        self.client_ended.emit(session)
        if not self.keep_ended and session in self.sessions:
            self.sessions.remove(session)
            session.deleteLater()
        self._after_burst.client_gone()
