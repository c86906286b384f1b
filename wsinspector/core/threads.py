"""Threads of the app's own never take Ctrl+C or SIGTERM: the main thread does.

Python runs signal handlers on the main thread only, and a signal interrupts a blocking system call only in the
thread the system delivers it to. A command whose main thread waits to write a line nobody reads (``serve |
less`` with the pager stopped) ends that write when the signal comes (``app.signals``); had the signal gone to
another thread, the write, and the command, would wait for good. A thread started by :func:`start_thread` has
both signals blocked from its first instruction (a new thread takes the mask of the thread that creates it, set
for that moment), and so has every thread it creates in turn (a library's worker threads)."""

from __future__ import annotations

import signal
import threading

#: the signals that stop a command
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def start_thread(thread: threading.Thread) -> None:
    """Start ``thread`` with :data:`STOP_SIGNALS` blocked in it (where threads have signal masks: POSIX)."""
    if not hasattr(signal, "pthread_sigmask"):
        thread.start()
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
