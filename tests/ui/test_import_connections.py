"""File ▸ Import connections…, Paste command line… and Export connections…, as a user goes through them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMessageBox

from tests.core.formats.conftest import SAMPLES
from tests.ui.helpers import WAIT_MS, MenuPicker, click, replace_text
from tests.ui.helpers_connections import names, rows
from wsinspector.core.payloads import PayloadMode
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.transfer import CommandDialog


def _names(window: MainWindow) -> list[str]:
    return names(window.connections)


def _choose_files(qtbot: Any, window: MainWindow, directory: Path, names: list[str]) -> None:
    """File ▸ Import connections…, then pick ``names`` in ``directory`` and press Open."""
    window.transfer.import_action.trigger()
    dialog = window.transfer.dialog
    assert isinstance(dialog, QFileDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    dialog.setDirectory(str(directory))
    dialog.selectFile(" ".join(f'"{name}"' for name in names))
    with qtbot.waitSignals([dialog.finished, window.transfer.imported], timeout=WAIT_MS):
        dialog.accept()


def test_imported_connections_appear_with_their_saved_messages_and_notes(qtbot: Any, window: MainWindow) -> None:
    _choose_files(qtbot, window, SAMPLES, ["insomnia-v4.json", "chrome.har"])
    assert {"Ticker stream", "app.example.com/socket"} <= set(_names(window))
    banner = window.banner.text
    assert "Imported 1 connection from insomnia-v4.json (Insomnia export)." in banner
    assert "Market data/" in rows(window.connections)  # in the folder the export kept it in
    assert "  Ticker stream" in rows(window.connections)
    assert "environment Staging left out" in banner
    assert window.banner.level == "warning"
    # the first imported connection is selected; its saved message loads into the composer in its mode
    assert window.connections.current_profile().name == "Ticker stream"
    composer = window.inspector.composer
    assert composer.saved_button.isVisible()
    assert composer.saved_messages == [("Payload", "json", '{"op": "subscribe", "channel": "BTC-USD"}')]
    menu = composer.saved_button.menu()
    assert [a.text() for a in menu.actions() if not a.isSeparator()][:2] == ["Payload", "Load into the editor"]
    load = next(a.menu() for a in menu.actions() if a.menu() is not None)
    [action] = load.actions()
    openers = MenuPicker(qtbot, menu, load.menuAction())
    picker = MenuPicker(qtbot, load, action)
    click(qtbot, composer.saved_button)
    openers.wait()
    picker.wait()
    assert composer.current_mode() is PayloadMode.JSON
    assert composer.editor.toPlainText() == '{"op": "subscribe", "channel": "BTC-USD"}'


def test_a_file_that_is_not_what_it_claims_is_named_in_the_banner(qtbot: Any, window: MainWindow,
                                                                  tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"log": {"entries": {}}}')
    before = _names(window)
    _choose_files(qtbot, window, tmp_path, ["broken.json"])
    assert window.banner.text == "broken.json: HAR file: log.entries is not a list (found an object)"
    assert window.banner.level == "error"
    assert _names(window) == before


def _paste(qtbot: Any, window: MainWindow, command: str) -> None:
    window.transfer.paste_action.trigger()
    dialog = window.transfer.dialog
    assert isinstance(dialog, CommandDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    replace_text(qtbot, dialog.editor, command)
    buttons = dialog.findChild(QDialogButtonBox)
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        click(qtbot, buttons.button(QDialogButtonBox.StandardButton.Ok))


def test_a_pasted_command_line_becomes_a_selected_connection(qtbot: Any, window: MainWindow) -> None:
    _paste(qtbot, window, "wscat -c wss://chat.example.com/room -s chat.v1 -n -x hello")
    profile = window.connections.current_profile()
    assert profile is not None and profile.name == "chat.example.com/room"
    assert profile.handshake.subprotocols == ("chat.v1",)
    assert profile.tls.verify is False
    assert window.inspector.url.text() == "wss://chat.example.com/room"
    assert window.inspector.composer.saved_button.isVisible()
    assert window.banner.level == "info"


def test_a_pasted_line_that_is_no_command_says_so(qtbot: Any, window: MainWindow) -> None:
    before = _names(window)
    _paste(qtbot, window, "ls -l")
    assert window.banner.text == "Command line: 'ls' is not websocat, wscat or curl"
    assert _names(window) == before


def test_export_writes_the_connections_without_their_secrets(qtbot: Any, window: MainWindow,
                                                             tmp_path: Path) -> None:
    _paste(qtbot, window, "websocat -H 'Authorization: Bearer tok-live-8f2a' wss://feed.example.com/ws")
    window.transfer.export_action.trigger()
    dialog = window.transfer.dialog
    assert isinstance(dialog, QFileDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    out = tmp_path / "team.json"
    dialog.selectFile(str(out))
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        dialog.accept()
    text = out.read_text()
    assert "tok-live-8f2a" not in text
    names = [c["profile"]["name"] for c in json.loads(text)["connections"]]
    assert names == ["feed.example.com/ws"]  # the built-in Local echo is not exported
    assert window.banner.text.startswith(f"Exported 1 connection to {out}.")
    assert "authorization" in window.banner.text


def test_a_long_report_shows_its_start_and_all_of_it_on_request(qtbot: Any, window: MainWindow,
                                                                tmp_path: Path) -> None:
    names = [f"bad{n}.json" for n in range(10)]
    for name in names:
        (tmp_path / name).write_text("[1]")
    _choose_files(qtbot, window, tmp_path, names)
    # ten files, a line each: the banner shows the first ones and how many more there are
    assert window.banner.text.count("\n") == 7
    assert window.banner.text.endswith("… and 3 more lines")
    click(qtbot, window.banner.action)
    box = window.transfer.dialog
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    assert box.detailedText().count("not a file this can import") == 10
    with qtbot.waitSignal(box.finished, timeout=WAIT_MS):
        box.close()


def test_a_connections_file_opened_from_the_desktop_adds_its_connections(qtbot: Any, window: MainWindow,
                                                                         tmp_path: Path) -> None:
    from wsinspector.core.formats import export_connections
    from wsinspector.core.profiles import ConnectionProfile, Endpoint

    text, _ = export_connections([ConnectionProfile(name="Shared feed", endpoint=Endpoint("wss://f.example/ws"))],
                                 "2026-12-06T05:40:00Z")
    path = tmp_path / "team.json"
    path.write_text(text)
    with qtbot.waitSignal(window.transfer.imported, timeout=WAIT_MS):
        window.open_paths([path])
    assert "Shared feed" in _names(window)
    assert window.connections.current_profile().url == "wss://f.example/ws"
    assert window.banner.text == "Imported 1 connection from team.json (wsinspector connections)."


def test_a_folder_exports_its_connections_and_those_of_its_folders(qtbot: Any, window: MainWindow,
                                                                   tmp_path: Path) -> None:
    from wsinspector.core.profiles import ConnectionProfile, Endpoint

    controller = window.context.connections
    for name, folder in (("Orders", "Acme"), ("Quotes", "Acme/Markets"), ("Elsewhere", "")):
        controller.save(ConnectionProfile(name=name, endpoint=Endpoint(f"wss://{name.lower()}.example/ws"),
                                          folder=folder))
    window.connections.select_folder("Acme")
    assert window.connections.export_folder_action.isEnabled()
    window.connections.export_folder_action.trigger()
    dialog = window.transfer.dialog
    assert isinstance(dialog, QFileDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    out = tmp_path / "acme.json"
    dialog.selectFile(str(out))
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        dialog.accept()
    entries = json.loads(out.read_text())["connections"]
    assert [(e["profile"]["name"], e["folder"]) for e in entries] == [("Orders", ["Acme"]),
                                                                      ("Quotes", ["Acme", "Markets"])]
    assert window.banner.text.startswith(f"Exported 2 connections to {out}.")


def _many(path: Path, count: int) -> Path:
    entries = [{"folder": ["Bulk", f"F{i % 50}"],
                "profile": {"version": 2, "name": f"c{i}", "endpoint": {"url": f"ws://127.0.0.1:1/{i}"}}}
               for i in range(count)]
    path.write_text(json.dumps({"format": "wsinspector-connections", "version": 1, "connections": entries}))
    return path


def test_a_long_import_runs_in_slices_with_progress_and_cancel(qtbot: Any, window: MainWindow,
                                                               tmp_path: Path) -> None:
    path = _many(tmp_path / "many.json", 3000)
    controller = window.context.connections
    before = len(controller.profiles)
    task = window.transfer.import_files([path])
    assert task is not None
    with qtbot.waitSignal(task.progress, timeout=WAIT_MS):  # a slice is over: the window goes on between them
        pass
    assert window.tasks.label.text() == "Importing many.json…"
    assert window.tasks.progress.isVisible()
    assert len(controller.profiles) == before  # nothing is saved before the end
    with qtbot.waitSignal(task.cancelled, timeout=WAIT_MS):
        click(qtbot, window.tasks.cancel_button)
    assert len(controller.profiles) == before
    assert len(window.context.store.profiles()) == before
    assert not window.tasks.cancel_button.isVisible()

    task = window.transfer.import_files([path])
    assert task is not None
    slices: list[int] = []
    task.progress.connect(lambda done, total: slices.append(done))
    with qtbot.waitSignal(window.transfer.imported, timeout=60_000) as imported:
        pass
    assert len(slices) > 1
    assert imported.args[0].text == "Imported 3000 connections from many.json (wsinspector connections)."
    assert len(controller.profiles) == len(window.context.store.profiles()) == before + 3000
    assert window.connections.current_profile().name == "c0"


def test_an_entry_whose_url_does_not_parse_is_named_in_the_banner(qtbot: Any, window: MainWindow,
                                                                  tmp_path: Path) -> None:
    report = window.transfer.import_command("websocat ws://[::1")
    assert window.banner.text == ("Command line (websocat): 'ws://[::1' is not a valid URL: The URL is malformed: "
                                  "Invalid IPv6 URL")
    assert window.banner.level == "error" and not report.added
    entries = [{"_resourceType": "websocket", "request": {"url": url, "headers": []}}
               for url in ("wss://[::1/ws", "wss://good.example.com/ws")]
    (tmp_path / "v6.har").write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    _choose_files(qtbot, window, tmp_path, ["v6.har"])
    assert window.banner.text.splitlines() == [
        "Imported 1 connection from v6.har (HAR file).",
        "  • not imported: HAR file: log.entries[0]: 'wss://[::1/ws' is not a valid URL: The URL is malformed: "
        "Invalid IPv6 URL"]
    assert window.banner.level == "warning"
    assert "good.example.com/ws" in _names(window)
