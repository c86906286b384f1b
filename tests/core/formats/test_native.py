"""wsinspector's own connections file: secrets left out as {{variables}}, and read back to the same connections."""

from __future__ import annotations

import json

import pytest

from wsinspector.core.formats import ImportFormatError, export_connections, import_text
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake, Tls, profile_to_dict

SECRET_VALUES = ("tok-live-8f2a", "hunter2", "s3cr3t", "sig-991", "abc-777")


def _profiles() -> list[ConnectionProfile]:
    plain = ConnectionProfile(name="Echo", endpoint=Endpoint("ws://127.0.0.1:8765/"),
                              handshake=Handshake(subprotocols=("chat",), origin="https://o.example"),
                              tls=Tls(verify=False), messages=(("hello", "text", "hi"), ("blob", "hex", "00ff")))
    secret = ConnectionProfile(
        name="Feed", endpoint=Endpoint("wss://ada:hunter2@feed.example.com/ws?room=1&token=s3cr3t"),
        handshake=Handshake(headers=(("Authorization", "Bearer tok-live-8f2a"), ("X-Api-Key", "{{key}}"),
                                     ("X-Team", "blue"), ("X-Auth-Token", "Bearer {{creds}}"))),
        variables=(("key", "sig-991"), ("region", "eu"), ("creds", "abc-777")))
    return [plain, secret]


def test_no_secret_value_is_written_and_each_is_a_variable_to_fill() -> None:
    text, notes = export_connections(_profiles(), "2026-12-06T05:40:00Z", {_profiles()[0].id: ("Local",)})
    for value in SECRET_VALUES:
        assert value not in text
    document = json.loads(text)
    assert (document["format"], document["version"]) == ("wsinspector-connections", 1)
    feed = document["connections"][1]
    assert set(feed["secrets"]) == {"key", "authorization", "password", "token", "creds"}
    # a secret header that is a variable keeps its form; the variable it names is the secret
    assert feed["profile"]["handshake"]["headers"][3] == ["X-Auth-Token", "Bearer {{creds}}"]
    assert feed["profile"]["endpoint"]["url"] == "wss://ada:{{password}}@feed.example.com/ws?room=1&token={{token}}"
    assert feed["profile"]["handshake"]["headers"][0] == ["Authorization", "{{authorization}}"]
    assert notes == ["“Feed”: key, password, token, authorization, creds left out"]


def test_the_file_reads_back_as_the_same_connections() -> None:
    profiles = _profiles()
    text, _ = export_connections(profiles, "2026-12-06T05:40:00Z", {profiles[0].id: ("Local", "Echo")})
    result = import_text(text, "connections.json")
    assert result.format == "wsinspector connections"
    echo, feed = result.connections
    assert echo.folder == ("Local", "Echo")
    # everything but the id comes back as it was
    assert profile_to_dict(echo.profile) == profile_to_dict(profiles[0])
    assert echo.profile.id != profiles[0].id
    variables = dict(feed.profile.variables)
    assert variables == {"key": "", "region": "eu", "creds": "", "authorization": "", "password": "", "token": ""}
    assert feed.profile.handshake.headers[2] == ("X-Team", "blue")
    assert set(feed.secret_variables) >= {"key", "authorization", "password", "token"}
    assert any("fill in key, password, token, authorization, creds" in w for w in result.warnings)
    filled = feed.profile.with_changes(variables=tuple((n, v or f"<{n}>") for n, v in variables.items()))
    assert filled.resolved().handshake.headers[0] == ("Authorization", "<authorization>")


@pytest.mark.parametrize(("text", "message"), [
    ('{"format": "wsinspector-connections", "version": 2, "connections": []}', "version is 2: the file was "
                                                                                "written by a newer wsinspector"),
    ("{not json", "not valid JSON"),
    ("just: some: yaml", "not valid YAML"),
    ("plain words", "not a file this can import"),
])
def test_a_damaged_file_is_named(text: str, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        import_text(text, "connections.json")


def test_a_damaged_connection_is_named_and_the_others_come_in() -> None:
    good = {"folder": ["Team"], "profile": {"version": 2, "name": "ok", "endpoint": {"url": "wss://h/ok"}}}
    entries = [{"profile": 3}, {"profile": {"version": 2, "name": "x", "endpoint": {"url": 5}}}, 5,
               {"folder": "Team/Chat", "profile": good["profile"]},
               {"profile": {"version": 9, "name": "later", "endpoint": {"url": "wss://h/later"}}}, good]
    text = json.dumps({"format": "wsinspector-connections", "version": 1, "connections": entries})
    result = import_text(text, "connections.json")
    assert [(c.profile.name, c.folder) for c in result.connections] == [("ok", ("Team",))]
    assert result.errors[0] == "wsinspector connections: connections[0].profile is not an object (found a number)"
    assert result.errors[1].startswith("wsinspector connections: connections[1].profile: ")
    assert "endpoint.url" in result.errors[1]
    assert result.errors[2:] == (
        "wsinspector connections: connections[2] is not an object (found a number)",
        "wsinspector connections: connections[3].folder is not a list (found text)",
        "wsinspector connections: connections[4] (“later”) was written by a newer wsinspector (its settings' "
        "version 9): this one cannot save it")
