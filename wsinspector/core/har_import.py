"""A HAR file's WebSocket entries as sessions: each entry's handshake and messages, ready to store.

Read: Chrome DevTools' HAR (``_resourceType: "websocket"``, ``_webSocketMessages`` with ``time`` in seconds since
the epoch), Playwright's (``time`` in milliseconds; with ``content: "attach"`` the messages are JSON lines in a
side file named by ``response.content._file``, beside the HAR or inside its .zip), mitmproxy's (an ``https://``
URL, ``.zhar`` compressed) and HTTP Toolkit's. A message of another tool is one frame (FIN set, the header bits it
did not record unknown). Our own file (:mod:`wsinspector.core.har_export`) is read back frame for frame from its
private keys: control frames, fragments, header bits, nanosecond times, events and the session's connections.

Everything that goes wrong is a :class:`HarError` of one line naming the file and the field.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zipfile
import zlib
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from wsinspector.core.formats.har import is_websocket
from wsinspector.core.formats.model import name_from_url
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.handshake import HANDSHAKE_EVENT, Handshake, request_target
from wsinspector.core.har_export import PRIVATE, PRIVATE_FRAMES

__all__ = ["MAX_BYTES", "HarConnection", "HarError", "HarFile", "NoWebSocketsError", "is_har", "read_har"]

#: the largest HAR file read (it is parsed whole, as JSON must be)
MAX_BYTES = 512 * 1024 * 1024
_MIB = 1024 * 1024
#: what Playwright names the side files of an entry's messages (``content: "attach"``)
_ATTACHED = "_file"
#: the times a message can carry: milliseconds since the epoch above the first, seconds above the second, else
#: seconds since the entry started
_MS_EPOCH = 1e11
_S_EPOCH = 1e8
_OPCODES = {1: Opcode.TEXT, 2: Opcode.BINARY, 8: Opcode.CLOSE, 9: Opcode.PING, 10: Opcode.PONG}
_TYPES = {"send": Direction.OUT, "receive": Direction.IN}


class HarError(ValueError):
    """A HAR file that cannot be imported; the message is one line, for the user."""


class NoWebSocketsError(HarError):
    """A HAR file whose entries are all plain HTTP requests."""


@dataclass(slots=True)
class HarConnection:
    """One session read from the file: what the store keeps of it, its frames (seqs from 0) and events."""

    name: str
    url: str
    started_wall: float
    where: str
    frames: list[Frame] = field(default_factory=list)
    #: (seq of the next frame, ns since the start, kind, text)
    events: list[tuple[int, int, str, str]] = field(default_factory=list)
    #: what sent a frame we sent not as the user's own send (seq → ``header.ORIGIN_BITS``), from our own file
    origins: dict[int, int] = field(default_factory=dict)
    ended_wall: float | None = None
    close_code: int | None = None
    close_reason: str = ""
    subprotocol: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class HarFile:
    """The sessions a HAR file holds, what its entries were, and one line per entry that could not be read."""

    connections: tuple[HarConnection, ...]
    creator: str
    entries: int
    warnings: tuple[str, ...] = ()


def is_har(path: Path) -> bool:
    """Whether ``path`` is named like a HAR file, or starts like one (a JSON object whose first key is "log")."""
    if path.suffix.lower() in (".har", ".zhar"):
        return True
    try:
        with path.open("rb") as fp:
            head = fp.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head.startswith(b"{") and head[1:].lstrip().startswith(b'"log"')


# -- the file ---------------------------------------------------------------------------------------------------

class _Source:
    """Where the HAR's text and its side files are: a folder, or a .zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None

    def text(self) -> str:
        name = self.path.name
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise HarError(f"cannot read {name}: {exc.strerror or exc}") from None
        if size > MAX_BYTES:
            raise HarError(f"{name}: {size // _MIB} MiB is larger than the {MAX_BYTES // _MIB} MiB a HAR file may be")
        try:
            if zipfile.is_zipfile(self.path):
                self.zip = zipfile.ZipFile(self.path)
                hars = [n for n in self.zip.namelist() if n.lower().endswith(".har")]
                if not hars:
                    raise HarError(f"{name}: a .zip without a .har file in it")
                raw = self.zip.read(hars[0])
            else:
                raw = self.path.read_bytes()
        except (OSError, zipfile.BadZipFile) as exc:
            raise HarError(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}") from None
        if raw[:1] in (b"x", b"\x78") and self.path.suffix.lower() == ".zhar":
            try:
                raw = zlib.decompress(raw)
            except zlib.error:
                raise HarError(f"{name}: a .zhar file that does not decompress") from None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise HarError(f"{name}: not a HAR file (it is not UTF-8 text)") from None

    def side_file(self, relative: str, where: str) -> str:
        """The text of a side file an entry names (beside the HAR, or in its .zip)."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            raise HarError(f"{where}: {relative!r} is not a file beside the HAR")
        try:
            if self.zip is not None:
                return self.zip.read(str(pure)).decode("utf-8")
            return (self.path.parent / pure).read_text("utf-8")
        except (OSError, KeyError, UnicodeDecodeError):
            raise HarError(f"{where}: its messages are in {relative}, which cannot be read "
                           "beside the HAR file") from None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _document(text: str, name: str) -> Mapping[str, Any]:
    stripped = text.strip()
    if not stripped:
        raise HarError(f"{name}: the file is empty")
    if not stripped.startswith("{"):
        raise HarError(f"{name}: not a HAR file (it is not a JSON object)")
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if not stripped.endswith("}"):  # a whole JSON object ends with its closing brace
            raise HarError(f"{name}: the HAR file is truncated (it ends before its JSON is complete)") from None
        raise HarError(f"{name}: not a HAR file ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise HarError(f"{name}: not a HAR file (it is nested too deeply)") from None
    log = doc.get("log") if isinstance(doc, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise HarError(f"{name}: not a HAR file (it has no log.entries list)")
    return log


def read_har(path: Path) -> HarFile:
    """The sessions of the HAR file at ``path``. HarError when there are none, naming why."""
    source = _Source(path)
    try:
        log = _document(source.text(), path.name)
        creator = log.get("creator")
        creator_name = str(creator.get("name", "")) if isinstance(creator, dict) else ""
        entries = log["entries"]
        connections: list[HarConnection] = []
        warnings: list[str] = []
        own: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
        for index, entry in enumerate(entries):
            where = f"log.entries[{index}]"
            if not isinstance(entry, dict) or not is_websocket(entry):
                continue
            try:
                private = entry.get(PRIVATE)
                if isinstance(private, dict) and isinstance(private.get("session"), dict):
                    key = str(private["session"].get("key", index))
                    if key not in own:
                        connections.append(HarConnection("", "", 0.0, where))  # its place in the order
                        own[key] = []
                    own[key].append((entry, where))
                else:
                    connections.append(_foreign(entry, where, source, creator_name))
            except HarError as exc:
                warnings.append(str(exc))
            except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError) as exc:
                warnings.append(f"{where}: cannot be read ({type(exc).__name__}: {exc})")
        placeholders = [c for c in connections if not c.url and not c.frames and not c.name]
        for slot, parts in zip(placeholders, own.values(), strict=True):
            try:
                made = _own(parts)
            except (HarError, ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:
                warnings.append(f"{parts[0][1]}: cannot be read ({exc})")
                connections.remove(slot)
                continue
            connections[connections.index(slot)] = made
    finally:
        source.close()
    if not connections:
        if warnings:
            raise HarError(f"{path.name}: {warnings[0]}")
        others = sum(1 for entry in entries if isinstance(entry, dict))
        raise NoWebSocketsError(f"{path.name}: the HAR file has no WebSocket entries ({others} other request"
                       f"{'' if others == 1 else 's'})")
    return HarFile(tuple(connections), creator_name, len(entries), tuple(f"{path.name}: {w}" for w in warnings))


# -- another tool's entry --------------------------------------------------------------------------------------

def _ws_url(url: str) -> str:
    """``https://`` (how mitmproxy writes a WebSocket's URL) as ``wss://``."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("http", "https"):
        return ("wss" if scheme.lower() == "https" else "ws") + "://" + rest
    return url


