"""Postman's git-native collections (v3) as Postman writes them.

samples/postman/ is built from postmanlabs/postman-plugin skills/collection-schema-v3/SKILL.md (the folder layout,
``.resources/definition.yaml``, ``*.request.yaml``, the YAML quoting rules) and
skills/collection-schema-v3/reference/other_entities.md (``$kind: websocket-request`` with ``headers``,
``queryParams``, ``settings.strictSSL`` and ``messages`` as a relative folder path; ``$kind: websocket-message``
with ``content`` and ``contentType``).
"""

from __future__ import annotations

import pytest

from tests.core.formats.conftest import SAMPLES
from wsinspector.core.formats import ImportFormatError, import_path, import_text


def test_a_request_file_brings_its_messages_and_its_collection_variables() -> None:
    result = import_path(SAMPLES / "postman" / "chat" / "ticker.request.yaml")
    [imported] = result.connections
    profile = imported.profile
    assert profile.name == "ticker"
    assert profile.url == "wss://{{host}}/ticker?room=lobby"
    assert profile.handshake.headers == (("Authorization", "Bearer {{session_token}}"),)  # X-Trace is disabled
    assert profile.tls.verify is False  # strictSSL: false
    assert profile.messages == (("Say hello", "text", "hello"), ("subscribe", "json", '{"op":"subscribe"}'))
    assert profile.resolved().url == "wss://chat.example.com/ticker?room=lobby"
    assert imported.secret_variables == ("session_token",)


def test_a_collection_folder_gives_every_websocket_request_with_its_folder() -> None:
    result = import_path(SAMPLES / "postman" / "chat")
    by_name = {c.profile.name: c for c in result.connections}
    assert set(by_name) == {"ticker", "Quotes: live"}
    # the collection's name is its definition's; a subfolder without one keeps its folder's
    assert by_name["Quotes: live"].folder == ("Chat", "market")
    assert by_name["ticker"].folder == ("Chat",)
    assert any("1 request of other kinds" in w for w in result.warnings)


def test_an_http_request_is_refused_by_its_kind() -> None:
    text = (SAMPLES / "postman" / "chat" / "health.request.yaml").read_text()
    with pytest.raises(ImportFormatError, match=r"health\.request\.yaml: \$kind is http-request: only WebSocket"):
        import_text(text, "health.request.yaml", "postman")


def test_a_request_without_url_is_named() -> None:
    with pytest.raises(ImportFormatError, match=r"^Postman collection \(v3\) x.request.yaml: url is missing$"):
        import_text("$kind: websocket-request\nheaders: []\n", "x.request.yaml")


def test_a_message_without_content_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "m").mkdir()
    (tmp_path / "a.request.yaml").write_text("$kind: websocket-request\nurl: ws://h/\nmessages: './m/'\n")
    (tmp_path / "m" / "one.message.yaml").write_text("$kind: websocket-message\ncontentType: text\n")
    with pytest.raises(ImportFormatError, match=r"message one\.message\.yaml: content is missing"):
        import_path(tmp_path / "a.request.yaml")
