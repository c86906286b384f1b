"""Bruno's .bru files and OpenCollection YAML as Bruno writes them.

samples/bruno/ is built from usebruno/bruno packages/bruno-lang/v2/src/jsonToBru.js (the ``meta``, ``ws``,
``headers`` with ``~`` for a disabled line, ``auth:bearer``, one ``body:ws`` block per message with its
content between ``'''`` lines indented by utils.js ``indentString``, ``vars:pre-request``, ``settings``)
and packages/bruno-lang/v2/src/jsonToCollectionBru.js and envToJson.js (a collection's ``collection.bru``
with ``headers`` and ``vars:pre-request``; ``environments/*.bru`` with ``vars`` and ``vars:secret``);
samples/opencollection-request.yml from the OpenCollection spec's WebSocket request (spec.opencollection.com
#websocket-request-info: ``info``, ``websocket.url``/``headers``/``message``, ``runtime.variables``);
samples/opencollection-bundle.yml from usebruno/bruno packages/bruno-filestore/src/formats/yml
(items/parseWebsocketRequest.ts: ``message`` as a list of ``{title, selected, message: {type, data}}``) and a
bundled collection's ``opencollection: 1.0.0`` and ``items``.
"""

from __future__ import annotations

import pytest

from tests.core.formats.conftest import SAMPLES
from wsinspector.core.formats import ImportFormatError, detect, import_path, import_text


def test_a_bru_websocket_request_with_its_messages() -> None:
    result = import_path(SAMPLES / "bruno" / "market" / "ticker.bru")
    [imported] = result.connections
    profile = imported.profile
    assert (profile.name, profile.url) == ("Ticker stream", "wss://stream.example.com/v2/ticker")
    assert profile.handshake.headers == (("X-Client", "desk-7"), ("Authorization", "Bearer {{token}}"))
    assert profile.handshake.subprotocols == ("ticker.v2",)
    assert profile.messages == (
        ("subscribe", "json", '{\n  "op": "subscribe",\n  "channel": "BTC-USD"\n}'), ("ping", "text", "ping"))
    assert profile.resolved().handshake.headers[1] == ("Authorization", "Bearer tok-live-8f2a")
    assert imported.secret_variables == ("token",)


def test_a_bruno_collection_folder_keeps_the_folders_and_skips_http() -> None:
    result = import_path(SAMPLES / "bruno")
    [imported] = result.connections
    assert imported.folder == ("bruno", "market")
    # the collection's own headers and variables (collection.bru), then the request's
    assert imported.profile.variables == (("region", "eu"), ("token", "tok-live-8f2a"))
    assert imported.profile.handshake.headers[0] == ("X-Tenant", "acme")
    assert any("1 request of other kinds" in w for w in result.warnings)
    assert any("environments (environments/) left out" in w for w in result.warnings)


def test_an_http_bru_file_is_refused_by_its_type() -> None:
    text = (SAMPLES / "bruno" / "health.bru").read_text()
    with pytest.raises(ImportFormatError, match=r"health.bru: meta.type is http; only WebSocket requests"):
        import_text(text, "health.bru")


def test_an_unclosed_block_is_named_with_its_line() -> None:
    with pytest.raises(ImportFormatError, match="the block ws opened at line 5 is never closed"):
        import_text("meta {\n  name: x\n  type: ws\n}\nws {\n  url: ws://h/\n", "x.bru")


def test_an_opencollection_request() -> None:
    result = import_path(SAMPLES / "opencollection-request.yml")
    [imported] = result.connections
    profile = imported.profile
    assert profile.url == "ws://{{baseUrl}}/chat"
    assert profile.variables == (("clientId", "client-123"),)
    assert profile.messages[0][:2] == ("Message 1", "json")
    assert imported.secret_headers == ("Authorization",)


def test_an_opencollection_bundle_with_folders_and_binary_messages() -> None:
    result = import_path(SAMPLES / "opencollection-bundle.yml")
    [imported] = result.connections
    assert imported.folder == ("Realtime", "Streams")
    assert imported.profile.handshake.headers == (("x-tenant", "acme"),)
    assert imported.profile.messages == (("hello", "text", '{"op":"subscribe"}'), ("blob", "base64", "cGF5"))


def test_an_opencollection_http_request_is_refused_by_its_type() -> None:
    with pytest.raises(ImportFormatError, match=r"info\.type is http; only WebSocket requests"):
        import_text("info:\n  name: x\n  type: http\nhttp:\n  url: https://h/\n", "x.yml")
    assert detect("info:\n  name: x\n  type: http\nhttp:\n  url: https://h/\n", "x.yml") == "opencollection"
