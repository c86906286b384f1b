"""``wsinspector serve --replay`` given something with nothing to play: a test file whose expectations the server
cannot send back (none at all, or only patterns), a damaged session file, a data folder without sessions. Each
is one line and exit status 2 before anything listens, as a stored session without messages is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli

NO_STEPS = "version: 1\nname: empty\nurl: ws://127.0.0.1:9/\nsteps: []\n"
ONLY_PATTERNS = "version: 1\nname: patterns\nurl: ws://127.0.0.1:9/\nsteps:\n  - expect: {regex: \"^a.*\"}\n"
BROKEN_SESSION_FILE = '{"format": "wsinspector-session"\nnot json\n'


@pytest.mark.parametrize(("name", "content", "says"), [
    ("empty.wstest.yaml", NO_STEPS, "nothing to play back"),
    ("patterns.wstest.yaml", ONLY_PATTERNS, "nothing to play back"),
    ("damaged.wsession.jsonl", BROKEN_SESSION_FILE, "The session file is damaged"),
    ("empty.wsession.jsonl", "", "empty.wsession.jsonl: an empty session file: nothing to play back"),
    ("blank.wssession.json", "\n  \n", "blank.wssession.json: an empty session file: nothing to play back"),
    ("messages.jsonl", '{"seq": 0}\n{"seq": 1}\n',
     "messages.jsonl: not a session file (it is not valid JSON); JSON Lines of messages"),
    ("", "", "no sessions stored"),
], ids=["no-steps", "only-patterns", "damaged-session", "empty-session", "blank-session", "json-lines",
        "last-without-sessions"])
def test_nothing_to_play_back_is_said_before_listening(cli: Cli, tmp_path: Path, name: str, content: str,
                                                      says: str) -> None:
    source = "last"
    if name:
        (tmp_path / name).write_text(content, encoding="utf-8")
        source = str(tmp_path / name)
    result = cli("--data-dir", str(tmp_path / "data"), "serve", "--replay", source, "--no-record")
    assert result.returncode == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert says in result.stderr.splitlines()[-1]
