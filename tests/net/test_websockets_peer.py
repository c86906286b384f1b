"""Both engines against a real `websockets` server: echo, sizes, handshake details, ping, closes, fragments."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.net.conftest import WAIT_MS, Net, is_in, is_in_final
from wsinspector.core.events import ConnectionState
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import MIB


def test_text_echo(net: Net) -> None:
    peer, url = net.websockets_peer()
    rec = net.open(url)
    message = "héllo, wörld ✓ 🙂"

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_text(message)

    out, back = rec.frames
    assert (out.direction, out.opcode, out.payload, out.fin) == (Direction.OUT, Opcode.TEXT, message.encode(), True)
    assert (back.direction, back.opcode, back.payload, back.fin) == (Direction.IN, Opcode.TEXT, message.encode(), True)
    assert peer.received == [message]


def test_binary_echo_all_byte_values(net: Net) -> None:
    peer, url = net.websockets_peer()
    rec = net.open(url)
    data = bytes(range(256)) * 2

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        rec.conn.send_binary(data)

    back = rec.incoming()
    assert [(f.opcode, f.payload, f.fin) for f in back] == [(Opcode.BINARY, data, True)]
    assert peer.received == [data]


@pytest.mark.parametrize("kind", ["binary", "text"])
def test_one_mebibyte_message_echoed_intact(net: Net, kind: str) -> None:
    rng = random.Random(1234)
    peer, url = net.websockets_peer(max_size=None)
    rec = net.open(url)
    if kind == "binary":
        payload = rng.randbytes(MIB)
    else:  # 1 MiB of UTF-8 text with 1-, 2- and 3-byte characters
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzé€") for _ in range(MIB))
        payload = text.encode()[:MIB].decode("utf-8", "ignore").encode()

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        if kind == "binary":
            rec.conn.send_binary(payload)
        else:
            rec.conn.send_text(payload.decode())

    sent = b"".join(f.payload for f in rec.outgoing())
    received = b"".join(f.payload for f in rec.incoming(data_only=True))
    assert sent == payload
    assert received == payload
    assert (peer.received[0] if kind == "binary" else peer.received[0].encode()) == payload


def test_subprotocol_negotiated(net: Net) -> None:
    peer, url = net.websockets_peer(subprotocols=["chat.v2"])
    rec = net.open(url, handshake={"subprotocols": ("chat.v1", "chat.v2")})

    assert rec.opened[0].subprotocol == "chat.v2"
    assert peer.subprotocol == "chat.v2"
    assert peer.request_headers["Sec-WebSocket-Protocol"] == "chat.v1, chat.v2"


def test_handshake_headers_and_origin_reach_the_server(net: Net) -> None:
    peer, url = net.websockets_peer()
    net.open(url, handshake={"headers": (("X-Trace-Id", "{{trace}}"), ("Authorization", "Bearer t0ken")),
                             "origin": "https://app.example"},
             variables=(("trace", "abc-123"),))

    headers = peer.request_headers
    assert headers["X-Trace-Id"] == "abc-123"
    assert headers["Authorization"] == "Bearer t0ken"
    assert headers["Origin"] == "https://app.example"


def test_ping_gets_a_pong_with_the_same_payload(net: Net) -> None:
    _peer, url = net.websockets_peer()
    rec = net.open(url)

    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in(Opcode.PONG)):
        rec.conn.ping(b"are you there?")

    assert [(f.direction, f.opcode, f.payload) for f in rec.frames] == [
        (Direction.OUT, Opcode.PING, b"are you there?"),
        (Direction.IN, Opcode.PONG, b"are you there?"),
    ]


def test_client_close_with_code_and_reason(net: Net) -> None:
    _peer, url = net.websockets_peer()
    rec = net.open(url)

    info = net.close(rec, 4000, "done")

    out_close = [f for f in rec.outgoing() if f.opcode is Opcode.CLOSE]
    assert [(f.close_code, f.close_reason) for f in out_close] == [(4000, "done")]
    assert info.by_peer is False
    assert (info.code, info.reason) == (4000, "done")
    assert info.failure is None
    assert "You closed the connection" in info.message
    assert rec.conn.state is ConnectionState.CLOSED
    assert rec.states[-1] is ConnectionState.CLOSED


def test_server_close_with_code_and_reason(net: Net) -> None:
    async def close_at_once(ws: Any) -> None:
        await ws.close(4001, "bye")

    _peer, url = net.websockets_peer(close_at_once)
    rec = net.open_until("closed", url)

    [close] = rec.in_closes()
    assert (close.close_code, close.close_reason) == (4001, "bye")
    [info] = rec.closed
    assert info.by_peer is True
    assert (info.code, info.reason) == (4001, "bye")
    assert "4001" in info.message
    assert "bye" in info.message
    assert rec.conn.state is ConnectionState.CLOSED


def test_server_fragmented_message(net: Net) -> None:
    async def send_fragments(ws: Any) -> None:
        await ws.send(iter(["ab", "cd", "ef"]))
        await ws.wait_closed()

    _peer, url = net.websockets_peer(send_fragments)
    rec = net.start(url)
    net.qtbot.waitUntil(lambda: any(is_in_final(f) for f in rec.frames), timeout=WAIT_MS)

    # `websockets` sends each item of the iterable as a non-final frame and ends the message with an EMPTY
    # final continuation frame (it cannot know the iterable is exhausted before trying the next item), so
    # four frames cross the wire, not three. The timeline must show exactly those.
    assert [(f.opcode, f.payload, f.fin) for f in rec.incoming()] == [
        (Opcode.TEXT, b"ab", False),
        (Opcode.CONTINUATION, b"cd", False),
        (Opcode.CONTINUATION, b"ef", False),
        (Opcode.CONTINUATION, b"", True),
    ]


@pytest.mark.parametrize("kind", ["binary", "text"])
def test_incoming_message_just_under_the_limit_is_accepted(net: Net, kind: str) -> None:
    limit = 256 * 1024
    payload = b"x" * (limit - 1)

    async def send_big(ws: Any) -> None:
        await ws.send(payload if kind == "binary" else payload.decode())
        await ws.wait_closed()

    _peer, url = net.websockets_peer(send_big)
    rec = net.start(url, limits={"max_message_size": limit, "max_frame_size": limit})
    net.qtbot.waitUntil(lambda: any(is_in_final(f) for f in rec.frames), timeout=WAIT_MS)

    assert b"".join(f.payload for f in rec.incoming(data_only=True)) == payload
    assert rec.closed == []
    assert rec.conn.state is ConnectionState.OPEN
