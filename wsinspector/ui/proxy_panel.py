"""The Server page's Proxy tab: a recording reverse proxy started in the window (upstream URL, a saved
connection's settings, where it listens), its breakpoints, the messages they paused with Edit / Forward / Drop,
Inject a message either way, and a line for each thing that happened. Each client's session (both hops) is on
the Sessions page once it ends."""

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
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.context import AppContext
from wsinspector.app.proxy import ProxiedClient, ProxyController, ProxyError
from wsinspector.core.connection_defaults import effective
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import ConnectionProfile, ProfileError, validate_url
from wsinspector.core.proxy.breakpoints import RULE_SYNTAX, BreakpointError, BreakRule, Held, parse_rule
from wsinspector.ui.inline_message import ElidedLabel

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
        self._build()
        self._update_buttons()

    # -- layout -----------------------------------------------------------------------------------

    def _build(self) -> None:
        bar = self._build_bar()
        rules_bar = self._build_rules()
        split = self._build_paused()
        inject_bar = self._build_inject()
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addLayout(rules_bar)
        layout.addWidget(split, 1)
        layout.addLayout(inject_bar)
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

    def _build_rules(self) -> QHBoxLayout:
        self.rules = QLineEdit()
        self.rules.setObjectName("proxyRules")
        self.rules.setPlaceholderText("Breakpoints, separated by spaces: out:regex:^subscribe in:json:$.type=error")
        self.rules.setToolTip(f"Each written {RULE_SYNTAX}; out: what the client sends, in: what the upstream sends")
        apply = QPushButton("Set breakpoints")
        apply.setObjectName("proxySetRules")
        apply.clicked.connect(self.apply_rules)
        self.rules.returnPressed.connect(self.apply_rules)
        rules_bar = QHBoxLayout()
        rules_bar.addWidget(QLabel("Breakpoints"))
        rules_bar.addWidget(self.rules, 1)
        rules_bar.addWidget(apply)
        return rules_bar

    def _build_paused(self) -> QSplitter:
        self.paused = QListWidget()
        self.paused.setObjectName("proxyPaused")
        self.paused.currentItemChanged.connect(self._on_paused_chosen)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("proxyEditor")
        self.editor.setPlaceholderText("The paused message: edit it, then Forward")
        self.forward_button = QPushButton("Forward")
        self.forward_button.setObjectName("proxyForward")
        self.forward_button.clicked.connect(self.forward)
        self.drop_button = QPushButton("Drop")
        self.drop_button.setObjectName("proxyDrop")
        self.drop_button.clicked.connect(self.drop)
        decide = QHBoxLayout()
        decide.addWidget(self.forward_button)
        decide.addWidget(self.drop_button)
        decide.addStretch(1)
        paused_side = QWidget()
        paused_layout = QVBoxLayout(paused_side)
        paused_layout.setContentsMargins(0, 0, 0, 0)
        paused_layout.addWidget(QLabel("Paused messages"))
        paused_layout.addWidget(self.paused, 1)
        paused_layout.addWidget(self.editor, 1)
        paused_layout.addLayout(decide)
        self.events = QListWidget()
        self.events.setObjectName("proxyEvents")
        events_side = QWidget()
        events_layout = QVBoxLayout(events_side)
        events_layout.setContentsMargins(0, 0, 0, 0)
        events_layout.addWidget(QLabel("What happened"))
        events_layout.addWidget(self.events, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(paused_side)
        split.addWidget(events_side)
        return split

    def _build_inject(self) -> QHBoxLayout:
        self.inject_direction = QComboBox()
        self.inject_direction.addItem("to the upstream (out)", Direction.OUT)
        self.inject_direction.addItem("to the client (in)", Direction.IN)
        self.inject_text = QLineEdit()
        self.inject_text.setObjectName("proxyInjectText")
        self.inject_text.setPlaceholderText("A text message of your own (the newest client)")
        self.inject_button = QPushButton("Inject")
        self.inject_button.setObjectName("proxyInject")
        self.inject_button.clicked.connect(self.inject)
        inject_bar = QHBoxLayout()
        inject_bar.addWidget(QLabel("Inject"))
        inject_bar.addWidget(self.inject_direction)
        inject_bar.addWidget(self.inject_text, 1)
        inject_bar.addWidget(self.inject_button)
        return inject_bar

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
        store = self.context.store if self.record.isChecked() and self.context.saving else None
        controller = ProxyController(url, profile, rules, store, self)
        try:
            listening = controller.listen(self.host.text().strip() or "127.0.0.1", self.port.value())
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
        return [parse_rule(text) for text in self.rules.text().split()]

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

    @Slot()
    def _on_client_finished(self) -> None:
        self._refill()
        self.session_recorded.emit()

    def _on_paused(self, client: ProxiedClient, held: Held) -> None:
        self._held[held.id] = (client, held)
        item = QListWidgetItem(_describe(client, held))
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
            self.editor.setPlainText("")
        else:
            message = held[1]
            self.editor.setPlainText(message.payload.decode("utf-8", "replace") if message.opcode is Opcode.TEXT
                                     else message.payload.hex(" "))
            self.editor.setReadOnly(message.opcode is not Opcode.TEXT)
        self._update_buttons()

    @Slot()
    def forward(self) -> None:
        """Forward the chosen paused message, as edited."""
        self._decide("forward")

    @Slot()
    def drop(self) -> None:
        self._decide("drop")

    def _decide(self, action: str) -> None:
        message_id = self._current_id()
        if message_id is None or self.controller is None or message_id not in self._held:
            return
        held = self._held[message_id][1]
        payload = None
        if action == "forward" and held.opcode is Opcode.TEXT:
            typed = self.editor.toPlainText().encode("utf-8", "surrogatepass")
            payload = typed if typed != held.payload else None
        try:
            self.controller.decide(message_id, action, payload)
        except (ValueError, BreakpointError) as exc:
            self.status.setText(str(exc))
        self._refill()

    @Slot()
    def inject(self) -> None:
        if self.controller is None:
            return
        direction = self.inject_direction.currentData()
        try:
            self.controller.inject(direction, Opcode.TEXT, self.inject_text.text().encode("utf-8", "surrogatepass"))
        except (ValueError, BreakpointError) as exc:
            self.status.setText(str(exc))
            return
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
        self.drop_button.setEnabled(chosen)
        self.inject_button.setEnabled(self.controller is not None)


def _describe(client: ProxiedClient, held: Held) -> str:
    side = "client → upstream" if held.direction is Direction.OUT else "upstream → client"
    preview = (held.payload[:80].decode("utf-8", "replace") if held.opcode is Opcode.TEXT
               else f"{len(held.payload)} bytes of binary")
    rule = held.rule.describe() if held.rule is not None else ""
    return f"#{held.id} {side} ({client.peer}, {rule}): {preview}"
