"""``wsinspector serve --mock RULES`` given a rules file that cannot be used: each is one line on standard error
naming the file (and the line, column and field when there is one), exit status 2, nothing listening, no
traceback; a file far larger than any rules file is refused before it is read whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli

HUGE = object()  # a file one byte over the limit, made sparse: its size alone refuses it

CASES = {
    "missing": (None, "cannot read {path}: No such file or directory"),
    "folder": ("", "cannot read {path}: Is a directory"),
    "empty": (b"", "{path}: line 1, column 1: the file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "{path}: not UTF-8 text (byte 0)"),
    "yaml-syntax": (b"version: 1\nrules: [\n", "{path}: line 3, column 1: not valid YAML"),
    "unknown-key": (b"version: 1\nreplies: []\n", "{path}: line 2, column 1: unknown key 'replies'"),
    "wrong-type": (b"version: 1\nrules: 5\n", "{path}: line 2, column 8: rules: must be a list of rules"),
    "bad-regex": (b'version: 1\nrules:\n  - match: {regex: "(("}\n    do: {text: x}\n',
                  "{path}: line 3, column 20: rules[0].match.regex: not a regular expression"),
    "bad-json-path": (b'version: 1\nrules:\n  - match: {json: "$..[", equals: 1}\n    do: {text: x}\n',
                      "{path}: line 3, column 19: rules[0].match.json: '$..['"),
    "unknown-variable": (b'version: 1\nrules:\n  - match: {any: true}\n    do: {text: "{{who}}"}\n',
                         "{path}: line 4, column 16: rules[0].do.text: unknown variable {{{{who}}}}"),
    "huge": (HUGE, "{path}: more than 4 MiB, the most a rules file may hold"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_rules_file_that_cannot_be_used_is_one_line_and_exit_2(cli: Cli, tmp_path: Path, case: str) -> None:
    content, says = CASES[case]
    path = tmp_path / f"{case}.yaml"
    if content == "":
        path.mkdir()
    elif content is HUGE:
        with path.open("wb") as fp:
            fp.truncate(4 * 1024 * 1024 + 1)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = cli("serve", "--mock", str(path), "--no-record")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wsinspector: " + says.format(path=path)), result.stderr
