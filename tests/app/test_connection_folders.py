"""The saved connections' folders and recently used ones, through the controller and into the real store: what
a restart reads back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wsinspector.app.connections import ConnectionsController
from wsinspector.app.context import AppContext
from wsinspector.core.folders import FOLDERS_SETTING, FolderError
from wsinspector.core.profiles import BUILTIN_LOCAL_ECHO, PROFILE_VERSION, ConnectionProfile, Endpoint
from wsinspector.core.store import Store

WAIT_MS = 10_000


@pytest.fixture
def reopen(data_dir: Path) -> Iterator[Callable[[], ConnectionsController]]:
    """A controller over the store file; each call closes the last store and opens the file again (a restart)."""
    opened: list[Store] = []

    def make() -> ConnectionsController:
        if opened:
            opened[-1].close()
        opened.append(Store(data_dir / "wsinspector.sqlite3"))
        return ConnectionsController(opened[-1])

    yield make
    opened[-1].close()


def _add(controller: ConnectionsController, name: str, folder: str = "") -> ConnectionProfile:
    return controller.save(ConnectionProfile(name=name, endpoint=Endpoint("ws://127.0.0.1:9/"), folder=folder))


def _where(controller: ConnectionsController) -> dict[str, list[str]]:
    """Each folder ("" the top level) with its connections' names in order."""
    return {folder: [p.name for p in controller.profiles_in(folder, recursive=False)]
            for folder in ["", *controller.folders]}


def test_folders_made_renamed_and_moved_are_read_back_after_a_restart(
        qtbot: Any, reopen: Callable[[], ConnectionsController]) -> None:
    connections = reopen()
    _add(connections, "Top")
    assert connections.create_folder("", " Team ") == "Team"
    assert connections.create_folder("Team", "Staging") == "Team/Staging"
    chat = _add(connections, "Chat", "Team/Staging")
    _add(connections, "Feed", "Team")
    with pytest.raises(FolderError, match="There is already a folder “Staging” in Team"):
        connections.create_folder("Team", "Staging")
    with pytest.raises(FolderError, match="cannot contain"):
        connections.create_folder("", "a/b")
    with qtbot.waitSignal(connections.profiles_changed, timeout=WAIT_MS):
        assert connections.rename_folder("Team", "Acme") == "Acme"
    assert connections.create_folder("", "Archive") == "Archive"
    assert connections.move_folder("Acme/Staging", "Archive") == "Archive/Staging"
    with pytest.raises(FolderError, match="cannot go into itself"):
        connections.move_folder("Archive", "Archive/Staging")

    connections = reopen()
    assert connections.folders == ["Acme", "Archive", "Archive/Staging"]
    assert _where(connections) == {"": ["Top"], "Acme": ["Feed"], "Archive": [], "Archive/Staging": ["Chat"]}
    assert connections.get(chat.id).folder == "Archive/Staging"  # type: ignore[union-attr]


def test_moving_connections_orders_them_and_keeps_the_folder_they_left(
        reopen: Callable[[], ConnectionsController]) -> None:
    connections = reopen()
    a, b, c = (_add(connections, name, "Team") for name in "ABC")
    top = _add(connections, "Top")
    connections.move([top.id], "Team", before=b.id)
    assert _where(connections) == {"": [], "Team": ["A", "Top", "B", "C"]}
    connections.move([c.id, a.id], "Other")
    connections.move([b.id], "Other", before=c.id)
    connections = reopen()
    # Team is empty now, and still there
    assert _where(connections) == {"": [], "Other": ["B", "C", "A"], "Team": ["Top"]}
    connections.move([top.id], "")
    assert _where(reopen()) == {"": ["Top"], "Other": ["B", "C", "A"], "Team": []}


def test_deleting_a_folder_deletes_its_connections_or_moves_them_up(
        reopen: Callable[[], ConnectionsController]) -> None:
    connections = reopen()
    _add(connections, "Kept", "Team/Old/Deep")
    _add(connections, "Sibling", "Team/Old")
    _add(connections, "Gone", "Lab/Tmp")
    connections.create_folder("Lab/Tmp", "Empty")
    connections.delete_folder("Team/Old", keep_connections=True)
    connections.delete_folder("Lab", keep_connections=False)
    connections = reopen()
    assert _where(connections) == {"": [], "Team": ["Sibling"], "Team/Deep": ["Kept"]}
    assert [p.name for p in connections.profiles_in("Team")] == ["Kept", "Sibling"]
    with pytest.raises(FolderError):
        connections.delete_folder("", keep_connections=True)


def test_a_connection_of_a_newer_format_stays_where_it_is(reopen: Callable[[], ConnectionsController],
                                                          data_dir: Path) -> None:
    connections = reopen()
    mine = _add(connections, "Mine", "Team")
    store = Store(data_dir / "wsinspector.sqlite3")
    data = {"version": PROFILE_VERSION + 1, "name": "From later", "folder": "Team",
            "endpoint": {"url": "ws://127.0.0.1:9/"}}
    store.connection.execute("INSERT INTO profiles (id, position, data) VALUES ('later', 9, ?)", (json.dumps(data),))
    store.close()
    connections = reopen()
    connections.move([mine.id, "later"], "Elsewhere")
    connections.rename_folder("Team", "Renamed")
    assert _where(reopen()) == {"": [], "Elsewhere": ["Mine"], "Renamed": [], "Team": ["From later"]}


