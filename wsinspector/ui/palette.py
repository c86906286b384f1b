"""The window's colours, light and dark, in one place, and how the window follows the system's colour scheme.

Every colour a widget of ours sets by hand (the banner, the direction of a frame, an error line) is named here with
a light and a dark variant. Which one applies follows the application's palette: when the platform switches to
dark (Qt's colour-scheme hints, ``QStyleHints.colorScheme``), its palette turns dark and every widget styled
through ``style`` is styled again. View ▸ Appearance can also ask for light or dark whatever the system says:
on a platform that does not switch its palette itself the window then uses its own (``LIGHT_PALETTE`` and
``DARK_PALETTE``, Fusion's roles).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

#: name → (light, dark). Text colours meet WCAG's 4.5:1 against the view's background in both schemes
#: (tests/ui/test_look.py computes it).
COLOURS: dict[str, tuple[str, str]] = {
    "in": ("#1f7a3d", "#5fd38a"),
    "out": ("#1f5fa8", "#7cb4ff"),
    "control": ("#8a5a00", "#e8b05a"),
    "error": ("#b00020", "#ff8a80"),
    "warning": ("#8a5a00", "#e8b05a"),
    "ok": ("#1f7a3d", "#5fd38a"),
    "muted": ("#666666", "#a8a8a8"),
    "accent": ("#1f4e99", "#8ab4f8"),
    "modified": ("#9a5a00", "#f0b45a"),
    "reconnect_row": ("#40ffc400", "#40806000"),
    "viewing_bar": ("#eef2f7", "#2b3440"),
    "stored": ("#3b6ea8", "#7cb4ff"),
    "badge_bg": ("#1f5fa8", "#2f6fc0"),
    "badge_fg": ("#ffffff", "#ffffff"),
    "danger_bg": ("#8c0010", "#a3142a"),
    # white text on it: the tab header's periodic sends and auto-replies
    "automation_bg": ("#6a3fb5", "#7048b8"),
    # white text on these: a connection's state badge (and the dot on its tab)
    "state_closed": ("#6b6b6b", "#6b6b6b"),
    "state_busy": ("#9a5a00", "#9a5a00"),
    "state_open": ("#1f7a3d", "#1f7a3d"),
    "banner_error_bg": ("#fde7e9", "#4a1418"),
    "banner_error_fg": ("#8c0010", "#ffd7d9"),
    "banner_error_border": ("#f1b0b7", "#8c2f39"),
    "banner_warning_bg": ("#fff4ce", "#453700"),
    "banner_warning_fg": ("#5c4400", "#ffe9a8"),
    "banner_warning_border": ("#f0d77b", "#8a6d00"),
    "banner_info_bg": ("#e7f1fd", "#10304f"),
    "banner_info_fg": ("#0b3d75", "#cfe4ff"),
    "banner_info_border": ("#b0cdf1", "#2f5f8f"),
}
#: the text colours shown on the view's background (the timeline's rows, error lines): checked for contrast
TEXT_COLOURS = ("in", "out", "control", "error", "warning", "ok", "muted", "accent", "modified")
#: the backgrounds white text is written on (badges)
BADGE_COLOURS = ("state_closed", "state_busy", "state_open", "danger_bg", "badge_bg", "automation_bg")
#: the banner's text on its own background, per level
BANNER_LEVELS = ("error", "warning", "info")

APPEARANCES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


def _palette(window: str, base: str, alternate: str, text: str, button: str, highlight: str, bright: str,
             disabled: str) -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, window), (roles.Base, base), (roles.AlternateBase, alternate),
                         (roles.WindowText, text), (roles.Text, text), (roles.ButtonText, text),
                         (roles.Button, button), (roles.Highlight, highlight), (roles.HighlightedText, bright),
                         (roles.ToolTipBase, base), (roles.ToolTipText, text), (roles.PlaceholderText, disabled),
                         (roles.BrightText, bright), (roles.Link, highlight), (roles.Mid, disabled)):
        palette.setColor(role, QColor(colour))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return palette


def dark_palette() -> QPalette:
    return _palette("#2b2b2b", "#1e1e1e", "#262626", "#e6e6e6", "#353535", "#2f6fc0", "#ffffff", "#8a8a8a")


def light_palette() -> QPalette:
    return _palette("#efefef", "#ffffff", "#f7f7f7", "#000000", "#efefef", "#308cc6", "#ffffff", "#8a8a8a")


def palette_is_dark(palette: QPalette) -> bool:
    """Whether this palette draws light text on a dark background."""
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


def is_dark() -> bool:
    """The application's palette is dark now."""
    return palette_is_dark(QGuiApplication.palette())


