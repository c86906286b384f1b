"""Light and dark: the window follows the system's colour scheme (its palette) or View ▸ Appearance, and the colours
we set by hand (the banner, a frame's direction, error lines) follow too. Every text colour keeps WCAG's 4.5:1
contrast against the background it is drawn on, in both schemes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from tests.ui.helpers import connect, send_and_wait_for_echo
from wsinspector.ui import palette
from wsinspector.ui.banner import banner_style
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_DIR, COL_OPCODE

WCAG_TEXT = 4.5


@pytest.fixture(autouse=True)
def back_to_the_systems_look() -> Iterator[None]:
    """The palette is the application's: what a test changes is undone for the next one."""
    yield
    palette.watcher().set_appearance("system")
    QApplication.setPalette(QPalette())
    palette.watcher().check()


def _backgrounds(dark: bool) -> list[str]:
    """What text is drawn on in a view: its base and alternate rows, our palette's and the platform's."""
    own = palette.dark_palette() if dark else palette.light_palette()
    found = [own.color(QPalette.ColorRole.Base).name(), own.color(QPalette.ColorRole.AlternateBase).name(),
             own.color(QPalette.ColorRole.Window).name()]
    if palette.is_dark() == dark:
        system = QApplication.palette()
        found += [system.color(role).name() for role in (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase)]
    return found


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_colours_have_enough_contrast(qapp: Any, dark: bool) -> None:
    low = [(name, background, round(palette.contrast_ratio(palette.colour(name, dark), background), 2))
           for name in palette.TEXT_COLOURS for background in _backgrounds(dark)
           if palette.contrast_ratio(palette.colour(name, dark), background) < WCAG_TEXT]
    assert not low
    for name in palette.BADGE_COLOURS:
        assert palette.contrast_ratio("#ffffff", palette.colour(name, dark)) >= WCAG_TEXT, name
    for level in palette.BANNER_LEVELS:
        text, background = palette.colour(f"banner_{level}_fg", dark), palette.colour(f"banner_{level}_bg", dark)
        assert palette.contrast_ratio(text, background) >= WCAG_TEXT, level


def test_the_contrast_ratio_is_wcags() -> None:
    assert palette.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert palette.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert palette.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest passing grey


def _direction_colour(window: MainWindow, row: int) -> str:
    model = window.inspector.model
    return model.data(model.index(row, COL_DIR), Qt.ItemDataRole.ForegroundRole).color().name()


def test_view_appearance_dark_and_back(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "light or dark")
    window.banner.show_message("Something to read", "warning")
    assert _direction_colour(window, 0) == palette.colour("out", dark=False)
    assert _direction_colour(window, 1) == palette.colour("in", dark=False)
    assert window.banner.label.styleSheet() == banner_style("warning", dark=False)

    window.keys.appearance_actions["dark"].trigger()
    assert window.keys.appearance == "dark"
    qtbot.waitUntil(lambda: palette.palette_is_dark(window.inspector.timeline.palette()))  # Qt posts it on
    assert palette.palette_is_dark(window.palette())
    assert _direction_colour(window, 0) == palette.colour("out", dark=True)
    assert _direction_colour(window, 1) == palette.colour("in", dark=True)
    assert window.banner.label.styleSheet() == banner_style("warning", dark=True)
    assert palette.colour("error", dark=True) in window.inspector.filter_bar.error.styleSheet()
    # a banner shown while dark is dark
    window.banner.show_message("A new one", "error")
    assert window.banner.label.styleSheet() == banner_style("error", dark=True)

    window.keys.appearance_actions["system"].trigger()
    qtbot.waitUntil(lambda: not palette.palette_is_dark(window.palette()))
    assert _direction_colour(window, 1) == palette.colour("in", dark=False)
    assert window.banner.label.styleSheet() == banner_style("error", dark=False)


def test_the_window_follows_the_systems_palette(qtbot: Any, window: MainWindow) -> None:
    """A platform that turns dark changes the application's palette: the window's own colours follow it."""
    window.banner.show_message("Following the system", "info")
    model = window.inspector.model
    QApplication.setPalette(palette.dark_palette())  # what a platform switching to dark does
    qtbot.waitUntil(lambda: window.banner.label.styleSheet() == banner_style("info", dark=True))
    assert model._brushes["control"].color().name() == palette.colour("control", dark=True)
    QApplication.setPalette(QPalette())
    qtbot.waitUntil(lambda: window.banner.label.styleSheet() == banner_style("info", dark=False))
    assert COL_OPCODE  # the control colour is the Opcode column's
