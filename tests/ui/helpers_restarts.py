"""Restarting the window over one data folder and one settings file, as the app does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from tests.ui.helpers import WAIT_MS, show_window
from wsinspector.app.context import AppContext
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.window_state import WindowState, restore_geometry


class Restarts:
    """Opens the window over ``data_dir`` as the app does (its state from ``settings``), and closes it."""

    def __init__(self, qtbot: Any, data_dir: Path, settings_path: Path) -> None:
        self.qtbot = qtbot
        self.data_dir = data_dir
        self.path = settings_path
        self.contexts: list[AppContext] = []

    def settings(self) -> QSettings:
        return QSettings(str(self.path), QSettings.Format.IniFormat)

    def open(self) -> MainWindow:
        """The window as the app opens it: its tabs put back before the echo server starts."""
        context = AppContext(self.data_dir, start_echo=False)
        self.contexts.append(context)
        window = MainWindow()
        settings = self.settings()
        restore_geometry(window, settings)
        show_window(self.qtbot, window)
        window.populate(context)
        self.qtbot.waitUntil(window.centralWidget().isVisible, timeout=WAIT_MS)  # the pages show in a turn
        window.window_state = WindowState(window, settings)
        window.window_state.restore()
        context.start_echo_server()
        return window

    def close(self, window: MainWindow) -> None:
        window.close()
        context = self.contexts.pop()
        context.shutdown()
