"""Turning what the user typed into bytes to send, and bytes into something to read."""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from dataclasses import dataclass
from typing import Any


class PayloadMode(enum.Enum):
    TEXT = "Text"
    JSON = "JSON"
    HEX = "Binary (hex)"
    BASE64 = "Binary (base64)"

    @property
    def is_binary(self) -> bool:
        return self in (PayloadMode.HEX, PayloadMode.BASE64)


class PayloadError(ValueError):
    """Input that cannot be encoded; ``line``/``column`` are 1-based where they are known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class EncodedPayload:
    data: bytes
    is_text: bool


def encode(mode: PayloadMode, source: str) -> EncodedPayload:
    if mode is PayloadMode.TEXT:
        return EncodedPayload(source.encode("utf-8", errors="surrogatepass"), True)
    if mode is PayloadMode.JSON:
        parse_json(source)
        return EncodedPayload(source.encode("utf-8"), True)
    if mode is PayloadMode.HEX:
        return EncodedPayload(parse_hex(source), False)
    return EncodedPayload(parse_base64(source), False)


#: how a message typed on one line says it is bytes: ``hex:`` or ``base64:`` before them (``text:``: text as is)
LINE_PREFIXES = {"hex:": PayloadMode.HEX, "base64:": PayloadMode.BASE64}


def parse_line(source: str) -> EncodedPayload:
    """A message typed on one line: ``hex:01 ff`` or ``base64:Af8=`` binary, ``text:...`` or anything else text
    (as UTF-8). PayloadError says what is wrong with the bytes, naming the prefix."""
    for prefix, mode in LINE_PREFIXES.items():
        if source.startswith(prefix):
            try:
                return encode(mode, source[len(prefix):])
            except PayloadError as exc:
                raise PayloadError(f"{prefix} {exc}") from None
    return encode(PayloadMode.TEXT, source.removeprefix("text:"))


class _NonStandardJSON(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonStandardJSON(name)


def parse_json(source: str) -> Any:
    if not source.strip():
        raise PayloadError("JSON is empty")
    try:
        return json.loads(source, parse_constant=_reject_constant)
    except _NonStandardJSON as exc:
        raise PayloadError(f"Invalid JSON: {exc} is not part of JSON (RFC 8259)") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"Invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                           exc.lineno, exc.colno) from None
    except RecursionError:
        raise PayloadError("Invalid JSON: nested too deeply") from None


def pretty_json(source: str) -> str:
    return json.dumps(parse_json(source), indent=2, ensure_ascii=False)


_HEX_TOKEN = re.compile(r"[^\s:,\-]+")


def parse_hex(source: str) -> bytes:
    """Hex digits, optionally separated by spaces, colons, commas or dashes, optional 0x prefixes."""
    digits: list[str] = []
    for token in _HEX_TOKEN.finditer(source):
        text, start = token.group(0), token.start()
        if text[:2] in ("0x", "0X"):
            text, start = text[2:], start + 2
        for offset, char in enumerate(text):
            if char not in "0123456789abcdefABCDEF":
                position = start + offset + 1
                raise PayloadError(f"Not a hex digit: {char!r} at position {position}", 1, position)
        digits.append(text)
    cleaned = "".join(digits)
    if len(cleaned) % 2:
        raise PayloadError(f"Odd number of hex digits ({len(cleaned)}): every byte needs two")
    return bytes.fromhex(cleaned)


def parse_base64(source: str) -> bytes:
    cleaned = "".join(source.split())
    urlsafe = "-" in cleaned or "_" in cleaned
    bad = re.search(r"[^A-Za-z0-9+/=_-]", cleaned)
    if bad:
        raise PayloadError(f"Not a base64 character: {bad.group(0)!r}")
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError(f"Invalid base64: {exc}") from None


def decode_text(payload: bytes) -> tuple[str, bool]:
    """UTF-8 text of a payload and whether it decoded cleanly (invalid bytes become U+FFFD)."""
    try:
        return payload.decode("utf-8"), True
    except UnicodeDecodeError:
        return payload.decode("utf-8", errors="replace"), False


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: invisible (U+FEFF) or unassigned (U+FFFE) characters that decide whether text is byte-exact: spelled out
_MARKED = {"\ufeff": "‹U+FEFF›", "\ufffe": "‹U+FFFE›"}
_MARKED_RE = re.compile("[\ufeff\ufffe]")


def preview(payload: bytes, is_text: bool, limit: int = 200) -> str:
    """One line for the timeline: text with line breaks shown as ⏎, control characters as ·, U+FEFF and
    U+FFFE spelled out (‹U+FEFF›); binary as spaced hex."""
    if not payload:
        return ""
    if is_text:
        text, _ = decode_text(payload[: limit * 4])
        text = text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎").replace("\t", " ")
        text = _CONTROL.sub("·", text)
        text = _MARKED_RE.sub(lambda m: _MARKED[m.group(0)], text)
        return text[:limit] + ("…" if len(text) > limit or len(payload) > limit * 4 else "")
    head = payload[: limit // 3]
    return head.hex(" ") + (" …" if len(payload) > len(head) else "")


def hexdump(payload: bytes, limit: int | None = None) -> str:
    """Classic 16-bytes-a-line dump: offset, hex in two groups of eight, printable ASCII."""
    data = payload if limit is None else payload[:limit]
    lines = []
    for offset in range(0, len(data), 16):
        chunk = data[offset : offset + 16]
        left = chunk[:8].hex(" ")
        right = chunk[8:].hex(" ")
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset:08x}  {left:<23}  {right:<23}  |{ascii_}|")
    if limit is not None and len(payload) > limit:
        lines.append(f"… {len(payload) - limit:,} more bytes")
    return "\n".join(lines)


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if round(size, 1) < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}"
