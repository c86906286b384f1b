"""Copy as NDJSON / CSV: the chosen rows with time, direction, opcode, FIN, size and the payload as text or
base64, read back by the json and csv modules as a script (jq, pandas, a spreadsheet) would."""

from __future__ import annotations

import base64
import csv
import io
import json

from wsinspector.core import copying
from wsinspector.core.copy_as import csv_rows, ndjson_rows
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.log import FrameLog


def _log() -> FrameLog:
    log = FrameLog(started_ns=1_000, started_wall=1_700_000_000.0)
    frames = [
        (Direction.IN, Opcode.TEXT, False, b'{"a": '),
        (Direction.IN, Opcode.CONTINUATION, True, b"[1]}"),
        (Direction.OUT, Opcode.BINARY, True, b"\xff\x00,\n"),
        (Direction.IN, Opcode.TEXT, True, 'caf\u00e9, "quoted"\nline'.encode()),
        (Direction.OUT, Opcode.PING, True, b"hb"),
    ]
    for seq, (direction, opcode, fin, payload) in enumerate(frames):
        log.append(Frame(seq=seq, ts_ns=1_000 + seq * 2_500_000, direction=direction, opcode=opcode,
                         payload=payload, fin=fin))
    return log


def test_frames_as_ndjson_keep_fin_and_bytes() -> None:
    log = _log()
    items = [copying.item_at(log, seq, whole_message=False) for seq in range(5)]
    rows = [json.loads(line) for line in ndjson_rows(log, items).splitlines()]
    assert [(r["direction"], r["opcode"], r["fin"], r["size"], r["encoding"]) for r in rows] == [
        ("in", "text", False, 6, "text"), ("in", "text", True, 4, "text"), ("out", "binary", True, 4, "base64"),
        ("in", "text", True, 20, "text"), ("out", "ping", True, 2, "text")]
    assert base64.b64decode(rows[2]["payload"]) == b"\xff\x00,\n"
    assert rows[3]["payload"] == 'caf\u00e9, "quoted"\nline'
    assert rows[0]["time"] == "2023-11-14T22:13:20.000000+00:00"
    assert rows[4]["time"] == "2023-11-14T22:13:20.010000+00:00"


def test_messages_as_csv_read_back_by_a_csv_reader() -> None:
    log = _log()
    items = [copying.item_at(log, seq, whole_message=True) for seq in (0, 2, 3)]
    table = list(csv.DictReader(io.StringIO(csv_rows(log, items))))
    assert list(table[0]) == ["time", "direction", "opcode", "fin", "size", "encoding", "payload"]
    assert [(r["opcode"], r["fin"], r["size"], r["payload"]) for r in table] == [
        ("text", "True", "10", '{"a": [1]}'), ("binary", "True", "4", "/wAsCg=="),
        ("text", "True", "20", 'caf\u00e9, "quoted"\nline')]
