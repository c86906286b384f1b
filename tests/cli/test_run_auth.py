"""``wsinspector run`` with a test file's ``auth`` section, in a real subprocess, against a ``websockets`` gate
and aiohttp login and OAuth token endpoints on 127.0.0.1; secrets come from ``--var`` and the environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.auth_peers import CLIENT_ID, CLIENT_SECRET, PASSWORD, USER, gate
from tests.cli.conftest import Cli

STEPS = """\
steps:
  - send:
      text: hello
  - expect:
      text: hello
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auth.wstest.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def token_gate(endpoints: Any, seen: list[Any]) -> Callable[..., Any]:
    return gate(lambda path, headers: headers.get("Authorization") in [f"Bearer {t}" for t in endpoints.tokens],
                seen)


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_a_login_before_connecting_then_the_token_in_the_handshake(cli: Cli, websockets_server: Any,
                                                                   auth_endpoints: Any, tmp_path: Path,
                                                                   engine: str):
    seen: list[Any] = []
    server = websockets_server(process_request=token_gate(auth_endpoints, seen))
    test = write(tmp_path, f"""\
version: 1
url: {server.url}
auth:
  kind: bearer
  token: '{{{{token}}}}'
  login:
    url: {auth_endpoints.url("/login")}
    body: '{{"user": "{USER}", "password": "{{{{password}}}}"}}'
    capture:
      token: data.token
{STEPS}""")
    result = cli("run", str(test), "--no-record", "--engine", engine, "--var", "password",
                 env={"PASSWORD": PASSWORD})
    assert result.returncode == 0, result.output
    assert auth_endpoints.logins == 1
    assert seen[-1][1]["authorization"] == "Bearer T0001"
    assert PASSWORD not in result.output

    steps = "text: 'token {{token}}'\n  - expect:\n      text: 'nope {{token}}'"
    echo = write(tmp_path, test.read_text().replace("text: hello\n  - expect:\n      text: hello", steps))
    result = cli("run", str(echo), "--no-record", "--engine", engine, "--var", "password",
                 env={"PASSWORD": PASSWORD})
    assert result.returncode == 1, result.output  # the steps have the login's {{token}} too
    assert "T0002" not in result.output and "nope ***" in result.output
    assert len(auth_endpoints.tokens) == 2

    result = cli("run", str(test), "--no-record", "--engine", engine, "--var", "password=wrong")
    assert result.returncode == 2, result.output
    assert (f"Authentication before connecting failed: Pre-connect request POST {auth_endpoints.url('/login')} "
            "answered HTTP 401 Unauthorized") in result.stdout
    assert len(seen) == 2  # no WebSocket attempt after the failed login


def test_oauth_client_credentials_from_the_environment(cli: Cli, websockets_server: Any, auth_endpoints: Any,
                                                       tmp_path: Path):
    seen: list[Any] = []
    server = websockets_server(process_request=token_gate(auth_endpoints, seen))
    test = write(tmp_path, f"""\
version: 1
url: {server.url}
auth:
  kind: oauth2_client_credentials
  token_url: {auth_endpoints.url("/token")}
  client_id: '{CLIENT_ID}'
  client_secret: '{{{{client_secret}}}}'
  scope: read
{STEPS}""")
    result = cli("run", str(test), "--no-record", "--var", "client_secret", env={"CLIENT_SECRET": CLIENT_SECRET})
    assert result.returncode == 0, result.output
    assert auth_endpoints.token_requests == 1 and auth_endpoints.scopes == ["read"]
    assert seen[-1][1]["authorization"] == "Bearer A0001"
    assert CLIENT_SECRET not in result.output
    result = cli("run", str(test), "--no-record")
    assert result.returncode == 2
    assert "{{client_secret}} (used in auth.client_secret)" in result.stderr


