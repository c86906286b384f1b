"""The recording path's modules (numpy, which packs frames for the store) are imported on a thread before the
first flood needs them, not at the first save on the window's thread."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_opening_a_connection_imports_what_recording_needs_on_a_thread_of_its_own() -> None:
    code = textwrap.dedent("""
        import sys, threading
        from wsinspector.app.preload import preload
        assert "numpy" not in sys.modules
        thread = preload()
        assert thread is not None and thread is not threading.current_thread()
        assert preload() is thread  # one import, however many connections open meanwhile
        thread.join()
        print("numpy" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]


def test_a_command_that_ends_at_once_lets_the_import_finish_first() -> None:
    """A ``run`` of a few milliseconds ends while numpy is still being imported on the thread: an interpreter
    that went away under that import crashed (a bus error at exit). It waits for the import instead."""
    code = textwrap.dedent("""
        import atexit, sys
        from wsinspector.app.preload import preload
        atexit.register(lambda: print("numpy" in sys.modules, flush=True))  # after the threads it waits for
        preload()
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]


def test_a_server_listening_and_a_test_run_starting_import_it_on_a_thread_too() -> None:
    """``serve`` and ``run`` have no window to preload at start-up: without this, their first save (or the first
    cut of a client's log) imported numpy on the event loop, a 130 ms stall in the middle of the traffic."""
    code = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QCoreApplication
        from wsinspector.app import preload as preloading
        from wsinspector.app.replayer import ReplayController
        from wsinspector.app.server import ServerController
        from wsinspector.core.scenario.model import Scenario
        app = QCoreApplication([])
        assert "numpy" not in sys.modules and preloading._thread is None
        which = sys.argv[1]
        if which == "server":
            server = ServerController(None)
            server.listen("127.0.0.1", 0)
        else:
            run = ReplayController(Scenario("nothing", "ws://127.0.0.1:9/", ()))
            run.start()
        thread = preloading._thread
        assert thread is not None, "nothing was preloaded"
        thread.join()
        print("numpy" in sys.modules)
    """)
    for which in ("server", "run"):
        result = subprocess.run([sys.executable, "-c", code, which], capture_output=True, text=True, timeout=120,
                                env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert result.returncode == 0, (which, result.stderr)
        assert result.stdout.split() == ["True"], which
