"""Environments in the window: the toolbar's switcher decides what the next connect (and the composer's
messages) resolve ``{{variables}}`` with; the Environments dialog edits environments and globals, secret values
kept in the keeper, never in the database."""

from __future__ import annotations

import sqlite3
from typing import Any

import shiboken6
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit

from tests.ui.helpers import (
    WAIT_MS,
    click,
    compose,
    connect,
    press_ctrl_enter,
    toggle_check_box,
    tool_button,
    wait_rows,
)
from tests.ui.helpers_sessions import show_tab
from wsinspector.app.context import AppContext
from wsinspector.app.environments import EnvironmentsController
from wsinspector.core.environments import Environment
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.scenario.model import ExpectStep, Scenario, SendStep, TextMatcher, TextPayload
from wsinspector.ui.environments import MASK, EnvironmentsDialog
from wsinspector.ui.main_window import MainWindow


def _switcher_items(window: MainWindow) -> list[str]:
    switcher = window.environment_switcher
    return [switcher.itemText(i) for i in range(switcher.count())]


def _choose(qtbot: Any, window: MainWindow, name: str) -> None:
    """Open the toolbar's environment list and pick ``name`` in it, as a user switches."""
    switcher = window.environment_switcher
    click(qtbot, switcher)
    view = switcher.view()
    qtbot.waitUntil(view.isVisible, timeout=WAIT_MS)
    wanted = switcher.findText(name)
    key = Qt.Key.Key_Down if wanted > view.currentIndex().row() else Qt.Key.Key_Up
    while view.currentIndex().row() != wanted:
        qtbot.keyClick(view, key)
    with qtbot.waitSignal(window.context.environments.active_changed, timeout=WAIT_MS):
        qtbot.keyClick(view, Qt.Key.Key_Return)


def _settings(context: AppContext) -> str:
    db = sqlite3.connect(context.db_path)
    try:
        return repr(db.execute("SELECT * FROM settings").fetchall())
    finally:
        db.close()


def test_the_switcher_changes_what_the_next_connect_resolves_to(qtbot: Any, window: MainWindow,
                                                                 context: AppContext) -> None:
    assert context.echo_url is not None
    host = context.echo_url.removeprefix("ws://").rstrip("/")
    context.environments.save(Environment("Echo", (("host", host), ("greeting", "hello"))))
    profile = context.connections.save(ConnectionProfile(name="Templated", endpoint=Endpoint("ws://{{host}}/")))
    window.connections.select(profile.id)
    assert _switcher_items(window) == ["No environment", "Echo"]
    assert window.environment_switcher.currentText() == "No environment"

    # no environment: the variable is named, with where it is used, and nothing connects
    with qtbot.waitSignal(window.session.failed, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    assert "Unknown variable: {{host}} in the URL" in window.banner.text
    assert window.inspector.state_label.text() == "Closed"

    # the user picks "Echo" in the toolbar: the header says so, and the next connect resolves with it
    _choose(qtbot, window, "Echo")
    assert window.environment_switcher.currentText() == "Echo"
    assert window.inspector.environment_label.isVisible()
    assert window.inspector.environment_label.text() == "Echo"
    assert window.windowTitle() == "Templated (Echo) — Closed — wsinspector"
    connect(qtbot, window)

    # the composer's messages resolve with the same variables; an unknown one names itself and nothing is sent
    compose(qtbot, window, "{{greeting}} from {{ host }}, {{#each items}}")
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 2)
    assert [r["preview"] for r in rows] == [f"hello from {host}, {{{{#each items}}}}"] * 2
    compose(qtbot, window, "{{greeting}} {{room}}")
    press_ctrl_enter(qtbot, window)
    error = window.inspector.composer.error
    assert error.isVisible() and error.text().startswith("Unknown variable: {{room}} in the message: nothing was sent")
    assert len(window.session.log) == 2
    # switched off, the message goes as typed (a template that keeps its {{placeholders}})
    toggle_check_box(qtbot, window.inspector.composer.expand_variables)
    press_ctrl_enter(qtbot, window)
    assert [r["preview"] for r in wait_rows(qtbot, window, 4)[2:]] == ["{{greeting}} {{room}}"] * 2

    # the choice is kept
    assert EnvironmentsController(context.store, context.secrets).active == context.environments.get(
        str(window.environment_switcher.currentData()))


def _editor(qtbot: Any, view: QAbstractItemView) -> QLineEdit:
    """The line edit a view opened over one of its items."""
    def opened() -> QLineEdit | None:
        return next((e for e in view.viewport().findChildren(QLineEdit) if e.isVisible()), None)

    qtbot.waitUntil(lambda: opened() is not None, timeout=WAIT_MS)
    editor = opened()
    assert editor is not None
    return editor


def _type(qtbot: Any, editor: QLineEdit, text: str) -> None:
    """Type ``text`` into an item's editor and press Return; wait until the view has taken it and closed it."""
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not shiboken6.isValid(editor) or not editor.isVisible(), timeout=WAIT_MS)


def _edit_cell(qtbot: Any, dialog: EnvironmentsDialog, row: int, column: int, text: str) -> None:
    """Select a cell of the variables table, press F2, type ``text`` over it and press Return."""
    view = dialog.table
    view.setCurrentIndex(dialog.model.index(row, column))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = _editor(qtbot, view)
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    _type(qtbot, editor, text)


