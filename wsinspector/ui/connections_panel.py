"""The saved connections as a tree: a search box, the Recent group, folders; new, edit, duplicate, rename, move
(dragging, a menu, the keyboard) and delete."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.connections import ConnectionsController
from wsinspector.core import folders as fo
from wsinspector.core.connection_defaults import ConnectionDefaults
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui.connections_model import ConnectionsModel, Kind
from wsinspector.ui.profile_dialog import ProfileDialog


class ConnectionsPanel(QWidget):
    """Signals:
    profile_selected(object): the selected ConnectionProfile, or None when none is left
    connect_requested(object): the user asked to connect to this profile (double-click / Enter)
    export_requested(str): the user asked to export the connections of this folder (and its folders) to a file
    """

    profile_selected = Signal(object)
    connect_requested = Signal(object)
    export_requested = Signal(str)

    def __init__(self, controller: ConnectionsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionsPanel")
        self._controller = controller
        #: folders the user folded (every other folder shows open)
        self._collapsed: set[str] = set()
        self._recent_collapsed = False
        self._restoring = False
        #: the profile the window was last told about
        self._shown: ConnectionProfile | None = None
        #: the app-wide connection defaults, which the connection dialog says its blank fields take
        self.connection_defaults: Callable[[], ConnectionDefaults | None] = lambda: None

        self.search = QLineEdit()
        self.search.setObjectName("connectionsSearch")
        self.search.setPlaceholderText("Search names and URLs")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_changed)
        clear = QAction("Clear the search", self.search, shortcut=QKeySequence(Qt.Key.Key_Escape),
                        shortcutContext=Qt.ShortcutContext.WidgetShortcut, triggered=self.search.clear)
        self.search.addAction(clear)
        self.no_match = QLabel()
        self.no_match.setObjectName("connectionsNoMatch")
        self.no_match.setWordWrap(True)
        self.no_match.hide()

        self.model = ConnectionsModel(controller, self)
        self.tree = self._init_tree()
        self._init_actions()
        title = QLabel("<b>Connections</b>")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.no_match)
        layout.addWidget(self.tree, 1)
        layout.addLayout(self._buttons())
        controller.profiles_changed.connect(self.reload)
        controller.recent_changed.connect(self.reload)
        self.reload()

    def _init_tree(self) -> QTreeView:
        tree = QTreeView()
        tree.setObjectName("connectionsTree")
        tree.setModel(self.model)
        tree.setHeaderHidden(True)
        tree.setUniformRowHeights(True)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        tree.setDropIndicatorShown(True)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._on_context_menu)
        tree.activated.connect(self._on_activated)
        tree.expanded.connect(self._on_expanded)
        tree.collapsed.connect(self._on_collapsed)
        tree.selectionModel().currentChanged.connect(self._on_current_changed)
        return tree

    def _init_actions(self) -> None:
        def action(text: str, slot: Callable[[], None], tip: str = "", shortcut: str = "") -> QAction:
            made = QAction(text, self, triggered=slot, toolTip=tip or text.rstrip("…"))
            if shortcut:
                made.setShortcut(QKeySequence(shortcut))
                made.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.tree.addAction(made)
            return made

        self.new_action = action("New", self.new_profile, "New connection")
        self.new_folder_action = action("New folder…", self.new_folder, "New folder")
        self.edit_action = action("Edit…", self.edit_current, "Edit the connection")
        self.duplicate_action = action("Duplicate", self.duplicate_current)
        self.rename_action = action("Rename…", self.rename_current, shortcut="F2")
        self.move_action = action("Move to folder…", self.move_current, "Move to another folder",
                                  shortcut="Ctrl+Shift+M")
        self.move_up_action = action("Move up", lambda: self.move_by(-1), shortcut="Alt+Up")
        self.move_down_action = action("Move down", lambda: self.move_by(1), shortcut="Alt+Down")
        self.delete_action = action("Delete", self.delete_current, shortcut="Del")
        self.export_folder_action = action("Export folder…", self._export_folder,
                                           "Export the folder's connections to a file")

    def _buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for made in (self.new_action, self.new_folder_action, self.edit_action, self.duplicate_action,
                     self.delete_action):
            button = QToolButton()
            button.setDefaultAction(made)
            buttons.addWidget(button)
        buttons.addStretch(1)
        return buttons

    # -- what it shows ------------------------------------------------------------------------------------

    @Slot()
    def reload(self) -> None:
        """Rebuild the tree, keeping what was current and selected, and which folders were open."""
        current = self.tree.currentIndex()
        key = self._key(current)
        selected = [self._key(i) for i in self.tree.selectionModel().selectedIndexes()]
        self._restoring = True
        try:
            self.model.rebuild()
            self._restore_expansion()
            selection = self.tree.selectionModel()
            for item in selected:
                index = self._find(item)
                if index.isValid():
                    selection.select(index, QItemSelectionModel.SelectionFlag.Select)
            index = self._find(key) if key else QModelIndex()
            if index.isValid():
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate
                                          if selected else QItemSelectionModel.SelectionFlag.ClearAndSelect)
        finally:
            self._restoring = False
        searching = bool(self.model.search_text.strip())
        self.no_match.setVisible(searching and self.model.is_empty())
        self.no_match.setText(f"No connection or folder matches “{self.model.search_text.strip()}”.")
        self._update_actions()
        profile = self.current_profile()
        if profile is not None and profile != self._shown:
            self._emit(profile)

    def _key(self, index: QModelIndex) -> tuple[str, str, bool] | None:
        if not index.isValid():
            return None
        profile = self.model.profile_at(index)
        if profile is not None:
            return ("profile", profile.id, self.model.in_recent(index))
        kind = self.model.kind(index)
        return (kind.value, self.model.folder_at(index) or "", False)

    def _find(self, key: tuple[str, str, bool] | None) -> QModelIndex:
        if key is None:
            return QModelIndex()
        kind, name, in_recent = key
        if kind == Kind.PROFILE.value:
            if in_recent:
                recent = self.model.recent_index()
                for row in range(self.model.rowCount(recent)):
                    index = self.model.index(row, 0, recent)
                    if self.model.data(index, ConnectionsModel.ID_ROLE) == name:
                        return index
            return self.model.index_of_profile(name)
        if kind == Kind.RECENT.value:
            return self.model.recent_index()
        return self.model.index_of_folder(name)

    def _restore_expansion(self) -> None:
        searching = bool(self.model.search_text.strip())
        for index in self.model.folder_indexes():
            if self.model.kind(index) is Kind.RECENT:
                self.tree.setExpanded(index, not self._recent_collapsed)
            else:
                self.tree.setExpanded(index, searching or self.model.folder_at(index) not in self._collapsed)

    def select(self, profile_id: str) -> None:
        """Make the connection current (in its folder, which opens), and tell the window."""
        index = self.model.index_of_profile(profile_id)
        if not index.isValid() and self.model.search_text:
            self.search.clear()  # it is filtered out: show everything again
            index = self.model.index_of_profile(profile_id)
        if index.isValid():
            self._reveal(index)

    def select_folder(self, path: str) -> None:
        index = self.model.index_of_folder(path)
        if index.isValid():
            self._reveal(index)

    def _reveal(self, index: QModelIndex) -> None:
        parent = index.parent()
        while parent.isValid():
            self.tree.expand(parent)
            parent = parent.parent()
        self.tree.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.tree.scrollTo(index)

    def current_profile(self) -> ConnectionProfile | None:
        return self.model.profile_at(self.tree.currentIndex())

    def current_folder(self) -> str | None:
        """The path of the current folder; None when the current row is not a folder."""
        index = self.tree.currentIndex()
        return self.model.folder_at(index) if index.isValid() else None

    def _target_folder(self) -> str:
        """Where something new goes: the current folder, or the current connection's folder."""
        index = self.tree.currentIndex()
        return self.model.container_at(index) if index.isValid() else ""

    def selected_profiles(self) -> list[ConnectionProfile]:
        """The selected connections (once each, whether picked under Recent or in their folder), in view order."""
        rows = sorted(self.tree.selectionModel().selectedIndexes(), key=self._order)
        out: list[ConnectionProfile] = []
        for index in rows:
            profile = self.model.profile_at(index)
            if profile is not None and all(p.id != profile.id for p in out):
                out.append(profile)
        current = self.current_profile()
        return out or ([current] if current is not None else [])

    def _order(self, index: QModelIndex) -> list[int]:
        rows = []
        while index.isValid():
            rows.append(index.row())
            index = index.parent()
        return rows[::-1]

    # -- the actions ---------------------------------------------------------------------------------------

    @Slot()
    def new_profile(self) -> None:
        profile = ConnectionProfile(name=self._controller.unique_name("New connection"),
                                    endpoint=Endpoint("ws://127.0.0.1:8765/"), folder=self._target_folder())
        self._open_dialog(ProfileDialog(profile, self, self.connection_defaults()), select=True)

    @Slot()
    def edit_current(self) -> None:
        """Edit the current connection; while a folder is current, the connection the window shows."""
        profile = self.current_profile()
        if profile is None and self._shown is not None:
            profile = self._controller.get(self._shown.id)
        if profile is not None:
            self._open_dialog(ProfileDialog(profile, self, self.connection_defaults()), select=False)

    def _open_dialog(self, dialog: ProfileDialog, select: bool) -> None:
        def saved() -> None:
            profile = self._controller.save(dialog.profile())
            if select:
                self.select(profile.id)
            self._emit(self.current_profile())

        dialog.accepted.connect(saved)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    @Slot()
    def duplicate_current(self) -> None:
        profile = self.current_profile()
        if profile is not None:
            self.select(self._controller.duplicate(profile.id).id)

    @Slot()
    def new_folder(self) -> None:
        parent = self._target_folder()
        where = f" in {fo.display_path(parent)}" if parent else ""

        def create(name: str) -> None:
            path = self._controller.create_folder(parent, name)
            self.select_folder(path)

        self._ask_text("New folder", f"Name of the new folder{where}", "", create)

    @Slot()
    def rename_current(self) -> None:
        folder = self.current_folder()
        if folder:
            self._ask_text("Rename folder", "Name", fo.leaf(folder),
                           lambda name: self.select_folder(self._controller.rename_folder(folder, name)))
            return
        profile = self.current_profile()
        if profile is not None:
            def rename(name: str) -> None:
                self._controller.rename(profile.id, name)
                self._emit(self.current_profile())

            self._ask_text("Rename connection", "Name", profile.name, rename)

    def _ask_text(self, title: str, label: str, text: str, done: Callable[[str], None]) -> None:
        """A one-line question; ``done(answer)`` once confirmed. A refused answer says why and asks again."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(text)

        def answered(value: str) -> None:
            if not value.strip():
                return
            try:
                done(value)
            except fo.FolderError as exc:
                self._warn(title, str(exc))

        dialog.textValueSelected.connect(answered)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _warn(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.finished.connect(box.deleteLater)
        box.open()

    @Slot()
    def move_current(self) -> None:
        """Ask for a folder, and move the selected connections (or the current folder) into it."""
        folder = self.current_folder()
        profiles = [] if folder else [p for p in self.selected_profiles() if not p.read_only]
        if not folder and not profiles:
            return
        choices = [f for f in ["", *self._controller.folders] if not folder or not fo.is_within(f, folder)]
        labels = [fo.display_path(f) for f in choices]
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Move to folder")
        moving = f"the folder “{fo.leaf(folder)}”" if folder else (
            f"“{profiles[0].name}”" if len(profiles) == 1 else f"{len(profiles)} connections")
        dialog.setLabelText(f"Move {moving} to")
        dialog.setComboBoxItems(labels)
        current = fo.parent_of(folder) if folder else profiles[0].folder
        dialog.setTextValue(fo.display_path(current))

        def chosen(label: str) -> None:
            target = choices[labels.index(label)]
            try:
                if folder:
                    self.select_folder(self._controller.move_folder(folder, target))
                else:
                    self._controller.move([p.id for p in profiles], target)
                    self.select(profiles[0].id)
            except fo.FolderError as exc:
                self._warn("Move to folder", str(exc))

        dialog.textValueSelected.connect(chosen)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def move_by(self, step: int) -> None:
        """Move the current connection one place up (-1) or down (1) within its folder."""
        index = self.tree.currentIndex()
        profile = self.model.profile_at(index)
        if profile is None or profile.read_only or self.model.in_recent(index):
            return
        ids = [p.id for p in self.model.siblings(index)]
        if self.model.search_text.strip():
            ids = [p.id for p in self._controller.profiles_in(profile.folder, recursive=False)]
        at = ids.index(profile.id)
        if not 0 <= at + step < len(ids):
            return
        rest = [pid for pid in ids if pid != profile.id]
        place = at + step
        self._controller.move([profile.id], profile.folder, rest[place] if place < len(rest) else None)
        self.select(profile.id)

    @Slot()
    def delete_current(self) -> None:
        folder = self.current_folder()
        if folder:
            self._delete_folder(folder)
            return
        profile = self.current_profile()
        if profile is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete connection",
                          f"Delete the saved connection “{profile.name}”?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self._delete_profile(profile)

        box.finished.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()

    def _delete_profile(self, profile: ConnectionProfile) -> None:
        siblings = self._controller.profiles_in(profile.folder, recursive=False)
        at = next((i for i, p in enumerate(siblings) if p.id == profile.id), 0)
        self._controller.delete(profile.id)
        siblings = [p for p in siblings if p.id != profile.id]
        if siblings:
            self.select(siblings[min(at, len(siblings) - 1)].id)
        elif self._controller.profiles:
            self.select(self._controller.profiles[0].id)
        else:
            self._emit(None)

    def _delete_folder(self, path: str) -> None:
        """An empty folder goes at once; for one with connections the user chooses: delete them too, or keep
        them (they move up into the folder's parent)."""
        count = len(self._controller.profiles_in(path))
        if not count:
            self._controller.delete_folder(path, keep_connections=False)
            return
        parent = fo.parent_of(path)
        up = f"into “{fo.display_path(parent)}”" if parent else "to the top level"
        box = QMessageBox(QMessageBox.Icon.Question, "Delete folder",
                          f"The folder “{fo.leaf(path)}” holds {_connections(count)}. Delete them with it, or "
                          f"keep them (they move up {up})?",
                          QMessageBox.StandardButton.Cancel, self)
        delete_all = box.addButton(f"Delete {_connections(count)}", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep them", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered() -> None:
            clicked = box.clickedButton()
            if clicked in (delete_all, keep):
                self._controller.delete_folder(path, keep_connections=clicked is keep)
                if self.current_profile() is None:
                    profiles = self._controller.profiles
                    if profiles:
                        self.select(profiles[0].id)
                    else:
                        self._emit(None)

        box.finished.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()

    # -- reacting ----------------------------------------------------------------------------------------

    def _emit(self, profile: ConnectionProfile | None) -> None:
        self._shown = profile
        self.profile_selected.emit(profile)

    def _update_actions(self) -> None:
        index = self.tree.currentIndex()
        profile = self.model.profile_at(index)
        folder = self.current_folder()
        for made in (self.edit_action, self.duplicate_action):
            made.setEnabled(profile is not None)
        self.rename_action.setEnabled(profile is not None or bool(folder))
        self.delete_action.setEnabled(profile is not None or bool(folder))
        self.move_action.setEnabled(profile is not None or bool(folder))
        self.export_folder_action.setEnabled(bool(folder))
        in_folder = profile is not None and not self.model.in_recent(index)
        self.move_up_action.setEnabled(in_folder)
        self.move_down_action.setEnabled(in_folder)
        if profile is not None and profile.read_only:  # saved by a newer version: kept as it is
            for made in (self.duplicate_action, self.rename_action, self.move_action, self.move_up_action,
                         self.move_down_action):
                made.setEnabled(False)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._restoring:
            return
        self._update_actions()
        profile = self.model.profile_at(current)
        if profile is not None:
            self._emit(profile)

    def _on_activated(self, index: QModelIndex) -> None:
        profile = self.model.profile_at(index)
        if profile is not None:
            self.connect_requested.emit(profile)

    def _on_expanded(self, index: QModelIndex) -> None:
        if self._restoring or self.model.search_text.strip():
            return
        if self.model.kind(index) is Kind.RECENT:
            self._recent_collapsed = False
        else:
            self._collapsed.discard(self.model.folder_at(index) or "")

    def _on_collapsed(self, index: QModelIndex) -> None:
        if self._restoring or self.model.search_text.strip():
            return
        if self.model.kind(index) is Kind.RECENT:
            self._recent_collapsed = True
        else:
            self._collapsed.add(self.model.folder_at(index) or "")

    def _on_search_changed(self, text: str) -> None:
        self.model.search_text = text
        self.reload()

    def _export_folder(self) -> None:
        folder = self.current_folder()
        if folder:
            self.export_requested.emit(folder)

    def _on_context_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        for made in (self.new_action, self.new_folder_action, None, self.edit_action, self.duplicate_action,
                     self.rename_action, self.move_action, self.export_folder_action, None, self.delete_action):
            if made is None:
                menu.addSeparator()
            else:
                menu.addAction(made)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.tree.viewport().mapToGlobal(pos))


def _connections(count: int) -> str:
    return f"{count} connection{'s' if count != 1 else ''}"
