"""Threads of the app's own leave Ctrl+C and SIGTERM to the main thread, where Python handles them and where a
command's blocked write waits for them (tests/cli/test_closed_output.py: a server whose output nobody reads)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import pytest

from wsinspector.core.threads import STOP_SIGNALS, start_thread
from wsinspector.core.writer import FrameWriter


def _blocked(tid: int) -> set[int]:
    """The signals thread ``tid`` of this process blocks (Linux: /proc)."""
    for line in Path(f"/proc/self/task/{tid}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            mask = int(line.split()[1], 16)
            return {number for number in range(1, 65) if mask >> (number - 1) & 1}
    raise AssertionError("no SigBlk line")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads a thread's signal mask from /proc")
def test_a_thread_started_so_blocks_the_stop_signals_and_the_main_thread_does_not() -> None:
    seen: list[set[int]] = []
    ready, done = threading.Event(), threading.Event()

    def report() -> None:
        seen.append(_blocked(threading.get_native_id()))
        ready.set()
        done.wait()

    thread = threading.Thread(target=report)
    start_thread(thread)
    ready.wait()
    done.set()
    thread.join()
    assert {int(sig) for sig in STOP_SIGNALS} <= seen[0]
    assert not {int(sig) for sig in STOP_SIGNALS} & _blocked(threading.get_native_id()), "the main thread takes them"
    assert signal.SIGINT in STOP_SIGNALS and signal.SIGTERM in STOP_SIGNALS


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads a thread's signal mask from /proc")
def test_the_store_writer_thread_leaves_them_to_the_main_thread(tmp_path: Path) -> None:
    writer = FrameWriter(tmp_path / "store.sqlite3")
    try:
        native = writer._thread.native_id
        assert native is not None
        assert {int(sig) for sig in STOP_SIGNALS} <= _blocked(native)
    finally:
        writer.stop()
