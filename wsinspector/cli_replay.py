"""What ``wsinspector serve --replay SESSION_OR_TEST`` plays back: a stored session (its id, its name or "last"),
an exported session file or a test file, made into mock rules (``core/mock/replay.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wsinspector import APP_NAME
from wsinspector.core.frames import Direction, Frame
from wsinspector.core.mock.model import SEND, MockRules
from wsinspector.core.mock.replay import messages_of, route_from_messages, route_from_test

EXIT_USAGE = 2
#: the event a server's recording starts with (app/server.py): its client's frames are the incoming ones
SERVER_EVENT = "server"
#: how a server's session is named: "<server> ← <client address>"
SERVER_NAME_MARK = " ← "


def _err(message: str) -> None:
    from wsinspector.cli import printable  # noqa: PLC0415

    print(printable(f"{APP_NAME}: --replay: {message}"), file=sys.stderr, flush=True)


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


def _from_file(path: Path, speed: float) -> MockRules | int:
    from wsinspector.core.export import SessionFileError, is_session_file, read_session  # noqa: PLC0415

    if is_session_file(path):
        try:
            with path.open(encoding="utf-8") as fp:
                info, frames = read_session(fp)
                listed = list(frames)
        except (OSError, SessionFileError) as exc:
            _err(f"{path}: {exc}")
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
    from wsinspector.cli_store import open_sessions_store  # noqa: PLC0415
    from wsinspector.core.stored import StoredSession  # noqa: PLC0415

    store = open_sessions_store(args)
    if isinstance(store, int):
        return EXIT_USAGE
    try:
        records = sorted(store.sessions(), key=lambda r: r.id)
        if source == "last":
            record = records[-1] if records else None
        elif source.isdigit():
            record = store.session(int(source))
        else:
            named = [r for r in records if r.name == source]
            record = named[-1] if named else None
        if record is None:
            _err(f"no stored session is {source!r} (an id, a name or 'last': see `{APP_NAME} messages`), and "
                 "no file has that name")
            return EXIT_USAGE
        stored = StoredSession(store, record)
        frames = list(stored.frames(0, len(stored) - 1)) if len(stored) else []
        server_side = any(kind == SERVER_EVENT for _ts, kind, _text in stored.events)
    finally:
        store.close()
    return _rules(record.name, frames, Direction.IN if server_side else Direction.OUT, args.speed)
