"""What the peer answered to the upgrade, read from the start of its bytes as an HTTP response would be: whether
it can be one, its status line and the header lines kept."""

from __future__ import annotations

__all__ = ["header_lines", "is_http_start", "status_line"]


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
