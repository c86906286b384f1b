"""A HAR file's WebSocket entries as Chrome's DevTools writes them.

samples/chrome.har is built from the HAR 1.2 fields (``log.entries[].request``, ``response``, ``timings``) and
the fields Chrome's DevTools adds (ChromeDevTools/devtools-frontend front_end/models/har/HARFormat.ts
``HARLogEntryWebSocket``: ``_resourceType: 'websocket'`` and ``_webSocketMessages`` with ``type``, ``time``,
``opcode`` and ``data``; front_end/models/har/Log.ts: ``_initiator``, ``_priority``, ``_transferSize``).
"""

from __future__ import annotations

import pytest

from tests.core.formats.conftest import SAMPLES
from wsinspector.core.formats import ImportFormatError, import_path, import_text


def test_the_websocket_entry_with_its_sent_messages() -> None:
    result = import_path(SAMPLES / "chrome.har")
    [imported] = result.connections  # the fetch entry is not a WebSocket
    profile = imported.profile
    assert profile.url == "wss://app.example.com/socket?v=3"
    # the handshake's own headers and the browser's caching ones are left out
    assert profile.handshake.headers == (("Cookie", "sid=abc123"),
                                         ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"))
    assert profile.handshake.origin == "https://app.example.com"
    assert profile.handshake.subprotocols == ("chat.v3",)
    assert profile.messages == (("Sent 1", "text", '{"op":"auth","id":1}'), ("Sent 2", "base64", "AAECAw=="))
    assert imported.secret_headers == ("Cookie",)


def test_entries_that_are_not_a_list_are_named() -> None:
    with pytest.raises(ImportFormatError, match=r"^HAR file: log.entries is not a list \(found an object\)$"):
        import_text('{"log": {"version": "1.2", "entries": {}}}', "x.har")


def test_a_har_without_websockets_says_so() -> None:
    result = import_text('{"log": {"version": "1.2", "entries": []}}', "x.har")
    assert result.connections == ()
    assert result.warnings == ("the file has no WebSocket entries",)
