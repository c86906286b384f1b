"""What lives as long as the app: the data folder, the store, the echo server, and the controllers: one per open
connection, one for the saved connections, one for the stored sessions."""

from __future__ import annotations

import logging
import os
import sqlite3
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from wsinspector import APP_NAME
from wsinspector.app.checkpoint import Checkpointer
from wsinspector.app.connection import TAB_CLOSED_REASON, ConnectionController
from wsinspector.app.connections import ConnectionsController
from wsinspector.app.defaults import DefaultsController
from wsinspector.app.environments import EnvironmentsController
from wsinspector.app.preload import preload
from wsinspector.app.secrets import FallbackKeeper, open_keeper
from wsinspector.app.sessions import SessionsController
from wsinspector.core.secrets import SecretError, SecretKeeper
from wsinspector.core.store import WAL_LIMIT_BYTES, Store, StoreError

if TYPE_CHECKING:
    from wsinspector.app.proxy_server import ProxyController
    from wsinspector.app.server import ServerController
    from wsinspector.net.server import EchoServer

log = logging.getLogger(__name__)

DATA_DIR_ENV = "WSINSPECTOR_DATA_DIR"
DB_NAME = "wsinspector.sqlite3"
#: how often the write-ahead log's size is looked at (a checkpoint is asked for once it has grown)
CHECKPOINT_CHECK_MS = 250


def default_data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


#: the modules the recording path needs are imported this long after start-up (see app/preload.py)
PRELOAD_AFTER_MS = 1000


