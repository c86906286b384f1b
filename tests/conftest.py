"""Shared fixtures: one session-wide qasync loop over pytest-qt's QApplication, real peers on loopback,
and a check that no socket or timer outlives its test."""

from __future__ import annotations

import asyncio
import atexit
import gc
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never the developer's own keyring: the app keeps secrets in memory (by choice, so nothing warns), and keyring
# itself, should anything ask it, is keyring's placeholder that keeps nothing. Child processes inherit both.
# The tests of the real keyring (tests/app/test_keyring.py) set up a Secret Service of their own.
os.environ["WSINSPECTOR_KEYRING"] = "memory"
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
# Never the developer's own settings either: Qt's settings file (the window's remembered state) lives in a folder
# of the run's own, for this process (QSettings' path) and for child processes (XDG_CONFIG_HOME, where Qt reads it).
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="wsinspector-test-config-")

import pytest

from wsinspector.core.store import Store

_SETTINGS_HOME = os.environ["XDG_CONFIG_HOME"]
atexit.register(shutil.rmtree, _SETTINGS_HOME, True)

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    """Qt's settings of this process in the run's own folder (see ``_SETTINGS_HOME``)."""
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # the core's tests run without Qt
        return
    for kind in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(kind, QSettings.Scope.UserScope, _SETTINGS_HOME)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The collected tests (thousands of items, their marks and parameters) live until the run ends: frozen out
    of the collector's reach, so that the ``gc.collect()`` and the leftover scan after each Qt test
    (``no_leftovers``) walk only what the tests made, not the whole collection each time."""
    gc.collect()
    gc.freeze()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Where pytest-qt is not installed (the core's tests run without Qt: scripts/test-core-headless), its
    settings in pyproject.toml still have to be known options under ``--strict-config``."""
    try:
        import pytestqt  # noqa: F401
    except ImportError:
        parser.addini("qt_api", "read by pytest-qt")
        parser.addini("qt_log_level_fail", "read by pytest-qt")


@pytest.fixture(scope="session")
def aloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """The asyncio loop every test shares. It runs inside Qt's event loop and is never stopped or closed:
    ``QEventLoop.stop()`` would call ``QApplication.exit()`` and break pytest-qt's waits."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop


@pytest.fixture
def run(qtbot: Any, aloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """``run(coro, timeout=10)``: run a coroutine on the shared loop while Qt keeps processing events."""

    def _run(awaitable: Awaitable[T], timeout: float = 10.0) -> T:
        future = asyncio.ensure_future(awaitable, loop=aloop)
        qtbot.waitUntil(future.done, timeout=int(timeout * 1000))
        return future.result()

    return _run


@pytest.fixture
def hostile(run: Callable[..., Any]) -> Iterator[Callable[..., str]]:
    """``hostile(behaviour)`` starts a HostileServer (tests/peers.py) and returns its ws:// URL; every one
    started is stopped after the test."""
    from tests.peers import HostileServer

    servers: list[HostileServer] = []

    def start(behaviour: Any) -> str:
        server = HostileServer(behaviour)
        servers.append(server)
        return str(run(server.start()))

    yield start
    for server in servers:
        run(server.stop())


@pytest.fixture
def websockets_server(run: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """``websockets_server(handler=None, **serve_kwargs)`` starts a WebsocketsPeer (tests/peers.py; echo by
    default) and returns it; every one started is stopped after the test."""
    from tests.peers import WebsocketsPeer

    peers: list[WebsocketsPeer] = []

    def start(handler: Any = None, **serve_kwargs: Any) -> WebsocketsPeer:
        peer = WebsocketsPeer(handler, **serve_kwargs)
        peers.append(peer)
        run(peer.start())
        return peer

    yield start
    for peer in peers:
        run(peer.stop())


@pytest.fixture
def peer(websockets_server: Callable[..., Any]) -> Callable[..., str]:
    """``peer(handler=None)`` starts a WebsocketsPeer (echo by default) and returns its ws:// URL."""
    return lambda handler=None: str(websockets_server(handler).url)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """The store of the test's data folder, closed after the test."""
    opened = Store(data_dir / "wsinspector.sqlite3")
    yield opened
    opened.close()


