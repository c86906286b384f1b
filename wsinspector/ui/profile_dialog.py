"""Edit a saved connection: URL, handshake headers, subprotocols, origin, variables, the address to connect to;
engine, compression, limits and timeouts; TLS (CA file, client certificate, oldest version, verification,
trusted certificates); the proxy; heartbeat and reconnect."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.auth import checked_target
from wsinspector.core.profiles import (
    ENGINE_WIRE,
    ENGINES,
    HEARTBEAT_ACTIONS,
    MIB,
    ConnectionProfile,
    ProfileError,
    ReadOnlyProfileError,
    UnknownVariableError,
)
from wsinspector.core.redact import is_secret_header, is_secret_name
from wsinspector.core.secrets import secret_values
from wsinspector.ui import palette
from wsinspector.ui.fields import (
    FieldWidget,
    as_int,
    as_strings,
    check_field,
    choice_field,
    spin_field,
    text_field,
)
from wsinspector.ui.secret_fields import MaskedColumn, SecretColumn
from wsinspector.ui.tls_proxy_fields import ProxyFields, TlsFields

if TYPE_CHECKING:
    from wsinspector.core.connection_defaults import ConnectionDefaults


class PairTable(QWidget):
    """An editable name/value table with add and remove buttons; with ``is_secret``, a "Secret" column too
    (values of the rows it marks shown masked, a Show toggle), defaulting by the row's name."""

    def __init__(self, first: str, second: str, parent: QWidget | None = None,
                 is_secret: Callable[[str], bool] | None = None,
                 masked: Callable[[str], bool] | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2 if is_secret is None else 3)
        self.table.setHorizontalHeaderLabels([first, second, "Secret"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setStretchLastSection(is_secret is None)
        if is_secret is not None:
            self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.secrets = None if is_secret is None else SecretColumn(self.table, is_secret)
        #: without a Secret column, the values of the rows ``masked`` names are masked all the same
        self.masked = None if masked is None or is_secret is not None else MaskedColumn(self.table, masked)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(90)
        add = QPushButton("Add")
        add.clicked.connect(lambda: self.add_row("", ""))
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_current)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        if self.secrets is not None:
            buttons.addWidget(self.secrets.reveal)
        elif self.masked is not None:
            buttons.addWidget(self.masked.reveal)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def add_row(self, name: str, value: str, secret: bool | None = None) -> None:
        """A row; ``secret`` None: marked secret by its name (and following it while the user types)."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        if self.secrets is not None:
            self.secrets.add(row, name, secret)
        if not name:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(self.table.item(row, 0))

    def set_pairs(self, pairs: tuple[tuple[str, str], ...], secret: tuple[str, ...] = ()) -> None:
        self.table.setRowCount(0)
        for name, value in pairs:
            self.add_row(name, value, name.lower() in {s.lower() for s in secret})

    def secret_names(self) -> tuple[str, ...]:
        """The names of the rows marked secret, once each."""
        if self.secrets is None:
            return ()
        names = (self.table.item(row, 0) for row in range(self.table.rowCount()) if self.secrets.is_secret(row))
        return tuple(dict.fromkeys(item.text().strip() for item in names if item and item.text().strip()))

    def set_secret_names(self, names: tuple[str, ...]) -> None:
        self.set_pairs(self.pairs(), names)

    def pairs(self) -> tuple[tuple[str, str], ...]:
        result = []
        for row in range(self.table.rowCount()):
            name_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            name = name_item.text().strip() if name_item else ""
            value = value_item.text() if value_item else ""
            if name:
                result.append((name, value))
        return tuple(result)

    def _remove_current(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)


class ProfileDialog(QDialog):
    """A connection's settings; ``app_defaults``: the app-wide TLS and proxy defaults its blank fields take,
    said in those fields."""

    def __init__(self, profile: ConnectionProfile, parent: QWidget | None = None,
                 app_defaults: ConnectionDefaults | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Connection — {profile.name}")
        self.setObjectName("profileDialog")
        self.resize(620, 560)
        self._profile = profile
        self.name = QLineEdit()
        self.url = QLineEdit()
        self.url.setPlaceholderText("ws://host:port/path or wss://… ({{variables}} allowed)")
        self.origin = QLineEdit()
        self.origin.setPlaceholderText("Origin header, e.g. https://example.com (optional)")
        self.subprotocols = QLineEdit()
        self.subprotocols.setPlaceholderText("Offered subprotocols, comma-separated, in order of preference")
        self.headers = PairTable("Header", "Value", is_secret=is_secret_header)
        self.headers.setObjectName("headers")
        self.variables = PairTable("Variable", "Value", is_secret=is_secret_name)
        self.variables.setObjectName("variables")
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0.1, 600)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.max_message = QSpinBox()
        self.max_message.setRange(1, 2047)
        self.max_message.setSuffix(" MiB")
        self.max_frame = QSpinBox()
        self.max_frame.setRange(1, 2047)
        self.max_frame.setSuffix(" MiB")
        self.heartbeat = QDoubleSpinBox()
        self.heartbeat.setObjectName("heartbeatInterval")
        self.heartbeat.setRange(0, 3600)
        self.heartbeat.setDecimals(1)
        self.heartbeat.setSuffix(" s")
        self.heartbeat.setSpecialValueText("off")
        self.heartbeat.setToolTip("Send a ping this often while connected; each pong's round trip is measured")
        self.heartbeat_timeout = QDoubleSpinBox()
        self.heartbeat_timeout.setRange(0.1, 600)
        self.heartbeat_timeout.setDecimals(1)
        self.heartbeat_timeout.setSuffix(" s")
        self.heartbeat_action = QComboBox()
        for key, label in HEARTBEAT_ACTIONS.items():
            self.heartbeat_action.addItem(label, key)
        heartbeat_row = QHBoxLayout()
        heartbeat_row.addWidget(self.heartbeat)
        heartbeat_row.addWidget(QLabel("no pong within"))
        heartbeat_row.addWidget(self.heartbeat_timeout)
        heartbeat_row.addWidget(QLabel("then"))
        heartbeat_row.addWidget(self.heartbeat_action, 1)
        self.reconnect = QCheckBox("Reconnect by itself when the connection drops")
        self.reconnect.setObjectName("reconnect")
        self.reconnect_attempts = QSpinBox()
        self.reconnect_attempts.setRange(0, 10_000)
        self.reconnect_attempts.setSpecialValueText("no limit")
        self.reconnect_base = QDoubleSpinBox()
        self.reconnect_base.setRange(0.1, 600)
        self.reconnect_base.setDecimals(1)
        self.reconnect_base.setSuffix(" s")
        self.reconnect_max = QDoubleSpinBox()
        self.reconnect_max.setRange(0.1, 3600)
        self.reconnect_max.setDecimals(1)
        self.reconnect_max.setSuffix(" s")
        reconnect_row = QHBoxLayout()
        reconnect_row.addWidget(self.reconnect)
        reconnect_row.addWidget(QLabel("attempts"))
        reconnect_row.addWidget(self.reconnect_attempts)
        reconnect_row.addWidget(QLabel("wait"))
        reconnect_row.addWidget(self.reconnect_base)
        reconnect_row.addWidget(QLabel("doubling up to"))
        reconnect_row.addWidget(self.reconnect_max)
        self.record = QCheckBox("Record each session (off: a live view only)")
        self.record.setObjectName("record")
        self.record.setToolTip("On: every frame is saved, and the session stays on the Sessions page.\n"
                               "Off: nothing is saved; the live view keeps only the newest frames.")
        self.engine = QComboBox()
        self.engine.setObjectName("engine")
        for key, label in ENGINES.items():
            self.engine.addItem(label, key)
        self.engine.setToolTip("Wire: every frame both ways with its real header (incoming pings and close "
                               "frames, RSV bits, mask keys), permessage-deflate and fault injection.\n"
                               "Qt: QtWebSockets; it hides incoming pings, close frames, RSV bits and masking.")
        self.engine.currentIndexChanged.connect(self._update_engine_fields)
        self.deflate = QCheckBox("Offer permessage-deflate (compression)")
        self.deflate.setObjectName("deflate")
        self.deflate.toggled.connect(self._update_engine_fields)
        self.server_window = WindowBitsSpin("Ask the server to compress with at most this LZ77 window "
                                          "(server_max_window_bits)")
        self.client_window = WindowBitsSpin("Limit our own compression window (client_max_window_bits); "
                                          "\"any\" lets the server choose")
        self.server_no_context = QCheckBox("server_no_context_takeover")
        self.server_no_context.setToolTip("Ask the server to compress each message on its own")
        self.client_no_context = QCheckBox("client_no_context_takeover")
        self.client_no_context.setToolTip("Compress each of our messages on its own")
        deflate_grid = QGridLayout()
        deflate_grid.addWidget(self.deflate, 0, 0, 1, 4)
        deflate_grid.addWidget(QLabel("Server window"), 1, 0)
        deflate_grid.addWidget(self.server_window, 1, 1)
        deflate_grid.addWidget(self.server_no_context, 1, 2)
        deflate_grid.addWidget(QLabel("Client window"), 2, 0)
        deflate_grid.addWidget(self.client_window, 2, 1)
        deflate_grid.addWidget(self.client_no_context, 2, 2)
        deflate_grid.setColumnStretch(3, 1)
        self.auto_pong = QCheckBox("Answer the server's pings automatically")
        self.auto_pong.setObjectName("autoPong")
        self.auto_pong.setToolTip("Off: pings go unanswered, to test the server's heartbeat (Wire engine)")
        self.close_timeout = QDoubleSpinBox()
        self.close_timeout.setObjectName("closeTimeout")
        self.close_timeout.setRange(0.1, 600)
        self.close_timeout.setDecimals(1)
        self.close_timeout.setSuffix(" s")
        self.close_timeout.setToolTip("After our close frame, how long the server has to answer before the "
                                      "connection is dropped (the Qt engine waits 2.5 s at most)")
        self.connect_to = QLineEdit()
        self.connect_to.setObjectName("connectTo")
        self.connect_to.setPlaceholderText("host:port (optional): connect here; TLS and Host still use the URL's name")
        self.tls = TlsFields()
        self.tls.setObjectName("tlsFields")
        self.proxy = ProxyFields()
        self.proxy.setObjectName("proxyFields")
        # the names tests and older code know them by
        self.passphrase, self.proxy_password = self.tls.passphrase, self.proxy.password
        if app_defaults is not None:
            self.tls.show_app_defaults(app_defaults.tls)
            self.proxy.show_app_defaults(app_defaults.proxy)
        self.engine_note = QLabel()
        self.engine_note.setWordWrap(True)
        self.engine_note.setStyleSheet("color: palette(mid);")
        self.error = QLabel()
        self.error.setObjectName("profileError")
        palette.style(self.error, "color: {error};")
        self.error.setWordWrap(True)

        general = QFormLayout()
        general.addRow("Name", self.name)
        general.addRow("URL", self.url)
        general.addRow("Origin", self.origin)
        general.addRow("Subprotocols", self.subprotocols)
        general.addRow("Handshake headers", self.headers)
        general.addRow("Variables", self.variables)
        general.addRow("Connect to", self.connect_to)
        general.addRow("Recording", self.record)
        protocol = QFormLayout()
        engine_box = QVBoxLayout()
        engine_box.setSpacing(2)
        engine_box.addWidget(self.engine)
        engine_box.addWidget(self.engine_note)
        protocol.addRow("Engine", engine_box)
        protocol.addRow("Compression", deflate_grid)
        protocol.addRow("Pings", self.auto_pong)
        protocol.addRow("Handshake timeout", self.timeout)
        protocol.addRow("Close timeout", self.close_timeout)
        protocol.addRow("Max incoming message", self.max_message)
        protocol.addRow("Max incoming frame", self.max_frame)
        health = QFormLayout()
        health.addRow("Heartbeat every", heartbeat_row)
        health.addRow("Reconnect", reconnect_row)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("profileTabs")
        for title, form in (("Connection", general), ("Protocol", protocol), ("Health", health)):
            page = QWidget()
            page.setLayout(form)
            self.tabs.addTab(page, title)
        self.tabs.insertTab(2, self.tls, "TLS")
        self.tabs.insertTab(3, self.proxy, "Proxy")
        from wsinspector.ui.auth_tab import AuthTab  # noqa: PLC0415  (it builds its tables with PairTable)

        self.auth_tab = AuthTab(profile.auth, self.profile, PairTable)
        self.auth_tab.setObjectName("authTab")
        self.tabs.insertTab(1, self.auth_tab, "Auth")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        #: every setting the dialog edits: (record, field) -> its widget, read and written as the field's value;
        #: the record "" is the profile itself
        self._fields: dict[tuple[str, str], FieldWidget] = {
            ("", "name"): text_field(self.name),
            ("", "variables"): pairs_field(self.variables),
            ("", "secret_variables"): secret_names_field(self.variables),
            ("endpoint", "url"): text_field(self.url),
            ("endpoint", "connect_to"): text_field(self.connect_to),
            ("handshake", "headers"): pairs_field(self.headers),
            ("handshake", "secret_headers"): secret_names_field(self.headers),
            ("handshake", "subprotocols"): list_field(self.subprotocols),
            ("handshake", "origin"): text_field(self.origin),
            ("handshake", "timeout_s"): spin_field(self.timeout),
            ("limits", "max_message_size"): mib_field(self.max_message),
            ("limits", "max_frame_size"): mib_field(self.max_frame),
            ("protocol", "engine"): choice_field(self.engine),
            ("protocol", "auto_pong"): check_field(self.auto_pong),
            ("protocol", "close_timeout_s"): spin_field(self.close_timeout),
            ("compression", "deflate"): check_field(self.deflate),
            ("compression", "server_max_window_bits"): FieldWidget(self.server_window.bits,
                                                                    self.server_window.set_bits),
            ("compression", "client_max_window_bits"): FieldWidget(self.client_window.bits,
                                                                    self.client_window.set_bits),
            ("compression", "server_no_context_takeover"): check_field(self.server_no_context),
            ("compression", "client_no_context_takeover"): check_field(self.client_no_context),
            ("health", "heartbeat_interval_s"): spin_field(self.heartbeat),
            ("health", "heartbeat_timeout_s"): spin_field(self.heartbeat_timeout),
            ("health", "heartbeat_action"): choice_field(self.heartbeat_action),
            ("health", "reconnect"): check_field(self.reconnect),
            ("health", "reconnect_max_attempts"): spin_field(self.reconnect_attempts),
            ("health", "reconnect_base_s"): spin_field(self.reconnect_base),
            ("health", "reconnect_max_s"): spin_field(self.reconnect_max),
            ("health", "record"): check_field(self.record),
            **{("auth", name): FieldWidget(*pair) for name, pair in self.auth_tab.field_widgets().items()},
            **{("tls", name): widget for name, widget in self.tls.field_widgets().items()},
            **{("proxy", name): widget for name, widget in self.proxy.field_widgets().items()},
        }
        for (record, name), widget in self._fields.items():
            widget.write(getattr(getattr(profile, record) if record else profile, name))
        self._update_engine_fields()
        self.name.setFocus()  # the dialog opens ready to type the connection's name

    @Slot()
    def _update_engine_fields(self) -> None:
        wire = self.engine.currentData() == ENGINE_WIRE
        self.deflate.setEnabled(wire)
        for widget in (self.server_window, self.client_window, self.server_no_context, self.client_no_context):
            widget.setEnabled(wire and self.deflate.isChecked())
        self.auto_pong.setEnabled(wire)
        self.engine_note.setText(
            "Every frame is shown with its real header; the composer's Faults menu can break the protocol "
            "on purpose." if wire else
            "QtWebSockets negotiates no compression and does not show incoming pings, close frames, RSV bits "
            "or masking; the settings below that need the Wire engine are off.")

    def profile(self) -> ConnectionProfile:
        changes: dict[str, dict[str, object]] = {}
        for (record, name), widget in self._fields.items():
            changes.setdefault(record, {})[name] = widget.read()
        top = changes.pop("")
        top["name"] = top["name"] or self._profile.name
        edited = self._profile.with_changes(**top, **changes)
        # a kept secret the user emptied is no longer missing: it was left empty on purpose
        values = secret_values(edited)
        return edited.with_changes(kept_secrets=tuple(p for p in edited.kept_secrets if values.get(p)))

    def accept(self) -> None:
        if self._profile.read_only:
            self.error.setText(f"{ReadOnlyProfileError(self._profile)}.")
            return
        try:
            checked_target(self.profile())
        except UnknownVariableError:
            pass  # the globals or an environment may define it: connecting names it, with where it is used
        except ProfileError as exc:
            self.error.setText(str(exc))
            return
        super().accept()

    def done(self, result: int) -> None:
        self.auth_tab.stop()
        super().done(result)


class WindowBitsSpin(QSpinBox):
    """8-15 bits, or "any" (no value in the offer), stored as 0."""

    _ANY = 7

    def __init__(self, tip: str) -> None:
        super().__init__()
        self.setRange(self._ANY, 15)
        self.setSpecialValueText("any")
        self.setToolTip(tip + " (8-15 bits)")

    def bits(self) -> int:
        value = self.value()
        return 0 if value == self._ANY else value

    def set_bits(self, bits: object) -> None:
        self.setValue(int(bits) if isinstance(bits, int) and bits else self._ANY)


def list_field(widget: QLineEdit) -> FieldWidget:
    """A tuple of strings as one comma-separated line."""
    return FieldWidget(lambda: tuple(p.strip() for p in widget.text().split(",") if p.strip()),
                       lambda value: widget.setText(", ".join(as_strings(value))))


def pairs_field(widget: PairTable) -> FieldWidget:
    return FieldWidget(widget.pairs, lambda value: widget.set_pairs(tuple(_pairs(value))))


def secret_names_field(widget: PairTable) -> FieldWidget:
    """The names of a table's rows marked secret (written after the rows themselves)."""
    return FieldWidget(widget.secret_names, lambda value: widget.set_secret_names(tuple(as_strings(value))))


def mib_field(widget: QSpinBox) -> FieldWidget:
    """A size in bytes, shown in whole MiB."""
    return FieldWidget(lambda: widget.value() * MIB,
                       lambda value: widget.setValue(max(1, as_int(value) // MIB)))


def _pairs(value: object) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, b in value] if isinstance(value, tuple) else []
