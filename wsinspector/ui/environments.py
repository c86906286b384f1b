"""Environments in the window: the toolbar's switcher (which environment the next connect resolves with) and the
Environments dialog (the environments and the globals, a table of variables each; secret values masked)."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.environments import GLOBALS_ID, EnvironmentsController
from wsinspector.core.environments import VARIABLE_NAME, Environment, EnvironmentsError
from wsinspector.core.redact import is_secret_name
from wsinspector.core.store import StoreError
from wsinspector.ui import palette

NO_ENVIRONMENT = "No environment"
MASK = "••••••••"
_Index = QModelIndex | QPersistentModelIndex


class EnvironmentSwitcher(QComboBox):
    """"No environment" and the environments; choosing one makes it the active one."""

    def __init__(self, environments: EnvironmentsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("environmentSwitcher")
        self.setToolTip("The environment whose variables the next connect resolves {{variables}} with")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._environments = environments
        self.refresh()
        environments.environments_changed.connect(self.refresh)
        environments.active_changed.connect(self.refresh)
        self.activated.connect(self._on_activated)

    @Slot()
    def refresh(self) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem(NO_ENVIRONMENT, "")
        for environment in self._environments.environments:
            self.addItem(environment.name, environment.id)
        active = self._environments.active
        self.setCurrentIndex(self.findData(active.id) if active else 0)
        self.blockSignals(False)

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        self._environments.set_active(str(self.itemData(index) or ""))


class VariablesModel(QAbstractTableModel):
    """The variables of one environment (or the globals): name, value, secret. A secret value shows masked
    unless ``reveal`` is on. Rows without a name are kept while being typed, never saved.

    Signals:
        error(str): an edit was refused (the message names why); "" once an edit is taken
        edited(): the variables changed
    """

    error = Signal(str)
    edited = Signal()
    HEADERS = ("Name", "Value", "Secret")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[Any]] = []  # [name, value, secret]
        self.reveal = False

    def set_environment(self, environment: Environment) -> None:
        self.beginResetModel()
        self._rows = [[name, value, name in environment.secret_variables] for name, value in environment.variables]
        self.endResetModel()

    def applied_to(self, environment: Environment) -> Environment:
        """``environment`` with this table's variables."""
        rows = [row for row in self._rows if row[0]]
        return replace(environment, variables=tuple((row[0], row[1]) for row in rows),
                       secret_variables=tuple(row[0] for row in rows if row[2]))

    def set_reveal(self, reveal: bool) -> None:
        self.reveal = reveal
        if self._rows:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._rows) - 1, 1))

    def add_row(self) -> QModelIndex:
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
        self._rows.append(["", "", False])
        self.endInsertRows()
        return self.index(len(self._rows) - 1, 0)

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
            self.edited.emit()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < 3:
            return self.HEADERS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 2:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base | Qt.ItemFlag.ItemIsEditable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        name, value, secret = self._rows[index.row()]
        column = index.column()
        if column == 2:
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if secret else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.ToolTipRole:
                return "Secret: kept in the keyring, never in the database; shown masked"
            return None
        if role == Qt.ItemDataRole.EditRole:
            return name if column == 0 else value
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 1 and secret and value and not self.reveal:
                return MASK
            return name if column == 0 else value
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid():
            return False
        row, column = self._rows[index.row()], index.column()
        if column == 2 and role == Qt.ItemDataRole.CheckStateRole:
            row[2] = Qt.CheckState(value) == Qt.CheckState.Checked
        elif column == 0 and role == Qt.ItemDataRole.EditRole:
            name = str(value).strip()
            if not VARIABLE_NAME.fullmatch(name):
                self.error.emit(f"{name!r} is not a variable name: letters, digits, _ . - (not starting with a digit)")
                return False
            if any(other[0] == name for other in self._rows if other is not row):
                self.error.emit(f"There is a variable {name!r} already")
                return False
            if not row[0]:  # a new row: secret by default when its name says so
                row[2] = is_secret_name(name)
            row[0] = name
        elif column == 1 and role == Qt.ItemDataRole.EditRole:
            row[1] = str(value)
        else:
            return False
        self.error.emit("")
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), 2))
        self.edited.emit()
        return True


