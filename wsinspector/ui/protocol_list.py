"""The tab's Protocol list (beside Frame and Handshake): every verb done in the connection's protocol mode with its
reference, its state (waiting, acknowledged with the answer's reply, receiving subscription data, complete, or an
error) and the time the answer took; the data a subscription brought is listed under it, and so is an MQTT
echo (a PUBLISH received on a topic we published to, with the payload we published: the first publish not yet
echoed). What the server sent that answers nothing we did (an event, a broadcast, a connection refused) is a
row of its own; the mode's last problem is one line above the list."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from wsinspector.core.decoders.mqtt_packets import payload_view
from wsinspector.core.protocols.base import ProtocolEvent, brief
from wsinspector.ui import palette
from wsinspector.ui.inline_message import ElidedLabel

WHEN, WHAT, REF, STATE, TOOK, REPLY = range(6)
COLUMNS = ("When", "What", "Ref", "State", "Took", "Reply / data")
#: the rows kept (the oldest go first), and the data rows kept under one verb
MAX_ROWS = 2000
MAX_DATA = 200
#: where an event carries the reference of what it answers, by protocol
_REF_KEYS = ("id", "ref", "receipt", "subscription")
#: where an answer carries its reply
_REPLY_KEYS = ("args", "result", "response", "payload", "item", "body", "codes")


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]


def reply_of(event: ProtocolEvent) -> str:
    """What an answer said, in one short line."""
    for key in _REPLY_KEYS:
        if key in event.data and event.data[key] is not None:
            return brief(event.data[key], 120)
    return event.text


class ProtocolList(QWidget):
    """The rows; ``add_invoked`` when a verb was done, ``add_event`` with each event of the mode."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("protocolList")
        self.problem = ElidedLabel()
        self.problem.setObjectName("protocolProblem")
        palette.style(self.problem, "color: {error};")
        self.tree = QTreeWidget()
        self.tree.setObjectName("protocolRows")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for column in (WHEN, REF, STATE, TOOK):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(WHAT, 220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.problem)
        layout.addWidget(self.tree, 1)
        #: the verbs waiting for an answer or receiving data, by reference: (row, when it was done)
        self._pending: dict[str, tuple[QTreeWidgetItem, float]] = {}
        #: the publishes not yet echoed, oldest first: (topic, the payload as a PUBLISH received shows it, row, when)
        self._published: list[tuple[str, Any, QTreeWidgetItem, float]] = []

    def clear(self) -> None:
        self.tree.clear()
        self._pending.clear()
        self._published.clear()
        self.problem.clear()

    def begin(self, title: str) -> None:
        """A new protocol session: a row says so, and what waited in the last one waits no more."""
        for item, _ in self._pending.values():
            item.setText(STATE, "unanswered")
        self._pending.clear()
        self._published.clear()
        self.problem.clear()
        self._add(QTreeWidgetItem([_clock(), f"speaking {title}", "", "started", "", ""]))

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)

    def add_invoked(self, verb: str, fields: dict[str, Any], ref: str) -> QTreeWidgetItem:
        # the fields as typed; a box that is ticked by its name ("emit chat [1] ack /")
        what = " ".join([verb, *(name if value is True else value if isinstance(value, str) else brief(value, 40)
                                 for name, value in fields.items() if value not in ("", None, False))])
        item = self._add(QTreeWidgetItem([_clock(), what, ref, "waiting" if ref else "sent", "", ""]))
        if ref:
            self._pending[ref] = (item, time.monotonic())
        if verb == "publish" and isinstance(fields.get("topic"), str):
            payload = fields.get("payload") or ""
            raw = payload.encode("utf-8") if isinstance(payload, str) else b""
            self._published.append((fields["topic"], payload_view(raw), item, time.monotonic()))
        return item

    def add_event(self, event: ProtocolEvent) -> None:
        if event.kind == "data" and self._echo(event):
            return
        found = self._matching(event)
        if found is None or event.kind not in ("ack", "data", "error", "complete"):
            self._add(QTreeWidgetItem([_clock(), f"{event.kind}: {event.text}", self._ref_in(event), event.kind,
                                       "", reply_of(event) if event.kind in ("data", "event") else ""]))
            return
        ref, (item, started) = found
        took = f"{(time.monotonic() - started) * 1000:.0f} ms"
        if event.kind == "data":
            count = item.childCount() + 1
            if count <= MAX_DATA:
                item.addChild(QTreeWidgetItem([_clock(), event.text, ref, "data", took, reply_of(event)]))
            item.setText(STATE, f"receiving ({count})")
            item.setText(REPLY, reply_of(event))
            if not item.text(TOOK):
                item.setText(TOOK, took)
            return
        del self._pending[ref]
        if event.kind == "complete":
            item.setText(STATE, f"complete ({item.childCount()})" if item.childCount() else "complete")
            return
        item.setText(STATE, "acknowledged" if event.kind == "ack" else "error")
        item.setText(TOOK, took)
        if not (event.data.get("codes") == [] and item.text(REPLY)):  # a bare PUBACK keeps the echo shown
            item.setText(REPLY, reply_of(event) if event.kind == "ack" else event.text)
        if event.kind == "error":
            for column in range(len(COLUMNS)):
                item.setForeground(column, QColor(palette.colour("error")))

    def _echo(self, event: ProtocolEvent) -> bool:
        """Whether ``event`` is the echo of a publish of ours (then shown under it)."""
        topic, payload = event.data.get("topic"), event.data.get("payload")
        index = next((i for i, held in enumerate(self._published) if held[:2] == (topic, payload)), None)
        if index is None:
            return False
        _, _, item, started = self._published.pop(index)
        took = f"{(time.monotonic() - started) * 1000:.0f} ms"
        # (no Ref: its packet id is the broker's count, not one of ours)
        item.addChild(QTreeWidgetItem([_clock(), event.text, "", "echo", took, reply_of(event)]))
        if item.text(STATE) == "sent":
            item.setText(STATE, "echoed")
            item.setText(TOOK, took)
        if item.text(REPLY) in ("", "[]"):  # nothing, or a bare PUBACK's empty codes
            item.setText(REPLY, reply_of(event))
        item.setExpanded(True)
        return True

    def rows(self) -> list[tuple[str, ...]]:
        """Each top-level row's columns after When (for a reader of the list, and the tests)."""
        return [tuple(self.tree.topLevelItem(i).text(c) for c in range(WHAT, len(COLUMNS)))
                for i in range(self.tree.topLevelItemCount())]

    def _ref_in(self, event: ProtocolEvent) -> str:
        for key in _REF_KEYS:
            value = event.data.get(key)
            if value not in (None, ""):
                return str(value)
        return ""

    def _matching(self, event: ProtocolEvent) -> tuple[str, tuple[QTreeWidgetItem, float]] | None:
        if event.kind == "data" and "topic" in event.data:
            return None  # an MQTT PUBLISH's packet id is the broker's count, not one of ours
        for key in _REF_KEYS:
            value = event.data.get(key)
            if value not in (None, "") and str(value) in self._pending:
                return str(value), self._pending[str(value)]
        return None

    def _add(self, item: QTreeWidgetItem) -> QTreeWidgetItem:
        tree = self.tree
        at_end = tree.verticalScrollBar().value() >= tree.verticalScrollBar().maximum() - 2
        tree.addTopLevelItem(item)
        while tree.topLevelItemCount() > MAX_ROWS:
            old = tree.takeTopLevelItem(0)
            self._pending = {ref: held for ref, held in self._pending.items() if held[0] is not old}
            self._published = [held for held in self._published if held[2] is not old]
        if at_end:
            tree.scrollToItem(item)
        return item
