"""The main window: connections on the left; connection bar, timeline, detail pane and composer on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsinspector import __version__
from wsinspector.app.context import AppContext
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, OpenInfo
from wsinspector.core.frames import Direction, Frame
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.ui.composer import Composer
from wsinspector.ui.connections_panel import ConnectionsPanel
from wsinspector.ui.detail import DetailPane
from wsinspector.ui.timeline import TimelineModel, TimelineView

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
    def __init__(self, context: AppContext) -> None:
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
        self.url.returnPressed.connect(self.toggle_connection)
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

        bar = QHBoxLayout()
        bar.addWidget(self.profile_name)
        bar.addWidget(self.url, 1)
        bar.addWidget(self.state_label)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.connect_button)

        right_split = QSplitter(Qt.Orientation.Vertical)
        right_split.addWidget(self.timeline)
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
        right_layout.addWidget(self.banner)
        right_layout.addWidget(right_split, 1)

        main_split = QSplitter(Qt.Orientation.Horizontal)
        main_split.addWidget(self.connections)
        main_split.addWidget(right)
        main_split.setStretchFactor(1, 1)
        main_split.setSizes([230, 1050])
        container = QWidget()
        outer = QVBoxLayout(container)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(main_split)
        self.setCentralWidget(container)

        self.counts = QLabel()
        self.counts.setObjectName("frameCounts")
        self.statusBar().addPermanentWidget(self.counts)
        self._build_menus()

        self.session.state_changed.connect(self.on_state_changed)
        self.session.session_started.connect(self.on_session_started)
        self.session.frames_appended.connect(self.model.on_frames_appended)
        self.session.frames_appended.connect(self.on_frames_appended)
        self.session.opened.connect(self.on_opened)
        self.session.failed.connect(self.on_failed)
        self.session.closed.connect(self.on_closed)
        self.model.set_source(self.session.log)
        self._in = self._out = 0
        self.on_state_changed(self.session.state)
        self._update_counts()

        profiles = context.connections.profiles
        if profiles:
            self.connections.select(profiles[0].id)
        if context.warnings:
            self.banner.show_message("\n".join(context.warnings), "warning")
        elif context.first_start and context.echo_url:
            self.banner.show_message(
                f"Welcome! “Local echo” is a WebSocket echo server built into wsinspector ({context.echo_url}). "
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
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&About wsinspector", self, triggered=self.show_about))

    # -- connection ---------------------------------------------------------------------------------

    @Slot(object)
    def on_profile_selected(self, profile: ConnectionProfile | None) -> None:
        self._profile = profile
        self.profile_name.setText(f"<b>{profile.name}</b>" if profile else "")
        self.url.setText(profile.url if profile else "")
        self._update_title()

    @Slot(object)
    def on_connect_requested(self, profile: ConnectionProfile) -> None:
        if self.session.state is ConnectionState.CLOSED:
            self.on_profile_selected(profile)
            self.connect_current()

    @Slot()
    def toggle_connection(self) -> None:
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
            edited = profile.with_changes(url=url)
            try:
                edited.resolved()
            except ValueError as exc:
                self.banner.show_message(str(exc))
                return
            if profile.builtin:
                # The built-in profile follows the echo server's port; keep the user's URL out of it.
                notice = (f"Connecting to {url} once; “{profile.name}” keeps pointing at the built-in echo server. "
                          "Use Duplicate to save a connection of your own.")
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
        self.state_label.setText(text)
        self.state_label.setStyleSheet(
            f"color: white; background: {colour}; border-radius: 4px; padding: 3px 8px; font-weight: bold;")
        self.connect_button.setText({ConnectionState.CLOSED: "Connect", ConnectionState.CONNECTING: "Cancel",
                                     ConnectionState.OPEN: "Disconnect",
                                     ConnectionState.CLOSING: "Disconnect"}[state])
        self.connect_button.setEnabled(state is not ConnectionState.CLOSING)
        self.url.setReadOnly(state is not ConnectionState.CLOSED)
        self.composer.set_connected(state is ConnectionState.OPEN)
        self._update_title()

    @Slot(object)
    def on_opened(self, info: OpenInfo) -> None:
        proto = info.subprotocol or "none"
        headers = ("not exposed by the Qt engine" if info.response_headers is None
                   else ", ".join(f"{k}: {v}" for k, v in info.response_headers))
        self.info.setText(f"Connected to {info.peer} · subprotocol: {proto} · response headers: {headers}")
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
        self.model.set_source(self.session.log)
        self.detail.show_frame(None, None)
        self._in = self._out = 0
        self._update_counts()

    @Slot(int, int)
    def on_frames_appended(self, first: int, last: int) -> None:
        log = self.session.log
        for seq in range(first, last + 1):
            if log[seq].direction is Direction.IN:
                self._in += 1
            else:
                self._out += 1
        self._update_counts()

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

    # -- misc ---------------------------------------------------------------------------------------

    def _update_counts(self) -> None:
        self.counts.setText(f"frames: {self._in + self._out:,}  (↓ {self._in:,}  ↑ {self._out:,})")

    def _update_title(self) -> None:
        name = self._profile.name if self._profile else ""
        state = _STATE_STYLE[self.session.state][0]
        self.setWindowTitle(f"{name} — {state} — wsinspector" if name else "wsinspector")

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(self, "About wsinspector",
                          f"<b>wsinspector {__version__}</b><br>Inspect and test WebSocket endpoints.<br>"
                          f"Data: {self.context.data_dir}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.session.shutdown()
        super().closeEvent(event)
