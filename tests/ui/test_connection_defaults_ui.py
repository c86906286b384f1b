"""Connection ▸ Connection defaults…: the app-wide TLS and proxy settings typed once, kept (their secrets in the
keyring, masked on screen), said in each connection's dialog where a blank field takes them, and followed by the
header's "Certificate not verified" warning."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from tests.ui.helpers import WAIT_MS, button_with_text, click, replace_text, toggle_check_box
from wsinspector.core.connection_defaults import ConnectionDefaults, secret_key
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Proxy, Tls
from wsinspector.ui.defaults_dialog import ConnectionDefaultsDialog
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.profile_dialog import ProfileDialog

PASSPHRASE = "ui-passphrase-9"


def _open(qtbot: Any, window: MainWindow) -> ConnectionDefaultsDialog:
    window.defaults_action.trigger()
    dialog = window.findChild(ConnectionDefaultsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_defaults_typed_once_are_kept_with_their_secret_in_the_keyring(qtbot: Any, window: MainWindow) -> None:
    assert window.defaults_action in window.menuBar().actions()[1].menu().actions()  # Connection ▸
    dialog = _open(qtbot, window)
    replace_text(qtbot, dialog.tls.ca_file.edit, "/etc/ssl/corp-ca.pem")
    replace_text(qtbot, dialog.tls.client_cert.edit, "/home/ann/ann.p12")
    replace_text(qtbot, dialog.tls.passphrase.edit, PASSPHRASE)
    assert dialog.tls.passphrase.edit.echoMode() is QLineEdit.EchoMode.Password
    click(qtbot, dialog.tls.passphrase.reveal)
    assert dialog.tls.passphrase.edit.echoMode() is QLineEdit.EchoMode.Normal
    dialog.tabs.setCurrentWidget(dialog.proxy)
    dialog.proxy.mode.setCurrentIndex(dialog.proxy.mode.findData("http"))
    assert dialog.proxy.host.isEnabled()
    replace_text(qtbot, dialog.proxy.host, "proxy.corp")
    with qtbot.waitSignal(window.context.defaults.changed, timeout=WAIT_MS):
        click(qtbot, button_with_text(dialog, "Save"))  # no port yet: refused, nothing kept
        assert dialog.isVisible()
        assert dialog.error.text() == "A proxy needs its host and a port from 1 to 65535"
        assert window.context.defaults.defaults == ConnectionDefaults()
        replace_text(qtbot, dialog.proxy.port, "3128")
        click(qtbot, button_with_text(dialog, "Save"))
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    kept = window.context.defaults.defaults
    assert kept.tls == Tls(ca_file="/etc/ssl/corp-ca.pem", client_cert="/home/ann/ann.p12", passphrase=PASSPHRASE)
    assert kept.proxy == Proxy(mode="http", host="proxy.corp", port=3128)
    assert window.context.secrets.get(secret_key("tls.passphrase")) == PASSPHRASE
    raw = b"".join(p.read_bytes() for p in window.context.data_dir.iterdir() if p.name.startswith("wsinspector"))
    assert b"/etc/ssl/corp-ca.pem" in raw and PASSPHRASE.encode() not in raw

    again = _open(qtbot, window)  # shows what is kept, the passphrase masked
    assert again is dialog and again.tls.ca_file.edit.text() == "/etc/ssl/corp-ca.pem"
    assert again.tls.passphrase.edit.text() == PASSPHRASE
    again.reject()


def test_a_connections_dialog_says_where_a_blank_field_takes_its_value(qtbot: Any, window: MainWindow) -> None:
    window.context.defaults.save(ConnectionDefaults(
        tls=Tls(ca_file="/etc/ssl/corp-ca.pem", min_version="1.2", passphrase="pp"),
        proxy=Proxy(mode="socks5", host="socks.corp", port=1080)))
    saved = window.context.connections.save(ConnectionProfile(name="own", endpoint=Endpoint("wss://a.example/")))
    window.connections.select(saved.id)
    window.connections.edit_action.trigger()
    dialog = window.connections.findChild(ProfileDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    tls, proxy = dialog.tls, dialog.proxy
    assert tls.ca_file.edit.placeholderText() == "App default: /etc/ssl/corp-ca.pem"
    assert tls.passphrase.edit.placeholderText() == "App default: kept in the keyring"  # never the value
    assert tls.min_version.currentText() == "App default: TLS 1.2"
    assert proxy.mode.currentText() == "App default: socks5://socks.corp:1080"
    assert "connect directly" in proxy.note.text()
    # the connection's own values stay its own: nothing of the defaults is copied into it
    assert dialog.profile() == saved
    dialog.reject()


def test_verification_off_app_wide_shows_the_warning_on_every_wss_connection(qtbot: Any,
                                                                              window: MainWindow) -> None:
    saved = window.context.connections.save(ConnectionProfile(name="s", endpoint=Endpoint("wss://a.example/")))
    window.connections.select(saved.id)
    assert not window.inspector.tls_off.isVisible()
    dialog = _open(qtbot, window)
    toggle_check_box(qtbot, dialog.tls.verify)
    assert dialog.tls.warning.isVisible()
    with qtbot.waitSignal(window.context.defaults.changed, timeout=WAIT_MS):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert window.inspector.tls_off.isVisible()
    window.connections.edit_action.trigger()
    profile_dialog = window.connections.findChild(ProfileDialog)
    assert profile_dialog is not None
    qtbot.waitExposed(profile_dialog)
    profile_dialog.tabs.setCurrentWidget(profile_dialog.tls)
    # even with the connection's own box ticked
    assert profile_dialog.tls.verify.isChecked() and profile_dialog.tls.warning.isVisible()
    assert "Verification is off for every connection" in profile_dialog.tls.app_note.text()
    profile_dialog.reject()
