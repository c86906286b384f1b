"""Session files: export a recorded session to one JSON document and import it back.

The layout is described for users in ``docs/session-format.md``. In short, the file is one valid JSON
document written one frame per line, so it can be written and read as a stream::

    {"format": "wsinspector-session", "version": 1, "session": {...}, "frames": [
    {"seq": 0, "t_us": 0.000, "dir": "out", "opcode": "text", ..., "text": "hello"},
    {"seq": 1, "t_us": 1520.250, "dir": "in", "opcode": "binary", ..., "base64": "AAEC"}
    ]}

The reader streams files with this layout line by line and falls back to :func:`json.load` for any other
layout of a valid document (a file pretty-printed or edited by hand).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, TextIO

from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.redact import redact_url

__all__ = [
    "FORMAT",
    "NOT_A_SESSION",
    "SESSION_SUFFIX",
    "VERSION",
    "SessionFileError",
    "SessionFrames",
    "SessionInfo",
    "TruncatedSessionError",
    "is_session_file",
    "read_session",
    "redact_url",
    "write_session",
]

FORMAT = "wsinspector-session"
#: the extension a session file is saved with, and which the desktop associates with wsinspector
SESSION_SUFFIX = ".wssession.json"
#: how a session file starts, whoever wrote it: JSON with "format" as its first key (what the MIME type matches)
_SIGNATURE = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"format"\s*:\s*"' + FORMAT.encode() + rb'"')
#: the major version of the layout; readers refuse files with a greater one
VERSION = 1
#: write_session yields its progress every this many frames
PROGRESS_EVERY = 10_000


def is_session_file(path: Path) -> bool:
    """Whether ``path`` looks like a session file: named ``*.wssession.json``, or starting like one."""
    if path.name.endswith(SESSION_SUFFIX):
        return True
    try:
        with path.open("rb") as fp:
            head = fp.read(256)
    except OSError:
        return False
    return _SIGNATURE.match(head) is not None


class SessionFileError(ValueError):
    """A session file that cannot be read; the message is meant for the user."""


class TruncatedSessionError(SessionFileError):
    """The file ends before its closing ``]}``: the writer was stopped mid-way.

    ``frames_read`` frames were read (and yielded) before the end.
    """

    def __init__(self, message: str, frames_read: int) -> None:
        super().__init__(message)
        self.frames_read = frames_read


@dataclass(frozen=True, slots=True)
class SessionInfo:
    name: str
    url: str
    #: wall-clock start of the session, seconds since the Unix epoch
    started_wall: float
    ended_wall: float | None = None
    status: str = "closed"
    close_code: int | None = None
    close_reason: str = ""
    note: str = ""
    subprotocol: str = ""


# -- writing ------------------------------------------------------------------------------------------

_OPCODE_NAMES = {op: op.label for op in Opcode}
_OPCODES_BY_NAME = {op.label: op for op in Opcode}
_DIRECTION_NAMES = {Direction.IN: "in", Direction.OUT: "out"}
_DIRECTIONS_BY_NAME = {"in": Direction.IN, "out": Direction.OUT}
_JSON_BOOL = {True: "true", False: "false", None: "null"}


def _json_string(text: str) -> str:
    """A JSON string literal, non-ASCII kept readable; a lone surrogate (which UTF-8 cannot hold) escaped."""
    literal = encode_basestring(text)
    if text.isascii():
        return literal
    try:
        literal.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(text)
    return literal


def _t_us(ts_ns: int, started_ns: int) -> str:
    """Microseconds since the start with exactly three decimals, from integers (no float rounding)."""
    delta = ts_ns - started_ns
    sign = "-" if delta < 0 else ""
    whole, frac = divmod(abs(delta), 1000)
    return f"{sign}{whole}.{frac:03d}"


#: the decoded form of a frame's message, as JSON (``Decoded.as_json``), or None when it has none
DecodedOf = Callable[[int], "dict[str, Any] | None"]


def _decoded_json(decoded: dict[str, Any] | None) -> str:
    """``, "decoded": {...}`` for a frame whose message is decoded; "" else."""
    if decoded is None:
        return ""
    try:
        text = json.dumps(decoded, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return ""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in a decoded string: escaped, as a payload's text is
            text = json.dumps(decoded, allow_nan=False)
    return ', "decoded": ' + text


def _frame_line(frame: Frame, started_ns: int, decoded: str = "") -> str:
    payload = frame.payload
    text: str | None = None
    if frame.opcode is not Opcode.BINARY:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is not None:
        data = f'"text": {encode_basestring(text)}'
    else:
        data = f'"base64": "{base64.b64encode(payload).decode("ascii")}"'
    mask_key = "null" if frame.mask_key is None else f'"{frame.mask_key.hex()}"'
    length = "null" if frame.payload_length is None else str(int(frame.payload_length))
    note = f', "note": {_json_string(frame.note)}' if frame.note else ""
    return (
        f'{{"seq": {int(frame.seq)}, "t_us": {_t_us(frame.ts_ns, started_ns)}, '
        f'"dir": "{_DIRECTION_NAMES[frame.direction]}", "opcode": "{_OPCODE_NAMES[frame.opcode]}", '
        f'"fin": {_JSON_BOOL[frame.fin]}, "rsv1": {_JSON_BOOL[frame.rsv1]}, "rsv2": {_JSON_BOOL[frame.rsv2]}, '
        f'"rsv3": {_JSON_BOOL[frame.rsv3]}, "masked": {_JSON_BOOL[frame.masked]}, "mask_key": {mask_key}, '
        f'"payload_length": {length}, {data}{note}{decoded}}}'
    )


def _header_line(info: SessionInfo) -> str:
    session = {
        "name": info.name,
        "url": redact_url(info.url),
        "started_wall": info.started_wall,
        "ended_wall": info.ended_wall,
        "status": info.status,
        "close_code": info.close_code,
        "close_reason": info.close_reason,
        "note": info.note,
        "subprotocol": info.subprotocol,
    }
    header = {"format": FORMAT, "version": VERSION, "session": session}
    try:
        text = json.dumps(header, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(header, allow_nan=False)
    except ValueError:
        raise ValueError("session times must be finite numbers") from None
    return text[:-1] + ', "frames": ['


def write_session(fp: TextIO, info: SessionInfo, frames: Iterable[Frame], started_ns: int,
                  decoded: DecodedOf | None = None) -> Iterator[int]:
    """Write a session file to ``fp`` (a text stream; open it with ``encoding="utf-8"``).

    A generator: nothing is written until it is iterated, and it must be exhausted to complete the file.
    It yields the number of frames written so far every 10,000 frames, and the total once the file is
    complete. Frame times are written relative to ``started_ns`` (the monotonic clock reading at the start
    of the session). The URL is written redacted (see :func:`redact_url`). With ``decoded`` (a frame's seq → its
    message decoded, as JSON), a frame that completes a decoded message carries it as ``"decoded"``, beside its
    payload; readers ignore it.
    """
    fp.write(_header_line(info))
    count = 0
    write = fp.write
    for frame in frames:
        extra = _decoded_json(decoded(frame.seq)) if decoded is not None else ""
        write((",\n" if count else "\n") + _frame_line(frame, started_ns, extra))
        count += 1
        if count % PROGRESS_EVERY == 0:
            yield count
    write("\n]}\n")
    yield count


# -- reading ------------------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
#: how the message of a file that is no session file at all starts
NOT_A_SESSION = "This is not a wsinspector session file"
#: about 292 years either side of the start: what a signed 64-bit nanosecond count holds
_MAX_TS_NS = 2**63 - 1
#: the largest length a frame header can state (RFC 6455 section 5.2)
_MAX_LENGTH = 2**63 - 1
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _field_error(where: str, message: str) -> SessionFileError:
    return SessionFileError(f"{where}: {message}")


_TRI_STATE = ("fin", "rsv1", "rsv2", "rsv3", "masked")


def _parse_frame(obj: object, seq: int, where: str) -> Frame:  # noqa: C901, PLR0912
    """A frame from its JSON object; ``where`` prefixes error messages ("line 7: frame 5").

    JSON decoding yields exact built-in types, so ``type(x) is ...`` checks are exact here (and fast: this
    runs once per frame of a file of millions).
    """
    if not isinstance(obj, dict):
        raise _field_error(where, "a frame must be a JSON object")
    get = obj.get
    t_us: Any = get("t_us")
    kind = type(t_us)
    if kind is float and math.isfinite(t_us) and abs(t_us) <= _MAX_TS_NS // 1000:
        ts_ns = round(t_us * 1000)
    elif kind is int and abs(t_us) <= _MAX_TS_NS // 1000:
        ts_ns = t_us * 1000
    elif kind is int or (kind is float and math.isfinite(t_us)):
        raise _field_error(where, "field 't_us' is out of range")
    else:
        raise _field_error(where, "field 't_us' must be a number (microseconds since the session started)"
                           if "t_us" in obj else "field 't_us' is missing")
    raw_dir = get("dir")
    direction = _DIRECTIONS_BY_NAME.get(raw_dir) if type(raw_dir) is str else None
    if direction is None:
        raise _field_error(where, "field 'dir' must be \"in\" or \"out\"" if "dir" in obj else "field 'dir' is missing")
    raw_opcode = get("opcode")
    opcode = _OPCODES_BY_NAME.get(raw_opcode) if type(raw_opcode) is str else None
    if opcode is None:
        names = ", ".join(op.label for op in Opcode)
        raise _field_error(where, f"field 'opcode' must be one of {names}" if "opcode" in obj
                           else "field 'opcode' is missing")
    raw_seq = get("seq")
    if raw_seq is not None and type(raw_seq) is not int:
        raise _field_error(where, "field 'seq' must be an integer")
    fin, rsv1, rsv2, rsv3, masked = bits = (get("fin"), get("rsv1"), get("rsv2"), get("rsv3"), get("masked"))
    for name, value in zip(_TRI_STATE, bits, strict=True):
        if value is not None and type(value) is not bool:
            raise _field_error(where, f"field '{name}' must be true, false or null")
    mask_key = get("mask_key")
    if mask_key is not None:
        try:
            if type(mask_key) is not str:
                raise ValueError
            mask_key = bytes.fromhex(mask_key)
        except ValueError:
            raise _field_error(where, "field 'mask_key' must be hex digits or null") from None
    length = get("payload_length")
    if length is not None and (type(length) is not int or not 0 <= length <= _MAX_LENGTH):
        raise _field_error(where, "field 'payload_length' must be a non-negative integer or null")
    note = get("note", "")
    if type(note) is not str:
        raise _field_error(where, "field 'note' must be a string")
    text, data = get("text"), get("base64")
    if (text is None) == (data is None):
        raise _field_error(where, "a frame needs exactly one of the fields 'text' and 'base64'")
    if text is not None:
        if type(text) is not str:
            raise _field_error(where, "field 'text' must be a string")
        try:
            payload = text.encode("utf-8")
        except UnicodeEncodeError:
            raise _field_error(where, "field 'text' holds a lone surrogate; write such a payload as 'base64'") \
                from None
    else:
        if type(data) is not str or len(data) % 4 or not _BASE64.fullmatch(data):
            raise _field_error(where, "field 'base64' must be standard base64 (A-Z a-z 0-9 + / with = padding)")
        try:
            payload = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise _field_error(where, "field 'base64' must be standard base64") from None
    return Frame(seq, ts_ns, direction, opcode, payload, fin, rsv1, rsv2, rsv3, masked, mask_key, length, note)


def _optional(session: dict[str, Any], name: str, kinds: tuple[type, ...], default: object, what: str) -> Any:
    value = session.get(name, default)
    if value is None and default is None:
        return None
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise SessionFileError(f"session: field '{name}' must be {what}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SessionFileError(f"session: field '{name}' must be {what}")
    return value


def _parse_header(doc: object) -> SessionInfo:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SessionFileError(f'{NOT_A_SESSION}: it has no "format": "{FORMAT}" marker')
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SessionFileError("session file: field 'version' must be a positive integer")
    if version > VERSION:
        raise SessionFileError(
            f"This session file was written by a newer version of wsinspector (format version {version}); "
            f"this version reads format version {VERSION}. Update wsinspector to open it."
        )
    session = doc.get("session")
    if not isinstance(session, dict):
        raise SessionFileError("session file: field 'session' must be an object")
    for name in ("name", "url", "started_wall"):
        if name not in session:
            raise SessionFileError(f"session: field '{name}' is missing")
    return SessionInfo(
        name=_optional(session, "name", (str,), "", "a string"),
        url=_optional(session, "url", (str,), "", "a string"),
        started_wall=float(_optional(session, "started_wall", (int, float), 0.0, "a number")),
        ended_wall=(None if session.get("ended_wall") is None
                    else float(_optional(session, "ended_wall", (int, float), None, "a number or null"))),
        status=_optional(session, "status", (str,), "closed", "a string"),
        close_code=_optional(session, "close_code", (int,), None, "an integer or null"),
        close_reason=_optional(session, "close_reason", (str,), "", "a string"),
        note=_optional(session, "note", (str,), "", "a string"),
        subprotocol=_optional(session, "subprotocol", (str,), "", "a string"),
    )


class SessionFrames(Iterator[Frame]):
    """The frames of a session file, parsed one by one as they are iterated; seqs are renumbered from 0.

    ``frames_read`` counts the frames yielded so far and ``chars_read`` the characters consumed, for
    progress against the file size. Raises :class:`SessionFileError` at a bad frame, after yielding the
    frames before it, and :class:`TruncatedSessionError` when the file ends early.
    """

    def __init__(self, fp: TextIO | None, line_no: int, chars_read: int, frames: list[Any] | None = None,
                 pending: list[str] | None = None) -> None:
        self.frames_read = 0
        self.chars_read = chars_read
        self._fp = fp
        self._line_no = line_no
        self._frames = frames
        self._pending = pending or []
        self._iterator = self._stream() if frames is None else self._list()

    def __next__(self) -> Frame:
        return next(self._iterator)

    def _list(self) -> Iterator[Frame]:
        for index, obj in enumerate(self._frames or ()):
            frame = _parse_frame(obj, index, f"frame {index}")
            self.frames_read += 1
            yield frame

    def _truncated(self, how: str) -> TruncatedSessionError:
        count = self.frames_read
        return TruncatedSessionError(
            f"The session file is truncated ({how}): the program that wrote it was stopped before it finished. "
            f"{count:,} frame{'' if count == 1 else 's'} could be read.", count)

    def _stream(self) -> Iterator[Frame]:  # noqa: C901
        assert self._fp is not None
        line_no = self._line_no
        expect_more = True  # after a frame line ending with ",": another frame or the end may follow
        # readline(), not iteration: iterating a text file disables fp.tell(), which callers use for progress
        readline = self._fp.readline
        raw_decode = _DECODER.raw_decode
        while True:
            try:
                line = self._pending.pop(0) if self._pending else readline()
            except UnicodeDecodeError:
                raise SessionFileError(f"after line {line_no}: the file is not valid UTF-8 text from here on") \
                    from None
            if not line:
                raise self._truncated("its last line is missing")
            line_no += 1
            self.chars_read += len(line)
            stripped = line.strip()
            if not stripped:
                continue
            if stripped == "]}":
                break
            if not line.endswith("\n") and "]}".startswith(stripped):
                raise self._truncated("its last line is cut off")
            if not expect_more:
                raise SessionFileError(f"line {line_no}: expected ']}}' after the last frame (a frame line without "
                                       "a ',' must be the last one)")
            expect_more = stripped.endswith(",")
            body = stripped[:-1] if expect_more else stripped
            index = self.frames_read
            try:
                obj, end = raw_decode(body)
                if end != len(body):
                    raise json.JSONDecodeError("Extra data", body, end)
            except json.JSONDecodeError as exc:
                if not line.endswith("\n"):
                    raise self._truncated(f"line {line_no} is cut off") from None
                raise SessionFileError(f"line {line_no}: frame {index}: not a JSON object on one line ({exc.msg})") \
                    from None
            except RecursionError:
                raise SessionFileError(f"line {line_no}: frame {index}: nested too deeply") from None
            frame = _parse_frame(obj, index, f"line {line_no}: frame {index}")
            self.frames_read += 1
            yield frame
        try:
            while line := readline():
                line_no += 1
                self.chars_read += len(line)
                if line.strip():
                    raise SessionFileError(f"line {line_no}: unexpected text after the end of the session ']}}'")
        except UnicodeDecodeError:
            raise SessionFileError(f"after line {line_no}: the file is not valid UTF-8 text from here on") from None


def _starts_streaming(line: str) -> bool:
    """Whether the line after the header is what the streaming layout has there."""
    if line == "]}":
        return True
    body = line[:-1] if line.endswith(",") else line
    try:
        _obj, end = _DECODER.raw_decode(body)
    except (json.JSONDecodeError, RecursionError):
        return False
    return bool(end == len(body))


def read_session(fp: TextIO) -> tuple[SessionInfo, SessionFrames]:  # noqa: C901, PLR0912
    """Read a session file from ``fp`` (a text stream; open it with ``encoding="utf-8"``).

    The header is read at once and errors in it raise :class:`SessionFileError` here. The frames are parsed
    lazily as the returned iterator is consumed, numbered densely from 0, with ``ts_ns`` relative to the
    start of the session (``t_us * 1000``).
    """
    try:
        first = fp.readline()
    except UnicodeDecodeError:
        raise SessionFileError(f"{NOT_A_SESSION} (it is not valid UTF-8 text)") from None
    if first.startswith("\ufeff"):
        first = first[1:]
    stripped = first.strip()
    if stripped.endswith("[") and stripped.startswith("{"):
        try:
            header = json.loads(stripped + "]}")
        except (json.JSONDecodeError, RecursionError):
            header = None
        if isinstance(header, dict) and header.get("frames") == []:
            info = _parse_header(header)
            # The frames follow one per line, unless the file only starts like one (frames pretty-printed by
            # hand below the header line): then it is read as a whole like any other layout.
            pending: list[str] = []
            try:
                while (line := fp.readline()) and not line.strip():
                    pending.append(line)
            except UnicodeDecodeError:
                raise SessionFileError("after line 1: the file is not valid UTF-8 text from here on") from None
            pending.append(line)
            if not line.endswith("\n") or _starts_streaming(line.strip()):
                return info, SessionFrames(fp, 1, len(first), pending=pending)
            first += "".join(pending)
    # Any other layout: the whole document at once.
    if stripped and not stripped.startswith("{"):
        raise SessionFileError(f"{NOT_A_SESSION} (it is not a JSON object)")
    try:
        text = first + fp.read()
    except UnicodeDecodeError:
        raise SessionFileError(f"{NOT_A_SESSION} (it is not valid UTF-8 text)") from None
    if not text.strip():
        raise SessionFileError("The file is empty")
    if not text.lstrip().startswith("{"):
        raise SessionFileError(f"{NOT_A_SESSION} (it is not a JSON object)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if f'"{FORMAT}"' in text[:200]:
            if "\n" not in text or exc.pos >= len(text.rstrip()):
                raise TruncatedSessionError(
                    "The session file is truncated (it ends before its header or the document is complete): the "
                    "program that wrote it was stopped before it finished. 0 frames could be read.", 0) from None
            raise SessionFileError(f"The session file is damaged: {exc.msg} at line {exc.lineno}, "
                                   f"column {exc.colno}") from None
        raise SessionFileError(f"{NOT_A_SESSION} (it is not valid JSON)") from None
    except RecursionError:
        raise SessionFileError(f"{NOT_A_SESSION} (it is nested too deeply)") from None
    info = _parse_header(doc)
    frames = doc.get("frames")
    if not isinstance(frames, list):
        raise SessionFileError("session file: field 'frames' must be a list")
    return info, SessionFrames(None, 0, len(text), frames)
