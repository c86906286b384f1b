"""Stored sessions as a HAR 1.2 file, in Chrome's convention for WebSocket entries, written as a stream.

Each connection of a session (a session that reconnected has one per connection) is an entry with
``_resourceType: "websocket"``, its opening handshake as the request and the 101 answer, and its data messages
in ``_webSocketMessages`` (``type`` "send"/"receive", ``time`` in seconds since the epoch, ``opcode`` 1 or 2,
``data``: the text, or base64 for binary) — what Chrome DevTools, Playwright, mitmproxy and HAR viewers read.

What HAR has no field for is kept under private keys that other readers pass over (docs/har.md):

- ``_wsinspector`` on an entry: the session (name, note, status, close code and reason, subprotocol, times),
  the connection's place in it, the handshake as the session kept it, and (on a session's first entry) its
  events;
- ``_wsinspector`` on a message: each of its frames (seq, nanoseconds since the session began, FIN, RSV1-3,
  mask, wire length, note, what sent it);
- ``_wsinspectorFrames`` on an entry: the frames that are not part of a whole data message: control frames,
  fragments of a message that never completed, damaged frames.

Our importer (:mod:`wsinspector.core.har_import`) reads them back into the same frames. The URL and the
handshake are written without secrets, as a session file's are.
"""

from __future__ import annotations

import base64
import json
import tempfile
from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from wsinspector import APP_NAME, __version__
from wsinspector.core.frames import Direction, Frame, Message, Opcode
from wsinspector.core.handshake import HANDSHAKE_EVENT, Handshake, request_target
from wsinspector.core.redact import redact_url
from wsinspector.core.session import Session
from wsinspector.core.session.messages import MessageStream
from wsinspector.core.store import SessionRecord, Store
from wsinspector.core.stored import StoredSession

__all__ = ["HAR_SUFFIX", "PRIVATE", "PRIVATE_FRAMES", "HarSession", "stored_har_session", "write_har"]

HAR_SUFFIX = ".har"
#: the private key on an entry and on a message
PRIVATE = "_wsinspector"
#: the private key on an entry listing the frames that are not part of a whole data message
PRIVATE_FRAMES = "_wsinspectorFrames"
#: the layout of the private keys; a reader refuses nothing, but knows what it reads
PRIVATE_VERSION = 1
#: write_har yields its progress every this many frames
PROGRESS_EVERY = 5_000
#: frames read from a stored session at a time
READ_PAGE = 2_000


@dataclass(frozen=True, slots=True)
class HarSession:
    """One session to write: its frames (a :class:`Session`), what the store knows of it, and optionally the
    seqs of the frames to write (a selection: a message is written when any of its frames is selected)."""

    session: Session
    name: str
    url: str
    key: str
    status: str = "closed"
    note: str = ""
    ended_wall: float | None = None
    close_code: int | None = None
    close_reason: str = ""
    subprotocol: str = ""
    #: (seq, monotonic ns, kind, text) of the session's events, as the store keeps them
    events: tuple[tuple[int, int, str, str], ...] = ()
    selection: Collection[int] | None = None


def _segments(item: HarSession) -> list[tuple[int, int, int, Handshake | None]]:
    """The session's connections (those holding a selected frame): (index, first seq, end seq exclusive, its
    handshake)."""
    count = len(item.session)
    starts = sorted({0, *(seq for seq, _ts, kind, _ in item.events if kind == "reconnect" and 0 < seq < count)})
    ends = [*starts[1:], count]
    segments = []
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        last = index == len(starts) - 1
        found = None
        for seq, _ts, kind, text in item.events:
            if kind == HANDSHAKE_EVENT and start <= seq and (seq < end or (last and seq <= end)):
                found = Handshake.from_json(text) or found
        segments.append((index, start, end, found))
    if item.selection is not None:
        chosen = sorted(item.selection)
        segments = [s for s in segments if _any_between(chosen, s[1], s[2])]
    return segments


def _any_between(sorted_seqs: list[int], first: int, end: int) -> bool:
    index = bisect_left(sorted_seqs, first)
    return index < len(sorted_seqs) and sorted_seqs[index] < end


