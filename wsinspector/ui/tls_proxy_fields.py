"""The TLS and Proxy settings as widgets, shared by a connection's dialog and the Connection defaults dialog.

Each edits one record (``Tls``, ``Proxy``) through ``field_widgets()``: the record's field names to the
``FieldWidget`` that reads and shows them. In a connection's dialog, ``show_app_defaults`` tells the user where
a blank field's value comes from (the app-wide connection defaults)."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSpacerItem,
    QSpinBox,
    QWidget,
)

from wsinspector.core.connection_defaults import describe_proxy
from wsinspector.core.profiles import PROXY_HTTP, PROXY_MODES, PROXY_SOCKS5, PROXY_SYSTEM, TLS_VERSIONS, Proxy, Tls
from wsinspector.ui import palette
from wsinspector.ui.fields import (
    FieldWidget,
    PathEdit,
    check_field,
    choice_field,
    lines_field,
    secret_field,
    spin_field,
    text_field,
)
from wsinspector.ui.secret_fields import SecretEdit

_CA_TIP = "CA certificates (PEM file or folder), trusted as well as the system's"
_CERT_TIP = "Your certificate: PEM (the key may be in it) or PKCS#12 (.p12, .pfx)"
_KEY_TIP = "The PEM private key of your certificate, when it is not in that file"
_PASSPHRASE_TIP = "Passphrase of an encrypted key or PKCS#12 file (kept in the keyring)"
#: what the TLS tab says where verification is off
UNVERIFIED = ("Any certificate will be accepted: anyone between you and the server can read and change the "
              "traffic. The connection shows this while it is open.")


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(mid);")
    return label


class TlsFields(QWidget):
    """Verification, a CA file, a client certificate with its key and passphrase, the oldest version, trusted
    certificates."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verify = QCheckBox("Verify the server's certificate")
        self.verify.setObjectName("tlsVerify")
        self.warning = QLabel(UNVERIFIED)
        self.warning.setObjectName("tlsWarning")
        self.warning.setWordWrap(True)
        palette.style(self.warning, "color: {error};")
        self.verify.toggled.connect(self._update_warning)
        self.ca_file = PathEdit(_CA_TIP, folder_too=True)
        self.ca_file.edit.setObjectName("tlsCaFile")
        self.client_cert = PathEdit(_CERT_TIP)
        self.client_cert.edit.setObjectName("tlsClientCert")
        self.client_key = PathEdit(_KEY_TIP)
        self.client_key.edit.setObjectName("tlsClientKey")
        self.passphrase = SecretEdit(_PASSPHRASE_TIP)
        self.passphrase.setObjectName("tlsPassphrase")
        self.min_version = QComboBox()
        self.min_version.setObjectName("minTls")
        for key, label in TLS_VERSIONS.items():
            self.min_version.addItem(label, key)
        self.pinned = QPlainTextEdit()
        self.pinned.setObjectName("pinnedCertificates")
        self.pinned.setPlaceholderText("SHA-256 fingerprints, one per line: these server certificates are "
                                       "trusted even when verification fails")
        self.pinned.setMaximumHeight(90)
        #: where blank fields take their value from (shown in a connection's dialog only)
        self.app_note = _note()
        self.app_note.setObjectName("tlsAppDefaults")
        self.app_note.hide()
        self._app_unverified = False
        form = QFormLayout(self)
        form.addRow("Verification", self.verify)
        form.addRow("", self.warning)
        form.addRow("CA file", self.ca_file)
        form.addRow("Client certificate", self.client_cert)
        form.addRow("Client key", self.client_key)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("Oldest version", self.min_version)
        form.addRow("Trusted certificates", self.pinned)
        form.addRow("", self.app_note)
        form.addItem(QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding))
        self._update_warning()

    def field_widgets(self) -> dict[str, FieldWidget]:
        return {"verify": check_field(self.verify), "ca_file": text_field(self.ca_file.edit),
                "client_cert": text_field(self.client_cert.edit), "client_key": text_field(self.client_key.edit),
                "passphrase": secret_field(self.passphrase.edit), "min_version": choice_field(self.min_version),
                "pinned": lines_field(self.pinned)}

    def show_app_defaults(self, app: Tls) -> None:
        """Say in each blank field what the app-wide default gives it."""
        for edit, value, tip in ((self.ca_file.edit, app.ca_file, _CA_TIP),
                                 (self.client_cert.edit, app.client_cert, _CERT_TIP),
                                 (self.client_key.edit, app.client_key if app.client_cert else "", _KEY_TIP),
                                 (self.passphrase.edit, "kept in the keyring" if app.passphrase else "",
                                  _PASSPHRASE_TIP)):
            edit.setPlaceholderText(f"App default: {value}" if value else tip)
        if app.min_version:
            self.min_version.setItemText(0, f"App default: {TLS_VERSIONS[app.min_version]}")
        notes = ["Blank fields take the app's Connection defaults (Connection ▸ Connection defaults…); a client "
                 "certificate of this connection's own comes with its own key and passphrase."]
        if app.pinned:
            notes.append(f"The app's {len(app.pinned)} trusted certificate{'s' if len(app.pinned) > 1 else ''} "
                         "count too.")
        self._app_unverified = not app.verify
        if self._app_unverified:
            notes.append("Verification is off for every connection in the Connection defaults.")
        self.app_note.setText(" ".join(notes))
        self.app_note.show()
        self._update_warning()

    @Slot()
    def _update_warning(self) -> None:
        self.warning.setVisible(not self.verify.isChecked() or self._app_unverified)


