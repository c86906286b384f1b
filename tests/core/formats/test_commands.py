"""Pasted command lines, with the options as each tool defines them.

websocat: vi/websocat src/options.rs and doc.md (``-H``/``--header``, ``--protocol``, ``--origin``,
``-k``/``--insecure``, ``--basic-auth``); wscat: websockets/wscat bin/wscat (``-c``, ``-H``, ``-s``, ``-o``,
``-n``/``--no-check``, ``--auth``, ``--ca``/``--cert``/``--key``, ``--proxy``, ``-x``); curl: curl/curl
docs/cmdline-opts (``-H``, ``-k``, ``-u``, ``--cacert``, ``-x``, ``--resolve``) and docs/WEBSOCKET.md
(``curl wss://...``).
"""

from __future__ import annotations

import pytest

from wsinspector.core.formats import ImportFormatError, detect, import_command


def test_websocat_headers_protocol_origin_and_insecure() -> None:
    result = import_command("websocat -H 'X-Api-Key: {{key}}' --header='X-Team: blue' --protocol graphql-ws "
                            "--origin https://app.example.com -k -t wss://api.example.com/graphql")
    [imported] = result.connections
    profile = imported.profile
    assert result.format == "Command line (websocat)"
    assert profile.url == "wss://api.example.com/graphql"
    assert profile.handshake.headers == (("X-Api-Key", "{{key}}"), ("X-Team", "blue"))
    assert profile.handshake.subprotocols == ("graphql-ws",)
    assert profile.handshake.origin == "https://app.example.com"
    assert profile.tls.verify is False
    assert imported.secret_headers == ("X-Api-Key",)
    assert result.warnings == ()


def test_wscat_connect_auth_certificates_and_a_message() -> None:
    result = import_command("npx wscat -c ws://localhost:8080/chat -s v2.chat -n --auth ada:lovelace "
                            "--ca ca.pem --cert me.pem --key me.key -x '{\"op\":\"hello\"}' --no-color")
    profile = result.connections[0].profile
    assert profile.url == "ws://localhost:8080/chat"
    assert profile.handshake.headers == (("Authorization", "Basic YWRhOmxvdmVsYWNl"),)
    assert (profile.tls.ca_file, profile.tls.client_cert, profile.tls.client_key) == ("ca.pem", "me.pem", "me.key")
    assert profile.messages == (("Sent on connect", "text", '{"op":"hello"}'),)
    assert profile.tls.verify is False


def test_curl_with_continuation_lines_proxy_and_resolve() -> None:
    result = import_command("curl -sN \\\n  -H 'Cookie: sid=1' \\\n  --insecure -x http://proxy.example:3128 "
                            "--resolve ws.example.com:443:10.0.0.5 wss://ws.example.com/feed -d hi")
    profile = result.connections[0].profile
    assert profile.url == "wss://ws.example.com/feed"
    assert (profile.proxy.mode, profile.proxy.host, profile.proxy.port) == ("http", "proxy.example", 3128)
    assert profile.endpoint.connect_to == "10.0.0.5:443"
    assert profile.tls.verify is False
    assert "curl option -d left out" in result.warnings[0]


def test_unknown_options_are_named_not_lost_silently() -> None:
    result = import_command("websocat --jsonrpc ws://h/")
    assert any("--jsonrpc is not known here" in w for w in result.warnings)


@pytest.mark.parametrize(("command", "message"), [
    ("ssh host", "'ssh' is not websocat, wscat or curl"),
    ("curl https://example.com/", "no ws:// or wss:// URL in the curl command"),
    ("websocat -H", "websocat option -H needs a value"),
    ("wscat -c ws://h/ -H novalue", "header 'novalue' has no name"),
    ("curl 'wss://h/", "cannot be split into words"),
])
def test_bad_command_lines_get_one_clear_line(command: str, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        import_command(command)


def test_detected_as_a_command() -> None:
    assert detect("wscat -c ws://h/") == "command"


def test_wscat_without_a_scheme_connects_as_wscat_does() -> None:
    result = import_command("wscat --connect localhost:8080/echo")
    assert result.connections[0].profile.url == "ws://localhost:8080/echo"
    assert result.warnings == ("“localhost/echo”: the URL had no scheme; ws:// assumed",)