def _dump(value: object) -> str:
    """Compact JSON, non-ASCII kept readable; a lone surrogate (which UTF-8 cannot hold) escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pairs(headers: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _handshake_of(item: HarSession, handshake: Handshake | None) -> Handshake:
    """The handshake as written: the kept one without secrets, or one made from the URL when none was kept."""
    if handshake is not None:
        return handshake.without_secrets(())
    url = redact_url(item.url)
    host = urlsplit(url).netloc.rpartition("@")[2]
    request = (("Host", host), ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"))
    response: tuple[tuple[str, str], ...] = (("Upgrade", "websocket"), ("Connection", "Upgrade"))
    if item.subprotocol:
        response += (("Sec-WebSocket-Protocol", item.subprotocol),)
    return Handshake(url=url, request_line=f"GET {request_target(url)} HTTP/1.1", request_headers=request,
                     exact=False, status=101, reason="Switching Protocols", response_headers=response)


def _entry_head(item: HarSession, index: int, start: int, end: int, handshake: Handshake | None,
                events: bool) -> str:
    session = item.session
    shown = _handshake_of(item, handshake)
    first_ts = session.ts_ns(start) if start < end else session.started_ns
    last_ts = session.ts_ns(end - 1) if start < end else first_ts
    started = session.started_wall + (first_ts - session.started_ns) / 1e9 if index else session.started_wall
    duration_ms = max(0.0, (last_ts - (first_ts if index else session.started_ns)) / 1e6)
    url = shown.url or redact_url(item.url)
    status = shown.status if shown.status is not None else 101
    private: dict[str, Any] = {
        "version": PRIVATE_VERSION,
        "session": {"key": item.key, "name": item.name, "note": item.note, "status": item.status,
                    "started_wall": session.started_wall, "ended_wall": item.ended_wall,
                    "close_code": item.close_code, "close_reason": item.close_reason,
                    "subprotocol": item.subprotocol},
        "connection": index, "first_seq": start,
        "handshake": None if handshake is None else json.loads(shown.to_json()),
    }
    if events:
        private["events"] = [[seq, ts - session.started_ns, kind, text] for seq, ts, kind, text in item.events]
    entry = {
        "startedDateTime": _iso(started),
        "time": round(duration_ms, 3),
        "request": {
            "method": "GET", "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": _pairs(shown.request_headers),
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
            "headersSize": -1, "bodySize": 0,
        },
        "response": {
            "status": status, "statusText": shown.reason, "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": _pairs(shown.response_headers or ()),
            "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1, "bodySize": 0,
        },
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": 0, "receive": 0},
        "_resourceType": "websocket",
        PRIVATE: private,
    }
    return _dump(entry)[:-1] + ',"_webSocketMessages":['


def _frame_fields(frame: Frame, session: Session, origin: int) -> dict[str, Any]:
    """What HAR cannot say of a frame; a field left out is unknown (or empty)."""
    fields: dict[str, Any] = {"seq": frame.seq, "t_ns": frame.ts_ns - session.started_ns}
    for name in ("fin", "rsv1", "rsv2", "rsv3", "masked"):
        value = getattr(frame, name)
        if value is not None:
            fields[name] = value
    if frame.mask_key is not None:
        fields["mask_key"] = frame.mask_key.hex()
    if frame.payload_length is not None:
        fields["payload_length"] = frame.payload_length
    if frame.note:
        fields["note"] = frame.note
    if origin:
        fields["origin"] = origin
    return fields


def _text_or_none(payload: bytes) -> str | None:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _message_line(message: Message, frames: list[Frame], session: Session) -> str:
    last = frames[-1]
    wall = session.started_wall + (last.ts_ns - session.started_ns) / 1e9
    parts = [_frame_fields(f, session, session.origin(f.seq)) for f in frames]
    if len(frames) > 1:
        for part, frame in zip(parts, frames, strict=True):
            part["size"] = len(frame.payload)
    private: dict[str, Any] = {"frames": parts}
    text = _text_or_none(message.payload) if message.opcode is Opcode.TEXT else None
    if text is None:
        data = base64.b64encode(message.payload).decode("ascii")
        if message.opcode is Opcode.TEXT:
            private["base64"] = True  # text that is not UTF-8: HAR has only text for it
    else:
        data = text
    record = {"type": "send" if message.direction is Direction.OUT else "receive", "time": wall,
              "opcode": int(message.opcode), "data": data, PRIVATE: private}
    return _dump(record)


def _other_line(frame: Frame, session: Session) -> str:
    record = _frame_fields(frame, session, session.origin(frame.seq))
    record["dir"] = frame.direction.value
    record["opcode"] = int(frame.opcode)
    if frame.damaged:
        record["damaged"] = True
    text = _text_or_none(frame.payload) if frame.opcode is not Opcode.BINARY else None
    if text is None:
        record["base64"] = base64.b64encode(frame.payload).decode("ascii")
    else:
        record["text"] = text
    return _dump(record)


class _Writer:
    """One connection's messages and other frames, written as its frames are read."""

    def __init__(self, fp: TextIO, spool: TextIO, item: HarSession) -> None:
        self.fp = fp
        self.spool = spool
        self.item = item
        self.selected = item.selection
        self.stream = MessageStream()
        self.pending: dict[Direction, list[Frame]] = {Direction.IN: [], Direction.OUT: []}
        self.messages = 0
        self.others = 0

    def _other(self, frame: Frame) -> None:
        if self.selected is not None and frame.seq not in self.selected:
            return
        self.spool.write(("," if self.others else "") + "\n" + _other_line(frame, self.item.session))
        self.others += 1

    def _drop(self, direction: Direction) -> None:
        for frame in self.pending[direction]:
            self._other(frame)
        self.pending[direction] = []

    def feed(self, frame: Frame) -> None:
        if frame.damaged:
            self.stream.assemblers[frame.direction].reset()
            self._drop(frame.direction)
            self._other(frame)
            return
        if frame.opcode.is_control:
            self._other(frame)
            return
        pending = self.pending[frame.direction]
        pending.append(frame)
        message = self.stream.feed(frame.direction, frame.opcode, frame.fin, frame.seq, frame.payload)
        if message is not None:
            start = len(pending) - message.frame_count
            for dropped in pending[:start]:
                self._other(dropped)
            frames = pending[start:]
            self.pending[frame.direction] = []
            if self.selected is None or any(f.seq in self.selected for f in frames):
                self.fp.write(("," if self.messages else "") + "\n" + _message_line(message, frames, self.item.session))
                self.messages += 1
        elif not self.stream.assemblers[frame.direction].in_progress:
            self._drop(frame.direction)  # the frame broke the sequence: it and what it broke are loose frames

    def finish(self) -> None:
        for direction in Direction:
            self._drop(direction)
        self.fp.write("\n],\"" + PRIVATE_FRAMES + "\":[")
        self.spool.seek(0)
        while chunk := self.spool.read(1 << 16):
            self.fp.write(chunk)
        self.fp.write("\n]}")


