"""What the live session and a test's replay share in recording a live log to the store."""

from __future__ import annotations

import logging
import sqlite3
import time

from wsinspector.core.chunks import CHUNK_FRAMES
from wsinspector.core.log import FrameLog
from wsinspector.core.store import SessionStatus, Store, StoreError

#: new frames stored per transaction when a flush saves in slices: two whole chunks
SAVE_SLICE_FRAMES = 2 * CHUNK_FRAMES
#: how long storing frames may take per turn of the event loop before it lets the window have its turn (the
#: store's writer thread commits meanwhile)
SAVE_BUDGET_S = 0.002
#: frames (or payload bytes) read but not stored yet beyond which the reading waits for the store: a live
#: connection's Wire engine stops reading until it has caught up (a flood faster than the disk waits in the
#: socket, TCP holding the server back, not in memory, and a crash loses only the frames of the last few turns);
#: a periodic save of a server's client or a test run waits for the store's commits on the event loop
SAVE_AHEAD_FRAMES = 4 * SAVE_SLICE_FRAMES
SAVE_AHEAD_BYTES = 4 << 20
#: a periodic save that found the writer thread's queue full this long after its last hand-over waits for room
#: for one slice: sessions sharing a busy writer each get their turn
HAND_OVER_WITHIN_S = 0.5


log = logging.getLogger(__name__)


class LogRecording:
    """Flushes a controller's live log and its events into the session it records.

    A mixin for the controllers that record (:class:`~wsinspector.app.connection.ConnectionController`,
    :class:`~wsinspector.app.replayer.ReplayController`): it uses their ``log``, ``_store``, ``session_id``,
    ``recording_error``, ``_saved`` (frames stored so far) and ``_recording_failed(error)``, which says what
    a failure means to each of them. A failure stops the recording, never the connection.

    When the store writes on a thread of its own (:meth:`Store.start_writer`), a frame handed to it
    (``_packed``) counts as stored (``_saved``) only once the thread has committed it.
    """

    log: FrameLog
    _store: Store | None
    session_id: int | None
    recording_error: str
    _saved: int
    #: frames handed to the store so far (committed or still queued for its writer thread)
    _packed: int = 0
    #: the first seq of the small chunk the last flush left open (see Store.append_live)
    _open_chunk: int | None = None
    #: when frames were last handed to the store (monotonic seconds)
    _handed_at: float = 0.0

    @property
    def is_recording(self) -> bool:
        return self.session_id is not None and not self.recording_error

    def _recording_failed(self, error: str) -> None:
        raise NotImplementedError

    def _finish_stored(self, session_id: int, status: str, code: int | None = None, reason: str = "") -> None:
        """Mark the stored session ended with ``status`` (incomplete when its recording failed); a store that
        cannot is logged: the frames are saved already."""
        assert self._store is not None
        if self.recording_error:
            status = SessionStatus.INCOMPLETE
        try:
            self._store.finish_session(session_id, status, time.time(), code, reason)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("could not finish session %s: %s", session_id, exc)

    def _releasable(self, last: int) -> int:
        """The first frame the log must keep in memory (``last``: its newest): one not committed yet, or one of
        the small chunk left open, which the next save packs again from the log; all of them when not recording."""
        if not self.is_recording:
            return last + 1
        return self._saved if self._open_chunk is None else min(self._saved, self._open_chunk)

    def _save_frames(self, last: int, wait: bool = True) -> None:
        """Store the frames not stored yet, up to ``last``, in one transaction; ``wait``: until they are
        committed, when the store writes on a thread."""
        if not self.is_recording:
            return
        assert self._store is not None and self.session_id is not None
        if last >= self._packed:
            try:
                self._open_chunk = self._store.append_live(self.session_id, self.log, self._packed, last,
                                                           self._open_chunk)
            except (StoreError, sqlite3.Error) as exc:
                self._recording_failed(str(exc))
                return
            self._packed = last + 1
            self._handed_at = time.monotonic()
        self._take_stored(wait)

    def _take_stored(self, wait: bool = False) -> None:
        """Count what the store has committed as saved; a failed write stops the recording."""
        if not self.is_recording:
            return
        assert self._store is not None and self.session_id is not None
        if wait:
            self._store.settle()
        last, error = self._store.stored_through(self.session_id)
        self._saved = max(self._saved, last + 1)
        if error:
            self._recording_failed(error)

    def _save_frames_within(self, last: int, budget_s: float) -> None:
        """Store the frames not stored yet, up to ``last``, a couple of chunks per transaction, for at most about
        ``budget_s``: what is left waits for the next turn of the event loop, so a flood's flush never holds the
        window for long. (The frames not stored yet stay in memory meanwhile.)"""
        deadline = time.monotonic() + budget_s
        while self.is_recording and self._packed <= last:
            assert self._store is not None
            if self._store.writer_full:  # the writer thread is busy: the next turn hands it more
                break
            # a slice of new frames (and the small chunk left open, written again with them)
            self._save_frames(min(last, self._packed + SAVE_SLICE_FRAMES - 1), wait=False)
            if time.monotonic() >= deadline:
                break
        self._take_stored()

    @property
    def _behind_store(self) -> bool:
        """More than ``SAVE_AHEAD_FRAMES`` frames (or ``SAVE_AHEAD_BYTES`` of payload) are not stored yet."""
        log, saved = self.log, self._saved
        return self.is_recording and (len(log) - saved > SAVE_AHEAD_FRAMES
                                      or log.payload_bytes_from(saved) > SAVE_AHEAD_BYTES)

    def _save_new(self, last: int, wait: bool) -> None:
        """Store the new frames up to ``last``: all of them, committed when this returns (``wait``), or as a
        periodic save does, for a couple of milliseconds, not waiting for the store's writer thread (what it
        has not committed stays in memory, and is counted stored at a later save), unless
        :attr:`_behind_store`: then all of them, waited for; and when the thread's queue is full and nothing
        was handed over for ``HAND_OVER_WITHIN_S``, one slice, waiting for room (other sessions sharing the
        thread do not keep this one out)."""
        if not self.is_recording:
            return
        store = self._store
        assert store is not None
        if wait or self._behind_store:
            self._save_frames(last)
        elif (store.writer_full and self._packed <= last
              and time.monotonic() - self._handed_at >= HAND_OVER_WITHIN_S):
            self._save_frames(min(last, self._packed + SAVE_SLICE_FRAMES - 1), wait=False)  # waits for room
        else:
            self._save_frames_within(last, SAVE_BUDGET_S)

    def _event(self, kind: str, text: str) -> int:
        """A connection event (disconnect, reconnect, timeout…) into the log and the recorded session; its
        time stamp."""
        ts = time.monotonic_ns()
        seq = self.log.add_event(ts, kind, text)
        if self.is_recording:
            assert self._store is not None and self.session_id is not None
            try:
                self._store.add_event(self.session_id, seq, ts, kind, text)
            except (StoreError, sqlite3.Error) as exc:
                self._recording_failed(str(exc))
        return ts
