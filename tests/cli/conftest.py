"""Fixtures of the command-line tests: ``cli`` runs ``python -m wsinspector`` as a real subprocess."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

WAIT_MS = 60_000

#: mock rules that greet a client with its path and answer "name X" with "hello X"
GREETER_RULES = """\
version: 1
name: Greeter
on_connect:
  - text: "hi {{path}}"
rules:
  - match: {regex: "^name (?P<name>\\\\w+)$"}
    do: {text: "hello {{name}}"}
"""


def whole_lines(path: Path) -> list[str]:
    """The lines a running command has finished writing to ``path``: a line still being written (perhaps cut
    inside a character) is left for the next read."""
    data = path.read_bytes()
    return data[:data.rfind(b"\n") + 1].decode("utf-8").splitlines()


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    # whatever a test forgets, nothing lands in the real user data folder; a process that does not end in time is
    # stopped with SIGABRT, which makes it print where each of its threads was (faulthandler)
    env.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", PYTHONFAULTHANDLER="1",
               WSINSPECTOR_DATA_DIR=str(tmp_path / "default-data"))
    return env


class Cli:
    """Runs ``python -m wsinspector`` as a subprocess while the Qt (and asyncio) loop of this process keeps
    serving the peers."""

    def __init__(self, qtbot: Any, tmp_path: Path) -> None:
        self.qtbot = qtbot
        self.tmp_path = tmp_path
        self._count = itertools.count()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def start(self, *args: str, command: list[str] | None = None,
              env: dict[str, str | None] | None = None) -> tuple[subprocess.Popen[bytes], Path, Path]:
        """``env`` adds to the environment (None: removes the variable)."""
        n = next(self._count)
        out_path, err_path = self.tmp_path / f"out{n}.txt", self.tmp_path / f"err{n}.txt"
        out, err = out_path.open("wb"), err_path.open("wb")
        self._files += [out, err]
        proc = subprocess.Popen(command or [sys.executable, "-m", "wsinspector", *args], stdout=out, stderr=err,
                                env={name: value for name, value in {**_env(self.tmp_path), **(env or {})}.items()
                                     if value is not None})
        self._procs.append(proc)
        return proc, out_path, err_path

    def wait(self, proc: subprocess.Popen[bytes], out_path: Path, err_path: Path) -> Result:
        try:
            self.qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)
        except self.qtbot.TimeoutError:
            if os.name == "posix":  # where it was stuck, for the failure to say
                proc.send_signal(signal.SIGABRT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
            command = " ".join(map(str, proc.args)) if isinstance(proc.args, list) else str(proc.args)
            raise AssertionError(f"{command} did not end within {WAIT_MS // 1000} s\n--- stdout:\n"
                                 f"{out_path.read_text('utf-8', 'replace')}\n"
                                 f"--- stderr:\n{err_path.read_text('utf-8', 'replace')}") from None
        return Result(proc.returncode, out_path.read_text("utf-8"), err_path.read_text("utf-8"))

    def __call__(self, *args: str, command: list[str] | None = None,
                 env: dict[str, str | None] | None = None) -> Result:
        return self.wait(*self.start(*args, command=command, env=env))

    def close(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        for file in self._files:
            file.close()


@pytest.fixture
def cli(qtbot: Any, tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(qtbot, tmp_path)
    yield runner
    runner.close()