def write_har(fp: TextIO, items: Iterable[HarSession]) -> Iterator[int]:
    """Write a HAR file of these sessions to ``fp`` (a text stream, UTF-8). A generator: nothing is written
    until it is iterated, and it must be exhausted to complete the file. It yields the number of frames read
    so far every few thousand frames, and the total at the end. Memory stays bounded whatever the sessions'
    size: frames are read in pages and the frames that are not messages wait in a temporary file."""
    creator = {"name": APP_NAME, "version": __version__}
    fp.write('{"log":{"version":"1.2","creator":' + _dump(creator) + ',"pages":[],"entries":[')
    entries = 0
    done = 0
    for item in items:
        for written, (index, start, end, handshake) in enumerate(_segments(item)):
            fp.write(("," if entries else "") + "\n" + _entry_head(item, index, start, end, handshake, not written))
            entries += 1
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spool:
                writer = _Writer(fp, spool, item)
                for frame in (item.session.frames(start, end - 1) if end > start else ()):
                    writer.feed(frame)
                    done += 1
                    if done % PROGRESS_EVERY == 0:
                        yield done
                writer.finish()
    fp.write("\n]}}\n")
    yield done


def stored_har_session(store: Store, record: SessionRecord, selection: Collection[int] | None = None) -> HarSession:
    """A stored session, as :func:`write_har` takes it (``selection``: the seqs to write; None: every frame)."""
    return HarSession(StoredSession(store, record), name=record.name, url=record.url, key=f"{record.id}",
                      status=record.status, note=record.note, ended_wall=record.ended_wall,
                      close_code=record.close_code, close_reason=record.close_reason, subprotocol=record.subprotocol,
                      events=tuple(store.events(record.id)), selection=selection)
