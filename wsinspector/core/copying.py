"""What the timeline copies: a payload as text, pretty JSON, hex or base64, and rows as JSON Lines.

Pure functions over a session: the window puts their result on the clipboard.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

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


def json_line(session: Session, item: Item, hops: bool = False) -> str:
    """One JSON object on one line: direction, opcode, times, length, and the payload as text (valid UTF-8 of a
    text message) or base64. With ``hops`` (a recording proxy's session), the hop after the seq: "client" (the
    client <-> wsinspector) or "upstream" (wsinspector <-> the upstream server)."""
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
    text, clean = decode_text(item.payload)
    if clean and (item.is_text or item.opcode in (Opcode.CLOSE, Opcode.PING, Opcode.PONG)):
        record["text"] = text
    else:
        record["base64"] = as_base64(item)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def json_lines(session: Session, items: list[Item]) -> str:
    hops = is_proxy_session(session.events)
    return "".join(json_line(session, item, hops) + "\n" for item in items)


def session_lines(session: Session, whole_messages: bool = True) -> Iterator[str]:
    """Every row of a session as JSON Lines, read front to back in pages: each frame, or with
    ``whole_messages`` each message (fragments folded, in the order the messages completed) and each control
    frame. A damaged frame is a line of its own and drops the message under way in its direction (and hop).
    A recording proxy's session says each line's hop."""
    hops = is_proxy_session(session.events)
    stream = MessageStream()
    sizes: dict[int, int] = {}
    for frame in session.frames(0, len(session) - 1):
        if session.starts_segment(frame.seq):
            stream.reset()
        if not whole_messages or frame.damaged or frame.opcode.is_control:
            if frame.damaged:
                stream.assembler(frame.direction, frame.upstream).reset()
            opcode = frame.opcode
            if opcode is Opcode.CONTINUATION and not frame.damaged:
                opcode = session.data_opcode(frame.seq)
            yield json_line(session, Item(frame.seq, frame.direction, opcode, frame.payload, 1, frame.size,
                                          frame.upstream), hops)
            continue
        sizes[frame.seq] = frame.size
        message = stream.feed(frame.direction, frame.opcode, frame.fin, frame.seq, frame.payload, frame.upstream)
        if message is not None:
            wire = sum(sizes.pop(seq, 0) for seq in message.seqs)
            yield json_line(session, Item(message.first_seq, message.direction, message.opcode, message.payload,
                                          message.frame_count, wire, message.upstream), hops)