def _wall(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple((str(item["name"]), str(item.get("value", ""))) for item in value
                 if isinstance(item, dict) and isinstance(item.get("name"), str) and not item["name"].startswith(":"))


def _messages(entry: Mapping[str, Any], where: str, source: _Source) -> list[Any]:
    messages = entry.get("_webSocketMessages")
    if isinstance(messages, list):
        return messages
    response = entry.get("response")
    content = response.get("content") if isinstance(response, dict) else None
    attached = content.get(_ATTACHED) if isinstance(content, dict) else None
    if isinstance(attached, str) and attached:
        lines = []
        for number, line in enumerate(source.side_file(attached, where).splitlines()):
            if line.strip():
                try:
                    lines.append(json.loads(line))
                except json.JSONDecodeError:
                    raise HarError(f"{where}: line {number + 1} of {attached} is not JSON") from None
        return lines
    if messages is not None:
        raise HarError(f"{where}._webSocketMessages is not a list")
    return []


def _seconds(value: object, started: float) -> float | None:
    """A message's time as seconds since the epoch (None: none recorded)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    if value > _MS_EPOCH:
        return value / 1000
    if value > _S_EPOCH:
        return float(value)
    return started + value


def _payload(message: Mapping[str, Any], opcode: Opcode, where: str) -> bytes:
    data = message.get("data", "")
    if not isinstance(data, str):
        raise HarError(f"{where}.data is not text")
    if opcode is Opcode.BINARY or message.get("encoding") == "base64":  # some tools say so beside the opcode
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise HarError(f"{where}.data of a binary message is not base64" if opcode is Opcode.BINARY
                           else f"{where}.data is not the base64 its encoding says") from None
    return data.encode("utf-8", "surrogatepass")


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _foreign(entry: Mapping[str, Any], where: str, source: _Source, creator: str) -> HarConnection:
    request = _object(entry.get("request"))
    response = _object(entry.get("response"))
    url = _ws_url(str(request.get("url", "")))
    if not url:
        raise HarError(f"{where}.request.url is missing")
    raw = _messages(entry, where, source)
    started = _wall(entry.get("startedDateTime"))
    times = [_seconds(m.get("time"), started or 0.0) if isinstance(m, dict) else None for m in raw]
    known = [t for t in times if t is not None]
    if started is None:
        started = min(known) if known else 0.0
    elif known:
        started = min(started, *known)
    frames: list[Frame] = []
    previous = 0
    for number, message in enumerate(raw):
        at = f"{where}._webSocketMessages[{number}]"
        if not isinstance(message, dict):
            raise HarError(f"{at} is not an object")
        direction = _TYPES.get(str(message.get("type")))
        opcode = _OPCODES.get(message.get("opcode", 1)) if isinstance(message.get("opcode", 1), int) else None
        if direction is None or opcode is None:
            continue  # neither sent nor received (an error, a note): not a frame
        when = times[number]
        ts = previous if when is None else max(0, round((when - started) * 1e9))
        previous = ts
        frames.append(Frame(len(frames), ts, direction, opcode, _payload(message, opcode, at), True))
    status = response.get("status")
    response_headers = _headers(response.get("headers"))
    handshake = Handshake(
        url=url, request_line=f"GET {request_target(url)} HTTP/1.1", request_headers=_headers(request.get("headers")),
        exact=False, note=f"read from a HAR file{f' written by {creator}' if creator else ''}",
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        reason=str(response.get("statusText", "")), response_headers=response_headers or None,
    ).without_secrets(())
    subprotocol = next((value for name, value in response_headers if name.lower() == "sec-websocket-protocol"), "")
    ended = started + (frames[-1].ts_ns / 1e9 if frames else 0.0)
    return HarConnection(name=name_from_url(url), url=url, started_wall=started, where=where, frames=frames,
                         events=[(0, 0, HANDSHAKE_EVENT, handshake.to_json())], ended_wall=ended,
                         subprotocol=subprotocol)


# -- our own entries ---------------------------------------------------------------------------------------------

def _bits(record: Mapping[str, Any]) -> dict[str, Any]:
    bits: dict[str, Any] = {}
    for name in ("fin", "rsv1", "rsv2", "rsv3", "masked"):
        value = record.get(name)
        bits[name] = value if isinstance(value, bool) else None
    key = record.get("mask_key")
    bits["mask_key"] = bytes.fromhex(key) if isinstance(key, str) else None
    length = record.get("payload_length")
    bits["payload_length"] = length if isinstance(length, int) and not isinstance(length, bool) else None
    note = record.get("note", "")
    bits["note"] = note if isinstance(note, str) else ""
    return bits


def _origin(record: Mapping[str, Any]) -> int:
    origin = record.get("origin", 0)
    return origin if isinstance(origin, int) and not isinstance(origin, bool) else 0


def _own_message(message: Mapping[str, Any], at: str) -> Iterator[tuple[int, Frame, int]]:
    """(original seq, frame, origin) of each frame of one of our messages."""
    direction = _TYPES[str(message["type"])]
    opcode = _OPCODES[int(message["opcode"])]
    private = message[PRIVATE]
    payload = (base64.b64decode(message["data"], validate=True) if opcode is Opcode.BINARY or private.get("base64")
               else _payload(message, opcode, at))
    parts = private["frames"]
    offset = 0
    for number, part in enumerate(parts):
        size = part.get("size", len(payload) - offset) if len(parts) > 1 else len(payload)
        piece = payload[offset:offset + size]
        offset += size
        frame = Frame(0, int(part["t_ns"]), direction, opcode if number == 0 else Opcode.CONTINUATION, piece,
                      **_bits(part))
        yield int(part["seq"]), frame, _origin(part)


def _own_other(record: Mapping[str, Any]) -> tuple[int, Frame, int]:
    direction = Direction(record["dir"])
    opcode = Opcode(int(record["opcode"]))
    if "text" in record:
        payload = str(record["text"]).encode("utf-8", "surrogatepass")
    else:
        payload = base64.b64decode(record["base64"], validate=True)
    return int(record["seq"]), Frame(0, int(record["t_ns"]), direction, opcode, payload, **_bits(record)), \
        _origin(record)


def _own(parts: list[tuple[Mapping[str, Any], str]]) -> HarConnection:
    """One session of ours, from its entries (one per connection), frames at their places."""
    first, where = parts[0]
    info = first[PRIVATE]["session"]
    found: list[tuple[int, Frame, int]] = []
    events: list[tuple[int, int, str, str]] = []
    for entry, at in parts:
        private = entry[PRIVATE]
        for number, message in enumerate(entry.get("_webSocketMessages") or ()):
            found.extend(_own_message(message, f"{at}._webSocketMessages[{number}]"))
        found.extend(_own_other(record) for record in entry.get(PRIVATE_FRAMES) or ())
        for seq, t_ns, kind, text in private.get("events") or ():
            events.append((int(seq), int(t_ns), str(kind), str(text)))
    found.sort(key=lambda item: item[0])
    originals = [seq for seq, _, _ in found]
    frames = [_renumbered(frame, index) for index, (_, frame, _) in enumerate(found)]
    origins = {index: origin for index, (_, _, origin) in enumerate(found) if origin}
    # a selection leaves gaps: an event stays before the first frame written after it
    events = [(bisect_left(originals, seq), t_ns, kind, text) for seq, t_ns, kind, text in sorted(events)]
    url = str(first.get("request", {}).get("url", ""))
    code = info.get("close_code")
    ended = info.get("ended_wall")
    return HarConnection(
        name=str(info.get("name") or url), url=url, started_wall=float(info.get("started_wall") or 0.0),
        where=where, frames=frames, events=events, origins=origins,
        ended_wall=float(ended) if isinstance(ended, int | float) and not isinstance(ended, bool) else None,
        close_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        close_reason=str(info.get("close_reason") or ""), subprotocol=str(info.get("subprotocol") or ""),
        note=str(info.get("note") or ""))


def _renumbered(frame: Frame, seq: int) -> Frame:
    return replace(frame, seq=seq)
