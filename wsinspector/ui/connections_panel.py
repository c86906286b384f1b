"""The list of saved connections with add, edit, duplicate, rename and delete."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.connections import ConnectionsController
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui.profile_dialog import ProfileDialog

_ID_ROLE = Qt.ItemDataRole.UserRole


class ConnectionsPanel(QWidget):
    """Signals:
    profile_selected(object): the selected ConnectionProfile, or None
    connect_requested(object): the user asked to connect to this profile (double-click / Enter)
    """

    profile_selected = Signal(object)
    connect_requested = Signal(object)

    def __init__(self, controller: ConnectionsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionsPanel")
        self._controller = controller
        self.list = QListWidget()
        self.list.setObjectName("connectionsList")
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemActivated.connect(self._on_activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._on_context_menu)

        self.new_action = QAction("New", self, triggered=self.new_profile, toolTip="New connection")
        self.edit_action = QAction("Edit…", self, triggered=self.edit_current, toolTip="Edit the connection")
        self.duplicate_action = QAction("Duplicate", self, triggered=self.duplicate_current)
        self.rename_action = QAction("Rename…", self, triggered=self.rename_current)
        self.delete_action = QAction("Delete", self, triggered=self.delete_current)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for action in (self.new_action, self.edit_action, self.duplicate_action, self.delete_action):
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        title = QLabel("<b>Connections</b>")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        controller.profiles_changed.connect(self.reload)
        self.reload()

    @Slot()
    def reload(self) -> None:
        current = self.current_profile()
        current_id = current.id if current else None
        self.list.blockSignals(True)
        self.list.clear()
        for profile in self._controller.profiles:
            item = QListWidgetItem(profile.name)
            item.setData(_ID_ROLE, profile.id)
            item.setToolTip(profile.url)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if current_id:
            self.select(current_id)
        self._update_actions()

    def select(self, profile_id: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ID_ROLE) == profile_id:
                self.list.setCurrentItem(item)
                return

    def current_profile(self) -> ConnectionProfile | None:
        item = self.list.currentItem()
        return self._controller.get(item.data(_ID_ROLE)) if item is not None else None

    @Slot()
    def new_profile(self) -> None:
        profile = ConnectionProfile(name=self._controller.unique_name("New connection"), endpoint=Endpoint("ws://127.0.0.1:8765/"))
        dialog = ProfileDialog(profile, self)
        if dialog.exec():
            saved = self._controller.save(dialog.profile())
            self.select(saved.id)

    @Slot()
    def edit_current(self) -> None:
        profile = self.current_profile()
        if profile is None:
            return
        dialog = ProfileDialog(profile, self)
        if dialog.exec():
            self._controller.save(dialog.profile())
            self._emit_current()

    @Slot()
    def duplicate_current(self) -> None:
        profile = self.current_profile()
        if profile is not None:
            self.select(self._controller.duplicate(profile.id).id)

    @Slot()
    def rename_current(self) -> None:
        profile = self.current_profile()
        if profile is None:
            return
        name, ok = QInputDialog.getText(self, "Rename connection", "Name", text=profile.name)
        if ok and name.strip():
            self._controller.rename(profile.id, name)
            self._emit_current()

    @Slot()
    def delete_current(self) -> None:
        profile = self.current_profile()
        if profile is None:
            return
        answer = QMessageBox.question(self, "Delete connection", f"Delete the saved connection “{profile.name}”?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            row = self.list.currentRow()
            self._controller.delete(profile.id)
            if self.list.count():
                self.list.setCurrentRow(min(row, self.list.count() - 1))
            else:
                self.profile_selected.emit(None)

    def _emit_current(self) -> None:
        self.profile_selected.emit(self.current_profile())

    def _update_actions(self) -> None:
        has = self.list.currentItem() is not None
        for action in (self.edit_action, self.duplicate_action, self.rename_action, self.delete_action):
            action.setEnabled(has)
        profile = self.current_profile()
        if profile is not None and profile.read_only:  # saved by a newer version: kept as it is
            self.duplicate_action.setEnabled(False)
            self.rename_action.setEnabled(False)

    def _on_current_changed(self, *_: object) -> None:
        self._update_actions()
        self._emit_current()

    def _on_activated(self, _item: QListWidgetItem) -> None:
        profile = self.current_profile()
        if profile is not None:
            self.connect_requested.emit(profile)

    def _on_context_menu(self, pos: object) -> None:
        menu = QMenu(self)
        for action in (self.new_action, self.edit_action, self.duplicate_action, self.rename_action,
                       self.delete_action):
            menu.addAction(action)
        menu.exec(self.list.viewport().mapToGlobal(pos))  # type: ignore[arg-type]
