"""The recording path's modules (numpy, which packs frames for the store) are imported on a thread before the
first flood needs them, not at the first save on the window's thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_opening_a_connection_imports_what_recording_needs_on_a_thread_of_its_own() -> None:
    code = textwrap.dedent("""
        import sys, threading
        from wsinspector.app.preload import preload
        assert "numpy" not in sys.modules
        thread = preload()
        assert thread is not None and thread is not threading.current_thread() and thread.daemon
        assert preload() is thread  # one import, however many connections open meanwhile
        thread.join()
        print("numpy" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]
