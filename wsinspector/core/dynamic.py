"""Dynamic values in composer messages and the templates sent from them (saved messages, periodic sends,
auto-replies): ``{{$uuid}}``, ``{{$timestamp}}``, ``{{$isoTimestamp}}``, ``{{$randomInt}}`` and ``{{$counter}}``.

They are expanded at send time, each send afresh: every ``{{$uuid}}`` and ``{{$randomInt}}`` gets a value of its
own, the time is the send's (the caller passes it in, with the random generator and the connection's counter),
and a name that is not one of these is refused naming it. ``{{variables}}`` (``core/environments.py``) are
expanded first; their names cannot start with ``$``, so the two never mix.

A message made into a saved message keeps secrets as ``{{name}}`` (``templated``): a secret variable's value
never reaches the stored form.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from wsinspector.core.environments import expand_message, expand_message_as_typed

__all__ = ["DYNAMIC_NAMES", "SendContext", "UnknownDynamicValueError", "expand_dynamic", "expand_for_send",
           "expanded_as_typed", "templated", "unknown_dynamic"]

_DYNAMIC = re.compile(r"\{\{\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: ``{{$randomInt}}``: a whole number from 0 to this, both included (as Postman)
RANDOM_INT_MAX = 1000


@dataclass(frozen=True, slots=True)
class SendContext:
    """What one send's dynamic values come from: the wall-clock time (epoch seconds), the connection's
    counter for this send (1 for its first message), and the random generator."""

    now: float
    counter: int
    rng: random.Random


_VALUES: dict[str, Callable[[SendContext], str]] = {
    "uuid": lambda c: str(uuid.UUID(int=c.rng.getrandbits(128), version=4)),
    "timestamp": lambda c: str(int(c.now)),
    "isoTimestamp": lambda c: datetime.fromtimestamp(c.now, UTC).isoformat(timespec="milliseconds")
    .replace("+00:00", "Z"),
    "randomInt": lambda c: str(c.rng.randint(0, RANDOM_INT_MAX)),
    "counter": lambda c: str(c.counter),
}
#: the dynamic values a message may use, in the order the user is told them
DYNAMIC_NAMES = tuple(_VALUES)
#: what each stands for while a message is checked as it is typed
_AS_TYPED = {"uuid": "00000000-0000-4000-8000-000000000000", "timestamp": "0",
             "isoTimestamp": "1970-01-01T00:00:00.000Z", "randomInt": "0", "counter": "1"}


class UnknownDynamicValueError(ValueError):
    """A ``{{$name}}`` that is not a dynamic value; the message names every one and the known ones."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        shown = ", ".join("{{$" + name + "}}" for name in names)
        known = ", ".join("{{$" + name + "}}" for name in DYNAMIC_NAMES)
        super().__init__(f"Unknown dynamic value{'s' if len(names) > 1 else ''} {shown} (known: {known})")


def unknown_dynamic(text: str) -> list[str]:
    """The ``{{$names}}`` of ``text`` that are no dynamic value, each once, in order."""
    return list(dict.fromkeys(m.group(1) for m in _DYNAMIC.finditer(text) if m.group(1) not in _VALUES))


def expand_dynamic(text: str, context: SendContext) -> str:
    """``text`` with each dynamic value replaced (each occurrence of ``$uuid``/``$randomInt`` afresh)."""
    unknown = unknown_dynamic(text)
    if unknown:
        raise UnknownDynamicValueError(unknown)
    return _DYNAMIC.sub(lambda m: _VALUES[m.group(1)](context), text)


def expand_for_send(text: str, variables: Mapping[str, str], context: SendContext) -> str:
    """A template as it is sent: an unknown dynamic value is refused first (``UnknownDynamicValueError``), then
    ``{{variables}}`` are expanded (``UnknownVariableError`` names every unknown one), then dynamic values."""
    unknown = unknown_dynamic(text)
    if unknown:
        raise UnknownDynamicValueError(unknown)
    return expand_dynamic(expand_message(text, variables), context)


def expanded_as_typed(text: str, variables: Mapping[str, str]) -> str:
    """A template for checking while it is typed (JSON well formed, say): unknown variables and every dynamic
    value stand as plain values; an unknown dynamic value is left as written."""
    text = expand_message_as_typed(text, variables)
    return _DYNAMIC.sub(lambda m: _AS_TYPED.get(m.group(1), m.group(0)), text)


def templated(text: str, variables: Mapping[str, str], secret_names: Collection[str]) -> str:
    """``text`` (a message as it was sent) with the value of each secret variable put back as ``{{name}}``:
    what a saved message made from a sent one keeps. Longer values first, so one that contains another is
    replaced whole; an empty value is left alone."""
    secrets = sorted(((name, variables[name]) for name in secret_names if variables.get(name)),
                     key=lambda item: -len(item[1]))
    for name, value in secrets:
        text = text.replace(value, "{{" + name + "}}")
    return text
