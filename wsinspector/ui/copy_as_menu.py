"""Copy as, in a connection's tab: the timeline's right-click menu gets "Copy as ▸ websocat / wscat / Python /
JavaScript / NDJSON / CSV" for the chosen rows, and the tab's bar a "Copy as" button with the connection's
forms (the command that connects as it does, nothing sent). What is copied is made by core/copy_as.py; secrets
stay out of it (environment variables, or a constant to fill in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QBoxLayout, QMenu, QToolButton

from wsinspector.core import copy_as
from wsinspector.core.copying import Item
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import ConnectionProfile, Endpoint

if TYPE_CHECKING:
    from wsinspector.ui.inspector import InspectorPage

#: the menu's entries: (text, what is copied)
COMMANDS = (("websocat", "websocat"), ("wscat", "wscat"), ("Python", "python"), ("JavaScript", "javascript"))
DATA = (("NDJSON", "ndjson"), ("CSV", "csv"))


class CopyAsLink(QObject):
    """A tab's Copy as: the timeline's submenu and the bar's button. ``copied(str)`` says what went on the
    clipboard (the tab's status line shows it)."""

    copied = Signal(str)

    def __init__(self, page: InspectorPage, header: QBoxLayout) -> None:
        super().__init__(page)
        self._page = page
        self.rows_menu = QMenu("Copy as")
        self.rows_menu.setObjectName("copyAsRowsMenu")
        self.rows_menu.setToolTipsVisible(True)
        for text, kind in COMMANDS:
            action = self.rows_menu.addAction(text, lambda kind=kind: self.copy_rows(kind))
            action.setObjectName(f"copyRowsAs_{kind}")
            action.setToolTip(f"A {text} command that connects as this connection and sends the chosen messages")
        self.rows_menu.addSeparator()
        for text, kind in DATA:
            action = self.rows_menu.addAction(text, lambda kind=kind: self.copy_rows(kind))
            action.setObjectName(f"copyRowsAs_{kind}")
            action.setToolTip("Time, direction, opcode, FIN, size and the payload (text or base64) of each row")
        self.rows_action = QAction("Copy as", page.timeline)
        self.rows_action.setMenu(self.rows_menu)
        page.row_actions.add_action(self.rows_action, "copy")
        page.row_actions.about_to_show.connect(self._enable_rows)
        self.connection_menu = QMenu(page)
        self.connection_menu.setObjectName("copyAsConnectionMenu")
        for text, kind in COMMANDS:
            action = self.connection_menu.addAction(text, lambda kind=kind: self.copy_connection(kind))
            action.setObjectName(f"copyConnectionAs_{kind}")
        self.button = QToolButton()
        self.button.setObjectName("copyAsButton")
        self.button.setText("Copy as")
        self.button.setToolTip("This connection as a websocat or wscat command, or a Python or JavaScript snippet "
                               "(secrets read from environment variables)")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(self.connection_menu)
        header.insertWidget(max(0, header.count() - 2), self.button)

    def _enable_rows(self) -> None:
        self.rows_action.setEnabled(bool(self._page.row_actions.selected_items()))

    def target(self) -> copy_as.CopyTarget:
        """The connection as the tab has it: its saved settings with the URL typed in the bar; a stored
        session's tab, its recorded URL (secrets already replaced when it was recorded)."""
        page = self._page
        url = page.url.text().strip()
        profile = page.profile
        if profile is None:
            profile = ConnectionProfile(name="session", endpoint=Endpoint(url=url))
        elif url and url != profile.url:
            profile = profile.with_changes(endpoint={"url": url})
        controller = page.session
        variables = dict(controller.variables)
        if not variables and controller.variables_source is not None:
            variables = controller.variables_source(profile)
        kept = controller.secret_values
        secret = [name for name, value in variables.items() if value and value in kept]
        return copy_as.target_of(profile, variables or dict(profile.variables), secret)

    def copy_connection(self, kind: str) -> None:
        self._put(copy_as.command_for(kind, self.target()), f"the connection as {_label(kind)}")

    def copy_rows(self, kind: str) -> None:
        items = self._page.row_actions.selected_items()
        source = self._page.model.source
        if not items or source is None:
            self.copied.emit("Select rows first")
            return
        if kind == "ndjson":
            self._put(copy_as.ndjson_rows(source, items), f"{_rows(len(items))} as NDJSON")
        elif kind == "csv":
            self._put(copy_as.csv_rows(source, items), f"{_rows(len(items))} as CSV")
        else:
            sent = _to_send(items)
            self._put(copy_as.command_for(kind, self.target(), sent),
                      f"{_rows(len(sent))} as a {_label(kind)} command" if sent
                      else f"the connection as {_label(kind)} (no data message was chosen)")

    def _put(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(f"Copied {what}")


def _to_send(items: list[Item]) -> list[Item]:
    """What a command sends of the chosen rows: the data messages we sent, else every data message chosen."""
    data = [item for item in items if item.opcode in (Opcode.TEXT, Opcode.BINARY)]
    ours = [item for item in data if item.direction is Direction.OUT]
    return ours or data


def _label(kind: str) -> str:
    return dict((k, text) for text, k in (*COMMANDS, *DATA))[kind]


def _rows(count: int) -> str:
    return f"{count:,} row{'s' if count != 1 else ''}"
