"""What a connect needs before its WebSocket opens: the pre-connect request (a login whose JSON answer fills
variables), then the OAuth 2.0 client-credentials token (cached until it expires). The window's connections and
``wsinspector run`` both go through :class:`PreConnect`, so they authenticate alike."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

from PySide6.QtCore import QObject, Signal, Slot

from wsinspector.core.auth import (
    LOGIN_LABEL,
    AuthError,
    HttpRequest,
    HttpResponse,
    TokenCache,
    captures_from,
    login_request,
    parse_token,
    resolve_auth,
    token_request,
)
from wsinspector.core.profiles import AUTH_NONE, AUTH_OAUTH2, ConnectionProfile, ProfileError
from wsinspector.net.http import HttpExchange


def _now() -> float:
    return time.monotonic()


class PreConnect(QObject):
    """Runs the requests a profile's auth makes before connecting, one after the other.

    :meth:`start` raises :class:`ProfileError` for settings it cannot use, before anything is sent; what happens
    after comes through the signals, once: ``ready`` or ``failed``.

    Signals:
        answered(HttpRequest, HttpResponse): a request was answered (shown by "Send now")
        ready(dict, str): the variables the pre-connect request captured, and the OAuth access token ("" for
            another kind)
        failed(str): a request failed or its answer did not give what it should; the sentence names it
    """

    answered = Signal(object, object)
    ready = Signal(object, str)
    failed = Signal(str)

    def __init__(self, cache: TokenCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: OAuth tokens kept between connects (a connection keeps one cache for its reconnects)
        self.cache = cache if cache is not None else TokenCache()
        self._exchange: HttpExchange | None = None
        self._profile: ConnectionProfile | None = None
        self._variables: dict[str, str] = {}
        self._captured: dict[str, str] = {}
        self._login_only = False
        self._step: HttpRequest | None = None

    @property
    def running(self) -> bool:
        return self._exchange is not None

    def start(self, profile: ConnectionProfile, variables: Mapping[str, str] | None = None, *,
              login_only: bool = False) -> None:
        """Begin with the pre-connect request (if any), then the token (if the kind is OAuth and
        ``login_only`` is not set). ``variables``: the values the profile's are expanded with (its own by
        default)."""
        self.abort()
        self._profile = profile
        self._variables = dict(profile.variables) if variables is None else dict(variables)
        self._captured = {}
        self._login_only = login_only
        login = resolve_auth(replace(profile.auth, kind=AUTH_NONE, cookies=""), self._variables)
        request = login_request(login)
        if request is None and login_only:
            raise AuthError("There is no pre-connect request: enter its URL first")
        if request is not None:
            self._send(request)
        else:
            self._after_login()

    def abort(self) -> None:
        """Stop whatever is under way; nothing more is signalled."""
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.abort()
            exchange.deleteLater()

    def _send(self, request: HttpRequest) -> None:
        profile = self._profile
        assert profile is not None
        variables = {**self._variables, **self._captured}
        tls = profile.tls.resolved(variables)
        proxy = profile.proxy.resolved(variables)
        exchange = HttpExchange(self)
        exchange.finished.connect(self._on_answer)
        exchange.failed.connect(self._on_failed)
        self._exchange = exchange
        self._step = request
        try:
            exchange.start(request, tls, proxy, profile.handshake.timeout_s)
        except ValueError as exc:
            self.abort()
            raise ProfileError(f"{request.title}: {exc}") from None

    def _after_login(self) -> None:
        """The token step, if the kind asks for one and no cached token will do; else ready."""
        profile = self._profile
        assert profile is not None
        if self._login_only or profile.auth.kind != AUTH_OAUTH2:
            self.ready.emit(dict(self._captured), "")
            return
        auth = resolve_auth(replace(profile.auth, login_url="", cookies=""), {**self._variables, **self._captured})
        cached = self.cache.get(auth, _now())
        if cached is not None:
            self.ready.emit(dict(self._captured), cached)
            return
        request = token_request(auth)
        assert request is not None
        self._send(request)

    @Slot(object)
    def _on_answer(self, response: HttpResponse) -> None:
        request, profile = self._step, self._profile
        self.abort()
        assert request is not None and profile is not None
        self.answered.emit(request, response)
        try:
            if request.label == LOGIN_LABEL:
                login = resolve_auth(replace(profile.auth, kind=AUTH_NONE, cookies=""), self._variables)
                self._captured = captures_from(request, response, login.login_captures)
                self._after_login()
                return
            auth = resolve_auth(replace(profile.auth, login_url="", cookies=""),
                                {**self._variables, **self._captured})
            token = parse_token(request, response)
            self.cache.put(auth, token, _now())
            self.ready.emit(dict(self._captured), token.access_token)
        except ProfileError as exc:
            self.abort()
            self.failed.emit(str(exc))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.abort()
        self.failed.emit(message)

