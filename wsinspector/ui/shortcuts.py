"""The window's keyboard: moving between the parts of the window and its pages, Save, find, and the View menu
(pages, the parts to focus, Appearance); Help ▸ Keyboard shortcuts (F1) lists every key the window's actions have,
read from those actions, so the list is always the keys that work.

Keys:
    Ctrl+Shift+L  the connection list      Ctrl+L  the URL field       Ctrl+F  the filter's search field
    Ctrl+M        the composer             Ctrl+1…5  the Inspector, Health, Sessions, Tests, Server pages
    Ctrl+S        save what the page shows: the Tests page its test, the Inspector its tab's edited URL
    F3 / Shift+F3 find the next / previous match    F1  this list
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wsinspector.ui import palette

if TYPE_CHECKING:
    from wsinspector.ui.main_window import MainWindow

#: what the help calls a part of the window that has keys of its own (by object name)
_PLACES = {"connectionsPanel": "Connection list", "connectionsTree": "Connection list",
           "connectionsSearch": "Connection search", "composerEditor": "Composer", "urlEdit": "URL field",
           "timeline": "Timeline", "protocolBar": "Protocol bar"}
_PAGE_NAMES = ("&Inspector", "&Health", "&Sessions", "&Tests", "Se&rver")


def plain(text: str) -> str:
    """An action's text as the user reads it: without its mnemonic's "&"."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


class Keys(QObject):
    """The keyboard actions of ``window`` and its View menu; ``appearance`` is View ▸ Appearance's choice."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.appearance = "system"
        palette.watcher().watch(window)
        self._build_view_menu()
        self._build_save()
        self._build_help()

    def _action(self, text: str, keys: str | QKeySequence.StandardKey, slot: object, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        if tip:
            action.setToolTip(tip)
        return action

    def _build_view_menu(self) -> None:
        window = self.window
        menu = QMenu("&View", window)
        session_menu = next(a for a in window.menuBar().actions() if a.text() == "&Session")
        window.menuBar().insertMenu(session_menu, menu)
        self.page_actions = []
        for index, name in enumerate(_PAGE_NAMES):
            action = self._action(name, f"Ctrl+{index + 1}", lambda _c=False, i=index: self.show_page(i))
            menu.addAction(action)
            self.page_actions.append(action)
        menu.addSeparator()
        self.focus_connections_action = self._action("Go to the &connection list", "Ctrl+Shift+L",
                                                     self.focus_connections)
        self.focus_url_action = self._action("Go to the &URL", "Ctrl+L", self.focus_url)
        self.focus_filter_action = self._action("Go to the &filter", QKeySequence.StandardKey.Find,
                                                self.focus_filter)
        self.focus_composer_action = self._action("Go to the co&mposer", "Ctrl+M", self.focus_composer)
        self.find_next_action = self._action("Find &next", "F3", lambda: self._find(backwards=False))
        self.find_previous_action = self._action("Find &previous", "Shift+F3", lambda: self._find(backwards=True))
        for action in (self.focus_connections_action, self.focus_url_action, self.focus_filter_action,
                       self.focus_composer_action, self.find_next_action, self.find_previous_action):
            menu.addAction(action)
        menu.addSeparator()
        appearance = menu.addMenu("&Appearance")
        group = QActionGroup(self)
        self.appearance_actions: dict[str, QAction] = {}
        for key, label in palette.APPEARANCES.items():
            action = appearance.addAction(label)
            action.setCheckable(True)
            action.setChecked(key == "system")
            action.setData(key)
            action.triggered.connect(lambda _c=False, k=key: self.set_appearance(k))
            group.addAction(action)
            self.appearance_actions[key] = action

    def _build_save(self) -> None:
        self.save_action = self._action("&Save", QKeySequence.StandardKey.Save, self.save,
                                        "Save what the page shows: the test on the Tests page, the edited URL of "
                                        "the current tab on the Inspector")
        file_menu = self.window.menuBar().actions()[0].menu()
        quit_action = file_menu.actions()[-1]
        file_menu.insertAction(quit_action, self.save_action)
        file_menu.insertSeparator(quit_action)

    def _build_help(self) -> None:
        help_menu = next(a for a in self.window.menuBar().actions() if a.text() == "&Help").menu()
        self.shortcuts_action = self._action("&Keyboard shortcuts", QKeySequence.StandardKey.HelpContents,
                                             self.show_shortcuts)
        help_menu.insertAction(help_menu.actions()[0], self.shortcuts_action)

    # -- what the keys do -----------------------------------------------------------------------------------------

    @Slot()
    def show_page(self, index: int) -> None:
        tabs = self.window.tabs
        if 0 <= index < tabs.count():
            tabs.setCurrentIndex(index)

    def _inspector(self) -> None:
        self.window.tabs.setCurrentWidget(self.window.connection_tabs)

    @Slot()
    def focus_connections(self) -> None:
        self.window.connections.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def focus_url(self) -> None:
        self._inspector()
        page = self.window.inspector
        if page.stored_only:
            page = self.window.connection_tabs.live_page
            self.window.connection_tabs.setCurrentWidget(page)
        page.url.setFocus(Qt.FocusReason.ShortcutFocusReason)
        page.url.selectAll()

    @Slot()
    def focus_filter(self) -> None:
        self._inspector()
        search = self.window.inspector.filter_bar.search
        search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        search.selectAll()

    @Slot()
    def focus_composer(self) -> None:
        self._inspector()
        page = self.window.inspector
        if page.stored_only:
            page = self.window.connection_tabs.live_page
            self.window.connection_tabs.setCurrentWidget(page)
        page.composer.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _find(self, backwards: bool) -> None:
        if self.window.tabs.currentWidget() is self.window.connection_tabs:
            bar = self.window.inspector.filter_bar
            (bar.previous if backwards else bar.next).click()

    @Slot()
    def save(self) -> None:
        """Ctrl+S: the Tests page saves its test; the Inspector saves its tab's edited URL into the connection."""
        window = self.window
        current = window.tabs.currentWidget()
        if current is window.tests_page:
            window.tests_view.save()
        elif current is window.connection_tabs and window.inspector.url_modified_now:
            window.inspector.save_url()
        else:
            window.statusBar().showMessage("Nothing to save here: Ctrl+S saves a test on the Tests page, or a "
                                           "tab's edited URL on the Inspector", 5000)

    def set_appearance(self, appearance: str) -> None:
        """Follow the system's colour scheme, or use light or dark."""
        appearance = appearance if appearance in palette.APPEARANCES else "system"
        self.appearance = appearance
        self.appearance_actions[appearance].setChecked(True)
        palette.watcher().set_appearance(appearance)

    @Slot()
    def show_shortcuts(self) -> None:
        dialog = getattr(self, "shortcuts_dialog", None)
        if dialog is None:
            dialog = self.shortcuts_dialog = ShortcutsDialog(self.window)
        dialog.refresh()
        dialog.open()
        dialog.raise_()