def test_a_damaged_folder_list_still_shows_the_connections_folders(
        reopen: Callable[[], ConnectionsController]) -> None:
    connections = reopen()
    _add(connections, "Deep", "A/B")
    connections._store.set_setting(FOLDERS_SETTING, "{not json")
    assert reopen().folders == ["A", "A/B"]


def test_connecting_puts_the_connection_first_under_recent(qtbot: Any, data_dir: Path) -> None:
    context = AppContext(data_dir)
    try:
        connections = context.connections
        assert context.echo_url is not None
        other = connections.save(ConnectionProfile(name="Other", endpoint=Endpoint(context.echo_url)))
        echo = connections.profiles[0]
        assert connections.recent() == []
        for profile in (echo, other):
            with qtbot.waitSignal(context.session.opened, timeout=WAIT_MS), \
                    qtbot.waitSignal(connections.recent_changed, timeout=WAIT_MS):
                context.session.connect_to(profile)
            with qtbot.waitSignal(context.session.closed, timeout=WAIT_MS):
                context.session.request_disconnect(1000, "")
        assert [p.name for p in connections.recent()] == ["Other", "Local echo"]
    finally:
        context.shutdown()
    context = AppContext(data_dir, start_echo=False)
    try:
        assert [p.name for p in context.connections.recent()] == ["Other", "Local echo"]
        context.connections.delete(other.id)
        assert [p.name for p in context.connections.recent()] == ["Local echo"]
    finally:
        context.shutdown()


def test_a_typed_url_is_used_not_saved_until_save_url(reopen: Callable[[], ConnectionsController]) -> None:
    controller = reopen()
    saved = _add(controller, "Ticker")
    edited, notice = controller.with_url(saved, "ws://127.0.0.1:9/v2")
    assert edited.url == "ws://127.0.0.1:9/v2" and notice == ""
    assert reopen().get(saved.id).url == "ws://127.0.0.1:9/"  # type: ignore[union-attr]  (nothing written)
    controller = reopen()
    kept = controller.save_url(saved, "ws://127.0.0.1:9/v2")
    assert kept.url == "ws://127.0.0.1:9/v2"
    assert reopen().get(saved.id).url == "ws://127.0.0.1:9/v2"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="keeps its URL"):
        reopen().save_url(saved.with_changes(builtin=BUILTIN_LOCAL_ECHO), "ws://127.0.0.1:9/other")


@pytest.mark.parametrize("name", ["new\nline", "tab\there", "nul\x00", "x" * 101, "line\u2028sep"])
def test_a_folder_name_with_control_characters_or_too_long_is_refused(
        reopen: Callable[[], ConnectionsController], name: str) -> None:
    connections = reopen()
    with pytest.raises(FolderError, match=r"one line of text|at most 100 characters"):
        connections.create_folder("", name)
    made = connections.create_folder("", "x" * 100)
    with pytest.raises(FolderError, match=r"one line of text|at most 100 characters"):
        connections.rename_folder(made, name)
    assert connections.folders == [made]


def _transactions(store: Store) -> list[str]:
    """The transactions the store begins from now on (SQLite's own trace of the statements it runs)."""
    begun: list[str] = []
    store.connection.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)
    return begun


def test_a_bulk_import_rename_move_and_delete_are_each_a_transaction_or_two_and_one_change(
        qtbot: Any, data_dir: Path) -> None:
    from wsinspector.core.formats import Imported

    store = Store(data_dir / "wsinspector.sqlite3")
    connections = ConnectionsController(store)
    changes: list[None] = []
    connections.profiles_changed.connect(lambda: changes.append(None))
    begun = _transactions(store)
    imported = [Imported(ConnectionProfile(name="svc", endpoint=Endpoint(f"ws://127.0.0.1:9/{i}")),
                         ("Bulk", f"F{i % 7}")) for i in range(600)]
    added = connections.add_imported(imported)
    assert (len(begun), len(changes)) == (1, 1)
    assert [p.name for p in added[:3]] == ["svc", "svc 2", "svc 3"] and added[-1].name == "svc 600"
    for step in (lambda: connections.rename_folder("Bulk", "Bulk2"),
                 lambda: connections.move([p.id for p in added[:300]], "Elsewhere"),
                 lambda: connections.move_folder("Bulk2/F1", "Elsewhere"),
                 lambda: connections.delete_folder("Bulk2", keep_connections=True),
                 lambda: connections.delete_folder("Elsewhere", keep_connections=False)):
        begun.clear()
        changes.clear()
        step()
        assert len(begun) <= 3 and len(changes) == 1, begun
    store.connection.set_trace_callback(None)
    store.close()
    reopened = ConnectionsController(Store(data_dir / "wsinspector.sqlite3"))
    assert {p.folder for p in reopened.profiles} == {f"F{i}" for i in range(7) if i != 1}
    assert len(reopened.profiles) == len([i for i in range(300, 600) if i % 7 != 1])
