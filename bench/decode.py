"""Decoded rows against raw rows: a screen of a million-frame Socket.IO session, at the core.

Builds a stored session of N frames (default 1,000,000) through Store.append_frames in a temporary directory:
a Socket.IO conversation (events both ways, acks, binary events with their attachments, Engine.IO pings and
pongs). Then, in interleaved rounds, it reads screens of ROWS consecutive rows (default 50) at random places, as
a view scrolling through the session does, each place seen for the first time (the decoding cache is cold):

- raw: each row's cells as the timeline makes them (``core.payloads.preview`` of the payload's head of 640
  bytes, as ``ui/timeline.py`` asks for it, the time, the direction and the size);
- decoded: the same, plus the row's decoded summary and protocol (``SessionDecoding.decoded``, reading the
  session through ``session_source`` as the window will).

The screens come in runs of ``--run`` (default 10) one after the other, as Page Down scrolls, each run at a new
random place and raw and decoded given different runs in turn: both pay for reading the session's pages of
frame heads as they reach new ones (a stored session keeps 256 pages of 250 frames).

Each screen is timed by the clock and by the CPU time of the thread (``time.thread_time``): on a machine shared
with other work the clock also counts the time the process was not running. Decoding is never on the ingest
path: the session is written before and untouched by it. The last line gives the p99 per screen of both, by the
clock and by CPU time, and their ratios (goal: decoded <= 2x raw and < 16 ms).

    .venv/bin/python bench/decode.py [--frames 1000000] [--rows 50] [--screens 300] [--run 10]
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from pathlib import Path

from _common import median, percentile

from wsinspector.core.decoders.registry import decoder_registry
from wsinspector.core.decoders.session import SessionDecoding, session_source
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.payloads import preview
from wsinspector.core.session import Session
from wsinspector.core.store import FrameRow, SessionRecord, SessionStatus, Store
from wsinspector.core.stored import StoredSession

BATCH = 20_000
PREVIEW_CHARS = 160
URL = "wss://bench.invalid/socket.io/?EIO=4&transport=websocket"

_META = {(d, o): header.pack(d, o, True, False, False, False, d is Direction.OUT) for d in Direction
         for o in (Opcode.TEXT, Opcode.BINARY)}


def conversation(i: int) -> list[tuple[Direction, Opcode, bytes]]:
    """A stretch of Socket.IO traffic, numbered by ``i``: 8 frames."""
    return [
        (Direction.OUT, Opcode.TEXT, b'42["chat",{"room":"r%d","text":"hello number %d"}]' % (i % 7, i)),
        (Direction.IN, Opcode.TEXT, b'42/news,["headline",{"id":%d,"title":"Markets move","tags":["a","b"]}]' % i),
        (Direction.OUT, Opcode.TEXT, b'42%d["ask",{"n":%d}]' % (i, i)),
        (Direction.IN, Opcode.TEXT, b'43%d[{"double":%d}]' % (i, 2 * i)),
        (Direction.IN, Opcode.TEXT, b'451-["upload",{"name":"f%d.bin","data":{"_placeholder":true,"num":0}}]' % i),
        (Direction.IN, Opcode.BINARY, bytes(range(i % 200, i % 200 + 48))),
        (Direction.IN, Opcode.TEXT, b"2"),
        (Direction.OUT, Opcode.TEXT, b"3"),
    ]


def build_session(store: Store, frames: int) -> SessionRecord:
    started_ns = time.monotonic_ns()
    session_id = store.create_session("socket.io", URL, time.time(), started_ns)
    opening = [(Direction.IN, Opcode.TEXT, b'0{"sid":"bench","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'),
               (Direction.OUT, Opcode.TEXT, b"40"), (Direction.IN, Opcode.TEXT, b'40{"sid":"s-bench"}')]
    seq = 0
    rows: list[FrameRow] = []
    stretch = 0
    while seq < frames:
        for direction, opcode, payload in opening if seq == 0 else conversation(stretch):
            if seq >= frames:
                break
            rows.append((seq, started_ns + seq * 1000, _META[(direction, opcode)], len(payload), None, None, payload))
            seq += 1
        stretch += seq > 3
        if len(rows) >= BATCH:
            store.append_frames(session_id, rows)
            rows = []
    if rows:
        store.append_frames(session_id, rows)
    store.finish_session(session_id, SessionStatus.CLOSED, time.time(), 1000, "")
    record = store.session(session_id)
    assert record is not None
    return record


def raw_row(session: Session, seq: int) -> tuple[str, ...]:
    meta = session.meta(seq)
    text = preview(session.payload_head(seq, PREVIEW_CHARS * 4), header.opcode(meta) is Opcode.TEXT,
                   limit=PREVIEW_CHARS)
    return (str(seq), f"{session.relative_us(seq) / 1e6:.6f}", header.direction(meta).name, f"{session.size(seq):,}",
            text)


def screen_raw(session: Session, first: int, rows: int) -> int:
    return sum(len(raw_row(session, seq)[-1]) for seq in range(first, first + rows))


def screen_decoded(session: Session, decoding: SessionDecoding, first: int, rows: int) -> int:
    total = 0
    for seq in range(first, first + rows):
        total += len(raw_row(session, seq)[-1])
        decoded = decoding.decoded(seq)
        total += len(decoded.summary) + len(decoded.protocol) if decoded is not None else 0
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--screens", type=int, default=300)
    parser.add_argument("--run", type=int, default=10, help="screens scrolled one after the other at each place")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.sqlite3")
        start = time.perf_counter()
        record = build_session(store, args.frames)
        print(f"built a stored Socket.IO session of {record.frame_count:,} frames in "
              f"{time.perf_counter() - start:.1f} s")
        session = StoredSession(store, record)
        decoding = SessionDecoding(decoder_registry(), session_source(session), url=URL)
        assert decoding.decoder is not None and decoding.decoder.name == "socket.io"
        rng = random.Random(7)
        span = args.rows * args.run
        runs = rng.sample(range(0, len(session) - span, span), 2 * -(-args.screens // args.run))
        places = [start + k * args.rows for start in runs for k in range(args.run)]
        raw_places = [p for i, p in enumerate(places) if (i // args.run) % 2 == 0][:args.screens]
        decoded_places = [p for i, p in enumerate(places) if (i // args.run) % 2 == 1][:args.screens]
        raw_ms: list[float] = []
        decoded_ms: list[float] = []
        cpu_ms: dict[str, list[float]] = {"raw": [], "decoded": []}
        undecoded = 0
        gc.collect()
        for round_number in range(args.screens):
            raw_first, decoded_first = raw_places[round_number], decoded_places[round_number]
            # interleaved, and in turn first, so that neither gets a warmer page cache
            for kind in (("raw", "decoded") if round_number % 2 else ("decoded", "raw")):
                began, began_cpu = time.perf_counter(), time.thread_time()
                if kind == "raw":
                    screen_raw(session, raw_first, args.rows)
                    raw_ms.append((time.perf_counter() - began) * 1000)
                else:
                    screen_decoded(session, decoding, decoded_first, args.rows)
                    decoded_ms.append((time.perf_counter() - began) * 1000)
                cpu_ms[kind].append((time.thread_time() - began_cpu) * 1000)
            undecoded += sum(1 for seq in range(decoded_first, decoded_first + args.rows)
                             if (d := decoding.decoded(seq)) is None or not d.ok)
        store.close()
    print(f"{args.screens} screens of {args.rows} rows, {args.run} at a time from a new place: "
          f"raw median {median(raw_ms):.2f} ms, decoded median {median(decoded_ms):.2f} ms; "
          f"rows that did not decode: {undecoded}")
    print(f"CPU time per screen: raw median {median(cpu_ms['raw']):.2f} ms, decoded median "
          f"{median(cpu_ms['decoded']):.2f} ms")
    raw99, decoded99 = percentile(raw_ms, 0.99), percentile(decoded_ms, 0.99)
    raw_cpu99, decoded_cpu99 = percentile(cpu_ms["raw"], 0.99), percentile(cpu_ms["decoded"], 0.99)
    met = "met" if decoded99 <= 2 * raw99 and decoded99 < 16 else "NOT met"
    met_cpu = "met" if decoded_cpu99 <= 2 * raw_cpu99 and decoded_cpu99 < 16 else "NOT met"
    print(f"p99 per screen: clock raw {raw99:.2f} ms, decoded {decoded99:.2f} ms, decoded/raw {decoded99 / raw99:.2f}x "
          f"({met}); CPU raw {raw_cpu99:.2f} ms, decoded {decoded_cpu99:.2f} ms, decoded/raw "
          f"{decoded_cpu99 / raw_cpu99:.2f}x ({met_cpu}; goal <= 2x and < 16 ms)")


if __name__ == "__main__":
    main()