# -- the list of keys -------------------------------------------------------------------------------------------------


def _menu_titles(window: QWidget) -> dict[QAction, str]:
    """Each action in the menu bar's menus with its menu path ("View ▸ Appearance")."""
    found: dict[QAction, str] = {}

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} ▸ {plain(action.text())}")
            elif action not in found:
                found[action] = path

    for top in window.menuBar().actions():  # type: ignore[attr-defined]
        if top.menu() is not None:
            walk(top.menu(), plain(top.text()))
    return found


def _place(obj: QObject) -> str:
    widget = obj.parent()
    while widget is not None:
        name = _PLACES.get(widget.objectName())
        if name:
            return name
        widget = widget.parent()
    return "Window"


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(keys, what they do, where) for every action of the window that has keys, and every key of a field that
    says what it does (a ``QShortcut`` with its "What's this"), sorted by where and what."""
    menus = _menu_titles(window)
    rows: set[tuple[str, str, str]] = set()
    for action in window.findChildren(QAction):
        keys = [key for key in action.shortcuts() if not key.isEmpty()]
        if not keys or not action.text():
            continue
        text = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in keys)
        rows.add((text, plain(action.text()).rstrip("…"), menus.get(action) or _place(action)))
    for shortcut in window.findChildren(QShortcut):
        if shortcut.whatsThis() and not shortcut.key().isEmpty():
            rows.add((shortcut.key().toString(QKeySequence.SequenceFormat.NativeText), shortcut.whatsThis(),
                      _place(shortcut)))
    return sorted(rows, key=lambda row: (row[2], row[1]))


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard shortcuts: every key, what it does and where; a search box filters the list."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 520)
        self._window = window
        self.search = QLineEdit()
        self.search.setObjectName("shortcutsSearch")
        self.search.setPlaceholderText("Search keys and actions")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.search.setFocus()

    def refresh(self) -> None:
        rows = shortcut_rows(self._window)
        self.table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(2)
        self._filter(self.search.text())

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows (the rows the search leaves)."""
        return [tuple(self.table.item(row, col).text() for col in range(3))  # type: ignore[misc]
                for row in range(self.table.rowCount()) if not self.table.isRowHidden(row)]

    @Slot(str)
    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.table.rowCount()):
            line = " ".join(self.table.item(row, col).text() for col in range(3)).lower()
            self.table.setRowHidden(row, bool(needle) and needle not in line)
