"""JSON paths as test files and an auth login's captures write them (``$.user.id``, ``$["odd key"][0]``,
``$.items[*]``): parsing, canonical text, matching a concrete path against a pattern, and the value at a path."""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Iterable
from typing import Any


class JsonPathError(ValueError):
    """A JSON path that does not follow the syntax of :func:`parse_json_path`."""


class _Wildcard(enum.Enum):
    ANY = "*"

    def __repr__(self) -> str:
        return "WILDCARD"


#: The ``[*]`` / ``.*`` segment of a path: any array element or object member.
WILDCARD = _Wildcard.ANY
PathSegment = str | int | _Wildcard
JsonPath = tuple[PathSegment, ...]

_PATH_NAME = re.compile(r"[\w-]+")
_PATH_INDEX = re.compile(r"([0-9]+)\]")


@functools.lru_cache(maxsize=1024)
def parse_json_path(text: str) -> JsonPath:
    """Parse a path: ``$`` (the whole message) followed by any number of

    - ``.name``: an object member whose name is letters, digits, ``_`` or ``-``;
    - ``["any name"]``: an object member, the name written as a JSON string;
    - ``[3]``: an array element, counting from 0;
    - ``[*]`` or ``.*``: every element or member (only in ``ignore`` paths).
    """
    if not text.startswith("$"):
        raise JsonPathError(f"{text!r} is not a path: paths start with $, for example $.user.id")
    segments: list[PathSegment] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == ".":
            if text.startswith("*", i + 1):
                segments.append(WILDCARD)
                i += 2
                continue
            name = _PATH_NAME.match(text, i + 1)
            if not name:
                raise JsonPathError(f"{text!r}: a name must follow the '.' at character {i + 1} "
                                    '(write other names as ["name"])')
            segments.append(name.group(0))
            i = name.end()
        elif char == "[":
            if text.startswith("*]", i + 1):
                segments.append(WILDCARD)
                i += 3
            elif text.startswith('"', i + 1):
                try:
                    key, end = json.JSONDecoder().raw_decode(text, i + 1)
                except json.JSONDecodeError:
                    raise JsonPathError(f"{text!r}: the quoted name at character {i + 2} is not a valid "
                                        "JSON string") from None
                if not text.startswith("]", end):
                    raise JsonPathError(f"{text!r}: ']' expected at character {end + 1}")
                segments.append(key)
                i = end + 1
            else:
                index = _PATH_INDEX.match(text, i + 1)
                if not index:
                    raise JsonPathError(f"{text!r}: '[' at character {i + 1} must hold an index (0, 1, …), "
                                        'a * or a "quoted name", followed by ]')
                segments.append(int(index.group(1)))
                i = index.end()
        else:
            raise JsonPathError(f"{text!r}: unexpected {char!r} at character {i + 1} (expected . or [)")
    return tuple(segments)


def format_json_path(path: Iterable[PathSegment]) -> str:
    """The canonical text of a path (wildcards as ``[*]``)."""
    parts = ["$"]
    for segment in path:
        if segment is WILDCARD:
            parts.append("[*]")
        elif isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _PATH_NAME.fullmatch(segment):
            parts.append(f".{segment}")
        else:
            parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(parts)


def path_matches(pattern: JsonPath, path: JsonPath) -> bool:
    """Whether ``path`` (concrete) is ``pattern`` or lies beneath it; wildcards match any key or index."""
    if len(pattern) > len(path):
        return False
    for want, have in zip(pattern, path, strict=False):
        if want is WILDCARD:
            continue
        if type(want) is not type(have) or want != have:
            return False
    return True


def resolve_json_path(value: Any, path: JsonPath) -> Any:
    """The value at a concrete path; ``LookupError`` saying which part is missing."""
    current = value
    for depth, segment in enumerate(path):
        here = format_json_path(path[: depth + 1])
        if segment is WILDCARD:
            raise LookupError(f"{here}: a wildcard cannot select one value")
        if isinstance(segment, int):
            if not isinstance(current, list) or segment >= len(current):
                raise LookupError(f"{here} is not in the message")
        elif not isinstance(current, dict) or segment not in current:
            raise LookupError(f"{here} is not in the message")
        current = current[segment]
    return current

