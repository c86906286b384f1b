"""Filters over decoded frames: a decoded field (``event=chat``, ``topic=sensors/1``, ``destination=/topic/a``,
``operation=1``, ``protocol=mqtt``) or a JSON path into the decoded tree (``$.socket.io.args[0].user = "ann"``).

A value is compared as JSON when it reads as JSON (``$.n = 3`` matches the number 3, ``= "3"`` the string),
else as text; a field's value matches exactly, or by ``~`` as a substring (``event~chat``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from wsinspector.core.decoders.base import Decoded
from wsinspector.core.jsonpath import JsonPath, JsonPathError, parse_json_path, resolve_json_path

_FIELD = re.compile(r"\s*([A-Za-z_][\w.-]*)\s*(=|~)\s*(.*?)\s*$", re.S)
_PATH = re.compile(r"\s*(\$.*?)\s*(=|~)\s*(.*?)\s*$", re.S)


class DecodedFilterError(ValueError):
    """A filter that cannot be read; the message says how to write one."""


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class DecodedFilter:
    """One condition over a decoded frame (:func:`parse_decoded_filter` makes it)."""

    field: str = ""
    path: JsonPath | None = None
    value: Any = ""
    contains: bool = False

    def matches(self, decoded: Decoded | None) -> bool:
        if decoded is None or not decoded.ok:
            return False
        if self.path is not None:
            try:
                have = resolve_json_path(decoded.tree, self.path)
            except LookupError:
                return False
            if self.contains:
                return str(self.value) in (have if isinstance(have, str) else json.dumps(have, ensure_ascii=False))
            return bool(have == self.value and type(have) is type(self.value))
        have_text = decoded.protocol if self.field == "protocol" else decoded.fields.get(self.field)
        if have_text is None:
            return False
        want = self.value if isinstance(self.value, str) else json.dumps(self.value)
        return want in have_text if self.contains else have_text == want


def parse_decoded_filter(text: str) -> DecodedFilter:
    """``name=value``, ``name~part``, ``$.path = json`` or ``$.path ~ part``; DecodedFilterError saying why not."""
    path = _PATH.fullmatch(text)
    if path:
        try:
            parsed = parse_json_path(path.group(1))
        except JsonPathError as exc:
            raise DecodedFilterError(str(exc)) from None
        return DecodedFilter(path=parsed, value=_value(path.group(3)), contains=path.group(2) == "~")
    field = _FIELD.fullmatch(text)
    if field:
        return DecodedFilter(field=field.group(1), value=field.group(3), contains=field.group(2) == "~")
    raise DecodedFilterError(f"{text!r} is not a decoded filter: write field=value (event=chat, topic=a/b, "
                             "destination=/topic/x, operation=1) or $.json.path = value")
