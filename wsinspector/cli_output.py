"""What the commands write to standard output and standard error, and what they do when either goes away.

A reader that exits (``wsinspector proxy ... | head -1``, ``sessions --json | head``) closes the pipe behind a
command's standard output. Python ignores SIGPIPE, so the next write raises ``BrokenPipeError`` (a slot's
exception PySide prints and carries on from), and so does the interpreter's last flush at exit ("Exception
ignored ... BrokenPipeError", exit status 120). One behaviour for every command instead:

- a command that only prints (a listing, an export, ``--version``...) stops writing and ends with status 0: the
  reader has what it wanted (``cli.main`` runs each command through :func:`to_the_end`);
- a command with an event loop (``serve``, ``proxy``, ``run``, ``probe``) writes its lines with :func:`say`, which
  never raises: the first line that cannot be written stops the command as Ctrl+C stops it
  (:func:`stopping_when_output_gone`), every session it records saved, with the status Ctrl+C gives it;
- a stream that cannot be written is pointed at the null device (the idiom Python's documentation gives for
  SIGPIPE: ``os.dup2``), so neither what is written later nor the interpreter's last flush fails again;
- standard error going away takes nothing else with it: :func:`err` lets it go and the command goes on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from wsinspector import APP_NAME

EXIT_OK = 0


class OutputWatch:
    """Tells a running command, from its event loop and once, that its standard output has gone."""

    def __init__(self, stop: Callable[[], object]) -> None:
        self._stop = stop
        self._open = True
        #: a line could not be written while the command ran: it was stopped for that
        self.gone = False

    def tell(self) -> None:
        """Standard output has gone: ``stop`` runs once the caller (a slot, perhaps, half-way through its work)
        has returned to the event loop, as a signal's stop runs."""
        if self.gone or not self._open:
            return
        self.gone = True
        from PySide6.QtCore import QTimer  # noqa: PLC0415 (only a command with an event loop watches)

        err("standard output closed (its reader has gone): stopping as on Ctrl+C")
        QTimer.singleShot(0, self._stopping)

    def _stopping(self) -> None:
        if self._open:
            self._stop()

    def close(self) -> None:
        self._open = False


#: the watches of the commands running (one, but for tests that run several in one process)
_watches: list[OutputWatch] = []


@contextlib.contextmanager
def stopping_when_output_gone(stop: Callable[[], object]) -> Iterator[OutputWatch]:
    """While the block runs (a command's event loop and the lines around it), a line :func:`say` cannot write
    calls ``stop``, what the command's Ctrl+C calls, from the event loop."""
    watch = OutputWatch(stop)
    _watches.append(watch)
    try:
        yield watch
    finally:
        watch.close()
        _watches.remove(watch)


def say(text: str = "", end: str = "\n") -> None:
    """Write ``text`` to standard output now (a reader sees each line as it happens). When it cannot be written,
    standard output is let go and the running command told to stop; never an exception."""
    try:
        print(text, end=end, flush=True)
    except (OSError, ValueError):  # BrokenPipeError (EINVAL on Windows); a closed file
        output_gone()


def err(message: str) -> None:
    """One line on standard error, ``wsinspector:`` first, control characters escaped; never an exception."""
    from wsinspector.cli import printable  # noqa: PLC0415 (cli imports this module when a command runs)

    try:
        print(printable(f"{APP_NAME}: {message}"), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        _let_go(sys.stderr)


def output_gone() -> None:
    """Standard output cannot be written: from now on it goes to the null device, and the command running is
    told to stop."""
    _let_go(sys.stdout)
    for watch in list(_watches):
        watch.tell()


def to_the_end(command: Callable[[], int]) -> int:
    """Run a command and flush what it printed; a reader that went away before it ended stops it quietly with
    status 0 (what it printed is all the reader wanted)."""
    try:
        code = command()
        if sys.stdout is not None:  # a windowed build on Windows has none
            sys.stdout.flush()  # what is left in the buffer goes now, where a closed pipe can be answered
    except BrokenPipeError:
        output_gone()
        return EXIT_OK
    return code


def flush_before_exit() -> None:
    """Flush both streams (argparse's help and usage printed just before ``SystemExit``): a stream that cannot
    be written is let go, so that the interpreter's last flush does not fail on it."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            _let_go(stream)


def _let_go(stream: TextIO | None) -> None:
    """Point ``stream``'s file descriptor at the null device: what is left in its buffer and whatever is written
    later go nowhere, instead of failing again (at exit too)."""
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):  # no file descriptor (a test's capture), a closed stream
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
