"""How a settings dialog reads a setting's value from its widget and shows a value in it (``FieldWidget`` and one
maker per kind of widget), and the file-name field with its Browse… buttons. The connection dialog, its TLS and
Proxy tabs and the Connection defaults dialog share them."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSpinBox,
    QTabBar,
    QToolButton,
    QWidget,
)


def focus_first_field(container: QWidget) -> None:
    """Give the keyboard focus to the first field of ``container`` (in its tab order; a tab bar is no field), so
    a dialog opens ready for typing."""
    widget = container.nextInFocusChain()
    while widget is not None and widget is not container:
        if (container.isAncestorOf(widget) and not isinstance(widget, QTabBar) and widget.isEnabled()
                and widget.isVisibleTo(container) and widget.focusPolicy() & Qt.FocusPolicy.TabFocus):
            widget.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        widget = widget.nextInFocusChain()


class PathEdit(QWidget):
    """A file name with a Browse… button (and a folder button when a folder will do as well)."""

    def __init__(self, tip: str, folder_too: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(tip)
        self.edit.setToolTip(tip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        browse = QToolButton(text="File…")
        browse.clicked.connect(self._choose_file)
        layout.addWidget(browse)
        if folder_too:
            folder = QToolButton(text="Folder…")
            folder.clicked.connect(self._choose_folder)
            layout.addWidget(folder)

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a file", self.edit.text())
        if name:
            self.edit.setText(name)

    def _choose_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Choose a folder", self.edit.text())
        if name:
            self.edit.setText(name)


class FieldWidget(NamedTuple):
    """How the dialog reads a setting's value from its widget, and shows a value in it."""

    read: Callable[[], object]
    write: Callable[[object], None]


def text_field(widget: QLineEdit) -> FieldWidget:
    return FieldWidget(lambda: widget.text().strip(), lambda value: widget.setText(str(value)))


def secret_field(widget: QLineEdit) -> FieldWidget:
    """A secret, as typed (spaces may belong to it)."""
    return FieldWidget(widget.text, lambda value: widget.setText(str(value)))


def lines_field(widget: QPlainTextEdit) -> FieldWidget:
    """A tuple of strings, one per line."""
    return FieldWidget(lambda: tuple(line.strip() for line in widget.toPlainText().splitlines() if line.strip()),
                       lambda value: widget.setPlainText("\n".join(as_strings(value))))


def spin_field(widget: QSpinBox | QDoubleSpinBox) -> FieldWidget:
    if isinstance(widget, QSpinBox):
        return FieldWidget(widget.value, lambda value: widget.setValue(as_int(value)))
    return FieldWidget(widget.value, lambda value: widget.setValue(as_float(value)))


def check_field(widget: QCheckBox) -> FieldWidget:
    return FieldWidget(widget.isChecked, lambda value: widget.setChecked(bool(value)))


def choice_field(widget: QComboBox) -> FieldWidget:
    """The item data of a combo box; an unknown value shows the first item."""
    return FieldWidget(lambda: str(widget.currentData()),
                       lambda value: widget.setCurrentIndex(max(0, widget.findData(value))))


def as_int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def as_float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def as_strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, tuple) else []
