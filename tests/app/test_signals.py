"""Ctrl+C and SIGTERM reach the Qt event loop, also when they arrive before it runs."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from wsinspector.app.signals import SignalWatcher

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_sent_before_the_loop_runs_is_delivered_once_it_runs(qtbot: Any, signum: int) -> None:
    before = signal.getsignal(signum)
    watcher = SignalWatcher()
    try:
        # delivered now, while no event loop runs: the process must neither die nor forget it
        os.kill(os.getpid(), signum)
        with qtbot.waitSignal(watcher.received, timeout=5000) as blocker:
            pass  # the wait runs the event loop: the byte left in the wakeup socket is read there
        assert blocker.args == [signum]
    finally:
        watcher.close()
    assert signal.getsignal(signum) is before  # given back


def test_close_gives_the_wakeup_fd_back(qtbot: Any) -> None:
    previous = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(previous)
    watcher = SignalWatcher()
    watcher.close()
    watcher.close()  # twice is harmless
    assert signal.set_wakeup_fd(previous) == previous


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_start_up_waits_for_the_watcher(qtbot: Any, signum: int) -> None:
    """A server's start-up (its store opened, its port bound) runs before its watcher: Ctrl+C there is neither a
    KeyboardInterrupt traceback nor lost, but stops the server once its loop runs."""
    from wsinspector.app.signals import hold_signals

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        hold_signals()
        os.kill(os.getpid(), signum)  # during the start-up: held, no exception
        watcher = SignalWatcher()
        try:
            with qtbot.waitSignal(watcher.received, timeout=5000) as blocker:
                pass
            assert blocker.args == [signum]
        finally:
            watcher.close()
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
