"""A connection's opening handshake, in full: the request line and headers we sent, the answer's status line and
headers as tables, the start of a refused answer's body (the server's own reason), and Copy as curl."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wsinspector.core.handshake import Handshake, curl_command, last_handshake
from wsinspector.core.session import Session
from wsinspector.core.words import counted
from wsinspector.ui.qtext import set_plain_text

#: the most lines of a refused answer's body shown without scrolling
_BODY_LINES = 4
_NONE_YET = "No handshake yet: connect, and the request and the server's answer show here."
_NONE_STORED = "This session kept no handshake (it was recorded by an older version, or never sent its request)."


def _table(name: str) -> QTableWidget:
    table = QTableWidget(0, 2)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(["Header", "Value"])
    rows = table.verticalHeader()  # no row numbers; rows of one text-sized height
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + 6)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    # a header row and four rows stay in sight however small the pane is
    table.setMinimumHeight(table.horizontalHeader().sizeHint().height() + 4 * rows.defaultSectionSize() + 4)
    return table


def _fill(table: QTableWidget, headers: Iterable[tuple[str, str]]) -> None:
    rows = list(headers)
    table.setRowCount(len(rows))
    for row, (name, value) in enumerate(rows):
        for column, text in enumerate((name, value)):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(row, column, item)


class HandshakeView(QWidget):
    """The Handshake tab of a connection's page (live: its latest attempt; a stored session: what it kept)."""

    def __init__(self, parent: QWidget | None = None, server_side: bool = False) -> None:
        """``server_side``: a client of our server, whose request came to us and which we answered."""
        super().__init__(parent)
        self.handshake: Handshake | None = None
        self._secret_values: frozenset[str] = frozenset()
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.summary = QLabel(_NONE_YET)
        self.summary.setObjectName("handshakeSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel()
        self.note.setObjectName("handshakeNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text); font-style: italic;")
        self.note.hide()
        self.copy_curl = QPushButton("Copy as curl")
        self.copy_curl.setObjectName("copyCurl")
        self.copy_curl.setToolTip("The request as a curl command; secret header values are left out "
                                  "({{variables}} in their place)")
        self.copy_curl_secrets = QPushButton("Copy as curl with secrets")
        self.copy_curl_secrets.setObjectName("copyCurlWithSecrets")
        self.copy_curl_secrets.setToolTip("The request as a curl command, secret values in plain text: mind "
                                          "where you paste it")
        self.request_line = QLabel()
        self.request_line.setObjectName("handshakeRequestLine")
        self.status_line = QLabel()
        self.status_line.setObjectName("handshakeStatusLine")
        for label in (self.request_line, self.status_line):
            label.setFont(fixed)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.request_table = _table("handshakeRequest")
        self.response_table = _table("handshakeResponse")
        self.body_label = QLabel()
        self.body_label.setObjectName("handshakeBodyLabel")
        self.body = QPlainTextEdit()
        self.body.setObjectName("handshakeBody")
        self.body.setReadOnly(True)
        self.body.setFont(fixed)

        sides = QSplitter(Qt.Orientation.Horizontal)
        titles = ("The client's request", "Our answer") if server_side else ("Request we sent", "Server's answer")
        for title, line, table in ((titles[0], self.request_line, self.request_table),
                                   (titles[1], self.status_line, self.response_table)):
            side = QWidget()
            column = QVBoxLayout(side)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(QLabel(f"<b>{title}</b>"))
            column.addWidget(line)
            column.addWidget(table, 1)
            sides.addWidget(side)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.copy_curl)
        top.addWidget(self.copy_curl_secrets)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(sides, 1)
        layout.addWidget(self.body_label)
        layout.addWidget(self.body)
        self.copy_curl.clicked.connect(lambda: self._copy(with_secrets=False))
        self.copy_curl_secrets.clicked.connect(lambda: self._copy(with_secrets=True))
        self.show_handshake(None)

    # -- what is shown --------------------------------------------------------------------------------

    def show_live(self, handshake: Handshake | None, secret_values: Iterable[str]) -> None:
        """A live connection's latest attempt (its secrets are known: they can be copied when asked for)."""
        self.show_handshake(handshake, secret_values)

    def show_stored(self, session: Session) -> None:
        """What a stored session kept (its secrets were never kept)."""
        self.show_handshake(last_handshake(session.events), stored=True)

    def show_handshake(self, handshake: Handshake | None, secret_values: Iterable[str] = (),
                       stored: bool = False) -> None:
        self.handshake = handshake
        self._secret_values = frozenset(secret_values)
        shown = handshake.without_secrets(self._secret_values) if handshake is not None else None
        self.copy_curl.setEnabled(shown is not None)
        self.copy_curl_secrets.setVisible(not stored)
        self.copy_curl_secrets.setEnabled(shown is not None and not stored)
        if shown is None:
            self.summary.setText(_NONE_STORED if stored else _NONE_YET)
            for widget in (self.request_line, self.status_line):
                widget.clear()
            for table in (self.request_table, self.response_table):
                _fill(table, ())
            self.note.hide()
            self._show_body(None)
            return
        self.request_line.setText(shown.request_line)
        _fill(self.request_table, shown.request_headers)
        self.note.setText(shown.note)
        self.note.setVisible(bool(shown.note))
        if shown.status is None:
            self.status_line.setText("(no answer was read)")
            self.summary.setText(f"{shown.request_line} → the server gave no answer that could be read")
        elif shown.refused:
            self.status_line.setText(shown.status_line)
            self.summary.setText(f"The server refused the upgrade: {shown.status_line}")
        else:
            self.status_line.setText(shown.status_line)
            self.summary.setText(f"{shown.request_line} → {shown.status_line}")
        if shown.response_headers is None and shown.status is not None:
            _fill(self.response_table, (("(not shown)", "this engine does not expose the answer's headers"),))
        else:
            _fill(self.response_table, shown.response_headers or ())
        self._show_body(shown)

    def _show_body(self, shown: Handshake | None) -> None:
        if shown is None or not shown.body:
            self.body_label.hide()
            self.body.hide()
            return
        size = shown.body_size if shown.body_size is not None else len(shown.body)
        more = f"the first {len(shown.body)} of {counted(size, 'byte')}" if size > len(shown.body) else \
            counted(size, "byte")
        self.body_label.setText(f"<b>Body of the answer</b> ({more})")
        text = shown.body.decode("utf-8", "backslashreplace")
        set_plain_text(self.body, text)
        lines = min(_BODY_LINES, text.count("\n") + 1)  # a reason is often a line or two
        margins = 2 * (self.body.frameWidth() + int(self.body.document().documentMargin())) + 6
        self.body.setFixedHeight(self.body.fontMetrics().lineSpacing() * lines + margins)
        self.body_label.show()
        self.body.show()

    # -- copying --------------------------------------------------------------------------------------

    def curl(self, with_secrets: bool = False) -> str:
        """The curl command Copy as curl puts on the clipboard ("" with no handshake)."""
        if self.handshake is None:
            return ""
        return curl_command(self.handshake, secret_values=self._secret_values, with_secrets=with_secrets)

    @Slot()
    def _copy(self, with_secrets: bool) -> None:
        command = self.curl(with_secrets)
        if command:
            QGuiApplication.clipboard().setText(command)
