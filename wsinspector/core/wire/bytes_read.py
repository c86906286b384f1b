"""Small readers of raw bytes the Wire engine needs: whether bytes are (or can still become) UTF-8, and the
start of an HTTP answer (its status line, its header lines), read without the protocol library."""

from __future__ import annotations

import codecs

from websockets.frames import apply_mask  # type: ignore[attr-defined]

__all__ = ["body_data", "can_be_utf8", "header_lines", "is_http_start", "is_utf8", "status_line", "unmasked"]


def is_utf8(data: bytes) -> bool:
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unmasked(data: bytes, key: bytes | None) -> bytes:
    return data if key is None else apply_mask(data, key)


def can_be_utf8(start: bytes) -> bool:
    """Whether some bytes could follow ``start`` to make valid UTF-8 (it may end inside a character)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(start)
    except UnicodeDecodeError:
        return False
    return True


def is_http_start(head: bytes) -> bool:
    """Whether the first bytes of an answer can be the start of an HTTP response."""
    return head[:5] == b"HTTP/"[:len(head[:5])]


def status_line(head: bytes) -> tuple[int, str] | None:
    """The status code and reason of an answer that starts as an HTTP response, or None."""
    line = head.split(b"\r\n", 1)[0]
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not (parts[1].isdigit() and len(parts[1]) == 3):
        return None
    return int(parts[1]), (parts[2] if len(parts) > 2 else b"").decode("latin-1")


def header_lines(head: bytes) -> tuple[tuple[str, str], ...]:
    """The header lines of the part of an answer kept (the last one may be cut)."""
    block = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    pairs = (line.decode("latin-1").partition(":") for line in block)
    return tuple((name.strip(), value.strip()) for name, sep, value in pairs if sep)


def body_data(headers: tuple[tuple[str, str], ...], body: bytes) -> bytes:
    """The data of an answer's body as far as it came: a chunked body's chunks without their framing, as far
    as whole chunks came; any other body as it is."""
    if not any(name.lower() == "transfer-encoding" and "chunked" in value.lower() for name, value in headers):
        return body
    data = bytearray()
    while True:
        line, sep, rest = body.partition(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip() or b"x", 16)
        except ValueError:
            break
        if not sep or size <= 0:
            break
        data += rest[:size]
        if len(rest) < size:
            break
        body = rest[size + 2:]
    return bytes(data)
