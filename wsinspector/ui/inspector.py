"""The Inspector page of one connection: its bar (name, URL, state, Connect), the timeline with its filter bar,
the detail pane and the composer. It shows the connection's live session, or a stored one read-only."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.connection import WINDOW_FRAMES, ConnectionController
from wsinspector.app.connections import ConnectionsController
from wsinspector.app.sessions import SessionsController
from wsinspector.app.tasks import ChunkedTask
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, FailureKind, OpenInfo, TlsInfo
from wsinspector.core.frames import Frame
from wsinspector.core.profiles import ENGINE_WIRE, ENGINES, ConnectionProfile, Decoding
from wsinspector.core.rates import Rates
from wsinspector.core.session import Session
from wsinspector.core.store import StoreError
from wsinspector.core.stored import StoredSession
from wsinspector.core.words import counted
from wsinspector.ui import palette
from wsinspector.ui.banner import Banner
from wsinspector.ui.certificate_view import CertificateView, describe_tls
from wsinspector.ui.composer import Composer
from wsinspector.ui.composing import ComposerLink
from wsinspector.ui.copy_as_menu import CopyAsLink
from wsinspector.ui.decoding import TabDecoding
from wsinspector.ui.detail import DetailPane
from wsinspector.ui.filter_bar import FilterBar
from wsinspector.ui.handshake_view import HandshakeView
from wsinspector.ui.inline_message import ElidedLabel
from wsinspector.ui.protocol_link import ProtocolLink
from wsinspector.ui.sessions_view import format_started
from wsinspector.ui.timeline import TimelineModel, TimelineView
from wsinspector.ui.timeline_menu import TimelineMenu, send_again
from wsinspector.ui.timeline_search import TimelineSearch
from wsinspector.ui.view_bar import ViewBar

#: each state's words and badge colour (white text on it; ui/palette.py, the same in both schemes)
STATE_STYLE = {
    ConnectionState.CLOSED: ("Closed", palette.COLOURS["state_closed"][0]),
    ConnectionState.CONNECTING: ("Connecting…", palette.COLOURS["state_busy"][0]),
    ConnectionState.OPEN: ("Open", palette.COLOURS["state_open"][0]),
    ConnectionState.CLOSING: ("Closing…", palette.COLOURS["state_busy"][0]),
}
_BUTTON_TEXT = {ConnectionState.CLOSED: "Connect", ConnectionState.CONNECTING: "Cancel",
                ConnectionState.OPEN: "Disconnect", ConnectionState.CLOSING: "Disconnect"}


def _environment_label() -> QLabel:
    """The active environment's name beside the connection's (hidden when none is active)."""
    label = QLabel()
    label.setObjectName("environmentLabel")
    label.setToolTip("The active environment: {{variables}} resolve with its values")
    palette.style(label, "color: {accent}; border: 1px solid {accent}; border-radius: 4px; padding: 2px 6px;")
    label.hide()
    return label


def _status_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    return label


def _lower_tabs(detail: DetailPane, handshake: HandshakeView) -> QTabWidget:
    """The selected frame's detail, or the connection's opening handshake."""
    tabs = QTabWidget()
    tabs.setObjectName("lowerTabs")
    tabs.addTab(detail, "Frame")
    tabs.addTab(handshake, "Handshake")
    return tabs


class InspectorPage(TimelineSearch, QWidget):
    """One connection's page. Messages for the user go to ``banner``; the rest leaves through signals.

    Signals:
        title_changed(str): the window title for this connection ("name — state — wsinspector"); also when the
            tab's own label (``tab_text``) changes
        status_message(str, int): a passing message for the status bar, and for how long (ms)
        source_changed(object, bool): the timeline now shows this session; whether it is the live one
        edit_requested(): the user asked for the connection's settings
        leave_requested(): a stored session's tab was asked to go back to live: the window closes it
    """

    title_changed = Signal(str)
    status_message = Signal(str, int)
    source_changed = Signal(object, bool)
    edit_requested = Signal()
    leave_requested = Signal()

    def __init__(self, controller: ConnectionController, connections: ConnectionsController,
                 sessions: SessionsController, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = controller
        self._connections = connections
        self._sessions = sessions
        self.banner = banner
        self._profile: ConnectionProfile | None = None
        self._environment = ""
        self._viewing: StoredSession | None = None
        #: a tab of its own for a stored session: read-only for its whole life, never live
        self.stored_only = False
        self._filter_task: ChunkedTask | None = None
        #: the Handshake tab came forward by itself to show a refused upgrade
        self._refusal_shown = False
        #: what this connection last said in the banner (cleared when it no longer holds)
        self._told = ""
        self._build()
        header = self.layout().itemAt(0).layout()
        assert isinstance(header, QBoxLayout)
        #: the composer's sends, saved messages, history, periodic sends and auto-replies
        self.composing = ComposerLink(self.composer, controller, connections, header, self)
        self.composing.profile_saved = self.on_profile_selected
        self.composing.add_to_menu(self.row_actions)
        #: Copy as websocat, wscat, Python, JavaScript (the connection, chosen messages), NDJSON and CSV
        self.copy_as = CopyAsLink(self, header)
        self.copy_as.copied.connect(lambda message: self.status_message.emit(message, 5000))
        #: the composer's protocol verbs and the Protocol list, while the connection speaks a protocol
        self.protocol = ProtocolLink(self)
        self._connect_signals()
        self.model.set_source(controller.log)
        self.decoding.set_session(controller.log)
        self.on_state_changed(controller.state)
        self._update_counts()

    def _build(self) -> None:
        self.profile_name = QLabel()
        self.profile_name.setObjectName("profileName")
        self.url = QLineEdit()
        self.url.setObjectName("urlEdit")
        self.url.setPlaceholderText("ws://host:port/path")
        self.state_label = QLabel()
        self.state_label.setObjectName("stateLabel")
        self.state_label.setMinimumWidth(100)
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.environment_label = _environment_label()
        self._build_url_edit_widgets()
        self.connect_button = QPushButton("Connect")
        self.connect_button.setObjectName("connectButton")
        # as wide as its widest words: Connect, Disconnect, Cancel, Stop reconnecting keep it where it is
        metrics = self.connect_button.fontMetrics()
        widest = max(metrics.horizontalAdvance(text) for text in (*_BUTTON_TEXT.values(), "Stop reconnecting"))
        self.connect_button.setMinimumWidth(widest + 24)
        self._build_tls_widgets()
        self.edit_button = QPushButton("Settings…")
        self.edit_button.setToolTip("Headers, subprotocols, origin, variables and limits of this connection")
        # one line that keeps its place while hidden: connecting does not push the timeline down (the whole
        # text is its tooltip; the Handshake tab and the certificate have the details)
        self.info = ElidedLabel()
        self.info.setObjectName("connectionInfo")
        self.info.hide()
        self.model = TimelineModel(self)
        self.timeline = TimelineView(self.model)
        self.detail = DetailPane()
        self.handshake_view = HandshakeView()
        self.lower_tabs = _lower_tabs(self.detail, self.handshake_view)
        self.decoding = TabDecoding(self)
        self.model.set_decoding(self.decoding)
        self.detail.decoder = self.decoding.decoded
        self.composer = Composer()
        self.composer.variables = lambda: self.session.variables
        self.filter_bar = FilterBar()
        self._build_row_tools()
        self._build_viewing_bar()
        # the status bar's counters of what the timeline shows; the window places them
        self.rates, self.counts = _status_label("frameRates"), _status_label("frameCounts")

        timeline_box = QWidget()
        timeline_layout = QVBoxLayout(timeline_box)
        timeline_layout.setContentsMargins(0, 0, 0, 0)
        timeline_layout.setSpacing(3)
        timeline_layout.addWidget(self.viewing_bar)
        timeline_layout.addWidget(self.filter_bar)
        timeline_layout.addWidget(self.view_bar)
        timeline_layout.addWidget(self.timeline, 1)
        bar = QHBoxLayout()
        for widget, stretch in ((self.profile_name, 0), (self.environment_label, 0), (self.url, 1),
                                (self.url_modified, 0), (self.save_url_button, 0), (self.revert_url_button, 0),
                                (self.state_label, 0), (self.recording_label, 0), (self.tls_off, 0),
                                (self.certificate_button, 0), (self.edit_button, 0), (self.connect_button, 0)):
            bar.addWidget(widget, stretch)
        self.split = split = QSplitter(Qt.Orientation.Vertical)
        # the smallest each part may be dragged to: small enough that the window fits a 768-pixel-high screen
        for index, (widget, stretch, least) in enumerate(((timeline_box, 5, 140), (self.lower_tabs, 3, 110),
                                                          (self.composer, 2, 100))):
            widget.setMinimumHeight(least)
            split.addWidget(widget)
            split.setStretchFactor(index, stretch)
        split.setSizes([380, 280, 140])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.info)
        layout.addWidget(split, 1)

    def _build_viewing_bar(self) -> None:
        """What says a stored session is shown, with Back to live."""
        self.viewing_label = QLabel()
        self.viewing_label.setObjectName("viewingLabel")
        self.back_to_live = QPushButton("Back to live")
        self.back_to_live.setObjectName("backToLive")
        self.viewing_bar = QWidget()
        self.viewing_bar.setObjectName("viewingBar")
        palette.style(self.viewing_bar, "#viewingBar {{ background: {viewing_bar}; border-radius: 4px; }}")
        viewing_layout = QHBoxLayout(self.viewing_bar)
        viewing_layout.setContentsMargins(8, 2, 4, 2)
        viewing_layout.addWidget(self.viewing_label, 1)
        viewing_layout.addWidget(self.back_to_live)
        self.viewing_bar.hide()

    def _build_row_tools(self) -> None:
        """The bar above the timeline (frames or messages, pause, clear, follow) and the actions on its rows."""
        self.view_bar = ViewBar(self.model, self.timeline)
        self.row_actions = TimelineMenu(self.timeline, self.model, self._can_resend, lambda: not self.stored_only)

    def _build_url_edit_widgets(self) -> None:
        """What shows that the URL field differs from the saved connection's, and Save / Revert."""
        self.url_modified = QLabel("● Modified")
        self.url_modified.setObjectName("urlModified")
        self.url_modified.setToolTip("The URL differs from the saved connection's: Connect uses it; Save (Ctrl+S) "
                                     "keeps it in the connection, Revert goes back")
        palette.style(self.url_modified, "color: {modified}; font-style: italic; padding: 0 2px;")
        self.save_url_button = QPushButton("Save")
        self.save_url_button.setObjectName("saveUrlButton")
        self.save_url_button.setToolTip("Save this URL in the connection (Ctrl+S)")
        self.revert_url_button = QPushButton("Revert")
        self.revert_url_button.setObjectName("revertUrlButton")
        self.revert_url_button.setToolTip("Back to the saved connection's URL")
        for widget in (self.url_modified, self.save_url_button, self.revert_url_button):
            widget.hide()

    def _build_tls_widgets(self) -> None:
        self.recording_label = QLabel()
        self.recording_label.setObjectName("recordingLabel")
        self.recording_label.hide()
        self.tls_off = QLabel("⚠ Certificate not verified")
        self.tls_off.setObjectName("tlsNotVerified")
        self.tls_off.setToolTip("This connection accepts any server certificate (its TLS settings say so)")
        palette.style(self.tls_off, "color: white; background: {danger_bg}; border-radius: 4px; padding: 3px 8px;")
        self.tls_off.hide()
        self.certificate_button = QPushButton("Certificate…")
        self.certificate_button.setObjectName("certificateButton")
        self.certificate_button.hide()
        self._tls: TlsInfo | None = None

    def _connect_signals(self) -> None:
        session = self.session
        self.url.returnPressed.connect(self._on_url_entered)
        self.url.textChanged.connect(self._show_url_modified)
        self.save_url_button.clicked.connect(self.save_url)
        self.revert_url_button.clicked.connect(self.revert_url)
        self.connect_button.clicked.connect(self.toggle_connection)
        self.edit_button.clicked.connect(self.edit_requested)
        self.certificate_button.clicked.connect(self.show_certificate)
        self.back_to_live.clicked.connect(self.show_live)
        self.timeline.frame_selected.connect(self.on_frame_selected)
        self.filter_bar.filter_changed.connect(self.apply_filter)
        self.filter_bar.find_requested.connect(self.find)
        self.filter_bar.jump_requested.connect(self.jump_to)
        self.filter_bar.cancel.clicked.connect(self.cancel_filter)
        self.filter_bar.problem.connect(lambda message: self.status_message.emit(message, 10000))
        actions = self.row_actions
        actions.resend_requested.connect(lambda items: send_again(self.session, items))
        actions.edit_requested.connect(self.composer.load_message)
        actions.filter_direction_requested.connect(self.filter_bar.show_only_direction)
        actions.filter_opcode_requested.connect(self.filter_bar.show_only_opcode)
        actions.detail_requested.connect(self.reveal_detail)
        actions.status.connect(lambda message: self.status_message.emit(message, 5000))
        self.view_bar.changed.connect(self._update_counts)
        self.view_bar.cleared.connect(lambda: self.detail.show_frame(None, None))
        self.decoding.changed.connect(self._on_decoding_changed)


        session.state_changed.connect(self.on_state_changed)
        session.session_started.connect(self.on_session_started)
        session.frames_appended.connect(self.on_frames_appended)
        session.rates_changed.connect(self.on_rates)
        session.recording_failed.connect(lambda message: self.banner.show_message(message, "error"))
        session.recording_failed.connect(self._update_recording)
        session.health_changed.connect(self.on_health_changed)
        session.reconnecting.connect(self.on_reconnecting)
        session.opened.connect(self.on_opened)
        session.failed.connect(self.on_failed)
        session.closed.connect(self.on_closed)
        session.handshake_changed.connect(self._show_live_handshake)
        self._sessions.session_deleted.connect(self.on_session_deleted)

    # -- the connection ---------------------------------------------------------------------------------

    @property
    def profile(self) -> ConnectionProfile | None:
        return self._profile

    @property
    def url_modified_now(self) -> bool:
        """The URL field differs from the saved connection's (unsaved)."""
        return self._profile is not None and self.url.text().strip() != self._profile.url

    @Slot(object)
    def on_profile_selected(self, profile: ConnectionProfile | None) -> None:
        keep_edit = (profile is not None and self._profile is not None and profile.id == self._profile.id
                     and self.url_modified_now)
        self._profile = profile
        self.profile_name.setText(f"<b>{html.escape(profile.name)}</b>" if profile else "")
        if not keep_edit:  # the same connection saved again (its settings): an unsaved URL stays
            self.url.setText(profile.url if profile else "")
        self._show_url_modified()
        self.decoding.set_setting(profile.decoding if profile else Decoding())
        self.composing.set_profile(profile)
        if self.session.state is ConnectionState.CLOSED:
            self._show_tls_setting(profile)
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
            self.session.request_disconnect(1000, "")

    def connect_current(self) -> None:
        if self._profile is None:
            self.banner.show_message("Select or create a connection first", "warning")
            return
        try:
            profile, notice = self._connections.with_url(self._profile, self.url.text().strip())
        except ValueError as exc:
            self.banner.show_message(str(exc))
            return
        self.banner.clear()
        if notice:
            self.banner.show_message(notice, "info")
        self.info.clear()
        self.info.hide()
        self._tls = None
        self.certificate_button.hide()
        self._show_tls_setting(profile)
        self.session.connect_to(profile)

    @Slot()
    def _show_url_modified(self) -> None:
        modified = self.url_modified_now and not self.stored_only
        for widget in (self.url_modified, self.save_url_button, self.revert_url_button):
            widget.setVisible(modified)
        self.save_url_button.setEnabled(modified and self.url.text().strip() != "")
        font = self.url.font()
        if font.italic() != modified:
            font.setItalic(modified)
            self.url.setFont(font)
        self._update_title()

    @Slot()
    def save_url(self) -> None:
        """Save the URL field into the saved connection (the one explicit way a typed URL is kept)."""
        if self._profile is None or not self.url_modified_now:
            return
        try:
            self._profile = self._connections.save_url(self._profile, self.url.text().strip())
        except ValueError as exc:
            self.banner.show_message(str(exc), "warning")
            return
        self.status_message.emit(f"Saved the URL of “{self._profile.name}”", 5000)
        self._show_url_modified()

    @Slot()
    def revert_url(self) -> None:
        if self._profile is not None:
            self.url.setText(self._profile.url)

    def _show_tls_setting(self, profile: ConnectionProfile | None) -> None:
        """The persistent warning of a wss:// connection that accepts any certificate."""
        url = profile.url.lower() if profile is not None else ""
        verified = profile is None or self.session.effective(profile).tls.verify  # app-wide off counts too
        self.tls_off.setVisible(profile is not None and url.startswith("wss:") and not verified)

    @Slot()
    def on_defaults_changed(self) -> None:
        """The app-wide connection defaults changed: the warning follows them."""
        if self.session.state is ConnectionState.CLOSED:
            self._show_tls_setting(self._profile)

    @Slot(object)
    def on_state_changed(self, state: ConnectionState) -> None:
        text, colour = STATE_STYLE[state]
        if state is ConnectionState.OPEN and not self.session.healthy:
            text, colour = "Open · no pong", STATE_STYLE[ConnectionState.CONNECTING][1]
        reconnecting = self.session.is_reconnecting
        if reconnecting:
            text, colour = "Reconnecting…", STATE_STYLE[ConnectionState.CONNECTING][1]
        self.state_label.setText(text)
        self.state_label.setStyleSheet(
            f"color: white; background: {colour}; border-radius: 4px; padding: 3px 8px; font-weight: bold;")
        self.connect_button.setText("Stop reconnecting" if reconnecting else _BUTTON_TEXT[state])
        self.connect_button.setEnabled(state is not ConnectionState.CLOSING)
        self.url.setReadOnly(state is not ConnectionState.CLOSED)
        self.revert_url_button.setEnabled(state is ConnectionState.CLOSED)
        self.composer.set_connected(state is ConnectionState.OPEN and self._viewing is None)
        if state is ConnectionState.OPEN:
            self.composer.set_fault_injection(self.session.can_inject_faults, self.session.auto_pong)
        self._update_recording()
        self._update_title()

    @Slot()
    def _update_recording(self) -> None:
        """Whether the connection is recorded, beside its state: a live view only keeps its newest frames."""
        session = self.session
        if session.state is ConnectionState.CLOSED and not session.is_reconnecting:
            self.recording_label.hide()
            return
        if session.is_recording:
            text, colour = "● Recording", "error"
            tip = "Every frame is saved: the session is on the Sessions page"
        elif not session.records:
            text, colour = "Live view only", "muted"
            tip = (f"This connection is not recorded (see its settings): the live view keeps its newest "
                   f"{WINDOW_FRAMES:,} frames and lets older ones go")
        else:
            text, colour = "Not recording", "warning"
            tip = "Recording stopped (see the message above); the live view keeps its newest frames"
        self.recording_label.setText(text)
        self.recording_label.setToolTip(tip)
        palette.style(self.recording_label, f"color: {{{colour}}}; font-weight: bold; padding: 0 4px;")
        self.recording_label.show()

    @Slot(object)
    def on_opened(self, info: OpenInfo) -> None:
        proto = info.subprotocol or "none"
        engine = ENGINES.get(self.session.engine, self.session.engine).split(" (")[0]
        extensions = info.extensions or "none"
        secure = ""
        if info.tls is not None:
            secure = f"{describe_tls(info.tls)} · "
        elif info.url.lower().startswith("wss:"):
            secure = "TLS details not exposed by the Qt engine · "
        self.info.setText(f"Connected to {info.peer} · {engine} engine · {secure}subprotocol: {proto} · "
                          f"extensions: {extensions}")
        self.info.show()
        self._untell()  # a failure, a lost link or a reconnect countdown of this connection is over
        self._tls = info.tls
        self.certificate_button.setVisible(info.tls is not None)
        self.status_message.emit(f"Connected to {info.url}", 5000)
        if self._viewing is None:
            self.decoding.set_endpoint(info.url, info.subprotocol)

    @Slot(object)
    def on_failed(self, failure: Failure) -> None:
        certificate = failure.peer_certificate
        action = None
        text = failure.message
        if (failure.kind is FailureKind.TLS and certificate is not None and failure.tls_errors and self._profile
                and not failure.trusted):  # a trusted certificate that changed is not trusted again in one click
            profile, sha256 = self._profile, certificate.sha256
            action = ("Trust this certificate", lambda: self._trust_and_connect(profile, sha256))
            text += "\nTrust it only if you know it is the server's: a changed certificate will fail again."
        self._tell(text, "error", action)
        self.status_message.emit(failure.message, 10000)

    def _tell(self, text: str, level: str, action: tuple[str, Callable[[], object]] | None = None) -> None:
        """Say ``text`` in the banner as this connection's news, to be taken back once it no longer holds."""
        self.banner.show_message(text, level, action)
        self._told = self.banner.label.text()

    def _untell(self) -> None:
        """Take back what this connection last said, unless something else has been said since."""
        if self._told and self.banner.level and self.banner.label.text() == self._told:
            self.banner.clear()
        self._told = ""

    def _trust_and_connect(self, profile: ConnectionProfile, sha256: str) -> None:
        """Trust the certificate of this fingerprint for ``profile`` (saved with it) and connect again."""
        if self.session.state is not ConnectionState.CLOSED:
            return
        self._profile = self._connections.trust_certificate(profile, sha256)
        self.connect_current()

    @Slot()
    def show_certificate(self) -> None:
        if self._tls is None:
            return
        host = self._profile.url if self._profile is not None else ""
        view = CertificateView(self._tls, host, self)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.open()

    @Slot(object)
    def on_closed(self, info: CloseInfo) -> None:
        if self.info.text().startswith("Connected to "):
            self.info.setText("Disconnected from " + self.info.text().removeprefix("Connected to "))
        level = "error" if info.failure is not None or not info.clean else ("warning" if info.by_peer else "info")
        self._tell(info.message, level)
        self.status_message.emit(info.message, 10000)

    @Slot(int, float)
    def on_reconnecting(self, attempt: int, delay_s: float) -> None:
        self._tell(f"Connection lost: reconnecting in {delay_s:.1f} s (attempt {attempt}). "
                   "The session goes on; Stop reconnecting ends it.", "warning")
        self.on_state_changed(self.session.state)

    @Slot(bool, str)
    def on_health_changed(self, healthy: bool, reason: str) -> None:
        self.on_state_changed(self.session.state)
        if not healthy:
            self._tell(reason, "warning")
        else:
            self._untell()

    def set_environment(self, name: str) -> None:
        """The active environment's name ("" for none): beside the connection's name, and in the title."""
        self._environment = name
        self.environment_label.setText(name)
        self.environment_label.setVisible(bool(name) and not self.stored_only)
        self._update_title()

    def tab_text(self) -> str:
        """The label of this page's tab: its connection's name (● when its URL is edited and not saved), or the
        stored session's."""
        if self.stored_only and self._viewing is not None:
            return f"{self._viewing.record.name} (stored)"
        if self._profile is None:
            return "New connection"
        return f"{self._profile.name} ●" if self.url_modified_now else self._profile.name

    def update_title(self) -> None:
        self._update_title()

    def _update_title(self) -> None:
        if self.stored_only and self._viewing is not None:
            self.title_changed.emit(f"{self._viewing.record.name} — stored, read-only — wsinspector")
            return
        name = self._profile.name if self._profile else ""
        environment = self._environment
        if name and environment:
            name = f"{name} ({environment})"
        state = STATE_STYLE[self.session.state][0]
        self.title_changed.emit(f"{name} — {state} — wsinspector" if name else "wsinspector")

    # -- what the timeline shows: the live session or a stored one ----------------------------------------

    @Slot()
    def on_session_started(self) -> None:
        self.rates.clear()  # the previous session's rates and peer are not this one's
        self.info.hide()
        if self._viewing is None:
            self._set_source(self.session.log)
        self._update_counts()

    @Slot(int, int)
    def on_frames_appended(self, first: int, last: int) -> None:
        if self._viewing is None:
            self.decoding.frames_appended(first, last)
            self.view_bar.take(first, last)
            self._update_counts()

    @Slot(object, float)
    def on_rates(self, rates: Rates, _t_s: float) -> None:
        self.rates.setText(rates.summary())

    @property
    def viewing(self) -> StoredSession | None:
        return self._viewing

    def _set_source(self, source: Session) -> None:
        if self._filter_task is not None:
            self._filter_task.cancel()
            self._filter_task = None
            self.filter_bar.cancel.hide()
        self.filter_bar.reset()
        stored = self._viewing if source is self._viewing else None
        if stored is not None:
            # a stored session is read as its own connection's settings say, when it still has them
            own = self._connections.get(stored.record.profile_id) if stored.record.profile_id else None
            owner = own or self._profile
            self.decoding.set_setting(owner.decoding if owner is not None else Decoding())
            self.decoding.set_session(source, stored.record.url, stored.record.subprotocol)
        else:
            self.decoding.set_setting(self._profile.decoding if self._profile else Decoding())
            self.decoding.set_session(source, self._profile.url if self._profile else self.url.text())
        self.model.set_source(source)
        self.view_bar.reset()
        self.view_bar.set_live(source is self.session.log)
        self.detail.show_frame(None, None)
        self._update_counts()
        self.source_changed.emit(source, source is self.session.log)

    @Slot(int)
    def open_session(self, session_id: int) -> bool:
        """Show a recorded session in the timeline, read-only; the live connection carries on."""
        try:
            stored = self._sessions.open(session_id)
        except (KeyError, StoreError) as exc:
            self.banner.show_message(f"Cannot open the session: {exc}")
            return False
        self._viewing = stored
        record = stored.record
        when = format_started(record.started_wall)
        self.viewing_label.setText(
            f"Viewing stored session <b>{html.escape(record.name)}</b> · {when} · {html.escape(record.url)}"
            f" · {record.status} · {counted(len(stored), 'frame')} (read-only)")
        self.viewing_bar.show()
        self.composer.set_connected(False)
        self._set_source(stored)
        self.handshake_view.show_stored(stored)
        stored.events, stored.rtt_samples  # noqa: B018  (read now, as the Health page will: damage is told here)
        if stored.read_error:
            self.banner.show_message(f"This session is damaged in the file: {stored.read_error}. Its frames that "
                                     "cannot be read are marked as damaged.", "warning")
        return True

    @Slot(int)
    def on_session_deleted(self, session_id: int) -> None:
        if self._viewing is not None and self._viewing.session_id == session_id:
            self.show_live()
            self.banner.show_message("The session you were viewing was deleted; showing the live session.", "info")

    def keep_stored(self) -> None:
        """Make this the tab of the stored session it shows, for good: no connection bar, no composer; going
        back to live asks the window to close it."""
        self.stored_only = True
        for widget in (self.url, self.state_label, self.connect_button, self.edit_button, self.environment_label,
                       self.recording_label, self.tls_off, self.certificate_button, self.info, self.composer,
                       self.protocol.box):
            widget.hide()
        if self._viewing is not None:
            self.profile_name.setText(f"<b>{html.escape(self._viewing.record.name)}</b>")
            self.back_to_live.setToolTip("Close this stored session's tab")
        self._show_url_modified()

    @Slot()
    def show_live(self) -> None:
        if self.stored_only:
            self.leave_requested.emit()
            return
        self._viewing = None
        self.viewing_bar.hide()
        self._show_live_handshake()
        self.composer.set_connected(self.session.is_open)
        self._set_source(self.session.log)
        self.model.on_frames_appended(0, len(self.session.log) - 1)

    @Slot()
    def _show_live_handshake(self) -> None:
        if self._viewing is None:
            handshake = self.session.handshake
            self.handshake_view.show_live(handshake, self.session.secret_values)
            if handshake is not None and not handshake.refused and self._refusal_shown:
                # the tab came forward for a refusal that is over: the frames are what matter again
                self._refusal_shown = False
                if self.lower_tabs.currentWidget() is self.handshake_view:
                    self.lower_tabs.setCurrentWidget(self.detail)
            if handshake is not None and handshake.refused:  # the server's own reason is there, in room enough
                self._refusal_shown = True
                self.lower_tabs.setCurrentWidget(self.handshake_view)
                needed = (self.handshake_view.minimumSizeHint().height()
                          + self.lower_tabs.tabBar().sizeHint().height() + 8)
                sizes = self.split.sizes()
                if sizes[1] < needed:  # taken from the timeline, which has nothing to show of a refusal
                    grow = min(needed - sizes[1], max(sizes[0] - self.split.widget(0).minimumHeight(), 0))
                    self.split.setSizes([sizes[0] - grow, sizes[1] + grow, *sizes[2:]])

    def _can_resend(self) -> bool:
        """Resend goes through this tab's own socket: a live tab's, while it is open."""
        return not self.stored_only and self._viewing is None and self.session.is_open

    @Slot()
    def reveal_detail(self) -> None:
        """The detail pane of the current row, in view and focused (a collapsed pane opens again)."""
        sizes = self.split.sizes()
        if sizes[1] < 80:
            sizes[1] = max(200, sizes[0] // 2)
            sizes[0] = max(100, sizes[0] - sizes[1])
            self.split.setSizes(sizes)
        self.lower_tabs.setCurrentWidget(self.detail)
        self.detail.tabs.currentWidget().setFocus()

    @Slot()
    def _on_decoding_changed(self) -> None:
        """Another decoder reads the tab: its columns show when it is a protocol's, the selection is decoded again."""
        self.timeline.show_decoded(self.decoding.applies)
        self.detail.show_frame(self.detail.frame, self.detail.log)

    @Slot(object)
    def on_frame_selected(self, frame: Frame | None) -> None:
        self.detail.show_frame(frame, self.model.source if frame is not None else None)
        if frame is not None:
            self.lower_tabs.setCurrentWidget(self.detail)

    # -- filter, find, jump ---------------------------------------------------------------------------------

    def shutdown(self) -> None:
        if self._filter_task is not None:
            self._filter_task.cancel()
