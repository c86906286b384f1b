"""Insomnia files as Insomnia writes them.

samples/insomnia-v4.json is built from Kong/insomnia packages/insomnia/src/models/websocket-request.ts and
websocket-payload.ts (the fields and the ``ws-req``/``ws-payload`` id prefixes) and
packages/insomnia/src/common/export.ts (``_type: export``, ``__export_format: 4``, a resource's ``_type`` last);
samples/insomnia-v5.yaml from packages/insomnia/src/common/import-v5-parser.ts (``CollectionSchema``,
``WebsocketRequestSchema``: a ``meta.id`` starting ``ws-req``, folders with ``children``, ``environments.data``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.core.formats.conftest import SAMPLES
from wsinspector.core.formats import ImportFormatError, detect, import_path, import_text


def test_v4_export_gives_the_websocket_request_with_its_folder_payload_and_variables() -> None:
    result = import_path(SAMPLES / "insomnia-v4.json")
    assert result.format == "Insomnia export"
    [imported] = result.connections
    profile = imported.profile
    assert profile.name == "Ticker stream"
    assert profile.url == "wss://stream.example.com/v2/ticker?depth=10"
    # the disabled header is left out; {{ _.token }} becomes {{token}}; the subprotocol header becomes the offer
    assert profile.handshake.headers == (("Authorization", "Bearer {{token}}"), ("X-Client", "desk-7"))
    assert profile.handshake.subprotocols == ("ticker.v2", "ticker.v1")
    assert profile.messages == (("Payload", "json", '{"op": "subscribe", "channel": "BTC-USD"}'),)
    assert dict(profile.variables) == {"token": "tok-live-8f2a", "region": "eu"}
    assert imported.folder == ("Market data",)
    assert imported.secret_headers == ("Authorization",)
    assert imported.secret_variables == ("token",)
    assert profile.resolved().handshake.headers[0] == ("Authorization", "Bearer tok-live-8f2a")
    assert any("Staging" in w for w in result.warnings)
    assert any("1 request of other kinds" in w for w in result.warnings)


def test_v5_collection_gives_the_websocket_request_with_bearer_auth_as_a_header() -> None:
    result = import_path(SAMPLES / "insomnia-v5.yaml")
    assert result.format == "Insomnia collection"
    [imported] = result.connections
    profile = imported.profile
    assert profile.handshake.headers == (("X-Api-Key", "{{api_key}}"), ("Authorization", "Bearer {{token}}"))
    assert profile.handshake.origin == "https://app.example.com"
    assert imported.folder == ("Market data",)
    assert set(imported.secret_headers) == {"X-Api-Key", "Authorization"}
    assert dict(profile.resolved().handshake.headers)["X-Api-Key"] == "ak-9931"


def _with_a_second_request(data: dict[str, Any]) -> dict[str, Any]:
    second = {**data["resources"][0], "_id": "ws-req_2", "name": "Second", "url": "wss://stream.example.com/b"}
    data["resources"].append(second)
    return data


def test_a_resource_without_its_url_is_named_and_the_others_come_in() -> None:
    data = _with_a_second_request(json.loads((SAMPLES / "insomnia-v4.json").read_text()))
    del data["resources"][0]["url"]
    result = import_text(json.dumps(data), "export.json")
    assert result.errors == ("Insomnia export: resources[0].url is missing",)
    assert [c.profile.name for c in result.connections] == ["Second"]


def test_a_header_of_the_wrong_kind_is_named() -> None:
    data = _with_a_second_request(json.loads((SAMPLES / "insomnia-v4.json").read_text()))
    data["resources"][0]["headers"] = {"Authorization": "x"}
    result = import_text(json.dumps(data), "export.json")
    assert result.errors == ("Insomnia export: resources[0].headers is not a list (found an object)",)
    assert [c.profile.name for c in result.connections] == ["Second"]


def test_an_older_export_format_is_refused_by_name() -> None:
    with pytest.raises(ImportFormatError, match="__export_format is 3; this reads version 4"):
        import_text('{"_type": "export", "__export_format": 3, "resources": []}', "old.json", "insomnia")


def test_detected_from_content_whatever_the_name() -> None:
    assert detect((SAMPLES / "insomnia-v4.json").read_text(), "x.txt") == "insomnia"
    assert detect((SAMPLES / "insomnia-v5.yaml").read_text(), "") == "insomnia"


def test_a_request_with_an_empty_url_comes_in_and_says_so() -> None:
    data = json.loads((SAMPLES / "insomnia-v4.json").read_text())
    data["resources"][0]["url"] = ""
    result = import_text(json.dumps(data), "export.json")
    assert result.connections[0].profile.url == ""
    assert "“Ticker stream”: it has no URL; give one before connecting" in result.warnings
