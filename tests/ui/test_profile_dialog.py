"""The connection dialog edits every setting of the records, shows each saved value, and never saves over a
connection of a newer format."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from tests.core.test_profile_format import every_setting_changed, newer_form
from wsinspector.core.profiles import RECORD_TYPES, ConnectionProfile, profile_from_dict
from wsinspector.ui.profile_dialog import ProfileDialog


def _dialog(qtbot: Any, profile: ConnectionProfile) -> ProfileDialog:
    dialog = ProfileDialog(profile)
    qtbot.addWidget(dialog)
    return dialog


def test_every_setting_of_every_record_has_a_widget(qtbot: Any) -> None:
    dialog = _dialog(qtbot, ConnectionProfile(name="p"))
    settings = {(name, f.name) for name, cls in RECORD_TYPES.items() for f in fields(cls)}
    assert settings | {("", "name"), ("", "variables")} == set(dialog._fields)


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
