"""The main window: connections on the left; connection bar, timeline, detail pane and composer on the right."""

from __future__ import annotations

import html
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.context import AppContext
from wsinspector.app.tasks import ChunkedTask
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, OpenInfo
from wsinspector.core.export import SESSION_SUFFIX, is_session_file
from wsinspector.core.filters import FrameFilter, find_next
from wsinspector.core.frames import Frame
from wsinspector.core.payloads import human_size
from wsinspector.core.profiles import ENGINE_WIRE, ENGINES, ConnectionProfile, ReadOnlyProfileError
from wsinspector.core.session import Session
from wsinspector.core.store import StoreError
from wsinspector.core.stored import StoredSession

if TYPE_CHECKING:
    from wsinspector.ui.tests_view import ScenariosView
from wsinspector.ui.about import show_about
from wsinspector.ui.composer import Composer
from wsinspector.ui.connections_panel import ConnectionsPanel
from wsinspector.ui.detail import DetailPane
from wsinspector.ui.filter_bar import FilterBar
from wsinspector.ui.lazy import HealthPage, LazyPage
from wsinspector.ui.sessions_view import SessionsView, format_started
from wsinspector.ui.timeline import TimelineModel, TimelineView

SESSION_FILTER = f"wsinspector sessions (*{SESSION_SUFFIX} *.json);;All files (*)"
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "wsinspector.svg"))


_STATE_STYLE = {
    ConnectionState.CLOSED: ("Closed", "#6b6b6b"),
    ConnectionState.CONNECTING: ("Connecting…", "#b26a00"),
    ConnectionState.OPEN: ("Open", "#1f7a3d"),
    ConnectionState.CLOSING: ("Closing…", "#b26a00"),
}
_BANNER_STYLE = {
    "error": "background: #fde7e9; color: #8c0010; border: 1px solid #f1b0b7; border-radius: 4px; padding: 6px;",
    "warning": "background: #fff4ce; color: #5c4400; border: 1px solid #f0d77b; border-radius: 4px; padding: 6px;",
    "info": "background: #e7f1fd; color: #0b3d75; border: 1px solid #b0cdf1; border-radius: 4px; padding: 6px;",
}


