"""JSON paths: parsing, formatting, matching and resolving."""

from __future__ import annotations

import re

import pytest

from wsinspector.core.jsonpath import (
    WILDCARD,
    JsonPathError,
    format_json_path,
    parse_json_path,
    path_matches,
    resolve_json_path,
)


@pytest.mark.parametrize(("text", "parsed"), [
    ("$", ()),
    ("$.ts", ("ts",)),
    ("$.user.name", ("user", "name")),
    ("$.items[2].id", ("items", 2, "id")),
    ("$.items[*].id", ("items", WILDCARD, "id")),
    ("$.*.id", (WILDCARD, "id")),
    ('$["a.b"]["c d"][0]', ("a.b", "c d", 0)),
    ('$["quote \\" inside"]', ('quote " inside',)),
    ("$.naïve-key_1", ("naïve-key_1",)),
    ("$[0][1]", (0, 1)),
])
def test_json_paths_parse(text: str, parsed: tuple[object, ...]):
    assert parse_json_path(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("ts", "paths start with $"),
    ("$.", "a name must follow the '.'"),
    ("$..a", "a name must follow the '.'"),
    ("$.a b", "unexpected ' '"),
    ("$[x]", "must hold an index"),
    ("$[-1]", "must hold an index"),
    ("$[1", "must hold an index"),
    ('$["a"', "']' expected"),
    ('$["a', "not a valid JSON string"),
])
def test_bad_json_paths_say_why(text: str, message: str):
    with pytest.raises(JsonPathError, match=re.escape(message)):
        parse_json_path(text)


def test_json_path_formatting_and_matching():
    assert format_json_path(("user", 0, "first name", WILDCARD)) == '$.user[0]["first name"][*]'
    assert format_json_path(()) == "$"
    assert path_matches(parse_json_path("$.items[*].id"), ("items", 3, "id"))
    assert path_matches(parse_json_path("$.meta"), ("meta", "a", 0))  # everything beneath
    assert not path_matches(parse_json_path("$.items[*].id"), ("items", 3, "name"))
    assert not path_matches(parse_json_path("$.items[0]"), ("items", "0"))  # index is not key "0"
    assert not path_matches(parse_json_path("$.a.b"), ("a",))


def test_resolve_json_path():
    value = {"a": [{"b": 1}], "c d": None}
    assert resolve_json_path(value, ("a", 0, "b")) == 1
    assert resolve_json_path(value, ("c d",)) is None
    with pytest.raises(LookupError, match=re.escape("$.a[1] is not in the message")):
        resolve_json_path(value, ("a", 1))
    with pytest.raises(LookupError, match=re.escape("$.x is not in the message")):
        resolve_json_path(value, ("x", "y"))
