"""``wsinspector handshake SESSION``: the opening handshake a stored session kept, headless (text, ``--json`` or
``--curl``); never a secret, since the session kept none."""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path

from wsinspector.cli_output import err

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "handshake", help="print the opening handshake a stored session kept (request, answer, refused body)",
        description="Print the opening handshake of a recorded session: the request line and headers sent, the "
                    "answer's status line and headers, and the start of a refused answer's body. Secret values "
                    "were never kept. Exit status: 0 printed, 1 no such session or it kept no handshake, 2 the data "
                    "folder cannot be used.")
    parser.add_argument("session", nargs="?", default="last", metavar="SESSION",
                        help="the session: its id (as `wsinspector sessions` lists them), its name (the newest of "
                             "that name) or 'last' (the default: the newest)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON")
    form.add_argument("--curl", action="store_true", help="print the request as a curl command")
    # SUPPRESS: without the option here, the top-level --data-dir stays
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="the data folder (default: the platform's user data folder)")


def print_handshake(args: argparse.Namespace) -> int:
    # imported here: the window's start does not need them
    from wsinspector.cli_sessions import find_session
    from wsinspector.cli_store import open_sessions_store
    from wsinspector.core.handshake import curl_command, last_handshake

    store = open_sessions_store(args)
    if isinstance(store, int):
        return store
    try:
        record = find_session(store, args.session)
        events = store.events(record.id) if not isinstance(record, str) else []
    finally:
        store.close()
    if isinstance(record, str):
        err(record)
        return EXIT_NOT_FOUND
    handshake = last_handshake((ts, kind, text) for _seq, ts, kind, text in events)
    if handshake is None:
        err(f"session {record.id} kept no handshake (recorded by an older version, or its request never went "
            "out)")
        return EXIT_NOT_FOUND
    if args.curl:
        print(curl_command(handshake))
    elif args.json:
        print(json.dumps({
            "session": record.id, "name": record.name, "url": handshake.url,
            "request": {"line": handshake.request_line, "headers": handshake.request_headers,
                        "exact": handshake.exact, "note": handshake.note},
            "response": None if handshake.status is None else {
                "status": handshake.status, "reason": handshake.reason, "headers": handshake.response_headers,
                "body": handshake.body.decode("utf-8", "replace"),
                "body_base64": base64.b64encode(handshake.body).decode("ascii"), "body_size": handshake.body_size},
        }, ensure_ascii=False, indent=2))
    else:
        lines = [handshake.request_line, *(f"{name}: {value}" for name, value in handshake.request_headers)]
        lines += [f"({handshake.note})", ""] if handshake.note else [""]
        if handshake.status is None:
            lines.append("(no answer was read)")
        else:
            lines.append(handshake.status_line)
            lines += [f"{name}: {value}" for name, value in handshake.response_headers or ()]
            if handshake.body:
                lines += ["", handshake.body.decode("utf-8", "replace")]
        print("\n".join(lines))
    return EXIT_OK
