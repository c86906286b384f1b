"""The Server page: start a mock server from a rules file (or a plain echo with none), see its clients, each
client's frames in the inspector's timeline and detail pane with its handshake, send to one client or to all,
close one with any code, drop one; its Proxy tab is the recording reverse proxy (``proxy_panel.py``). Built the
first time it is shown (``lazy.py``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
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
from wsinspector.app.mock import MockServer
from wsinspector.app.server import ClientSession, ServerController
from wsinspector.core.events import CloseInfo, Failure, OpenInfo
from wsinspector.core.frames import Frame
from wsinspector.core.mock.model import ECHO, Action, MockRules, Route, Rule
from wsinspector.core.mock.yaml_io import MockFileError, read_rules
from wsinspector.core.wire.server import ServerSettings
from wsinspector.core.words import counted
from wsinspector.net.wire_server import ServerListenError
from wsinspector.ui.detail import DetailPane
from wsinspector.ui.handshake_view import HandshakeView
from wsinspector.ui.inline_message import ElidedLabel
from wsinspector.ui.proxy_panel import ProxyPanel
from wsinspector.ui.timeline import TimelineModel, TimelineView

#: with no rules file: every message back
ECHO_RULES = MockRules(name="Echo", routes=(Route(path="*", rules=(Rule("echo", None, (Action(ECHO),)),)),))


class ServerPage(QWidget):
    """One server at a time: its bar (rules, address, port, TLS, Start/Stop, its URL or why it could not
    start), its clients, and the selected client's frames, handshake and commands.

    Signals:
        session_recorded(): a client's session ended (the Sessions page lists it)
    """

    session_recorded = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.controller: ServerController | None = None
        self.mock: MockServer | None = None
        self.current: ClientSession | None = None
        self._items: dict[int, QListWidgetItem] = {}
        #: every client shown in the list, by id: a stopped server's clients stay readable
        self._sessions: dict[int, ClientSession] = {}
        self._build()

    # -- layout -----------------------------------------------------------------------------------

    def _build(self) -> None:
        bar = self._build_bar()
        split = self._build_views()
        commands = self._build_commands()
        server = QWidget()
        layout = QVBoxLayout(server)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addLayout(commands)
        # the recording reverse proxy beside the server (ui/proxy_panel.py)
        self.proxy = ProxyPanel(self.context)
        self.proxy.session_recorded.connect(self.session_recorded)
        self.parts = QTabWidget()
        self.parts.setObjectName("serverParts")
        self.parts.addTab(server, "Mock server")
        self.parts.addTab(self.proxy, "Proxy")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.parts)
        self._update_commands()

    def _build_bar(self) -> QHBoxLayout:
        self.rules_path = QLineEdit()
        self.rules_path.setObjectName("serverRules")
        self.rules_path.setPlaceholderText("Rules file (docs/mock.md); empty: echo every message")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.host = QLineEdit("127.0.0.1")
        self.host.setObjectName("serverHost")
        self.host.setMaximumWidth(140)
        self.port = QSpinBox()
        self.port.setObjectName("serverPort")
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free")
        self.tls = QCheckBox("TLS (self-signed for localhost)")
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("serverStart")
        self.start_button.clicked.connect(self._start_or_stop)
        self.status = ElidedLabel()
        self.status.setObjectName("serverStatus")
        bar = QHBoxLayout()
        for widget in (QLabel("Rules"), self.rules_path, browse, QLabel("Listen on"), self.host, QLabel("port"),
                       self.port, self.tls, self.start_button):
            bar.addWidget(widget)
        bar.setStretch(1, 1)
        return bar

    def _build_views(self) -> QSplitter:
        self.clients = QListWidget()
        self.clients.setObjectName("serverClients")
        self.clients.currentItemChanged.connect(self._on_client_chosen)
        self.model = TimelineModel(self)
        self.timeline = TimelineView(self.model)
        self.timeline.setObjectName("serverTimeline")
        self.detail = DetailPane()
        self.handshake_view = HandshakeView(server_side=True)
        self.timeline.frame_selected.connect(self._on_frame_selected)
        lower = QTabWidget()
        lower.addTab(self.detail, "Frame")
        lower.addTab(self.handshake_view, "Handshake")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.timeline)
        right.addWidget(lower)
        right.setSizes([400, 200])
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("Clients"))
        side_layout.addWidget(self.clients)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(side)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 800])
        return split

    def _build_commands(self) -> QHBoxLayout:
        self.message = QLineEdit()
        self.message.setObjectName("serverMessage")
        self.message.setPlaceholderText("A text message to send")
        self.message.returnPressed.connect(self._send)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self._send)
        self.broadcast_button = QPushButton("Broadcast")
        self.broadcast_button.setToolTip("Send to every open client")
        self.broadcast_button.clicked.connect(self._broadcast)
        self.close_code = QSpinBox()
        self.close_code.setRange(0, 65535)
        self.close_code.setValue(1000)
        self.close_button = QPushButton("Close with")
        self.close_button.clicked.connect(self._close_client)
        self.drop_button = QPushButton("Drop")
        self.drop_button.setToolTip("End the TCP connection at once, without a closing handshake")
        self.drop_button.clicked.connect(self._drop_client)
        commands = QHBoxLayout()
        for widget in (self.message, self.send_button, self.broadcast_button, self.close_button, self.close_code,
                       self.drop_button):
            commands.addWidget(widget)
        commands.setStretch(0, 1)
        return commands

    # -- the server -------------------------------------------------------------------------------

    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Mock rules file", "", "Mock rules (*.yaml *.yml);;All files (*)")
        if path:
            self.rules_path.setText(path)

    @Slot()
    def _start_or_stop(self) -> None:
        if self.controller is not None:
            self.stop()
        else:
            self.start()

    def start(self) -> bool:
        """Start a server as the bar says; False (and why, in the status line) when it cannot."""
        rules = ECHO_RULES
        text = self.rules_path.text().strip()
        if text:
            try:
                rules = read_rules(Path(text))
            except MockFileError as exc:
                self.status.setText(f"{Path(text).name}: {exc}")
                return False
            except OSError as exc:
                self.status.setText(f"Cannot read {text}: {exc.strerror or exc}")
                return False
        tls = None
        if self.tls.isChecked():
            from wsinspector.core.self_signed import SelfSignedError, self_signed_localhost  # noqa: PLC0415
            from wsinspector.net.wire_server import ServerTls  # noqa: PLC0415

            try:
                tls = ServerTls(*self_signed_localhost())
            except SelfSignedError as exc:
                self.status.setText(str(exc))
                return False
        controller = ServerController(self.context.store, ServerSettings(subprotocols=rules.subprotocols), tls=tls,
                                      name=rules.name or "Server", parent=self)
        mock = MockServer(controller, rules, parent=self)
        try:
            url = controller.listen(self.host.text().strip() or "127.0.0.1", self.port.value())
        except ServerListenError as exc:
            self.status.setText(str(exc))
            mock.deleteLater()
            controller.deleteLater()
            return False
        self.controller, self.mock = controller, mock
        self.context.servers.append(controller)
        controller.client_added.connect(self._on_client_added)
        controller.client_ended.connect(self._on_client_ended)
        mock.problem.connect(self.status.setText)
        recording = "recording every client" if self.context.store is not None else "not recording"
        warning = "" if controller.server.host.startswith("127.") or controller.server.host == "::1" else \
            " — reachable from other machines"
        self.status.setText(f"Listening on {url} ({recording}){warning}")
        self.start_button.setText("Stop")
        for widget in (self.rules_path, self.host, self.port, self.tls):
            widget.setEnabled(False)
        return True

    def stop(self) -> None:
        """Close every client (1001) and stop listening."""
        controller = self.controller
        if controller is None:
            return
        controller.close()
        if controller in self.context.servers:
            self.context.servers.remove(controller)
        self.controller = None
        self.status.setText(f"Stopped ({counted(controller.served, 'client')} served)")
        self.start_button.setText("Start")
        for widget in (self.rules_path, self.host, self.port, self.tls):
            widget.setEnabled(True)
        self._update_commands()

    # -- clients ----------------------------------------------------------------------------------

    def _label(self, session: ClientSession) -> str:
        client = session.client
        path = client.request.path if client.request is not None else ""
        state = "ended" if session.done else client.state.name.lower()
        return f"{session.peer} {path} — {state}"

    @Slot(object)
    def _on_client_added(self, session: ClientSession) -> None:
        item = QListWidgetItem(self._label(session))
        item.setData(Qt.ItemDataRole.UserRole, id(session))
        self._items[id(session)] = item
        self._sessions[id(session)] = session
        self.clients.addItem(item)
        session.client.state_changed.connect(lambda _s, s=session: self._relabel(s))
        session.client.opened.connect(lambda info, s=session: self._on_opened(s, info))
        session.client.failed.connect(lambda failure, s=session: self._on_failed(s, failure))
        session.client.closed.connect(lambda info, s=session: self._on_closed(s, info))
        session.frames_appended.connect(lambda first, last, s=session: self._on_frames(s, first, last))
        if self.current is None:
            self.clients.setCurrentItem(item)

    def _relabel(self, session: ClientSession) -> None:
        item = self._items.get(id(session))
        if item is not None:
            item.setText(self._label(session))
        if session is self.current:
            self._update_commands()

    def _on_opened(self, session: ClientSession, info: OpenInfo) -> None:
        item = self._items.get(id(session))
        if item is not None:
            item.setToolTip(f"{info.url}\nsubprotocol: {info.subprotocol or 'none'}\n"
                            f"extensions: {info.extensions or 'none'}")
        if session is self.current:
            self.handshake_view.show_live(session.client.handshake, ())
        self._relabel(session)

    def _on_failed(self, session: ClientSession, failure: Failure) -> None:
        item = self._items.get(id(session))
        if item is not None:
            item.setToolTip(failure.message)
        self._relabel(session)

    def _on_closed(self, session: ClientSession, info: CloseInfo) -> None:
        item = self._items.get(id(session))
        if item is not None:
            item.setToolTip(info.message)
        self._relabel(session)

    @Slot(object)
    def _on_client_ended(self, session: ClientSession) -> None:
        self._relabel(session)
        self.session_recorded.emit()

    def _session_of(self, item: QListWidgetItem | None) -> ClientSession | None:
        return None if item is None else self._sessions.get(item.data(Qt.ItemDataRole.UserRole))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_client_chosen(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        session = self._session_of(item)
        self.current = session
        self.detail.show_frame(None, None)
        if session is None:
            self.model.set_source(None)
            self.handshake_view.show_live(None, ())
        else:
            self.model.set_source(session.log)
            self.model.on_frames_appended(0, len(session.log) - 1)
            self.handshake_view.show_live(session.client.handshake, ())
        self._update_commands()

    def _on_frames(self, session: ClientSession, first: int, last: int) -> None:
        if session is self.current:
            self.model.on_frames_appended(first, last)

    @Slot(object)
    def _on_frame_selected(self, frame: Frame | None) -> None:
        self.detail.show_frame(frame, self.model.source if frame is not None else None)

    # -- commands ---------------------------------------------------------------------------------

    def _open_current(self) -> ClientSession | None:
        session = self.current
        if session is None or session.done or not session.client.engine or not session.client.engine.is_open:
            return None
        return session

    def _update_commands(self) -> None:
        one = self._open_current() is not None
        for button in (self.send_button, self.close_button, self.drop_button):
            button.setEnabled(one)
        self.broadcast_button.setEnabled(self.controller is not None)

    @Slot()
    def _send(self) -> None:
        session = self._open_current()
        if session is None:
            return
        session.client.send_text(self.message.text())

    @Slot()
    def _broadcast(self) -> None:
        controller = self.controller
        if controller is None:
            return
        sent = 0
        for session in controller.live:
            engine = session.client.engine
            if engine is not None and engine.is_open:
                session.client.send_text(self.message.text())
                sent += 1
        self.status.setText(f"Sent to {counted(sent, 'client')}")

    @Slot()
    def _close_client(self) -> None:
        session = self._open_current()
        if session is not None:
            session.client.close(self.close_code.value(), "")

    @Slot()
    def _drop_client(self) -> None:
        session = self._open_current()
        if session is not None:
            session.client.drop()
