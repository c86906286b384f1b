"""File ▸ Import connections…, Paste command line…, Export connections…: their dialogs, and the banner that
reports what came in and what was left out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.connections import ConnectionsController
from wsinspector.app.tasks import ChunkedTask
from wsinspector.app.transfer import ConnectionsImport, ImportReport, export_to
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.ui.banner import Banner
from wsinspector.ui.connections_panel import ConnectionsPanel
from wsinspector.ui.task_status import TaskStatus

IMPORT_FILTER = ("Collections and exports (*.json *.yaml *.yml *.bru *.har);;Postman collection (*.request.yaml);;"
                 "Insomnia export (*.json *.yaml *.yml);;Bruno request (*.bru);;OpenCollection (*.yml *.yaml);;"
                 "HAR file (*.har);;All files (*)")
EXPORT_FILTER = "wsinspector connections (*.json)"
#: the most lines of an import's report the banner shows; the rest are behind its Show all button
BANNER_LINES = 8


class CommandDialog(QDialog):
    """A text box for a websocat, wscat or curl command line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandDialog")
        self.setWindowTitle("Paste command line")
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("commandEditor")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText("websocat -H 'Authorization: Bearer {{token}}' wss://example.com/socket")
        self.editor.setTabChangesFocus(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("A websocat, wscat or curl command that opens a WebSocket connection:"))
        layout.addWidget(self.editor, 1)
        layout.addWidget(buttons)
        self.resize(620, 200)
        self.editor.setFocus()

    @property
    def text(self) -> str:
        return self.editor.toPlainText()


class ConnectionsTransfer(QObject):
    """The three actions, and what runs when their dialogs are answered. Files are imported in slices with
    their progress and Cancel in the status bar (``tasks``).

    Signals:
        imported(object): an import is over and its report (an :class:`ImportReport`) shown
    """

    imported = Signal(object)

    def __init__(self, window: QWidget, controller: ConnectionsController, banner: Banner,
                 panel: ConnectionsPanel, tasks: TaskStatus) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        self._banner = banner
        self._panel = panel
        self._tasks = tasks
        self.import_action = QAction("&Import connections…", self, triggered=self.ask_import)
        self.import_action.setToolTip("Postman, Insomnia, Bruno, OpenCollection, HAR or exported connections")
        self.paste_action = QAction("&Paste command line…", self, triggered=self.ask_command)
        self.paste_action.setToolTip("A websocat, wscat or curl command line")
        self.export_action = QAction("&Export connections…", self, triggered=self.ask_export)
        self.export_action.setToolTip("All saved connections, secrets left out as {{variables}}")
        self.dialog: QDialog | None = None

    @Slot()
    def ask_import(self) -> None:
        dialog = QFileDialog(self._window, "Import connections", "", IMPORT_FILTER)
        dialog.setObjectName("importDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda names: self.import_files([Path(n) for n in names]))
        self._open(dialog)

    @Slot()
    def ask_command(self) -> None:
        dialog = CommandDialog(self._window)
        dialog.accepted.connect(lambda: self.import_command(dialog.text))
        self._open(dialog)

    @Slot()
    def ask_export(self) -> None:
        self._ask_export("Export connections", "connections.json", None)

    @Slot(str)
    def ask_export_folder(self, folder: str) -> None:
        """Export the connections of ``folder`` and of the folders in it."""
        profiles = self._controller.profiles_in(folder)
        self._ask_export(f"Export the folder “{folder}”", f"{folder.rsplit('/', 1)[-1]}.json", profiles)

    def _ask_export(self, title: str, name: str, profiles: Sequence[ConnectionProfile] | None) -> None:
        dialog = QFileDialog(self._window, title, name, EXPORT_FILTER)
        dialog.setObjectName("exportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("json")
        dialog.fileSelected.connect(lambda chosen: self.export_to(Path(chosen), profiles))
        self._open(dialog)

    def _show_all(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Import connections", text.split("\n", 1)[0],
                          QMessageBox.StandardButton.Close, self._window)
        box.setObjectName("importReport")
        box.setDetailedText(text)
        self._open(box)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def import_files(self, paths: Sequence[Path]) -> ChunkedTask | None:
        """Import the files in slices; the task (None when another task is running: the banner says so)."""
        job = ConnectionsImport(self._controller, paths)
        task = job.task(self)
        task.finished.connect(self._show)
        if not self._tasks.run(task):
            job.discard()
            return None
        return task

    def import_command(self, text: str) -> ImportReport:
        report = ConnectionsImport(self._controller, command=text).run()
        self._show(report)
        return report

    def export_to(self, path: Path, profiles: Sequence[ConnectionProfile] | None = None) -> bool:
        try:
            count, notes = export_to(path, self._controller.profiles if profiles is None else profiles)
        except OSError as exc:
            self._banner.show_message(f"Cannot write {path}: {exc.strerror or exc}")
            return False
        lines = [f"Exported {count} connection{'s' if count != 1 else ''} to {path}."]
        lines += [f"  • {note}: written as {{{{variables}}}}, their values not saved" for note in notes]
        self._banner.show_message("\n".join(lines), "info")
        return True

    @Slot(object)
    def _show(self, report: ImportReport) -> None:
        lines = report.lines
        if len(lines) <= BANNER_LINES:
            self._banner.show_message(report.text, report.level)
        else:
            shown = [*lines[:BANNER_LINES - 1], f"… and {len(lines) - BANNER_LINES + 1} more lines"]
            self._banner.show_message("\n".join(shown), report.level,
                                      ("Show all", lambda: self._show_all(report.text)))
        if report.added:
            self._panel.select(report.added[0].id)
        self.imported.emit(report)
