"""The Server page's Proxy tab: a recording reverse proxy started in the window (upstream URL, a saved
connection's settings, where it listens), its breakpoints, the messages they paused with Edit / Forward / Drop,
Inject a message either way, and a line for each thing that happened. Edit and Inject compose as the inspector's
composer does (``payload_editor.py``): text, JSON, binary as hex or base64, a file's bytes; a paused binary
message is shown as hex and stays binary. Each client's session (both hops) is on
the Sessions page once it ends. A client's two hops show in one timeline (the inspector's, each frame's hop
beside its direction) with the detail pane."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.context import AppContext
from wsinspector.app.proxy import ProxiedClient
from wsinspector.app.proxy_server import ProxyController, ProxyError
from wsinspector.core.connection_defaults import effective
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.profiles import ConnectionProfile, ProfileError, validate_url
from wsinspector.core.proxy.breakpoints import BreakpointError, BreakRule, Held
from wsinspector.core.wire.bytes_read import is_utf8
from wsinspector.ui.breakpoints_view import BreakpointsEditor
from wsinspector.ui.detail import DetailPane
from wsinspector.ui.inline_message import ElidedLabel
from wsinspector.ui.payload_editor import PayloadEditor, send_shortcut
from wsinspector.ui.server_clients import compact_columns, confirm_exposed, is_loopback
from wsinspector.ui.timeline import TimelineModel, TimelineView

#: lines of what happened kept in the list
LOG_LINES = 500
_NO_CONNECTION = "No saved connection"


class ProxyPanel(QWidget):
    """One proxy at a time. Signals: ``session_recorded()`` a client's session ended."""

    session_recorded = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.controller: ProxyController | None = None
        self._held: dict[int, tuple[ProxiedClient, Held]] = {}
        #: the clients whose hops the timeline can show (a finished one's log stays readable)
        self._clients: list[ProxiedClient] = []
        self._shown: ProxiedClient | None = None
        self._build()
        self._update_buttons()

    # -- layout -----------------------------------------------------------------------------------

    def _build(self) -> None:
        bar = self._build_bar()
        self.breakpoints = BreakpointsEditor()
        self.breakpoints.apply_requested.connect(self.apply_rules)
        paused = self._build_paused()
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(_titled("Breakpoints", self.breakpoints))
        left.addWidget(paused)
        left.setSizes([160, 400])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self._build_traffic())
        split.setStretchFactor(1, 1)
        split.setSizes([380, 740])
        inject_bar = self._build_inject()
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(inject_bar)
        self.refresh_connections()

    def _build_bar(self) -> QHBoxLayout:
        self.upstream = QLineEdit()
        self.upstream.setObjectName("proxyUpstream")
        self.upstream.setPlaceholderText("Upstream ws:// or wss:// URL (empty: the saved connection's)")
        self.connection = QComboBox()
        self.connection.setObjectName("proxyConnection")
        self.connection.setToolTip("Its TLS, proxy, headers and auth are used for the upstream hop")
        self.host = QLineEdit("127.0.0.1")
        self.host.setMaximumWidth(140)
        self.port = QSpinBox()
        self.port.setObjectName("proxyPort")
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free")
        self.record = QCheckBox("Record")
        self.record.setChecked(True)
        self.start_button = QPushButton("Start proxy")
        self.start_button.setObjectName("proxyStart")
        self.start_button.clicked.connect(self._start_or_stop)
        bar = QHBoxLayout()
        for widget in (QLabel("Upstream"), self.upstream, self.connection, QLabel("Listen on"), self.host,
                       QLabel("port"), self.port, self.record, self.start_button):
            bar.addWidget(widget)
        bar.setStretch(1, 1)
        self.status = ElidedLabel()
        self.status.setObjectName("proxyStatus")
        return bar

    def _build_traffic(self) -> QSplitter:
        """The chosen client's hops in the timeline, the chosen frame's detail, and what happened."""
        self.client_choice = QComboBox()
        self.client_choice.setObjectName("proxyClients")
        self.client_choice.setPlaceholderText("No client yet")
        self.client_choice.currentIndexChanged.connect(self._on_client_chosen)
        self.model = TimelineModel(self)
        self.model.show_hops = True
        self.timeline = TimelineView(self.model)
        self.timeline.setObjectName("proxyTimeline")
        compact_columns(self.timeline, self.timeline.fontMetrics().horizontalAdvance("↑ out upstream") + 16)
        self.detail = DetailPane()
        self.timeline.frame_selected.connect(self._on_frame_selected)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Client"))
        choose.addWidget(self.client_choice, 1)
        top_layout.addLayout(choose)
        top_layout.addWidget(self.timeline, 1)
        self.events = QListWidget()
        self.events.setObjectName("proxyEvents")
        lower = QTabWidget()
        lower.addTab(self.detail, "Frame")
        lower.addTab(self.events, "What happened")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(lower)
        right.setSizes([380, 220])
        return right

    def _build_paused(self) -> QWidget:
        self.paused = QListWidget()
        self.paused.setObjectName("proxyPaused")
        self.paused.currentItemChanged.connect(self._on_paused_chosen)
        #: the chosen paused message, to be edited: text as text, binary (or text that is not UTF-8) as hex
        self.edit = PayloadEditor("proxyEdit", convert=True,
                                  text_hint="The paused message: edit it, then Forward (Ctrl+Enter)")
        self.editor = self.edit.editor
        self.editor.setToolTip("The paused message: edit it, then Forward (Ctrl+Enter); it stays text or binary "
                               "as it came, whichever way it is typed here")
        send_shortcut(self.editor, self.forward, "Forward the paused message as edited")
        self.forward_button = QPushButton("Forward")
        self.forward_button.setObjectName("proxyForward")
        self.forward_button.clicked.connect(self.forward)
        self.drop_button = QPushButton("Drop")
        self.drop_button.setObjectName("proxyDrop")
        self.drop_button.clicked.connect(self.drop)
        self.forward_all_button = QPushButton("Forward all")
        self.forward_all_button.setObjectName("proxyForwardAll")
        self.forward_all_button.setToolTip("Forward every paused message as it is; the breakpoints stay")
        self.forward_all_button.clicked.connect(self.forward_all)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setObjectName("proxyResume")
        self.resume_button.setToolTip("Clear the breakpoints and forward every paused message")
        self.resume_button.clicked.connect(self.resume)
        decide = QHBoxLayout()
        for button in (self.forward_button, self.drop_button, self.forward_all_button, self.resume_button):
            decide.addWidget(button)
        decide.addStretch(1)
        paused_side = QWidget()
        paused_layout = QVBoxLayout(paused_side)
        paused_layout.setContentsMargins(0, 0, 0, 0)
        paused_layout.addWidget(QLabel("Paused messages"))
        paused_layout.addWidget(self.paused, 2)
        paused_layout.addWidget(self.edit, 3)
        paused_layout.addLayout(decide)
        return paused_side

    def _build_inject(self) -> PayloadEditor:
        self.inject_direction = QComboBox()
        self.inject_direction.setObjectName("proxyInjectDirection")
        self.inject_direction.addItem("to the upstream (out)", Direction.OUT)
        self.inject_direction.addItem("to the client (in)", Direction.IN)
        self.inject_payload = PayloadEditor("proxyInject", convert=True,
                                            text_hint="A message of your own. Ctrl+Enter injects it.")
        self.inject_text = self.inject_payload.editor
        self.inject_text.setToolTip("A message of your own, to the newest client's hops: Ctrl+Enter injects it")
        self.inject_text.setFixedHeight(self.inject_text.fontMetrics().lineSpacing() * 3 + 12)
        send_shortcut(self.inject_text, self.inject, "Inject the message")
        self.inject_button = QPushButton("Inject")
        self.inject_button.setObjectName("proxyInject")
        self.inject_button.setToolTip("Send the message on the chosen side, ahead of any paused (Ctrl+Enter)")
        self.inject_button.clicked.connect(self.inject)
        row = self.inject_payload.row  # mode, File…, stretch, Format
        row.insertWidget(0, QLabel("Inject"))
        row.insertWidget(1, self.inject_direction)
        row.addWidget(self.inject_button)
        return self.inject_payload

    def refresh_connections(self) -> None:
        """The saved connections to choose the upstream hop's settings from."""
        chosen = self.connection.currentText()
        self.connection.clear()
        self.connection.addItem(_NO_CONNECTION, None)
        for profile in self.context.connections.profiles:
            self.connection.addItem(profile.name, profile.id)
        index = self.connection.findText(chosen)
        self.connection.setCurrentIndex(max(index, 0))

    # -- starting and stopping --------------------------------------------------------------------

    @Slot()
    def _start_or_stop(self) -> None:
        if self.controller is None:
            self.start()
        else:
            self.stop()

    def _profile(self) -> ConnectionProfile:
        profile_id = self.connection.currentData()
        profile = self.context.connections.get(profile_id) if profile_id else None
        return effective(profile or ConnectionProfile(name=""), self.context.defaults.defaults)

    def start(self) -> bool:
        """Listen with the bar's settings; False (and the reason in the status line) when it cannot."""
        profile = self._profile()
        try:
            url = validate_url(self.upstream.text() or profile.endpoint.url)
            rules = self._rules()
        except (ProfileError, BreakpointError) as exc:
            self.status.setText(str(exc))
            return False
        host = self.host.text().strip() or "127.0.0.1"
        if not is_loopback(host) and not confirm_exposed(self, host):
            self.status.setText(f"Not started: {host} was not confirmed (127.0.0.1 is this machine only)")
            return False
        store = self.context.store if self.record.isChecked() and self.context.saving else None
        controller = ProxyController(url, profile, rules, store, self)
        try:
            listening = controller.listen(host, self.port.value())
        except ProxyError as exc:
            self.status.setText(str(exc))
            controller.deleteLater()
            return False
        self.controller = controller
        self.context.proxies.append(controller)
        controller.said.connect(self._said)
        controller.paused.connect(self._on_paused)
        controller.client_added.connect(self._on_client_added)
        recording = "recording each client" if store is not None else "not recording"
        self.status.setText(f"Proxy on {listening} → {url} ({recording})")
        self.start_button.setText("Stop proxy")
        for widget in (self.upstream, self.connection, self.host, self.port, self.record):
            widget.setEnabled(False)
        self._update_buttons()
        return True

    def stop(self) -> None:
        """Close every client and its upstream (1001) and stop listening."""
        controller = self.controller
        if controller is None:
            return
        controller.stop()
        if controller in self.context.proxies:
            self.context.proxies.remove(controller)
        self.controller = None
        self._held.clear()
        self.paused.clear()
        self.status.setText(f"Proxy stopped ({controller.sessions_recorded} sessions recorded so far)")
        self.start_button.setText("Start proxy")
        for widget in (self.upstream, self.connection, self.host, self.port, self.record):
            widget.setEnabled(True)
        self._update_buttons()

    # -- breakpoints ------------------------------------------------------------------------------

    def _rules(self) -> list[BreakRule]:
        return self.breakpoints.rules()

    @Slot()
    def apply_rules(self) -> None:
        """The breakpoints typed, for every client from now on (a message paused by a rule left out goes on)."""
        try:
            rules = self._rules()
        except BreakpointError as exc:
            self.status.setText(str(exc))
            return
        if self.controller is not None:
            self.controller.set_rules(rules)
            self._refill()
        self.status.setText(f"{len(rules)} breakpoint{'s' if len(rules) != 1 else ''} set" if rules
                            else "No breakpoints: every message goes on")

    def _on_client_added(self, client: ProxiedClient) -> None:
        client.finished.connect(self._on_client_finished)
        client.frames_appended.connect(lambda first, last, c=client: self._on_frames(c, first, last))
        self._clients.append(client)
        self.client_choice.addItem(f"{client.peer} → {client.forward_to}")
        if self._shown is None:
            self.client_choice.setCurrentIndex(len(self._clients) - 1)

    @Slot(int)
    def _on_client_chosen(self, index: int) -> None:
        client = self._clients[index] if 0 <= index < len(self._clients) else None
        self._shown = client
        self.detail.show_frame(None, None)
        if client is None:
            self.model.set_source(None)
            return
        self.model.set_source(client.log)
        if len(client.log):
            self.model.on_frames_appended(0, len(client.log) - 1)

    def _on_frames(self, client: ProxiedClient, first: int, last: int) -> None:
        if client is self._shown:
            self.model.on_frames_appended(first, last)

    @Slot(object)
    def _on_frame_selected(self, frame: Frame | None) -> None:
        self.detail.show_frame(frame, self.model.source if frame is not None else None)

    @Slot()
    def _on_client_finished(self) -> None:
        self._refill()
        self.session_recorded.emit()

    def _on_paused(self, client: ProxiedClient, held: Held) -> None:
        self._held[held.id] = (client, held)
        item = QListWidgetItem(_describe(client, held))
        item.setToolTip(item.text())
        item.setData(Qt.ItemDataRole.UserRole, held.id)
        self.paused.addItem(item)
        if self.paused.currentItem() is None:
            self.paused.setCurrentItem(item)
        self._update_buttons()

    def _refill(self) -> None:
        """The paused list again from the controller (after a decision, a rule change, a client gone)."""
        waiting = self.controller.paused_messages() if self.controller is not None else []
        current = self._current_id()
        self._held = {held.id: (client, held) for client, held in waiting}
        self.paused.clear()
        for client, held in waiting:
            item = QListWidgetItem(_describe(client, held))
            item.setToolTip(item.text())
            item.setData(Qt.ItemDataRole.UserRole, held.id)
            self.paused.addItem(item)
            if held.id == current:
                self.paused.setCurrentItem(item)
        if self.paused.currentItem() is None and self.paused.count():
            self.paused.setCurrentRow(0)
        self._update_buttons()

    def _current_id(self) -> int | None:
        item = self.paused.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _on_paused_chosen(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        held = self._held.get(int(item.data(Qt.ItemDataRole.UserRole))) if item is not None else None
        if held is None:
            self.edit.clear_payload()
        else:
            self.edit.set_payload(held[1].payload, held[1].opcode is Opcode.TEXT)
        self._update_buttons()

    @Slot()
    def forward(self) -> None:
        """Forward the chosen paused message, as edited."""
        self._decide("forward")

    @Slot()
    def drop(self) -> None:
        self._decide("drop")

    @Slot()
    def forward_all(self) -> None:
        """Forward every paused message as it is (the oldest first); the breakpoints stay set."""
        if self.controller is None:
            return
        for _client, held in self.controller.paused_messages():
            try:
                self.controller.decide(held.id, "forward")
            except (ValueError, BreakpointError) as exc:
                self.status.setText(str(exc))
                break
        self._refill()

    @Slot()
    def resume(self) -> None:
        """No breakpoints any more, and every paused message forwarded: the proxy just forwards."""
        self.breakpoints.set_text("")
        if self.controller is not None:
            self.controller.set_rules([])
        self.forward_all()
        self.status.setText("Resumed: no breakpoints, every message goes on")

    def _decide(self, action: str) -> None:
        message_id = self._current_id()
        if message_id is None or self.controller is None or message_id not in self._held:
            return
        held = self._held[message_id][1]
        payload = None
        if action == "forward" and not self.edit.is_unchanged():
            edited = self.edit.encoded()
            if edited is None:
                return
            if held.opcode is Opcode.TEXT and not is_utf8(edited.data):
                self.edit.show_error("A text message must be UTF-8: these bytes are not (it goes on as text)")
                return
            payload = edited.data if edited.data != held.payload else None
        try:
            self.controller.decide(message_id, action, payload)
        except (ValueError, BreakpointError) as exc:
            self.status.setText(str(exc))
        self._refill()

    @Slot()
    def inject(self) -> None:
        if self.controller is None:
            self.inject_payload.show_error("Start the proxy first: a message is injected into a client's hops")
            return
        payload = self.inject_payload.encoded()
        if payload is None:
            return
        direction = self.inject_direction.currentData()
        opcode = Opcode.TEXT if payload.is_text else Opcode.BINARY
        try:
            self.controller.inject(direction, opcode, payload.data)
        except (ValueError, BreakpointError) as exc:
            self.status.setText(str(exc))
            return
        self.inject_payload.remember(self.inject_payload.text())
        self.inject_text.clear()

    # -- the rest ---------------------------------------------------------------------------------

    def _said(self, text: str) -> None:
        self.events.addItem(text)
        while self.events.count() > LOG_LINES:
            self.events.takeItem(0)
        self.events.scrollToBottom()

    def _update_buttons(self) -> None:
        chosen = self._current_id() is not None
        self.forward_button.setEnabled(chosen)
        self.edit.setEnabled(chosen)
        self.drop_button.setEnabled(chosen)
        self.forward_all_button.setEnabled(self.paused.count() > 0)
        self.resume_button.setEnabled(self.controller is not None)
        self.inject_button.setEnabled(self.controller is not None)


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(QLabel(title))
    layout.addWidget(widget, 1)
    return box


def _describe(client: ProxiedClient, held: Held) -> str:
    side = "client → upstream" if held.direction is Direction.OUT else "upstream → client"
    preview = (held.payload[:80].decode("utf-8", "replace") if held.opcode is Opcode.TEXT
               else f"{len(held.payload)} bytes of binary: {held.payload[:16].hex(' ')}"
               f"{' …' if len(held.payload) > 16 else ''}")
    rule = held.rule.describe() if held.rule is not None else ""
    return f"#{held.id} {side} ({client.peer}, {rule}): {preview}"
