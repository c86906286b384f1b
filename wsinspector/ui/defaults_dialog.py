"""Connection ▸ Connection defaults…: the app-wide TLS and proxy settings every connection uses unless it says
otherwise, edited with the same TLS and Proxy widgets as a connection's dialog."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QVBoxLayout, QWidget

from wsinspector.app.defaults import DefaultsController
from wsinspector.core.connection_defaults import ConnectionDefaults
from wsinspector.core.profiles import ProfileError
from wsinspector.core.secrets import SecretError
from wsinspector.core.store import StoreError
from wsinspector.ui import palette
from wsinspector.ui.fields import FieldWidget, focus_first_field
from wsinspector.ui.tls_proxy_fields import ProxyFields, TlsFields

INTRO = ("Every connection uses these unless its own settings say otherwise: a blank CA file, client certificate or "
         "oldest version takes the value here, trusted certificates add up, and a connection left at the system's "
         "proxy setting goes through the proxy here. Passphrase and password are kept in the keyring.")


class ConnectionDefaultsDialog(QDialog):
    """The app-wide connection defaults; Save keeps them (the secrets in the keyring) or says what is wrong."""

    def __init__(self, controller: DefaultsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connection defaults")
        self.setObjectName("connectionDefaultsDialog")
        self.resize(620, 480)
        self._controller = controller
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.tls = TlsFields()
        self.tls.setObjectName("defaultTls")
        self.proxy = ProxyFields()
        self.proxy.setObjectName("defaultProxy")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tls, "TLS")
        self.tabs.addTab(self.proxy, "Proxy")
        self.error = QLabel()
        self.error.setObjectName("defaultsError")
        palette.style(self.error, "color: {error};")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._fields: dict[str, dict[str, FieldWidget]] = {"tls": self.tls.field_widgets(),
                                                            "proxy": self.proxy.field_widgets()}
        self.show_defaults(controller.defaults)
        if controller.load_error:
            self.error.setText(f"{controller.load_error}: they are left as they were, and cannot be changed here.")

    def show_defaults(self, defaults: ConnectionDefaults) -> None:
        for name, record in defaults.records():
            for field, widget in self._fields[name].items():
                widget.write(getattr(record, field))

    def defaults(self) -> ConnectionDefaults:
        """The defaults as the dialog shows them."""
        current = ConnectionDefaults()
        return replace(current, **{name: replace(getattr(current, name), **{field: widget.read()
                                                                           for field, widget in widgets.items()})
                                   for name, widgets in self._fields.items()})

    def accept(self) -> None:
        try:
            self._controller.save(self.defaults())
        except (ProfileError, StoreError, SecretError) as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        super().accept()

    def open(self) -> None:
        """Show what is kept now (a Cancel earlier left the fields as typed)."""
        self.show_defaults(self._controller.defaults)
        self.error.clear()
        self.tabs.setCurrentWidget(self.tls)
        focus_first_field(self.tls)
        super().open()
