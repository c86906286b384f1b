"""Organising saved connections in the window: folders through the dialogs, the search box, the Recent group,
drag and drop, Move to folder, the keyboard, the context menu, and a list of 500 connections."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QInputDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QWidget,
)

from tests.ui.helpers import (
    WAIT_MS,
    ModalHandler,
    click,
    close_connection,
    focus,
    replace_text,
    show_window,
    tool_button,
)
from tests.ui.helpers_connections import current_name, names, profile_index, rows
from wsinspector.app.context import AppContext
from wsinspector.core import folders as fo
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.store import Store
from wsinspector.ui.connections_model import ConnectionsModel
from wsinspector.ui.connections_panel import ConnectionsPanel
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.profile_dialog import ProfileDialog


def _add(context: AppContext, name: str, folder: str = "", url: str = "ws://127.0.0.1:9/") -> ConnectionProfile:
    return context.connections.save(ConnectionProfile(name=name, endpoint=Endpoint(url), folder=folder))


def _stored(context: AppContext) -> dict[str, str]:
    """Each saved connection's folder, as a fresh Store on the same file reads it."""
    store = Store(context.db_path)
    try:
        return {p.name: p.folder for p in store.profiles()}
    finally:
        store.close()


def _type_and_ok(qtbot: Any, text: str, seen: dict[str, str] | None = None) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        if seen is not None:
            seen["label"] = dialog.labelText()
            seen["text"] = dialog.textValue()
        replace_text(qtbot, dialog.findChild(QLineEdit), text)
        click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))

    return answer


def _organised(context: AppContext) -> None:
    _add(context, "Chat production", "Acme/Production", "wss://chat.example.com/ws")
    _add(context, "Chat staging", "Acme/Staging", "wss://staging.example.com/ws")
    _add(context, "Orders", "Acme/Production", "wss://orders.example.com/live")
    _add(context, "Quotes", "Markets", "wss://quotes.example.org/v2")
    context.connections.create_folder("", "Archive")


TREE = [
    "Acme/", "  Production/", "    Chat production", "    Orders", "  Staging/", "    Chat staging",
    "Archive/", "Markets/", "  Quotes", "Local echo",
]


