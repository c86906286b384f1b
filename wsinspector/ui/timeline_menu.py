"""The actions on the timeline's rows: copy (text, pretty JSON, hex, base64, JSON Lines), resend, edit and
resend, narrow the filter to a row's direction or opcode, show the detail. Each has its shortcut (shown in
the context menu) and acts on the selected rows.

The menu is built from groups of actions each time it opens, so another action joins it with
:meth:`TimelineMenu.add_action` (its ``triggered`` handler reads :meth:`TimelineMenu.current_item` or
:meth:`TimelineMenu.selected_items`; :attr:`TimelineMenu.about_to_show` lets it enable itself).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from wsinspector.app.connection import ConnectionController
from wsinspector.core import copying
from wsinspector.core.copying import CopyError, Item
from wsinspector.core.frames import Opcode
from wsinspector.core.payloads import decode_text
from wsinspector.ui.timeline import TimelineModel, TimelineView

#: the groups of the menu, in order
GROUPS = ("copy", "send", "filter", "view")
#: the filter bar's opcode choice for each opcode
OPCODE_CHOICES = {Opcode.TEXT: "Text", Opcode.BINARY: "Binary", Opcode.CONTINUATION: "Continuation",
                  Opcode.CLOSE: "Close", Opcode.PING: "Ping", Opcode.PONG: "Pong"}
#: rows copied at most at once (a selection of a million rows is not put on the clipboard)
COPY_LIMIT = 100_000


class TimelineMenu(QObject):
    """Signals:
    resend_requested(object): send these Items again, in order, on the tab's connection
    edit_requested(str, str): load the composer with (kind, payload): kind is text, json, hex
    filter_direction_requested(object): show only this Direction
    filter_opcode_requested(str): show only this opcode (the filter bar's choice)
    detail_requested(): show the current row's detail
    status(str): what happened, for the status bar
    about_to_show(): the menu is about to open (another action may enable itself)
    """

    resend_requested = Signal(object)
    edit_requested = Signal(str, object)  # object: a str signal argument loses a leading U+FEFF
    filter_direction_requested = Signal(object)
    filter_opcode_requested = Signal(str)
    detail_requested = Signal()
    status = Signal(str)
    about_to_show = Signal()

    def __init__(self, view: TimelineView, model: TimelineModel, can_send: Callable[[], bool],
                 can_edit: Callable[[], bool]) -> None:
        super().__init__(view)
        self._view, self._model = view, model
        self._can_send, self._can_edit = can_send, can_edit
        self._groups: dict[str, list[QAction]] = {group: [] for group in GROUPS}
        add = self._add
        self.copy = add("copy", "Copy", QKeySequence.StandardKey.Copy, self.copy_default,
                        "The payload as text; several rows as JSON Lines")
        self.copy_json = add("copy", "Copy as pretty JSON", "Ctrl+Shift+J", self.copy_pretty_json,
                             "Offered when the payload is JSON")
        self.copy_hex = add("copy", "Copy as hex", "Ctrl+Shift+H", lambda: self._copy_one(copying.as_hex, "hex"))
        self.copy_base64 = add("copy", "Copy as base64", "Ctrl+Shift+B",
                               lambda: self._copy_one(copying.as_base64, "base64"))
        self.copy_lines = add("copy", "Copy as JSON Lines", "Ctrl+Shift+C", self.copy_json_lines,
                              "One JSON object a line: direction, opcode, times, length, text or base64")
        self.resend = add("send", "Resend", "Ctrl+R", self.resend_selected,
                          "Send the same payload again on this tab's connection (needs it open)")
        self.edit = add("send", "Edit and resend…", "Ctrl+E", self.edit_current, "Load the payload in the composer")
        self.only_direction = add("filter", "Show only this direction", "", self.filter_direction)
        self.only_opcode = add("filter", "Show only this opcode", "", self.filter_opcode)
        self.show_detail = add("view", "Show details", "Return", self.detail_requested.emit)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self.popup)
        view.doubleClicked.connect(lambda _index: self.detail_requested.emit())
        self.menu: QMenu | None = None

    def _add(self, group: str, text: str, keys: QKeySequence.StandardKey | str, handler: Callable[[], object],
             tip: str = "") -> QAction:
        action = QAction(text, self._view)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setShortcutVisibleInContextMenu(True)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: handler())
        self._view.addAction(action)
        self._groups[group].append(action)
        return action

    def add_action(self, action: QAction, group: str = "send") -> None:
        """Put another action in the menu's ``group`` (copy, send, filter, view); its shortcut works in the
        timeline."""
        if action.shortcut():
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setShortcutVisibleInContextMenu(True)
            self._view.addAction(action)
        self._groups[group].append(action)

    # -- the rows ---------------------------------------------------------------------------------------

    def selected_items(self) -> list[Item]:
        source = self._model.source
        if source is None:
            return []
        whole = self._model.shows_messages
        return [copying.item_at(source, seq, whole) for seq in self._view.selected_seqs()[:COPY_LIMIT]]

    def current_item(self, whole_message: bool | None = None) -> Item | None:
        """The item of the current row (the one the detail pane shows), when it is selected."""
        source = self._model.source
        index = self._view.currentIndex()
        if source is None or not index.isValid() or not self._view.selectionModel().isRowSelected(index.row()):
            return None
        whole = self._model.shows_messages if whole_message is None else whole_message
        return copying.item_at(source, self._model.seq_at(index.row()), whole)

    def _selected_count(self) -> int:
        return len(self._view.selectionModel().selectedRows())

    def update_actions(self) -> None:
        """Enable what makes sense for the selection (the shortcuts check again when used)."""
        count = self._selected_count()
        current = self.current_item() if count == 1 else None
        for action in (self.copy_hex, self.copy_base64, self.only_direction, self.only_opcode, self.show_detail):
            action.setEnabled(current is not None)
        self.copy.setEnabled(count > 0)
        self.copy.setText("Copy as JSON Lines" if count > 1 else "Copy as text")
        self.copy_lines.setEnabled(count > 0)
        self.copy_json.setEnabled(current is not None and copying.is_json(current))
        self.copy_json.setToolTip("" if current is None or self.copy_json.isEnabled()
                                  else "This payload is not JSON")
        items = self.selected_items() if count else []
        self.resend.setEnabled(self._can_send() and bool(items) and all(item.sendable for item in items))
        whole = self.current_item(whole_message=True) if count == 1 else None
        self.edit.setEnabled(self._can_edit() and whole is not None
                             and whole.opcode in (Opcode.TEXT, Opcode.BINARY))
        if current is not None:
            self.only_direction.setText(f"Show only {current.direction.arrow}")
            self.only_opcode.setText(f"Show only {OPCODE_CHOICES.get(current.opcode, current.opcode.label)}")
        self.about_to_show.emit()

    @Slot(QPoint)
    def popup(self, pos: QPoint) -> None:
        self.update_actions()
        menu = QMenu(self._view)
        menu.setObjectName("timelineMenu")
        menu.setToolTipsVisible(True)
        for group in GROUPS:
            if self._groups[group]:
                if menu.actions():
                    menu.addSeparator()
                menu.addActions(self._groups[group])
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # the shortcuts work whatever the menu showed: each action checks its rows when used, and says why not
        menu.aboutToHide.connect(self._enable_all)
        self.menu = menu
        menu.popup(self._view.viewport().mapToGlobal(pos))

    def _enable_all(self) -> None:
        for actions in self._groups.values():
            for action in actions:
                action.setEnabled(True)

    # -- the actions -------------------------------------------------------------------------------------

    def _put(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.status.emit(f"Copied {what}")

    def _copy_one(self, encode: Callable[[Item], str], what: str) -> None:
        if self._selected_count() > 1:
            self.status.emit("Select one row to copy its payload (Copy as JSON Lines takes several)")
            return
        item = self.current_item()
        if item is None:
            self.status.emit("Select a row first")
            return
        try:
            text = encode(item)
        except CopyError as exc:
            self.status.emit(str(exc))
            return
        self._put(text, f"#{item.seq} as {what} ({len(item.payload):,} bytes)")

    @Slot()
    def copy_default(self) -> None:
        if self._selected_count() > 1:
            self.copy_json_lines()
        else:
            self._copy_one(copying.as_text, "text")

    @Slot()
    def copy_pretty_json(self) -> None:
        self._copy_one(copying.as_json, "JSON")

    @Slot()
    def copy_json_lines(self) -> None:
        source = self._model.source
        items = self.selected_items()
        if source is None or not items:
            self.status.emit("Select rows first")
            return
        self._put(copying.json_lines(source, items),
                  f"{len(items):,} row{'s' if len(items) != 1 else ''} as JSON Lines")

    @Slot()
    def resend_selected(self) -> None:
        if not self._can_send():
            self.status.emit("Not connected: Resend sends on this tab's open connection")
            return
        items = self.selected_items()
        if not items:
            self.status.emit("Select a row first")
            return
        if not all(item.sendable for item in items):
            self.status.emit("Only data messages, pings and pongs can be sent again")
            return
        self.resend_requested.emit(items)

    @Slot()
    def edit_current(self) -> None:
        if not self._can_edit():
            self.status.emit("This tab has no composer: a stored session is read-only")
            return
        item = self.current_item(whole_message=True)
        if item is None or item.opcode not in (Opcode.TEXT, Opcode.BINARY):
            self.status.emit("Select one data message to edit it")
            return
        text, clean = decode_text(item.payload)
        if item.is_text and clean:
            self.edit_requested.emit("json" if copying.is_json(item) else "text", text)
        else:
            self.edit_requested.emit("hex", copying.as_hex(item))

    @Slot()
    def filter_direction(self) -> None:
        item = self.current_item()
        if item is not None:
            self.filter_direction_requested.emit(item.direction)

    @Slot()
    def filter_opcode(self) -> None:
        item = self.current_item()
        if item is not None:
            self.filter_opcode_requested.emit(OPCODE_CHOICES.get(item.opcode, "All opcodes"))



def send_again(controller: ConnectionController, items: list[Item]) -> None:
    """Send each item's payload again, as it was sent (text or binary message, ping, pong); what the
    connection refuses comes back through its ``refused`` signal."""
    for item in items:
        if item.opcode is Opcode.PING:
            controller.request_ping(item.payload)
        elif item.opcode is Opcode.PONG:
            controller.request_pong(item.payload)
        else:
            controller.request_send(item.payload, item.is_text)
