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
