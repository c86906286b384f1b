"""Secret values on screen: a masked line edit with a reveal toggle, and for name/value tables a "Secret" column
whose rows show their value masked until revealed (the checkbox defaults by the name, as ``core/redact.py``
reads it)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

MASK = "•" * 8
#: the column of a table that says whether the row's value is secret
SECRET_COLUMN = 2
#: item data: the user set the row's "Secret" box themselves (no longer follows the name)
_CHOSEN = Qt.ItemDataRole.UserRole + 1


def reveal_button(tooltip: str, on_toggled: Callable[[bool], None]) -> QToolButton:
    """The one control that shows secrets masked on screen: a "Show" button that toggles to "Hide"."""
    reveal = QToolButton(text="Show")
    reveal.setObjectName("reveal")
    reveal.setCheckable(True)
    reveal.setToolTip(tooltip)

    def toggled(shown: bool) -> None:
        reveal.setText("Hide" if shown else "Show")
        on_toggled(shown)

    reveal.toggled.connect(toggled)
    return reveal


class SecretEdit(QWidget):
    """A line edit whose text is masked, with the Show/Hide toggle beside it."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText(placeholder)
        self.reveal = reveal_button("Show or hide the secret", self._on_reveal)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.reveal)

    def _on_reveal(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)


class MaskedValueDelegate(QStyledItemDelegate):
    """Paints the value of a row marked secret (``is_secret(row)``) as dots, and edits it in a password field,
    unless revealed."""

    def __init__(self, table: QTableWidget, is_secret: Callable[[int], bool]) -> None:
        super().__init__(table)
        self._is_secret = is_secret
        self.revealed = False

    def _masked(self, row: int) -> bool:
        return not self.revealed and self._is_secret(row)

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        if self._masked(index.row()) and option.text:  # type: ignore[attr-defined]
            option.text = MASK  # type: ignore[attr-defined]

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit) and self._masked(index.row()):
            editor.setEchoMode(QLineEdit.EchoMode.Password)
        return editor


class SecretColumn:
    """The "Secret" column of a name/value table: a checkbox per row, following ``is_secret(name)`` until the
    user sets it, and the value column masked for the rows it marks (``reveal`` shows them)."""

    def __init__(self, table: QTableWidget, is_secret: Callable[[str], bool]) -> None:
        self._table = table
        self._is_secret = is_secret
        self.delegate = MaskedValueDelegate(table, self.is_secret)
        table.setItemDelegateForColumn(1, self.delegate)
        table.itemChanged.connect(self._on_item_changed)
        self.reveal = reveal_button("Show or hide the values of the rows marked secret", self._on_reveal)

    def add(self, row: int, name: str, secret: bool | None) -> None:
        """Give a new row its box: ``secret``, or by its name when None (and then it follows the name)."""
        item = QTableWidgetItem()
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
        checked = self._is_secret(name) if secret is None else secret
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        item.setData(_CHOSEN, secret is not None)
        item.setToolTip("Secret: kept in the system keyring, never with the connection; shown masked")
        with QSignalBlocker(self._table):
            self._table.setItem(row, SECRET_COLUMN, item)

    def is_secret(self, row: int) -> bool:
        item = self._table.item(row, SECRET_COLUMN)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == SECRET_COLUMN:  # the user set the box: it no longer follows the name
            if not item.data(_CHOSEN):
                with QSignalBlocker(self._table):
                    item.setData(_CHOSEN, True)
            self._table.viewport().update()
        elif item.column() == 0:
            box = self._table.item(item.row(), SECRET_COLUMN)
            if box is not None and not box.data(_CHOSEN):
                with QSignalBlocker(self._table):
                    box.setCheckState(Qt.CheckState.Checked if self._is_secret(item.text().strip())
                                      else Qt.CheckState.Unchecked)
                self._table.viewport().update()

    def _on_reveal(self, shown: bool) -> None:
        self.delegate.revealed = shown
        self._table.viewport().update()


class MaskedColumn:
    """The value column of a name/value table masked for the rows whose name ``is_secret`` says holds one
    (every cookie; a login request's Authorization header), with the Show/Hide toggle: for tables whose secrets
    are kept by what they are, not by a box the user ticks."""

    def __init__(self, table: QTableWidget, is_secret: Callable[[str], bool]) -> None:
        self._table = table
        self._is_secret = is_secret
        self.delegate = MaskedValueDelegate(table, self._row_is_secret)
        table.setItemDelegateForColumn(1, self.delegate)
        self.reveal = reveal_button("Show or hide the secret values", self._on_reveal)

    def _row_is_secret(self, row: int) -> bool:
        item = self._table.item(row, 0)
        return self._is_secret(item.text().strip() if item is not None else "")

    def _on_reveal(self, shown: bool) -> None:
        self.delegate.revealed = shown
        self._table.viewport().update()
