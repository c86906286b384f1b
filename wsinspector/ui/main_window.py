"""The main window: connections on the left; the Inspector (a tab per open connection or stored session),
Health (the current tab's), Sessions and Tests pages on the right.

It lays the pages out and connects them to the application context's controllers (``_connect_signals``);
what happens on a click lives in the pages and the controllers.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from wsinspector.app.connection import ConnectionController
    from wsinspector.app.context import AppContext
    from wsinspector.app.tasks import ChunkedTask
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.core.session import Session
    from wsinspector.ui.inspector import InspectorPage
    from wsinspector.ui.tests_view import ScenariosView
    from wsinspector.ui.window_state import WindowState

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
        # without a context the frame paints first and its icon (the SVG icon engine, QtSvg) is set after it
        # (ui/launch.py); an empty one meanwhile, so that restoring its geometry gives the size it was saved with
        self.setWindowIcon(app_icon() if context is not None else QIcon())
        self.resize(1280, 800)
        self.setCentralWidget(_starting())
        #: what is remembered across restarts (``ui/window_state.py``); the app sets it, a test may
        self.window_state: WindowState | None = None
        if context is not None:
            self.populate(context)

    def populate(self, context: AppContext) -> None:
        """Build the pages over ``context`` and connect them to its controllers."""
        # Qt's namespace alone takes 15 ms to load, and each class's enums load with it: after the first paint
        from PySide6.QtCore import Qt  # noqa: PLC0415
        from PySide6.QtWidgets import QSplitter, QTabWidget  # noqa: PLC0415

        from wsinspector.ui import (  # noqa: PLC0415  (after the first paint)
            banner,
            connection_tabs,
            connections_panel,
            lazy,
            session_files,
            sessions_view,
            task_status,
            transfer,
        )

        self.context = context
        self.banner = banner.Banner()  # above every page: a failed import shows on the Sessions page too
        self.banner.setObjectName("banner")
        self.connections = connections_panel.ConnectionsPanel(context.connections)
        self.tasks = task_status.TaskStatus(self.statusBar(), self)
        self.session_files = session_files.SessionFiles(self)
        self.transfer = transfer.ConnectionsTransfer(self, context.connections, self.banner, self.connections,
                                                     self.tasks)
        self.connection_tabs = connection_tabs.ConnectionTabs(context, self.banner)
        self.graph = lazy.HealthPage()
        self.sessions_view = sessions_view.SessionsView(context.sessions)
        self.tests_page = lazy.LazyPage(self._make_tests_view)
        self.server_page = lazy.LazyPage(self._make_server_page)
        self.probe_page = lazy.LazyPage(self._make_probe_view)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        for page, title in ((self.connection_tabs, "Inspector"), (self.graph, "Health"),
                            (self.sessions_view, "Sessions"), (self.tests_page, "Tests"),
                            (self.server_page, "Server"),
                            (self.probe_page, "Probe")):
            self.tabs.addTab(page, title)
        self.main_split = main_split = QSplitter(Qt.Orientation.Horizontal)
        main_split.setObjectName("mainSplit")
        main_split.addWidget(self.connections)
        main_split.addWidget(self.tabs)
        main_split.setStretchFactor(1, 1)
        main_split.setSizes([230, 1050])
        container = QWidget()
        outer = QVBoxLayout(container)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(banner.BannerSlot(self.banner))
        outer.addWidget(main_split, 1)
        self.setCentralWidget(container)
        self._build_menus()
        self._build_environment_bar()
        from wsinspector.ui.shortcuts import Keys  # noqa: PLC0415  (with the pages)

        self.keys = Keys(self)
        self._connect_signals()
        self.connection_tabs.open_live(controller=context.session)
        self._select_first_connection()
        self._show_start_notices()
        self.populated.emit()

    @property
    def is_populated(self) -> bool:
        return hasattr(self, "context")

    @property
    def inspector(self) -> InspectorPage:
        """The current connection tab's page (live, or a stored session's)."""
        return self.connection_tabs.current_page

    @property
    def session(self) -> ConnectionController:
        """The current tab's connection; on a stored session's tab, that of the live tab shown last."""
        return self.connection_tabs.live_page.session

    def _build_menus(self) -> None:
        from PySide6.QtGui import QAction, QKeySequence  # noqa: PLC0415  (with the pages)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.connections.new_action)
        file_menu.addSeparator()
        for action in (self.transfer.import_action, self.transfer.paste_action, self.transfer.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.session_files.import_action)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))
        conn_menu = self.menuBar().addMenu("&Connection")
        self.connect_action = QAction("&Connect / Disconnect", self, shortcut="Ctrl+K",
                                      triggered=lambda: self.connection_tabs.live_page.toggle_connection())  # noqa: PLW0108  (the current tab's)
        conn_menu.addAction(self.connect_action)
        conn_menu.addSeparator()
        from PySide6.QtCore import Qt  # noqa: PLC0415  (with the pages)

        tabs = self.connection_tabs
        self.new_tab_action = QAction("New &tab", self, shortcut="Ctrl+T", triggered=self.new_tab)
        self.close_tab_action = QAction("Close ta&b", self, shortcut="Ctrl+W", triggered=self.close_tab)
        self.next_tab_action = QAction("Next tab", self, triggered=self._next_tab)
        self.next_tab_action.setShortcuts([QKeySequence("Ctrl+Tab"), QKeySequence("Ctrl+PgDown")])
        self.previous_tab_action = QAction("Previous tab", self, triggered=self._previous_tab)
        self.previous_tab_action.setShortcuts([QKeySequence("Ctrl+Shift+Tab"), QKeySequence("Ctrl+PgUp")])
        for action in (self.new_tab_action, self.close_tab_action, self.next_tab_action, self.previous_tab_action):
            conn_menu.addAction(action)
        tabs.setCornerWidget(self._new_tab_button(), Qt.Corner.TopRightCorner)
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

    def _new_tab_button(self) -> QWidget:
        from PySide6.QtWidgets import QToolButton  # noqa: PLC0415  (with the pages)

        button = QToolButton()
        button.setObjectName("newTabButton")
        button.setDefaultAction(self.new_tab_action)
        button.setText("+")
        button.setToolTip("A new tab for the connection selected on the left (Ctrl+T)")
        button.setStyleSheet("QToolButton { font-size: 15px; font-weight: bold; padding: 0 8px; }")
        return button

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
        for page in self.connection_tabs.pages():
            page.set_environment(active.name if active else "")

    @Slot()
    def _on_defaults_changed(self) -> None:
        for page in self.connection_tabs.pages():
            page.on_defaults_changed()

    def _connect_signals(self) -> None:
        """Every connection between the pages and the controllers, in one place (a tab's page and controller:
        ``_connect_page``, as each tab opens)."""
        context, tabs = self.context, self.connection_tabs
        self.connections.profile_selected.connect(self.on_profile_selected)
        self.connections.connect_requested.connect(self.on_connect_requested)
        self.connections.export_requested.connect(self.transfer.ask_export_folder)
        context.connections.profiles_changed.connect(self._on_profiles_changed)
        tabs.page_opened.connect(self._connect_page)
        tabs.page_closed.connect(self._on_page_closed)
        tabs.currentChanged.connect(self._on_connection_tab_changed)
        self.sessions_view.open_requested.connect(self.open_session)
        self.sessions_view.export_requested.connect(self.export_session)
        self.sessions_view.import_requested.connect(self.import_session)
        self.session_files.explain(self.sessions_view)
        self.sessions_view.save_as_test_requested.connect(self.save_session_as_test)
        self.tasks.message.connect(self._on_task_message)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        context.environments.active_changed.connect(self._on_environment_changed)
        context.environments.environments_changed.connect(self._on_environment_changed)
        self._on_environment_changed()
        context.defaults.changed.connect(self._on_defaults_changed)
        self.connections.connection_defaults = lambda: context.defaults.defaults
        context.echo_started.connect(self.on_echo_started)
        context.echo_failed.connect(lambda message: self.banner.show_message(message, "warning"))
        context.connections.lifted.connect(self._on_secrets_lifted)
        context.keyring_lost.connect(lambda message: self.banner.show_message(message, "warning"))
        self._told_lifted = False

    @Slot(str, list)
    def _on_secrets_lifted(self, name: str, variables: list[str]) -> None:
        """Say once per run that secrets typed into a URL or a login header became secret variables."""
        from wsinspector.core.words import plural  # noqa: PLC0415  (with the pages)

        kept_as = plural(len(variables), "secret variable")
        if self._told_lifted:
            self.statusBar().showMessage(f"“{name}”: {', '.join(variables)} kept as {kept_as}", 8000)
            return
        self._told_lifted = True
        self.banner.show_message(
            f"“{name}”: the secrets written in its URL or login request now live in the {kept_as} "
            f"{', '.join(variables)}, kept in {self.context.secrets.where}; the URL reads {{{{{variables[0]}}}}} "
            "in their place and connecting sends the same values.", "info")

    def _connect_page(self, page: InspectorPage) -> None:
        """A tab's page and its controller: the window title, the status bar and the Health page follow the
        current tab only."""
        session, status = page.session, self.statusBar()
        page.edit_requested.connect(partial(self._edit_page_connection, page))
        page.title_changed.connect(partial(self._on_page_title, page))
        page.status_message.connect(status.showMessage)
        page.source_changed.connect(partial(self._on_page_source, page))
        page.leave_requested.connect(partial(self.connection_tabs.close_page, page))
        session.frames_appended.connect(self._on_frames_appended)
        session.event_added.connect(self._on_event_added)
        session.rates_changed.connect(self._on_rates_changed)
        session.session_saved.connect(self.sessions_view.refresh)
        status.addPermanentWidget(page.rates)
        status.addPermanentWidget(page.counts)
        self.session_files.add_to(page)
        active = self.context.environments.active
        page.set_environment(active.name if active else "")

    def _from_current(self) -> bool:
        """The signal being handled comes from the current tab's live connection."""
        page = self.connection_tabs.current_page
        return not page.stored_only and self.sender() is page.session

    @Slot(int, int)
    def _on_frames_appended(self, _first: int, _last: int) -> None:
        if self._from_current():
            self.graph.follow()

    @Slot(object, str, str)
    def _on_event_added(self, ts_ns: int, kind: str, text: str) -> None:
        if self._from_current():
            self.graph.add_event(ts_ns, kind, text)

    @Slot(object, float)
    def _on_rates_changed(self, rates: object, t_s: float) -> None:
        if self._from_current():
            self.graph.show_rates(rates, t_s)  # type: ignore[arg-type]

    def _on_page_closed(self, page: InspectorPage) -> None:
        self.statusBar().removeWidget(page.rates)
        self.statusBar().removeWidget(page.counts)

    def _on_page_title(self, page: InspectorPage, title: str) -> None:
        self.connection_tabs.show_page_state(page)
        if page is self.connection_tabs.currentWidget():
            self.setWindowTitle(title)

    def _on_page_source(self, page: InspectorPage, source: Session, live: bool) -> None:
        if page is self.connection_tabs.currentWidget():
            self.graph.show_session(source, live and not page.stored_only)

    @Slot(int)
    def _on_connection_tab_changed(self, _index: int) -> None:
        """Another tab is current: the title, the status bar's counters, the Health page and the selected
        connection on the left are its own."""
        page = self.connection_tabs.currentWidget()
        if page is None:
            return
        for other in self.connection_tabs.pages():
            other.rates.setVisible(other is page)
            other.counts.setVisible(other is page)
        page.update_title()
        source = page.model.source
        if source is not None:
            self.graph.show_session(source, source is page.session.log and not page.stored_only)
        profile = page.profile
        if profile is not None and not page.stored_only and self.connections.current_profile() != profile:
            self.connections.select(profile.id)

    def _edit_page_connection(self, page: InspectorPage) -> None:
        if page.profile is not None:
            self.connections.select(page.profile.id)
        self.connections.edit_current()

    # -- the saved connections and the tabs -------------------------------------------------------------------

    @Slot(object)
    def on_profile_selected(self, profile: ConnectionProfile | None) -> None:
        """A connection selected on the left that has a tab of its own brings that tab forward; otherwise the
        current tab shows it only while that tab is not connected (or is its own): a tab whose socket points
        elsewhere keeps its name, URL and title."""
        from wsinspector.core.events import ConnectionState  # noqa: PLC0415  (with the pages)

        page = self.connection_tabs.current_page
        own = self.connection_tabs.page_for_profile(profile.id) if profile is not None else None
        if own is not None and own is not page:
            self.connection_tabs.setCurrentWidget(own)
            return
        same = profile is not None and page.profile is not None and page.profile.id == profile.id
        idle = page.session.state is ConnectionState.CLOSED and not page.session.is_reconnecting
        if page.stored_only or not (same or idle):
            if profile is not None:
                self.statusBar().showMessage(
                    f"“{profile.name}” selected: Enter or Connect opens it in a tab of its own", 5000)
            return
        page.on_profile_selected(profile)

    @Slot(object)
    def on_connect_requested(self, profile: ConnectionProfile) -> None:
        """Open a saved connection: in the current tab when it is free for it, in the tab that already has it,
        or in a new tab; and connect."""
        from wsinspector.core.events import ConnectionState  # noqa: PLC0415  (with the pages)

        tabs = self.connection_tabs
        page = tabs.current_page
        idle = page.session.state is ConnectionState.CLOSED and not page.session.is_reconnecting
        free = not page.stored_only and idle and (page.profile is None or page.profile.id == profile.id)
        if not free:
            page = tabs.page_for_profile(profile.id) or tabs.open_live(profile)
        tabs.setCurrentWidget(page)
        self.tabs.setCurrentWidget(tabs)
        page.on_connect_requested(profile)

    @Slot()
    def _on_profiles_changed(self) -> None:
        """A saved connection changed: the tabs that show it (and are not current: the list re-selects that
        one) take its new settings; a tab whose connection was deleted keeps what it had."""
        current = self.connection_tabs.currentWidget()
        for page in self.connection_tabs.live_pages():
            if page is current or page.profile is None:
                continue
            saved = self.context.connections.get(page.profile.id)
            if saved is not None and saved != page.profile:
                page.on_profile_selected(saved)

    @Slot()
    def new_tab(self) -> None:
        """A new tab for the connection selected on the left (not connected yet)."""
        self.connection_tabs.open_live(self.connections.current_profile())
        self.tabs.setCurrentWidget(self.connection_tabs)

    @Slot()
    def close_tab(self) -> None:
        if self.tabs.currentWidget() is self.connection_tabs:
            self.connection_tabs.close_page(self.connection_tabs.current_page)

    @Slot()
    def _next_tab(self) -> None:
        if self.tabs.currentWidget() is self.connection_tabs:
            self.connection_tabs.next_tab()
        else:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + 1) % self.tabs.count())

    @Slot()
    def _previous_tab(self) -> None:
        if self.tabs.currentWidget() is self.connection_tabs:
            self.connection_tabs.previous_tab()
        else:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() - 1) % self.tabs.count())

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

    def _make_server_page(self) -> QWidget:
        from wsinspector.ui.server_page import ServerPage  # noqa: PLC0415  (the server side: on first use)

        page = ServerPage(self.context)
        page.session_recorded.connect(self.sessions_view.refresh)
        return page

    def _make_tests_view(self) -> QWidget:
        from wsinspector.ui.tests_view import ScenariosView  # noqa: PLC0415  (YAML and the editor: on first use)

        view = ScenariosView(self.context.store, self.context.echo_url or "")
        view.environment_layers = self.context.environments.run_layers
        view.connection_defaults = lambda: self.context.defaults.defaults
        view.banner_requested.connect(self._on_tests_banner)
        view.session_recorded.connect(self.sessions_view.refresh)
        view.open_session_requested.connect(self.open_session)
        return view

    def _make_probe_view(self) -> QWidget:
        from wsinspector.app.probes import ProbesController  # noqa: PLC0415  (on first use)
        from wsinspector.ui.probe_view import ProbeView  # noqa: PLC0415

        context = self.context
        probes = ProbesController(context.store, lambda: context.defaults.defaults,
                                  context.environments.variables_for, parent=self)
        view = ProbeView(probes, context.connections)
        view.open_session_requested.connect(self.open_session)
        view.message.connect(self._on_task_message)
        probes.finished.connect(lambda _result: self.sessions_view.refresh())
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
        from wsinspector.core.words import counted  # noqa: PLC0415  (with the pages)

        self.statusBar().showMessage(f"Made a test of {counted(len(made.test.steps), 'step')} from {made.origin}",
                                     8000)
        return self.tests_view.save_as(path)

    # -- sessions: open, export, import ---------------------------------------------------------------

    @Slot(int)
    def open_session(self, session_id: int) -> None:
        """Show a recorded session in a read-only tab of its own; the live connections carry on."""
        if self.connection_tabs.open_stored(session_id) is not None:
            self.tabs.setCurrentWidget(self.connection_tabs)

    @Slot(int)
    def export_session(self, session_id: int, path: Path | None = None) -> ChunkedTask | None:
        record = self.context.sessions.get(session_id)
        if record is None:
            return None
        if path is None:
            path = self.session_files.ask_export_path(Path.home() / f"{record.name}{_session_suffix()}",
                                                      _session_filter())
            if path is None:
                return None
        if self.session_files.is_load_test(path):
            self.session_files.export_load_test(session_id, path)
            return None
        if path.suffix.lower() == ".har":
            return self.session_files.export_har([self.context.sessions.har_session(session_id)], path)
        owner = self.context.connections.get(record.profile_id) if record.profile_id else None
        task = self.context.sessions.export_task(session_id, path, self, owner.decoding if owner else None)
        task.finished.connect(lambda p: self.statusBar().showMessage(f"Exported to {p}", 8000))
        self.tasks.run(task)
        return task

    def import_session(self, path: Path | None = None, show: bool = False) -> ChunkedTask | None:
        if path is None:
            path = self.session_files.ask_import_path()
            if path is None:
                return None
        if not path.is_file():
            self.banner.show_message(f"Cannot import {path}: no such file")
            return None
        task = self.context.sessions.import_task(path, self)

        def imported(session_id: object) -> None:
            self.statusBar().showMessage(self.session_files.imported(task, path), 8000)
            self.sessions_view.refresh()
            self.sessions_view.select(int(session_id))  # type: ignore[call-overload]
            if show:
                self.open_session(int(session_id))  # type: ignore[call-overload]

        task.finished.connect(imported)
        self.tasks.run(task)
        return task

    def open_paths(self, paths: list[Path]) -> None:
        """Files named on the command line or opened from the desktop: a session file (or a HAR file's
        sessions) is imported and shown, a connections file's connections are added, anything else is opened as
        a test on the Tests page. One session and one test at a time; the rest are named."""
        from wsinspector.core.export import is_session_file  # noqa: PLC0415  (with the pages)
        from wsinspector.core.formats import is_connections_file  # noqa: PLC0415
        from wsinspector.core.session_import import is_har_file  # noqa: PLC0415

        sessions = [path for path in paths if path.is_file() and (is_session_file(path) or is_har_file(path))]
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

        show_about(self, self.context.data_dir, self.context.secrets.where)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.is_populated:
            super().closeEvent(event)
            return
        if self.tests_page.loaded and not self.tests_view.confirm_discard():  # unsaved, and the user said Cancel
            event.ignore()
            return
        if self.window_state is not None:
            self.window_state.save()
        self.tasks.cancel()
        self.connection_tabs.close_all()
        self.graph.stop()
        if self.tests_page.loaded:
            self.tests_view.shutdown()
        if self.probe_page.loaded:
            self.probe_page.content().probes.shutdown()  # type: ignore[attr-defined]
        for page in self.connection_tabs.pages():
            page.session.shutdown()
        super().closeEvent(event)
