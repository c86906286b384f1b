"""Copying the store's write-ahead log into its database file away from the window's thread.

SQLite in WAL mode appends each transaction to the log and, every thousand pages, copies the log into the
database file on the connection that wrote: a flush that happens to cross that line stalls for the copy and its
sync (tens of milliseconds, hundreds on a busy disk). Under a flood that is the window's worst lateness. The
app's store turns that off and asks a :class:`Checkpointer` instead: a thread with a connection of its own that
runs ``PRAGMA wal_checkpoint(PASSIVE)`` (it never blocks the writer) whenever the log has grown. The thread
does nothing else: it touches no Qt object and says nothing but through :attr:`Checkpointer.error`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from wsinspector.core.threads import start_thread

log = logging.getLogger(__name__)


class Checkpointer:
    """A thread that checkpoints the SQLite file at ``path`` each time it is asked (requests made while one runs
    fold into one more). ``error`` says why it stopped, when it did; ``stop()`` ends the thread and waits for it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._stopping = False
        #: why the thread stopped checkpointing ("" while it works)
        self.error = ""
        #: checkpoints run so far
        self.done = 0
        self._thread = threading.Thread(target=self._run, name="wsinspector-checkpoint", daemon=True)
        start_thread(self._thread)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def request(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            self.error = str(exc)
            return
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    self.error = str(exc)
                    return
                self.done += 1
        finally:
            db.close()
