"""A session's frames as a CSV table, for a spreadsheet or pandas: one row a frame, read page by page.

Columns: ``seq``, ``time`` (UTC, ISO 8601, as Copy as CSV writes it), ``elapsed`` (seconds since the session
began), ``direction`` (in/out), ``opcode``, ``fin`` (true/false, empty when the engine could not see it),
``size`` (the payload's bytes as delivered), ``encoding`` (``text`` for the valid UTF-8 of a text frame, a ping
or a pong, ``base64`` else) and ``payload``.
"""

from __future__ import annotations

import base64
import contextlib
import csv
from datetime import UTC, datetime
from typing import TextIO

from wsinspector.core.frames import Opcode
from wsinspector.core.session import Session

__all__ = ["COLUMNS", "write_csv"]

COLUMNS = ("seq", "time", "elapsed", "direction", "opcode", "fin", "size", "encoding", "payload")
#: what is written as text when it is valid UTF-8 (a close frame's payload starts with its code: base64)
_TEXTUAL = (Opcode.TEXT, Opcode.PING, Opcode.PONG)


def write_csv(fp: TextIO, session: Session) -> int:
    """Write the table to ``fp`` (opened with ``newline=""``); the rows written."""
    writer = csv.writer(fp, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for frame in session.frames(0, len(session) - 1):
        opcode = frame.opcode
        shown = session.data_opcode(frame.seq) if opcode is Opcode.CONTINUATION and not frame.damaged else opcode
        encoding, payload = "base64", ""
        if shown in _TEXTUAL:
            with contextlib.suppress(UnicodeDecodeError):
                payload, encoding = frame.payload.decode("utf-8"), "text"
        if encoding == "base64":
            payload = base64.b64encode(frame.payload).decode("ascii")
        elapsed = (frame.ts_ns - session.started_ns) / 1e9
        wall = datetime.fromtimestamp(session.started_wall + elapsed, UTC).isoformat(timespec="microseconds")
        fin = "" if frame.fin is None else str(frame.fin).lower()
        writer.writerow((frame.seq, wall, f"{elapsed:.6f}", frame.direction.value, opcode.label, fin,
                         len(frame.payload), encoding, payload))
        count += 1
    return count
