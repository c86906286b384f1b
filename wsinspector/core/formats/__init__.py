"""Connections from other tools' files, and our own connections file: which format a file is, and reading it.

:func:`import_path` reads a file or a collection folder, :func:`import_text` a file's text, :func:`import_command`
a pasted command line; each gives an :class:`ImportResult` or raises :class:`ImportFormatError` with one line
naming the file's kind and the field that is wrong. :func:`export_connections` writes our own file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from wsinspector.core.formats import bruno, commands, har, insomnia, native, postman
from wsinspector.core.formats.model import (
    UNREADABLE,
    Imported,
    ImportFormatError,
    ImportResult,
    Steps,
    drained,
    escaped,
    load_json,
    load_yaml,
)
from wsinspector.core.formats.native import export_connections

__all__ = ["FORMATS", "ImportFormatError", "ImportResult", "Imported", "Steps", "detect", "export_connections",
           "import_command", "import_path", "import_path_steps", "import_text", "is_connections_file"]

#: the formats one can name (``--format``), each with what it reads
FORMATS = {
    "auto": "decide from the file's content and name",
    "postman": "Postman collection v3 (a *.request.yaml file or a collection folder)",
    "insomnia": "Insomnia export v4 (JSON) or v5 collection (YAML)",
    "bruno": "Bruno .bru request file (or a collection folder)",
    "opencollection": "OpenCollection YAML (a request, a bundled collection, or a folder)",
    "har": "HAR file (its WebSocket entries)",
    "wsinspector": "wsinspector connections file (export)",
    "command": "a websocat, wscat or curl command line",
}
#: the largest file read (a HAR of a long browsing session is the big one)
MAX_BYTES = 64 * 1024 * 1024


def _parse(text: str, name: str) -> object:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        return load_json(stripped, name or "The file")
    return load_yaml(text, name or "The file")


def detect(text: str, name: str = "") -> str:
    """The format key of a file's text (``name`` helps: ``.bru``, ``.har``); "" when it is none of them."""
    return _detected(text, name)[0]


def _detected(text: str, name: str) -> tuple[str, object]:
    """The format key of a file's text, and the document it parsed to (None when it was not parsed)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".bru" or bruno.detect_bru(text):
        return "bruno", None
    if suffix not in (".json", ".har", ".yaml", ".yml") and commands.detect(text):
        return "command", None
    try:
        data = _parse(text, name)
    except ImportFormatError:
        return "", None
    for key, check in (("wsinspector", native.detect), ("insomnia", insomnia.detect), ("har", har.detect),
                       ("postman", postman.detect), ("opencollection", bruno.detect_yaml)):
        if check(data):
            return key, data
    return "", data


def _readable(shown: str, steps: Steps) -> Steps:
    """``steps``, with anything damaged input makes a reader raise told as an ImportFormatError naming
    ``shown`` (a reader names what it checks itself; this is the net under what it did not foresee), and every
    line of the report one line, whatever the file's values held."""
    try:
        result = yield from steps
    except ImportFormatError as exc:
        raise ImportFormatError(escaped(str(exc))) from None
    except UNREADABLE as exc:
        raise ImportFormatError(escaped(f"{shown}: it cannot be read ({type(exc).__name__}: {exc})")) from None
    return replace(result, warnings=tuple(map(escaped, result.warnings)), errors=tuple(map(escaped, result.errors)))


def import_text(text: str, name: str = "", fmt: str = "auto") -> ImportResult:
    """The connections in a file's text; ``fmt`` a key of FORMATS."""
    return drained(_readable(Path(name).name or "The text", _text_steps(text, name, fmt)))


def _text_steps(text: str, name: str, fmt: str) -> Steps:
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown format {fmt!r}: use {', '.join(FORMATS)}")
    data = None
    if fmt == "auto":
        fmt, data = _detected(text, name)
        if not fmt:
            _parse(text, Path(name).name)  # a file that does not parse says where
            shown = Path(name).name or "The text"
            raise ImportFormatError(f"{shown}: not a file this can import (a Postman, Insomnia, Bruno, "
                                    "OpenCollection, HAR or wsinspector connections file, or a websocat, wscat or "
                                    "curl command)")
    if fmt == "bruno":
        return bruno.read_bru(text, name)
    if fmt == "command":
        return commands.read(text)
    if data is None:
        data = _parse(text, name)
    if fmt == "har":
        return (yield from har.read_steps(data))
    if fmt == "wsinspector":
        return (yield from native.read_steps(data))
    if fmt == "insomnia":
        if isinstance(data, dict) and data.get("type") == insomnia.V5_TYPE:
            return insomnia.read_v5(data)
        return insomnia.read_v4(data)
    if fmt == "postman":
        return postman.read_request(data, name)
    return bruno.read_opencollection(data, name)


def import_command(text: str) -> ImportResult:
    return drained(_readable(commands.LABEL, _at_once(lambda: commands.read(text))))


def import_path(path: Path, fmt: str = "auto") -> ImportResult:
    """A file, or a collection folder (Postman v3, Bruno, OpenCollection). OSError when it cannot be read."""
    return drained(import_path_steps(path, fmt))


def import_path_steps(path: Path, fmt: str = "auto") -> Steps:
    """:func:`import_path` a few entries per step (what a long file in the window is read with): each step
    yields (entries read, entries in the file)."""
    return _readable(path.name, _path_steps(path, fmt))


def _at_once(read: Callable[[], ImportResult]) -> Steps:
    """What ``read()`` gives, in one step."""
    result = read()
    yield 1, 1
    return result


def _path_steps(path: Path, fmt: str) -> Steps:
    if path.is_dir():
        if fmt == "postman" or (fmt == "auto" and any(path.rglob(f"*{postman.REQUEST_SUFFIX}"))):
            return postman.read_directory(path)
        if fmt in ("auto", "bruno", "opencollection"):
            return bruno.read_directory(path)
        raise ImportFormatError(f"{path.name}: a folder; only Postman, Bruno and OpenCollection collections are "
                                "folders")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImportFormatError(f"{path.name}: {size // (1024 * 1024)} MiB is larger than the "
                                f"{MAX_BYTES // (1024 * 1024)} MiB this reads")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path.name}: not UTF-8 text") from None
    if path.name.endswith(postman.REQUEST_SUFFIX) and fmt in ("auto", "postman"):
        return postman.read_request_file(path)
    return (yield from _text_steps(text, path.name, fmt))


def is_connections_file(path: Path) -> bool:
    """Whether ``path`` is one of our connections files (by its first bytes: cheap enough for a desktop's open)."""
    try:
        with path.open("rb") as file:
            head = file.read(512)
    except OSError:
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") and f'"format": "{native.FORMAT}"'.encode() in head
