"""Environments and globals: the precedence of variable layers, unresolved variables named with where they are
used, the stored form (secret values left out) and environment files."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsinspector.core.environments import (
    Environment,
    EnvironmentsError,
    environments_from_json,
    environments_to_json,
    expand_message,
    expand_message_as_typed,
    find_environment,
    merge_variables,
    parse_dotenv,
    read_env_file,
    with_secrets_from,
)
from wsinspector.core.profiles import (
    ConnectionProfile,
    Endpoint,
    Handshake,
    Proxy,
    UnknownVariableError,
    UnresolvedVariablesError,
)
from wsinspector.core.secrets import MemoryKeeper


def test_each_layer_wins_over_the_ones_below_it() -> None:
    merged = merge_variables(
        globals_=[("a", "global"), ("b", "global"), ("c", "global"), ("d", "global")],
        connection=[("b", "connection"), ("c", "connection"), ("d", "connection")],
        environment=[("c", "environment"), ("d", "environment")],
        overrides={"d": "command line"},
    )
    assert merged == {"a": "global", "b": "connection", "c": "environment", "d": "command line"}


def test_a_profile_resolves_with_the_merged_variables_and_still_alone() -> None:
    profile = ConnectionProfile(name="api", endpoint=Endpoint("ws://{{host}}/feed"), variables=(("host", "own:1"),))
    assert profile.resolved().url == "ws://own:1/feed"
    merged = merge_variables(connection=profile.variables, environment=[("host", "staging:2")])
    assert profile.resolved(merged).url == "ws://staging:2/feed"


def test_every_unresolved_variable_is_named_with_where_it_is_used() -> None:
    profile = ConnectionProfile(
        name="api", endpoint=Endpoint("wss://{{host}}/x", connect_to="{{host}}:443"),
        handshake=Handshake(headers=(("Authorization", "Bearer {{token}}"),), origin="https://{{site}}"),
        proxy=Proxy(mode="http", host="{{proxy}}", port=8080))
    with pytest.raises(UnresolvedVariablesError) as info:
        profile.resolved({"site": "example.com"})
    assert str(info.value) == ("Unknown variables: {{host}} in the URL and Connect to; {{token}} in header "
                               "Authorization; {{proxy}} in the proxy host")
    assert info.value.names == ["host", "token", "proxy"]
    assert isinstance(info.value, UnknownVariableError)


def test_composer_messages_expand_only_named_variables() -> None:
    assert expand_message('{"to": "{{ user }}", "tpl": "{{#each}} {{ a + b }} {{}}"}', {"user": "ann"}) == (
        '{"to": "ann", "tpl": "{{#each}} {{ a + b }} {{}}"}')
    with pytest.raises(UnknownVariableError, match=r"\{\{room\}\}"):
        expand_message("join {{room}}", {})
    # while typed, a JSON message is checked with an unknown variable standing as a number
    assert expand_message_as_typed('{"n": {{count}}, "who": "{{user}}"}', {"user": "ann"}) == '{"n": 0, "who": "ann"}'


def test_the_stored_form_keeps_secret_values_out() -> None:
    env = Environment("Staging", (("host", "s.example"), ("token", "s3cret")), ("token",))
    text = environments_to_json([env])
    assert "s3cret" not in text
    (read,) = environments_from_json(text)
    assert read.values == {"host": "s.example", "token": ""}
    keeper = MemoryKeeper()
    keeper.set(f"environment/{env.id}/token", "s3cret")
    assert with_secrets_from(read, keeper, env.id) == env


@pytest.mark.parametrize(("text", "says"), [
    ("{", "not valid JSON"),
    ('{"a": 1}', "not a list"),
    ('[{"name": "x"}]', "environments[0] has no name or id"),
    ('[{"name": "x", "id": "1", "variables": [["a"]]}]', "environments[0].variables"),
])
def test_a_damaged_stored_form_is_named(text: str, says: str) -> None:
    with pytest.raises(EnvironmentsError, match=says.replace("[", r"\[").replace("]", r"\]")):
        environments_from_json(text)


def test_an_unknown_environment_lists_the_known_ones() -> None:
    envs = [Environment("Local"), Environment("Staging")]
    assert find_environment(envs, "staging").name == "Staging"
    with pytest.raises(EnvironmentsError, match=r"No environment 'Prod'; known environments: 'Local', 'Staging'"):
        find_environment(envs, "Prod")


def test_dotenv_lines() -> None:
    text = "# comment\n\nexport HOST=127.0.0.1:8765\nTOKEN='a b # c'\nQ=\"x\\\"y\\nz\"\nPLAIN=v # note\nEMPTY=\n"
    assert parse_dotenv(text, "f.env") == {"HOST": "127.0.0.1:8765", "TOKEN": "a b # c", "Q": 'x"y\nz',
                                           "PLAIN": "v", "EMPTY": ""}


def test_a_comment_may_follow_a_closing_quote() -> None:
    text = "b='lit' # c\nd=\"x \\\" # y\" # z\ne='a'#tight\n"
    assert parse_dotenv(text, "t.env") == {"b": "lit", "d": 'x " # y', "e": "a"}


def test_a_name_given_twice_is_warned_about_naming_both_lines() -> None:
    warnings: list[str] = []
    assert parse_dotenv("a=1\n# x\na=2\n", "t.env", warnings) == {"a": "2"}
    assert warnings == ["t.env: a is given on line 1 and again on line 3; line 3 wins"]


@pytest.mark.parametrize(("text", "says"), [
    ("A=1\nnot a pair\n", "f.env, line 2: expected NAME=value"),
    ("A=1\n\n9x=2\n", "f.env, line 3: '9x' is not a variable name"),
    ("A='open\n", "f.env, line 1: A: the value's closing ' is missing"),
    ('A="open \\"\n', 'f.env, line 1: A: the value\'s closing " is missing'),
    ("A='x' y\n", "f.env, line 1: A: 'y' follows the closing ' \\(a comment starts with #\\)"),
])
def test_a_bad_dotenv_line_is_named(text: str, says: str) -> None:
    with pytest.raises(EnvironmentsError, match="^" + says):
        parse_dotenv(text, "f.env")


def test_json_and_yaml_files(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text('{"host": "h:1", "port": 8765, "tls": false}', "utf-8")
    (tmp_path / "e.yaml").write_text("host: h:2\nretries: 3\n", "utf-8")
    assert read_env_file(tmp_path / "e.json") == {"host": "h:1", "port": "8765", "tls": "false"}
    assert read_env_file(tmp_path / "e.yaml") == {"host": "h:2", "retries": "3"}


@pytest.mark.parametrize(("name", "text", "says"), [
    ("e.json", '["a"]', "expected a mapping of variable names to values, not list"),
    ("e.json", '{"a": {"b": 1}}', "a: the value must be a string, a number or a boolean"),
    ("e.json", '{"a": ', "not valid JSON"),
    ("e.yml", "a: 1\n b: [\n", "not valid YAML (line 2)"),
])
def test_a_bad_env_file_is_named(tmp_path: Path, name: str, text: str, says: str) -> None:
    (tmp_path / name).write_text(text, "utf-8")
    with pytest.raises(EnvironmentsError) as info:
        read_env_file(tmp_path / name)
    assert str(info.value).startswith(str(tmp_path / name))
    assert says in str(info.value)


def test_a_missing_env_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentsError, match=r"cannot read the environment file .*nope\.env"):
        read_env_file(tmp_path / "nope.env")
