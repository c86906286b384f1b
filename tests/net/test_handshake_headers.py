"""The headers the opening handshake carries, as the server receives them, alike with either engine: a header
or an auth setting the user gave wins over the URL's user info (one ``Authorization``, never two)."""

from __future__ import annotations

import base64
from typing import Any

from tests.net.conftest import Net
from wsinspector.core.auth import apply_auth
from wsinspector.core.profiles import Auth, ConnectionProfile, Endpoint


def recording(seen: list[list[tuple[str, str]]]) -> Any:
    def process_request(connection: Any, request: Any) -> None:
        seen.append(list(request.headers.raw_items()))

    return process_request


def authorizations(headers: list[tuple[str, str]]) -> list[str]:
    return [value for name, value in headers if name.lower() == "authorization"]


def test_a_typed_authorization_header_wins_over_the_urls_user_info(net: Net) -> None:
    seen: list[list[tuple[str, str]]] = []
    _peer, url = net.websockets_peer(process_request=recording(seen))
    net.open(url.replace("ws://", "ws://u:URLPW@"),
             handshake={"headers": (("Authorization", "Bearer typed"), ("X-Other", "1"))})
    assert authorizations(seen[-1]) == ["Bearer typed"]
    assert ("x-other", "1") in [(name.lower(), value) for name, value in seen[-1]]


def test_an_auth_setting_wins_over_the_urls_user_info(net: Net) -> None:
    seen: list[list[tuple[str, str]]] = []
    _peer, url = net.websockets_peer(process_request=recording(seen))
    profile = ConnectionProfile(name="t", endpoint=Endpoint(url.replace("ws://", "ws://u:URLPW@")),
                                auth=Auth(kind="bearer", token="set"))
    target = apply_auth(profile.with_changes(protocol={"engine": net.engine}).resolved())
    rec = net.connection()
    with net.qtbot.waitSignal(rec.conn.opened, timeout=5000):
        rec.conn.open(target)
    assert authorizations(seen[-1]) == ["Bearer set"]


def test_the_urls_user_info_alone_is_not_answered_before_a_challenge_by_the_qt_engine(net: Net) -> None:
    """Without a header of the user's, the Wire engine sends the URL's user info as Basic at once; QWebSocket
    keeps it for a 401 challenge (test_handshake_answers.py)."""
    seen: list[list[tuple[str, str]]] = []
    _peer, url = net.websockets_peer(process_request=recording(seen))
    net.open(url.replace("ws://", "ws://u:URLPW@"))
    basic = "Basic " + base64.b64encode(b"u:URLPW").decode()
    assert authorizations(seen[-1]) == ([basic] if net.engine == "wire" else [])
