"""Stored sessions as HAR and back: Chrome's fields for every HAR reader, our private keys for every frame; HAR
files of Chrome, Playwright (embedded and attached), mitmproxy and HTTP Toolkit read as stored sessions, and the
one-line messages for files that are not."""

from __future__ import annotations

import base64
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.handshake import HANDSHAKE_EVENT, Handshake, last_handshake
from wsinspector.core.har_export import stored_har_session, write_har
from wsinspector.core.har_import import HarError
from wsinspector.core.model import header
from wsinspector.core.session_import import SessionsImport
from wsinspector.core.store import FrameRow, SessionStatus, Store

IN, OUT = Direction.IN, Direction.OUT
STARTED_NS = 7_000_000_000
WALL = 1_764_496_800.25
SECRET = "tok-9f8e7d"


def _row(seq: int, t_us: int, direction: Direction, opcode: Opcode, payload: bytes, fin: bool | None = True, *,
         rsv1: bool | None = False, masked: bool | None = None, key: bytes | None = None, length: int | None = None,
         note: str | None = None, origin: int = 0) -> FrameRow:
    if masked is None:
        masked = direction is OUT
    meta = header.with_origin(header.pack(direction, opcode, fin, rsv1, False, False, masked), origin)
    return (seq, STARTED_NS + t_us * 1000 + 123, meta, length, key, note, payload)


def _handshake(url: str, protocol: str = "chat.v2") -> str:
    shake = Handshake(url=url, request_line="GET /feed?token=REDACTED HTTP/1.1",
                      request_headers=(("Host", "127.0.0.1:9"), ("Authorization", "Bearer " + SECRET),
                                       ("Sec-WebSocket-Protocol", protocol)),
                      status=101, reason="Switching Protocols",
                      response_headers=(("Upgrade", "websocket"), ("Sec-WebSocket-Protocol", protocol)))
    return shake.without_secrets((SECRET,)).to_json()


def _recorded(store: Store) -> int:
    """A session with everything HAR has no field for: masks, a compressed frame, a text message in three
    fragments with a ping between them, a scheduled send, a close handshake, and a reconnect with a second
    handshake; the URL carries a secret."""
    url = f"ws://127.0.0.1:9/feed?token={SECRET}"
    session_id = store.create_session("Ticker", url, WALL, STARTED_NS)
    store.add_event(session_id, 0, STARTED_NS, HANDSHAKE_EVENT, _handshake(url))
    store.append_frames(session_id, [
        _row(0, 10, OUT, Opcode.TEXT, b'{"op":"sub"}', key=b"\x01\x02\x03\x04", length=12),
        _row(1, 20, IN, Opcode.TEXT, "héllo ✓".encode(), rsv1=True, length=9),
        _row(2, 30, IN, Opcode.TEXT, b"frag-", fin=False),
        _row(3, 31, OUT, Opcode.PING, b"p1", key=b"\xaa\xbb\xcc\xdd"),
        _row(4, 32, IN, Opcode.CONTINUATION, b"ment-", fin=False),
        _row(5, 33, IN, Opcode.PONG, b"p1"),
        _row(6, 34, IN, Opcode.CONTINUATION, b"ed", fin=True),
        _row(7, 40, OUT, Opcode.BINARY, bytes(range(256)), origin=header.SCHEDULED),
        _row(8, 50, IN, Opcode.TEXT, b"\xff\xfe not utf-8", note="the engine's note"),
        _row(9, 60, OUT, Opcode.CLOSE, close_payload(1001, "bye ✓")),
        _row(10, 61, IN, Opcode.CLOSE, close_payload(1001, "bye ✓")),
        _row(11, 2_000_000, IN, Opcode.TEXT, b"after the reconnect", rsv1=None, masked=None),
    ])
    store.add_event(session_id, 11, STARTED_NS + 1_999_000_000, "reconnect", "reconnected (attempt 1)")
    store.add_event(session_id, 11, STARTED_NS + 1_999_500_000, HANDSHAKE_EVENT, _handshake(url, "chat.v3"))
    store.update_session(session_id, note="a note ✓", subprotocol="chat.v2")
    store.finish_session(session_id, SessionStatus.CLOSED, WALL + 2.5, 1001, "bye ✓")
    return session_id


