"""Where no keyring answers, the window says so once at start, with how to give secrets instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.helpers import show_window
from wsinspector.app.context import AppContext
from wsinspector.ui.main_window import MainWindow


def test_no_keyring_is_said_once_in_the_banner(qtbot: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WSINSPECTOR_KEYRING")  # keyring's placeholder backend answers: no keyring
    context = AppContext(data_dir)
    window = MainWindow(context)
    try:
        show_window(qtbot, window)
        qtbot.waitUntil(lambda: bool(window.banner.text), timeout=5000)
        assert window.banner.level == "warning"
        assert window.banner.text.count("No usable keyring") == 1
        assert "WSINSPECTOR_SECRET_" in window.banner.text
    finally:
        window.close()
        context.shutdown()


def test_a_secret_typed_into_a_url_is_said_once_to_live_in_a_secret_variable(qtbot: Any, data_dir: Path) -> None:
    from wsinspector.core.profiles import ConnectionProfile, Endpoint

    context = AppContext(data_dir, start_echo=False)
    window = MainWindow(context)
    try:
        show_window(qtbot, window)
        window.banner.clear()
        saved = context.connections.save(ConnectionProfile(
            name="Typed", endpoint=Endpoint("wss://localhost:18444/?token=URLTOKENSECRET")))
        assert saved.url == "wss://localhost:18444/?token={{token}}"
        assert window.banner.level == "info"
        assert "“Typed”" in window.banner.text and "token" in window.banner.text
        assert "URLTOKENSECRET" not in window.banner.text and "placeholder" not in window.banner.text
        text = window.banner.text
        context.connections.save(ConnectionProfile(name="Again", endpoint=Endpoint("ws://h/?sig=SIGSECRET1")))
        assert window.banner.text == text  # said once; later ones in the status bar
        assert "sig" in window.statusBar().currentMessage()
    finally:
        window.close()
        context.shutdown()
