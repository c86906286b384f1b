"""Connecting with auth against real peers on 127.0.0.1, with both engines: a ``websockets`` gate that opens only
for the right Authorization, Cookie or API key (401 otherwise), and aiohttp login and OAuth token endpoints."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.auth_peers import CLIENT_ID, PASSWORD, USER, gate, query
from wsinspector.app.connection import ConnectionController
from wsinspector.core.events import FailureKind
from wsinspector.core.profiles import Auth, ConnectionProfile, Endpoint, Handshake, Health, Protocol, Proxy, Tls

WAIT_MS = 10_000
ENGINES = ("wire", "qt")


@pytest.fixture
def controller(qtbot: Any) -> Iterator[ConnectionController]:
    controller = ConnectionController(None)
    yield controller
    controller.shutdown()


def profile(url: str, engine: str, auth: Auth, **more: Any) -> ConnectionProfile:
    return ConnectionProfile(name="auth", endpoint=Endpoint(url), protocol=Protocol(engine=engine), auth=auth,
                             **more)


def opens(qtbot: Any, controller: ConnectionController, profile: ConnectionProfile) -> None:
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        assert controller.connect_to(profile)
    controller.disconnect()
    qtbot.waitUntil(lambda: controller.state.value == "closed", timeout=WAIT_MS)


def fails(qtbot: Any, controller: ConnectionController, profile: ConnectionProfile) -> Any:
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as blocker:
        controller.connect_to(profile)
    return blocker.args[0]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("engine", ENGINES)
def test_basic_auth_opens_the_gate_and_a_wrong_password_is_refused(qtbot, websockets_server, controller, engine):
    seen: list[Any] = []
    server = websockets_server(process_request=gate(
        lambda path, headers: headers.get("Authorization") == basic(USER, PASSWORD), seen))
    auth = Auth(kind="basic", username=USER, password="{{password}}")
    opens(qtbot, controller, profile(str(server.url), engine, auth, variables=(("password", PASSWORD),)))
    failure = fails(qtbot, controller, profile(str(server.url), engine, auth, variables=(("password", "wrong"),)))
    assert failure.kind is FailureKind.HANDSHAKE_REJECTED and failure.http_status == 401
    assert [headers["authorization"] for _, headers in seen] == [basic(USER, PASSWORD), basic(USER, "wrong")]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_api_key_in_the_query_is_encoded_and_in_a_header_sent_as_is(qtbot, websockets_server, controller,
                                                                        engine):
    key = "k&y=1 é/"
    seen: list[Any] = []
    server = websockets_server(process_request=gate(
        lambda path, headers: query(path).get("api_key") == [key] or headers.get("X-Api-Key") == key, seen))
    opens(qtbot, controller, profile(str(server.url) + "?room=1", engine,
                                     Auth(kind="api_key", api_key_name="api_key", api_key_value=key,
                                          api_key_in="query")))
    assert query(seen[-1][0]) == {"room": ["1"], "api_key": [key]}
    header_key = "k&y=1/+"  # a header value is ASCII
    seen.clear()
    server_check = gate(lambda path, headers: headers.get("X-Api-Key") == header_key, seen)
    server = websockets_server(process_request=server_check)
    opens(qtbot, controller, profile(str(server.url), engine,
                                     Auth(kind="api_key", api_key_name="X-Api-Key", api_key_value=header_key)))
    failure = fails(qtbot, controller, profile(str(server.url), engine,
                                               Auth(kind="api_key", api_key_name="X-Api-Key", api_key_value="no")))
    assert failure.http_status == 401


@pytest.mark.parametrize("engine", ENGINES)
def test_cookies_join_the_cookie_header_the_user_typed(qtbot, websockets_server, controller, engine):
    seen: list[Any] = []
    server = websockets_server(process_request=gate(
        lambda path, headers: headers.get("Cookie") == "lang=en; sid=42", seen))
    opens(qtbot, controller, profile(str(server.url), engine, Auth(cookies="sid={{sid}}"),
                                     handshake=Handshake(headers=(("Cookie", "lang=en"),)),
                                     variables=(("sid", "42"),)))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_login_before_connecting_gives_the_token_the_handshake_carries(qtbot, websockets_server, auth_endpoints,
                                                                         controller, engine):
    seen: list[Any] = []
    server = websockets_server(process_request=gate(
        lambda path, headers: headers.get("Authorization") == f"Bearer {auth_endpoints.tokens[-1]}", seen))
    auth = Auth(kind="bearer", token="{{token}}", login_url=auth_endpoints.url("/login"),
                login_body='{"user": "{{user}}", "password": "{{password}}"}',
                login_captures=(("token", "data.token"),))
    variables = (("user", USER), ("password", PASSWORD), ("token", "not this one"))
    opens(qtbot, controller, profile(str(server.url), engine, auth, variables=variables))
    assert auth_endpoints.logins == 1
    assert seen[-1][1]["authorization"] == "Bearer T0001"  # the captured value wins over the profile's


@pytest.mark.parametrize(("path", "body", "capture", "said"), [
    ("/login", '{"user": "ann", "password": "wrong"}', "data.token",
     r'answered HTTP 401 Unauthorized: "{"error": "bad credentials"}"'),
    ("/page", "", "data.token", r"answered HTTP 200 OK that is not JSON (text/html; charset=utf-8)"),
    ("/login", '{"user": "ann", "password": "pa ss"}', "$.data.session", r"has no $.data.session for {{token}}"),
])
def test_a_login_that_does_not_give_its_value_stops_the_connect_and_says_why(
        qtbot, websockets_server, auth_endpoints, controller, path, body, capture, said):
    seen: list[Any] = []
    server = websockets_server(process_request=gate(lambda path, headers: True, seen))
    auth = Auth(kind="bearer", token="{{token}}", login_method="POST" if path == "/login" else "GET",
                login_url=auth_endpoints.url(path), login_body=body, login_captures=(("token", capture),))
    failure = fails(qtbot, controller, profile(str(server.url), "wire", auth))
    assert failure.kind is FailureKind.AUTH
    assert f"Pre-connect request {auth.login_method} {auth_endpoints.url(path)}" in failure.message
    assert said in failure.message
    assert not seen  # the WebSocket was never opened
    assert controller.state.value == "closed"


def test_a_login_nobody_answers_is_named(qtbot, controller, websockets_server):
    from tests.conftest import free_port

    server = websockets_server()
    auth = Auth(login_url=f"http://127.0.0.1:{free_port()}/login", login_captures=(("t", "t"),))
    failure = fails(qtbot, controller, profile(str(server.url), "wire", auth))
    assert failure.kind is FailureKind.AUTH and "failed: Connection refused" in failure.message


def oauth(endpoints: Any, secret: str = "{{client_secret}}") -> Auth:
    return Auth(kind="oauth2_client_credentials", token_url=endpoints.url("/token"), client_id=CLIENT_ID,
                client_secret=secret, scope="read write")


@pytest.mark.parametrize("engine", ENGINES)
def test_oauth_token_is_fetched_once_and_reused_until_it_expires(qtbot, websockets_server, auth_endpoints,
                                                                 controller, engine):
    seen: list[Any] = []
    server = websockets_server(process_request=gate(
        lambda path, headers: headers.get("Authorization") in [f"Bearer {t}" for t in auth_endpoints.tokens], seen))
    connection = profile(str(server.url), engine, oauth(auth_endpoints), variables=(("client_secret",
                                                                                      "s3cret&more"),))
    opens(qtbot, controller, connection)
    opens(qtbot, controller, connection)
    assert auth_endpoints.token_requests == 1 and auth_endpoints.scopes == ["read write"]
    assert [headers["authorization"] for _, headers in seen] == ["Bearer A0001", "Bearer A0001"]
    failure = fails(qtbot, controller, profile(str(server.url), engine, oauth(auth_endpoints, "wrong")))
    assert failure.kind is FailureKind.AUTH
    assert "OAuth token request POST" in failure.message and "401 Unauthorized: invalid_client: unknown client" \
        in failure.message


def test_an_expired_token_is_fetched_again_when_the_connection_reconnects(qtbot, websockets_server,
                                                                           auth_endpoints, controller):
    auth_endpoints.expires_in = 0.001  # expired by the time the connection drops
    seen: list[Any] = []

    async def drop(ws: Any) -> None:
        await ws.close(1012, "restart")

    server = websockets_server(drop, process_request=gate(lambda path, headers: True, seen))
    reconnecting = Health(reconnect=True, reconnect_base_s=0.02, reconnect_max_s=0.05)
    with qtbot.waitSignals([controller.opened, controller.opened], timeout=WAIT_MS):
        controller.connect_to(profile(str(server.url), "wire", oauth(auth_endpoints, "s3cret&more"),
                                      health=reconnecting))
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=WAIT_MS)
    controller.shutdown()
    assert [headers["authorization"] for _, headers in seen[:2]] == ["Bearer A0001", "Bearer A0002"]
    assert auth_endpoints.token_requests >= 2


def test_a_reconnect_reuses_a_token_that_is_still_valid(qtbot, websockets_server, auth_endpoints, controller):
    seen: list[Any] = []

    async def drop(ws: Any) -> None:
        await ws.close(1012, "restart")

    server = websockets_server(drop, process_request=gate(lambda path, headers: True, seen))
    reconnecting = Health(reconnect=True, reconnect_base_s=0.02, reconnect_max_s=0.05)
    opened: list[Any] = []
    controller.opened.connect(opened.append)
    controller.connect_to(profile(str(server.url), "wire", oauth(auth_endpoints, "s3cret&more"), health=reconnecting))
    qtbot.waitUntil(lambda: len(opened) >= 3, timeout=WAIT_MS)
    controller.shutdown()
    assert auth_endpoints.token_requests == 1
    assert {headers["authorization"] for _, headers in seen} == {"Bearer A0001"}


def test_stopping_a_connect_while_it_logs_in_ends_it_quietly(qtbot, controller, websockets_server):
    import socket

    with socket.socket() as silent:  # accepts the TCP connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        server = websockets_server()
        auth = Auth(login_url=f"http://127.0.0.1:{port}/login", login_captures=(("t", "t"),))
        failed: list[Any] = []
        controller.failed.connect(failed.append)
        with qtbot.waitSignal(controller.state_changed, check_params_cb=lambda s: s.value == "connecting"):
            controller.connect_to(profile(str(server.url), "wire", auth))
        assert controller.pre_connect.running
        with qtbot.waitSignal(controller.state_changed, check_params_cb=lambda s: s.value == "closed"):
            controller.disconnect()
        assert not controller.pre_connect.running and not failed


@pytest.mark.parametrize("mode", ["http", "socks5"])
def test_the_login_goes_through_the_connections_proxy(qtbot, websockets_server, auth_endpoints, controller,
                                                      proxy_server, mode):
    proxy = proxy_server()
    server = websockets_server()
    auth = Auth(login_url=auth_endpoints.url("/login"), login_body=f'{{"user": "{USER}", "password": "{PASSWORD}"}}',
                login_captures=(("token", "data.token"),))
    opens(qtbot, controller, profile(str(server.url), "wire", auth,
                                     proxy=Proxy(mode=mode, host="127.0.0.1", port=proxy.port)))
    qtbot.waitUntil(lambda: proxy.saw(f"-> 127.0.0.1:{auth_endpoints.port}"), timeout=WAIT_MS)
    assert auth_endpoints.logins == 1


def test_an_https_login_uses_the_connections_tls_settings(qtbot, run, websockets_server, controller, tmp_path):
    from tests.auth_peers import AuthEndpoints
    from tests.net.pki import Authority

    authority = Authority(tmp_path)
    endpoints = run(AuthEndpoints(ssl_context=authority.issue("login").server_context()).start())
    try:
        server = websockets_server()
        auth = Auth(login_url=endpoints.url("/login"), login_body=f'{{"user": "{USER}", "password": "{PASSWORD}"}}',
                    login_captures=(("token", "data.token"),))
        failure = fails(qtbot, controller, profile(str(server.url), "wire", auth))
        assert failure.kind is FailureKind.AUTH and f"POST {endpoints.url('/login')} failed: " in failure.message
        assert endpoints.logins == 0
        opens(qtbot, controller, profile(str(server.url), "wire", auth, tls=Tls(ca_file=str(authority.cert))))
        assert endpoints.logins == 1
    finally:
        run(endpoints.stop())


def test_the_login_takes_its_values_from_the_active_environment(qtbot, websockets_server, auth_endpoints,
                                                                 controller):
    """The layers a connect resolves with (globals, the environment) reach the login and the handshake, and a
    field of another auth kind that names an undefined variable is not asked for."""
    seen: list[Any] = []
    server = websockets_server(process_request=gate(
        lambda path, headers: headers.get("Authorization") == f"Bearer {auth_endpoints.tokens[-1]}", seen))
    auth = Auth(kind="bearer", token="{{token}}", username="{{only_for_basic}}",
                login_url=auth_endpoints.url("/login"),
                login_body='{"user": "{{user}}", "password": "{{password}}"}',
                login_captures=(("token", "data.token"),))
    controller.variables_source = lambda _profile: {"user": USER, "password": PASSWORD}
    opens(qtbot, controller, profile(str(server.url), "wire", auth))
    assert auth_endpoints.logins == 1
    assert seen[-1][1]["authorization"] == "Bearer T0001"
    controller.variables_source = lambda _profile: {"user": USER}
    failure = fails(qtbot, controller, profile(str(server.url), "wire", auth))
    assert failure.kind is FailureKind.INVALID_TARGET
    assert "{{password}} in auth login body" in failure.message and "only_for_basic" not in failure.message
    assert auth_endpoints.logins == 1  # nothing was sent


@pytest.mark.parametrize("engine", ENGINES)
def test_the_recorded_url_redacts_a_login_captured_value(qtbot, websockets_server, auth_endpoints, tmp_path,
                                                         engine):
    from wsinspector.core.store import Store

    seen: list[Any] = []
    server = websockets_server(process_request=gate(lambda path, headers: True, seen))
    auth = Auth(login_url=auth_endpoints.url("/login"), login_body='{"user": "{{user}}", "password": "{{password}}"}',
                login_captures=(("tok", "data.token"),))
    store = Store(tmp_path / "s.sqlite3")
    recording = ConnectionController(store)
    try:
        opens(qtbot, recording, profile(f"{server.url}?t={{{{tok}}}}", engine, auth,
                                        variables=(("user", USER), ("password", PASSWORD))))
        assert seen[-1][0] == "/?t=T0001"
        assert [record.url for record in store.sessions()] == [f"{server.url}?t=REDACTED"]
    finally:
        recording.shutdown()
        store.close()


class Flood:
    """A login endpoint, on its own thread, that answers 200 with a body far larger than the client reads (its
    Content-Length, or chunks with no end in sight), counting what it wrote before the client stopped reading."""

    CAP = 256 << 20  # the server stops here; a client that reads all of it did not stop at its limit

    def __init__(self, chunked: bool) -> None:
        import socket
        import threading

        self.chunked = chunked
        self.written = 0
        self.done = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/login"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        self._listener.close()
        framing = b"Transfer-Encoding: chunked" if self.chunked else b"Content-Length: 2000000000"
        piece = b"x" * (64 << 10)
        if self.chunked:
            piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + framing + b"\r\n\r\n")
                while self.written < self.CAP:
                    connection.sendall(piece)
                    self.written += len(piece)
            except OSError:
                pass
            finally:
                self.done.set()


@pytest.mark.parametrize(("chunked", "method"), [(False, "GET"), (True, "GET"), (False, "POST"), (True, "POST")])
def test_a_login_answer_past_the_limit_is_stopped_while_it_arrives(qtbot, controller, websockets_server, chunked,
                                                                    method):
    flood = Flood(chunked)
    auth = Auth(login_url=flood.url, login_method=method, login_body='{"user": "ann"}' if method == "POST" else "",
                login_captures=(("t", "t"),))
    failure = fails(qtbot, controller, profile(str(websockets_server().url), "wire", auth))
    assert failure.kind is FailureKind.AUTH and "the answer is larger than 1024 KiB" in failure.message
    qtbot.waitUntil(flood.done.is_set, timeout=WAIT_MS)
    # the read buffer and what the sockets hold: nowhere near the whole answer
    assert flood.written < Flood.CAP // 2
