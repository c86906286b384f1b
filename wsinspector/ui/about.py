"""Help ▸ About: what runs, where the data is, the licence; copyable for a bug report."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from wsinspector.app.about import about_lines, version_text


class AboutDialog(QDialog):
    """The About box: the icon, one line per fact, Copy (the same text as ``--version``) and Close."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None, secrets_where: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About wsinspector")
        self._text = version_text(data_dir, secrets_where)
        (name, version), *rest = about_lines(data_dir, secrets_where)
        rows = "".join(f"<tr><td style='padding-right:12px'><b>{html.escape(label)}</b></td>"
                       f"<td>{html.escape(value)}</td></tr>" for label, value in rest)
        self.label = QLabel(f"<h3>{html.escape(name)} {html.escape(version)}</h3>"
                            "<p>Inspect and test WebSocket endpoints: every frame, latency, sessions, replay.</p>"
                            f"<table>{rows}</table>")
        self.label.setObjectName("aboutText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        icon = QLabel()
        parent_icon = parent.windowIcon() if parent is not None else QGuiApplication.windowIcon()
        icon.setPixmap(parent_icon.pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Copy these lines, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(self.label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(buttons)

    @property
    def text(self) -> str:
        return self._text

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self._text)


def show_about(parent: QWidget, data_dir: Path, secrets_where: str | None = None) -> None:
    dialog = AboutDialog(data_dir, parent, secrets_where)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