def test_api_key_and_cookies_from_variables(cli: Cli, websockets_server: Any, tmp_path: Path):
    seen: list[Any] = []
    server = websockets_server(process_request=gate(
        lambda path, headers: "key=k%201" in path and headers.get("Cookie") == "sid=42", seen))
    test = write(tmp_path, f"""\
version: 1
url: {server.url}
auth:
  kind: api_key
  api_key_name: key
  api_key_value: '{{{{key}}}}'
  api_key_in: query
  cookies:
    sid: '{{{{sid}}}}'
{STEPS}""")
    result = cli("run", str(test), "--no-record", "--var", "key=k 1", "--var", "sid=42")
    assert result.returncode == 0, result.output
    assert "key=REDACTED" in result.stdout.splitlines()[0] and "k%201" not in result.output


def test_a_literal_secret_in_the_test_file_is_refused(cli: Cli, tmp_path: Path):
    test = write(tmp_path, f"""\
version: 1
url: ws://127.0.0.1:9/
auth:
  kind: basic
  username: ann
  password: hunter2
{STEPS}""")
    result = cli("run", str(test), "--no-record")
    assert result.returncode == 2
    assert "line 6, column 13: auth.password: a secret is not written in a test file: write '{{password}}'" \
        in result.stderr
    assert "hunter2" not in result.output


def login_test(tmp_path: Path, server_url: str, login_url: str, capture: str) -> Path:
    return write(tmp_path, f"""\
version: 1
url: {server_url}?t={{{{tok}}}}
auth:
  login:
    url: {login_url}
    body: '{{"user": "{USER}", "password": "{{{{password}}}}"}}'
    capture:
      tok: {capture}
{STEPS}""")


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_a_login_capture_that_is_an_object_stops_the_connect(cli: Cli, websockets_server: Any,
                                                             auth_endpoints: Any, tmp_path: Path, engine: str):
    seen: list[Any] = []
    server = websockets_server(process_request=gate(lambda path, headers: True, seen))
    test = login_test(tmp_path, server.url, auth_endpoints.url("/login"), "data.user")
    result = cli("run", str(test), "--no-record", "--engine", engine, "--var", f"password={PASSWORD}")
    assert result.returncode == 2, result.output
    assert (f"Authentication before connecting failed: Pre-connect request POST {auth_endpoints.url('/login')}: "
            "$.data.user is an object, not a string (for {{tok}})") in result.stdout
    assert seen == []  # no WebSocket attempt


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_the_url_printed_and_recorded_redacts_a_captured_value(cli: Cli, websockets_server: Any,
                                                               auth_endpoints: Any, tmp_path: Path, engine: str):
    from wsinspector.app.context import DB_NAME
    from wsinspector.core.store import Store

    seen: list[Any] = []
    server = websockets_server(process_request=gate(lambda path, headers: True, seen))
    test = login_test(tmp_path, server.url, auth_endpoints.url("/login"), "data.token")
    data_dir = tmp_path / "data"
    result = cli("run", str(test), "--data-dir", str(data_dir), "--engine", engine, "--var",
                 f"password={PASSWORD}")
    assert result.returncode == 0, result.output
    assert seen[-1][0] == "/?t=T0001"
    assert f"against {server.url}?t=REDACTED ({engine} engine" in result.stdout.splitlines()[0]
    store = Store(data_dir / DB_NAME)
    try:
        assert [record.url for record in store.sessions()] == [f"{server.url}?t=REDACTED"]
    finally:
        store.close()


def test_a_redirected_token_request_names_where_it_points(cli: Cli, auth_endpoints: Any, tmp_path: Path):
    test = write(tmp_path, f"""\
version: 1
url: ws://127.0.0.1:9/
auth:
  kind: oauth2_client_credentials
  token_url: {auth_endpoints.url("/moved")}
  client_id: '{CLIENT_ID}'
  client_secret: '{{{{client_secret}}}}'
{STEPS}""")
    result = cli("run", str(test), "--no-record", "--var", f"client_secret={CLIENT_SECRET}")
    assert result.returncode == 2, result.output
    assert (f"OAuth token request POST {auth_endpoints.url('/moved')} answered HTTP 302 Found, a redirect to "
            "http://127.0.0.2:9/token?client_secret=REDACTED: a request before connecting does not follow "
            "redirects") in result.stdout
