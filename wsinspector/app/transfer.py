"""Connections in and out of the window: files and pasted command lines read into the saved connections (in
slices, for files of thousands), and saved connections written to a connections file (core/formats does the
reading and writing)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject

from wsinspector.app.connections import ConnectionsController, ImportBatch
from wsinspector.app.tasks import ChunkedTask
from wsinspector.core.formats import (
    ImportFormatError,
    ImportResult,
    Steps,
    export_connections,
    import_command,
    import_path_steps,
)
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.words import counted


@dataclass
class ImportReport:
    """What an import did: the connections added, and one line per file, warning or error."""

    added: list[ConnectionProfile] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    failed: int = 0
    warned: int = 0

    @property
    def level(self) -> str:
        """How the window shows it: "error" when nothing came in, "warning" when something was left out."""
        if self.failed and not self.added:
            return "error"
        return "warning" if self.failed or self.warned else "info"

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class ConnectionsImport:
    """Files (or a pasted command line) read through core/formats and their connections added to the saved
    ones: a step per entry read and per connection readied (:class:`ImportBatch`), then one transaction for all
    of them, and one :class:`ImportReport`. Cancelled or failed before that transaction, nothing is added."""

    #: of the progress bar, the part reading the files takes (the rest: readying their connections)
    READING = 500

    def __init__(self, controller: ConnectionsController, paths: Sequence[Path] = (), fmt: str = "auto",
                 command: str | None = None) -> None:
        self._controller = controller
        self._paths = list(paths)
        self._fmt = fmt
        self._command = command
        self.report = ImportReport()
        self._batch = ImportBatch(controller)

    @property
    def title(self) -> str:
        if self._command is not None:
            return "Importing the command line"
        if len(self._paths) == 1:
            return f"Importing {self._paths[0].name}"
        return f"Importing {counted(len(self._paths), 'file')}"

    def run(self) -> ImportReport:
        """All of it now."""
        try:
            for _ in self.steps():
                pass
        except BaseException:
            self.discard()
            raise
        return self.report

    def task(self, parent: QObject | None = None) -> ChunkedTask:
        """All of it from the event loop, in slices; the task's result is the report."""
        return ChunkedTask(self.title, self.steps(), lambda: self.report, _describe, self._batch.discard, parent)

    def discard(self) -> None:
        """Forget what was readied and not added (a task that will not run to its end)."""
        self._batch.discard()

    def steps(self) -> Iterator[tuple[int, int]]:
        """Yields (done, total) of a bar of ``2 * READING``."""
        read: list[tuple[str, ImportResult]] = []
        sources = len(self._paths) or 1
        for number, (source, steps) in enumerate(self._sources()):
            base = number * self.READING // sources
            try:
                while True:
                    done, total = next(steps)
                    yield base + (self.READING * done // (total * sources) if total else 0), 2 * self.READING
            except StopIteration as stop:
                read.append((source, stop.value))
            except ImportFormatError as exc:
                self.report.failed += 1
                self.report.lines.append(str(exc) if source in str(exc) or source == _COMMAND else f"{source}: {exc}")
            except OSError as exc:
                self.report.failed += 1
                self.report.lines.append(f"Cannot read {source}: {exc.strerror or exc}")
        total = sum(len(result.connections) for _, result in read) or 1
        for source, result in read:
            readied = []
            for item in result.connections:
                readied.append(self._batch.add(item))
                yield self.READING + self.READING * len(self._batch) // total, 2 * self.READING
            self._summarise(source, result)
            # without a keyring, each connection whose secrets last only while the app runs says so
            unkept = [note for note in map(self._controller.unkept_secrets, readied) if note]
            self.report.warned += len(unkept)
            self.report.lines += [f"  • {note}" for note in unkept]
        self.report.added = self._batch.commit()

    def _sources(self) -> Iterator[tuple[str, Steps]]:
        if self._command is not None:
            yield _COMMAND, _command_steps(self._command)
        for path in self._paths:
            yield path.name, import_path_steps(path, self._fmt)

    def _summarise(self, source: str, result: ImportResult) -> None:
        count = len(result.connections)
        report = self.report
        report.failed += len(result.errors)
        report.warned += len(result.warnings)
        if not count and result.errors:  # nothing came in: what was refused, a line each, as a file that failed
            report.lines += [error if source in error or source == _COMMAND else f"{source}: {error}"
                             for error in result.errors]
            return
        report.lines.append(f"Imported {count} connection{'s' if count != 1 else ''} from {source} ({result.format}).")
        report.lines += [f"  • not imported: {error}" for error in result.errors]
        report.lines += [f"  • {warning}" for warning in result.warnings]


_COMMAND = "the command line"


def _command_steps(text: str) -> Steps:
    """The command line, read in one step."""
    result = import_command(text)
    yield 1, 1
    return result


def _describe(exc: Exception) -> str:
    return str(exc)


def export_to(path: Path, profiles: Iterable[ConnectionProfile]) -> tuple[int, list[str]]:
    """Write ``profiles`` (not the built-in one, nor one saved by a newer version) to ``path``: how many, and
    whose secrets were left out. OSError when the file cannot be written."""
    chosen = [p for p in profiles if not p.builtin and not p.read_only]
    text, notes = export_connections(chosen, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return len(chosen), notes