def colour(name: str, dark: bool | None = None) -> str:
    """A named colour (``#rrggbb`` or ``#aarrggbb``) for the current scheme, or for ``dark`` when given."""
    light_value, dark_value = COLOURS[name]
    return dark_value if (is_dark() if dark is None else dark) else light_value


def qcolour(name: str, dark: bool | None = None) -> QColor:
    return QColor(colour(name, dark))


def colours(dark: bool | None = None) -> dict[str, str]:
    """Every named colour for the current scheme (for ``str.format`` of a style sheet)."""
    return {name: colour(name, dark) for name in COLOURS}


# -- contrast (WCAG 2.x) ------------------------------------------------------------------------------------------


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(value: str | QColor) -> float:
    """The relative luminance of a colour, 0 (black) to 1 (white)."""
    qc = QColor(value)
    return 0.2126 * _linear(qc.redF()) + 0.7152 * _linear(qc.greenF()) + 0.0722 * _linear(qc.blueF())


def contrast_ratio(foreground: str | QColor, background: str | QColor) -> float:
    """WCAG's contrast ratio of two colours, 1 to 21 (4.5 is the least for body text)."""
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# -- following the scheme -----------------------------------------------------------------------------------------


class SchemeWatcher(QObject):
    """Tells when the application's palette turns from light to dark or back. It hears the palette change
    through the window it watches (no application-wide event filter).

    Signals:
        changed(bool): the palette is dark now (True) or light
    """

    changed = Signal(bool)

    def __init__(self) -> None:
        super().__init__(QApplication.instance())
        self.setObjectName("schemeWatcher")
        self.dark = is_dark()
        self.appearance = "system"
        self._own_palette = False
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)

    def watch(self, window: QWidget) -> None:
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
            self.check()
        return False

    @Slot()
    def check(self) -> None:
        dark = is_dark()
        if dark != self.dark:
            self.dark = dark
            self.changed.emit(dark)

    @Slot(Qt.ColorScheme)
    def _on_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        self.check()

    def set_appearance(self, appearance: str) -> None:
        """"system", "light" or "dark" (anything else: "system"). The platform is asked first; where it keeps
        its palette, the window's own palette of that scheme is used."""
        appearance = appearance if appearance in APPEARANCES else "system"
        self.appearance = appearance
        app = QApplication.instance()
        assert isinstance(app, QGuiApplication)
        hints = app.styleHints()
        if self._own_palette:
            app.setPalette(QPalette())  # back to the platform's
            self._own_palette = False
        if appearance == "system":
            hints.unsetColorScheme()
        else:
            want_dark = appearance == "dark"
            hints.setColorScheme(Qt.ColorScheme.Dark if want_dark else Qt.ColorScheme.Light)
            if palette_is_dark(app.palette()) != want_dark:
                app.setPalette(dark_palette() if want_dark else light_palette())
                self._own_palette = True
        self.check()


_watcher: SchemeWatcher | None = None


def watcher() -> SchemeWatcher:
    """The application's one watcher (made on first use)."""
    global _watcher  # noqa: PLW0603  (one per application)
    if _watcher is None or not _alive(_watcher):
        _watcher = SchemeWatcher()
    return _watcher


def _alive(obj: QObject) -> bool:
    import shiboken6  # noqa: PLC0415

    return bool(shiboken6.isValid(obj))


class _Restyler(QObject):
    """A widget's style sheet, formatted with the current colours again whenever the scheme changes; a child of
    the widget, so it goes with it."""

    def __init__(self, widget: QWidget, make: Callable[[], str]) -> None:
        super().__init__(widget)
        self.setObjectName("restyler")
        self._widget = widget
        self._make = make
        watcher().changed.connect(self.apply)

    @Slot()
    def apply(self) -> None:
        self._widget.setStyleSheet(self._make())


def style(widget: QWidget, template: str | Callable[[], str]) -> None:
    """Set ``widget``'s style sheet from ``template`` (``{error}``… name colours of ``COLOURS``; or a function
    making the sheet) now and again whenever the scheme changes. A later call replaces the earlier one."""
    make = template if callable(template) else (lambda: template.format(**colours()))
    for old in widget.findChildren(_Restyler, "restyler", Qt.FindChildOption.FindDirectChildrenOnly):
        old.setParent(None)
        old.deleteLater()
    _Restyler(widget, make).apply()
