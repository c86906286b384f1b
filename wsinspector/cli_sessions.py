"""Stored sessions on the command line: ``wsinspector sessions`` lists them, ``wsinspector export SESSION --format
har|ndjson|csv|json [-o FILE]`` writes one, and ``wsinspector import`` stores the sessions of a HAR or session file
(``cli_transfer`` hands those files here).

Exit codes: 0 done; 1 no such session, or a file that could not be imported; 2 a usage error, or the data folder
or the output file cannot be used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wsinspector import APP_NAME
from wsinspector.cli_output import err

if TYPE_CHECKING:
    from wsinspector.core.store import SessionRecord, Store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: what ``export SESSION --format`` writes
SESSION_FORMATS = ("har", "ndjson", "csv", "json")
#: the format a FILE's name says, when ``--format`` is not given
_SUFFIXES = {".har": "har", ".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv", ".json": "json"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sessions", help="list the stored sessions (id, start, frames, status, name, URL)",
        description="List the sessions stored in the data folder, newest first: id, start (UTC), frames, status, "
                    "name and URL (secrets in it were never stored). `export SESSION` and `messages SESSION` take the "
                    "id, a name or \"last\". Exit status: 0 listed, 1 none stored, 2 the data folder cannot be used.")
    parser.add_argument("--json", action="store_true", help="print them as JSON")
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="the data folder (default: the platform's user data folder)")


def _record_json(record: SessionRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "url": record.url, "status": record.status,
            "started": datetime.fromtimestamp(record.started_wall, UTC).isoformat(timespec="seconds"),
            "duration_s": record.duration_s, "frames": record.frame_count, "frames_in": record.frames_in,
            "frames_out": record.frames_out, "bytes_in": record.bytes_in, "bytes_out": record.bytes_out,
            "close_code": record.close_code, "subprotocol": record.subprotocol, "note": record.note}


def _visible(store: Store) -> list[SessionRecord]:
    from wsinspector.core.store import SessionStatus

    return [r for r in store.sessions() if r.status != SessionStatus.IMPORTING]


def list_sessions(args: argparse.Namespace) -> int:
    from wsinspector.cli import printable
    from wsinspector.cli_store import open_sessions_store

    store = open_sessions_store(args)
    if isinstance(store, int):
        if args.json and store == EXIT_FAILED:
            print("[]")
        return store
    try:
        records = _visible(store)
    finally:
        store.close()
    if args.json:
        print(json.dumps([_record_json(r) for r in records], ensure_ascii=False, indent=2))
    else:
        for r in records:
            started = datetime.fromtimestamp(r.started_wall, UTC).strftime("%Y-%m-%d %H:%M:%S")
            print(printable(f"{r.id}\t{started}\t{r.frame_count}\t{r.status}\t{r.name}\t{r.url}"))
    return EXIT_OK if records else EXIT_FAILED


def find_session(store: Store, text: str) -> SessionRecord | str:
    """The session ``text`` names (its id, "last": the newest, or its name: the newest of that name), or why
    there is none."""
    records = _visible(store)
    said = text if text.isdigit() else repr(text)
    if not records:
        return f"there is no session {said}: no sessions are stored"
    if text == "last":
        return max(records, key=lambda r: (r.started_wall, r.id))
    if text.isdigit():
        found = next((r for r in records if r.id == int(text)), None)
        if found is not None:
            return found
    named = [r for r in records if r.name == text]
    if named:
        return max(named, key=lambda r: (r.started_wall, r.id))
    return f"there is no session {said} (list them with `{APP_NAME} sessions`)"


# -- export --------------------------------------------------------------------------------------------------------

def session_format(args: argparse.Namespace) -> str | None:
    """The format ``export`` writes a session in, from ``--format`` or the output file's name; None: none said."""
    fmt: str | None = getattr(args, "format", None)
    if fmt is None and getattr(args, "output_file", None) is not None:
        fmt = _SUFFIXES.get(Path(args.output_file).suffix.lower())
    return fmt


