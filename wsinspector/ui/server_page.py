"""The Server page: start mock servers from a rules file (or a plain echo with none), as many as wanted, each on
its address and port, with TLS from the user's certificate and key or one made for localhost, and a maximum of
clients; see each server's clients (what their handshake asked for and got), each client's frames in the
inspector's timeline and detail pane with its handshake, send to one client or to all of a server's (text, JSON,
binary as hex or base64, a file's bytes: the composer's editor, ``payload_editor.py``), close one with any code
and reason, drop one. Its Proxy tab is the recording reverse proxy (``proxy_panel.py``). Built the
first time it is shown (``lazy.py``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.context import AppContext
from wsinspector.app.mock import MockServer
from wsinspector.app.server import ClientSession, ServerController
from wsinspector.core.events import CloseInfo, OpenInfo
from wsinspector.core.frames import Frame
from wsinspector.core.mock.model import ECHO_RULES, MockRules
from wsinspector.core.mock.yaml_io import MockFileError, read_rules
from wsinspector.core.wire.server import ServerSettings
from wsinspector.core.words import counted
from wsinspector.net.wire_server import ServerListenError, ServerTls
from wsinspector.ui.detail import DetailPane
from wsinspector.ui.handshake_view import HandshakeView
from wsinspector.ui.inline_message import ElidedLabel
from wsinspector.ui.payload_editor import PayloadEditor, send_shortcut
from wsinspector.ui.proxy_panel import ProxyPanel
from wsinspector.ui.qtext import ExactLineEdit
from wsinspector.ui.server_clients import (
    ServersTree,
    client_summary,
    compact_columns,
    confirm_exposed,
    is_loopback,
)
from wsinspector.ui.timeline import TimelineModel, TimelineView

#: the TLS choices of the bar
TLS_NONE, TLS_SELF_SIGNED, TLS_FILES = "none", "self-signed", "files"


class ServerPage(QWidget):
    """The servers' bar (rules, address, port, maximum of clients, TLS, Start), why the last start failed or
    where a server listens, the servers and their clients, and the selected client's frames, handshake, what it
    asked for, and the commands.

    Signals:
        session_recorded(): a client's session ended (the Sessions page lists it)
    """

    session_recorded = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        #: the servers started here, oldest first (a stopped one stays listed with its clients)
        self.servers: list[ServerController] = []
        self._mocks: dict[int, MockServer] = {}
        self._agreed: dict[int, OpenInfo] = {}
        self.current: ClientSession | None = None
        self._build()

    # -- layout -----------------------------------------------------------------------------------

    def _build(self) -> None:
        bar = self._build_bar()
        tls_bar = self._build_tls()
        split = self._build_views()
        commands = self._build_commands()
        server = QWidget()
        layout = QVBoxLayout(server)
        layout.addLayout(bar)
        layout.addLayout(tls_bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(commands)
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
        self.host.setToolTip("127.0.0.1: this machine only. Another address (0.0.0.0: every interface) asks first")
        self.host.setMaximumWidth(140)
        self.port = QSpinBox()
        self.port.setObjectName("serverPort")
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free")
        self.max_clients = QSpinBox()
        self.max_clients.setObjectName("serverMaxClients")
        self.max_clients.setRange(1, 10_000)
        self.max_clients.setValue(64)
        self.max_clients.setToolTip("Clients past this many are refused (HTTP 503)")
        self.start_button = QPushButton("Start server")
        self.start_button.setObjectName("serverStart")
        self.start_button.clicked.connect(lambda _checked=False: self.start())
        self.status = ElidedLabel()
        self.status.setObjectName("serverStatus")
        bar = QHBoxLayout()
        for widget in (QLabel("Rules"), self.rules_path, browse, QLabel("Listen on"), self.host, QLabel("port"),
                       self.port, QLabel("max clients"), self.max_clients, self.start_button):
            bar.addWidget(widget)
        bar.setStretch(1, 1)
        return bar

    def _build_tls(self) -> QHBoxLayout:
        self.tls = QComboBox()
        self.tls.setObjectName("serverTls")
        self.tls.addItem("No TLS (ws://)", TLS_NONE)
        self.tls.addItem("TLS, a certificate made for localhost", TLS_SELF_SIGNED)
        self.tls.addItem("TLS, my certificate and key", TLS_FILES)
        self.tls.currentIndexChanged.connect(self._on_tls_chosen)
        self.cert_path = QLineEdit()
        self.cert_path.setObjectName("serverCert")
        self.cert_path.setPlaceholderText("Certificate (PEM, chain after it)")
        self.key_path = QLineEdit()
        self.key_path.setObjectName("serverKey")
        self.key_path.setPlaceholderText("Private key (PEM, unencrypted)")
        self._cert_browse = QPushButton("Browse…")
        self._cert_browse.clicked.connect(lambda: self._browse_pem(self.cert_path, "Certificate"))
        self._key_browse = QPushButton("Browse…")
        self._key_browse.clicked.connect(lambda: self._browse_pem(self.key_path, "Private key"))
        tls_bar = QHBoxLayout()
        for widget in (QLabel("TLS"), self.tls, self.cert_path, self._cert_browse, self.key_path, self._key_browse):
            tls_bar.addWidget(widget)
        tls_bar.setStretch(2, 1)
        tls_bar.setStretch(4, 1)
        self._on_tls_chosen()
        return tls_bar

    def _build_views(self) -> QSplitter:
        self.clients = ServersTree()
        self.clients.currentItemChanged.connect(self._on_row_chosen)
        self.stop_button = QPushButton("Stop server")
        self.stop_button.setObjectName("serverStop")
        self.stop_button.setToolTip("Close the chosen server's clients (1001) and stop listening")
        self.stop_button.clicked.connect(self._stop_chosen)
        self.model = TimelineModel(self)
        self.timeline = TimelineView(self.model)
        self.timeline.setObjectName("serverTimeline")
        compact_columns(self.timeline)
        self.detail = DetailPane()
        self.handshake_view = HandshakeView(server_side=True)
        self.client_view = QPlainTextEdit()
        self.client_view.setObjectName("serverClientInfo")
        self.client_view.setReadOnly(True)
        self.timeline.frame_selected.connect(self._on_frame_selected)
        self.lower = QTabWidget()
        self.lower.addTab(self.detail, "Frame")
        self.lower.addTab(self.handshake_view, "Handshake")
        self.lower.addTab(self.client_view, "Client")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.timeline)
        right.addWidget(self.lower)
        right.setSizes([400, 220])
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("Servers and their clients"))
        side_layout.addWidget(self.clients, 1)
        side_layout.addWidget(self.stop_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(side)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 800])
        return split

    def _build_commands(self) -> PayloadEditor:
        self.message = PayloadEditor("serverMessage", convert=True,
                                     text_hint="Message text. Ctrl+Enter sends it to the chosen client.")
        self.message.editor.setToolTip("The message to send: Ctrl+Enter sends it to the chosen client")
        lines = self.message.editor.fontMetrics().lineSpacing()
        self.message.editor.setFixedHeight(lines * 4 + 12)
        send_shortcut(self.message.editor, self._send, "Send the message to the chosen client")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("serverSend")
        self.send_button.setToolTip("Send to the chosen client (Ctrl+Enter)")
        self.send_button.clicked.connect(self._send)
        self.broadcast_button = QPushButton("Broadcast")
        self.broadcast_button.setToolTip("Send to every open client of the chosen server")
        self.broadcast_button.clicked.connect(self._broadcast)
        self.close_code = QSpinBox()
        self.close_code.setObjectName("serverCloseCode")
        self.close_code.setRange(0, 65535)
        self.close_code.setValue(1000)
        self.close_reason = ExactLineEdit()
        self.close_reason.setObjectName("serverCloseReason")
        self.close_reason.setPlaceholderText("reason")
        self.close_reason.setMaxLength(123)  # a close frame's payload is at most 125 bytes, 2 of them the code
        self.close_reason.setMaximumWidth(180)
        self.close_button = QPushButton("Close with")
        self.close_button.clicked.connect(self._close_client)
        self.drop_button = QPushButton("Drop")
        self.drop_button.setToolTip("End the TCP connection at once, without a closing handshake")
        self.drop_button.clicked.connect(self._drop_client)
        row = self.message.row  # mode, File…, stretch, Format
        for widget in (self.send_button, self.broadcast_button, _gap(), self.close_button, self.close_code,
                       self.close_reason, self.drop_button):
            row.addWidget(widget)
        return self.message

    # -- starting and stopping --------------------------------------------------------------------

    @property
    def controller(self) -> ServerController | None:
        """The chosen server (or the newest listening one)."""
        chosen = self.clients.server_of(self.clients.currentItem())
        if chosen is not None:
            return chosen
        listening = [c for c in self.servers if c.server.is_listening]
        return listening[-1] if listening else None

    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Mock rules file", "", "Mock rules (*.yaml *.yml);;All files (*)")
        if path:
            self.rules_path.setText(path)

    def _browse_pem(self, field: QLineEdit, what: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, what, "", "PEM files (*.pem *.crt *.key);;All files (*)")
        if path:
            field.setText(path)

    @Slot()
    def _on_tls_chosen(self) -> None:
        files = self.tls.currentData() == TLS_FILES
        for widget in (self.cert_path, self.key_path, self._cert_browse, self._key_browse):
            widget.setEnabled(files)

    def _read_rules(self) -> MockRules | None:
        text = self.rules_path.text().strip()
        if not text:
            return ECHO_RULES
        try:
            return read_rules(Path(text))
        except MockFileError as exc:
            self.status.setText(f"{Path(text).name}: {exc}")
        except OSError as exc:
            self.status.setText(f"Cannot read {text}: {exc.strerror or exc}")
        return None

    def _server_tls(self) -> ServerTls | bool | None:
        """The TLS chosen; False (and why, in the status line) when it cannot be had."""
        choice = self.tls.currentData()
        if choice == TLS_SELF_SIGNED:
            from wsinspector.core.self_signed import SelfSignedError, self_signed_localhost  # noqa: PLC0415

            try:
                return ServerTls(*self_signed_localhost())
            except SelfSignedError as exc:
                self.status.setText(str(exc))
                return False
        if choice == TLS_FILES:
            cert, key = self.cert_path.text().strip(), self.key_path.text().strip()
            if not cert or not key:
                self.status.setText("TLS with your own certificate needs both the certificate and the key file")
                return False
            try:
                return ServerTls(Path(cert).read_bytes(), Path(key).read_bytes())
            except OSError as exc:
                self.status.setText(f"Cannot read {exc.filename or cert}: {exc.strerror or exc}")
                return False
        return None

    @Slot()
    def start(self) -> bool:
        """Start a server as the bar says; False (and why, in the status line) when it cannot."""
        rules = self._read_rules()
        if rules is None:
            return False
        host = self.host.text().strip() or "127.0.0.1"
        if not is_loopback(host) and not confirm_exposed(self, host):
            self.status.setText(f"Not started: {host} was not confirmed (127.0.0.1 is this machine only)")
            return False
        tls = self._server_tls()
        if tls is False:
            return False
        controller = ServerController(self.context.store, ServerSettings(subprotocols=rules.subprotocols),
                                      max_clients=self.max_clients.value(), tls=tls or None,
                                      name=rules.name or "Server", parent=self)
        mock = MockServer(controller, rules, parent=self)
        try:
            url = controller.listen(host, self.port.value())
        except ServerListenError as exc:
            self.status.setText(str(exc))
            mock.deleteLater()
            controller.deleteLater()
            return False
        self.servers.append(controller)
        self._mocks[id(controller)] = mock
        self.context.servers.append(controller)
        controller.client_added.connect(lambda s, c=controller: self._on_client_added(c, s))
        controller.client_ended.connect(lambda s, c=controller: self._on_client_ended(c, s))
        mock.problem.connect(self.status.setText)
        controller.server.tls_refused.connect(lambda peer, detail: self.status.setText(f"{peer} {detail}"))
        recording = "recording every client" if self.context.store is not None else "not recording"
        warning = "" if is_loopback(controller.server.host) else " — reachable from other machines"
        self.status.setText(f"Listening on {url} ({recording}){warning}")
        item = self.clients.add_server(controller)
        if self.current is None:
            self.clients.setCurrentItem(item)
        self._update_commands()
        return True

    @Slot()
    def _stop_chosen(self) -> None:
        controller = self.controller
        if controller is not None:
            self.stop(controller)

    def stop(self, controller: ServerController | None = None) -> None:
        """Close a server's clients (1001) and stop it listening (None: every server)."""
        for server in [controller] if controller is not None else list(self.servers):
            if not server.server.is_listening:
                continue
            server.close()
            if server in self.context.servers:
                self.context.servers.remove(server)
            self.status.setText(f"Stopped {self.clients.url_of(server)} ({counted(server.served, 'client')} served)")
            self.clients.relabel_server(server)
        self._update_commands()

    # -- clients ----------------------------------------------------------------------------------

    def _on_client_added(self, controller: ServerController, session: ClientSession) -> None:
        item = self.clients.add_client(controller, session)
        session.client.state_changed.connect(lambda _s, s=session: self._relabel(s))
        session.client.opened.connect(lambda info, s=session: self._on_opened(s, info))
        session.client.failed.connect(lambda failure, s=session: self._relabel(s, failure.message))
        session.client.closed.connect(lambda info, s=session: self._on_closed(s, info))
        session.frames_appended.connect(lambda first, last, s=session: self._on_frames(s, first, last))
        if self.current is None:
            self.clients.setCurrentItem(item)

    def _relabel(self, session: ClientSession, tip: str | None = None) -> None:
        self.clients.relabel_client(session, tip)
        if session is self.current:
            self._update_commands()

    def _on_opened(self, session: ClientSession, info: OpenInfo) -> None:
        self._agreed[id(session)] = info
        self._relabel(session, f"{info.url}\nsubprotocol: {info.subprotocol or 'none'}\n"
                               f"extensions: {info.extensions or 'none'}")
        if session is self.current:
            self._show_client(session)

    def _on_closed(self, session: ClientSession, info: CloseInfo) -> None:
        self._relabel(session, info.message)

    def _on_client_ended(self, controller: ServerController, session: ClientSession) -> None:
        self._relabel(session)
        self.clients.relabel_server(controller)
        self.session_recorded.emit()

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_row_chosen(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        session = self.clients.session_of(item)
        if session is not self.current or session is None:
            self.current = session
            self.detail.show_frame(None, None)
            if session is None:
                self.model.set_source(None)
            else:
                self.model.set_source(session.log)
                if len(session.log):
                    self.model.on_frames_appended(0, len(session.log) - 1)
        self._show_client(session)
        self._update_commands()

    def _show_client(self, session: ClientSession | None) -> None:
        if session is None:
            self.handshake_view.show_live(None, ())
            self.client_view.setPlainText("Choose a client to see its frames and what it asked for.")
            return
        self.handshake_view.show_live(session.client.handshake, ())
        agreed = self._agreed.get(id(session))
        self.client_view.setPlainText(client_summary(session, agreed.subprotocol if agreed else "",
                                                     agreed.extensions if agreed else ""))

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
        controller = self.controller
        listening = controller is not None and controller.server.is_listening
        self.broadcast_button.setEnabled(listening)
        self.stop_button.setEnabled(listening)

    @Slot()
    def _send(self) -> None:
        session = self._open_current()
        if session is None:
            self.message.show_error("Choose an open client to send to (or Broadcast to every client)")
            return
        payload = self.message.encoded()
        if payload is not None:
            session.client.send(payload.data, payload.is_text)
            self.message.remember(self.message.text())

    @Slot()
    def _broadcast(self) -> None:
        controller = self.controller
        if controller is None:
            return
        payload = self.message.encoded()
        if payload is None:
            return
        sent = 0
        for session in controller.live:
            engine = session.client.engine
            if engine is not None and engine.is_open:
                session.client.send(payload.data, payload.is_text)
                sent += 1
        self.message.remember(self.message.text())
        kind = "" if payload.is_text else f" ({counted(len(payload.data), 'byte')} of binary)"
        self.status.setText(f"Sent to {counted(sent, 'client')} of {self.clients.url_of(controller)}{kind}")

    @Slot()
    def _close_client(self) -> None:
        session = self._open_current()
        if session is None:
            return
        reason = self.close_reason.text()
        if len(reason.encode("utf-8")) > 123:
            self.status.setText("A close reason is at most 123 bytes of UTF-8")
            return
        session.client.close(self.close_code.value(), reason)

    @Slot()
    def _drop_client(self) -> None:
        session = self._open_current()
        if session is not None:
            session.client.drop()


def _gap() -> QWidget:
    """A little room between the sending buttons and the closing ones."""
    gap = QWidget()
    gap.setFixedWidth(12)
    return gap
