"""A frame leaves in one write, its header with its payload: the peer reads it whole in one read.

Written in two, the payload of a message waits behind its header until the peer acknowledges the header, and a
peer that has nothing to answer acknowledges late (some 40 ms on Linux): a message of a few KiB, and every round
trip measured behind one, would take that long. Raw peers record what each of their reads brought."""

from __future__ import annotations

import asyncio
import os
import socket
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


def test_each_message_the_client_sends_reaches_the_server_in_one_read(net: Net) -> None:
    reads: list[int] = []

    async def reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1 << 20):
            reads.append(len(data))
            writer.write(server_frame(0x1, b"read"))  # the client sends the next message once this is back
            await writer.drain()

    _peer, url = net.hostile(after_upgrade(reading))
    rec = net.open(url)
    for count, size in enumerate(SIZES, start=1):
        rec.conn.send_binary(bytes(size))
        net.qtbot.waitUntil(lambda count=count: len(rec.incoming(data_only=True)) == count, timeout=WAIT_MS)
    sent = [f for f in rec.outgoing() if f.opcode is Opcode.BINARY]
    assert [len(f.payload) for f in sent] == list(SIZES)
    if net.sees_every_frame:
        assert reads == [_frame_size(size, masked=True) for size in SIZES]
    else:  # QWebSocket writes its frames as it does; each must still come whole
        assert len(reads) == len(SIZES), reads


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


def _no_delay(sock: Any) -> int:
    """TCP_NODELAY as the system has it on a Qt socket's descriptor."""
    with socket.socket(fileno=os.dup(int(sock.socketDescriptor()))) as view:
        return view.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


@pytest.mark.parametrize("net", ["wire"], indirect=True)  # QWebSocket keeps its socket to itself
def test_both_ends_write_without_waiting_for_the_peer_to_acknowledge(net: Net, served: Served) -> None:
    """A message sent while the last is unacknowledged (a ping behind a message) is not held back (Nagle)."""
    url = served.start()
    rec = net.open(url)
    seen = served.wait_client()
    assert _no_delay(rec.conn._sock) and _no_delay(seen.client._sock)
