"""Modules the recording path needs, imported away from the window's thread before the first frame arrives.

The store packs frames with numpy, imported on first use so the window's first paint never waits for it. Its
import takes 60–130 ms: on the window's thread, at the first save of a flood, that is the worst lateness of the
whole session. :func:`preload` imports it on a thread of its own once the app is up (and again, harmlessly,
when a connection is opened): the window's thread keeps its turns meanwhile (the interpreter switches threads
every few milliseconds), and a save that comes first waits only for what is left of the import.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading

from wsinspector.core.threads import start_thread

log = logging.getLogger(__name__)

#: what the recording path imports on first use
MODULES = ("numpy",)

_started = threading.Lock()
_thread: threading.Thread | None = None


def _import_all() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # the first use says so where it matters
            log.warning("could not preload %s: %s", name, exc)


def preload() -> threading.Thread | None:
    """Start importing :data:`MODULES` on a thread, once; the thread (None when all were imported)."""
    global _thread  # noqa: PLW0603  (one thread per process)
    with _started:
        if _thread is None and any(name not in sys.modules for name in MODULES):
            # not a daemon: an interpreter that ends while the thread is inside numpy's import crashes (a bus
            # error at exit, seen after a short run); at exit it waits for the import to finish instead
            _thread = threading.Thread(target=_import_all, name="wsinspector-preload", daemon=False)
            start_thread(_thread)
        return _thread