class EnvironmentsDialog(QDialog):
    """The environments and the globals; every change is saved as it is made."""

    def __init__(self, environments: EnvironmentsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("environmentsDialog")
        self.setWindowTitle("Environments")
        self.resize(760, 420)
        self._environments = environments
        self._current = GLOBALS_ID
        self.list = QListWidget()
        self.list.setObjectName("environmentList")
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.DoubleClicked)
        self.add_button = QPushButton("Add")
        self.duplicate_button = QPushButton("Duplicate")
        self.rename_button = QPushButton("Rename")
        self.remove_button = QPushButton("Remove")
        self.model = VariablesModel(self)
        self.table = QTableView()
        self.table.setObjectName("variablesTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(0, 180)
        self.title = QLabel()
        self.add_variable = QPushButton("Add variable")
        self.remove_variable = QPushButton("Remove variable")
        self.reveal = QCheckBox("Show secret values")
        self.error = QLabel()
        self.error.setObjectName("environmentsError")
        palette.style(self.error, "color: {error};")
        self.error.setWordWrap(True)
        self.error.hide()
        note = QLabel("Precedence, lowest first: globals, the connection's variables, the active environment, "
                      "values given for one run (--var). Secret values are kept in the keyring.")
        note.setWordWrap(True)
        note.setEnabled(False)
        self._layout(note)
        self._connect()
        self.refresh()
        self._show(GLOBALS_ID)
        self.list.setFocus()

    def _layout(self, note: QLabel) -> None:
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        for row in ((self.add_button, self.duplicate_button), (self.rename_button, self.remove_button)):
            line = QHBoxLayout()
            for button in row:
                line.addWidget(button)
            left.addLayout(line)
        right = QVBoxLayout()
        right.addWidget(self.title)
        right.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        for widget in (self.add_variable, self.remove_variable):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.reveal)
        right.addLayout(buttons)
        right.addWidget(self.error)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 3)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addLayout(columns, 1)
        outer.addWidget(note)
        outer.addWidget(box)

    def _connect(self) -> None:
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemChanged.connect(self._on_item_renamed)
        self.add_button.clicked.connect(self.add_environment)
        self.duplicate_button.clicked.connect(self.duplicate_environment)
        self.rename_button.clicked.connect(self.rename_environment)
        self.remove_button.clicked.connect(self.remove_environment)
        self.add_variable.clicked.connect(self.on_add_variable)
        self.remove_variable.clicked.connect(self.on_remove_variable)
        self.reveal.toggled.connect(self.model.set_reveal)
        self.model.error.connect(self.show_error)
        self.model.edited.connect(self._save_variables)
        self._environments.environments_changed.connect(self.refresh)

    # -- the list ----------------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """The list as the controller has it: names changed in place (an edit under way is not cut short), the
        rows built again only when environments came or went."""
        environments = [self._environments.globals, *self._environments.environments]
        ids = [str(self.list.item(row).data(Qt.ItemDataRole.UserRole)) for row in range(self.list.count())]
        self.list.blockSignals(True)
        if ids == [environment.id for environment in environments]:
            for row, environment in enumerate(environments):
                if self.list.item(row).text() != environment.name:
                    self.list.item(row).setText(environment.name)
        else:
            self.list.clear()
            for environment in environments:
                self.list.addItem(self._item(environment))
        kept = self._find(self._current)
        self.list.setCurrentItem(kept or self.list.item(0))
        self.list.blockSignals(False)
        if kept is None:  # deleted: show the globals
            self._show(GLOBALS_ID)
        else:  # the table stays as it is (no reset while editing); a new name shows
            self._show_title()

    @staticmethod
    def _item(environment: Environment) -> QListWidgetItem:
        item = QListWidgetItem(environment.name)
        item.setData(Qt.ItemDataRole.UserRole, environment.id)
        if environment.id != GLOBALS_ID:
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        else:
            item.setToolTip("Variables every connection and run sees, below the connection's own")
        return item

    def _find(self, environment_id: str) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == environment_id:
                return item
        return None

    def _select(self, environment_id: str) -> None:
        item = self._find(environment_id)
        if item is not None and item is not self.list.currentItem():
            self.list.setCurrentItem(item)
        elif item is not None:
            self._show(environment_id)

    def _environment(self, environment_id: str) -> Environment | None:
        if environment_id == GLOBALS_ID:
            return self._environments.globals
        return self._environments.get(environment_id)

    def _show(self, environment_id: str) -> None:
        environment = self._environment(environment_id)
        if environment is None:
            return
        self._current = environment_id
        self.model.set_environment(environment)
        self._show_title()

    def _show_title(self) -> None:
        environment = self._environment(self._current)
        is_globals = self._current == GLOBALS_ID
        name = html.escape(environment.name if environment else "")
        self.title.setText("<b>Globals</b>: seen by every connection" if is_globals else f"<b>{name}</b>")
        for button in (self.duplicate_button, self.rename_button, self.remove_button):
            button.setEnabled(not is_globals)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.show_error("")
            self._show(str(current.data(Qt.ItemDataRole.UserRole)))

    @Slot(QListWidgetItem)
    def _on_item_renamed(self, item: QListWidgetItem) -> None:
        environment_id = str(item.data(Qt.ItemDataRole.UserRole))
        environment = self._environments.get(environment_id)
        if environment is not None and item.text() != environment.name:
            renamed = self._apply(lambda: self._environments.rename(environment_id, item.text()))
            if renamed is None or renamed == environment:  # refused, or an empty name: the old one stays
                self.refresh()

    @Slot()
    def add_environment(self) -> None:
        added = self._apply(lambda: self._environments.add("New environment"))
        if isinstance(added, Environment):
            self._select(added.id)
            self.rename_environment()

    @Slot()
    def duplicate_environment(self) -> None:
        copy = self._apply(lambda: self._environments.duplicate(self._current))
        if isinstance(copy, Environment):
            self._select(copy.id)

    @Slot()
    def rename_environment(self) -> None:
        item = self._find(self._current)
        if item is not None and self._current != GLOBALS_ID:
            self.list.editItem(item)

    @Slot()
    def remove_environment(self) -> None:
        if self._current != GLOBALS_ID:
            self._apply(lambda: self._environments.delete(self._current))

    # -- the variables -----------------------------------------------------------------------------------

    @Slot()
    def on_add_variable(self) -> None:
        index = self.model.add_row()
        self.table.setCurrentIndex(index)
        self.table.edit(index)

    @Slot()
    def on_remove_variable(self) -> None:
        self.model.remove_row(self.table.currentIndex().row())

    @Slot()
    def _save_variables(self) -> None:
        environment = self._environment(self._current)
        if environment is not None:
            self._apply(lambda: self._environments.save(self.model.applied_to(environment)))

    def _apply(self, change: Any) -> object:
        try:
            result = change()
        except (EnvironmentsError, StoreError) as exc:
            self.show_error(str(exc))
            return None
        return result

    @Slot(str)
    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
