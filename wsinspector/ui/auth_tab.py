"""The Auth tab of a saved connection: the kind (Basic, Bearer, API key, OAuth 2.0 client credentials) and its
fields, cookies (with a browser's ``Cookie:`` header pasted in), and the request made before connecting, with
"Send now" to try it and see its answer and what it captures. Secret fields are masked, with a reveal toggle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from wsinspector.app.auth import PreConnect
from wsinspector.core.auth import AuthError, HttpRequest, HttpResponse, parse_cookie_header
from wsinspector.core.events import printable_bytes
from wsinspector.core.profiles import (
    API_KEY_PLACES,
    AUTH_API_KEY,
    AUTH_BASIC,
    AUTH_BEARER,
    AUTH_KINDS,
    AUTH_NONE,
    AUTH_OAUTH2,
    Auth,
    ConnectionProfile,
    ProfileError,
)
from wsinspector.core.redact import is_secret_header
from wsinspector.ui import palette
from wsinspector.ui.secret_fields import SecretEdit

#: how much of an answer's body "Send now" shows
_BODY_SHOWN = 4000
_METHODS = ("POST", "GET", "PUT", "PATCH")


def _line(name: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    return edit


def _cookie(_name: str) -> bool:
    return True  # every cookie's value is a secret (the cookies are kept in the keyring)


class AuthTab(QWidget):
    """Edits a connection's :class:`Auth`. ``profile_source`` gives the dialog's profile as edited (its
    variables, TLS and proxy), which "Send now" uses."""

    def __init__(self, auth: Auth, profile_source: Callable[[], ConnectionProfile],
                 pair_table: Callable[..., QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._profile_source = profile_source
        self._pre_connect: PreConnect | None = None
        self._answer = ""
        self._pair_table = pair_table
        self._secret_rows: dict[QWidget, SecretEdit] = {}
        content = QWidget()
        layout = QVBoxLayout(content)
        kind_form = QFormLayout()
        layout.addLayout(kind_form)
        self._kind_fields(kind_form)
        layout.addWidget(self._cookies_box())
        layout.addWidget(self._login_box())
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.set_auth(auth)

    def _kind_fields(self, kind_form: QFormLayout) -> None:
        """The kind, and the fields of each (those of the kind chosen shown)."""
        self.kind = QComboBox()
        self.kind.setObjectName("authKind")
        for key, label in AUTH_KINDS.items():
            self.kind.addItem(label, key)
        self.username = _line("authUsername", "user name ({{variables}} allowed)")
        self.password = self._secret("authPassword", "password, or {{variable}}")
        self.token = self._secret("authToken", "the token, or {{variable}} (a pre-connect capture, say)")
        self.api_key_name = _line("apiKeyName", "e.g. X-Api-Key or api_key")
        self.api_key_value = self._secret("apiKeyValue", "the key, or {{variable}}")
        self.api_key_in = QComboBox()
        self.api_key_in.setObjectName("apiKeyIn")
        for key, label in API_KEY_PLACES.items():
            self.api_key_in.addItem(label, key)
        self.token_url = _line("tokenUrl", "https://id.example.com/oauth/token")
        self.client_id = _line("clientId", "client id")
        self.client_secret = self._secret("clientSecret", "client secret, or {{variable}}")
        self.scope = _line("scope", "(optional) scopes, separated by spaces")
        forms: dict[str, list[tuple[str, QWidget]]] = {
            AUTH_NONE: [],
            AUTH_BASIC: [("User name", self.username), ("Password", self.password)],
            AUTH_BEARER: [("Token", self.token)],
            AUTH_API_KEY: [("Name", self.api_key_name), ("Value", self.api_key_value), ("Send in", self.api_key_in)],
            AUTH_OAUTH2: [("Token URL", self.token_url), ("Client id", self.client_id),
                          ("Client secret", self.client_secret), ("Scope", self.scope)],
        }
        self._notes = {
            AUTH_NONE: "No credentials beyond the handshake headers and the cookies below.",
            AUTH_BASIC: "Sent as Authorization: Basic …",
            AUTH_BEARER: "Sent as Authorization: Bearer …",
            AUTH_API_KEY: "A header, or a query parameter added to the URL (encoded).",
            AUTH_OAUTH2: "A token is asked for before connecting and kept until it expires; it is sent as "
                         "Authorization: Bearer ….",
        }
        kind_form.addRow("Kind", self.kind)
        #: the rows of each kind's fields, shown only for that kind (a secret's row is its edit with its toggle)
        self._rows = {kind: [self._row_of(widget) for _, widget in rows] for kind, rows in forms.items()}
        for rows in forms.values():
            for label, widget in rows:
                kind_form.addRow(label, self._row_of(widget))
        self.kind_note = QLabel()
        self.kind_note.setObjectName("authNote")
        self.kind_note.setWordWrap(True)
        self.kind_note.setStyleSheet("color: palette(mid);")
        kind_form.addRow("", self.kind_note)
        self._kind_form = kind_form
        self.kind.currentIndexChanged.connect(self._show_kind)

    def _secret(self, name: str, placeholder: str) -> QLineEdit:
        """A masked line edit with the Show/Hide toggle beside it (the edit is returned; its row is kept)."""
        field = SecretEdit(placeholder)
        field.edit.setObjectName(name)
        self._secret_rows[field.edit] = field
        return field.edit

    def _row_of(self, widget: QWidget) -> QWidget:
        return self._secret_rows.get(widget, widget)

    @Slot(int)
    def _show_kind(self, index: int) -> None:
        """The fields of the kind chosen."""
        chosen = str(self.kind.itemData(index))
        for kind, widgets in self._rows.items():
            for widget in widgets:
                self._kind_form.setRowVisible(widget, kind == chosen)
        self.kind_note.setText(self._notes.get(chosen, ""))

    def _cookies_box(self) -> QGroupBox:
        self.cookies = self._pair_table("Cookie", "Value", masked=_cookie)
        self.cookies.setMaximumHeight(120)
        self.cookies.setObjectName("cookies")
        paste = QPushButton("Paste Cookie header…")
        paste.setObjectName("pasteCookies")
        paste.setToolTip("Paste what a browser's developer tools show as the Cookie request header")
        paste.clicked.connect(self._ask_cookie_header)
        self.cookie_error = QLabel()
        self.cookie_error.setObjectName("cookieError")
        palette.style(self.cookie_error, "color: {error};")
        self.cookie_error.hide()
        cookies_box = QGroupBox("Cookies")
        cookies_layout = QVBoxLayout(cookies_box)
        cookies_layout.addWidget(self.cookies)
        cookie_row = QHBoxLayout()
        cookie_row.addWidget(paste)
        cookie_row.addWidget(self.cookie_error, 1)
        cookies_layout.addLayout(cookie_row)
        return cookies_box

    def _login_box(self) -> QGroupBox:
        """The request made before connecting, and Send now with what it gave."""
        self.login_method = QComboBox()
        self.login_method.setObjectName("loginMethod")
        self.login_method.setEditable(True)
        self.login_method.addItems(_METHODS)
        self.login_url = _line("loginUrl", "(optional) https://example.com/api/login: asked before each connect")
        # a secret-named header's value moves into a secret variable on saving (core/literal_secrets.py)
        self.login_headers = self._pair_table("Header", "Value", masked=is_secret_header)
        self.login_headers.setMaximumHeight(100)
        self.login_body = QPlainTextEdit()
        self.login_body.setObjectName("loginBody")
        self.login_body.setPlaceholderText('{"user": "ann", "password": "{{password}}"}')
        self.login_body.setMaximumHeight(60)
        self.login_captures = self._pair_table("Variable", "JSON path")
        self.login_captures.setMaximumHeight(100)
        self.login_captures.setToolTip("Values of the JSON answer (data.token or $.data.token) stored in variables "
                                       "that the handshake and the fields above can use: {{token}}")
        self.send_now = QPushButton("Send now")
        self.send_now.setObjectName("sendNow")
        self.send_now.setToolTip("Make the request with the settings as they are, and show what it gives")
        self.send_now.clicked.connect(self.on_send_now)
        self.login_result = QPlainTextEdit()
        self.login_result.setObjectName("loginResult")
        self.login_result.setReadOnly(True)
        self.login_result.setPlaceholderText("The answer and the captured values show here")
        self.login_result.setMaximumHeight(110)
        login_box = QGroupBox("Request before connecting (e.g. a login)")
        login_form = QFormLayout(login_box)
        address = QHBoxLayout()
        address.addWidget(self.login_method)
        address.addWidget(self.login_url, 1)
        login_form.addRow("Request", address)
        login_form.addRow("Headers", self.login_headers)
        login_form.addRow("Body", self.login_body)
        login_form.addRow("Capture", self.login_captures)
        login_form.addRow(self.send_now, self.login_result)
        return login_box

    # -- the record ---------------------------------------------------------------------------------

    def set_auth(self, auth: Auth) -> None:
        self.kind.setCurrentIndex(max(0, self.kind.findData(auth.kind)))
        self._show_kind(self.kind.currentIndex())
        for edit, value in ((self.username, auth.username), (self.password, auth.password), (self.token, auth.token),
                            (self.api_key_name, auth.api_key_name), (self.api_key_value, auth.api_key_value),
                            (self.token_url, auth.token_url), (self.client_id, auth.client_id),
                            (self.client_secret, auth.client_secret), (self.scope, auth.scope),
                            (self.login_url, auth.login_url)):
            edit.setText(value)
        self.api_key_in.setCurrentIndex(max(0, self.api_key_in.findData(auth.api_key_in)))
        try:
            cookies = parse_cookie_header(auth.cookies)
        except AuthError:
            cookies = ()
        self.cookies.set_pairs(cookies)  # type: ignore[attr-defined]
        self.login_method.setCurrentText(auth.login_method)
        self.login_headers.set_pairs(auth.login_headers)  # type: ignore[attr-defined]
        self.login_body.setPlainText(auth.login_body)
        self.login_captures.set_pairs(auth.login_captures)  # type: ignore[attr-defined]

    def auth(self) -> Auth:
        cookies = "; ".join(f"{name}={value}" for name, value in self.cookies.pairs())  # type: ignore[attr-defined]
        return Auth(
            kind=str(self.kind.currentData()), username=self.username.text().strip(), password=self.password.text(),
            token=self.token.text().strip(), api_key_name=self.api_key_name.text().strip(),
            api_key_value=self.api_key_value.text(), api_key_in=str(self.api_key_in.currentData()),
            token_url=self.token_url.text().strip(), client_id=self.client_id.text().strip(),
            client_secret=self.client_secret.text(), scope=self.scope.text().strip(), cookies=cookies,
            login_method=self.login_method.currentText().strip().upper() or "POST",
            login_url=self.login_url.text().strip(),
            login_headers=self.login_headers.pairs(),  # type: ignore[attr-defined]
            login_body=self.login_body.toPlainText(),
            login_captures=self.login_captures.pairs(),  # type: ignore[attr-defined]
        )

    def field_widgets(self) -> dict[str, tuple[Callable[[], object], Callable[[object], None]]]:
        """How the dialog reads and shows each field of the record: (read, write) by field name."""

        def read(name: str) -> Callable[[], object]:
            return lambda: getattr(self.auth(), name)

        def write(name: str) -> Callable[[object], None]:
            return lambda value: self.set_auth(replace(self.auth(), **{name: value}))

        return {f.name: (read(f.name), write(f.name)) for f in fields(Auth)}

    # -- cookies ------------------------------------------------------------------------------------

    @Slot()
    def _ask_cookie_header(self) -> None:
        dialog = QInputDialog(self)
        dialog.setObjectName("pasteCookieDialog")
        dialog.setWindowTitle("Paste Cookie header")
        dialog.setLabelText("The Cookie request header, as a browser's developer tools show it:")
        dialog.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        dialog.textValueSelected.connect(self.paste_cookie_header)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    @Slot(str)
    def paste_cookie_header(self, text: str) -> None:
        """Add the cookies of a pasted ``Cookie:`` header; one of the same name is replaced."""
        try:
            pasted = parse_cookie_header(text)
        except AuthError as exc:
            self.cookie_error.setText(str(exc))
            self.cookie_error.show()
            return
        self.cookie_error.hide()
        merged = dict(self.cookies.pairs())  # type: ignore[attr-defined]
        merged.update(pasted)
        self.cookies.set_pairs(tuple(merged.items()))  # type: ignore[attr-defined]

    # -- Send now -----------------------------------------------------------------------------------

    @Slot()
    def on_send_now(self) -> None:
        if self._pre_connect is None:
            self._pre_connect = PreConnect(parent=self)
            self._pre_connect.answered.connect(self._on_answered)
            self._pre_connect.ready.connect(self._on_captured)
            self._pre_connect.failed.connect(self._on_failed)
        profile = self._profile_source()
        try:
            self._pre_connect.start(profile, login_only=True)
        except ProfileError as exc:
            self.login_result.setPlainText(str(exc))
            return
        self.send_now.setEnabled(False)
        self._answer = ""
        self.login_result.setPlainText(f"Sending {profile.auth.login_method} {profile.auth.login_url}…")

    @Slot(object, object)
    def _on_answered(self, request: HttpRequest, response: HttpResponse) -> None:
        lines = [f"{request.method} {request.url}", f"HTTP {response.status} {response.reason}".rstrip()]
        lines += [f"{name}: {value}" for name, value in response.headers]
        lines += ["", printable_bytes(response.body, _BODY_SHOWN)]
        self._answer = "\n".join(lines)
        self.login_result.setPlainText(self._answer)

    @Slot(object, str)
    def _on_captured(self, captured: dict[str, str], _token: str) -> None:
        self.send_now.setEnabled(True)
        text = "\n".join(f"{{{{{name}}}}} = {value}" for name, value in captured.items()) or "Nothing to capture."
        self.login_result.setPlainText(f"Captured:\n{text}\n\n{self._answer}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.send_now.setEnabled(True)
        self.login_result.setPlainText(f"{message}\n\n{self._answer}".rstrip())

    def stop(self) -> None:
        """Abandon a request under way (the dialog closes)."""
        if self._pre_connect is not None:
            self._pre_connect.abort()
            self.send_now.setEnabled(True)
