"""Reading the connections panel's tree as a user sees it."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from wsinspector.ui.connections_model import ConnectionsModel, Kind
from wsinspector.ui.connections_panel import ConnectionsPanel


def rows(panel: ConnectionsPanel, parent: QModelIndex | None = None, depth: int = 0) -> list[str]:
    """Every row the tree shows (open folders' contents included), indented two spaces a level; folders end
    in "/"."""
    model, out = panel.model, []
    parent = parent or QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        folder = model.kind(index) is not Kind.PROFILE
        out.append("  " * depth + str(index.data()) + ("/" if folder else ""))
        if folder and panel.tree.isExpanded(index):
            out += rows(panel, index, depth + 1)
    return out


def names(panel: ConnectionsPanel) -> list[str]:
    """The connections' names in the order of the tree (folders open or not), the Recent group left out."""
    model, out = panel.model, []

    def walk(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if model.kind(index) is Kind.RECENT:
                continue
            if model.kind(index) is Kind.PROFILE:
                out.append(str(index.data()))
            walk(index)

    walk(QModelIndex())
    return out


def current_name(panel: ConnectionsPanel) -> str:
    index = panel.tree.currentIndex()
    return str(index.data()) if index.isValid() else ""


def tooltip(panel: ConnectionsPanel) -> str:
    return str(panel.tree.currentIndex().data(Qt.ItemDataRole.ToolTipRole))


def profile_index(panel: ConnectionsPanel, name: str, in_recent: bool = False) -> QModelIndex:
    """The row of the connection called ``name`` (under Recent or in its folder)."""
    model: ConnectionsModel = panel.model
    matches = model.match(model.index(0, 0), Qt.ItemDataRole.DisplayRole, name, -1,
                          Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
    found = [i for i in matches if model.kind(i) is Kind.PROFILE and model.in_recent(i) == in_recent]
    assert found, f"no connection {name!r} in the tree"
    return found[0]
