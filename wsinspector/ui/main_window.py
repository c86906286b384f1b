"""The main window: connections on the left; the Inspector, Health, Sessions and Tests pages on the right.

It lays the pages out and connects them to the application context's controllers (``_connect_signals``);
what happens on a click lives in the pages and the controllers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from wsinspector.app.context import AppContext
    from wsinspector.app.tasks import ChunkedTask
    from wsinspector.ui.tests_view import ScenariosView

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "wsinspector.svg"))


def _starting() -> QWidget:
    """What the window shows until its pages are built: a line in the middle (``Qt``'s alignment flags are
    not loaded yet, so stretches centre it)."""
    label = QLabel("Opening your connections and sessions…")
    label.setEnabled(False)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(label)
    row.addStretch(1)
    widget = QWidget()
    column = QVBoxLayout(widget)
    column.addStretch(1)
    column.addLayout(row)
    column.addStretch(1)
    return widget


def _session_suffix() -> str:
    from wsinspector.core.export import SESSION_SUFFIX  # noqa: PLC0415  (with the pages)

    return SESSION_SUFFIX


def _session_filter() -> str:
    return f"wsinspector sessions (*{_session_suffix()} *.json);;All files (*)"


class MainWindow(QMainWindow):
    """The window. Made without a context it shows at once as an empty frame, and ``populate(context)`` builds
    its pages later: the first paint waits for nothing the pages import (the store, the engines' modules).

    Signals:
        populated(): the pages are built and connected
    """

    populated = Signal()

    def __init__(self, context: AppContext | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("wsinspector")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.setCentralWidget(_starting())
        if context is not None:
            self.populate(context)

    def populate(self, context: AppContext) -> None:
        """Build the pages over ``context`` and connect them to its controllers."""
        # Qt's namespace alone takes 15 ms to load, and each class's enums load with it: after the first paint
        from PySide6.QtCore import Qt  # noqa: PLC0415
        from PySide6.QtWidgets import QSplitter, QTabWidget  # noqa: PLC0415

        from wsinspector.ui import (  # noqa: PLC0415  (after the first paint)
            banner,
            connections_panel,
            inspector,
            lazy,
            sessions_view,
            task_status,
            transfer,
        )

        self.context = context
        self.session = context.session
        self.banner = banner.Banner()  # above every page: a failed import shows on the Sessions page too
        self.banner.setObjectName("banner")
        self.connections = connections_panel.ConnectionsPanel(context.connections)
        self.tasks = task_status.TaskStatus(self.statusBar(), self)
        self.transfer = transfer.ConnectionsTransfer(self, context.connections, self.banner, self.connections,
                                                     self.tasks)
        self.inspector = inspector.InspectorPage(self.session, context.connections, context.sessions, self.banner)
        self.graph = lazy.HealthPage()
        self.sessions_view = sessions_view.SessionsView(context.sessions)
        self.tests_page = lazy.LazyPage(self._make_tests_view)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        for page, title in ((self.inspector, "Inspector"), (self.graph, "Health"),
                            (self.sessions_view, "Sessions"), (self.tests_page, "Tests")):
            self.tabs.addTab(page, title)
        main_split = QSplitter(Qt.Orientation.Horizontal)
        main_split.addWidget(self.connections)
        main_split.addWidget(self.tabs)
        main_split.setStretchFactor(1, 1)
        main_split.setSizes([230, 1050])
        container = QWidget()
        outer = QVBoxLayout(container)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.banner)
        outer.addWidget(main_split, 1)
        self.setCentralWidget(container)
        self.statusBar().addPermanentWidget(self.inspector.rates)
        self.statusBar().addPermanentWidget(self.inspector.counts)
        self._build_menus()
        self._build_environment_bar()
        self._connect_signals()
        self.graph.show_session(self.session.log, live=True)
        self._select_first_connection()
        self._show_start_notices()
        self.populated.emit()

    @property
    def is_populated(self) -> bool:
        return hasattr(self, "context")

    def _build_menus(self) -> None:
        from PySide6.QtGui import QAction, QKeySequence  # noqa: PLC0415  (with the pages)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.connections.new_action)
        file_menu.addSeparator()
        for action in (self.transfer.import_action, self.transfer.paste_action, self.transfer.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))
        conn_menu = self.menuBar().addMenu("&Connection")
        self.connect_action = QAction("&Connect / Disconnect", self, shortcut="Ctrl+K",
                                      triggered=self.inspector.toggle_connection)
        conn_menu.addAction(self.connect_action)
        conn_menu.addSeparator()
        for action in (self.connections.edit_action, self.connections.duplicate_action,
                       self.connections.rename_action, self.connections.move_action,
                       self.connections.new_folder_action, self.connections.export_folder_action,
                       self.connections.delete_action):
            conn_menu.addAction(action)
        session_menu = self.menuBar().addMenu("&Session")
        self.save_as_test_action = QAction("Save as &test…", self, triggered=lambda: self.save_session_as_test())  # noqa: PLW0108  (not with `checked`)
        self.save_as_test_action.setToolTip("Make a test of the session in the timeline (live or stored)")
        session_menu.addAction(self.save_as_test_action)
        self.tests_menu = self.menuBar().addMenu("&Tests")
        self.tests_menu.aboutToShow.connect(self._fill_tests_menu)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&About wsinspector", self, triggered=self.show_about))

    def _build_environment_bar(self) -> None:
        """The main toolbar: the environment switcher and the Environments dialog."""
        from PySide6.QtGui import QAction  # noqa: PLC0415  (with the pages)

        from wsinspector.ui.environments import EnvironmentSwitcher  # noqa: PLC0415  (with the pages)

        self.toolbar = self.addToolBar("Environment")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(QLabel(" Environment: "))
        self.environment_switcher = EnvironmentSwitcher(self.context.environments)
        self.toolbar.addWidget(self.environment_switcher)
        self.environments_action = QAction("Environments…", self, triggered=self.show_environments)
        self.environments_action.setToolTip("Environments and globals: variables for {{placeholders}}")
        self.toolbar.addAction(self.environments_action)
        self.menuBar().actions()[1].menu().addAction(self.environments_action)
        self.defaults_action = QAction("Connection &defaults…", self, triggered=self.show_connection_defaults)
        self.defaults_action.setToolTip("The TLS and proxy settings every connection uses unless it says otherwise")
        self.menuBar().actions()[1].menu().addAction(self.defaults_action)

    @Slot()
    def show_environments(self) -> None:
        """The Environments dialog, opened without blocking (one at a time)."""
        from wsinspector.ui.environments import EnvironmentsDialog  # noqa: PLC0415  (when asked for)

        dialog = getattr(self, "environments_dialog", None)
        if dialog is None:
            dialog = self.environments_dialog = EnvironmentsDialog(self.context.environments, self)
        dialog.open()
        dialog.raise_()

    @Slot()
    def show_connection_defaults(self) -> None:
        """The Connection defaults dialog, opened without blocking (one at a time)."""
        from wsinspector.ui.defaults_dialog import ConnectionDefaultsDialog  # noqa: PLC0415  (when asked for)

        dialog = getattr(self, "defaults_dialog", None)
        if dialog is None:
            dialog = self.defaults_dialog = ConnectionDefaultsDialog(self.context.defaults, self)
        dialog.open()
        dialog.raise_()

    @Slot(str)
    def _on_environment_changed(self, _environment_id: str = "") -> None:
        active = self.context.environments.active
        self.inspector.set_environment(active.name if active else "")

    def _connect_signals(self) -> None:
        """Every connection between the pages and the controllers, in one place."""
        context, session, inspector, graph = self.context, self.session, self.inspector, self.graph
        self.connections.profile_selected.connect(inspector.on_profile_selected)
        self.connections.connect_requested.connect(inspector.on_connect_requested)
        self.connections.export_requested.connect(self.transfer.ask_export_folder)
        inspector.edit_requested.connect(self.connections.edit_current)
        inspector.title_changed.connect(self.setWindowTitle)
        inspector.status_message.connect(self.statusBar().showMessage)
        inspector.source_changed.connect(graph.show_session)
        session.frames_appended.connect(graph.follow)
        session.event_added.connect(graph.add_event)
        session.rates_changed.connect(graph.show_rates)
        session.session_saved.connect(self.sessions_view.refresh)
        self.sessions_view.open_requested.connect(self.open_session)
        self.sessions_view.export_requested.connect(self.export_session)
        self.sessions_view.import_requested.connect(self.import_session)
        self.sessions_view.save_as_test_requested.connect(self.save_session_as_test)
        self.tasks.message.connect(self._on_task_message)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        context.environments.active_changed.connect(self._on_environment_changed)
        context.environments.environments_changed.connect(self._on_environment_changed)
        self._on_environment_changed()
        context.defaults.changed.connect(inspector.on_defaults_changed)
        self.connections.connection_defaults = lambda: context.defaults.defaults
        context.echo_started.connect(self.on_echo_started)
        context.echo_failed.connect(lambda message: self.banner.show_message(message, "warning"))

    def _select_first_connection(self) -> None:
        profiles = self.context.connections.profiles
        if profiles and self.connections.current_profile() is None:
            self.connections.select(profiles[0].id)

    def _show_start_notices(self) -> None:
        notices = list(self.context.warnings)
        if self.context.interrupted:
            count = len(self.context.interrupted)
            notices.append(f"{count} session{'s were' if count > 1 else ' was'} interrupted when wsinspector last "
                           "stopped unexpectedly; everything recorded up to then is in Sessions.")
        if notices:
            self.banner.show_message("\n".join(notices), "warning")
        elif self.context.echo_url:
            self.on_echo_started(self.context.echo_url)

    @Slot(str)
    def on_echo_started(self, url: str) -> None:
        """The echo server runs: on a first start select "Local echo" and say what it is."""
        self._select_first_connection()
        if self.context.first_start and not self.banner.text:
            self.banner.show_message(
                f"Welcome! “Local echo” is a WebSocket echo server built into wsinspector ({url}). "
                "Press Connect, type a message and send it with Ctrl+Enter.", "info")

    # -- the Tests page, built when first needed ----------------------------------------------------

    def _make_tests_view(self) -> QWidget:
        from wsinspector.ui.tests_view import ScenariosView  # noqa: PLC0415  (YAML and the editor: on first use)

        view = ScenariosView(self.context.store, self.context.echo_url or "")
        view.environment_layers = self.context.environments.run_layers
        view.connection_defaults = lambda: self.context.defaults.defaults
        view.banner_requested.connect(self._on_tests_banner)
        view.session_recorded.connect(self.sessions_view.refresh)
        view.open_session_requested.connect(self.open_session)
        return view

    @property
    def tests_view(self) -> ScenariosView:
        return self.tests_page.content()  # type: ignore[return-value]

    @Slot()
    def _fill_tests_menu(self) -> None:
        if self.tests_menu.actions():
            return
        view = self.tests_view
        for action in (view.new_action, view.open_action, view.save_action, view.save_as_action):
            self.tests_menu.addAction(action)
        self.tests_menu.addSeparator()
        self.tests_menu.addAction(view.run_action)
        self.tests_menu.addAction(view.cancel_action)

    @Slot(str, str)
    def _on_tests_banner(self, text: str, level: str) -> None:
        if not text:
            if self.banner.text.startswith("Cannot open the test"):
                self.banner.clear()
        elif level == "info":
            self.statusBar().showMessage(text, 8000)
        else:
            self.banner.show_message(text, level)

    def save_session_as_test(self, session_id: int | None = None, path: Path | None = None) -> bool:
        """Make a test of a session (a stored one by id; by default the one in the timeline, live or stored),
        show it on the Tests page and save it: to ``path``, or where the user says (a dialog)."""
        from wsinspector.app.tests import (  # noqa: PLC0415  (test files: on first use)
            SessionTestError,
            live_session_test,
            stored_session_test,
        )

        viewing = self.inspector.viewing
        if session_id is None and viewing is not None:
            session_id = viewing.session_id
        try:
            if session_id is None:
                made = live_session_test(self.session)
            else:
                made = stored_session_test(self.context.sessions, self.context.connections.profiles, session_id)
        except SessionTestError as exc:
            self.banner.show_message(str(exc), exc.level)
            return False
        if not self.tests_view.confirm_discard():
            return False
        self.tests_view.set_new_test(made.test, made.origin, made.secrets)
        self.tabs.setCurrentWidget(self.tests_page)
        self.statusBar().showMessage(f"Made a test of {len(made.test.steps)} steps from {made.origin}", 8000)
        return self.tests_view.save_as(path)

    # -- sessions: open, export, import ---------------------------------------------------------------

    @Slot(int)
    def open_session(self, session_id: int) -> None:
        """Show a recorded session on the Inspector page, read-only; the live connection carries on."""
        if self.inspector.open_session(session_id):
            self.tabs.setCurrentWidget(self.inspector)

    @Slot(int)
    def export_session(self, session_id: int, path: Path | None = None) -> ChunkedTask | None:
        record = self.context.sessions.get(session_id)
        if record is None:
            return None
        if path is None:
            suggested = str(Path.home() / f"{record.name}{_session_suffix()}")
            from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415  (when asked for)

            name, _ = QFileDialog.getSaveFileName(self, "Export session", suggested, _session_filter())
            if not name:
                return None
            path = Path(name)
        task = self.context.sessions.export_task(session_id, path, self)
        task.finished.connect(lambda p: self.statusBar().showMessage(f"Exported to {p}", 8000))
        self.tasks.run(task)
        return task

    def import_session(self, path: Path | None = None, show: bool = False) -> ChunkedTask | None:
        if path is None:
            from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415  (when asked for)

            name, _ = QFileDialog.getOpenFileName(self, "Import session", str(Path.home()), _session_filter())
            if not name:
                return None
            path = Path(name)
        if not path.is_file():
            self.banner.show_message(f"Cannot import {path}: no such file")
            return None
        task = self.context.sessions.import_task(path, self)

        def imported(session_id: object) -> None:
            self.statusBar().showMessage(f"Imported {path.name}", 8000)
            self.sessions_view.refresh()
            self.sessions_view.select(int(session_id))  # type: ignore[call-overload]
            if show:
                self.open_session(int(session_id))  # type: ignore[call-overload]

        task.finished.connect(imported)
        self.tasks.run(task)
        return task

    def open_paths(self, paths: list[Path]) -> None:
        """Files named on the command line or opened from the desktop: a session file is imported and shown, a
        connections file's connections are added, anything else is opened as a test on the Tests page. One
        session and one test at a time; the rest are named."""
        from wsinspector.core.export import is_session_file  # noqa: PLC0415  (with the pages)
        from wsinspector.core.formats import is_connections_file  # noqa: PLC0415

        sessions = [path for path in paths if path.is_file() and is_session_file(path)]
        missing = [path for path in paths if not path.is_file()]
        connections = [path for path in paths if path.is_file() and is_connections_file(path)]
        tests = [path for path in paths if path not in (*sessions, *missing, *connections)]
        importing = self.transfer.import_files(connections) if connections else None
        notes = [f"Cannot open {path}: no such file" for path in missing]
        if sessions and importing is not None:  # one task at a time: the session once the connections are in
            later = sessions[0]
            for ended in (importing.finished, importing.failed, importing.cancelled):
                ended.connect(lambda *_: self.import_session(later, show=True))
        elif sessions:
            self.import_session(sessions[0], show=True)
        if tests and self.tests_view.open_file(tests[0]):
            self.tabs.setCurrentWidget(self.tests_page)
        left = [path.name for path in (*sessions[1:], *tests[1:])]
        if left:
            notes.append(f"One session file and one test at a time: {', '.join(left)} not opened")
        if notes:
            self.banner.show_message("\n".join(notes), "warning")

    @Slot(str, str)
    def _on_task_message(self, text: str, level: str) -> None:
        if level:
            self.banner.show_message(text, level)
        else:
            self.statusBar().showMessage(text, 5000)

    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.sessions_view:
            self.sessions_view.refresh()

    @Slot()
    def show_about(self) -> None:
        from wsinspector.ui.about import show_about  # noqa: PLC0415  (when asked for)

        show_about(self, self.context.data_dir)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.is_populated:
            super().closeEvent(event)
            return
        if self.tests_page.loaded and not self.tests_view.confirm_discard():  # unsaved, and the user said Cancel
            event.ignore()
            return
        self.tasks.cancel()
        self.inspector.shutdown()
        self.graph.stop()
        if self.tests_page.loaded:
            self.tests_view.shutdown()
        self.session.shutdown()
        super().closeEvent(event)
