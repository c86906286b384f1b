"""What the timeline copies: a payload as text, pretty JSON, hex or base64, and rows as JSON Lines.

Pure functions over a session: the window puts their result on the clipboard.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.payloads import PayloadError, decode_text, pretty_json
from wsinspector.core.proxy import is_proxy_session
from wsinspector.core.session import Session
from wsinspector.core.session.messages import MessageStream


class CopyError(ValueError):
    """A payload that cannot be copied in the format asked for (the message says why, for the user)."""


@dataclass(frozen=True, slots=True)
class Item:
    """What one row stands for: a frame, or the whole message it starts (fragments folded)."""

    seq: int
    direction: Direction
    opcode: Opcode
    payload: bytes
    frames: int
    #: the payload length on the wire (compressed bytes for a compressed frame)
    wire_length: int
    #: it travelled on a recording proxy's upstream hop (``header.UPSTREAM``)
    upstream: bool = False

    @property
    def is_text(self) -> bool:
        return self.opcode is Opcode.TEXT

    @property
    def sendable(self) -> bool:
        """A data message or a ping / pong can be sent again as it is."""
        return self.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.PONG)


def item_at(session: Session, seq: int, whole_message: bool) -> Item:
    """The frame ``seq``, or with ``whole_message`` the message it belongs to (a continuation included)."""
    meta = session.meta(seq)
    opcode = header.opcode(meta)
    upstream = header.upstream(session.origin(seq))
    if header.damaged(meta) or seq in session.dropped:
        return Item(seq, header.direction(meta), opcode, session.payload(seq), 1, session.size(seq), upstream)
    if whole_message and not opcode.is_control:
        message = session.message_for(seq)
        if message is not None:
            wire = sum(session.size(part) for part in message.seqs)
            return Item(message.first_seq, message.direction, message.opcode, message.payload, message.frame_count,
                        wire, message.upstream)
    data_opcode = session.data_opcode(seq) if opcode is Opcode.CONTINUATION else opcode
    return Item(seq, header.direction(meta), data_opcode, session.payload(seq), 1, session.size(seq), upstream)


def as_text(item: Item) -> str:
    text, clean = decode_text(item.payload)
    if not clean:
        raise CopyError(f"#{item.seq} is not valid UTF-8 text: copy it as hex or base64")
    return text


def as_json(item: Item) -> str:
    """The payload pretty-printed as JSON; a payload that is not JSON is refused, saying why."""
    text, clean = decode_text(item.payload)
    if not clean:
        raise CopyError(f"#{item.seq} is not JSON: not valid UTF-8")
    try:
        return pretty_json(text)
    except PayloadError as exc:
        raise CopyError(f"#{item.seq} is not JSON: {str(exc).removeprefix('Invalid JSON: ')}") from None


def is_json(item: Item) -> bool:
    try:
        as_json(item)
    except CopyError:
        return False
    return True


def as_hex(item: Item) -> str:
    return item.payload.hex(" ")


def as_base64(item: Item) -> str:
    return base64.b64encode(item.payload).decode("ascii")


#: how a row's payload is given: as text when it is clean UTF-8 of a text (or control) frame, else base64 ("auto");
#: always as text, invalid bytes replaced ("text"); always base64 ("base64")
PAYLOAD_FORMS = ("auto", "text", "base64")


def row_record(session: Session, item: Item, payload: str = "auto", limit: int | None = None,
               hops: bool = False) -> dict[str, object]:
    """One row as a JSON object: seq, direction, opcode, times, length (``frames`` and ``wire_length`` when they
    say something), and the payload as ``text`` or ``base64`` in the form ``payload`` names (:data:`PAYLOAD_FORMS`).
    With ``limit`` at most that many bytes of the payload are given, cut on a character's boundary for text, and
    ``truncated`` says that it was cut (``length`` is the whole payload's); ``note`` what the engine noted of
    the frame (one it refused: "rejected: …", its payload not kept). With ``hops`` (a recording proxy's
    session), the hop after the seq: "client" (the client <-> wsinspector) or "upstream" (wsinspector <-> the
    upstream server)."""
    ts = session.ts_ns(item.seq)
    wall = session.started_wall + (ts - session.started_ns) / 1e9
    record: dict[str, object] = {"seq": item.seq}
    if hops:
        record["hop"] = "upstream" if item.upstream else "client"
    record |= {
        "direction": item.direction.value,
        "opcode": item.opcode.label,
        "time": round((ts - session.started_ns) / 1e9, 6),
        "time_of_day": datetime.fromtimestamp(wall, UTC).isoformat(timespec="microseconds"),
        "length": len(item.payload),
    }
    if item.frames > 1:
        record["frames"] = item.frames
    if item.wire_length != len(item.payload):
        record["wire_length"] = item.wire_length
    data = item.payload if limit is None else item.payload[:max(limit, 0)]
    text, clean = decode_text(item.payload)
    as_text = payload == "text" or (payload == "auto" and clean and (
        item.is_text or item.opcode in (Opcode.CLOSE, Opcode.PING, Opcode.PONG)))
    if as_text:
        # a cut inside a character drops that character's first bytes, nothing else
        record["text"] = text if len(data) == len(item.payload) else data.decode("utf-8", "ignore" if clean
                                                                                   else "replace")
    else:
        record["base64"] = base64.b64encode(data).decode("ascii")
    if len(data) < len(item.payload):
        record["truncated"] = True
    note = session.note(item.seq)
    if note:  # a frame refused ("rejected: …"), altered by the engine, or a gap: said beside its bytes
        record["note"] = note
    return record


def json_line(session: Session, item: Item, hops: bool = False) -> str:
    """One JSON object on one line: direction, opcode, times, length, and the payload as text (valid UTF-8 of a
    text message) or base64; with ``hops``, each line's hop (:func:`row_record`)."""
    return json.dumps(row_record(session, item, hops=hops), ensure_ascii=False, separators=(",", ":"))


def json_lines(session: Session, items: list[Item]) -> str:
    hops = is_proxy_session(session.events)
    return "".join(json_line(session, item, hops) + "\n" for item in items)


def session_lines(session: Session, whole_messages: bool = True) -> Iterator[str]:
    """Every row of a session as JSON Lines, read front to back in pages: each frame, or with
    ``whole_messages`` each message (fragments folded, in the order the messages completed) and each control
    frame. A damaged frame is a line of its own and drops the message under way in its direction (and hop).
    A recording proxy's session says each line's hop."""
    hops = is_proxy_session(session.events)
    for item in session_items(session, whole_messages):
        yield json_line(session, item, hops)


def session_items(session: Session, whole_messages: bool = True, first: int = 0) -> Iterator[Item]:
    """The rows of :func:`session_lines` as items, from the frame ``first`` on (a message under way there is
    left out: its start came before ``first``)."""
    return RowReader(session, whole_messages, first).read()


class RowReader:
    """A session's rows (:func:`session_lines`' items) read as they complete, a read at a time: each
    :meth:`read` gives the rows completed since the one before, in a session that grows in between (a live
    log). A fragmented message under way at the end of a read is read again, whole, once it completes."""

    def __init__(self, session: Session, whole_messages: bool = True, first: int = 0) -> None:
        self.session = session
        self.whole_messages = whole_messages
        #: where the next read starts reading frames (a message under way keeps it at its first frame)
        self.start = max(first, 0)
        #: the rows completed by a frame before this one were given already
        self.done = self.start

    def read(self) -> Iterator[Item]:
        session, whole_messages = self.session, self.whole_messages
        stream = MessageStream()
        sizes: dict[int, int] = {}
        end = len(session)
        for frame in session.frames(self.start, end - 1):
            if session.starts_segment(frame.seq):
                stream.reset()
            fresh = frame.seq >= self.done
            if not whole_messages or frame.damaged or frame.opcode.is_control:
                if frame.damaged:
                    stream.assembler(frame.direction, frame.upstream).reset()
                opcode = frame.opcode
                if opcode is Opcode.CONTINUATION and not frame.damaged:
                    opcode = session.data_opcode(frame.seq)
                if fresh:
                    yield Item(frame.seq, frame.direction, opcode, frame.payload, 1, frame.size, frame.upstream)
                continue
            sizes[frame.seq] = frame.size
            message = stream.feed(frame.direction, frame.opcode, frame.fin, frame.seq, frame.payload,
                                  frame.upstream)
            if message is not None:
                wire = sum(sizes.pop(seq, 0) for seq in message.seqs)
                if fresh:
                    yield Item(message.first_seq, message.direction, message.opcode, message.payload,
                               message.frame_count, wire, message.upstream)
        pending = [a.pending_from for a in (*stream.assemblers.values(), *stream.upstream_assemblers.values())
                   if a.pending_from is not None]
        self.start = min(pending, default=max(end, self.start))
        self.done = max(end, self.done)


@dataclass(frozen=True, slots=True)
class RowPage:
    """A page of a session's rows that a filter lets through (:func:`row_page`)."""

    rows: list[dict[str, object]]
    #: where the next page starts (an offset among the matching rows), None when this page ends them
    next_offset: int | None


def row_page(session: Session, flt: FrameFilter, *, whole_messages: bool = True, offset: int = 0, limit: int = 50,
             payload: str = "auto", payload_limit: int | None = None, budget: int | None = None) -> RowPage:
    """The rows ``offset`` to ``offset + limit - 1`` among those of :func:`session_items` that ``flt`` lets through
    (a message is matched whole: its direction, its data opcode and its assembled payload), as
    :func:`row_record` gives them. ``budget`` bounds the payload bytes of a page: once a page's payloads reach
    it, the page ends early (at least one row is given). The session is read only as far as the page needs.
    Raises :class:`~wsinspector.core.filters.FilterError` on a bad regular expression."""
    match = flt.matcher()
    hops = is_proxy_session(session.events)
    rows: list[dict[str, object]] = []
    index = used = 0
    for item in session_items(session, whole_messages):
        if not match(header.kind(item.direction, item.opcode), item.payload):
            continue
        if index >= offset:
            if len(rows) >= limit or (budget is not None and rows and used >= budget):
                return RowPage(rows, index)
            shown = len(item.payload) if payload_limit is None else min(len(item.payload), payload_limit)
            rows.append(row_record(session, item, payload, payload_limit, hops))
            used += shown
        index += 1
    return RowPage(rows, None)
