"""The detail pane's Decoded tab: the selected message as its connection's decoder reads it (a tree), or one line
saying why it does not decode; and the JSON trees the pane's tabs share."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from wsinspector.core.decoders.base import Decoded

JSON_NODE_LIMIT = 5000


def fill_json_tree(tree: QTreeWidget, value: Any, limit: int = JSON_NODE_LIMIT) -> None:
    """``value`` (plain JSON) as the rows of ``tree``, at most ``limit`` of them; the first level open."""
    tree.clear()
    budget = [limit]
    root = tree.invisibleRootItem()
    _add_json(root, "(root)", value, budget)
    if budget[0] <= 0:
        QTreeWidgetItem(root, ["…", f"more than {limit:,} nodes; see Text", ""])
    tree.expandToDepth(1)
    tree.resizeColumnToContents(0)


def _add_json(parent: QTreeWidgetItem, key: str, value: Any, budget: list[int]) -> None:
    if budget[0] <= 0:
        return
    budget[0] -= 1
    if isinstance(value, dict):
        item = QTreeWidgetItem(parent, [key, f"{{{len(value)}}}", "object"])
        for k, v in value.items():
            _add_json(item, str(k), v, budget)
    elif isinstance(value, list):
        item = QTreeWidgetItem(parent, [key, f"[{len(value)}]", "array"])
        for i, v in enumerate(value):
            _add_json(item, str(i), v, budget)
    else:
        kind = {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "null")
        shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        QTreeWidgetItem(parent, [key, shown, kind])


def json_tree() -> QTreeWidget:
    tree = QTreeWidget()
    tree.setHeaderLabels(["Key", "Value", "Type"])
    tree.setUniformRowHeights(True)
    return tree


class DecodedTab(QWidget):
    """The decoded message: its protocol and one-line summary above the tree of what it holds; for a message
    that does not decode, the one line saying why and no tree."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setObjectName("detailDecodedSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setTextInteractionFlags(self.summary.textInteractionFlags().TextSelectableByMouse)
        self.tree = json_tree()
        self.tree.setObjectName("detailDecoded")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)

    def show_decoded(self, decoded: Decoded | None, why_not: str = "") -> None:
        """``decoded``, or (None) ``why_not``: why there is nothing decoded to show."""
        if decoded is None:
            self.summary.setText(why_not)
            self.tree.clear()
            self.tree.hide()
            return
        if decoded.error:
            who = "" if decoded.protocol == "none" else f"Not {decoded.protocol}: "
            self.summary.setText(who + decoded.error)
            self.tree.clear()
            self.tree.hide()
            return
        self.summary.setText(f"{decoded.protocol} · {decoded.summary}")
        fill_json_tree(self.tree, decoded.tree)
        self.tree.show()

    def clear(self) -> None:
        self.summary.clear()
        self.tree.clear()