def _export(store: Store, session_id: int, path: Path, selection: set[int] | None = None) -> dict[str, Any]:
    record = store.session(session_id)
    assert record is not None
    with path.open("w", encoding="utf-8", newline="\n") as fp:
        counts = list(write_har(fp, [stored_har_session(store, record, selection)]))
    assert counts[-1] > 0
    doc: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return doc


def _import(store: Store, path: Path) -> SessionsImport:
    job = SessionsImport(store, path)
    for _ in job.steps():
        pass
    return job


def _frames(store: Store, session_id: int) -> list[tuple[Any, ...]]:
    """Every stored frame as the store has it, times relative to the session's start."""
    record = store.session(session_id)
    assert record is not None
    rows = store.read_frames(session_id, 0, store.stored_frame_count(session_id) - 1)
    return [(seq, ts - record.started_ns, meta, length, key, note, bytes(payload))
            for seq, ts, meta, length, key, note, payload in rows]


def test_a_session_is_a_har_entry_per_connection_in_chromes_convention(db_path: Path, tmp_path: Path) -> None:
    store = Store(db_path)
    try:
        doc = _export(store, _recorded(store), tmp_path / "out.har")
    finally:
        store.close()
    log = doc["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "wsinspector"
    first, second = log["entries"]
    assert first["_resourceType"] == "websocket" == second["_resourceType"]
    assert first["request"]["method"] == "GET"
    assert first["request"]["url"] == "ws://127.0.0.1:9/feed?token=REDACTED"
    assert {"name": "Authorization", "value": "{{Authorization}}"} in first["request"]["headers"]
    assert first["response"]["status"] == 101 and first["response"]["statusText"] == "Switching Protocols"
    assert {"name": "Sec-WebSocket-Protocol", "value": "chat.v3"} in second["response"]["headers"]
    assert SECRET not in json.dumps(doc)
    assert first["startedDateTime"] == "2025-11-30T10:00:00.250Z"
    # whole data messages only: the fragments folded, control frames left to the private list
    messages = [(m["type"], m["opcode"], m["data"]) for m in first["_webSocketMessages"]]
    assert messages == [
        ("send", 1, '{"op":"sub"}'), ("receive", 1, "héllo ✓"), ("receive", 1, "frag-ment-ed"),
        ("send", 2, base64.b64encode(bytes(range(256))).decode()),
        ("receive", 1, base64.b64encode(b"\xff\xfe not utf-8").decode()),
    ]
    assert first["_webSocketMessages"][0]["time"] == pytest.approx(WALL + 10e-6, abs=1e-6)
    assert [(f["dir"], f["opcode"]) for f in first["_wsinspectorFrames"]] == [
        ("out", 9), ("in", 10), ("out", 8), ("in", 8)]
    assert [m["data"] for m in second["_webSocketMessages"]] == ["after the reconnect"]


def test_our_har_reads_back_frame_for_frame(db_path: Path, tmp_path: Path) -> None:
    store = Store(db_path)
    try:
        original = _recorded(store)
        path = tmp_path / "out.har"
        _export(store, original, path)
        job = _import(store, path)
        [copy] = job.ids
        assert job.kind == "HAR file" and job.warnings == []
        assert _frames(store, copy) == _frames(store, original)
        before, after = store.session(original), store.session(copy)
        assert before is not None and after is not None
        assert (after.name, after.url, after.note, after.subprotocol, after.close_code, after.close_reason) == (
            before.name, before.url, before.note, before.subprotocol, before.close_code, before.close_reason)
        assert after.status == SessionStatus.IMPORTED
        assert after.started_wall == before.started_wall and after.ended_wall == before.ended_wall
        rel = [(seq, ts - before.started_ns, kind, text) for seq, ts, kind, text in store.events(original)]
        assert store.events(copy) == rel
        shake = last_handshake((ts, kind, text) for _seq, ts, kind, text in store.events(copy))
        assert shake is not None and shake.response_headers == (("Upgrade", "websocket"),
                                                                 ("Sec-WebSocket-Protocol", "chat.v3"))
    finally:
        store.close()


def test_a_selection_writes_its_messages_whole_and_reads_back_as_a_session_of_them(db_path: Path,
                                                                                   tmp_path: Path) -> None:
    store = Store(db_path)
    try:
        original = _recorded(store)
        # the middle fragment selects its whole message; the ping itself; nothing of the second connection
        doc = _export(store, original, tmp_path / "part.har", {3, 4})
        [entry] = doc["log"]["entries"]
        assert [m["data"] for m in entry["_webSocketMessages"]] == ["frag-ment-ed"]
        assert [f["opcode"] for f in entry["_wsinspectorFrames"]] == [9]
        [copy] = _import(store, tmp_path / "part.har").ids
        kept = _frames(store, copy)
        assert [(row[0], row[6]) for row in kept] == [(0, b"frag-"), (1, b"p1"), (2, b"ment-"), (3, b"ed")]
        assert [row[1:] for row in kept] == [row[1:] for row in _frames(store, original)[2:7] if row[0] != 5]
    finally:
        store.close()


def _har(entries: list[dict[str, Any]], creator: str = "WebInspector") -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": creator, "version": "1"}, "entries": entries}}


def _ws_entry(url: str, messages: list[dict[str, Any]] | None, started: str = "2025-11-30T10:00:00.000Z",
              **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "startedDateTime": started, "time": 10, "_resourceType": "websocket",
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1", "cookies": [], "queryString": [],
                    "headersSize": -1, "bodySize": 0,
                    "headers": [{"name": "Cookie", "value": "sid=" + SECRET}, {"name": "Origin", "value": "x"}]},
        "response": {"status": 101, "statusText": "Switching Protocols", "httpVersion": "HTTP/1.1", "cookies": [],
                     "headers": [{"name": "Sec-WebSocket-Protocol", "value": "v1.json"}],
                     "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1,
                     "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}, **extra,
    }
    if messages is not None:
        entry["_webSocketMessages"] = messages
    return entry


def _stored_messages(store: Store, session_id: int) -> list[tuple[Direction, Opcode, bytes, int]]:
    return [(header.direction(meta), header.opcode(meta), payload, ts)
            for _seq, ts, meta, _l, _k, _n, payload in _frames(store, session_id)]


@pytest.mark.parametrize(("flavour", "times"), [
    ("chrome", [1_764_496_800.5, 1_764_496_800.75]),  # seconds since the epoch
    ("playwright", [1_764_496_800_500.0, 1_764_496_800_750.0]),  # milliseconds
    ("http-toolkit", [1_764_496_800.5, 1_764_496_800.75]),
], ids=["chrome", "playwright", "http-toolkit"])
def test_other_tools_hars_become_sessions_with_their_handshake(flavour: str, times: list[float], db_path: Path,
                                                             tmp_path: Path) -> None:
    messages = [{"type": "send", "time": times[0], "opcode": 1, "data": '{"hi":1}'},
                {"type": "receive", "time": times[1], "opcode": 2, "data": "AP8="}]
    path = tmp_path / f"{flavour}.har"
    fetch = {**_ws_entry("https://example.com/api", None), "_resourceType": "fetch"}
    fetch["response"] = {**fetch["response"], "status": 200}
    ws = _ws_entry("wss://example.com/socket?v=3", messages)
    if flavour == "http-toolkit":  # the upgrade as an https request answered 101
        ws["request"]["url"] = "https://example.com/socket?v=3"
        del ws["_resourceType"]
    path.write_text(json.dumps(_har([fetch, ws], flavour)))
    store = Store(db_path)
    try:
        [session_id] = _import(store, path).ids
        record = store.session(session_id)
        assert record is not None
        assert (record.name, record.url, record.subprotocol) == ("example.com/socket", "wss://example.com/socket?v=3",
                                                                 "v1.json")
        assert record.started_wall == 1_764_496_800.0
        assert _stored_messages(store, session_id) == [(OUT, Opcode.TEXT, b'{"hi":1}', 500_000_000),
                                                       (IN, Opcode.BINARY, b"\x00\xff", 750_000_000)]
        shake = last_handshake((ts, kind, text) for _seq, ts, kind, text in store.events(session_id))
        assert shake is not None and shake.status == 101
        assert ("Cookie", "{{Cookie}}") in shake.request_headers and ("Origin", "x") in shake.request_headers
        assert SECRET not in json.dumps(store.events(session_id))
    finally:
        store.close()


def test_playwrights_attached_messages_beside_the_har_and_in_its_zip(db_path: Path, tmp_path: Path) -> None:
    lines = "".join(json.dumps(m) + "\n" for m in [
        {"type": "send", "time": 1_764_496_800_100.0, "opcode": 1, "data": "ping?"},
        {"type": "receive", "time": 1_764_496_800_200.0, "opcode": 1, "data": "pong!"}])
    entry = _ws_entry("ws://127.0.0.1:8765/", None)
    entry["response"]["content"]["_file"] = "abc.jsonl"
    (tmp_path / "abc.jsonl").write_text(lines)
    beside = tmp_path / "beside.har"
    beside.write_text(json.dumps(_har([entry], "Playwright")))
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("har.har", json.dumps(_har([entry], "Playwright")))
        zf.writestr("abc.jsonl", lines)
    store = Store(db_path)
    try:
        for path in (beside, archive):
            [session_id] = _import(store, path).ids
            assert [m[2] for m in _stored_messages(store, session_id)] == [b"ping?", b"pong!"], path.name
        (tmp_path / "abc.jsonl").unlink()
        with pytest.raises(HarError, match=r"^beside.har: log.entries\[0\]: its messages are in abc.jsonl, which "
                                           r"cannot be read beside the HAR file$"):
            _import(store, beside)
    finally:
        store.close()


def test_mitmproxy_https_url_and_its_compressed_zhar(db_path: Path, tmp_path: Path) -> None:
    entry = _ws_entry("https://example.com/ws", [{"type": "receive", "time": 1_764_496_801.0, "opcode": 1,
                                                  "data": "tick"}], started="2025-11-30T10:00:00+00:00")
    del entry["_resourceType"]  # mitmproxy marks it by its messages
    path = tmp_path / "flows.zhar"
    path.write_bytes(zlib.compress(json.dumps(_har([entry], "mitmproxy exporthar")).encode()))
    store = Store(db_path)
    try:
        [session_id] = _import(store, path).ids
        record = store.session(session_id)
        assert record is not None and record.url == "wss://example.com/ws"
        assert _stored_messages(store, session_id) == [(IN, Opcode.TEXT, b"tick", 1_000_000_000)]
    finally:
        store.close()


@pytest.mark.parametrize(("content", "message"), [
    ('{"log": {"version": "1.2", "entries": [{"request": {"url": "https://x/"}, "response": {"status": 200}}]}}',
     "bad.har: the HAR file has no WebSocket entries (1 other request)"),
    ('{"log": {"version": "1.2", "entries": [', "bad.har: the HAR file is truncated (it ends before its JSON is "
                                               "complete)"),
    ('{"openapi": "3.0.0", "paths": {}}', "bad.har: not a HAR file (it has no log.entries list)"),
    ("", "bad.har: the file is empty"),
    ('["log"]', "bad.har: not a HAR file (it is not a JSON object)"),
    ('{"log": {"entries": [{"_resourceType": "websocket", "request": {"url": "ws://x/"}, "_webSocketMessages": '
     '[{"type": "receive", "opcode": 2, "data": "%%"}]}]}}',
     r"bad.har: log.entries[0]._webSocketMessages[0].data of a binary message is not base64"),
], ids=["no-websockets", "truncated", "foreign-json", "empty", "not-an-object", "bad-base64"])
def test_a_har_that_gives_no_session_says_why_in_one_line(content: str, message: str, db_path: Path,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content)
    store = Store(db_path)
    try:
        job = SessionsImport(store, path)
        with pytest.raises(HarError) as caught:
            for _ in job.steps():
                pass
        assert str(caught.value) == message and "\n" not in str(caught.value)
        job.discard()
        assert store.sessions() == []
    finally:
        store.close()


def test_a_broken_entry_is_named_and_the_others_imported(db_path: Path, tmp_path: Path) -> None:
    good = _ws_entry("ws://good/", [{"type": "send", "time": 1_764_496_800.5, "opcode": 1, "data": "x"}])
    bad = _ws_entry("ws://bad/", [{"type": "send", "opcode": 2, "data": "not base64!"}])
    path = tmp_path / "mixed.har"
    path.write_text(json.dumps(_har([bad, good])))
    store = Store(db_path)
    try:
        job = _import(store, path)
        assert len(job.ids) == 1
        assert job.warnings == ["mixed.har: log.entries[0]._webSocketMessages[0].data of a binary message is not "
                                "base64"]
    finally:
        store.close()


def test_broken_fragments_and_a_session_without_a_handshake_round_trip(db_path: Path, tmp_path: Path) -> None:
    """Fragments that never made a message (a new message cutting one short, a continuation with nothing to
    continue, a message still open at the end) are loose frames of the entry, and read back in their places; a
    session that kept no handshake gets one made from its URL, and none is made up on the way back."""
    store = Store(db_path)
    try:
        session_id = store.create_session("old", "ws://127.0.0.1:9/old?key=abc123", WALL, STARTED_NS)
        store.append_frames(session_id, [
            _row(0, 1, IN, Opcode.TEXT, b"cut ", fin=False),
            _row(1, 2, IN, Opcode.TEXT, b"short", fin=True),
            _row(2, 3, IN, Opcode.CONTINUATION, b"lost", fin=True),
            _row(3, 4, IN, Opcode.BINARY, b"\x01", fin=True),
            _row(4, 5, OUT, Opcode.TEXT, "open at the end ✓".encode(), fin=False),
        ])
        store.finish_session(session_id, SessionStatus.INTERRUPTED, None)
        doc = _export(store, session_id, tmp_path / "old.har")
        [entry] = doc["log"]["entries"]
        assert entry["request"]["url"] == "ws://127.0.0.1:9/old?key=REDACTED"
        assert ("Host", "127.0.0.1:9") in {(h["name"], h["value"]) for h in entry["request"]["headers"]}
        assert entry["response"]["status"] == 101 and entry["_wsinspector"]["handshake"] is None
        assert [m["data"] for m in entry["_webSocketMessages"]] == ["AQ=="]
        assert [f["seq"] for f in entry["_wsinspectorFrames"]] == [0, 1, 2, 4]
        [copy] = _import(store, tmp_path / "old.har").ids
        assert _frames(store, copy) == _frames(store, session_id)
        assert store.events(copy) == []
        record = store.session(copy)
        assert record is not None and record.ended_wall is None
    finally:
        store.close()


def test_a_damaged_frame_is_written_as_one(db_path: Path, tmp_path: Path) -> None:
    store = Store(db_path)
    try:
        session_id = store.create_session("damaged", "ws://h/", WALL, STARTED_NS)
        store.append_frames(session_id, [
            _row(0, 1, IN, Opcode.TEXT, b"be", fin=False),
            (1, STARTED_NS + 2000, header.DAMAGED, None, None, None, b"??"),  # what it was is lost
            _row(2, 3, IN, Opcode.CONTINUATION, b"fore", fin=True),
        ])
        doc = _export(store, session_id, tmp_path / "damaged.har")
        [entry] = doc["log"]["entries"]
        assert entry["_webSocketMessages"] == []
        others = entry["_wsinspectorFrames"]
        # the message under way in its direction is lost with it
        assert [(f["seq"], f.get("damaged", False)) for f in others] == [(0, False), (1, True), (2, False)]
    finally:
        store.close()


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_what_other_tools_leave_out_or_write_oddly(db_path: Path, tmp_path: Path) -> None:
    """Times relative to the entry or missing, an unknown message type, headers that are not a list, a
    startedDateTime that does not parse: read as far as they say something."""
    entry = _ws_entry("ws://h/odd", [
        {"type": "receive", "time": 0.25, "opcode": 1, "data": "a quarter second in"},
        {"type": "note", "time": 0.3, "opcode": 1, "data": "not a frame"},
        {"type": "send", "opcode": 1, "data": "no time: as the one before"},
        {"type": "send", "time": -1, "opcode": 1, "data": "-1: none either"},
        {"type": "receive", "time": 1.0, "opcode": 9, "data": "ping"},
        {"type": "receive", "time": 1.5, "opcode": 2, "data": "AAE=", "encoding": "base64"},
        {"type": "receive", "time": 2.0, "opcode": 1, "data": "4pyT", "encoding": "base64"},
    ])
    entry["request"]["headers"] = {"not": "a list"}
    store = Store(db_path)
    try:
        [session_id] = _import(store, _write(tmp_path / "odd.har", _har([entry]))).ids
        assert [(m[1], m[2], m[3]) for m in _stored_messages(store, session_id)] == [
            (Opcode.TEXT, b"a quarter second in", 250_000_000),
            (Opcode.TEXT, b"no time: as the one before", 250_000_000),
            (Opcode.TEXT, b"-1: none either", 250_000_000), (Opcode.PING, b"ping", 1_000_000_000),
            (Opcode.BINARY, b"\x00\x01", 1_500_000_000), (Opcode.TEXT, "✓".encode(), 2_000_000_000)]
        entry["startedDateTime"] = "yesterday"
        entry["_webSocketMessages"] = [{"type": "send", "time": 1_764_496_800.5, "opcode": 1, "data": "x"}]
        [later] = _import(store, _write(tmp_path / "odd.har", _har([entry]))).ids
        record = store.session(later)
        assert record is not None and record.started_wall == 1_764_496_800.5
    finally:
        store.close()


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(b"\xff\xfe{}"), "x.har: not a HAR file (it is not UTF-8 text)"),
    (lambda p: p.write_text('{"log": nope}'), "x.har: not a HAR file (Expecting value at line 1, column 9)"),
    (lambda p: zipfile.ZipFile(p, "w").close(), "x.har: a .zip without a .har file in it"),
    (lambda p: _write(p, _har([{**_ws_entry("ws://h/", [7])}])), "x.har: log.entries[0]._webSocketMessages[0] is "
                                                                  "not an object"),
    (lambda p: _write(p, _har([{**_ws_entry("ws://h/", [{"type": "send", "opcode": 1, "data": 5}])}])),
     "x.har: log.entries[0]._webSocketMessages[0].data is not text"),
    (lambda p: _write(p, _har([{"_resourceType": "websocket", "request": {}}])), "x.har: log.entries[0].request.url "
                                                                                "is missing"),
    (lambda p: _write(p, _har([{**_ws_entry("ws://h/", None), "_webSocketMessages": {}}])),
     "x.har: log.entries[0]._webSocketMessages is not a list"),
    (lambda p: _write(p, _har([_ws_entry("ws://h/", None, response={"content": {"_file": "../up.jsonl"}})])),
     "x.har: log.entries[0]: '../up.jsonl' is not a file beside the HAR"),
    (lambda p: _write(p, _har([{**_ws_entry("ws://h/", []), "_wsinspector": {"session": {"key": "1"}},
                                 "_webSocketMessages": [{"type": "send"}]}])),
     "x.har: log.entries[0]: cannot be read ('opcode')"),
], ids=["not-utf8", "bad-json", "empty-zip", "message-not-object", "data-not-text", "no-url", "messages-not-list",
        "side-file-outside", "our-own-damaged"])
