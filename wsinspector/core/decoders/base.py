"""What every decoder is and gives: the :class:`Decoder` interface a built-in or third-party decoder implements,
the frame it reads (:class:`FrameView`), the earlier and later frames of its session it may look at
(:class:`DecodeContext`) and what it answers (:class:`Decoded`)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: how far a decoder looks back or ahead in its session for the frames that give a frame its meaning
LOOK_LIMIT = 64


class DecodeError(ValueError):
    """Raised by a decoder for bytes it does not understand; the message is one line, meant for the user."""


@dataclass(frozen=True, slots=True)
class FrameView:
    """One whole message as a decoder sees it: its bytes, whether it came as text, and which way it went."""

    payload: bytes
    text: bool
    outgoing: bool = False
    #: its place in the session (0 when decoded alone)
    index: int = 0
    #: False for what is not a whole data message: a control frame, or a fragment before its message's last
    data: bool = True

    @property
    def arrow(self) -> str:
        return ">" if self.outgoing else "<"

    def as_text(self) -> str:
        """The payload as text; DecodeError when it is not UTF-8."""
        try:
            return self.payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"not UTF-8 text (byte {exc.start} is 0x{self.payload[exc.start]:02x})") from None


@dataclass(frozen=True, slots=True)
class Decoded:
    """A frame as a decoder reads it. ``tree`` is plain JSON (dicts, lists, strings, numbers, booleans, None);
    ``fields`` are what filters match (``event``, ``destination``, ``topic``, ``operation``, ``type``, ...).
    A frame that does not decode has ``error``, one line saying why, and an empty tree."""

    protocol: str
    summary: str
    tree: Any = None
    fields: Mapping[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def as_json(self) -> dict[str, Any]:
        """The decoded form as one JSON object (what ``wsinspector decode`` prints)."""
        data: dict[str, Any] = {"protocol": self.protocol, "summary": self.summary}
        if self.error:
            data["error"] = self.error
        else:
            data["fields"] = dict(self.fields)
            data["tree"] = self.tree
        return data


def failed(protocol: str, reason: str) -> Decoded:
    """A frame the decoder could not read, with the reason in one line."""
    line = " ".join(str(reason).split()) or "could not be decoded"
    return Decoded(protocol, f"not {protocol}: {line}", None, {}, line)


class DecodeContext:
    """The session around a frame, for decoders whose frames mean something only with their neighbours
    (a Socket.IO event and its binary attachments, an MQTT packet spread over frames).

    ``memo`` is the decoder's own scratch space for this session (kept as long as the session's decoding is).
    The base context knows no other frame."""

    def __init__(self) -> None:
        self.memo: MutableMapping[str, Any] = {}

    def frame(self, index: int) -> FrameView | None:
        """The frame at ``index`` in the session, or None when there is none (or it is not known yet)."""
        del index
        return None

    def before(self, frame: FrameView, limit: int = LOOK_LIMIT) -> Iterator[FrameView]:
        """The earlier frames that went the same way, newest first, at most ``limit`` (passing over at most
        ``16 * limit`` frames of the other direction)."""
        return self._walk(frame, -1, limit)

    def after(self, frame: FrameView, limit: int = LOOK_LIMIT) -> Iterator[FrameView]:
        """The later frames that went the same way, oldest first, at most ``limit``."""
        return self._walk(frame, 1, limit)

    def _walk(self, frame: FrameView, step: int, limit: int) -> Iterator[FrameView]:
        index = frame.index + step
        given = looked = 0
        # the other direction's frames are passed over, up to a bound
        while given < limit and looked < limit * 16 and index >= 0:
            other = self.frame(index)
            if other is None:
                return
            looked += 1
            if other.outgoing == frame.outgoing and other.data:
                given += 1
                yield other
            index += step


class Decoder:
    """A decoder: a class with a name and the ways it recognises its traffic, and :meth:`decode`.

    Third-party decoders subclass this and name the class in the ``wsinspector.decoders`` entry point group
    (docs/decoders.md). Recognition, strongest first: a negotiated ``subprotocols`` entry, a ``url_patterns``
    match (a regular expression searched in the URL), then :meth:`sniff` on the first frames. ``priority``
    breaks ties: the higher wins."""

    #: the short name users choose it by (lower case, no spaces): "socket.io", "mqtt"
    name: ClassVar[str] = ""
    #: what the window and the CLI call it
    title: ClassVar[str] = ""
    priority: ClassVar[int] = 0
    subprotocols: ClassVar[tuple[str, ...]] = ()
    url_patterns: ClassVar[tuple[str, ...]] = ()

    def sniff(self, frame: FrameView) -> bool:
        """Whether this frame looks like this decoder's traffic (cheap: called on a few frames)."""
        del frame
        return False

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        """The frame decoded; raise :class:`DecodeError` (or return :func:`failed`) when it is not this format."""
        raise NotImplementedError


def short(value: Any, limit: int = 80) -> str:
    """A value in compact JSON for a summary line, cut at ``limit`` characters."""
    try:
        text = _COMPACT.encode(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_bytes(value: object) -> object:
    """Bytes in a tree as ``{"$bytes": hex}``: the trees are JSON."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": bytes(value).hex()}
    raise TypeError(f"{type(value).__name__} is not JSON")


#: one encoder for every summary (json.dumps would make one per call)
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=plain_bytes)


def jsonable(value: Any, depth: int = 0) -> Any:
    """Any decoded value (msgpack or CBOR maps with non-string keys, bytes, tags, ...) as plain JSON."""
    if depth > 64:
        return "…"
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, Mapping):
        return {(k if isinstance(k, str) else short(jsonable(k, depth + 1))): jsonable(v, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, depth + 1) for v in value]
    return str(value)
