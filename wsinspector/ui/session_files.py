"""Sessions in and out of the window as files: File ▸ Import session… (a session file, or a HAR file's WebSocket
entries), the Sessions page's Export… (a session file, HAR, or a k6 or Artillery load test, by the file's type)
and the timeline's Export selection as HAR…; the imports and exports of frames run as a task with progress and
Cancel in the status bar."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from wsinspector.app.sessions import ImportTask
from wsinspector.app.tasks import ChunkedTask
from wsinspector.core.words import counted

if TYPE_CHECKING:
    from wsinspector.core.har_export import HarSession
    from wsinspector.ui.inspector import InspectorPage
    from wsinspector.ui.main_window import MainWindow
    from wsinspector.ui.sessions_view import SessionsView

HAR_FILTER = "HAR files (*.har)"
K6_FILTER = "k6 load test scripts (*.js)"
ARTILLERY_FILTER = "Artillery load test scenarios (*.yml *.yaml)"
#: a load test's engine by the file type chosen, and the name's ending it gets when it has none of that type's
_LOAD_TESTS = {K6_FILTER: ("k6", ".js"), ARTILLERY_FILTER: ("artillery", ".yml")}
#: the files File ▸ Import session… offers
IMPORT_FILTER = ("Sessions and HAR files (*.wssession.json *.json *.har *.zhar *.zip);;"
                 "wsinspector sessions (*.wssession.json *.json);;HAR files (*.har *.zhar *.zip);;All files (*)")


def is_har_path(path: Path) -> bool:
    return path.suffix.lower() == ".har"


def load_test_engine(path: Path) -> str:
    """The load test engine a file's name says (``k6``: .js, ``artillery``: .yml, .yaml), or ""."""
    return {".js": "k6", ".yml": "artillery", ".yaml": "artillery"}.get(path.suffix.lower(), "")