class ProxyFields(QWidget):
    """The system's proxy settings, none, or a given HTTP or SOCKS5 proxy with a user and password."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = QComboBox()
        self.mode.setObjectName("proxyMode")
        for key, label in PROXY_MODES.items():
            self.mode.addItem(label, key)
        self.mode.currentIndexChanged.connect(self._update_fields)
        self.host = QLineEdit()
        self.host.setObjectName("proxyHost")
        self.host.setPlaceholderText("proxy host name or address")
        self.port = QSpinBox()
        self.port.setObjectName("proxyPort")
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("port")
        self.username = QLineEdit()
        self.username.setObjectName("proxyUser")
        self.username.setPlaceholderText("(optional) for a proxy that asks who you are")
        self.password = SecretEdit("(optional) kept in the keyring, never with the connection")
        self.password.setObjectName("proxyPassword")
        self.note = _note(
            "The system's setting reads HTTPS_PROXY for wss:// and http_proxy for ws:// (ALL_PROXY for both), "
            "skips the hosts in NO_PROXY, and never sends localhost through a proxy (a password goes in its URL: "
            "http://user:password@host:port).")
        address = QHBoxLayout()
        address.addWidget(self.host, 1)
        address.addWidget(self.port)
        form = QFormLayout(self)
        form.addRow("Proxy", self.mode)
        form.addRow("Address", address)
        form.addRow("User", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.note)
        form.addItem(QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding))
        self._update_fields()

    def field_widgets(self) -> dict[str, FieldWidget]:
        return {"mode": choice_field(self.mode), "host": text_field(self.host), "port": spin_field(self.port),
                "username": text_field(self.username), "password": secret_field(self.password.edit)}

    def show_app_defaults(self, app: Proxy) -> None:
        """The system's setting stands for the app's proxy, when the app-wide defaults name one."""
        if app.mode != PROXY_SYSTEM:
            index = self.mode.findData(PROXY_SYSTEM)
            self.mode.setItemText(index, f"App default: {describe_proxy(app)}")
            self.note.setText(f"Left at the app default, this connection goes as the app's Connection defaults "
                              f"say ({describe_proxy(app)}); choose None to connect directly.")

    @Slot()
    def _update_fields(self) -> None:
        given = self.mode.currentData() in (PROXY_HTTP, PROXY_SOCKS5)
        for widget in (self.host, self.port, self.username, self.password):
            widget.setEnabled(given)
