"""First start on a fresh data folder, and the next start on the same folder."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.ui.helpers import button_with_text, click, show_window
from tests.ui.helpers_connections import current_name, names, tooltip
from wsinspector.app.context import AppContext
from wsinspector.core.profiles import BUILTIN_LOCAL_ECHO, PROFILE_VERSION
from wsinspector.core.store import Store
from wsinspector.ui.main_window import MainWindow

ECHO_URL = re.compile(r"ws://127\.0\.0\.1:(\d+)/")


def _list_names(window: MainWindow) -> list[str]:
    return names(window.connections)


def _start(qtbot: Any, data_dir: Path) -> tuple[AppContext, MainWindow]:
    context = AppContext(data_dir)
    window = MainWindow(context)
    show_window(qtbot, window)
    return context, window


def test_first_start_selects_local_echo_and_welcomes(qtbot: Any, data_dir: Path) -> None:
    context, window = _start(qtbot, data_dir)
    try:
        assert _list_names(window) == ["Local echo"]
        assert current_name(window.connections) == "Local echo"
        assert window.inspector.profile_name.text() == "<b>Local echo</b>"
        match = ECHO_URL.fullmatch(window.inspector.url.text())
        assert match, window.inspector.url.text()
        assert int(match.group(1)) == context.echo.port
        assert window.inspector.state_label.text() == "Closed"
        assert window.inspector.connect_button.text() == "Connect"
        assert window.banner.level == "info"
        assert window.banner.text.startswith("Welcome!")
        assert window.inspector.url.text() in window.banner.text
        assert "Ctrl+Enter" in window.banner.text
        assert not window.inspector.composer.send_button.isEnabled()
        # the banner can be dismissed
        click(qtbot, button_with_text(window.banner, "✕"))
        assert window.banner.isHidden()
        assert window.banner.text == ""
    finally:
        window.close()
        context.shutdown()


def test_second_start_keeps_one_local_echo_on_the_new_port(qtbot: Any, data_dir: Path) -> None:
    context, window = _start(qtbot, data_dir)
    first_url = window.inspector.url.text()
    first_port = context.echo.port
    window.close()
    context.shutdown()

    # Hold the first start's port so the echo server of the second start must get another one.
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", first_port))
        blocker.listen(1)
        context, window = _start(qtbot, data_dir)
        try:
            second_url = window.inspector.url.text()
            assert ECHO_URL.fullmatch(second_url), second_url
            assert second_url != first_url
            assert urlsplit(second_url).port == context.echo.port
            assert _list_names(window) == ["Local echo"]
            assert current_name(window.connections) == "Local echo"
            assert tooltip(window.connections) == second_url
            assert window.banner.text == ""
            assert window.banner.isHidden()
        finally:
            window.close()
            context.shutdown()
    finally:
        blocker.close()

    store = Store(data_dir / "wsinspector.sqlite3")
    try:
        echoes = [p for p in store.profiles() if p.builtin == BUILTIN_LOCAL_ECHO]
        assert [(p.name, p.url) for p in echoes] == [("Local echo", second_url)]
    finally:
        store.close()


def test_connections_of_a_newer_format_are_listed_and_kept_as_they_are(qtbot: Any, data_dir: Path) -> None:
    """A newer wsinspector saved these (its own Local echo among them): this one lists and uses them, and
    writes none of them, even the echo's new port."""
    store = Store(data_dir / "wsinspector.sqlite3")
    try:
        for profile_id, name, builtin in (("echo", "Local echo", BUILTIN_LOCAL_ECHO), ("new", "From later", "")):
            data = {"version": PROFILE_VERSION + 1, "name": name, "builtin": builtin,
                    "endpoint": {"url": "ws://127.0.0.1:9/", "connect_to": "10.0.0.1:9"}, "folder": "Later"}
            store._db.execute("INSERT INTO profiles (id, position, data) VALUES (?, ?, ?)",
                              (profile_id, len(name), json.dumps(data)))
        before = store._db.execute("SELECT id, data FROM profiles ORDER BY id").fetchall()
    finally:
        store.close()
    context, window = _start(qtbot, data_dir)
    try:
        assert _list_names(window) == ["Local echo", "From later"]
        echo = context.connections.profiles[0]
        assert echo.read_only and ECHO_URL.fullmatch(echo.url)  # follows the echo server for this run
        window.connections.select("new")
        assert window.connections.current_profile().name == "From later"
        assert window.connections.edit_action.isEnabled() and window.connections.delete_action.isEnabled()
        assert not window.connections.rename_action.isEnabled()
        assert not window.connections.duplicate_action.isEnabled()
    finally:
        window.close()
        context.shutdown()
    store = Store(data_dir / "wsinspector.sqlite3")
    try:
        assert store._db.execute("SELECT id, data FROM profiles ORDER BY id").fetchall() == before
    finally:
        store.close()
