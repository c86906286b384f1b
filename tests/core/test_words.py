"""Counts read as English: one of a thing is singular, every other count plural."""

from __future__ import annotations

import pytest

from wsinspector.core.words import counted, plural, shortened


@pytest.mark.parametrize(("count", "noun", "text"), [
    (0, "step", "0 steps"), (1, "step", "1 step"), (2, "step", "2 steps"), (1, "frame", "1 frame"),
    (1_200, "frame", "1,200 frames"), (1, "entry", "1 entry"), (3, "entry", "3 entries"), (2, "match", "2 matches"),
], ids=["zero", "one", "two", "one-frame", "thousands", "one-entry", "entries", "matches"])
def test_counted(count: int, noun: str, text: str) -> None:
    assert counted(count, noun) == text


def test_plural_alone() -> None:
    assert (plural(1, "byte"), plural(5, "byte")) == ("byte", "bytes")


def test_a_long_value_is_cut_with_its_size_and_a_short_one_kept() -> None:
    assert shortened("/short") == "/short"
    assert shortened("é" * 300, limit=10) == "é" * 10 + "… (600 bytes)"
