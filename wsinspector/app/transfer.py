"""Connections in and out of the window: files and pasted command lines read into the saved connections, and
saved connections written to a connections file (core/formats does the reading and writing)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from wsinspector.app.connections import ConnectionsController
from wsinspector.core.formats import ImportFormatError, ImportResult, export_connections, import_command, import_path
from wsinspector.core.profiles import ConnectionProfile


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


def _add(report: ImportReport, controller: ConnectionsController, source: str, result: ImportResult) -> None:
    added = controller.add_imported(result.connections)
    report.added += added
    count = len(added)
    summary = f"Imported {count} connection{'s' if count != 1 else ''} from {source} ({result.format})."
    report.lines.append(summary)
    report.warned += len(result.warnings)
    report.lines += [f"  • {warning}" for warning in result.warnings]
    unkept = [note for note in map(controller.unkept_secrets, added) if note]  # no keyring: said per connection
    report.warned += len(unkept)
    report.lines += [f"  • {note}" for note in unkept]


def import_files(controller: ConnectionsController, paths: Sequence[Path], fmt: str = "auto") -> ImportReport:
    report = ImportReport()
    for path in paths:
        try:
            result = import_path(path, fmt)
        except ImportFormatError as exc:
            report.failed += 1
            report.lines.append(f"{path.name}: {exc}" if path.name not in str(exc) else str(exc))
            continue
        except OSError as exc:
            report.failed += 1
            report.lines.append(f"Cannot read {path}: {exc.strerror or exc}")
            continue
        _add(report, controller, path.name, result)
    return report


def import_command_line(controller: ConnectionsController, text: str) -> ImportReport:
    report = ImportReport()
    try:
        result = import_command(text)
    except ImportFormatError as exc:
        report.failed += 1
        report.lines.append(str(exc))
        return report
    _add(report, controller, "the command line", result)
    return report


def export_to(path: Path, profiles: Iterable[ConnectionProfile]) -> tuple[int, list[str]]:
    """Write ``profiles`` (not the built-in one, nor one saved by a newer version) to ``path``: how many, and
    whose secrets were left out. OSError when the file cannot be written."""
    chosen = [p for p in profiles if not p.builtin and not p.read_only]
    text, notes = export_connections(chosen, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return len(chosen), notes