def test_folders_and_recent_in_the_tree_pass_the_model_tester(
        qtbot: Any, qtmodeltester: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    assert rows(panel) == TREE
    for name, wall in (("Quotes", 1.0), ("Chat staging", 2.0)):
        context.connections.mark_used(panel.model.profile_at(profile_index(panel, name)).id, wall)  # type: ignore[union-attr]
    assert rows(panel) == ["Recent/", "  Chat staging", "  Quotes", *TREE]
    recent = profile_index(panel, "Chat staging", in_recent=True)
    assert recent.data(Qt.ItemDataRole.ToolTipRole) == "wss://staging.example.com/ws — in Acme › Staging"
    assert panel.model.index_of_folder("Acme").data(Qt.ItemDataRole.ToolTipRole) == "3 connections"
    qtmodeltester.check(panel.model)
    # picking a connection under Recent shows it like picking it in its folder
    panel.tree.setCurrentIndex(recent)
    assert window.inspector.url.text() == "wss://staging.example.com/ws"
    # a folder the user closed stays closed when the tree is rebuilt
    panel.tree.collapse(panel.model.index_of_folder("Acme"))
    _add(context, "Feed", "Markets")
    assert rows(panel)[3:6] == ["Acme/", "Archive/", "Markets/"]


def test_new_folder_new_connection_in_it_rename_and_delete_keeping_the_connections(
        qtbot: Any, window: MainWindow, context: AppContext) -> None:
    panel = window.connections
    seen: dict[str, str] = {}
    handler = ModalHandler(qtbot, _type_and_ok(qtbot, "Team", seen))
    click(qtbot, tool_button(panel, panel.new_folder_action))
    handler.wait()
    assert handler.dialog_title == "New folder"
    assert rows(panel) == ["Team/", "Local echo"]
    assert current_name(panel) == "Team"

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        replace_text(qtbot, dialog.name, "Feed")
        replace_text(qtbot, dialog.url, "ws://127.0.0.1:9/feed")
        click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save))

    handler = ModalHandler(qtbot, fill)  # a new connection goes into the current folder
    click(qtbot, tool_button(panel, panel.new_action))
    handler.wait()
    assert rows(panel) == ["Team/", "  Feed", "Local echo"]
    assert current_name(panel) == "Feed"

    panel.select_folder("Team")
    handler = ModalHandler(qtbot, _type_and_ok(qtbot, "Sub"))
    panel.new_folder_action.trigger()
    handler.wait()
    panel.select_folder("Team")
    handler = ModalHandler(qtbot, _type_and_ok(qtbot, "Acme", seen))
    panel.rename_action.trigger()
    handler.wait()
    assert (handler.dialog_title, seen["text"]) == ("Rename folder", "Team")
    assert rows(panel) == ["Acme/", "  Sub/", "  Feed", "Local echo"]
    assert _stored(context)["Feed"] == "Acme"

    # a name that cannot be: the user is told why, nothing changes
    panel.select_folder("Acme/Sub")
    handler = ModalHandler(qtbot, _type_and_ok(qtbot, "a/b"))
    panel.rename_action.trigger()
    handler.wait()
    warning = ModalHandler(qtbot, lambda box: (seen.update(warning=box.text()), box.accept()))
    warning.wait()
    assert seen["warning"] == "A folder name cannot contain “/”: 'a/b'"
    assert rows(panel) == ["Acme/", "  Sub/", "  Feed", "Local echo"]

    def keep(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen["question"] = box.text()
        click(qtbot, next(b for b in box.buttons() if b.text() == "Keep them"))

    panel.select_folder("Acme")
    handler = ModalHandler(qtbot, keep)
    click(qtbot, tool_button(panel, panel.delete_action))
    handler.wait()
    assert seen["question"] == ("The folder “Acme” holds 1 connection. Delete them with it, or keep them (they "
                                "move up to the top level)?")
    assert rows(panel) == ["Sub/", "Local echo", "Feed"]
    assert _stored(context) == {"Local echo": "", "Feed": ""}


def test_the_settings_button_edits_the_connection_shown_while_a_folder_is_current(
        qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    panel.select(panel.model.profile_at(profile_index(panel, "Quotes")).id)  # type: ignore[union-attr]
    panel.select_folder("Archive")
    assert window.inspector.profile_name.text() == "<b>Quotes</b>"  # a folder leaves the connection shown
    assert not panel.edit_action.isEnabled()
    seen: dict[str, str] = {}

    def look(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        seen["url"] = dialog.url.text()
        dialog.reject()

    handler = ModalHandler(qtbot, look)
    click(qtbot, window.inspector.edit_button)
    handler.wait()
    assert seen["url"] == "wss://quotes.example.org/v2"


def test_deleting_a_folder_with_its_connections(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    panel.select_folder("Acme")

    def delete_all(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        click(qtbot, next(b for b in box.buttons() if b.text() == "Delete 3 connections"))

    handler = ModalHandler(qtbot, delete_all)
    panel.delete_action.trigger()
    handler.wait()
    assert rows(panel) == ["Archive/", "Markets/", "  Quotes", "Local echo"]
    assert _stored(context) == {"Local echo": "", "Quotes": "Markets"}
    # an empty folder goes without a question
    panel.select_folder("Archive")
    panel.delete_action.trigger()
    assert rows(panel) == ["Markets/", "  Quotes", "Local echo"]


def test_search_filters_as_you_type_keeps_the_folders_above_and_escape_clears(
        qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    focus(qtbot, panel.search)
    qtbot.keyClicks(panel.search, "CHAT")
    assert rows(panel) == ["Acme/", "  Production/", "    Chat production", "  Staging/", "    Chat staging"]
    assert panel.no_match.isHidden()
    replace_text(qtbot, panel.search, "example.org")  # the URL
    assert rows(panel) == ["Markets/", "  Quotes"]
    replace_text(qtbot, panel.search, "nowhere to be found")
    assert rows(panel) == []
    assert panel.no_match.isVisible()
    assert panel.no_match.text() == "No connection or folder matches “nowhere to be found”."
    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)
    assert panel.search.text() == ""
    assert rows(panel) == TREE
    assert panel.no_match.isHidden()


def _drop(model: ConnectionsModel, indexes: list[QModelIndex], row: int, parent: QModelIndex) -> bool:
    data = model.mimeData(indexes)
    if not model.canDropMimeData(data, Qt.DropAction.MoveAction, row, 0, parent):
        return False
    return model.dropMimeData(data, Qt.DropAction.MoveAction, row, 0, parent)


def test_drag_and_drop_moves_connections_and_folders_and_reorders(
        qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    model = panel.model
    # a connection onto a folder: at its end
    assert _drop(model, [profile_index(panel, "Local echo")], -1, model.index_of_folder("Acme/Production"))
    assert rows(panel)[:5] == ["Acme/", "  Production/", "    Chat production", "    Orders", "    Local echo"]
    # two connections between rows: before the row they are dropped on
    production = model.index_of_folder("Acme/Production")
    moving = [profile_index(panel, "Quotes"), profile_index(panel, "Local echo")]
    assert _drop(model, moving, 1, production)
    assert rows(panel)[:6] == ["Acme/", "  Production/", "    Chat production", "    Quotes", "    Local echo",
                               "    Orders"]
    # onto a connection: just before it
    assert _drop(model, [profile_index(panel, "Orders")], -1, profile_index(panel, "Chat production"))
    assert [p.name for p in context.connections.profiles_in("Acme/Production")] == \
        ["Orders", "Chat production", "Quotes", "Local echo"]
    # a folder into another, with what is in it; not into itself, nor under Recent
    assert _drop(model, [model.index_of_folder("Acme/Staging")], -1, model.index_of_folder("Archive"))
    assert not _drop(model, [model.index_of_folder("Archive")], -1, model.index_of_folder("Archive/Staging"))
    context.connections.mark_used(context.connections.profiles[0].id, 1.0)
    assert not _drop(model, [profile_index(panel, "Orders")], -1, model.recent_index())
    # to the top level
    assert _drop(model, [profile_index(panel, "Orders")], -1, QModelIndex())
    assert _stored(context) == {"Chat production": "Acme/Production", "Chat staging": "Archive/Staging",
                                "Orders": "", "Quotes": "Acme/Production", "Local echo": "Acme/Production"}


def test_move_to_folder_and_the_keyboard(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    tree = panel.tree
    tree.setCurrentIndex(profile_index(panel, "Quotes"))
    tree.selectionModel().select(profile_index(panel, "Local echo"), tree.selectionModel().SelectionFlag.Select)
    seen: dict[str, Any] = {}

    def choose(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        seen["label"] = dialog.labelText()
        combo = dialog.findChild(QComboBox)
        seen["choices"] = [combo.itemText(i) for i in range(combo.count())]
        combo.setCurrentIndex(combo.findText("Acme › Staging"))
        click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))

    handler = ModalHandler(qtbot, choose)
    focus(qtbot, tree)
    tree.setCurrentIndex(profile_index(panel, "Quotes"))
    tree.selectionModel().select(profile_index(panel, "Local echo"), tree.selectionModel().SelectionFlag.Select)
    qtbot.keyClick(tree, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    handler.wait()
    assert seen["label"] == "Move 2 connections to"
    assert seen["choices"] == ["(top level)", "Acme", "Acme › Production", "Acme › Staging", "Archive", "Markets"]
    assert rows(panel)[4:8] == ["  Staging/", "    Chat staging", "    Quotes", "    Local echo"]
    assert current_name(panel) == "Quotes"
    # Alt+Up and Alt+Down move the current connection within its folder
    focus(qtbot, tree)
    tree.setCurrentIndex(profile_index(panel, "Local echo"))
    qtbot.keyClick(tree, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(tree, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert [p.name for p in context.connections.profiles_in("Acme/Staging")] == ["Local echo", "Chat staging", "Quotes"]
    qtbot.keyClick(tree, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [p.name for p in context.connections.profiles_in("Acme/Staging")] == ["Chat staging", "Local echo", "Quotes"]
    assert current_name(panel) == "Local echo"
    # a duplicate stays in the folder of its original
    click(qtbot, tool_button(panel, panel.duplicate_action))
    assert [p.name for p in context.connections.profiles_in("Acme/Staging")] == \
        ["Chat staging", "Local echo", "Quotes", "Local echo (copy)"]


def test_the_context_menu_offers_the_folder_actions(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    index = panel.model.index_of_folder("Archive")
    panel.tree.setCurrentIndex(index)
    panel.tree.customContextMenuRequested.emit(panel.tree.visualRect(index).center())
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=WAIT_MS)
    menu = QApplication.activePopupWidget()
    assert [a.text() for a in menu.actions() if not a.isSeparator()] == \
        ["New", "New folder…", "Edit…", "Duplicate", "Rename…", "Move to folder…", "Export folder…", "Delete"]
    # on a folder: what applies to a connection only is off
    assert [a.text() for a in menu.actions() if not a.isSeparator() and not a.isEnabled()] == ["Edit…", "Duplicate"]
    menu.close()


def test_connecting_puts_the_connection_under_recent(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _organised(context)
    panel = window.connections
    assert rows(panel) == TREE
    items = panel.tree
    pos = items.visualRect(profile_index(panel, "Local echo")).center()
    with qtbot.waitSignal(window.session.opened, timeout=WAIT_MS):
        qtbot.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(items.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert rows(panel) == ["Recent/", "  Local echo", *TREE]
    assert current_name(panel) == "Local echo"
    assert window.inspector.state_label.text() == "Open"
    close_connection(qtbot, window)
    # searching hides the Recent group
    panel.search.setText("echo")
    assert rows(panel) == ["Local echo"]


def test_five_hundred_connections_in_the_real_store(qtbot: Any, data_dir: Path) -> None:
    store = Store(data_dir / "wsinspector.sqlite3")
    try:
        for i in range(500):
            store.save_profile(ConnectionProfile(name=f"Service {i:03}", folder=f"Region {i % 10}/Team {i % 7}",
                                                 endpoint=Endpoint(f"wss://svc{i}.example.com/ws")))
    finally:
        store.close()
    context = AppContext(data_dir)
    window = MainWindow(context)
    show_window(qtbot, window)
    try:
        panel: ConnectionsPanel = window.connections
        assert len(names(panel)) == 501
        assert panel.model.rowCount() == 11  # ten regions and Local echo
        assert not panel.tree.findChildren(QLineEdit)  # no widget per row
        expected = sorted(p.name for p in context.connections.profiles if "svc4" in p.url)
        assert len(expected) == 111  # 4, 40-49, 400-499
        replace_text(qtbot, panel.search, "SVC4")
        assert sorted(names(panel)) == expected
        shown = rows(panel)
        assert all(line.strip().startswith(("Region", "Team", "Service")) for line in shown)
        replace_text(qtbot, panel.search, "service 123")
        assert rows(panel) == ["Region 3/", "  Team 4/", "    Service 123"]
        # selecting a connection the search hides shows everything again
        last = next(p for p in context.connections.profiles if p.name == "Service 499")
        panel.select(last.id)
        assert (current_name(panel), panel.search.text()) == ("Service 499", "")
        assert window.inspector.url.text() == "wss://svc499.example.com/ws"
        assert len(names(panel)) == 501
        assert [p.name for p in context.connections.profiles_in("Region 9/Team 2")] == \
            [f"Service {i:03}" for i in range(500) if (i % 10, i % 7) == (9, 2)]
        assert fo.is_within(last.folder, "Region 9")
    finally:
        window.close()
        context.shutdown()
