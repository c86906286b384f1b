"""Edit a saved connection: URL, handshake headers, subprotocols, origin, variables, limits."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.profiles import HEARTBEAT_ACTIONS, MIB, ConnectionProfile, ProfileError, UnknownVariableError


class PairTable(QWidget):
    """An editable name/value table with add and remove buttons."""

    def __init__(self, first: str, second: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([first, second])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(90)
        add = QPushButton("Add")
        add.clicked.connect(lambda: self.add_row("", ""))
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_current)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def add_row(self, name: str, value: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        if not name:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(self.table.item(row, 0))

    def set_pairs(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self.table.setRowCount(0)
        for name, value in pairs:
            self.add_row(name, value)

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
    def __init__(self, profile: ConnectionProfile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Connection — {profile.name}")
        self.setObjectName("profileDialog")
        self.resize(620, 560)
        self._profile = profile
        self.name = QLineEdit(profile.name)
        self.url = QLineEdit(profile.url)
        self.url.setPlaceholderText("ws://host:port/path or wss://… ({{variables}} allowed)")
        self.origin = QLineEdit(profile.origin)
        self.origin.setPlaceholderText("Origin header, e.g. https://example.com (optional)")
        self.subprotocols = QLineEdit(", ".join(profile.subprotocols))
        self.subprotocols.setPlaceholderText("Offered subprotocols, comma-separated, in order of preference")
        self.headers = PairTable("Header", "Value")
        self.headers.set_pairs(profile.headers)
        self.variables = PairTable("Variable", "Value")
        self.variables.set_pairs(profile.variables)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0.1, 600)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(profile.handshake_timeout_s)
        self.max_message = QSpinBox()
        self.max_message.setRange(1, 2047)
        self.max_message.setSuffix(" MiB")
        self.max_message.setValue(max(1, profile.max_message_size // MIB))
        self.max_frame = QSpinBox()
        self.max_frame.setRange(1, 2047)
        self.max_frame.setSuffix(" MiB")
        self.max_frame.setValue(max(1, profile.max_frame_size // MIB))
        self.heartbeat = QDoubleSpinBox()
        self.heartbeat.setObjectName("heartbeatInterval")
        self.heartbeat.setRange(0, 3600)
        self.heartbeat.setDecimals(1)
        self.heartbeat.setSuffix(" s")
        self.heartbeat.setSpecialValueText("off")
        self.heartbeat.setToolTip("Send a ping this often while connected; each pong's round trip is measured")
        self.heartbeat.setValue(profile.heartbeat_interval_s)
        self.heartbeat_timeout = QDoubleSpinBox()
        self.heartbeat_timeout.setRange(0.1, 600)
        self.heartbeat_timeout.setDecimals(1)
        self.heartbeat_timeout.setSuffix(" s")
        self.heartbeat_timeout.setValue(profile.heartbeat_timeout_s)
        self.heartbeat_action = QComboBox()
        for key, label in HEARTBEAT_ACTIONS.items():
            self.heartbeat_action.addItem(label, key)
        self.heartbeat_action.setCurrentIndex(max(0, self.heartbeat_action.findData(profile.heartbeat_action)))
        heartbeat_row = QHBoxLayout()
        heartbeat_row.addWidget(self.heartbeat)
        heartbeat_row.addWidget(QLabel("no pong within"))
        heartbeat_row.addWidget(self.heartbeat_timeout)
        heartbeat_row.addWidget(QLabel("then"))
        heartbeat_row.addWidget(self.heartbeat_action, 1)
        self.reconnect = QCheckBox("Reconnect by itself when the connection drops")
        self.reconnect.setObjectName("reconnect")
        self.reconnect.setChecked(profile.reconnect)
        self.reconnect_attempts = QSpinBox()
        self.reconnect_attempts.setRange(0, 10_000)
        self.reconnect_attempts.setSpecialValueText("no limit")
        self.reconnect_attempts.setValue(profile.reconnect_max_attempts)
        self.reconnect_base = QDoubleSpinBox()
        self.reconnect_base.setRange(0.1, 600)
        self.reconnect_base.setDecimals(1)
        self.reconnect_base.setSuffix(" s")
        self.reconnect_base.setValue(profile.reconnect_base_s)
        self.reconnect_max = QDoubleSpinBox()
        self.reconnect_max.setRange(0.1, 3600)
        self.reconnect_max.setDecimals(1)
        self.reconnect_max.setSuffix(" s")
        self.reconnect_max.setValue(profile.reconnect_max_s)
        reconnect_row = QHBoxLayout()
        reconnect_row.addWidget(self.reconnect)
        reconnect_row.addWidget(QLabel("attempts"))
        reconnect_row.addWidget(self.reconnect_attempts)
        reconnect_row.addWidget(QLabel("wait"))
        reconnect_row.addWidget(self.reconnect_base)
        reconnect_row.addWidget(QLabel("doubling up to"))
        reconnect_row.addWidget(self.reconnect_max)
        self.error = QLabel()
        self.error.setObjectName("profileError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("URL", self.url)
        form.addRow("Origin", self.origin)
        form.addRow("Subprotocols", self.subprotocols)
        form.addRow("Handshake headers", self.headers)
        form.addRow("Variables", self.variables)
        form.addRow("Handshake timeout", self.timeout)
        form.addRow("Max incoming message", self.max_message)
        form.addRow("Max incoming frame", self.max_frame)
        form.addRow("Heartbeat every", heartbeat_row)
        form.addRow("Reconnect", reconnect_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def profile(self) -> ConnectionProfile:
        subprotocols = tuple(p.strip() for p in self.subprotocols.text().split(",") if p.strip())
        return self._profile.with_changes(
            name=self.name.text().strip() or self._profile.name,
            url=self.url.text().strip(),
            origin=self.origin.text().strip(),
            subprotocols=subprotocols,
            headers=self.headers.pairs(),
            variables=self.variables.pairs(),
            handshake_timeout_s=self.timeout.value(),
            max_message_size=self.max_message.value() * MIB,
            max_frame_size=self.max_frame.value() * MIB,
            heartbeat_interval_s=self.heartbeat.value(),
            heartbeat_timeout_s=self.heartbeat_timeout.value(),
            heartbeat_action=str(self.heartbeat_action.currentData()),
            reconnect=self.reconnect.isChecked(),
            reconnect_max_attempts=self.reconnect_attempts.value(),
            reconnect_base_s=self.reconnect_base.value(),
            reconnect_max_s=self.reconnect_max.value(),
        )

    def accept(self) -> None:
        try:
            self.profile().resolved()
        except UnknownVariableError as exc:
            self.error.setText(f"{exc}. Define it under Variables.")
            return
        except ProfileError as exc:
            self.error.setText(str(exc))
            return
        super().accept()