def test_more_files_that_give_no_session(make: Any, message: str, db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.har"
    make(path)
    store = Store(db_path)
    try:
        with pytest.raises(HarError) as caught:
            _import(store, path)
        assert str(caught.value) == message
    finally:
        store.close()


def test_a_har_too_big_and_a_zhar_that_is_not_compressed(db_path: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from wsinspector.core import har_import

    store = Store(db_path)
    try:
        broken = tmp_path / "flows.zhar"
        broken.write_bytes(b"x\x9c not zlib")
        with pytest.raises(HarError, match=r"^flows.zhar: a .zhar file that does not decompress$"):
            _import(store, broken)
        monkeypatch.setattr(har_import, "MAX_BYTES", 2 * 1024 * 1024)
        big = tmp_path / "big.har"
        big.write_bytes(b" " * (3 * 1024 * 1024))
        with pytest.raises(HarError, match=r"^big.har: 3 MiB is larger than the 2 MiB a HAR file may be$"):
            _import(store, big)
        with pytest.raises(HarError, match=r"^cannot read gone.har: "):
            _import(store, tmp_path / "gone.har")
    finally:
        store.close()


def test_a_session_file_imports_through_the_same_steps(db_path: Path, tmp_path: Path) -> None:
    from wsinspector.core.export import SessionInfo, write_session
    from wsinspector.core.session_import import is_har_file
    from wsinspector.core.stored import StoredSession

    store = Store(db_path)
    try:
        original = _recorded(store)
        record = store.session(original)
        assert record is not None
        path = tmp_path / "s.wssession.json"
        stored = StoredSession(store, record)
        with path.open("w", encoding="utf-8") as fp:
            info = SessionInfo(name="s", url=record.url, started_wall=WALL, note="n", subprotocol="chat.v2",
                               close_code=1001, close_reason="bye")
            for _ in write_session(fp, info, stored.frames(0, len(stored) - 1), record.started_ns):
                pass
        job = _import(store, path)
        assert job.kind == "session file" and not is_har_file(path)
        [copy] = job.ids
        assert [row[1:] for row in _frames(store, copy)] == [
            (ts, header.header_of(meta), length, key, note, payload)
            for ts, meta, length, key, note, payload in (row[1:] for row in _frames(store, original))]
        assert not is_har_file(tmp_path / "missing.zip")
        (tmp_path / "broken.zip").write_bytes(b"PK not a zip")
        assert not is_har_file(tmp_path / "broken.zip")
    finally:
        store.close()
