"""``wsinspector run --env NAME`` (the environments kept in the data folder) and ``--env-file FILE``: the
layers' precedence (globals < the file's variables < the environment < the env file < --var), and what is said
when a name or a file is wrong. A real subprocess against a `websockets` echo peer on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from wsinspector.app.context import DB_NAME
from wsinspector.app.environments import EnvironmentsController
from wsinspector.core.environments import Environment
from wsinspector.core.secrets import MemoryKeeper
from wsinspector.core.store import Store

TEST = """\
version: 1
name: layers
url: ws://{{host}}/
timeout: 5
variables:
  who: file
  extra: file
steps:
  - send:
      text: '{{who}}/{{level}}/{{extra}}'
  - expect:
      text: '{{want}}'
"""


@pytest.fixture
def stored(qtbot: Any, data_dir: Path, peer: Callable[..., str]) -> str:
    """Environments Local and Staging (with a secret token) and globals in ``data_dir``'s store; the echo
    peer's host:port."""
    host = peer().removeprefix("ws://").rstrip("/")
    store = Store(data_dir / DB_NAME)
    controller = EnvironmentsController(store, MemoryKeeper())
    local = controller.save(Environment("Local", (("host", "127.0.0.1:9"), ("who", "local"))))
    controller.set_active(local.id)  # the window's choice: run uses only what --env names
    controller.save(Environment("Staging", (("host", host), ("who", "staging"), ("token", "s3cret-staging")),
                                ("token",)))
    controller.save(Environment("Globals", (("level", "global"), ("extra", "global")), id="globals"))
    store.close()
    return host


def run(cli: Cli, tmp_path: Path, data_dir: Path, *args: str) -> Any:
    path = tmp_path / "layers.wstest.yaml"
    path.write_text(TEST, "utf-8")
    return cli("run", str(path), "--no-record", "--data-dir", str(data_dir), *args)


def test_env_brings_its_variables_and_the_globals_in_their_places(cli: Cli, tmp_path: Path, data_dir: Path,
                                                                  stored: str) -> None:
    # the environment wins over the file (who), the file over the globals (extra); the globals fill in (level)
    result = run(cli, tmp_path, data_dir, "--env", "Staging", "--var", "want=staging/global/file")
    assert result.returncode == 0, result.output
    # --var wins over the environment
    result = run(cli, tmp_path, data_dir, "--env", "staging", "--var", "who=cli", "--var", "want=cli/global/file")
    assert result.returncode == 0, result.output
    # the secret kept out of the database is not there for the command line: said, not guessed
    assert "environment 'Staging': the secret value of token is not in the keyring here" in result.stderr
    # given with --var, it is not asked for
    result = run(cli, tmp_path, data_dir, "--env", "staging", "--var", "token=given", "--var",
                 "want=staging/global/file")
    assert result.returncode == 0, result.output
    assert "token" not in result.stderr, result.stderr
    db = sqlite3.connect(data_dir / DB_NAME)
    try:
        assert "s3cret-staging" not in repr(db.execute("SELECT * FROM settings").fetchall())
    finally:
        db.close()


def test_env_file_wins_over_env_and_var_over_both(cli: Cli, tmp_path: Path, data_dir: Path, stored: str) -> None:
    dotenv = tmp_path / "ci.env"
    dotenv.write_text("# CI\nwho=dotenv\nexport level='from file'\n", "utf-8")
    result = run(cli, tmp_path, data_dir, "--env", "Staging", "--env-file", str(dotenv),
                 "--var", "want=dotenv/from file/file")
    assert result.returncode == 0, result.output
    as_json = tmp_path / "ci.json"
    as_json.write_text(f'{{"host": "{stored}", "level": 3, "want": "nope"}}', "utf-8")
    result = run(cli, tmp_path, data_dir, "--env-file", str(as_json), "--var", "want=file/3/file")
    assert result.returncode == 0, result.output


def test_an_unknown_environment_lists_the_known_ones(cli: Cli, tmp_path: Path, data_dir: Path,
                                                     stored: str) -> None:
    result = run(cli, tmp_path, data_dir, "--env", "Production")
    assert result.returncode == 2
    assert "run: No environment 'Production'; known environments: 'Local', 'Staging'" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_store_no_environment_is_known(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    result = run(cli, tmp_path, data_dir, "--env", "Staging")
    assert result.returncode == 2
    assert "No environment 'Staging'; known environments: none are defined" in result.stderr
    assert not (data_dir / DB_NAME).exists()


def test_a_bad_env_file_names_its_line(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("host=127.0.0.1:1\nthis line has no equals sign\n", "utf-8")
    result = run(cli, tmp_path, data_dir, "--env-file", str(bad))
    assert result.returncode == 2
    assert f"run: {bad}, line 2: expected NAME=value, got 'this line has no equals sign'" in result.stderr
    result = run(cli, tmp_path, data_dir, "--env-file", str(tmp_path / "missing.env"))
    assert result.returncode == 2
    assert "cannot read the environment file" in result.stderr and "missing.env" in result.stderr


def test_a_variable_nothing_defines_is_named_with_where_it_is_used(cli: Cli, tmp_path: Path,
                                                                    data_dir: Path, stored: str) -> None:
    result = run(cli, tmp_path, data_dir, "--env", "Local")
    assert result.returncode == 2
    assert "Unknown variable: {{want}} (used in steps[1].expect.text)" in result.stderr


def test_envs_lists_what_run_env_can_use_without_secret_values(cli: Cli, data_dir: Path, stored: str) -> None:
    result = cli("envs", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.output
    assert result.stdout.splitlines() == ["  Globals: level, extra", "* Local: host, who",
                                          "  Staging: host, who, token (secret)"]
    result = cli("envs", "--json", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.output
    described = json.loads(result.stdout)
    assert described["active"] == "Local"
    assert described["environments"][1] == {"name": "Staging", "variables": {"host": stored, "who": "staging"},
                                            "secret_variables": ["token"]}
    assert "s3cret-staging" not in result.output
