"""What the timeline copies, over a live log: a row as a frame or as its whole message, each format, and the
refusals a user reads."""

from __future__ import annotations

import json

import pytest

from wsinspector.core import copying
from wsinspector.core.copying import CopyError
from wsinspector.core.filters import FilterError, named_filter
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.log import FrameLog


def _log() -> FrameLog:
    log = FrameLog(started_ns=1_000, started_wall=1_700_000_000.0)
    frames = [
        (Direction.IN, Opcode.TEXT, False, b'{"a": '),
        (Direction.IN, Opcode.CONTINUATION, True, b"[1]}"),
        (Direction.OUT, Opcode.BINARY, True, b"\xff\xfe"),
        (Direction.IN, Opcode.TEXT, True, b"caf\xc3\xa9"),
    ]
    for seq, (direction, opcode, fin, payload) in enumerate(frames):
        log.append(Frame(seq=seq, ts_ns=1_000 + seq * 2_500_000, direction=direction, opcode=opcode,
                         payload=payload, fin=fin))
    return log


def test_a_fragment_alone_or_its_whole_message() -> None:
    log = _log()
    alone = copying.item_at(log, 1, whole_message=False)
    assert (alone.seq, alone.opcode, alone.payload, alone.frames) == (1, Opcode.TEXT, b"[1]}", 1)
    whole = copying.item_at(log, 1, whole_message=True)
    assert (whole.seq, whole.opcode, whole.payload, whole.frames) == (0, Opcode.TEXT, b'{"a": [1]}', 2)
    assert copying.as_json(whole) == '{\n  "a": [\n    1\n  ]\n}'
    with pytest.raises(CopyError, match=r"^#1 is not JSON: Extra data at line 1, column 4$"):
        copying.as_json(alone)


def test_each_format_and_what_cannot_be_text() -> None:
    log = _log()
    binary = copying.item_at(log, 2, whole_message=True)
    assert copying.as_hex(binary) == "ff fe" and copying.as_base64(binary) == "//4="
    with pytest.raises(CopyError, match=r"^#2 is not valid UTF-8 text: copy it as hex or base64$"):
        copying.as_text(binary)
    assert not copying.is_json(binary) and binary.sendable
    text = copying.item_at(log, 3, whole_message=False)
    assert copying.as_text(text) == "café"


def test_json_lines_one_object_a_row() -> None:
    log = _log()
    items = [copying.item_at(log, seq, whole_message=True) for seq in (0, 2, 3)]
    lines = copying.json_lines(log, items).splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0] == {"seq": 0, "direction": "in", "opcode": "text", "time": 0.0,
                          "time_of_day": "2023-11-14T22:13:20.000000+00:00", "length": 10, "frames": 2,
                          "text": '{"a": [1]}'}
    assert records[1]["base64"] == "//4=" and "text" not in records[1] and records[1]["time"] == 0.005
    assert records[2]["text"] == "café" and records[2]["length"] == 5
    # the same lines for the whole session, fragments folded
    assert [json.loads(line)["seq"] for line in copying.session_lines(log)] == [0, 2, 3]
    assert [json.loads(line)["seq"] for line in copying.session_lines(log, whole_messages=False)] == [0, 1, 2, 3]


def test_a_page_of_rows_filtered_cut_and_continued() -> None:
    """What an agent reads (``wsinspector mcp``'s read_session): messages matched whole, payloads cut on a
    character's boundary, and where the next page starts."""
    log = _log()
    page = copying.row_page(log, named_filter(direction="in"), limit=1, payload_limit=4)
    [first] = page.rows
    assert (first["seq"], first["text"], first["length"], first["truncated"]) == (0, '{"a"', 10, True)
    assert page.next_offset == 1
    rest = copying.row_page(log, named_filter(direction="in"), offset=1, payload_limit=4)
    assert [(row["seq"], row["text"]) for row in rest.rows] == [(3, "caf")] and rest.next_offset is None
    # the filter sees the whole message, not its fragments; a regular expression and a form asked for
    [whole] = copying.row_page(log, named_filter(text=r'"a": \[1\]', regex=True), payload="base64").rows
    assert whole["base64"] == "eyJhIjogWzFdfQ==" and "truncated" not in whole
    assert copying.row_page(log, named_filter(opcodes=["binary"]), payload="text").rows[0]["text"] == "\ufffd\ufffd"
    with pytest.raises(FilterError, match=r"^Unknown opcode 'txt': use continuation, text, binary, close, ping"):
        named_filter(opcodes=["txt"])
    with pytest.raises(FilterError, match=r"^Unknown direction 'up'"):
        named_filter(direction="up")


def test_a_growing_session_read_as_its_rows_complete() -> None:
    """A fragmented message under way at the end of a read comes whole in a later one; nothing comes twice."""
    log = FrameLog(started_ns=0, started_wall=0.0)
    reader = copying.RowReader(log)

    def add(direction: Direction, opcode: Opcode, fin: bool, payload: bytes) -> None:
        log.append(Frame(seq=len(log), ts_ns=len(log), direction=direction, opcode=opcode, payload=payload, fin=fin))

    add(Direction.IN, Opcode.TEXT, False, b"hel")
    add(Direction.IN, Opcode.PING, True, b"p")
    add(Direction.OUT, Opcode.TEXT, True, b"out")
    assert [(item.seq, item.payload) for item in reader.read()] == [(1, b"p"), (2, b"out")]
    add(Direction.IN, Opcode.CONTINUATION, True, b"lo")
    assert [(item.seq, item.payload, item.frames) for item in reader.read()] == [(0, b"hello", 2)]
    assert list(reader.read()) == []


def test_a_frame_the_client_refused_says_so_in_its_line() -> None:
    """A frame the engine refused is kept with its header and a note, its payload not: the line says so, so
    a reader (``wsinspector messages``, an agent) never takes it for an empty message the server sent."""
    log = _log()
    log.append(Frame(seq=4, ts_ns=20_000_000, direction=Direction.IN, opcode=Opcode.BINARY, payload=b"", fin=True,
                     payload_length=9, note="rejected (opcode 0x7, reserved): invalid opcode; payload not shown"))
    refused = json.loads(list(copying.session_lines(log))[-1])
    assert refused["note"].startswith("rejected (opcode 0x7, reserved)")
    assert (refused["length"], refused["wire_length"]) == (0, 9)
    assert all("note" not in json.loads(line) for line in list(copying.session_lines(log))[:-1])
