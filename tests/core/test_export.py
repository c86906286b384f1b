"""Session files: export, import, the streaming layout, URL redaction and every reader error."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from wsinspector.core.export import (
    FORMAT,
    VERSION,
    SessionFileError,
    SessionInfo,
    TruncatedSessionError,
    read_session,
    redact_url,
    write_session,
)
from wsinspector.core.frames import Direction, Frame, Opcode, close_payload

IN, OUT = Direction.IN, Direction.OUT
STARTED_NS = 5_000_000_000_000
INFO = SessionInfo(name="Ticker — prod", url="wss://example.com/feed?channel=btc", started_wall=1_700_000_000.123456,
                   ended_wall=1_700_000_123.5, status="closed", close_code=1001, close_reason="going away ✓",
                   note="line one\nline two", subprotocol="graphql-ws")


def frame(seq: int, opcode: Opcode = Opcode.TEXT, payload: bytes = b"", direction: Direction = IN, *,
          fin: bool | None = True, t_ns: int | None = None, **extra: object) -> Frame:
    ts = STARTED_NS + (1_000 * seq + 7 if t_ns is None else t_ns)
    return Frame(seq=seq, ts_ns=ts, direction=direction, opcode=opcode, payload=payload, fin=fin,
                 **extra)  # type: ignore[arg-type]


def export(path: Path, frames: list[Frame], info: SessionInfo = INFO, started_ns: int = STARTED_NS) -> list[int]:
    with path.open("w", encoding="utf-8") as fp:
        return list(write_session(fp, info, frames, started_ns))


def import_(path: Path) -> tuple[SessionInfo, list[Frame]]:
    with path.open(encoding="utf-8") as fp:
        info, frames = read_session(fp)
        return info, list(frames)


def imported_form(frames: list[Frame], started_ns: int = STARTED_NS) -> list[Frame]:
    """What a frame list looks like after a round trip: seqs from 0, times relative to the start."""
    return [replace(f, seq=i, ts_ns=f.ts_ns - started_ns) for i, f in enumerate(frames)]


ROUND_TRIP = [
    frame(10, Opcode.TEXT, b"hello", OUT, rsv1=False, rsv2=False, rsv3=False, masked=True,
          mask_key=b"\x01\x02\x03\x04", payload_length=5),
    frame(11, Opcode.TEXT, "héllo ✓ 𝄞".encode(), IN, rsv1=False, rsv2=False, rsv3=False, masked=False,
          payload_length=13),
    frame(12, Opcode.TEXT, b"unknown header bits", IN, fin=None),  # QtWebSockets: everything unknown
    frame(13, Opcode.TEXT, b"ok\xff\xfe not UTF-8 \xc3"),
    frame(14, Opcode.TEXT, "\ufeffleading BOM".encode()),
    frame(15, Opcode.TEXT, b'quotes " and \\ backslash, \n newline \r\n \t tab \x00 NUL \x1f \x7f'),
    frame(16, Opcode.TEXT, "line\u2028separator\u2029 and \ufffd".encode()),
    frame(17, Opcode.TEXT, b""),
    frame(18, Opcode.BINARY, bytes(range(256)), OUT, masked=True, mask_key=b"\xff\x00\xff\x00"),
    frame(19, Opcode.BINARY, b"valid utf-8 but binary"),
    frame(20, Opcode.BINARY, b""),
    frame(21, Opcode.TEXT, b"first fragment ", fin=False),
    frame(22, Opcode.PING, b"\x00\x01", OUT, masked=True, mask_key=b"\x00\x00\x00\x00"),
    frame(23, Opcode.CONTINUATION, b"last fragment"),
    frame(24, Opcode.CONTINUATION, b"\x80\x81 mid-sequence", fin=False),
    frame(25, Opcode.PONG, b""),
    frame(26, Opcode.PING, b"keepalive", rsv1=True, rsv2=None, rsv3=True),
    frame(27, Opcode.CLOSE, close_payload(1000, "bye ✓"), OUT, masked=True, mask_key=b"abcd"),
    frame(28, Opcode.CLOSE, close_payload(4001, ""), IN),
    frame(29, Opcode.CLOSE, b"", IN, note="reconstructed from the close code"),
    frame(30, Opcode.CLOSE, b"\x03", IN),
    frame(31, Opcode.CLOSE, b"\x0c\x00reason", IN),  # a code whose bytes happen to be valid UTF-8
    frame(32, Opcode.TEXT, b"x" * 10, payload_length=1_000_000, note="payload cut to 10 bytes ✓\nsecond line"),
    frame(33, Opcode.BINARY, b"\x01", rsv1=True, rsv2=True, rsv3=True, masked=False, payload_length=0),
    frame(34, Opcode.TEXT, b"late", t_ns=10 * 24 * 3600 * 1_000_000_000 + 123),  # ten days in, to the ns
    frame(35, Opcode.TEXT, b"early", t_ns=-1_500),  # before the recorded start
    frame(36, Opcode.TEXT, b"odd note", note="lone \udc80 surrogate"),  # not UTF-8-encodable: escaped
]


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "s.wsession.json"
    assert export(path, ROUND_TRIP) == [len(ROUND_TRIP)]
    info, frames = import_(path)
    assert info == replace(INFO)
    assert frames == imported_form(ROUND_TRIP)
    assert [f.payload for f in frames] == [f.payload for f in ROUND_TRIP]  # byte-exact


def test_round_trip_of_an_empty_session(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    info = SessionInfo(name="", url="ws://localhost:1/", started_wall=0.0)
    assert export(path, [], info) == [0]
    assert import_(path) == (info, [])
    assert json.loads(path.read_text(encoding="utf-8"))["frames"] == []


@pytest.mark.parametrize(
    "info",
    [
        SessionInfo(name="n", url="ws://h/", started_wall=1.0),
        SessionInfo(name="n", url="ws://h/", started_wall=1.5, ended_wall=2.25, status="failed", close_code=None,
                    close_reason="", note="", subprotocol=""),
        SessionInfo(name="lone \ud800", url="ws://h/", started_wall=0.0),
        SessionInfo(name="名前", url="wss://h:8443/p?q=1#f", started_wall=1e9, ended_wall=1e9 + 1, status="open",
                    close_code=4999, close_reason="r", note="\"n\"", subprotocol="v2.chat"),
    ],
)
def test_session_info_round_trips(tmp_path: Path, info: SessionInfo) -> None:
    path = tmp_path / "info.json"
    export(path, [frame(0)], info)
    assert import_(path)[0] == info


def test_the_url_is_written_redacted(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    export(path, [], replace(INFO, url="wss://bob:hunter2@example.com/ws?token=abc123&room=7"))
    text = path.read_text(encoding="utf-8")
    assert "hunter2" not in text and "abc123" not in text
    assert import_(path)[0].url == "wss://bob:REDACTED@example.com/ws?token=REDACTED&room=7"


def test_the_file_has_the_streaming_layout_and_is_one_json_document(tmp_path: Path) -> None:
    path = tmp_path / "layout.json"
    frames = [frame(0, Opcode.TEXT, b"a"), frame(1, Opcode.BINARY, b"\x00"), frame(2, Opcode.TEXT, b"c")]
    export(path, frames)
    raw = path.read_text(encoding="utf-8")
    lines = raw.split("\n")
    assert lines[0].startswith('{"format": "wsinspector-session", "version": 1, "session": {')
    assert lines[0].endswith('"frames": [')
    assert lines[1].endswith("},") and lines[2].endswith("},") and lines[3].endswith("}")
    assert lines[4:] == ["]}", ""]
    assert [json.loads(line.rstrip(","))["seq"] for line in lines[1:4]] == [0, 1, 2]
    doc = json.loads(raw)
    assert doc["format"] == FORMAT and doc["version"] == VERSION == 1
    assert list(doc) == ["format", "version", "session", "frames"]
    assert list(doc["session"]) == ["name", "url", "started_wall", "ended_wall", "status", "close_code",
                                    "close_reason", "note", "subprotocol"]


def test_frame_objects_have_the_documented_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    export(path, [frame(3, Opcode.TEXT, b"hi", OUT, masked=True, mask_key=b"\x0a\x0b\x0c\x0d", payload_length=2,
                        note="n", t_ns=1_234_567),
                  frame(4, Opcode.BINARY, b"\xff", fin=None, t_ns=2_000_000)])
    lines = path.read_text(encoding="utf-8").split("\n")
    first, second = json.loads(lines[1].rstrip(",")), json.loads(lines[2])
    assert first == {"seq": 3, "t_us": 1234.567, "dir": "out", "opcode": "text", "fin": True, "rsv1": None,
                     "rsv2": None, "rsv3": None, "masked": True, "mask_key": "0a0b0c0d", "payload_length": 2,
                     "text": "hi", "note": "n"}
    assert second == {"seq": 4, "t_us": 2000.0, "dir": "in", "opcode": "binary", "fin": None, "rsv1": None,
                      "rsv2": None, "rsv3": None, "masked": None, "mask_key": None, "payload_length": None,
                      "base64": "/w=="}
    assert '"t_us": 1234.567,' in lines[1] and '"t_us": 2000.000,' in lines[2]  # always three decimals


@pytest.mark.parametrize(
    ("opcode", "payload", "key"),
    [
        (Opcode.TEXT, b"plain", "text"),
        (Opcode.TEXT, b"", "text"),
        (Opcode.TEXT, b"\xff", "base64"),
        (Opcode.BINARY, b"plain", "base64"),
        (Opcode.BINARY, b"", "base64"),
        (Opcode.CONTINUATION, b"plain", "text"),
        (Opcode.CONTINUATION, b"\xc3", "base64"),
        (Opcode.PING, b"ping", "text"),
        (Opcode.PONG, b"\x00\xff", "base64"),
        (Opcode.CLOSE, close_payload(1000, "bye"), "base64"),  # 0x03 0xE8 is not UTF-8
        (Opcode.CLOSE, b"\x0c\x00ok", "text"),
        (Opcode.CLOSE, b"", "text"),
    ],
)
def test_text_or_base64(tmp_path: Path, opcode: Opcode, payload: bytes, key: str) -> None:
    path = tmp_path / "k.json"
    export(path, [frame(0, opcode, payload)])
    obj = json.loads(path.read_text(encoding="utf-8").split("\n")[1])
    other = "base64" if key == "text" else "text"
    assert key in obj and other not in obj
    decoded = obj["text"].encode("utf-8") if key == "text" else base64.b64decode(obj["base64"])
    assert decoded == payload


def test_progress_is_reported_every_ten_thousand_frames_and_at_the_end(tmp_path: Path) -> None:
    frames = [frame(i, Opcode.TEXT, b"%d" % i) for i in range(25_000)]
    path = tmp_path / "big.json"
    assert export(path, frames) == [10_000, 20_000, 25_000]
    assert export(path, frames[:20_000]) == [10_000, 20_000, 20_000]
    assert import_(path)[1] == imported_form(frames[:20_000])


def test_the_writer_writes_while_it_is_iterated(tmp_path: Path) -> None:
    path = tmp_path / "lazy.json"
    with path.open("w", encoding="utf-8") as fp:
        progress = write_session(fp, INFO, (frame(i) for i in range(10_001)), STARTED_NS)
        assert next(progress) == 10_000
        fp.flush()
        assert path.read_text(encoding="utf-8").count("\n") == 10_000
        assert list(progress) == [10_001]
    assert len(import_(path)[1]) == 10_001


def test_the_reader_is_lazy_and_counts_its_progress(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    export(path, [frame(i) for i in range(5)])
    with path.open(encoding="utf-8") as fp:
        info, frames = read_session(fp)
        assert info == INFO and frames.frames_read == 0
        first = next(frames)
        assert first.seq == 0 and frames.frames_read == 1
        rest = list(frames)
        assert [f.seq for f in rest] == [1, 2, 3, 4]
        assert frames.frames_read == 5
        assert frames.chars_read == len(path.read_text(encoding="utf-8"))


def test_the_file_position_can_be_read_while_frames_are_read(tmp_path: Path) -> None:
    """Progress by file position: fp.tell() must keep working (iterating a text file would disable it)."""
    path = tmp_path / "tell.json"
    export(path, [frame(i, Opcode.TEXT, b"x" * 50) for i in range(300)])
    positions = []
    with path.open(encoding="utf-8", newline="") as fp:
        _info, frames = read_session(fp)
        for _ in frames:
            positions.append(fp.tell())
    assert len(positions) == 300
    assert positions == sorted(positions) and positions[-1] < path.stat().st_size


def test_seqs_are_renumbered_densely(tmp_path: Path) -> None:
    path = tmp_path / "gaps.json"
    export(path, [frame(7), frame(9), frame(1000)])
    assert [f.seq for f in import_(path)[1]] == [0, 1, 2]


# -- other layouts ------------------------------------------------------------------------------------


def test_a_pretty_printed_file_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    export(path, ROUND_TRIP)
    doc = json.loads(path.read_text(encoding="utf-8"))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    one_line = tmp_path / "one-line.json"
    one_line.write_text(json.dumps(doc), encoding="utf-8")
    expected = import_(path)
    assert import_(pretty) == expected
    assert import_(one_line) == expected


def test_frames_pretty_printed_below_a_streaming_header_line_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    export(path, ROUND_TRIP)
    doc = json.loads(path.read_text(encoding="utf-8"))
    first_line = path.read_text(encoding="utf-8").split("\n")[0]
    hybrid = tmp_path / "hybrid.json"
    hybrid.write_text(first_line + "\n" + json.dumps(doc["frames"], indent=2)[1:] + "}\n", encoding="utf-8")
    assert import_(hybrid) == import_(path)


def test_a_hand_written_file_needs_only_the_essential_fields(tmp_path: Path) -> None:
    path = tmp_path / "hand.json"
    path.write_text(json.dumps({
        "frames": [{"t_us": 1, "dir": "out", "opcode": "text", "text": "hi", "future_field": [1, 2]},
                   {"t_us": 2.5, "dir": "in", "opcode": "binary", "base64": ""}],
        "session": {"name": "by hand", "url": "ws://h/", "started_wall": 0},
        "version": 1, "format": "wsinspector-session", "comment": "unknown keys are ignored",
    }, indent=4), encoding="utf-8")
    info, frames = import_(path)
    assert info == SessionInfo(name="by hand", url="ws://h/", started_wall=0.0)
    assert frames == [Frame(0, 1_000, OUT, Opcode.TEXT, b"hi", None),
                      Frame(1, 2_500, IN, Opcode.BINARY, b"", None)]


def test_a_byte_order_mark_and_windows_line_ends_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    export(path, ROUND_TRIP[:5])
    crlf = tmp_path / "crlf.json"
    crlf.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert import_(crlf) == import_(path)


# -- redaction ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("wss://example.com/ws", "wss://example.com/ws"),
        ("wss://example.com/ws?room=7&user=bob", "wss://example.com/ws?room=7&user=bob"),
        ("wss://example.com/ws?token=abc", "wss://example.com/ws?token=REDACTED"),
        ("wss://h/?TOKEN=abc&room=7", "wss://h/?TOKEN=REDACTED&room=7"),
        ("wss://h/?access_token=a&api_key=b&apikey=c&key=d", "wss://h/?access_token=REDACTED&api_key=REDACTED"
         "&apikey=REDACTED&key=REDACTED"),
        ("wss://h/?secret=a&password=b&passwd=c&auth=d", "wss://h/?secret=REDACTED&password=REDACTED"
         "&passwd=REDACTED&auth=REDACTED"),
        ("wss://h/?Authorization=Bearer%20x&signature=s&sig=t&jwt=u&session=v",
         "wss://h/?Authorization=REDACTED&signature=REDACTED&sig=REDACTED&jwt=REDACTED&session=REDACTED"),
        ("wss://h/?refresh_token=a&client_secret=b&x-api-key=c&apiKey=d&authToken=e&X-Amz-Signature=f",
         "wss://h/?refresh_token=REDACTED&client_secret=REDACTED&x-api-key=REDACTED&apiKey=REDACTED"
         "&authToken=REDACTED&X-Amz-Signature=REDACTED"),
        ("wss://h/?session_id=a&sessionid=b", "wss://h/?session_id=REDACTED&sessionid=REDACTED"),
        ("wss://h/?acc%65ss_token=a", "wss://h/?acc%65ss_token=REDACTED"),  # the name is compared decoded
        # look-alikes stay
        ("wss://h/?keyword=a&monkey=b&tokens_left=3&signal=4&author=me",
         "wss://h/?keyword=a&monkey=b&tokens_left=3&signal=4&author=me"),
        # encoding, order, repeats, empty values and names without a value are kept as they were
        ("wss://h/p%20q?a=%20x+y&token=&token=t2&flag&b=1;c=2",
         "wss://h/p%20q?a=%20x+y&token=REDACTED&token=REDACTED&flag&b=1;c=2"),
        ("wss://h/?token=a=b=c&x=1", "wss://h/?token=REDACTED&x=1"),
        # user info: the password goes, the user stays
        ("wss://bob:hunter2@example.com:8443/ws", "wss://bob:REDACTED@example.com:8443/ws"),
        ("wss://bob:p@ss@example.com/ws", "wss://bob:REDACTED@example.com/ws"),
        ("wss://bob:@example.com/ws", "wss://bob:REDACTED@example.com/ws"),
        ("wss://bob@example.com/ws", "wss://REDACTED@example.com/ws"),
        ("ws://h/?user=bob&pass=hunter2", "ws://h/?user=bob&pass=REDACTED"),
        ("ws://h/?passphrase=a&bearer=b&ticket=c&otp=1&hmac=ff&page=2",
         "ws://h/?passphrase=REDACTED&bearer=REDACTED&ticket=REDACTED&otp=REDACTED&hmac=REDACTED&page=2"),
        ("ws://[::1]:9000/ws?x=1", "ws://[::1]:9000/ws?x=1"),
        ("wss://u:pw@h/ws?token=t#frag", "wss://u:REDACTED@h/ws?token=REDACTED#frag"),
        ("wss://h/ws?token=t#token=frag", "wss://h/ws?token=REDACTED#token=frag"),  # fragment untouched
        ("wss://h/ws?", "wss://h/ws?"),
        ("", ""),
        ("not a url at all", "not a url at all"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


# -- reader errors ------------------------------------------------------------------------------------


def read_error(path: Path) -> SessionFileError:
    with pytest.raises(SessionFileError) as caught, path.open(encoding="utf-8") as fp:
        _info, frames = read_session(fp)
        list(frames)
    return caught.value


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"  \n\n\t\n", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
         "not a wsinspector session file (it is not valid UTF-8 text)"),
        (b"Hello, this is a plain text file.\nNothing to see.\n",
         "not a wsinspector session file (it is not a JSON object)"),
        (b"[1, 2, 3]", "not a wsinspector session file (it is not a JSON object)"),
        (b"{this is not json}", "not a wsinspector session file (it is not valid JSON)"),
        (b'{"frames": []}', 'not a wsinspector session file: it has no "format": "wsinspector-session" marker'),
        (b'{"format": "wsinspector-profile", "version": 1}', 'it has no "format": "wsinspector-session" marker'),
        (b'{"format": "wsinspector-session", "version": 2, "session": {}, "frames": [\n]}\n',
         "written by a newer version of wsinspector (format version 2); this version reads format version 1"),
        (b'{"format": "wsinspector-session", "version": 99, "whatever": true}', "newer version"),
        (b'{"format": "wsinspector-session", "version": "1", "session": {}, "frames": []}',
         "field 'version' must be a positive integer"),
        (b'{"format": "wsinspector-session", "version": 0, "session": {}, "frames": []}',
         "field 'version' must be a positive integer"),
        (b'{"format": "wsinspector-session", "version": 1, "frames": [\n]}\n', "field 'session' must be an object"),
        (b'{"format": "wsinspector-session", "version": 1, "session": {"url": "", "started_wall": 0}, "frames": [\n]}',
         "session: field 'name' is missing"),
        (b'{"format": "wsinspector-session", "version": 1, "session": {"name": 1, "url": "", "started_wall": 0}, '
         b'"frames": [\n]}', "session: field 'name' must be a string"),
        (b'{"format": "wsinspector-session", "version": 1, "session": {"name": "", "url": "", "started_wall": "x"}, '
         b'"frames": [\n]}', "session: field 'started_wall' must be a number"),
        (b'{"format": "wsinspector-session", "version": 1, "session": {"name": "", "url": "", "started_wall": 0, '
         b'"close_code": "1000"}, "frames": [\n]}', "session: field 'close_code' must be an integer or null"),
        (b'{"format": "wsinspector-session", "version": 1, "session": {"name": "", "url": "", "started_wall": 0}, '
         b'"frames": {}}', "field 'frames' must be a list"),
    ],
    ids=lambda value: value[:40] if isinstance(value, bytes) else None,
)
def test_header_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with path.open(encoding="utf-8") as fp, pytest.raises(SessionFileError) as caught:
        read_session(fp)  # the header is checked at once, before any frame is asked for
    assert message in str(caught.value)


def test_binary_garbage_read_leniently_is_still_not_a_session(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with path.open(encoding="utf-8", errors="replace") as fp, pytest.raises(SessionFileError,
                                                                            match="not a wsinspector session file"):
        read_session(fp)


GOOD = {"seq": 0, "t_us": 1.5, "dir": "in", "opcode": "text", "fin": True, "rsv1": None, "rsv2": None,
        "rsv3": None, "masked": None, "mask_key": None, "payload_length": None, "text": "ok"}


def without(key: str) -> dict[str, object]:
    return {k: v for k, v in GOOD.items() if k != key}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (without("t_us"), "field 't_us' is missing"),
        ({**GOOD, "t_us": "1.5"}, "field 't_us' must be a number"),
        ({**GOOD, "t_us": True}, "field 't_us' must be a number"),
        ({**GOOD, "t_us": float("nan")}, "field 't_us' must be a number"),
        ({**GOOD, "t_us": 1e300}, "field 't_us' is out of range"),
        ({**GOOD, "t_us": 10**20}, "field 't_us' is out of range"),
        (without("dir"), "field 'dir' is missing"),
        ({**GOOD, "dir": "sideways"}, "field 'dir' must be \"in\" or \"out\""),
        ({**GOOD, "dir": ["in"]}, "field 'dir' must be \"in\" or \"out\""),
        (without("opcode"), "field 'opcode' is missing"),
        ({**GOOD, "opcode": "TEXT"}, "field 'opcode' must be one of continuation, text, binary, close, ping, pong"),
        ({**GOOD, "opcode": 1}, "field 'opcode' must be one of"),
        ({**GOOD, "seq": "0"}, "field 'seq' must be an integer"),
        ({**GOOD, "fin": 1}, "field 'fin' must be true, false or null"),
        ({**GOOD, "rsv1": "false"}, "field 'rsv1' must be true, false or null"),
        ({**GOOD, "rsv2": 0}, "field 'rsv2' must be true, false or null"),
        ({**GOOD, "rsv3": []}, "field 'rsv3' must be true, false or null"),
        ({**GOOD, "masked": "yes"}, "field 'masked' must be true, false or null"),
        ({**GOOD, "mask_key": "xyz"}, "field 'mask_key' must be hex digits or null"),
        ({**GOOD, "mask_key": 1234}, "field 'mask_key' must be hex digits or null"),
        ({**GOOD, "payload_length": -1}, "field 'payload_length' must be a non-negative integer or null"),
        ({**GOOD, "payload_length": 2.0}, "field 'payload_length' must be a non-negative integer or null"),
        ({**GOOD, "payload_length": 2**63}, "field 'payload_length' must be a non-negative integer or null"),
        ({**GOOD, "note": 5}, "field 'note' must be a string"),
        (without("text"), "a frame needs exactly one of the fields 'text' and 'base64'"),
        ({**GOOD, "base64": "b2s="}, "a frame needs exactly one of the fields 'text' and 'base64'"),
        ({**GOOD, "text": 5}, "field 'text' must be a string"),
        ({**GOOD, "text": "\ud800"}, "field 'text' holds a lone surrogate"),
        ({**without("text"), "base64": "not base64!"}, "field 'base64' must be standard base64"),
        ({**without("text"), "base64": "b2s"}, "field 'base64' must be standard base64"),
        ({**without("text"), "base64": "b2s=b2s="}, "field 'base64' must be standard base64"),
        ([1, 2], "a frame must be a JSON object"),
        ("text", "a frame must be a JSON object"),
    ],
)
def test_frame_errors_name_the_line_and_the_field(tmp_path: Path, bad: object, message: str) -> None:
    path = tmp_path / "s.json"
    export(path, [frame(0), frame(1), frame(2)])
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = json.dumps(bad)  # the third frame, the last one (no comma)
    path.write_text("\n".join(lines), encoding="utf-8")
    with path.open(encoding="utf-8") as fp:
        _info, frames = read_session(fp)
        assert next(frames).seq == 0 and next(frames).seq == 1  # the frames before the bad one are read
        with pytest.raises(SessionFileError) as caught:
            next(frames)
    assert str(caught.value).startswith(f"line 4: frame 2: {message}")
    # The same mistake in a pretty-printed file: no line number, still the frame and the field.
    doc = {"format": FORMAT, "version": 1, "session": {"name": "", "url": "", "started_wall": 0},
           "frames": [GOOD, GOOD, bad]}
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    assert str(read_error(pretty)).startswith(f"frame 2: {message}")


def test_a_garbled_line_in_the_middle_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    export(path, [frame(i) for i in range(4)])
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2][:30] + "}},"
    path.write_text("\n".join(lines), encoding="utf-8")
    error = read_error(path)
    assert not isinstance(error, TruncatedSessionError)
    assert str(error).startswith("line 3: frame 1: not a JSON object on one line")


def test_a_missing_comma_between_frames_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    export(path, [frame(i) for i in range(3)])
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].rstrip(",")
    path.write_text("\n".join(lines), encoding="utf-8")
    assert str(read_error(path)).startswith("line 3: expected ']}' after the last frame")


def test_text_after_the_end_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    export(path, [frame(0)])
    path.write_text(path.read_text(encoding="utf-8") + "\n{}\n", encoding="utf-8")
    assert str(read_error(path)) == "line 5: unexpected text after the end of the session ']}'"


def test_invalid_utf8_in_the_middle_is_reported_after_the_frames_before_it(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    export(path, [frame(i, Opcode.TEXT, b"x" * 100) for i in range(1000)])
    raw = path.read_bytes().split(b"\n")
    raw[900] = raw[900].replace(b'"text": "', b'"text": "\xff')
    path.write_bytes(b"\n".join(raw))
    seen = 0
    with pytest.raises(SessionFileError) as caught, path.open(encoding="utf-8") as fp:
        for _ in read_session(fp)[1]:
            seen += 1
    assert 0 < seen < 899  # text is decoded in blocks: the error surfaces a little before the bad line
    assert str(caught.value) == f"after line {seen + 1}: the file is not valid UTF-8 text from here on"
    assert not isinstance(caught.value, TruncatedSessionError)


def written(tmp_path: Path, count: int) -> bytes:
    path = tmp_path / "full.json"
    export(path, [frame(i, Opcode.TEXT, b"payload %d" % i) for i in range(count)])
    return path.read_bytes()


def cut_after_line(data: bytes, lines: int) -> bytes:
    """The first ``lines`` lines of a file, each with its line end (the writer killed after a flush)."""
    return b"".join(data.splitlines(keepends=True)[:lines])


@pytest.mark.parametrize(
    ("cut", "readable"),
    [
        (lambda d: cut_after_line(d, 1), 0),  # only the header
        (lambda d: cut_after_line(d, 1)[:-1], 0),  # the header without its line end
        (lambda d: cut_after_line(d, 3), 2),  # frames 0 and 1, each with ",\n"
        (lambda d: cut_after_line(d, 3) + cut_after_line(d, 4)[len(cut_after_line(d, 3)):][:25], 2),  # mid-frame
        (lambda d: cut_after_line(d, 5)[:-2], 4),  # frame 3 complete, its ",\n" missing
        (lambda d: cut_after_line(d, 6)[:-1], 5),  # the last frame without its "\n" and no "]}"
        (lambda d: cut_after_line(d, 6), 5),  # only the "]}" missing
        (lambda d: cut_after_line(d, 6) + b"]", 5),  # "]}" cut in half
    ],
)
def test_a_truncated_file_says_so_and_how_many_frames_were_read(tmp_path: Path, cut: Callable[[bytes], bytes],
                                                                readable: int) -> None:
    data = written(tmp_path, 5)
    path = tmp_path / "cut.json"
    path.write_bytes(cut(data))
    frames_seen = []
    with pytest.raises(TruncatedSessionError) as caught, path.open(encoding="utf-8") as fp:
        _info, frames = read_session(fp)
        for f in frames:
            frames_seen.append(f)
    error = caught.value
    assert error.frames_read == readable == len(frames_seen)
    assert [f.payload for f in frames_seen] == [b"payload %d" % i for i in range(readable)]
    assert "truncated" in str(error)
    assert f"{readable} frames could be read" in str(error)


def test_a_file_cut_inside_the_header_is_truncated_not_foreign(tmp_path: Path) -> None:
    data = written(tmp_path, 2)
    path = tmp_path / "cut.json"
    path.write_bytes(data[:60])
    with path.open(encoding="utf-8") as fp, pytest.raises(TruncatedSessionError, match="truncated") as caught:
        read_session(fp)
    assert caught.value.frames_read == 0


def test_one_truncated_frame_is_reported_in_the_singular(tmp_path: Path) -> None:
    data = written(tmp_path, 3)
    path = tmp_path / "cut.json"
    path.write_bytes(cut_after_line(data, 2))
    assert "1 frame could be read" in str(read_error(path))


def test_the_example_in_the_format_documentation_imports(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "session-format.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.json"
    path.write_text(example, encoding="utf-8")
    info, frames = import_(path)
    assert "token=REDACTED" in info.url
    assert [f.opcode for f in frames] == [Opcode.TEXT, Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE]
    assert all(f.payload_length in (None, len(f.payload)) for f in frames)
    assert (frames[3].close_code, frames[3].close_reason) == (1000, "bye")
    assert frames[1].fin is None and frames[1].ts_ns == 48_211_003


def test_a_session_file_is_known_by_its_name_or_by_how_it_starts(tmp_path):
    from wsinspector.core.export import SESSION_SUFFIX, is_session_file

    named = tmp_path / f"feed{SESSION_SUFFIX}"
    named.write_text("anything", encoding="utf-8")
    ours = tmp_path / "capture.json"
    ours.write_bytes(b'\xef\xbb\xbf\n  { "format" : "wsinspector-session", "version": 1, "frames": []}')
    other = tmp_path / "other.json"
    other.write_text('{"format": "har", "log": {}}', encoding="utf-8")
    later_key = tmp_path / "later.json"
    later_key.write_text('{"version": 1, "format": "wsinspector-session"}', encoding="utf-8")
    assert is_session_file(named) and is_session_file(ours)
    assert not is_session_file(other)
    assert not is_session_file(later_key)  # what the MIME type's magic matches too: "format" first
    assert not is_session_file(tmp_path / "missing.json")
