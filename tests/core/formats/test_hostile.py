"""Damaged and hostile input, for every importer: each sample file with each of its values replaced in turn by
something it should not hold. An import gives connections that can be used, names what it refused, or says in
one line why the file cannot be read; it never raises anything else, and never loses the good entries of a file
for a bad one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.core.formats.conftest import SAMPLES
from wsinspector.core import folders as fo
from wsinspector.core.formats import ImportFormatError, ImportResult, import_command, import_path, import_text
from wsinspector.core.formats.model import url_problem
from wsinspector.core.formats.native import export_connections
from wsinspector.core.profiles import ConnectionProfile, Endpoint

DEEP = "@@deep@@"
#: what a value is replaced with: nothing, the wrong kinds, URLs that do not parse, numbers that do not fit,
#: control characters, nesting deeper than any parser goes
HOSTILE: list[Any] = [None, 7, -1, 1e308, True, "", [], {}, [None], {"x": None}, "ws://[::1", "wss://h:99999/x",
                      "ws://h:port/", "ws://h/\n", "\x00", "{{", "a/b\u2028c", "x" * 5000, DEEP]


def _native_sample() -> str:
    profile = ConnectionProfile(name="feed", endpoint=Endpoint("wss://feed.example.com/ws"),
                                variables=(("token", "t"),), folder="Team/Chat")
    return export_connections([profile], "2026-12-06T00:00:00Z")[0]


def _samples() -> Iterator[tuple[str, str, object]]:
    """(name, format, parsed document) of each structured sample."""
    for name, fmt in (("chrome.har", "har"), ("insomnia-v4.json", "insomnia"), ("insomnia-v5.yaml", "insomnia"),
                      ("opencollection-request.yml", "opencollection"),
                      ("opencollection-bundle.yml", "opencollection"),
                      ("postman/chat/ticker.request.yaml", "postman")):
        yield name, fmt, yaml.safe_load((SAMPLES / name).read_text())
    yield "connections.json", "wsinspector", json.loads(_native_sample())


SAMPLE_DOCUMENTS = list(_samples())


def _paths(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _replaced(document: object, path: tuple[object, ...], value: object) -> str:
    copy = json.loads(json.dumps(document, default=str))
    if not path:
        copy = value
    else:
        parent = copy
        for step in path[:-1]:
            parent = parent[step]  # type: ignore[index]
        parent[path[-1]] = value  # type: ignore[index]
    text = json.dumps(copy)
    return text.replace(json.dumps(DEEP), "[" * 100_000 + "]" * 100_000)


def _check(result: ImportResult) -> None:
    """What came in can be saved and used as it is."""
    for imported in result.connections:
        profile = imported.profile
        assert profile.name.strip(), result
        assert not url_problem(profile.url), profile.url
        for name in imported.folder:
            assert fo.folder_name(name) == name
    for line in (*result.errors, *result.warnings):
        assert "\n" not in line


def _failure(name: str, fmt: str, text: str) -> str | None:
    """Why importing ``text`` as ``fmt`` and as "auto" broke the promise, or None."""
    try:
        for chosen in (fmt, "auto"):
            try:
                result = import_text(text, Path(name).name, chosen)
            except ImportFormatError as exc:
                assert "\n" not in str(exc), str(exc)
                continue
            _check(result)
    except Exception as exc:  # every broken variant is reported, not just the first
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


# One test per sample and hostile value; it tries the value in every place of the sample (thousands of variants
# in all) and names each variant that broke.
@pytest.mark.parametrize("value", HOSTILE, ids=[f"{value!r:.12}" for value in HOSTILE])
@pytest.mark.parametrize(("name", "fmt", "document"), SAMPLE_DOCUMENTS, ids=[name for name, _, _ in SAMPLE_DOCUMENTS])
def test_a_damaged_value_is_named_never_raised(name: str, fmt: str, document: object, value: object) -> None:
    failures = []
    for path in _paths(document):
        problem = _failure(name, fmt, _replaced(document, path, value))
        if problem is not None:
            failures.append(f"{name}:{path!r}={value!r:.12}: {problem}")
    assert not failures, f"{len(failures)} damaged variants broke the import:\n" + "\n".join(failures)


@pytest.mark.parametrize("value", ["url: ws://[::1", "url: ws://h:0/", "}", "meta {", "type: ws", "\x00", "'''",
                                   "content: '''", "auth: basic", "~: x"])
def test_a_damaged_bru_line_is_named_never_raised(value: str) -> None:
    lines = (SAMPLES / "bruno" / "market" / "ticker.bru").read_text().splitlines()
    failures = []
    for line_number in range(min(30, len(lines))):
        damaged = [*lines[:line_number], value, *lines[line_number + 1:]]
        try:
            try:
                _check(import_text("\n".join(damaged), "ticker.bru"))
            except ImportFormatError as exc:
                assert "\n" not in str(exc), str(exc)
        except Exception as exc:  # every broken line is reported, not just the first
            failures.append(f"line {line_number + 1}: {type(exc).__name__}: {exc}"[:300])
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("command", [
    "websocat ws://[::1", "websocat 'wss://[::1/ws'", "wscat -c 'ws://[fe80::1'", "curl --url 'ws://h:99999/'",
    "websocat ws://h:port/", "wscat -c ws://h/x --proxy 'http://[::1'", "wscat -c ws://h/x --proxy http://p:x/",
    "curl --resolve '::' ws://h/", "curl --connect-to ':::' ws://h/", "websocat -H ':' ws://h/",
    "websocat --basic-auth \x00 ws://h/", "wscat -c", "curl", "websocat 'ws://h/\x00'", "wscat -c ftp://h/",
    "curl ws://h/#frag", "websocat ws://user:pw@[::1/",
])
def test_a_hostile_command_line_is_named_never_raised(command: str) -> None:
    try:
        result = import_command(command)
    except ImportFormatError as exc:
        assert "\n" not in str(exc)
        return
    _check(result)
    assert result.connections or result.errors


def test_a_command_whose_url_does_not_parse_is_refused_by_name() -> None:
    result = import_command("websocat ws://[::1")
    assert result.connections == ()
    assert result.errors == ("Command line (websocat): 'ws://[::1' is not a valid URL: The URL is malformed: "
                             "Invalid IPv6 URL",)
    assert "pw" not in import_command("websocat ws://user:pw@[::1/").errors[0]  # the URL is shown redacted


def test_a_har_entry_whose_url_does_not_parse_is_refused_and_the_others_come_in(tmp_path: Path) -> None:
    entries = [{"_resourceType": "websocket", "request": {"url": url, "headers": []}, "response": {"status": 101}}
               for url in ("wss://[::1/ws", "wss://good.example.com/ws", "ftp://files.example.com/")]
    (tmp_path / "v6.har").write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    result = import_path(tmp_path / "v6.har")
    assert [c.profile.url for c in result.connections] == ["wss://good.example.com/ws"]
    assert result.errors == (
        "HAR file: log.entries[0]: 'wss://[::1/ws' is not a valid URL: The URL is malformed: Invalid IPv6 URL",
        "HAR file: log.entries[2]: “files.example.com”: 'ftp://files.example.com/' is not a valid URL: "
        "Unsupported scheme 'ftp': use "
        "ws:// or wss://")


def test_a_connections_file_entry_whose_url_cannot_be_one_is_refused() -> None:
    entries = [{"folder": [], "profile": {"name": "v6", "endpoint": {"url": "ws://[::1:80/"}}},
               {"folder": [], "profile": {"name": "", "endpoint": {"url": "not a url"}}},
               {"folder": [], "profile": {"name": "port", "endpoint": {"url": "ws://h:0/"}}},
               {"folder": [], "profile": {"name": "templated", "endpoint": {"url": "ws://{{host}}:{{port}}/x"}}},
               {"folder": [], "profile": {"name": "whole", "endpoint": {"url": "{{url}}"}}},
               {"folder": [], "profile": {"name": "blank", "endpoint": {"url": ""}}}]
    text = json.dumps({"format": "wsinspector-connections", "version": 1, "connections": entries})
    result = import_text(text, "c.json")
    assert [c.profile.name for c in result.connections] == ["templated", "whole", "blank"]
    assert result.errors == (
        "wsinspector connections: connections[0]: “v6”: 'ws://[::1:80/' is not a valid URL: The URL is malformed: "
        "Invalid IPv6 URL",
        "wsinspector connections: connections[1]: 'not a url' is not a valid URL: The URL contains spaces",
        "wsinspector connections: connections[2]: “port”: 'ws://h:0/' is not a valid URL: Port 0 is not a valid "
        "destination port")


def test_a_nameless_connection_is_named_after_its_url_and_folders_are_as_they_will_be_saved() -> None:
    entries = [{"folder": ["", "a/b", "..", "  tab\there  "], "profile": {"name": "b", "endpoint": {"url": "http://h/x"}}},
               {"folder": ["   "], "profile": {"name": " ", "endpoint": {"url": "wss://feed.example.com/v1/ws"}}},
               {"folder": ["x" * 300], "profile": {"name": "long", "endpoint": {"url": "ws://h/"}}}]
    text = json.dumps({"format": "wsinspector-connections", "version": 1, "connections": entries})
    result = import_text(text, "c.json")
    b, nameless, long = result.connections
    assert (b.profile.url, b.folder) == ("ws://h/x", ("a\u2215b", "..", "tab here"))
    assert (nameless.profile.name, nameless.folder) == ("feed.example.com/v1/ws", ())
    assert long.folder == ("x" * (fo.NAME_MAX - 1) + "…",)
    assert "“b”: the URL started with http(s)://; ws(s):// used instead" in result.warnings
    assert "“b”: the folder 'a/b' is named “a∕b”" in result.warnings
    assert "“feed.example.com/v1/ws”: it had no name in the file" in result.warnings
    assert result.errors == ()


def test_text_too_deep_or_too_long_for_the_parsers_is_named() -> None:
    with pytest.raises(ImportFormatError, match="nested too deep"):
        import_text("[" * 100_000, "deep.json")
    with pytest.raises(ImportFormatError, match="not YAML this can read"):
        import_text("a: " + "1" * 5000, "long.yaml", "insomnia")
    with pytest.raises(ImportFormatError, match="not YAML this can read"):
        import_text("info: {name: x, type: websocket}\nwebsocket: {url: !!int x}\n", "bad.yml")