class SessionFiles(QObject):
    """The window's session import and export. Each page's timeline gets Export selection as HAR…
    (:meth:`add_to`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.import_action = QAction("Import &session or HAR…", window)
        self.import_action.setObjectName("importSessionAction")
        self.import_action.setToolTip("A wsinspector session file, or a HAR file whose WebSocket entries become "
                                      "stored sessions")
        self.import_action.triggered.connect(lambda: window.import_session())  # noqa: PLW0108  (not `checked`)

    @staticmethod
    def explain(view: SessionsView) -> None:
        """The Sessions page's Export… and Import… say they take HAR too."""
        view.export_button.setToolTip("Write this session to a file: a wsinspector session file, HAR for Chrome "
                                      "DevTools, Playwright and other HAR readers, or a k6 or Artillery load test "
                                      "(choose the file type)")
        view.import_button.setToolTip("Store the session of a wsinspector session file, or each WebSocket entry of "
                                      "a HAR file as a session")

    # -- import ----------------------------------------------------------------------------------------------------

    def ask_import_path(self) -> Path | None:
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415  (when asked for)

        name, _ = QFileDialog.getOpenFileName(self._window, "Import session", str(Path.home()), IMPORT_FILTER)
        return Path(name) if name else None

    def imported(self, task: ChunkedTask, path: Path) -> str:
        """What the status bar says once ``task`` imported ``path``; the HAR entries it could not read go to the
        banner."""
        if not isinstance(task, ImportTask) or task.job.kind != "HAR file":
            return f"Imported {path.name}"
        if task.job.warnings:
            self._window.banner.show_message("\n".join(task.job.warnings), "warning")
        return f"Imported {counted(len(task.job.ids), 'session')} from {path.name}"

    # -- export ----------------------------------------------------------------------------------------------------

    def ask_export_path(self, suggested: Path, session_filter: str) -> Path | None:
        """A file to export to: a session file, or HAR when that is the type chosen (or the name ends .har)."""
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415  (when asked for)

        name, chosen = QFileDialog.getSaveFileName(
            self._window, "Export session", str(suggested),
            f"{session_filter.split(';;', maxsplit=1)[0]};;{HAR_FILTER};;{K6_FILTER};;{ARTILLERY_FILTER}")
        if not name:
            return None
        return self.typed_path(Path(name), chosen)

    @staticmethod
    def is_load_test(path: Path) -> bool:
        return bool(load_test_engine(path))

    @staticmethod
    def typed_path(path: Path, chosen: str) -> Path:
        """``path`` with the ending of the file type ``chosen`` when it has none of that type's."""
        if chosen == HAR_FILTER and not is_har_path(path):
            ending = ".har"
        elif chosen in _LOAD_TESTS and load_test_engine(path) != _LOAD_TESTS[chosen][0]:
            ending = _LOAD_TESTS[chosen][1]
        else:
            return path
        stem = path.name
        for suffix in (".wssession.json", ".wssession", ".json"):
            stem = stem.removesuffix(suffix)
        return path.with_name(stem + ending)

    def export_load_test(self, session_id: int, path: Path) -> bool:
        """Write the session as the load test its file's name says (k6, Artillery): the session made a test as
        Save as test makes it, its credentials environment variables the status bar names."""
        from wsinspector.app.tests import SessionTestError, stored_session_plan  # noqa: PLC0415  (on first use)
        from wsinspector.core.loadtest import LoadOptions, artillery_scenario, k6_script  # noqa: PLC0415

        window = self._window
        engine = load_test_engine(path)
        try:
            plan = stored_session_plan(window.context.sessions, window.context.connections.profiles, session_id)
        except SessionTestError as exc:
            window.banner.show_message(str(exc), exc.level)
            return False
        text = k6_script(plan, LoadOptions()) if engine == "k6" else artillery_scenario(plan, LoadOptions())
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            window.banner.show_message(f"Cannot write {path}: {exc.strerror or exc}")
            return False
        secrets = ", ".join(env for _name, env in plan.from_env)
        window.statusBar().showMessage(f"Exported {'a k6' if engine == 'k6' else 'an Artillery'} load test to {path}"
                                       + (f"; set {secrets} in the environment" if secrets else ""), 12000)
        return True

    def export_har(self, items: list[HarSession], path: Path) -> ChunkedTask:
        window = self._window
        task = window.context.sessions.export_har_task(items, path, window)
        task.finished.connect(lambda p: window.statusBar().showMessage(f"Exported to {p}", 8000))
        window.tasks.run(task)
        return task

    # -- the timeline's selection ----------------------------------------------------------------------------------

    def add_to(self, page: InspectorPage) -> None:
        """Export selection as HAR… in the page's timeline menu."""
        action = QAction("Export selection as HAR…", page)
        action.setObjectName("exportSelectionHar")
        action.setToolTip("The selected frames, their messages whole, as a HAR file")
        action.triggered.connect(lambda: self.export_selection(page))
        page.row_actions.add_action(action, "copy")
        page.row_actions.about_to_show.connect(
            lambda: action.setEnabled(bool(page.timeline.selected_seqs()) and self._session_id(page) is not None))

    def _session_id(self, page: InspectorPage) -> int | None:
        viewing = page.viewing
        if viewing is not None:
            return viewing.session_id
        return None if page.stored_only else page.session.session_id

    def export_selection(self, page: InspectorPage, path: Path | None = None) -> ChunkedTask | None:
        """The page's selected rows (a message row stands for its whole message) as a HAR file, from what is
        stored of its session."""
        window = self._window
        seqs = page.timeline.selected_seqs()
        session_id = self._session_id(page)
        if not seqs or session_id is None:
            window.statusBar().showMessage("Select the rows to export (a recorded session's)", 5000)
            return None
        if path is None:
            from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415  (when asked for)

            name, _ = QFileDialog.getSaveFileName(window, "Export selection as HAR", str(Path.home() / "selection.har"),
                                                  HAR_FILTER)
            if not name:
                return None
            path = Path(name)
        return self.export_har([window.context.sessions.har_session(session_id, set(seqs))], path)
