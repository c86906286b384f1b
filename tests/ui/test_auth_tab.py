"""The connection dialog's Auth tab: the fields of each kind, secrets masked until revealed, cookies pasted from
a browser, and "Send now" against a real login endpoint on 127.0.0.1 showing the answer and the captures."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QToolButton

from tests.auth_peers import PASSWORD, USER
from wsinspector.core.profiles import Auth, ConnectionProfile, Endpoint
from wsinspector.ui.profile_dialog import ProfileDialog

WAIT_MS = 10_000


def _dialog(qtbot: Any, profile: ConnectionProfile) -> ProfileDialog:
    dialog = ProfileDialog(profile)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentWidget(dialog.auth_tab)
    return dialog


def test_each_kind_shows_its_fields_and_secrets_are_masked_until_revealed(qtbot: Any) -> None:
    dialog = _dialog(qtbot, ConnectionProfile(name="p", endpoint=Endpoint("ws://127.0.0.1:9/")))
    tab = dialog.auth_tab
    assert not tab.token.isVisible()
    tab.kind.setCurrentIndex(tab.kind.findData("bearer"))
    assert tab.token.isVisible() and not tab.username.isVisible()
    assert tab.token.echoMode() is QLineEdit.EchoMode.Password
    # the same Show/Hide toggle as the TLS passphrase's and the tables'
    reveal = tab.token.parentWidget().findChild(QToolButton, "reveal")
    assert reveal.text() == "Show" and reveal.isVisible()
    reveal.click()
    assert tab.token.echoMode() is QLineEdit.EchoMode.Normal and reveal.text() == "Hide"
    reveal.click()
    assert tab.token.echoMode() is QLineEdit.EchoMode.Password
    tab.token.setText("{{token}}")
    tab.kind.setCurrentIndex(tab.kind.findData("api_key"))
    assert tab.api_key_value.isVisible() and tab.api_key_value.echoMode() is QLineEdit.EchoMode.Password
    tab.api_key_name.setText("key")
    tab.api_key_value.setText("k1")
    tab.api_key_in.setCurrentIndex(tab.api_key_in.findData("query"))
    auth = dialog.profile().auth
    assert (auth.kind, auth.api_key_name, auth.api_key_value, auth.api_key_in) == ("api_key", "key", "k1", "query")
    assert auth.token == "{{token}}"  # kept while another kind is chosen


def test_a_pasted_browser_cookie_header_fills_the_cookie_table(qtbot: Any) -> None:
    dialog = _dialog(qtbot, ConnectionProfile(name="p", auth=Auth(cookies="sid=old; theme=dark")))
    tab = dialog.auth_tab
    tab.findChild(type(tab.send_now), "pasteCookies").click()
    ask = tab.findChild(QInputDialog, "pasteCookieDialog")
    assert ask is not None and ask.isVisible()
    ask.setTextValue("Cookie: sid=42; lang=en")
    ask.accept()
    assert dialog.profile().auth.cookies == "sid=42; theme=dark; lang=en"
    tab.paste_cookie_header("nonsense")
    assert tab.cookie_error.isVisible() and "'nonsense' is not name=value" in tab.cookie_error.text()
    assert dialog.profile().auth.cookies == "sid=42; theme=dark; lang=en"


def test_send_now_shows_the_answer_and_the_captured_values(qtbot: Any, auth_endpoints: Any) -> None:
    profile = ConnectionProfile(name="p", endpoint=Endpoint("ws://127.0.0.1:9/"), variables=(("password", PASSWORD),),
                                auth=Auth(kind="bearer", token="{{token}}", login_url=auth_endpoints.url("/login"),
                                          login_body=f'{{"user": "{USER}", "password": "{{{{password}}}}"}}',
                                          login_captures=(("token", "data.token"), ("uid", "data.user.id"))))
    dialog = _dialog(qtbot, profile)
    tab = dialog.auth_tab
    tab.send_now.click()
    qtbot.waitUntil(tab.send_now.isEnabled, timeout=WAIT_MS)
    text = tab.login_result.toPlainText()
    assert "Captured:\n{{token}} = T0001\n{{uid}} = 7" in text
    assert "HTTP 200 OK" in text and '"token": "T0001"' in text
    assert auth_endpoints.logins == 1
    dialog.variables.set_pairs((("password", "wrong"),))
    tab.send_now.click()
    qtbot.waitUntil(tab.send_now.isEnabled, timeout=WAIT_MS)
    assert "answered HTTP 401 Unauthorized" in tab.login_result.toPlainText()
    dialog.accept()  # the captured {{token}} is not a variable of the profile, and need not be
    assert dialog.result() == ProfileDialog.DialogCode.Accepted, dialog.error.text()


def test_send_now_refuses_a_capture_that_is_an_object(qtbot: Any, auth_endpoints: Any) -> None:
    profile = ConnectionProfile(name="p", endpoint=Endpoint("ws://127.0.0.1:9/?t={{tok}}"),
                                variables=(("password", PASSWORD),),
                                auth=Auth(login_url=auth_endpoints.url("/login"),
                                          login_body=f'{{"user": "{USER}", "password": "{{{{password}}}}"}}',
                                          login_captures=(("tok", "data.user"),)))
    dialog = _dialog(qtbot, profile)
    tab = dialog.auth_tab
    tab.send_now.click()
    qtbot.waitUntil(tab.send_now.isEnabled, timeout=WAIT_MS)
    text = tab.login_result.toPlainText()
    assert text.startswith(f"Pre-connect request POST {auth_endpoints.url('/login')}: $.data.user is an object, "
                           "not a string (for {{tok}})"), text
    assert "Captured:" not in text
    dialog.reject()


def test_an_invalid_auth_setting_keeps_the_dialog_open_and_says_why(qtbot: Any) -> None:
    dialog = _dialog(qtbot, ConnectionProfile(name="p", endpoint=Endpoint("ws://127.0.0.1:9/")))
    dialog.auth_tab.kind.setCurrentIndex(dialog.auth_tab.kind.findData("basic"))
    dialog.accept()
    assert dialog.result() != ProfileDialog.DialogCode.Accepted
    assert dialog.error.text() == "Basic auth needs a user name"


def test_a_failed_login_is_told_in_the_banner_and_a_good_one_connects(qtbot: Any, window: Any, context: Any,
                                                                     auth_endpoints: Any,
                                                                     websockets_server: Any) -> None:
    from tests.ui.helpers import click, close_connection, connect

    server = websockets_server()
    auth = Auth(kind="bearer", token="{{token}}", login_url=auth_endpoints.url("/login"),
                login_body=f'{{"user": "{USER}", "password": "{{{{password}}}}"}}',
                login_captures=(("token", "data.token"),))
    profile = ConnectionProfile(name="login first", endpoint=Endpoint(str(server.url)), auth=auth,
                                variables=(("password", "wrong"),))
    context.connections.save(profile)
    window.connections.select(profile.id)
    with qtbot.waitSignal(window.session.failed, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    assert window.banner.level == "error"
    assert window.banner.text.startswith("Authentication before connecting failed: Pre-connect request POST ")
    assert "answered HTTP 401 Unauthorized" in window.banner.text
    context.connections.save(profile.with_changes(variables=(("password", PASSWORD),)))
    window.connections.select(profile.id)
    connect(qtbot, window)
    assert server.request_headers["Authorization"] == "Bearer T0001" and auth_endpoints.logins == 2
    close_connection(qtbot, window)


def _shown(table: Any, row: int) -> str:
    """What the value column paints for a row."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    index = table.model().index(row, 1)
    table.itemDelegateForColumn(1).initStyleOption(option, index)
    return str(option.text)


def test_cookie_values_and_a_login_authorization_are_masked_until_shown(qtbot: Any) -> None:
    dialog = _dialog(qtbot, ConnectionProfile(name="p", auth=Auth(
        cookies="sid=COOKIESECRET444", login_url="http://127.0.0.1:9/login",
        login_headers=(("Authorization", "Basic LOGINHDRSECRET"), ("Accept", "application/json")))))
    tab = dialog.auth_tab
    cookies, headers = tab.cookies.table, tab.login_headers.table
    assert cookies.item(0, 1).data(Qt.ItemDataRole.DisplayRole) == "COOKIESECRET444"  # the value is kept...
    assert _shown(cookies, 0) == "••••••••"  # ...and painted masked
    assert _shown(headers, 0) == "••••••••" and _shown(headers, 1) == "application/json"
    reveal = tab.cookies.findChild(QToolButton, "reveal")
    reveal.click()
    assert _shown(cookies, 0) == "COOKIESECRET444" and reveal.text() == "Hide"
    assert dialog.profile().auth.cookies == "sid=COOKIESECRET444"