class AppContext(QObject):
    """Everything with a lifetime of the whole app. ``warnings`` lists problems met at start (shown once).

    The built-in echo server starts in the constructor, or later with ``start_echo_server()`` (the app
    starts it once the window has painted).

    Signals:
        echo_started(str): the echo server listens at this URL; "Local echo" points at it
        echo_failed(str): it could not start (the message is for the user)
        keyring_lost(str): the keyring stopped working; secrets are kept in memory from now on (said once)
    """

    echo_started = Signal(str)
    echo_failed = Signal(str)
    keyring_lost = Signal(str)

    def __init__(self, data_dir: Path | None = None, start_echo: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir or default_data_dir()
        self.db_path = self.data_dir / DB_NAME
        self.warnings: list[str] = []
        self.saving = True
        self.interrupted: list[int] = []
        self.store = self._open_store()
        self._open_settings()
        self.sessions = SessionsController(self.store, self)
        self._apply_retention()
        self._checkpointer: Checkpointer | None = None
        self._checkpoint_timer = QTimer(self)
        self._checkpoint_timer.setObjectName("walCheckpoint")
        self._checkpoint_timer.setInterval(CHECKPOINT_CHECK_MS)
        self._checkpoint_timer.timeout.connect(self._check_wal)
        if self.saving:
            self._checkpointer = Checkpointer(self.db_path)
            self.store.set_autocheckpoint(False)
            self.store.start_writer()  # live frames are committed on a thread, not the window's
            self._checkpoint_timer.start()
        #: one controller per open connection, in the order they were opened
        self.controllers: list[ConnectionController] = []
        #: the servers the window started (the Server page), stopped with the app
        self.servers: list[ServerController] = []
        #: the recording proxies the window started (the Server page's Proxy tab), stopped with the app
        self.proxies: list[ProxyController] = []
        #: the window's connection
        self.session = self.open_controller()
        self.echo: EchoServer | None = None
        self.echo_url: str | None = None
        #: the echo server's "Local echo" connection was made now: nothing was saved here before
        self.first_start = False
        if start_echo:
            self.start_echo_server()
        # what the recording path imports on first use, on a thread once the window is up and before the first
        # flood needs it (the first paint waits for none of it)
        QTimer.singleShot(PRELOAD_AFTER_MS, self, preload)

    def _open_store(self) -> Store:
        """The store in the data folder; a temporary one, with a warning and ``saving`` off, when that file cannot
        be used (it is never touched then)."""
        try:
            store = Store(self.db_path)
        except StoreError as exc:
            self.saving = False
            self.warnings.append(f"{exc}. Working without saving until this is fixed.")
            log.warning("store unavailable: %s", exc)
            return Store(":memory:")
        try:
            # the first real reads: a file damaged past its header only shows here
            self.interrupted = store.recover_interrupted()
            store.profiles()
            store.sessions()
            if store.read_error:  # the session list read around a damaged page
                raise StoreError(store.read_error)
            for unreadable in store.unreadable_profiles:
                self.warnings.append(f"{unreadable}: it is left out of the list, and left as it was in "
                                     f"{self.db_path}.")
        except (StoreError, sqlite3.DatabaseError) as exc:
            store.close()
            self.saving = False
            self.warnings.append(f"{self.db_path} is damaged ({exc}); it was left untouched. "
                                 "Working without saving until this is fixed.")
            log.warning("store unusable: %s", exc)
            self.interrupted = []
            return Store(":memory:")
        return store

    def _open_settings(self) -> None:
        """The keeper of secrets and what the store keeps besides sessions: connections, environments, defaults."""
        #: where secret values are kept (never in the store): the OS keyring, or memory and a warning
        self.secrets: SecretKeeper
        self.secrets, keeper_warning = open_keeper()
        if keeper_warning:
            self.warnings.append(keeper_warning)
        if isinstance(self.secrets, FallbackKeeper):  # the keyring may stop while the app runs: said once
            self.secrets.listeners.append(self.keyring_lost.emit)
        self.connections = ConnectionsController(self.store, self, secrets=self.secrets)
        if self.saving:
            try:
                self.connections.migrate_plaintext()
            except (SecretError, StoreError) as exc:
                self.warnings.append(f"The secrets saved in plaintext could not be moved into the keyring: {exc}")
        self.warnings += self.connections.warnings
        self.environments = EnvironmentsController(self.store, self.secrets, self)
        if self.environments.load_error:
            self.warnings.append(f"{self.environments.load_error}: the environments are left out, and left as they "
                                 f"were in {self.db_path}.")
        #: the app-wide TLS and proxy defaults every connection uses unless it says otherwise
        self.defaults = DefaultsController(self.store, self.secrets, self)
        if self.defaults.load_error:
            self.warnings.append(f"{self.defaults.load_error}: the connection defaults are left out, and left as "
                                 f"they were in {self.db_path}.")
        elif self.defaults.missing:
            self.warnings.append(f"The keyring has no value for the connection defaults' "
                                 f"{' and '.join(self.defaults.missing)}: enter it again in Connection defaults….")

    def open_controller(self) -> ConnectionController:
        """A new connection's controller, recording into the store (when it can be saved to)."""
        # on the temporary store nothing would be kept anyway: don't hold every frame twice in memory
        controller = ConnectionController(self.store if self.saving else None, self)
        self.sessions.session_deleted.connect(controller.on_session_deleted)
        controller.variables_source = self.environments.variables_for
        controller.secrets_source = self.environments.secret_values_for
        controller.defaults_source = lambda: self.defaults.defaults
        controller.session_saved.connect(self._apply_retention)
        controller.session_started.connect(partial(self._on_session_started, controller))
        self.controllers.append(controller)
        return controller

    def _on_session_started(self, controller: ConnectionController) -> None:
        """A connection is being opened: its profile leads the recently used ones."""
        if controller.profile is not None:
            self.connections.mark_used(controller.profile.id)

    @Slot()
    def _apply_retention(self) -> None:
        """Delete the stored sessions the user's retention lets go of: at start-up, and after each recording."""
        try:
            deleted = self.sessions.apply_retention()
        except (StoreError, sqlite3.Error) as exc:
            log.warning("retention not applied: %s", exc)
            return
        if deleted:
            log.info("retention deleted %d stored session%s", deleted, "s" if deleted != 1 else "")

    def close_controller(self, controller: ConnectionController) -> None:
        """End a connection's controller (its tab is closed): an open link is told so and dropped, what it
        recorded is saved."""
        controller.shutdown(TAB_CLOSED_REASON)
        self.controllers.remove(controller)
        if self.session is controller and self.controllers:
            self.session = self.controllers[0]
        self.sessions.session_deleted.disconnect(controller.on_session_deleted)
        controller.session_saved.disconnect(self._apply_retention)
        controller.deleteLater()

    def start_echo_server(self) -> None:
        """Start the echo server on a free port and point "Local echo" at it; once."""
        if self.echo is not None:
            return
        from wsinspector.net.server import EchoServer, EchoServerError  # noqa: PLC0415  (after the first paint)

        self.echo = EchoServer(self)
        try:
            self.echo_url = self.echo.listen()
        except EchoServerError as exc:
            message = f"The built-in echo server could not start: {exc}"
            self.warnings.append(message)
            self.echo_failed.emit(message)
            return
        _, created = self.connections.ensure_local_echo(self.echo_url)
        self.first_start = created and self.saving
        self.echo_started.emit(self.echo_url)

    @Slot()
    def _check_wal(self) -> None:
        """Ask for a checkpoint when the write-ahead log has grown; if the checkpointer has stopped, commits
        checkpoint again as SQLite does by default."""
        checkpointer = self._checkpointer
        if checkpointer is None:
            return
        if checkpointer.error or not checkpointer.alive:
            log.warning("checkpoints back on the window's thread: %s", checkpointer.error or "the thread ended")
            self._stop_checkpointer()
            self.store.set_autocheckpoint(True)
        elif self.store.wal_bytes() > WAL_LIMIT_BYTES:
            checkpointer.request()

    def _stop_checkpointer(self) -> None:
        self._checkpoint_timer.stop()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None

    def shutdown(self) -> None:
        for controller in self.controllers:
            controller.shutdown()
        for server in self.servers:
            server.stop()
        for proxy in self.proxies:
            proxy.shutdown()
        if self.echo is not None:
            self.echo.close()
        self._stop_checkpointer()
        self.store.close()
