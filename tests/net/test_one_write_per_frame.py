"""A frame reaches the peer whole at once: the peer reads it in one read.

Written in two on a socket with Nagle's algorithm, the payload of a message waited behind its header until the
peer acknowledged the header, and a peer that has nothing to answer acknowledges late (some 40 ms on Linux): a
message of a few KiB, and every round trip measured behind one, took that long. Two things keep it from
happening, each enough on its own: the engine's pieces go to Qt as one buffer (below 64 KiB), and every socket
writes with TCP_NODELAY, which the last tests look up on the sockets themselves. Raw peers record what each of
their reads brought."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
import struct
from collections.abc import Callable
from typing import Any

import pytest

from tests.net.conftest import WAIT_MS, Net
from tests.net.served import RawClient, Served, client_frame
from tests.peers import after_upgrade, server_frame
from wsinspector.core.frames import Direction, Opcode

#: payloads under loopback's largest segment: one write of the frame is one segment, read at once
SIZES = (2048, 4096, 16 * 1024, 60 * 1024)


def _frame_size(payload: int, masked: bool) -> int:
    return (2 if payload < 126 else 4 if payload < 0x10000 else 10) + (4 if masked else 0) + payload


@pytest.mark.parametrize("net", ["wire"], indirect=True)  # QWebSocket writes a frame's header and payload apart
def test_each_message_the_client_sends_reaches_the_server_in_one_read(net: Net) -> None:
    reads: list[int] = []  # per frame: the reads it took

    async def reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for size in SIZES:
            wanted, got, count = _frame_size(size, masked=True), 0, 0
            while got < wanted:
                data = await reader.read(wanted - got)
                if not data:
                    return
                got, count = got + len(data), count + 1
            reads.append(count)
            writer.write(server_frame(0x1, b"read"))  # the client sends the next message once this is back
            await writer.drain()
        await reader.read()

    _peer, url = net.hostile(after_upgrade(reading))
    rec = net.open(url)
    for count, size in enumerate(SIZES, start=1):
        rec.conn.send_binary(bytes(size))
        net.qtbot.waitUntil(lambda count=count: len(rec.incoming(data_only=True)) == count, timeout=WAIT_MS)
    sent = [f for f in rec.outgoing() if f.opcode is Opcode.BINARY]
    assert [len(f.payload) for f in sent] == list(SIZES)
    assert reads == [1] * len(SIZES)


@pytest.mark.parametrize("size", SIZES)
def test_each_message_the_server_sends_reaches_the_client_in_one_read(served: Served, run: Callable[..., Any],
                                                                     size: int) -> None:
    served.start()
    assert served.server is not None
    port = served.server.port

    async def echoed() -> tuple[int, bytes]:
        raw = await RawClient.connect(port)
        status = (await raw.upgrade(port))[0]
        await raw.send(client_frame(0x2, bytes(size)))
        data = await raw.reader.read(1 << 20)
        raw.close()
        return status, data

    status, data = run(echoed())
    assert status == 101
    assert len(data) == _frame_size(size, masked=False), len(data)
    assert data[:4] == struct.pack("!BBH", 0x82, 126, size) and data[4:] == bytes(size)
    seen = served.wait_client()
    assert [len(f.payload) for f in seen.frames if f.direction is Direction.OUT] == [size]


def _no_delay(local_port: int, peer_port: int) -> int | None:
    """TCP_NODELAY as the system has it on this process's TCP socket from ``local_port`` to ``peer_port`` (found
    among the process's descriptors); None while there is no such socket."""
    for name in os.listdir("/proc/self/fd"):
        try:
            if not stat.S_ISSOCK(os.fstat(int(name)).st_mode):  # a socket's only: no descriptor copied in vain
                continue
            view = socket.socket(fileno=os.dup(int(name)))
        except OSError:  # gone meanwhile
            continue
        with view, contextlib.suppress(OSError):
            if view.family in (socket.AF_INET, socket.AF_INET6) and view.type == socket.SOCK_STREAM and \
                    view.getsockname()[1] == local_port and view.getpeername()[1] == peer_port:
                return view.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    return None


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="a process's sockets are looked up in "
                                "/proc/self/fd, which this system does not have")


@needs_proc
@pytest.mark.parametrize("net", ["wire"], indirect=True)  # QWebSocket keeps its socket to itself
def test_both_ends_write_without_waiting_for_the_peer_to_acknowledge(net: Net, served: Served) -> None:
    """A message sent while the last is unacknowledged (a ping behind a message) is not held back (Nagle)."""
    url = served.start()
    assert served.server is not None
    net.open(url)
    seen = served.wait_client()
    client_port = int(seen.client.peer.rsplit(":", 1)[1])
    assert _no_delay(client_port, served.server.port) == 1, "the Wire client"
    assert _no_delay(served.server.port, client_port) == 1, "the Wire server's client"


@needs_proc
@pytest.mark.parametrize("net", ["qt"], indirect=True)
def test_the_built_in_echo_server_writes_without_waiting_for_the_peer_to_acknowledge(net: Net) -> None:
    """QWebSocket writes a frame's header and payload apart: an echo behind an unacknowledged one would wait for
    the client's delayed acknowledgement (some 40 ms) on a socket with Nagle's algorithm."""
    server, _url = net.echo_server()

    async def connected() -> tuple[asyncio.StreamWriter, int]:
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        return writer, int(writer.get_extra_info("sockname")[1])

    writer, client_port = net.run(connected())
    net.qtbot.waitUntil(lambda: _no_delay(server.port, client_port) is not None, timeout=WAIT_MS)
    no_delay = _no_delay(server.port, client_port)
    writer.close()
    assert no_delay == 1