def _live_qt_leftovers() -> list[str]:
    import shiboken6
    from PySide6.QtCore import QThread, QTimer
    from PySide6.QtNetwork import QAbstractSocket
    from PySide6.QtWebSockets import QWebSocket, QWebSocketServer

    found = []
    for obj in gc.get_objects():
        try:
            if not isinstance(obj, QTimer | QThread | QWebSocket | QWebSocketServer | QAbstractSocket):
                continue
            if not shiboken6.isValid(obj):
                continue
        except ReferenceError:
            continue
        if isinstance(obj, QTimer) and obj.isActive():
            found.append(f"active QTimer {obj.objectName() or obj!r} (parent {obj.parent()!r})")
        elif isinstance(obj, QThread) and obj.isRunning():
            found.append(f"running QThread {obj!r}")
        elif isinstance(obj, QWebSocket) and obj.state() != QAbstractSocket.SocketState.UnconnectedState:
            found.append(f"QWebSocket still {obj.state().name} to {obj.requestUrl().toString()}")
        elif (isinstance(obj, QAbstractSocket) and obj.state() != QAbstractSocket.SocketState.UnconnectedState
              and not isinstance(obj.parent(), QWebSocket)):  # a QWebSocket's own socket is reported above
            found.append(f"socket still {obj.state().name} to {obj.peerName() or obj.peerAddress().toString()}")
        elif isinstance(obj, QWebSocketServer) and obj.isListening():
            found.append(f"QWebSocketServer still listening on {obj.serverUrl().toString()}")
    return found


@pytest.fixture(autouse=True)
def no_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a Qt test that leaves an active timer, a running thread or an open socket (QWebSocket or the Wire
    engine's QTcpSocket) behind."""
    yield
    if "qapp" not in request.fixturenames and "qtbot" not in request.fixturenames:
        return
    import time

    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop

    # Let pending closes and deleteLater() calls finish: process events until clean, for 3 s at most.
    deadline = time.monotonic() + 3.0
    leftovers = _live_qt_leftovers()
    while leftovers and time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        leftovers = _live_qt_leftovers()
    # Collect the test's garbage here, between tests: left to the collector's own timing, a Qt object's
    # wrapper can be freed by an allocation in the middle of the next test's Qt call, inside a signal
    # disconnect that holds the lock its destructor needs (a deadlock).
    gc.collect()
    if leftovers:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(leftovers))


# -- a real proxy ---------------------------------------------------------------------------------------


@dataclass
class RunningProxy:
    port: int
    log: Path

    def saw(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def proxy_server(qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., RunningProxy]]:
    """``proxy_server(auth="user:password")`` starts pproxy on 127.0.0.1 speaking HTTP CONNECT and SOCKS5."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(auth: str = "") -> RunningProxy:
        port = free_port()
        log = tmp_path / f"proxy-{port}.log"
        listen = f"http+socks5://127.0.0.1:{port}" + (f"#{auth}" if auth else "")
        with log.open("wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "pproxy", "-l", listen, "-v"], stdout=out,
                                          stderr=subprocess.STDOUT))

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        qtbot.waitUntil(listening, timeout=20_000)
        return RunningProxy(port, log)

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture
def auth_endpoints(run: Callable[..., Any]) -> Iterator[Any]:
    """The login and OAuth token endpoints of tests/auth_peers.py (aiohttp, 127.0.0.1), stopped afterwards."""
    from tests.auth_peers import AuthEndpoints

    endpoints = run(AuthEndpoints().start())
    yield endpoints
    run(endpoints.stop())


@pytest.fixture
def signalr_hub(run: Callable[..., Any]) -> Iterator[Any]:
    """A SignalR hub answering as the JSON hub protocol says (tests/decoder_peers.py)."""
    from tests.decoder_peers import SignalRHub

    server = run(SignalRHub().start())
    yield server
    run(server.stop())


@pytest.fixture
def phoenix_endpoint(run: Callable[..., Any]) -> Iterator[Any]:
    """A Phoenix socket answering as the channels' V2 serializer says (tests/decoder_peers.py)."""
    from tests.decoder_peers import PhoenixEndpoint

    server = run(PhoenixEndpoint().start())
    yield server
    run(server.stop())