def _cells(dialog: EnvironmentsDialog) -> list[tuple[str, str, bool]]:
    model = dialog.model
    return [(model.index(r, 0).data(), model.index(r, 1).data(),
             model.index(r, 2).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked)
            for r in range(model.rowCount())]


def test_the_dialog_edits_variables_and_keeps_secrets_in_the_keeper(qtbot: Any, window: MainWindow,
                                                                   context: AppContext, qtmodeltester: Any) -> None:
    click(qtbot, tool_button(window.toolbar, window.environments_action))
    dialog = window.environments_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["Globals"]

    # Add: a new environment, its name open for typing
    click(qtbot, dialog.add_button)
    editor = _editor(qtbot, dialog.list)
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(context.environments.environments_changed, timeout=WAIT_MS):
        _type(qtbot, editor, "Staging")
    assert [e.name for e in context.environments.environments] == ["Staging"]
    assert _switcher_items(window) == ["No environment", "Staging"]
    staging = context.environments.environments[0]
    # Rename with an empty name keeps the old one
    click(qtbot, dialog.rename_button)
    editor = _editor(qtbot, dialog.list)
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    _type(qtbot, editor, " ")
    assert dialog.list.currentItem().text() == "Staging"
    assert context.environments.environments[0].name == "Staging"

    # variables: a name that says "secret" is secret by default, shown masked, kept in the keeper only
    click(qtbot, dialog.add_variable)
    editor = _editor(qtbot, dialog.table)
    _type(qtbot, editor, "api_token")
    _edit_cell(qtbot, dialog, 0, 1, "tok-123-secret")
    click(qtbot, dialog.add_variable)
    editor = _editor(qtbot, dialog.table)
    _type(qtbot, editor, "host")
    _edit_cell(qtbot, dialog, 1, 1, "staging.example:443")
    assert _cells(dialog) == [("api_token", MASK, True), ("host", "staging.example:443", False)]
    toggle_check_box(qtbot, dialog.reveal)
    assert _cells(dialog)[0] == ("api_token", "tok-123-secret", True)
    qtmodeltester.check(dialog.model)
    assert context.environments.get(staging.id) == Environment(
        "Staging", (("api_token", "tok-123-secret"), ("host", "staging.example:443")), ("api_token",), staging.id)
    assert context.secrets.get(f"environment/{staging.id}/api_token") == "tok-123-secret"
    assert "tok-123-secret" not in _settings(context) and "staging.example:443" in _settings(context)

    # a name that is not one is refused, and said why
    click(qtbot, dialog.add_variable)
    editor = _editor(qtbot, dialog.table)
    _type(qtbot, editor, "9 lives")
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("'9 lives' is not a variable name")
    dialog.table.setCurrentIndex(dialog.model.index(2, 0))
    click(qtbot, dialog.remove_variable)
    assert dialog.model.rowCount() == 2

    # duplicate carries the secret over under the copy's own key; remove lets go of it
    click(qtbot, dialog.duplicate_button)
    copy = context.environments.environments[1]
    assert copy.name == "Staging (copy)" and dialog.list.currentItem().text() == "Staging (copy)"
    assert context.secrets.get(f"environment/{copy.id}/api_token") == "tok-123-secret"
    click(qtbot, dialog.remove_button)
    assert [e.name for e in context.environments.environments] == ["Staging"]
    assert context.secrets.get(f"environment/{copy.id}/api_token") is None
    assert dialog.list.currentItem().text() == "Globals"

    # the globals: variables every connection sees
    click(qtbot, dialog.add_variable)
    editor = _editor(qtbot, dialog.table)
    _type(qtbot, editor, "region")
    _edit_cell(qtbot, dialog, 0, 1, "eu")
    assert context.environments.globals.values == {"region": "eu"}
    assert EnvironmentsController(context.store, context.secrets).globals.values == {"region": "eu"}
    assert dialog.model.index(0, 0, QModelIndex()).isValid()
    dialog.close()


def test_a_test_run_on_the_tests_page_resolves_with_the_active_environment(qtbot: Any, window: MainWindow,
                                                                          context: AppContext) -> None:
    assert context.echo_url is not None
    host = context.echo_url.removeprefix("ws://").rstrip("/")
    context.environments.save(Environment("Globals", (("who", "global"), ("greeting", "hi")), id="globals"))
    context.environments.save(Environment("Echo", (("host", host), ("who", "echo"))))
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    view.set_new_test(Scenario("env", "ws://{{host}}/", (
        SendStep(TextPayload("{{greeting}} {{who}}")), ExpectStep(TextMatcher("hi echo")))), "", [])
    click(qtbot, view.run_button)
    assert view.runner is None
    assert view.status.text().startswith("Unknown variable: {{host}} (used in url)")

    _choose(qtbot, window, "Echo")
    view.speed.setCurrentIndex(view.speed.findData(0.0))  # as fast as possible
    with qtbot.waitSignal(view.run_finished, timeout=WAIT_MS * 3) as finished:
        click(qtbot, view.run_button)
    assert finished.args[0].ok, finished.args[0]
    view.dirty = False
