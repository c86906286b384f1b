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
- standard error going away takes nothing else with it: :func:`err` lets it go and the command goes on;
- a stream that cannot be written for another reason (a full disk) is said on standard error and ends a
  command that only prints with status 1; a long-running one stops as on Ctrl+C;
- a line that blocks because nobody reads the pipe (or a terminal paused with Ctrl+S) does not hold up Ctrl+C:
  the signal ends the write (``app.signals.interruptible_write``), the stream is let go and the command stops;
- a stream closed before the command started (``>&-``, ``2>&-``) is the null device from the start
  (:func:`ensure_streams`), so nothing meant for one lands in the other, and no file or socket the command
  opens gets its number.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Protocol, TextIO

from wsinspector import APP_NAME

EXIT_OK = 0
#: a command that only prints could not write its output (other than its reader going away)
EXIT_FAILED = 1


class OutputWatch:
    """Tells a running command, from its event loop and once, that its standard output has gone."""

    def __init__(self, stop: Callable[[], object]) -> None:
        self._stop = stop
        self._open = True
        #: a line could not be written while the command ran: it was stopped for that
        self.gone = False

    def tell(self, why: str) -> None:
        """Standard output has gone (``why``): ``stop`` runs once the caller (a slot, perhaps, half-way through
        its work) has returned to the event loop, as a signal's stop runs."""
        if self.gone or not self._open:
            return
        self.gone = True
        from PySide6.QtCore import QTimer  # noqa: PLC0415 (only a command with an event loop watches)

        err(f"{why}: stopping as on Ctrl+C")
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


class _Running(Protocol):
    done: bool

    def start(self) -> object: ...


class _Loop(Protocol):
    def exec(self) -> int: ...


class _Watcher(Protocol):
    def close(self) -> None: ...


def run_until_done(app: _Loop, controller: _Running, watcher: _Watcher) -> None:
    """Start ``controller`` (a run, a probe) and turn the event loop until it is done; the signals go back to
    whoever had them before ``watcher`` either way."""
    controller.start()
    try:
        if not controller.done:
            app.exec()
    finally:
        watcher.close()


def say(text: str = "", end: str = "\n") -> None:
    """Write ``text`` to standard output now (a reader sees each line as it happens). When it cannot be written,
    standard output is let go and the running command told to stop; never an exception. A line that blocks
    (nobody reads the pipe) ends when SIGINT or SIGTERM comes, which stops the command as it always does."""
    failed = _written(sys.stdout, text, end)
    if isinstance(failed, BrokenPipeError):
        output_gone()
    elif failed is not None:  # EINVAL for a closed pipe on Windows; a full disk; a closed file
        output_gone(f"cannot write to standard output ({getattr(failed, 'strerror', None) or failed})")


def err(message: str) -> None:
    """One line on standard error, ``wsinspector:`` first, control characters escaped; never an exception."""
    from wsinspector.cli import printable  # noqa: PLC0415 (cli imports this module when a command runs)

    if sys.stderr is not None and _written(sys.stderr, printable(f"{APP_NAME}: {message}")) is not None:
        _let_go(sys.stderr)  # a windowed build on Windows has no standard error at all


def _written(stream: TextIO | None, text: str, end: str = "\n") -> OSError | ValueError | None:
    """Write ``text`` to ``stream`` now; what kept it from being written (None: written, or blocked until a
    signal ended the write, and then let go unless it takes writes again). A command with an event loop watches
    the signals (``app.signals``); without one, Python's own handler ends a blocked write with Ctrl+C already."""
    signals = sys.modules.get("wsinspector.app.signals")
    guard = signals.interruptible_write() if signals is not None else contextlib.nullcontext()
    try:
        with guard:
            print(text, end=end, file=stream, flush=True)
    except (OSError, ValueError) as exc:
        return exc
    except Exception as exc:
        if signals is None or not isinstance(exc, signals.WriteInterrupted):
            raise
        if not _writable(stream):  # blocked: let it go, or stopping would block on the next line
            _let_go(stream)
    return None


def output_gone(why: str = "standard output closed (its reader has gone)") -> None:
    """Standard output cannot be written (``why``): from now on it goes to the null device, and the command
    running is told to stop."""
    _let_go(sys.stdout)
    for watch in list(_watches):
        watch.tell(why)


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
    except OSError as exc:
        if not _failing(sys.stdout):
            raise  # not standard output's: a fault of the command's own
        _let_go(sys.stdout)
        err(f"cannot write to standard output: {exc.strerror or exc}")
        return EXIT_FAILED
    return code


def ensure_streams() -> None:
    """Standard output and standard error closed before the start (``>&-``) become the null device: what is
    meant for one never lands in the other (``print(file=None)`` writes to standard output), and no file or
    socket opened later takes their numbers."""
    if os.name != "posix":  # a windowed build on Windows has neither, as it should
        return
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None or _is_open(fd):  # open, though not a Python stream: left as it is
            continue
        with contextlib.suppress(OSError):
            opened = os.open(os.devnull, os.O_WRONLY)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
            setattr(sys, name, open(fd, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                                    closefd=False))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _failing(stream: TextIO | None) -> bool:
    """Whether writing what ``stream`` holds fails now (a write that failed keeps its bytes for the next)."""
    if stream is None:
        return False
    try:
        stream.flush()
    except (OSError, ValueError):
        return True
    return False


def _writable(stream: TextIO | None) -> bool:
    """Whether ``stream``'s descriptor takes a write now without blocking."""
    import select  # noqa: PLC0415

    try:
        return bool(select.select([], [stream.fileno()], [], 0)[1]) if stream is not None else False
    except (OSError, ValueError):
        return False


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
