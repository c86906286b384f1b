"""The environments' controller over a real SQLite store: what a connect resolves with, what is kept where, and
a stored form it cannot read left as it is."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wsinspector.app.context import DB_NAME, AppContext
from wsinspector.app.environments import ENVIRONMENTS_KEY, EnvironmentsController, command_line_layers
from wsinspector.core.environments import Environment, EnvironmentsError
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake, UnresolvedVariablesError
from wsinspector.core.secrets import MemoryKeeper
from wsinspector.core.store import Store

PROFILE = ConnectionProfile(name="api", endpoint=Endpoint("ws://{{host}}/"), variables=(("host", "own:1"),),
                            handshake=Handshake(headers=(("Authorization", "Bearer {{token}}"),)))


def test_a_connect_resolves_with_the_globals_the_connection_and_the_active_environment(qtbot: Any,
                                                                                      tmp_path: Path) -> None:
    store, keeper = Store(tmp_path / DB_NAME), MemoryKeeper()
    controller = EnvironmentsController(store, keeper)
    controller.save(Environment("Globals", (("host", "global:1"), ("region", "eu")), id="globals"))
    staging = controller.save(Environment("Staging", (("host", "staging:2"), ("token", "t0k")), ("token",)))
    bare = PROFILE.with_changes(handshake=Handshake())
    assert bare.resolved(controller.variables_for(bare)).url == "ws://own:1/"  # no environment: its own host
    with qtbot.waitSignal(controller.active_changed) as changed:
        controller.set_active(staging.id)
    assert changed.args == [staging.id]
    target = PROFILE.resolved(controller.variables_for(PROFILE))
    assert (target.url, target.handshake.headers) == ("ws://staging:2/", (("Authorization", "Bearer t0k"),))
    store.close()

    # read back: the active environment is kept; the secret value came from the keeper, not the file
    store = Store(tmp_path / DB_NAME)
    again = EnvironmentsController(store, keeper)
    assert again.active == staging
    # on a machine whose keeper lacks it, the secret is not sent empty: connecting names it
    elsewhere = EnvironmentsController(store, MemoryKeeper())
    with pytest.raises(UnresolvedVariablesError, match=r"^Unknown variable: \{\{token\}\} in header Authorization$"):
        PROFILE.resolved(elsewhere.variables_for(PROFILE))
    # deleting the active environment leaves none active, and lets go of its secrets
    again.delete(staging.id)
    assert again.active is None and keeper.get(f"environment/{staging.id}/token") is None
    store.close()


def test_a_secret_no_longer_secret_leaves_the_keeper(qtbot: Any, tmp_path: Path) -> None:
    store, keeper = Store(tmp_path / DB_NAME), MemoryKeeper()
    controller = EnvironmentsController(store, keeper)
    env = controller.save(Environment("Local", (("token", "abc"),), ("token",)))
    assert keeper.get(f"environment/{env.id}/token") == "abc"
    controller.save(Environment("Local", (("token", "abc"),), (), env.id))
    assert keeper.get(f"environment/{env.id}/token") is None
    assert "abc" in (store.setting(ENVIRONMENTS_KEY) or "")  # no longer a secret: kept with the rest
    with pytest.raises(KeyError):
        controller.set_active("no-such-id")
    store.close()


def test_environments_it_cannot_read_are_named_and_never_saved_over(qtbot: Any, data_dir: Path) -> None:
    store = Store(data_dir / DB_NAME)
    store.set_setting(ENVIRONMENTS_KEY, '[{"name": "Broken"}]')
    store.close()
    context = AppContext(data_dir, start_echo=False)
    try:
        assert any("environments[0] has no name or id" in warning for warning in context.warnings)
        assert context.environments.environments == []
        with pytest.raises(EnvironmentsError, match="nothing is saved over them"):
            context.environments.add("New")
    finally:
        context.shutdown()
    db = sqlite3.connect(data_dir / DB_NAME)
    try:
        assert db.execute("SELECT value FROM settings WHERE key = ?", (ENVIRONMENTS_KEY,)).fetchone() == (
            '[{"name": "Broken"}]',)
    finally:
        db.close()


def test_a_secret_variable_of_an_environment_is_neither_recorded_nor_shown(qtbot: Any, data_dir: Path) -> None:
    context = AppContext(data_dir)
    try:
        assert context.echo_url is not None
        host = context.echo_url.removeprefix("ws://").rstrip("/")
        staging = context.environments.save(Environment(
            "Staging", (("host", host), ("session_token", "ENVSECRET555"), ("room", "lobby")), ("session_token",)))
        context.environments.set_active(staging.id)
        profile = context.connections.save(ConnectionProfile(
            name="env", endpoint=Endpoint("ws://{{host}}/?room={{room}}&t={{session_token}}")))
        controller = context.session
        with qtbot.waitSignal(controller.opened, timeout=10_000) as opened:
            assert controller.connect_to(profile)
        assert "ENVSECRET555" not in opened.args[0].url  # what the status bar shows
        assert opened.args[0].url.endswith("?room=lobby&t=REDACTED")
        assert controller.session_id is not None
        record = context.store.session(controller.session_id)
        assert record is not None and record.url.endswith("?room=lobby&t=REDACTED")
        with qtbot.waitSignal(controller.event_added) as event:
            controller._event("test", "sent to ws://x/?t=ENVSECRET555")  # any event text
        assert event.args[2] == "sent to ws://x/?t=REDACTED"
    finally:
        context.shutdown()
        context.deleteLater()
    raw = b"".join(path.read_bytes() for path in data_dir.glob(f"{DB_NAME}*"))
    assert b"ENVSECRET555" not in raw


def test_a_dotenv_file_given_to_run_warns_about_a_name_given_twice(tmp_path: Path) -> None:
    (tmp_path / "t.env").write_text("a=1\na=2\n", "utf-8")
    _, environment, _, warnings = command_line_layers(tmp_path, None, tmp_path / "t.env", MemoryKeeper())
    assert environment == {"a": "2"}
    assert warnings == [f"{tmp_path / 't.env'}: a is given on line 1 and again on line 2; line 2 wins"]
