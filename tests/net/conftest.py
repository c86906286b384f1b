"""The ``net`` fixture: starts real peers on 127.0.0.1, opens recorded connections to them, and at the end
aborts every connection and stops every peer, whatever the test did. ``served``: a WireServer under test
(``tests/net/served.py``), stopped after the test.

Every test that takes ``net`` runs once per engine ("qt": QtConnection, "wire": WireConnection), so both
engines answer to the same suite; ``net.engine`` and ``net.sees_every_frame`` tell a test which one it has."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from tests.net.served import Served
from tests.peers import Behaviour, HostileServer, QtPeer, WebsocketsPeer
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, OpenInfo
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.profiles import ConnectionProfile, Endpoint, ResolvedTarget
from wsinspector.net.client import QtConnection
from wsinspector.net.server import EchoServer
from wsinspector.net.wire import WireConnection

WAIT_MS = 5000


@pytest.fixture
def served(qtbot: Any) -> Iterator[Served]:
    serving = Served(qtbot)
    yield serving
    serving.stop()


@dataclass
class Recorded:
    """A connection and everything it reported, in order."""

    conn: Any
    frames: list[Frame] = field(default_factory=list)
    states: list[ConnectionState] = field(default_factory=list)
    opened: list[OpenInfo] = field(default_factory=list)
    closed: list[CloseInfo] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.conn.frame.connect(self.frames.append)
        self.conn.state_changed.connect(self.states.append)
        self.conn.opened.connect(self.opened.append)
        self.conn.closed.connect(self.closed.append)
        self.conn.failed.connect(self.failed.append)

    def incoming(self, *, data_only: bool = False) -> list[Frame]:
        return [f for f in self.frames if f.direction is Direction.IN
                and not (data_only and f.opcode.is_control)]

    def outgoing(self) -> list[Frame]:
        return [f for f in self.frames if f.direction is Direction.OUT]

    def refused(self, engine_sees_it: bool, opcode: Opcode, length: int, masked: bool = False) -> None:
        """Assert what the timeline shows of a frame the engine refused: with the Wire engine exactly one row,
        its real header and why, no payload; with the Qt engine nothing."""
        data = self.incoming(data_only=True)
        if not engine_sees_it:
            assert data == []
            return
        [row] = data
        assert (row.opcode, row.payload, row.payload_length, row.masked) == (opcode, b"", length, masked)
        assert (row.mask_key is not None) is masked
        assert row.note.startswith("rejected") and row.note.endswith("payload not shown"), row.note

    def in_closes(self) -> list[Frame]:
        return [f for f in self.incoming() if f.opcode is Opcode.CLOSE]


def is_in_final(frame: Frame) -> bool:
    """waitSignal check: an incoming data frame that ends its message."""
    return frame.direction is Direction.IN and not frame.opcode.is_control and frame.fin is True


def is_in(opcode: Opcode) -> Callable[[Frame], bool]:
    return lambda frame: frame.direction is Direction.IN and frame.opcode is opcode


class Net:
    ENGINES: ClassVar[dict[str, type[QtConnection | WireConnection]]] = {"qt": QtConnection, "wire": WireConnection}

    def __init__(self, qtbot: Any, run: Callable[..., Any], engine: str = "qt") -> None:
        self.qtbot = qtbot
        self.run = run
        self.engine = engine
        self.sees_every_frame = engine == "wire"
        self._conns: list[Any] = []
        self._async_peers: list[WebsocketsPeer | HostileServer] = []
        self._qt_peers: list[QtPeer] = []
        self._echo_servers: list[EchoServer] = []

    # -- peers ----------------------------------------------------------------------------------------

    def websockets_peer(self, handler: Callable[[Any], Awaitable[None]] | None = None,
                        **serve_kwargs: Any) -> tuple[WebsocketsPeer, str]:
        peer = WebsocketsPeer(handler, **serve_kwargs)
        self._async_peers.append(peer)
        return peer, self.run(peer.start())

    def hostile(self, behaviour: Behaviour) -> tuple[HostileServer, str]:
        peer = HostileServer(behaviour)
        self._async_peers.append(peer)
        return peer, self.run(peer.start())

    def qt_peer(self, outgoing_frame_size: int | None = None) -> tuple[QtPeer, str]:
        peer = QtPeer(outgoing_frame_size=outgoing_frame_size)
        self._qt_peers.append(peer)
        return peer, peer.listen()

    def echo_server(self) -> tuple[EchoServer, str]:
        server = EchoServer()
        self._echo_servers.append(server)
        return server, server.listen()

    # -- connections -----------------------------------------------------------------------------------

    def connection(self) -> Recorded:
        conn = self.ENGINES[self.engine]()
        self._conns.append(conn)
        return Recorded(conn)

    def target(self, url: str, variables: tuple[tuple[str, str], ...] = (),
               **records: dict[str, Any]) -> ResolvedTarget:
        """``records``: the settings to change, by record, e.g. ``compression={"deflate": False}``."""
        records["protocol"] = {"engine": self.engine, **records.get("protocol", {})}
        profile = ConnectionProfile(name="test", endpoint=Endpoint(url), variables=variables)
        return profile.with_changes(**records).resolved()

    def start(self, url: str, **profile: Any) -> Recorded:
        """Start opening a connection (no wait: for tests that then wait with ``waitUntil``)."""
        rec = self.connection()
        rec.conn.open(self.target(url, **profile))
        return rec

    def open(self, url: str, **profile: Any) -> Recorded:
        """Open a connection and wait until the handshake is done."""
        rec = self.connection()
        with self.qtbot.waitSignal(rec.conn.opened, timeout=WAIT_MS):
            rec.conn.open(self.target(url, **profile))
        return rec

    def open_until(self, signal_name: str, url: str, **profile: Any) -> Recorded:
        """Open a connection and wait for its ``closed`` or ``failed`` signal (armed before opening)."""
        rec = self.connection()
        with self.qtbot.waitSignal(getattr(rec.conn, signal_name), timeout=WAIT_MS):
            rec.conn.open(self.target(url, **profile))
        return rec

    def close(self, rec: Recorded, code: int | None = 1000, reason: str = "") -> CloseInfo:
        with self.qtbot.waitSignal(rec.conn.closed, timeout=WAIT_MS) as blocker:
            rec.conn.close(code, reason)
        info: CloseInfo = blocker.args[0]
        return info

    # -- teardown --------------------------------------------------------------------------------------

    def teardown(self) -> None:
        errors: list[BaseException] = []
        for conn in self._conns:
            conn.abort()
        for server in self._echo_servers:
            server.close()
        for qt_peer in self._qt_peers:
            qt_peer.stop()
        for peer in self._async_peers:
            try:
                self.run(peer.stop())
            except Exception as exc:  # stop the others, report below
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture(params=["qt", "wire"])
def net(request: pytest.FixtureRequest, qtbot: Any, run: Callable[..., Any]) -> Iterator[Net]:
    harness = Net(qtbot, run, request.param)
    try:
        yield harness
    finally:
        harness.teardown()
