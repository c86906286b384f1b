"""The connection dialog edits every setting of the records, shows each saved value, and never saves over a
connection of a newer format."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from tests.core.test_profile_format import every_setting_changed, newer_form
from wsinspector.core.profiles import RECORD_TYPES, ConnectionProfile, Endpoint, profile_from_dict
from wsinspector.ui.profile_dialog import ProfileDialog


def _dialog(qtbot: Any, profile: ConnectionProfile) -> ProfileDialog:
    dialog = ProfileDialog(profile)
    qtbot.addWidget(dialog)
    return dialog


def test_every_setting_of_every_record_has_a_widget(qtbot: Any) -> None:
    dialog = _dialog(qtbot, ConnectionProfile(name="p"))
    settings = {(name, f.name) for name, cls in RECORD_TYPES.items() for f in fields(cls)}
    assert settings | {("", "name"), ("", "variables"), ("", "secret_variables")} == set(dialog._fields)


def test_every_setting_is_shown_and_comes_back_unchanged(qtbot: Any) -> None:
    profile = every_setting_changed()
    dialog = _dialog(qtbot, profile)
    assert dialog.profile() == profile
    assert dialog.url.text() == profile.url
    assert dialog.subprotocols.text() == "graphql-ws, chat.v1"
    assert dialog.max_message.value() == 3
    assert dialog.heartbeat_timeout.value() == 3.5
    assert dialog.server_window.value() == 10


def test_unknown_keys_survive_an_edit_in_the_dialog(qtbot: Any) -> None:
    data = newer_form()
    data["version"] -= 1
    del data["handshake"]["timeout_s"]
    profile = profile_from_dict("p", data)
    dialog = _dialog(qtbot, profile)
    dialog.name.setText("Renamed")
    edited = dialog.profile()
    assert edited.name == "Renamed"
    assert edited.unknown == profile.unknown == {"workspace": "Team", "handshake": {"cookies": [["a", "b"]]}}


def test_a_connection_of_a_newer_format_is_not_saved(qtbot: Any) -> None:
    dialog = _dialog(qtbot, profile_from_dict("p", newer_form()))
    dialog.accept()
    assert dialog.result() != ProfileDialog.DialogCode.Accepted
    assert "saved by a newer wsinspector" in dialog.error.text()


def _shown(table: Any, row: int) -> str:
    """The text the value cell of ``row`` paints."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    table.table.itemDelegateForColumn(1).initStyleOption(option, table.table.model().index(row, 1))
    return str(option.text)


def test_secrets_are_shown_masked_until_revealed(qtbot: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit

    from wsinspector.core.profiles import Handshake, Proxy, Tls
    from wsinspector.ui.secret_fields import MASK

    profile = ConnectionProfile(
        name="p", handshake=Handshake(headers=(("Authorization", "Bearer abc"), ("X-Trace", "1")),
                                      secret_headers=("Authorization",)),
        variables=(("token", "t0k"), ("region", "eu")), secret_variables=("token",),
        tls=Tls(passphrase="pp"), proxy=Proxy(mode="http", host="h", port=1, password="pw"))
    dialog = _dialog(qtbot, profile)
    assert dialog.profile() == profile
    for edit, value in ((dialog.passphrase, "pp"), (dialog.proxy_password, "pw")):
        assert edit.edit.echoMode() is QLineEdit.EchoMode.Password and edit.edit.text() == value
        qtbot.mouseClick(edit.reveal, Qt.MouseButton.LeftButton)
        assert edit.edit.echoMode() is QLineEdit.EchoMode.Normal
    assert [_shown(dialog.headers, row) for row in (0, 1)] == [MASK, "1"]
    assert [_shown(dialog.variables, row) for row in (0, 1)] == [MASK, "eu"]
    qtbot.mouseClick(dialog.headers.secrets.reveal, Qt.MouseButton.LeftButton)
    assert [_shown(dialog.headers, row) for row in (0, 1)] == ["Bearer abc", "1"]
    assert _shown(dialog.variables, 0) == MASK  # each table has its own toggle


def test_a_new_row_is_secret_by_its_name_until_the_user_says_otherwise(qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    dialog = _dialog(qtbot, ConnectionProfile(name="p"))
    table = dialog.variables
    table.add_row("", "")
    table.table.item(0, 0).setText("api_key")
    table.table.item(0, 1).setText("k-123")
    table.add_row("", "")
    table.table.item(1, 0).setText("region")
    table.table.item(1, 1).setText("eu")
    assert table.secret_names() == ("api_key",)
    assert dialog.profile().secret_variables == ("api_key",)
    # the user unticks it: renaming no longer changes it
    table.table.item(0, 2).setCheckState(Qt.CheckState.Unchecked)
    table.table.item(0, 0).setText("api_token")
    assert table.secret_names() == ()
    headers = dialog.headers
    headers.add_row("", "")
    headers.table.item(0, 0).setText("Cookie")
    assert headers.secret_names() == ("Cookie",)


def test_the_protocol_mode_is_chosen_on_the_decoding_tab_and_a_literal_password_refused(qtbot: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    dialog = _dialog(qtbot, ConnectionProfile(name="p", endpoint=Endpoint("ws://127.0.0.1:1/mqtt")))
    dialog.show()
    dialog.tabs.setCurrentWidget(dialog.decoding)
    mode = dialog.decoding.mode
    mode.setCurrentIndex(mode.findData("mqtt"))
    qtbot.mouseClick(dialog.decoding.mode_options.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.decoding.mode_options, "keep_alive=30")
    qtbot.keyClick(dialog.decoding.mode_options, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.decoding.mode_options, "password=hunter2")
    save = next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "Save")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.error.text() == "Protocol option password: give it as a secret variable, e.g. {{password}}"
    dialog.decoding.mode_options.setPlainText("keep_alive=30\npassword={{mqtt_password}}")
    assert dialog.profile().decoding.mode == "mqtt"
    assert dialog.profile().decoding.mode_options == (("keep_alive", "30"), ("password", "{{mqtt_password}}"))