class Banner(QWidget):
    """A dismissable one-line message above the timeline."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("bannerText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote what servers sent
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(text="✕", autoRaise=True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.level = ""
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        self.level = level
        self.label.setText(text)
        self.label.setStyleSheet(_BANNER_STYLE[level])
        self.show()

    def clear(self) -> None:
        self.level = ""
        self.label.clear()
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext) -> None:  # noqa: PLR0915
        super().__init__()
        self.context = context
        self.session = context.session
        self.setObjectName("mainWindow")
        self.setWindowTitle("wsinspector")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self._profile: ConnectionProfile | None = None

        self.connections = ConnectionsPanel(context.connections)
        self.connections.profile_selected.connect(self.on_profile_selected)
        self.connections.connect_requested.connect(self.on_connect_requested)

        self.profile_name = QLabel()
        self.profile_name.setObjectName("profileName")
        self.url = QLineEdit()
        self.url.setObjectName("urlEdit")
        self.url.setPlaceholderText("ws://host:port/path")
        self.url.returnPressed.connect(self._on_url_entered)
        self.state_label = QLabel()
        self.state_label.setObjectName("stateLabel")
        self.state_label.setMinimumWidth(100)
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setObjectName("connectButton")
        self.connect_button.clicked.connect(self.toggle_connection)
        self.edit_button = QPushButton("Settings…")
        self.edit_button.setToolTip("Headers, subprotocols, origin, variables and limits of this connection")
        self.edit_button.clicked.connect(self.connections.edit_current)
        self.info = QLabel()
        self.info.setObjectName("connectionInfo")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.hide()
        self.banner = Banner()
        self.banner.setObjectName("banner")

        self.model = TimelineModel(self)
        self.timeline = TimelineView(self.model)
        self.timeline.frame_selected.connect(self.on_frame_selected)
        self.detail = DetailPane()
        self.composer = Composer()
        self.composer.send_requested.connect(self.on_send_requested)
        self.composer.ping_requested.connect(self.on_ping_requested)
        self.composer.close_requested.connect(self.on_close_requested)
        self.composer.fragmented_send_requested.connect(self.on_fragmented_send_requested)
        self.composer.pong_requested.connect(self.on_pong_requested)
        self.composer.raw_close_requested.connect(self.on_raw_close_requested)
        self.composer.auto_pong_toggled.connect(self.on_auto_pong_toggled)

        self.filter_bar = FilterBar()
        self.filter_bar.filter_changed.connect(self.apply_filter)
        self.filter_bar.find_requested.connect(self.find)
        self.filter_bar.jump_requested.connect(self.jump_to)
        self.filter_bar.cancel.clicked.connect(self.cancel_filter)
        QShortcut(QKeySequence("F3"), self, self.filter_bar.next.click)
        QShortcut(QKeySequence("Shift+F3"), self, self.filter_bar.previous.click)
        QShortcut(QKeySequence.StandardKey.Find, self, self.filter_bar.search.setFocus)
        self.viewing_label = QLabel()
        self.viewing_label.setObjectName("viewingLabel")
        self.back_to_live = QPushButton("Back to live")
        self.back_to_live.setObjectName("backToLive")
        self.back_to_live.clicked.connect(self.show_live)
        self.viewing_bar = QWidget()
        self.viewing_bar.setObjectName("viewingBar")
        self.viewing_bar.setStyleSheet("#viewingBar { background: #eef2f7; border-radius: 4px; }")
        viewing_layout = QHBoxLayout(self.viewing_bar)
        viewing_layout.setContentsMargins(8, 2, 4, 2)
        viewing_layout.addWidget(self.viewing_label, 1)
        viewing_layout.addWidget(self.back_to_live)
        self.viewing_bar.hide()
        timeline_box = QWidget()
        timeline_layout = QVBoxLayout(timeline_box)
        timeline_layout.setContentsMargins(0, 0, 0, 0)
        timeline_layout.setSpacing(3)
        timeline_layout.addWidget(self.viewing_bar)
        timeline_layout.addWidget(self.filter_bar)
        timeline_layout.addWidget(self.timeline, 1)
        self.sessions_view = SessionsView(context.sessions)
        self.sessions_view.open_requested.connect(self.open_session)
        self.sessions_view.export_requested.connect(self.export_session)
        self.sessions_view.import_requested.connect(self.import_session)
        context.sessions.session_deleted.connect(self.on_session_deleted)
        self.sessions_view.save_as_test_requested.connect(self.save_session_as_test)
        self.tests_page = LazyPage(self._make_tests_view)

        bar = QHBoxLayout()
        bar.addWidget(self.profile_name)
        bar.addWidget(self.url, 1)
        bar.addWidget(self.state_label)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.connect_button)

        right_split = QSplitter(Qt.Orientation.Vertical)
        right_split.addWidget(timeline_box)
        right_split.addWidget(self.detail)
        right_split.addWidget(self.composer)
        right_split.setStretchFactor(0, 5)
        right_split.setStretchFactor(1, 3)
        right_split.setStretchFactor(2, 2)
        right_split.setSizes([380, 280, 140])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.addLayout(bar)
        right_layout.addWidget(self.info)
        right_layout.addWidget(right_split, 1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.graph = HealthPage()
        self._graph_samples = 0
        self.tabs.addTab(right, "Inspector")
        self.tabs.addTab(self.graph, "Health")
        self.tabs.addTab(self.sessions_view, "Sessions")
        self.tabs.addTab(self.tests_page, "Tests")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        main_split = QSplitter(Qt.Orientation.Horizontal)
        main_split.addWidget(self.connections)
        main_split.addWidget(self.tabs)
        main_split.setStretchFactor(1, 1)
        main_split.setSizes([230, 1050])
        container = QWidget()
        outer = QVBoxLayout(container)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.banner)  # above both pages: a failed import shows on the Sessions page too
        outer.addWidget(main_split, 1)
        self.setCentralWidget(container)

        self.task_label = QLabel()
        self.task_progress = QProgressBar()
        self.task_progress.setObjectName("taskProgress")
        self.task_progress.setMaximumWidth(180)
        self.task_cancel = QPushButton("Cancel")
        self.task_cancel.setObjectName("taskCancel")
        self.task_cancel.clicked.connect(self.cancel_task)
        for widget in (self.task_label, self.task_progress, self.task_cancel):
            widget.hide()
            self.statusBar().addPermanentWidget(widget)
        self.rates = QLabel()
        self.rates.setObjectName("frameRates")
        self.statusBar().addPermanentWidget(self.rates)
        self.counts = QLabel()
        self.counts.setObjectName("frameCounts")
        self.statusBar().addPermanentWidget(self.counts)
        self._task: ChunkedTask | None = None
        self._filter_task: ChunkedTask | None = None
        self._viewing: StoredSession | None = None
        self._rate_samples: deque[tuple[float, int, int, int, int]] = deque()
        self._rate_timer = QTimer(self)
        self._rate_timer.setObjectName("rateTimer")
        self._rate_timer.setInterval(500)
        self._rate_timer.timeout.connect(self._update_rates)
        self._build_menus()

        self.session.state_changed.connect(self.on_state_changed)
        self.session.session_started.connect(self.on_session_started)
        self.session.frames_appended.connect(self.on_frames_appended)
        self.session.recording_failed.connect(self.on_recording_failed)
        self.session.health_changed.connect(self.on_health_changed)
        self.session.reconnecting.connect(self.on_reconnecting)
        self.session.event_added.connect(self.on_event_added)
        self.session.session_saved.connect(lambda _id: self.sessions_view.refresh())
        self.session.opened.connect(self.on_opened)
        self.session.failed.connect(self.on_failed)
        self.session.closed.connect(self.on_closed)
        self.model.set_source(self.session.log)
        self.on_state_changed(self.session.state)
        self._update_counts()

        context.echo_started.connect(self.on_echo_started)
        context.echo_failed.connect(lambda message: self.banner.show_message(message, "warning"))
        profiles = context.connections.profiles
        if profiles:
            self.connections.select(profiles[0].id)
        notices = list(context.warnings)
        if context.interrupted:
            count = len(context.interrupted)
            notices.append(f"{count} session{'s were' if count > 1 else ' was'} interrupted when wsinspector last "
                           "stopped unexpectedly; everything recorded up to then is in Sessions.")
        if notices:
            self.banner.show_message("\n".join(notices), "warning")
        elif context.echo_url:
            self.on_echo_started(context.echo_url)

    @Slot(str)
    def on_echo_started(self, url: str) -> None:
        """The echo server runs: on a first start select "Local echo" and say what it is."""
        if self.connections.current_profile() is None:
            profiles = self.context.connections.profiles
            if profiles:
                self.connections.select(profiles[0].id)
        if self.context.first_start and not self.banner.text:
            self.banner.show_message(
                f"Welcome! “Local echo” is a WebSocket echo server built into wsinspector ({url}). "
                "Press Connect, type a message and send it with Ctrl+Enter.", "info")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.connections.new_action)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        file_menu.addAction(quit_action)
        conn_menu = self.menuBar().addMenu("&Connection")
        self.connect_action = QAction("&Connect / Disconnect", self, shortcut="Ctrl+K",
                                      triggered=self.toggle_connection)
        conn_menu.addAction(self.connect_action)
        conn_menu.addSeparator()
        for action in (self.connections.edit_action, self.connections.duplicate_action,
                       self.connections.rename_action, self.connections.delete_action):
            conn_menu.addAction(action)
        session_menu = self.menuBar().addMenu("&Session")
        self.save_as_test_action = QAction("Save as &test…", self, triggered=self._on_save_as_test_chosen)
        self.save_as_test_action.setToolTip("Make a test of the session in the timeline (live or stored)")
        session_menu.addAction(self.save_as_test_action)
        self.tests_menu = self.menuBar().addMenu("&Tests")
        self.tests_menu.aboutToShow.connect(self._fill_tests_menu)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&About wsinspector", self, triggered=self.show_about))

    # -- the Tests page, built when first needed ----------------------------------------------------

    def _make_tests_view(self) -> QWidget:
        from wsinspector.ui.tests_view import ScenariosView  # noqa: PLC0415  (YAML and the editor: on first use)

        view = ScenariosView(self.context.store, self.context.echo_url or "")
        view.banner_requested.connect(self._on_tests_banner)
        view.session_recorded.connect(lambda _id: self.sessions_view.refresh())
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

    # -- connection ---------------------------------------------------------------------------------

    @Slot(object)
    def on_profile_selected(self, profile: ConnectionProfile | None) -> None:
        self._profile = profile
        self.profile_name.setText(f"<b>{html.escape(profile.name)}</b>" if profile else "")
        self.url.setText(profile.url if profile else "")
        if self.session.state is ConnectionState.CLOSED and profile is not None:
            self.composer.set_fault_injection(profile.protocol.engine == ENGINE_WIRE, profile.protocol.auto_pong)
        self._update_title()

    @Slot(object)
    def on_connect_requested(self, profile: ConnectionProfile) -> None:
        if self.session.state is ConnectionState.CLOSED:
            self.on_profile_selected(profile)
            self.connect_current()

    @Slot()
    def _on_url_entered(self) -> None:
        """Enter in the URL field connects; it never disconnects (the field is read-only while connected)."""
        if self.session.state is ConnectionState.CLOSED and not self.session.is_reconnecting:
            self.connect_current()

    @Slot()
    def toggle_connection(self) -> None:
        if self.session.is_reconnecting:
            self.session.cancel_reconnect()
            self.banner.show_message("Stopped reconnecting; the session is saved up to here.", "info")
            self.on_state_changed(self.session.state)
            return
        state = self.session.state
        if state is ConnectionState.CLOSED:
            self.connect_current()
        elif state is ConnectionState.CONNECTING:
            self.session.disconnect()
        elif state is ConnectionState.OPEN:
            self.on_close_requested(1000, "")

    def connect_current(self) -> None:
        profile = self._profile
        if profile is None:
            self.banner.show_message("Select or create a connection first", "warning")
            return
        url = self.url.text().strip()
        notice = ""
        if url != profile.url:
            edited = profile.with_changes(endpoint={"url": url})
            try:
                edited.resolved()
            except ValueError as exc:
                self.banner.show_message(str(exc))
                return
            if profile.builtin or profile.read_only:
                # The built-in profile follows the echo server's port; keep the user's URL out of it.
                notice = (f"Connecting to {url} once; “{profile.name}” keeps pointing at the built-in echo server. "
                          "Use Duplicate to save a connection of your own." if profile.builtin else
                          f"Connecting to {url} once: {ReadOnlyProfileError(profile)}.")
                profile = edited
            else:
                profile = self._profile = self.context.connections.save(edited)
        self.banner.clear()
        if notice:
            self.banner.show_message(notice, "info")
        self.info.clear()
        self.info.hide()
        self.session.connect_to(profile)

    @Slot(object)
    def on_state_changed(self, state: ConnectionState) -> None:
        text, colour = _STATE_STYLE[state]
        if state is ConnectionState.OPEN and not self.session.healthy:
            text, colour = "Open · no pong", "#b26a00"
        reconnecting = self.session.is_reconnecting
        if reconnecting:
            text, colour = "Reconnecting…", "#b26a00"
        self.state_label.setText(text)
        self.state_label.setStyleSheet(
            f"color: white; background: {colour}; border-radius: 4px; padding: 3px 8px; font-weight: bold;")
        self.connect_button.setText("Stop reconnecting" if reconnecting else {
            ConnectionState.CLOSED: "Connect", ConnectionState.CONNECTING: "Cancel",
            ConnectionState.OPEN: "Disconnect", ConnectionState.CLOSING: "Disconnect"}[state])
        self.connect_button.setEnabled(state is not ConnectionState.CLOSING)
        self.url.setReadOnly(state is not ConnectionState.CLOSED)
        self.composer.set_connected(state is ConnectionState.OPEN and self._viewing is None)
        if state is ConnectionState.OPEN:
            self.composer.set_fault_injection(self.session.can_inject_faults, self.session.auto_pong)
            self._rate_samples.clear()
            self._rate_timer.start()
        elif state is ConnectionState.CLOSED:
            self._rate_timer.stop()
            self._update_rates()
        self._update_title()

    @Slot(object)
    def on_opened(self, info: OpenInfo) -> None:
        proto = info.subprotocol or "none"
        headers = ("not exposed by the Qt engine" if info.response_headers is None
                   else ", ".join(f"{k}: {v}" for k, v in info.response_headers))
        engine = ENGINES.get(self.session.engine, self.session.engine).split(" (")[0]
        extensions = info.extensions or "none"
        self.info.setText(f"Connected to {info.peer} · {engine} engine · subprotocol: {proto} · "
                          f"extensions: {extensions} · response headers: {headers}")
        self.info.show()
        self.statusBar().showMessage(f"Connected to {info.url}", 5000)

    @Slot(object)
    def on_failed(self, failure: Failure) -> None:
        self.banner.show_message(failure.message, "error")
        self.statusBar().showMessage(failure.message, 10000)

    @Slot(object)
    def on_closed(self, info: CloseInfo) -> None:
        if self.info.text().startswith("Connected to "):
            self.info.setText("Disconnected from " + self.info.text().removeprefix("Connected to "))
        level = "error" if info.failure is not None or not info.clean else ("warning" if info.by_peer else "info")
        self.banner.show_message(info.message, level)
        self.statusBar().showMessage(info.message, 10000)

    # -- frames -------------------------------------------------------------------------------------

    @Slot()
    def on_session_started(self) -> None:
        self._rate_samples.clear()
        if self._viewing is None:
            self._set_source(self.session.log)
            self._reset_graph()
        self._update_counts()

    @Slot(int, int)
    def on_frames_appended(self, first: int, last: int) -> None:
        if self._viewing is None:
            self.model.on_frames_appended(first, last)
            self._feed_graph()
            self._update_counts()

    # -- latency graph ----------------------------------------------------------------------------

    def _reset_graph(self) -> None:
        """Draw the graph of what the timeline shows: the live log so far, or a stored session."""
        source: Session = self._viewing if self._viewing is not None else self.session.log
        self.graph.clear()
        samples = source.rtt_samples
        self._graph_samples = len(samples)
        start = source.started_ns
        self.graph.set_rtts([(ts - start) / 1e9 for _, ts, _ in samples], [rtt / 1e6 for _, _, rtt in samples])
        for ts, kind, text in source.events:
            self.graph.add_marker((ts - start) / 1e9, kind, text)

    def _feed_graph(self) -> None:
        log = self.session.log
        samples = log.rtt_samples
        if len(samples) > self._graph_samples:
            new = samples[self._graph_samples:]
            self._graph_samples = len(samples)
            self.graph.add_rtts([(ts - log.started_ns) / 1e9 for _, ts, _ in new], [rtt / 1e6 for _, _, rtt in new])

    @Slot(object, str, str)
    def on_event_added(self, ts_ns: int, kind: str, text: str) -> None:
        if self._viewing is None:
            self.graph.add_marker((ts_ns - self.session.log.started_ns) / 1e9, kind, text)

    @Slot(int, float)
    def on_reconnecting(self, attempt: int, delay_s: float) -> None:
        self.banner.show_message(f"Connection lost: reconnecting in {delay_s:.1f} s (attempt {attempt}). "
                                 "The session goes on; Stop reconnecting ends it.", "warning")
        self.on_state_changed(self.session.state)

    @Slot(bool, str)
    def on_health_changed(self, healthy: bool, reason: str) -> None:
        self.on_state_changed(self.session.state)
        if not healthy:
            self.banner.show_message(reason, "warning")
        elif self.banner.level == "warning" and "heartbeat" in self.banner.label.text():
            self.banner.clear()

    @Slot(str)
    def on_recording_failed(self, message: str) -> None:
        self.banner.show_message(message, "error")

    # -- sources: live or stored ------------------------------------------------------------------

    def _set_source(self, source: Session) -> None:
        if self._filter_task is not None:
            self._filter_task.cancel()
            self._filter_task = None
            self.filter_bar.cancel.hide()
        self.filter_bar.reset()
        self.model.set_source(source)
        self.detail.show_frame(None, None)
        self._update_counts()

    @property
    def is_filtering(self) -> bool:
        """A filter is being computed (its progress and Cancel are in the filter bar)."""
        return self._filter_task is not None

    @property
    def viewing(self) -> StoredSession | None:
        return self._viewing

    @Slot(int)
    def open_session(self, session_id: int) -> None:
        """Show a recorded session in the timeline, read-only; the live connection carries on."""
        try:
            stored = self.context.sessions.open(session_id)
        except (KeyError, StoreError) as exc:
            self.banner.show_message(f"Cannot open the session: {exc}")
            return
        self._viewing = stored
        self._reset_graph()
        record = stored.record
        when = format_started(record.started_wall)
        self.viewing_label.setText(
            f"Viewing stored session <b>{html.escape(record.name)}</b> · {when} · {html.escape(record.url)}"
            f" · {record.status} · {len(stored):,} frames (read-only)")
        self.viewing_bar.show()
        self.composer.set_connected(False)
        self._set_source(stored)
        self.tabs.setCurrentIndex(0)

    @Slot(int)
    def on_session_deleted(self, session_id: int) -> None:
        if self._viewing is not None and self._viewing.session_id == session_id:
            self.show_live()
            self.banner.show_message("The session you were viewing was deleted; showing the live session.", "info")

    @Slot()
    def show_live(self) -> None:
        self._viewing = None
        self._reset_graph()
        self.viewing_bar.hide()
        self.composer.set_connected(self.session.is_open)
        self._set_source(self.session.log)
        self.model.on_frames_appended(0, len(self.session.log) - 1)

    # -- filter, find, jump -----------------------------------------------------------------------

    @Slot(object)
    def apply_filter(self, flt: FrameFilter) -> None:
        if self._filter_task is not None:
            previous, self._filter_task = self._filter_task, None
            previous.cancelled.disconnect()  # replaced, not cancelled by the user: nothing to say
            previous.cancel()
            previous.deleteLater()
        source = self.model.source
        if source is None:
            return
        if flt.is_empty():
            self.model.set_filter(None)
            self._update_counts()
            return
        # scan only the frames the table already knows; later ones reach it through on_frames_appended
        task = self.context.sessions.filter_task(source, flt, self, upto=self.model.known_frames)
        matcher = flt.matcher()

        def done(result: object) -> None:
            rows, upto = result  # type: ignore[misc]
            live = source is not self._viewing
            self.model.set_filter(rows, matcher if live else None, upto)
            self._end_filter(task)
            self._update_counts()

        def progress(done_count: int, total: int) -> None:
            percent = f" {100 * done_count // total}%" if total else ""
            self.filter_bar.status.setText(f"Filtering…{percent}")

        task.finished.connect(done)
        task.progress.connect(progress)
        task.cancelled.connect(lambda: self._end_filter(task, "Filtering cancelled: showing all frames"))
        task.failed.connect(lambda message: self._end_filter(task, message))
        self._filter_task = task
        self.filter_bar.cancel.show()
        self.filter_bar.status.setText("Filtering…")
        task.start()

    def _end_filter(self, task: ChunkedTask, message: str = "") -> None:
        if self._filter_task is task:
            self._filter_task = None
            self.filter_bar.cancel.hide()
        if message:
            self.filter_bar.show_error(message)
        self._update_counts()
        task.deleteLater()

    @Slot()
    def cancel_filter(self) -> None:
        if self._filter_task is not None:
            task = self._filter_task
            task.cancel()
            self.model.set_filter(None)

    @Slot(bool)
    def find(self, backwards: bool) -> None:
        source = self.model.source
        if source is None or not len(source):
            return
        flt = self.filter_bar.search_filter()
        current = self.timeline.currentIndex()
        start = self.model.seq_at(current.row()) if current.isValid() else (len(source) if backwards else -1)
        fetch = source.scan
        total = len(source)
        seq = find_next(flt, start, total, fetch, backwards=backwards)
        first_hidden: int | None = None
        while seq is not None and self.model.row_of(seq) is None:
            # a match the filter hides: look on from there, until the search comes round again
            if seq in (first_hidden, start):
                self.filter_bar.show_error("Every match is hidden by the filter")
                return
            if first_hidden is None:
                first_hidden = seq
            seq = find_next(flt, seq, total, fetch, backwards=backwards)
        if seq is None:
            self.filter_bar.show_error("No match")
            return
        row = self.model.row_of(seq)
        assert row is not None
        self.select_row(row)

    @Slot(float)
    def jump_to(self, seconds: float) -> None:
        source = self.model.source
        if source is None or not self.model.rowCount():
            return
        # The Time column shows microseconds, rounded: a typed time means that displayed microsecond.
        target = min(source.started_ns + round(seconds * 1e6) * 1000 - 500, 2**63 - 1)
        self.select_row(self.model.nearest_row(source.seq_at_or_after(target)))

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.timeline.setCurrentIndex(index)
        self.timeline.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    # -- export / import --------------------------------------------------------------------------

    @Slot(int)
    def export_session(self, session_id: int, path: Path | None = None) -> ChunkedTask | None:
        record = self.context.sessions.get(session_id)
        if record is None:
            return None
        if path is None:
            suggested = str(Path.home() / f"{record.name}{SESSION_SUFFIX}")
            name, _ = QFileDialog.getSaveFileName(self, "Export session", suggested, SESSION_FILTER)
            if not name:
                return None
            path = Path(name)
        task = self.context.sessions.export_task(session_id, path, self)
        task.finished.connect(lambda p: self.statusBar().showMessage(f"Exported to {p}", 8000))
        self.run_task(task)
        return task

    @Slot()
    def open_paths(self, paths: list[Path]) -> None:
        """Files named on the command line or opened from the desktop: a session file is imported and shown,
        anything else is opened as a test on the Tests page. One of each at a time; the rest are named."""
        sessions = [path for path in paths if path.is_file() and is_session_file(path)]
        missing = [path for path in paths if not path.is_file()]
        tests = [path for path in paths if path not in sessions and path not in missing]
        notes = [f"Cannot open {path}: no such file" for path in missing]
        if sessions:
            self.import_session(sessions[0], show=True)
        if tests and self.tests_view.open_file(tests[0]):
            self.tabs.setCurrentWidget(self.tests_page)
        left = [path.name for path in (*sessions[1:], *tests[1:])]
        if left:
            notes.append(f"One session file and one test at a time: {', '.join(left)} not opened")
        if notes:
            self.banner.show_message("\n".join(notes), "warning")

    def import_session(self, path: Path | None = None, show: bool = False) -> ChunkedTask | None:
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, "Import session", str(Path.home()), SESSION_FILTER)
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
        self.run_task(task)
        return task

    # -- long operations --------------------------------------------------------------------------

    def run_task(self, task: ChunkedTask) -> None:
        """Show a task's progress in the status bar with a Cancel button, and its failure in the banner.
        One such task at a time (filters have their own progress in the filter bar)."""
        if self._task is not None and self._task.running:
            self.banner.show_message(f"Wait for “{self._task.title}” to finish, or cancel it", "warning")
            task.deleteLater()
            return
        self._task = task
        self.task_label.setText(task.title + "…")
        self.task_progress.setRange(0, 0)
        for widget in (self.task_label, self.task_progress, self.task_cancel):
            widget.show()
        task.progress.connect(self._on_task_progress)
        task.finished.connect(lambda _result: self._end_task(task))
        task.cancelled.connect(lambda: self._end_task(task, f"{task.title}: cancelled"))
        task.failed.connect(lambda message: self._end_task(task, f"{task.title} failed: {message}", error=True))
        task.start()

    @Slot()
    def cancel_task(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _on_task_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.task_progress.setRange(0, 1000)
            self.task_progress.setValue(int(1000 * min(done, total) / total))

    def _end_task(self, task: ChunkedTask, message: str = "", error: bool = False) -> None:
        if self._task is task:
            self._task = None
            for widget in (self.task_label, self.task_progress, self.task_cancel):
                widget.hide()
        if error:
            self.banner.show_message(message, "error")
        elif message:
            self.statusBar().showMessage(message, 5000)
        task.deleteLater()

    # -- tests ----------------------------------------------------------------------------------------

    def save_session_as_test(self, session_id: int | None = None, path: Path | None = None) -> bool:
        """Make a test of a session (a stored one by id; by default the one in the timeline, live or stored),
        show it on the Tests page and save it: to ``path``, or where the user says (a dialog)."""
        from wsinspector.app.tests import (  # noqa: PLC0415  (test files: on first use)
            SessionTestError,
            live_session_test,
            stored_session_test,
        )

        if session_id is None and self._viewing is not None:
            session_id = self._viewing.session_id
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

    @Slot()
    def _on_save_as_test_chosen(self) -> None:
        self.save_session_as_test()

    @Slot(str, str)
    def _on_tests_banner(self, text: str, level: str) -> None:
        if not text:
            if self.banner.text.startswith("Cannot open the test"):
                self.banner.clear()
        elif level == "info":
            self.statusBar().showMessage(text, 8000)
        else:
            self.banner.show_message(text, level)

    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.sessions_view:
            self.sessions_view.refresh()

    @Slot(object)
    def on_frame_selected(self, frame: Frame | None) -> None:
        self.detail.show_frame(frame, self.model.source if frame is not None else None)

    @Slot(bytes, bool)
    def on_send_requested(self, data: bytes, is_text: bool) -> None:
        try:
            self.session.send(data, is_text)
        except RuntimeError as exc:
            self.composer.show_error(str(exc))

    @Slot(bytes)
    def on_ping_requested(self, payload: bytes) -> None:
        try:
            self.session.ping(payload)
        except (RuntimeError, ValueError) as exc:
            self.composer.show_error(str(exc))

    @Slot(int, str)
    def on_close_requested(self, code: int, reason: str) -> None:
        try:
            self.session.disconnect(code, reason)
        except ValueError as exc:
            self.composer.show_error(str(exc))

    @Slot(bytes, bool, int)
    def on_fragmented_send_requested(self, data: bytes, is_text: bool, frame_size: int) -> None:
        try:
            self.session.send_fragmented(data, is_text, frame_size)
        except (RuntimeError, ValueError) as exc:
            self.composer.show_error(str(exc))

    @Slot(bytes)
    def on_pong_requested(self, payload: bytes) -> None:
        try:
            self.session.send_pong(payload)
        except (RuntimeError, ValueError) as exc:
            self.composer.show_error(str(exc))

    @Slot(object, str)
    def on_raw_close_requested(self, code: int | None, reason: str) -> None:
        try:
            self.session.close_with_any_code(code, reason)
        except (RuntimeError, ValueError) as exc:
            self.composer.show_error(str(exc))

    @Slot(bool)
    def on_auto_pong_toggled(self, on: bool) -> None:
        try:
            self.session.set_auto_pong(on)
        except RuntimeError as exc:
            self.composer.show_error(str(exc))

    # -- misc ---------------------------------------------------------------------------------------

    def _update_counts(self) -> None:
        source = self.model.source
        total = len(source) if source is not None else 0
        frames_in = source.frames_in if source is not None else 0
        shown = self.model.rowCount()
        text = f"frames: {total:,}  (↓ {frames_in:,}  ↑ {total - frames_in:,})"
        if self.model.is_filtered:
            text = f"showing {shown:,} of {total:,} frames"
        self.counts.setText(text)
        self.filter_bar.status.setText(f"{shown:,} / {total:,}" if self.model.is_filtered else "")

    @Slot()
    def _update_rates(self) -> None:
        """Frames and bytes per second, in and out, over the last second or so."""
        log = self.session.log
        now = time.monotonic()
        frames_out = len(log) - log.frames_in
        self._rate_samples.append((now, log.frames_in, frames_out, log.bytes_in, log.bytes_out))
        while len(self._rate_samples) > 2 and now - self._rate_samples[1][0] >= 1.0:
            self._rate_samples.popleft()
        first = self._rate_samples[0]
        span = now - first[0]
        if span <= 0:
            return
        fin, fout, bin_, bout = ((self._rate_samples[-1][i] - first[i]) / span for i in range(1, 5))
        if self._viewing is None:
            self.graph.add_rates((time.monotonic_ns() - log.started_ns) / 1e9, fin, fout, bin_, bout)
        self.rates.setText(f"↓ {fin:,.0f} fr/s {human_size(int(bin_))}/s   "
                           f"↑ {fout:,.0f} fr/s {human_size(int(bout))}/s")

    def _update_title(self) -> None:
        name = self._profile.name if self._profile else ""
        state = _STATE_STYLE[self.session.state][0]
        self.setWindowTitle(f"{name} — {state} — wsinspector" if name else "wsinspector")

    @Slot()
    def show_about(self) -> None:
        show_about(self, self.context.data_dir)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tests_page.loaded and not self.tests_view.confirm_discard():  # unsaved, and the user said Cancel
            event.ignore()
            return
        for task in (self._task, self._filter_task):
            if task is not None:
                task.cancel()
        self._rate_timer.stop()
        self.graph.stop()
        if self.tests_page.loaded:
            self.tests_view.shutdown()
        self.session.shutdown()
        super().closeEvent(event)
