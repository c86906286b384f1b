"""The Server page's list of servers and their clients (a tree: each server, its clients under it), what a client
told us in its handshake (address, path, origin, subprotocol, extensions, its request's headers), and what the
page and its Proxy tab share: a timeline's compact columns, the question before listening beyond this machine."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QMessageBox, QTreeWidget, QTreeWidgetItem, QWidget

from wsinspector.app.server import ClientSession, ServerController
from wsinspector.core.words import counted
from wsinspector.ui.timeline import COL_DIR, COL_FIN, COL_OPCODE, COL_SEQ, COL_SIZE, COL_TIME, TimelineView

_ID = Qt.ItemDataRole.UserRole
#: addresses only this machine reaches: listening there asks nothing
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def confirm_exposed(parent: QWidget, host: str) -> bool:
    """Listening beyond this machine (a server or the proxy) only when the user says so."""
    answer = QMessageBox.warning(
        parent, "Listen beyond this machine?",
        f"Listening on {host} lets other machines connect (and see what is sent to them). Listen there?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def client_label(session: ClientSession) -> str:
    """A client's row: its address, the path it asked for and where it is."""
    client = session.client
    path = client.request.path if client.request is not None else ""
    state = "ended" if session.done else client.state.name.lower()
    return f"{session.peer} {path} — {state}"


def client_summary(session: ClientSession, subprotocol: str = "", extensions: str = "") -> str:
    """What the client asked for and what was agreed, as lines for the page's Client tab."""
    client = session.client
    request = client.request
    lines = [f"Address: {session.peer}"]
    if request is None:
        lines.append("The client has not sent its upgrade request yet.")
        return "\n".join(lines)
    lines += [f"Path: {request.path}",
              f"Origin: {request.origin or '(none sent)'}",
              f"Subprotocols offered: {', '.join(request.subprotocols) or '(none)'}",
              f"Subprotocol agreed: {subprotocol or '(none)'}",
              f"Extensions offered: {request.extensions or '(none)'}",
              f"Extensions agreed: {extensions or '(none)'}",
              "", "Request headers:"]
    lines += [f"  {name}: {value}" for name, value in request.headers]
    return "\n".join(lines)


def compact_columns(view: TimelineView, dir_width: int = 70) -> None:
    """Narrower fixed columns for a timeline beside other panes, so its preview stays in sight."""
    header = view.horizontalHeader()
    char = view.fontMetrics().horizontalAdvance("0")
    for col, chars in ((COL_SEQ, 5), (COL_TIME, 10), (COL_OPCODE, 7), (COL_FIN, 4), (COL_SIZE, 8)):
        header.resizeSection(col, char * chars + 12)
    header.resizeSection(COL_DIR, dir_width)


class ServersTree(QTreeWidget):
    """Servers at the top level (their URL and how many clients are connected), their clients under them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverClients")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._servers: dict[int, tuple[ServerController, QTreeWidgetItem]] = {}
        self._clients: dict[int, tuple[ClientSession, QTreeWidgetItem]] = {}
        #: each server's URL as it was while listening (a stopped one's port reads 0)
        self._urls: dict[int, str] = {}

    def url_of(self, controller: ServerController) -> str:
        return self._urls.get(id(controller), controller.url)

    def add_server(self, controller: ServerController) -> QTreeWidgetItem:
        self._urls[id(controller)] = controller.url
        item = QTreeWidgetItem([controller.url])
        item.setData(0, _ID, ("server", id(controller)))
        self._servers[id(controller)] = (controller, item)
        self.addTopLevelItem(item)
        item.setExpanded(True)
        self.relabel_server(controller)
        return item

    def relabel_server(self, controller: ServerController) -> None:
        found = self._servers.get(id(controller))
        if found is None:
            return
        item = found[1]
        listening = controller.server.is_listening
        live = len(controller.live)
        state = f"{counted(live, 'client')} connected" if listening else f"stopped, {controller.served} served"
        item.setText(0, f"{self.url_of(controller)} — {state}")
        item.setToolTip(0, f"{controller.name}\n{state}")

    def add_client(self, controller: ServerController, session: ClientSession) -> QTreeWidgetItem:
        parent = self._servers[id(controller)][1]
        item = QTreeWidgetItem([client_label(session)])
        item.setData(0, _ID, ("client", id(session)))
        self._clients[id(session)] = (session, item)
        parent.addChild(item)
        parent.setExpanded(True)
        self.relabel_server(controller)
        return item

    def relabel_client(self, session: ClientSession, tip: str | None = None) -> None:
        found = self._clients.get(id(session))
        if found is None:
            return
        found[1].setText(0, client_label(session))
        if tip is not None:
            found[1].setToolTip(0, tip)

    def session_of(self, item: QTreeWidgetItem | None) -> ClientSession | None:
        kind, key = self._key(item)
        return self._clients[key][0] if kind == "client" and key in self._clients else None

    def server_of(self, item: QTreeWidgetItem | None) -> ServerController | None:
        """The server of a row: itself, or the one a client row is under."""
        kind, key = self._key(item)
        if kind == "client" and item is not None:
            kind, key = self._key(item.parent())
        return self._servers[key][0] if kind == "server" and key in self._servers else None

    @staticmethod
    def _key(item: QTreeWidgetItem | None) -> tuple[str, int]:
        data = item.data(0, _ID) if item is not None else None
        return data if isinstance(data, tuple) else ("", 0)
