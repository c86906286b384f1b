"""What ``wsinspector serve --replay SESSION_OR_TEST`` plays back: a stored session (its id, its name or "last"),
an exported session file or a test file, made into mock rules (``core/mock/replay.py``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from wsinspector.cli_output import err
from wsinspector.core.frames import Direction, Frame
from wsinspector.core.mock.model import SEND, MockRules
from wsinspector.core.mock.replay import messages_of, route_from_messages, route_from_test

EXIT_USAGE = 2
#: the event a server's recording starts with (app/server.py): its client's frames are the incoming ones
SERVER_EVENT = "server"
#: how a server's session is named: "<server> ← <client address>"
SERVER_NAME_MARK = " ← "


def _err(message: str) -> None:
    err(f"--replay: {message}")


def replay_rules(args: argparse.Namespace) -> MockRules | int:
    """The rules that play ``args.replay`` back at ``args.speed``, or the exit status once it is said why not."""
    source: str = args.replay
    path = Path(source)
    if path.is_file():
        return _from_file(path, args.speed)
    return _from_store(args, source)


def _rules(name: str, frames: list[Frame], client: Direction, speed: float) -> MockRules | int:
    if any(frame.upstream for frame in frames):  # a recording proxy's: its upstream hop is the server played back
        frames, client = [frame for frame in frames if frame.upstream], Direction.OUT
    messages = messages_of(frames, client)
    if not messages:
        _err(f"{name!r} holds no messages to play back")
        return EXIT_USAGE
    return MockRules(name=f"Replay of {name}", routes=(route_from_messages(messages, speed),))


#: names a session file goes by (an export is .wssession.json; JSON Lines of one are .jsonl or .ndjson)
_SESSION_SUFFIXES = (".json", ".jsonl", ".ndjson")
#: names a test file goes by
_TEST_SUFFIXES = (".yaml", ".yml")


def _session_problem(path: Path, problem: str) -> str:
    """What is wrong with a file taken for a session file, saying what it is: not one at all, or a damaged one."""
    from wsinspector.core.export import NOT_A_SESSION  # noqa: PLC0415

    if problem.startswith(NOT_A_SESSION):
        text = "not a session file" + problem[len(NOT_A_SESSION):]
        if path.suffix.lower() in (".jsonl", ".ndjson") and problem.endswith("(it is not valid JSON)"):
            text += ("; JSON Lines of messages (`messages`, `export --format ndjson`) are not played back: give "
                     "the stored session, or its `export --format json` file")
        return text
    if problem.startswith("The session file"):
        return problem
    return f"a damaged session file: {problem}"


def _is_empty(path: Path) -> bool:
    """Whether ``path`` holds nothing but white space (a file that cannot be read is not: its error is said)."""
    try:
        with path.open("rb") as fp:
            return not fp.read(65536).strip()
    except OSError:
        return False


def _from_file(path: Path, speed: float) -> MockRules | int:
    from wsinspector.core.export import SessionFileError, is_session_file, read_session  # noqa: PLC0415

    test_named = path.name.lower().endswith(_TEST_SUFFIXES)
    if not test_named and _is_empty(path):
        what = "an empty session file" if path.name.lower().endswith(_SESSION_SUFFIXES) else "an empty file"
        _err(f"{path}: {what}: nothing to play back")
        return EXIT_USAGE
    if is_session_file(path) or (not test_named and path.name.lower().endswith(_SESSION_SUFFIXES)):
        try:
            with path.open(encoding="utf-8") as fp:
                info, frames = read_session(fp)
                listed = list(frames)
        except SessionFileError as exc:
            _err(f"{path}: {_session_problem(path, str(exc))}")
            return EXIT_USAGE
        except OSError as exc:
            _err(f"cannot read {path}: {exc.strerror or exc}")
            return EXIT_USAGE
        client = Direction.IN if SERVER_NAME_MARK in info.name else Direction.OUT
        return _rules(info.name or path.name, listed, client, speed)
    from wsinspector.core.scenario.yaml_io import ScenarioFileError, read_test  # noqa: PLC0415

    try:
        test = read_test(path, check_url=False)
    except ScenarioFileError as exc:
        _err(f"{path}: {exc}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"cannot read {path}: {exc.strerror or exc}")
        return EXIT_USAGE
    route, warnings = route_from_test(test)
    for warning in warnings:
        _err(f"{path}: {warning}")
    if not any(action.kind == SEND for action in (*route.on_connect, *(a for g in route.sequence for a in g))):
        _err(f"{path}: the test expects no message the server could send back (an exact text, JSON or binary "
             "value): nothing to play back")
        return EXIT_USAGE
    return MockRules(name=f"Replay of {test.name or path.name}", routes=(route,),
                     subprotocols=test.subprotocols)


def _from_store(args: argparse.Namespace, source: str) -> MockRules | int:
    from wsinspector.cli_sessions import find_session  # noqa: PLC0415
    from wsinspector.cli_store import open_sessions_store  # noqa: PLC0415
    from wsinspector.core.stored import StoredSession  # noqa: PLC0415

    store = open_sessions_store(args)
    if isinstance(store, int):
        return EXIT_USAGE
    try:
        record = find_session(store, source)
        if isinstance(record, str):
            _err(f"{record}, and no file is named {source!r}")
            return EXIT_USAGE
        stored = StoredSession(store, record)
        frames = list(stored.frames(0, len(stored) - 1)) if len(stored) else []
        server_side = any(kind == SERVER_EVENT for _ts, kind, _text in stored.events)
    finally:
        store.close()
    return _rules(record.name, frames, Direction.IN if server_side else Direction.OUT, args.speed)
