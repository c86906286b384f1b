"""``wsinspector messages``: the stored sessions, and one session's messages (or frames) as JSON Lines,
headless: what the timeline's Copy as JSON Lines gives, for a whole session."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from wsinspector.cli_output import err

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "messages", help="print a stored session's messages as JSON Lines (no SESSION: list the sessions)",
        description="Print a stored session's messages as JSON Lines, one object a line: seq, direction, opcode, "
                    "time (s since the session began), time_of_day (UTC), length, the payload as text or base64 "
                    "(and frames, wire_length when they say something; note for a frame the client refused: its "
                    "header kept, its payload not). Fragments are folded into their "
                    "message, in the order the messages completed; control frames are lines of their own. "
                    "Without SESSION, list the stored sessions (id, start, frames, name, URL). Exit status: 0 "
                    "printed, 1 no such session (or none stored), 2 the data folder cannot be used.")
    parser.add_argument("session", nargs="?", metavar="SESSION",
                        help="the session: its id (see the list), its name (the newest of that name) or 'last'")
    parser.add_argument("--frames", action="store_true", help="one line per frame instead of per message")


def run_messages(args: argparse.Namespace) -> int:
    # imported here: the window's start does not need them
    from wsinspector.cli_sessions import find_session
    from wsinspector.cli_store import open_sessions_store
    from wsinspector.core.copying import session_lines
    from wsinspector.core.stored import StoredSession

    store = open_sessions_store(args)
    if isinstance(store, int):
        return store
    try:
        if args.session is None:
            records = store.sessions()
            for record in records:
                started = datetime.fromtimestamp(record.started_wall, UTC).isoformat(timespec="seconds")
                print(f"{record.id}\t{started}\t{record.frame_count}\t{record.name}\t{record.url}")
            return EXIT_OK if records else EXIT_NOT_FOUND
        record = find_session(store, args.session)
        if isinstance(record, str):
            err(record)
            return EXIT_NOT_FOUND
        out = sys.stdout  # a reader that goes away (`| head`) ends the command quietly: cli_output.to_the_end
        for line in session_lines(StoredSession(store, record), whole_messages=not args.frames):
            out.write(line + "\n")
        return EXIT_OK
    finally:
        store.close()
