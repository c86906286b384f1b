"""Real peers for the auth tests on 127.0.0.1: an aiohttp app with a login endpoint and an OAuth 2.0
client-credentials token endpoint (counting what they are asked, so caching and refreshing show), and a
``websockets`` gate that opens only for the right credentials and answers 401 to anything else."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

USER, PASSWORD = "ann", "pa ss"
CLIENT_ID, CLIENT_SECRET = "app:1", "s3cret&more"


@dataclass
class AuthEndpoints:
    """``/login`` (POST JSON ``{"user", "password"}`` -> ``{"data": {"token": "T1"}}``), ``/page`` (HTML),
    ``/token`` (OAuth client credentials: the client from Basic auth or the form -> ``access_token``,
    ``expires_in``). ``tokens`` holds every token handed out, in order."""

    expires_in: float | None = 3600
    logins: int = 0
    token_requests: int = 0
    tokens: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    runner: Any = None
    port: int = 0
    #: a server TLS context: the endpoints speak https://
    ssl_context: Any = None
    _serial: Any = field(default_factory=itertools.count)

    def url(self, path: str) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def start(self) -> AuthEndpoints:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/login", self._login)
        app.router.add_get("/page", self._page)
        app.router.add_post("/token", self._token)
        app.router.add_route("*", "/moved", self._moved)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def _issue(self, prefix: str) -> str:
        token = f"{prefix}{next(self._serial) + 1:04d}"
        self.tokens.append(token)
        return token

    async def _login(self, request: Any) -> Any:
        from aiohttp import web

        self.logins += 1
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "send JSON"}, status=400)
        if body != {"user": USER, "password": PASSWORD}:
            return web.json_response({"error": "bad credentials"}, status=401)
        return web.json_response({"data": {"token": self._issue("T"), "user": {"id": 7}}})

    async def _page(self, request: Any) -> Any:
        from aiohttp import web

        return web.Response(text="<html>hello</html>", content_type="text/html")

    async def _moved(self, request: Any) -> Any:
        from aiohttp import web

        raise web.HTTPFound("http://127.0.0.2:9/token?client_secret=zzz")

    async def _token(self, request: Any) -> Any:
        from aiohttp import web

        self.token_requests += 1
        form = await request.post()
        client = (form.get("client_id"), form.get("client_secret"))
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            client = (unquote(user), unquote(password))
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if client != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client", "error_description": "unknown client"}, status=401)
        self.scopes.append(str(form.get("scope", "")))
        answer: dict[str, Any] = {"access_token": self._issue("A"), "token_type": "Bearer"}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return web.json_response(answer)


def gate(allowed: Callable[[str, Any], bool], seen: list[tuple[str, dict[str, str]]]) -> Callable[..., Any]:
    """A ``process_request`` for ``websockets.serve``: records (path, headers) of every attempt and answers
    401 unless ``allowed(path, headers)``."""

    def process_request(connection: Any, request: Any) -> Any:
        seen.append((request.path, {k.lower(): v for k, v in request.headers.raw_items()}))
        if allowed(request.path, request.headers):
            return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "who are you?\n")

    return process_request


def query(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query)