def run_export(args: argparse.Namespace) -> int:
    """``wsinspector export SESSION --format FORMAT [-o FILE]``: to the file, or to standard output."""
    from wsinspector.cli_store import open_sessions_store

    fmt = session_format(args)
    if fmt is None:
        err(f"export: say the format of SESSION's file with --format {'|'.join(SESSION_FORMATS)}")
        return EXIT_USAGE
    if args.connection or args.folder is not None:
        err("export: --connection and --folder choose connections to export, not a session")
        return EXIT_USAGE
    store = open_sessions_store(args)
    if isinstance(store, int):
        return store
    try:
        found = find_session(store, str(args.output))
        if isinstance(found, str):
            err(f"export: {found}")
            return EXIT_FAILED
        out: Path | None = args.output_file
        try:
            with _output(out) as fp:
                count = _write(store, found, fmt, args.frames, fp)
        except BrokenPipeError:  # standard output's reader has gone (`| head`): cli_output.to_the_end
            raise
        except OSError as exc:
            err(f"cannot write {out or 'to standard output'}: {exc.strerror or exc}")
            return EXIT_USAGE
    finally:
        store.close()
    if out is not None:
        if args.json:
            print(json.dumps({"file": str(out), "format": fmt, "session": found.id, "frames": count},
                             ensure_ascii=False, indent=2))
        else:
            print(f"Exported session {found.id} ({count} frame{'' if count == 1 else 's'}) as {fmt} to {out}")
    return EXIT_OK


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or the file written whole or not at all (a temporary file renamed at the end)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as fp:
            yield fp
        os.replace(partial, path)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def _write(store: Store, record: SessionRecord, fmt: str, frames: bool, fp: TextIO) -> int:
    """Write the session in ``fmt``; the frames it holds."""
    from wsinspector.core.stored import StoredSession

    stored = StoredSession(store, record)
    total = len(stored)
    if fmt == "har":
        from wsinspector.core.har_export import stored_har_session, write_har

        for _ in write_har(fp, [stored_har_session(store, record)]):
            pass
    elif fmt == "json":
        from wsinspector.core.export import SessionInfo, write_session

        info = SessionInfo(name=record.name, url=record.url, started_wall=record.started_wall,
                           ended_wall=record.ended_wall, status=record.status, close_code=record.close_code,
                           close_reason=record.close_reason, note=record.note, subprotocol=record.subprotocol)
        for _ in write_session(fp, info, stored.frames(0, total - 1), record.started_ns):
            pass
    elif fmt == "ndjson":
        from wsinspector.core.copying import session_lines

        for line in session_lines(stored, whole_messages=not frames):
            fp.write(line + "\n")
    else:
        from wsinspector.core.frame_table import write_csv

        write_csv(fp, stored)
    return total


# -- import ----------------------------------------------------------------------------------------------------------

def import_sessions(paths: list[Path], data_dir: Path | None, dry_run: bool,
                    quiet: set[Path] | None = None) -> list[dict[str, Any]]:
    """Store the sessions of each file (a HAR's WebSocket entries, a session file's session); a report entry per
    file: its sessions (id, name, URL, frames) or its error, and its warnings. With ``dry_run`` they are read
    into a store in memory and nothing is kept. A file of ``quiet`` that holds no WebSocket entry has no entry
    (its connections' report says so)."""
    from wsinspector.app.context import DB_NAME, default_data_dir
    from wsinspector.core.har_import import NoWebSocketsError
    from wsinspector.core.session_import import IMPORT_ERRORS, SessionsImport
    from wsinspector.core.store import Store, StoreError

    report: list[dict[str, Any]] = []
    try:
        store = Store(":memory:") if dry_run else Store((data_dir or default_data_dir()) / DB_NAME)
    except StoreError as exc:
        return [{"file": str(path), "error": f"cannot use the data folder: {exc}"} for path in paths]
    try:
        for path in paths:
            job = SessionsImport(store, path)
            entry: dict[str, Any] = {"file": str(path), "format": job.kind, "sessions": [], "warnings": []}
            try:
                for _ in job.steps():
                    pass
            except IMPORT_ERRORS as exc:
                job.discard()
                if isinstance(exc, NoWebSocketsError) and path in (quiet or ()):
                    continue
                message = str(exc) if str(path.name) in str(exc) else f"{path.name}: {exc}"
                report.append({"file": str(path), "error": message})
                continue
            entry["warnings"] = list(job.warnings)
            for session_id in job.ids:
                record = store.session(session_id)
                if record is not None:
                    entry["sessions"].append({"id": None if dry_run else record.id, "name": record.name,
                                              "url": record.url, "frames": record.frame_count})
            report.append(entry)
    finally:
        store.close()
    return report


def print_imported(report: list[dict[str, Any]], dry_run: bool) -> None:
    """The sessions each file gave, in words (the errors go to standard error)."""
    from wsinspector.cli import printable

    verb = "Would store" if dry_run else "Stored"
    for entry in report:
        if "error" in entry:
            err(entry["error"])
            continue
        count = len(entry["sessions"])
        print(printable(f"{verb} {count} session{'s' if count != 1 else ''} from {entry['file']} ({entry['format']})"))
        for session in entry["sessions"]:
            ident = "" if session["id"] is None else f"{session['id']}  "
            frames = session["frames"]
            print(printable(f"  + session {ident}{session['name']}  {session['url']}, {frames} frame"
                            f"{'' if frames == 1 else 's'}"))
        for warning in entry["warnings"]:
            print(printable(f"  ! {warning}"))
    sys.stdout.flush()
