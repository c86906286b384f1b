"""TLS in the window, against a `websockets` server with a certificate from a private CA: the failure offers to
trust that certificate, the connection then shows its TLS session and chain, and a connection that does not
verify says so for as long as it is selected, and in its recorded session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.net.pki import Authority
from tests.peers import WebsocketsPeer
from tests.ui.helpers import WAIT_MS, click, connect
from wsinspector.core.events import ConnectionState
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui.certificate_view import CertificateView
from wsinspector.ui.main_window import MainWindow


def _saved(window: MainWindow, url: str, **records: Any) -> ConnectionProfile:
    profile = ConnectionProfile(name="private", endpoint=Endpoint(url)).with_changes(**records)
    saved = window.context.connections.save(profile)
    window.connections.select(saved.id)
    return saved


def _wss(peer: WebsocketsPeer) -> str:
    return peer.url.replace("ws://", "wss://")


def test_trust_this_certificate_then_see_the_chain(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                  websockets_server: Callable[..., WebsocketsPeer]) -> None:
    ca = Authority(tmp_path)
    server = ca.issue("server")
    peer = websockets_server(ssl=server.server_context())
    profile = _saved(window, _wss(peer))
    with qtbot.waitSignal(window.session.failed, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    banner = window.banner
    assert "certificate" in banner.text.lower()
    assert server.sha256 in banner.text
    assert banner.action.isVisible() and banner.action.text() == "Trust this certificate"

    with qtbot.waitSignal(window.session.opened, timeout=WAIT_MS):
        click(qtbot, banner.action)
    saved = window.context.connections.get(profile.id)
    assert saved is not None and saved.tls.pinned == (server.sha256,)  # kept with the connection
    assert "certificate trusted by its fingerprint" in window.inspector.info.text()
    button = window.inspector.certificate_button
    assert button.isVisible()

    click(qtbot, button)
    dialog = window.inspector.findChild(CertificateView)
    assert dialog is not None and dialog.isVisible()
    seen = [dialog.text.toPlainText()]
    dialog.reject()
    [chain] = seen
    assert chain.startswith("1. server\n   Issuer:     wsinspector test CA")
    assert f"SHA-256:    {server.sha256}" in chain
    assert "IP:127.0.0.1" in chain

    # the server's certificate changes: the banner says so, and does not offer to trust the new one in a click
    click(qtbot, window.inspector.connect_button)  # disconnect
    qtbot.waitUntil(lambda: window.session.state is ConnectionState.CLOSED, timeout=WAIT_MS)
    renewed = ca.issue("renewed")
    other = websockets_server(ssl=renewed.server_context())
    window.context.connections.save(saved.with_changes(endpoint={"url": _wss(other)}))
    window.connections.select(profile.id)
    with qtbot.waitSignal(window.session.failed, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    assert (f"the certificate differs from the one you trusted (trusted {server.sha256[:11]}…, now "
            f"{renewed.sha256[:11]}…)") in window.banner.text
    assert not window.banner.action.isVisible()


def test_a_connection_that_does_not_verify_says_so(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                   websockets_server: Callable[..., WebsocketsPeer]) -> None:
    ca = Authority(tmp_path)
    peer = websockets_server(ssl=ca.issue("server", expired=True).server_context())
    _saved(window, _wss(peer), tls={"verify": False})
    assert window.inspector.tls_off.isVisible()
    connect(qtbot, window)
    assert "certificate NOT verified" in window.inspector.info.text()
    session_id = window.session.session_id
    assert session_id is not None
    assert [kind for _seq, _ts, kind, _text in window.context.store.events(session_id)] == ["tls", "handshake"]
    window.tabs.setCurrentWidget(window.graph)  # the marker draws on the Health page
    qtbot.waitUntil(lambda: window.graph.loaded, timeout=WAIT_MS)
    graph: Any = window.graph.content()
    assert [kind for _t, kind, _label in graph.markers()] == ["tls"]

    window.tabs.setCurrentWidget(window.connection_tabs)
    window.connections.select(window.context.connections.profiles[0].id)  # Local echo: ws://, verified
    qtbot.waitUntil(lambda: window.session.is_open, timeout=WAIT_MS)  # still the same connection
    assert window.inspector.tls_off.isVisible()  # the open connection still accepts any certificate
