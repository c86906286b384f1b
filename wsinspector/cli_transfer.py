"""``wsinspector import``, ``import-command`` and ``export``: saved connections in and out, headless.

Exit codes (docs/import-export.md): 0 done; 1 a file (or the command line) could not be imported, the others
were; 2 a usage error, or the data folder or the output file cannot be used.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsinspector import APP_NAME
from wsinspector.cli_loadtest import LOAD_TEST_FORMATS, add_export_options, export_load_test
from wsinspector.cli_output import err

if TYPE_CHECKING:
    from wsinspector.app.connections import ConnectionsController
    from wsinspector.core.formats import ImportResult
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.core.store import Store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
COMMANDS = ("import", "import-command", "export")
#: what ``export SESSION --format`` writes (``cli_sessions.SESSION_FORMATS``, spelled out for the parser's speed)
SESSION_FORMATS = ("har", "ndjson", "csv", "json")
#: ``core.formats.FORMATS`` by name, spelled out: building the parser must not load every importer (it runs at
#: every start of the window, before its first paint)
FORMAT_NAMES = ("auto", "postman", "insomnia", "bruno", "opencollection", "har", "wsinspector", "command")
#: what the report calls a command line given to import
COMMAND_SOURCE = "command line"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    importer = sub.add_parser(
        "import", help="add connections from Postman, Insomnia, Bruno, OpenCollection, HAR or exported files; "
                       "store the sessions of HAR and session files",
        description="Add the WebSocket connections of these files (or collection folders) to the saved "
                    "connections, and store the recorded sessions they hold: a session file (exported by "
                    "wsinspector) becomes a stored session; a HAR file gives both, a saved connection and a stored "
                    "session (its handshake and messages) per WebSocket entry (--only connections|sessions for one "
                    "kind). The ids of the new sessions are printed. Exit code: 0 all imported, 1 a file could not "
                    "be imported (the others were), 2 a usage error or an unusable data folder.")
    importer.add_argument("files", nargs="*", type=Path, metavar="FILE")
    importer.add_argument("--format", choices=FORMAT_NAMES, default="auto",
                          help="the files' format for connections (default: decided from each file's content and "
                               "name)")
    importer.add_argument("--only", choices=("connections", "sessions"),
                          help="from a HAR file, import only its connections or only its sessions (default: both)")
    importer.add_argument("--command", action="append", default=[], metavar="COMMAND_LINE", dest="command_lines",
                          help="a websocat, wscat or curl command line to import; repeat for more")
    _common(importer)
    command = sub.add_parser(
        "import-command", help="add a connection from a websocat, wscat or curl command line",
        description="Add the connection a pasted websocat, wscat or curl command line opens. Exit code: 0 "
                    "imported, 1 the command line cannot be read, 2 an unusable data folder.")
    command.add_argument("command_line", metavar="COMMAND_LINE", help="the whole command, quoted: "
                         "'websocat -H \"X: y\" wss://...'")
    _common(command)
    exporter = sub.add_parser(
        "export", help="write saved connections to a file (export OUT), a stored session as HAR, NDJSON, CSV or "
                       "JSON (export SESSION --format FORMAT), or a test file or stored session as a k6 or "
                       "Artillery load test (export TEST_FILE|SESSION --format k6|artillery)",
        usage=f"{APP_NAME} export [-h] OUT [--connection NAME] [--folder PATH] [--json]\n"
              f"       {APP_NAME} export SESSION --format {{har,ndjson,csv,json}} [-o FILE] [--frames] [--json]\n"
              f"       {APP_NAME} export TEST_FILE|SESSION --format {{k6,artillery}} [--vus N] [--duration D] [-o F]",
        description="Three kinds of export. `export OUT` writes the saved connections to a wsinspector "
                    "connections file (docs/import-export.md); secret values are left out and replaced by "
                    "{{variables}}. `export SESSION --format FORMAT` (or -o FILE named .har, .ndjson, .csv or "
                    ".json) writes a stored session, named by its id, its name or \"last\" (see `wsinspector "
                    "sessions`), to FILE or standard output: har (HAR 1.2, Chrome's WebSocket fields, every frame "
                    "kept under private keys), ndjson (a message a line; --frames: a frame a line), csv (a frame a "
                    "row: seq, time, elapsed, direction, opcode, fin, size, encoding, payload as text or base64) or "
                    "json (a session file, which import reads back). `export TEST_FILE|SESSION --format "
                    "k6|artillery` writes the test file, or the stored session made a test as Save as test makes "
                    "it, as a load test, its secrets read from environment variables. Exit code: "
                    "0 written, 1 no such session, 2 a usage error or the file cannot be written.")
    exporter.add_argument("output", type=Path, metavar="OUT|SESSION|TEST_FILE",
                          help="the connections file to write (JSON); with --format har|ndjson|csv|json (or -o) the "
                               "session to export; with --format k6|artillery the test file (or else the session) to "
                               "export")
    exporter.add_argument("--format", choices=(*SESSION_FORMATS, *LOAD_TEST_FORMATS), default=None,
                          help="har, ndjson, csv or json: export the stored session SESSION; k6 or artillery: "
                               "export TEST_FILE or SESSION as a load test for that engine")
    add_export_options(exporter)
    exporter.add_argument("--frames", action="store_true", help="with --format ndjson: a line per frame, not per "
                          "message")
    exporter.add_argument("--connection", action="append", default=[], metavar="NAME",
                          help="export only the connection of this name; repeat for more (default: all)")
    exporter.add_argument("--folder", metavar="PATH",
                          help='export only the connections of this folder and the folders in it ("Team/Staging")')
    exporter.add_argument("--json", action="store_true", help="print what was written as JSON")
    exporter.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                          help="where the connections are kept (default: the platform's user data folder)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="read and report, save nothing")
    parser.add_argument("--json", action="store_true", help="print what was imported as JSON")
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="where the connections are kept (default: the platform's user data folder)")


def _open_store(args: argparse.Namespace) -> Store | None:
    from wsinspector.app.context import DB_NAME, default_data_dir
    from wsinspector.core.store import Store, StoreError

    folder: Path = getattr(args, "data_dir", None) or default_data_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return Store(folder / DB_NAME)
    except (StoreError, OSError) as exc:
        err(f"cannot use the data folder {folder}: {exc}")
        return None


def _connection_json(profile: ConnectionProfile, folder: Sequence[str], secret_headers: Sequence[str],
                     secret_variables: Sequence[str]) -> dict[str, Any]:
    from wsinspector.core.redact import redact_url

    return {"id": profile.id, "name": profile.name, "url": redact_url(profile.url), "folder": list(folder),
            "messages": len(profile.messages), "secret_headers": list(secret_headers),
            "secret_variables": list(secret_variables)}


def _save(results: list[tuple[str, ImportResult | None, str]], store: Store | None) -> list[dict[str, Any]]:
    """Save every connection (with a name not taken yet, in the folder it came in; its secret values in the
    keyring, never in the store) in one transaction; the report of each file. StoreError or SecretError when
    they cannot be saved (then none is)."""
    from wsinspector.app.connections import ImportBatch
    from wsinspector.core.folders import UniqueNames, path_of

    controller = _controller(store) if store is not None else None
    batch = ImportBatch(controller) if controller is not None else None
    names = UniqueNames()
    report = []
    lifted: list[str] = []
    if controller is not None:
        controller.lifted.connect(
            lambda name, names: lifted.append(f"“{name}”: the secrets in its URL or login request are kept in "
                                              f"the secret variables {', '.join(names)}"))
    for source, result, error in results:
        entry: dict[str, Any] = {"file": source}
        if result is None:
            entry["error"] = error
            report.append(entry)
            continue
        entry.update(format=result.format, warnings=list(result.warnings), errors=list(result.errors),
                     connections=[])
        for imported in result.connections:
            if batch is not None and controller is not None:
                profile = batch.add(imported)
                entry["warnings"].extend(lifted)
                lifted.clear()
                unkept = controller.unkept_secrets(profile)
                if unkept:
                    entry["warnings"].append(unkept)
            else:
                profile = imported.profile.with_changes(name=names.take(imported.profile.name),
                                                        folder=path_of(imported.folder))
            entry["connections"].append(_connection_json(profile, imported.folder, imported.secret_headers,
                                                         imported.secret_variables))
        report.append(entry)
    if batch is not None:
        batch.commit()
    return report


def _controller(store: Store) -> ConnectionsController:
    """The saved connections over ``store``, their secrets kept where the window keeps them."""
    from wsinspector.app.connections import ConnectionsController
    from wsinspector.app.secrets import open_keeper

    keeper, warning = open_keeper()
    if warning:
        err(f"warning: {warning}")
    return ConnectionsController(store, secrets=keeper)


def _print_report(report: list[dict[str, Any]], dry_run: bool, as_json: bool,
                  sessions: list[dict[str, Any]] | None = None) -> int:
    from wsinspector.cli import printable
    from wsinspector.cli_sessions import print_imported

    sessions = sessions or []
    count = sum(len(entry.get("connections", [])) for entry in report)
    failed = [entry for entry in report if "error" in entry] + [entry for entry in sessions if "error" in entry]
    refused = sum(len(entry.get("errors", [])) for entry in report)
    if as_json:
        stored = [s["id"] for entry in sessions for s in entry.get("sessions", [])]
        print(json.dumps({"dry_run": dry_run, "imported": count, "failed": len(failed), "refused": refused,
                          "files": report, "sessions": stored, "session_files": sessions},
                         ensure_ascii=False, indent=2), flush=True)
    else:
        verb = "Would import" if dry_run else "Imported"
        for entry in report:
            if "error" in entry:
                err(entry["error"])
                continue
            # an item the file could not give is one line on stderr (named with the file), like a file that failed
            for error in entry["errors"]:
                err(error if entry["file"] == COMMAND_SOURCE else f"{entry['file']}: {error}")
            n = len(entry["connections"])
            if n == 0 and entry["errors"]:
                continue
            print(printable(f"{verb} {n} connection{'s' if n != 1 else ''} from {entry['file']} ({entry['format']})"))
            for connection in entry["connections"]:
                folder = f"  [{' / '.join(connection['folder'])}]" if connection["folder"] else ""
                count = connection["messages"]
                messages = f", {count} saved message{'s' if count != 1 else ''}" if count else ""
                print(printable(f"  + {connection['name']}  {connection['url']}{folder}{messages}"))
            for warning in entry["warnings"]:
                print(printable(f"  ! {warning}"))
        print_imported(sessions, dry_run)
    return EXIT_FAILED if failed or refused else EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    from wsinspector.core.formats import ImportFormatError, import_command, import_path

    if not args.files and not args.command_lines:
        err("import: give a FILE or --command 'websocat ...'")
        return EXIT_USAGE
    connection_files, session_files = _kinds(args)
    results: list[tuple[str, ImportResult | None, str]] = []
    for path in connection_files:
        try:
            results.append((str(path), import_path(path, args.format), ""))
        except ImportFormatError as exc:
            results.append((str(path), None, f"{path}: {exc}" if str(path) not in str(exc) else str(exc)))
        except OSError as exc:
            results.append((str(path), None, f"cannot read {path}: {exc.strerror or exc}"))
    for line in args.command_lines:
        try:
            results.append((COMMAND_SOURCE, import_command(line), ""))
        except ImportFormatError as exc:
            results.append((COMMAND_SOURCE, None, str(exc)))
    sessions: list[dict[str, Any]] = []
    if session_files:
        from wsinspector.cli_sessions import import_sessions

        # a HAR without WebSocket entries is said once, by the connections' report
        sessions = import_sessions(session_files, getattr(args, "data_dir", None), args.dry_run,
                                   quiet=set(connection_files))
    if not results:
        return _print_report([], args.dry_run, args.json, sessions)
    return _finish(args, results, sessions)


def _kinds(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    """The files whose connections are imported, and those whose sessions are stored: a session file's session;
    a HAR file's both (``--only`` one kind); any other file's connections."""
    from wsinspector.core.export import is_session_file
    from wsinspector.core.session_import import is_har_file

    connections: list[Path] = []
    sessions: list[Path] = []
    for path in args.files:
        if path.is_file() and is_session_file(path):
            sessions.append(path)
        elif path.is_file() and args.format in ("auto", "har") and is_har_file(path):
            if args.only != "sessions":
                connections.append(path)
            if args.only != "connections":
                sessions.append(path)
        else:
            connections.append(path)
    return connections, sessions


def run_import_command(args: argparse.Namespace) -> int:
    from wsinspector.core.formats import ImportFormatError, import_command

    try:
        result: ImportResult | None = import_command(args.command_line)
        error = ""
    except ImportFormatError as exc:
        result, error = None, str(exc)
    return _finish(args, [(COMMAND_SOURCE, result, error)])


def _finish(args: argparse.Namespace, results: list[tuple[str, ImportResult | None, str]],
            sessions: list[dict[str, Any]] | None = None) -> int:
    store = None
    if not args.dry_run and any(result is not None and result.connections for _, result, _ in results):
        store = _open_store(args)
        if store is None:
            return EXIT_USAGE
    from wsinspector.core.secrets import SecretError
    from wsinspector.core.store import StoreError

    try:
        report = _save(results, store)
    except (StoreError, SecretError) as exc:
        err(f"nothing was imported: {exc}")
        return EXIT_USAGE
    finally:
        if store is not None:
            store.close()
    return _print_report(report, args.dry_run, args.json, sessions or [])


def run_export(args: argparse.Namespace) -> int:
    """The kind of export the arguments say: a load test (--format k6|artillery), a session (--format
    har|ndjson|csv|json, or -o), else the connections."""
    if args.format in LOAD_TEST_FORMATS:
        return export_load_test(args)
    given = [option for option, value in (("--vus", args.vus), ("--duration", args.duration)) if value is not None]
    if given:
        err(f"export: {', '.join(given)}: only with --format k6 or artillery (a load test)")
        return EXIT_USAGE
    if args.format is not None or args.output_file is not None:
        from wsinspector import cli_sessions

        return cli_sessions.run_export(args)
    if args.frames:
        err("export: --frames is for a session's export (--format ndjson)")
        return EXIT_USAGE
    name = str(args.output)
    if name == "last" or name.isdigit():  # a session named where a connections file was meant
        err(f"export: to export the session {name}, say its format: --format har|ndjson|csv|json "
            "(connections are written to a file named like connections.json)")
        return EXIT_USAGE
    return _export_connections(args)


def _export_connections(args: argparse.Namespace) -> int:
    from wsinspector.core.formats import export_connections
    from wsinspector.core.profiles import ReadOnlyProfileError

    store = _open_store(args)
    if store is None:
        return EXIT_USAGE
    try:
        profiles = [p for p in store.profiles() if not p.builtin]
    finally:
        store.close()
    if args.folder is not None:
        from wsinspector.core import folders as fo

        folder = fo.normal_path(args.folder)
        known = fo.all_folders(profiles, ())
        if folder and folder not in known:
            err(f"export: --folder: there is no folder “{folder}” (the folders: {', '.join(known) or 'none yet'})")
            return EXIT_USAGE
        profiles = fo.profiles_in(profiles, folder)
    if args.connection:
        missing = [name for name in args.connection if name not in {p.name for p in profiles}]
        if missing:
            err(f"export: no saved connection named {', '.join(map(repr, missing))}")
            return EXIT_USAGE
        profiles = [p for p in profiles if p.name in args.connection]
    newer = [p for p in profiles if p.read_only]
    for profile in newer:
        err(f"warning: {ReadOnlyProfileError(profile)}; it is left out")
    profiles = [p for p in profiles if not p.read_only]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text, notes = export_connections(profiles, stamp)
    output: Path = args.output
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(f".{output.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, output)
    except OSError as exc:
        err(f"cannot write {output}: {exc.strerror or exc}")
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"file": str(output), "exported": len(profiles),
                          "connections": [p.name for p in profiles], "secrets_left_out": notes},
                         ensure_ascii=False, indent=2), flush=True)
    else:
        print(f"Exported {len(profiles)} connection{'s' if len(profiles) != 1 else ''} to {output}")
        for note in notes:
            print(f"  ! {note} (written as {{{{variables}}}})")
    return EXIT_OK
