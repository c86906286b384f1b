"""The item model of the connections panel: the Recent group, then the folders and connections as a tree.

The model holds no widgets; it is rebuilt from the controller's tree (``core/folders.py``) whenever the
connections, their folders or the search change. Dragging moves connections and folders: the drag carries their
ids and paths, and a drop asks the controller to move them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractItemModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QStyle

from wsinspector.app.connections import ConnectionsController
from wsinspector.core import folders as fo
from wsinspector.core.profiles import ConnectionProfile

MIME_TYPE = "application/x-wsinspector-connections"
RECENT_TITLE = "Recent"

_Index = QModelIndex | QPersistentModelIndex


class Kind(Enum):
    RECENT = "recent"
    FOLDER = "folder"
    PROFILE = "profile"


@dataclass(slots=True, eq=False)
class _Node:
    kind: Kind
    parent: int
    row: int
    #: a folder's path; a connection's folder
    path: str = ""
    profile: ConnectionProfile | None = None
    #: a connection listed under Recent (it is in its folder too)
    in_recent: bool = False
    children: list[int] = field(default_factory=list)


class ConnectionsModel(QAbstractItemModel):
    """One column: the Recent group (while not searching and something was used), the top level's folders by
    name, then its connections in their order; folders nest the same way."""

    KIND_ROLE: ClassVar[int] = Qt.ItemDataRole.UserRole + 1
    ID_ROLE: ClassVar[int] = Qt.ItemDataRole.UserRole + 2
    PATH_ROLE: ClassVar[int] = Qt.ItemDataRole.UserRole + 3

    def __init__(self, controller: ConnectionsController, parent: Any = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._nodes: list[_Node] = [_Node(Kind.FOLDER, -1, 0)]
        self.search_text = ""
        style = QApplication.style()
        self._folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self._recent_icon = style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload)
        self._bold = QFont()
        self._bold.setBold(True)

    # -- contents ---------------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Read the connections, folders and recently used ones again (a reset of the model)."""
        tree = fo.filter_tree(self._controller.tree(), self.search_text)
        recent = [] if self.search_text.strip() else self._controller.recent()
        self.beginResetModel()
        self._nodes = [_Node(Kind.FOLDER, -1, 0)]
        if recent:
            group = self._add(0, _Node(Kind.RECENT, 0, 0))
            for profile in recent:
                self._add(group, _Node(Kind.PROFILE, group, 0, profile.folder, profile, in_recent=True))
        self._add_folder(0, tree)
        self.endResetModel()

    def _add(self, parent: int, node: _Node) -> int:
        siblings = self._nodes[parent].children
        node.row = len(siblings)
        self._nodes.append(node)
        siblings.append(len(self._nodes) - 1)
        return len(self._nodes) - 1

    def _add_folder(self, at: int, folder: fo.FolderNode) -> None:
        for child in folder.folders:
            self._add_folder(self._add(at, _Node(Kind.FOLDER, at, 0, child.path)), child)
        for profile in folder.profiles:
            self._add(at, _Node(Kind.PROFILE, at, 0, folder.path, profile))

    def is_empty(self) -> bool:
        return not self._nodes[0].children

    # -- reading it -----------------------------------------------------------------------------------

    def _node(self, index: _Index) -> _Node:
        return self._nodes[index.internalId()] if index.isValid() else self._nodes[0]

    def _index_of(self, node_id: int) -> QModelIndex:
        if node_id == 0:
            return QModelIndex()
        return self.createIndex(self._nodes[node_id].row, 0, node_id)

    def kind(self, index: _Index) -> Kind:
        return self._node(index).kind

    def profile_at(self, index: _Index) -> ConnectionProfile | None:
        return self._node(index).profile if index.isValid() else None

    def folder_at(self, index: _Index) -> str | None:
        """The path of the folder at ``index`` ("" for the top level, the invalid index); None elsewhere."""
        node = self._node(index)
        return node.path if node.kind is Kind.FOLDER else None

    def container_at(self, index: _Index) -> str:
        """The folder something made at ``index`` goes into: the folder itself, or a connection's folder."""
        node = self._node(index)
        return "" if node.kind is Kind.RECENT else node.path

    def in_recent(self, index: _Index) -> bool:
        return self._node(index).in_recent

    def index_of_profile(self, profile_id: str) -> QModelIndex:
        """The connection in its folder (not under Recent); invalid when it is not shown."""
        node_id = next((i for i, n in enumerate(self._nodes)
                        if n.profile is not None and n.profile.id == profile_id and not n.in_recent), 0)
        return self._index_of(node_id)

    def index_of_folder(self, path: str) -> QModelIndex:
        node_id = next((i for i, n in enumerate(self._nodes) if n.kind is Kind.FOLDER and n.path == path and i), 0)
        return self._index_of(node_id)

    def recent_index(self) -> QModelIndex:
        node_id = next((i for i, n in enumerate(self._nodes) if n.kind is Kind.RECENT), 0)
        return self._index_of(node_id)

    def folder_indexes(self) -> list[QModelIndex]:
        return [self._index_of(i) for i, n in enumerate(self._nodes) if i and n.kind is not Kind.PROFILE]

    def siblings(self, index: _Index) -> list[ConnectionProfile]:
        """The connections of the folder the connection at ``index`` is in, in their order."""
        parent = self._nodes[self._node(index).parent]
        return [p for i in parent.children if (p := self._nodes[i].profile) is not None]

    # -- QAbstractItemModel ---------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        children = self._node(parent).children
        if column != 0 or not 0 <= row < len(children) or (parent.isValid() and parent.column() != 0):
            return QModelIndex()
        return self.createIndex(row, 0, children[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        return self._index_of(self._nodes[index.internalId()].parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._nodes[index.internalId()]
        if role == Qt.ItemDataRole.DisplayRole:
            if node.profile is not None:
                return node.profile.name
            return RECENT_TITLE if node.kind is Kind.RECENT else fo.leaf(node.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(index.internalId())
        if role == Qt.ItemDataRole.DecorationRole:
            return {Kind.FOLDER: self._folder_icon, Kind.RECENT: self._recent_icon}.get(node.kind)
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if node.kind is Kind.RECENT else None
        return {self.KIND_ROLE: node.kind.value, self.PATH_ROLE: node.path,
                self.ID_ROLE: node.profile.id if node.profile is not None else None}.get(role)

    def _tooltip(self, node_id: int) -> str:
        node = self._nodes[node_id]
        if node.profile is not None:
            where = f" — in {fo.display_path(node.path)}" if node.in_recent and node.path else ""
            return node.profile.url + where
        if node.kind is Kind.RECENT:
            return "The connections used last"
        return _count(self._count(node_id))

    def _count(self, node_id: int) -> int:
        node = self._nodes[node_id]
        return sum(1 if self._nodes[i].profile is not None else self._count(i) for i in node.children)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        node = self._nodes[index.internalId()]
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if node.kind is Kind.FOLDER:
            flags |= Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
        elif node.kind is Kind.PROFILE and node.profile is not None and not node.profile.read_only:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    # -- drag and drop ----------------------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        profiles: list[str] = []
        folders: list[str] = []
        for index in indexes:
            node = self._node(index)
            if node.profile is not None and node.profile.id not in profiles:
                profiles.append(node.profile.id)
            elif node.kind is Kind.FOLDER and index.isValid() and node.path not in folders:
                folders.append(node.path)
        data = QMimeData()
        data.setData(MIME_TYPE, json.dumps({"profiles": profiles, "folders": folders}).encode())
        return data

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: _Index) -> bool:
        return self._drop(data, action, row, parent, dry_run=True)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: _Index) -> bool:
        return self._drop(data, action, row, parent, dry_run=False)

    def _drop(self, data: QMimeData, action: Qt.DropAction, row: int, parent: _Index, dry_run: bool) -> bool:
        """Move what ``data`` carries into the folder at ``parent`` (before its child ``row``, or onto a
        connection: before it). Folders cannot go into themselves, nor next to a folder of the same name."""
        if action != Qt.DropAction.MoveAction or not data.hasFormat(MIME_TYPE):
            return False
        try:
            carried = json.loads(bytes(data.data(MIME_TYPE).data()).decode())
            profile_ids = [str(p) for p in carried["profiles"]]
            folders = [str(f) for f in carried["folders"]]
        except (ValueError, KeyError, TypeError):
            return False
        target = self._node(parent)
        if target.in_recent or target.kind is Kind.RECENT:
            return False
        before: str | None = None
        if target.profile is not None:  # onto a connection: just before it
            before, folder = target.profile.id, target.path
        else:
            folder = target.path
            following = [p.id for i in target.children[max(row, 0):] if (p := self._nodes[i].profile)]
            before = following[0] if row >= 0 and following else None
        existing = set(self._controller.folders)
        for path in folders:
            new = fo.join(folder, fo.leaf(path))
            if fo.is_within(folder, path) or (new != path and new in existing):
                return False
        if dry_run:
            return bool(profile_ids or folders)
        for path in folders:
            self._controller.move_folder(path, folder)
        if profile_ids:
            self._controller.move(profile_ids, folder, before)
        return True


def _count(n: int) -> str:
    return f"{n} connection{'s' if n != 1 else ''}"
