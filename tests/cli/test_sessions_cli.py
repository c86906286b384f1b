"""``wsinspector sessions``, ``export SESSION --format har|ndjson|csv|json`` and ``import`` of HAR and session files,
run as a script runs them (a real subprocess over the real store), beside the connections' export and import."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.core.formats.conftest import SAMPLES
from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.model import header
from wsinspector.core.store import FrameRow, SessionStatus, Store

STARTED_NS = 1_000_000_000
WALL = 1_764_496_800.0


def _store(data: Path) -> Store:
    data.mkdir(parents=True, exist_ok=True)
    return Store(data / "wsinspector.sqlite3")


def _recorded(data: Path, name: str = "chat") -> int:
    """A session: a text message in two fragments with a ping between them, its pong, a binary message, a close."""
    store = _store(data)
    try:
        session_id = store.create_session(name, "ws://127.0.0.1:9/chat?token=s3cr3t", WALL, STARTED_NS)

        def row(seq: int, direction: Direction, opcode: Opcode, fin: bool, payload: bytes) -> FrameRow:
            meta = header.pack(direction, opcode, fin, False, False, False, direction is Direction.OUT)
            return (seq, STARTED_NS + seq * 1_500_000 + 7, meta, None, None, None, payload)

        store.append_frames(session_id, [
            row(0, Direction.IN, Opcode.TEXT, False, b'{"a": '),
            row(1, Direction.OUT, Opcode.PING, True, b"p"),
            row(2, Direction.IN, Opcode.CONTINUATION, True, b"1}"),
            row(3, Direction.IN, Opcode.PONG, True, b"p"),
            row(4, Direction.OUT, Opcode.BINARY, True, b"\x00\xff,\n"),
            row(5, Direction.OUT, Opcode.CLOSE, True, close_payload(1000, "done")),
        ])
        store.finish_session(session_id, SessionStatus.CLOSED, WALL + 1, 1000, "done")
    finally:
        store.close()
    return session_id


def _frames(data: Path, session_id: int) -> list[tuple[int, int, bytes]]:
    """(time since the start in ns, packed header, payload) of every stored frame."""
    store = _store(data)
    try:
        record = store.session(session_id)
        assert record is not None
        rows = store.read_frames(session_id, 0, store.stored_frame_count(session_id) - 1)
        return [(ts - record.started_ns, meta, bytes(payload)) for _seq, ts, meta, _l, _k, _n, payload in rows]
    finally:
        store.close()


def test_sessions_are_listed_as_text_and_json(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    empty = cli("sessions", "--data-dir", str(data))
    assert (empty.returncode, empty.stderr.strip()) == (1, f"wsinspector: no sessions stored in {data}")
    first, second = _recorded(data, "first"), _recorded(data, "second")
    listed = cli("sessions", "--data-dir", str(data))
    assert listed.returncode == 0, listed.output
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [str(second), str(first)]
    assert listed.stdout.splitlines()[0].split("\t")[2:] == ["6", "closed", "second",
                                                             "ws://127.0.0.1:9/chat?token=REDACTED"]
    as_json = cli("sessions", "--data-dir", str(data), "--json")
    records = json.loads(as_json.stdout)
    assert [(r["id"], r["name"], r["frames"], r["close_code"]) for r in records] == [
        (second, "second", 6, 1000), (first, "first", 6, 1000)]


def test_a_session_exported_as_har_imports_back_frame_for_frame(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    original = _recorded(data)
    har = tmp_path / "out" / "chat.har"
    written = cli("export", "--data-dir", str(data), "last", "--format", "har", "-o", str(har))
    assert written.returncode == 0, written.output
    assert written.stdout.strip() == f"Exported session {original} (6 frames) as har to {har}"
    doc = json.loads(har.read_text("utf-8"))
    [entry] = doc["log"]["entries"]
    assert [(m["type"], m["opcode"], m["data"]) for m in entry["_webSocketMessages"]] == [
        ("receive", 1, '{"a": 1}'), ("send", 2, "AP8sCg==")]
    assert "s3cr3t" not in har.read_text("utf-8")

    back = cli("import", "--data-dir", str(data), "--only", "sessions", "--json", str(har))
    assert back.returncode == 0, back.output
    report = json.loads(back.stdout)
    [copy] = report["sessions"]
    assert report["imported"] == 0 and copy != original
    assert _frames(data, copy) == _frames(data, original)
    text = cli("import", "--data-dir", str(data), "--only", "sessions", str(har))
    assert text.returncode == 0, text.output
    assert f"Stored 1 session from {har} (HAR file)" in text.stdout
    assert "  + session " in text.stdout and "chat  ws://127.0.0.1:9/chat?token=REDACTED, 6 frames" in text.stdout


def test_a_har_gives_both_its_connections_and_its_sessions(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("import", "--data-dir", str(data), "--json", str(SAMPLES / "chrome.har"))
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout)
    assert report["imported"] == 1 and len(report["sessions"]) == 1
    [stored] = report["session_files"][0]["sessions"]
    assert (stored["name"], stored["url"], stored["frames"]) == ("app.example.com/socket",
                                                                 "wss://app.example.com/socket?v=3", 3)
    handshake = cli("handshake", "--data-dir", str(data), str(stored["id"]), "--json")
    assert handshake.returncode == 0, handshake.output
    shown = json.loads(handshake.stdout)
    assert ["Cookie", "{{Cookie}}"] in shown["request"]["headers"]
    assert shown["response"]["status"] == 101
    only = cli("import", "--data-dir", str(tmp_path / "other"), "--only", "connections", "--json",
               str(SAMPLES / "chrome.har"))
    assert json.loads(only.stdout)["sessions"] == []


def test_csv_ndjson_and_json_exports(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    original = _recorded(data, "the chat")
    table = cli("export", "--data-dir", str(data), "the chat", "--format", "csv")
    assert table.returncode == 0, table.output
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert list(rows[0]) == ["seq", "time", "elapsed", "direction", "opcode", "fin", "size", "encoding",
                             "payload"]
    assert [(r["direction"], r["opcode"], r["fin"], r["size"], r["encoding"], r["payload"]) for r in rows] == [
        ("in", "text", "false", "6", "text", '{"a": '),
        ("out", "ping", "true", "1", "text", "p"),
        ("in", "continuation", "true", "2", "text", "1}"),
        ("in", "pong", "true", "1", "text", "p"),
        ("out", "binary", "true", "4", "base64", "AP8sCg=="),
        ("out", "close", "true", "6", "base64", "A+hkb25l"),
    ]
    assert (rows[2]["elapsed"], rows[2]["time"]) == ("0.003000", "2025-11-30T10:00:00.003000+00:00")
    lines = cli("export", "--data-dir", str(data), str(original), "--format", "ndjson")
    messages = cli("--data-dir", str(data), "messages", str(original))
    assert lines.returncode == 0 and lines.stdout == messages.stdout  # the same lines as `messages`
    assert len(cli("export", "--data-dir", str(data), "last", "--format", "ndjson", "--frames")
               .stdout.splitlines()) == 6
    session_file = tmp_path / "chat.wssession.json"
    assert cli("export", "--data-dir", str(data), "last", "-o", str(session_file)).returncode == 0
    back = cli("import", "--data-dir", str(tmp_path / "other"), "--json", str(session_file))
    assert back.returncode == 0, back.output
    report = json.loads(back.stdout)
    assert report["imported"] == 0 and report["session_files"][0]["format"] == "session file"
    assert _frames(tmp_path / "other", report["sessions"][0]) == _frames(data, original)


def test_what_cannot_be_exported_or_imported_is_one_line(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _recorded(data)
    unknown = cli("export", "--data-dir", str(data), "nope", "--format", "har")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1, "wsinspector: export: there is no session 'nope' (list them with `wsinspector sessions`)")
    no_format = cli("export", "--data-dir", str(data), "last", "-o", str(tmp_path / "x.txt"))
    assert no_format.returncode == 2
    assert no_format.stderr.strip() == "wsinspector: export: say the format of SESSION's file with --format " \
                                       "har|ndjson|csv|json"
    forgot = cli("export", "--data-dir", str(data), "last")
    assert (forgot.returncode, forgot.stderr.strip()) == (
        2, "wsinspector: export: to export the session last, say its format: --format har|ndjson|csv|json "
           "(connections are written to a file named like connections.json)")
    assert not (Path.cwd() / "last").exists()
    bad_choice = cli("export", "--data-dir", str(data), "last", "--format", "xml")
    assert bad_choice.returncode == 2 and "invalid choice: 'xml'" in bad_choice.stderr
    truncated = tmp_path / "cut.har"
    truncated.write_text('{"log": {"version": "1.2", "entries": [{"_resourceType": "websocket"')
    result = cli("import", "--data-dir", str(data), "--only", "sessions", str(truncated))
    assert result.returncode == 1
    assert result.stderr.strip() == "wsinspector: cut.har: the HAR file is truncated (it ends before its JSON is " \
                                    "complete)"
    plain = tmp_path / "plain.har"
    plain.write_text('{"log": {"version": "1.2", "entries": []}}')
    both = cli("import", "--data-dir", str(data), str(plain))
    assert both.returncode == 0, both.output  # said once, as the connections' import has always said it
    assert "! the file has no WebSocket entries" in both.stdout and both.stderr == ""
    sessions = cli("import", "--data-dir", str(data), "--only", "sessions", str(plain))
    assert (sessions.returncode, sessions.stderr.strip()) == (
        1, "wsinspector: plain.har: the HAR file has no WebSocket entries (0 other requests)")
    assert "Traceback" not in result.output + both.output + sessions.output
