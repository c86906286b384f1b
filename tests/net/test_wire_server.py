"""The server side (net/wire_server.py) with real clients over 127.0.0.1: the `websockets` client, the app's own
Wire client engine and raw sockets. What the server reports of each frame is checked against what the client
sent or read on the wire."""

from __future__ import annotations

import ssl
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.net.served import WAIT_MS, RawClient, Served, client_frame, upgrade_request
from wsinspector.core.events import ConnectionState, FailureKind
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.payloads import human_size
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.self_signed import self_signed_localhost
from wsinspector.core.wire.server import ServerSettings
from wsinspector.net.wire import WireConnection
from wsinspector.net.wire_server import ServerListenError, ServerTls, WireServer


def test_a_websockets_client_is_seen_frame_by_frame_with_its_handshake(served: Served,
                                                                        run: Callable[..., Any]) -> None:
    """Every frame both ways with its real header: the client's masked (its mask key kept), ours not; the
    request's headers, origin, offered subprotocols and the deflate the client offered, negotiated."""
    url = served.start(ServerSettings(subprotocols=("v2.chat", "chat")))

    async def talk() -> tuple[str, str | bytes, str | bytes, str]:
        async with connect(url + "room?x=1", subprotocols=["chat", "v2.chat"],  # type: ignore[list-item]
                           origin="http://app.example", compression="deflate") as ws:  # type: ignore[arg-type]
            await ws.send("hello " * 20)
            text = await ws.recv()
            await ws.send(iter([b"ab", b"cd"]))  # one binary message in two frames
            data = await ws.recv()
            await ws.ping(b"are you there")
            return ws.subprotocol or "", text, data, ws.response.headers["Sec-WebSocket-Extensions"]  # type: ignore[union-attr]

    chosen, text, data, extensions = run(talk())
    seen = served.wait_client()
    served.wait_ended(seen)

    assert (chosen, text, data) == ("v2.chat", "hello " * 20, b"abcd")
    [request] = seen.requests
    assert (request.path, request.route, request.origin, request.subprotocols) == (
        "/room?x=1", "/room", "http://app.example", ("chat", "v2.chat"))
    assert "permessage-deflate" in request.extensions
    [opened] = seen.opened
    assert opened.url.endswith("/room?x=1") and opened.subprotocol == "v2.chat"
    assert opened.extensions.startswith("permessage-deflate") and "permessage-deflate" in extensions
    assert opened.peer.startswith("127.0.0.1:")
    assert seen.client.handshake is not None and seen.client.handshake.status == 101

    text_in = seen.incoming(Opcode.TEXT)[0]
    assert text_in.payload == b"hello " * 20 and text_in.masked and text_in.mask_key is not None
    assert text_in.rsv1 and text_in.payload_length is not None and text_in.payload_length < 120  # compressed
    first, *rest = [*seen.incoming(Opcode.BINARY), *seen.incoming(Opcode.CONTINUATION)]
    assert (first.fin, first.payload) == (False, b"ab")
    assert [(f.fin, f.payload) for f in rest] == [(False, b"cd"), (True, b"")]  # websockets ends with an empty one
    [ping] = seen.incoming(Opcode.PING)
    [pong] = seen.outgoing(Opcode.PONG)
    assert ping.payload == pong.payload == b"are you there" and not pong.masked
    assert all(not f.masked for f in seen.outgoing())
    [closed] = seen.closed
    assert closed.by_peer and closed.code == 1000 and closed.message.startswith("Client closed")


def test_the_apps_own_wire_client_and_a_close_with_a_code(served: Served, qtbot: Any) -> None:
    url = served.start()
    conn = WireConnection()
    with qtbot.waitSignal(conn.opened, timeout=WAIT_MS):
        conn.open(ConnectionProfile(name="t", endpoint=Endpoint(url=url)).resolved())
    seen = served.wait_client()
    with qtbot.waitSignal(conn.frame, timeout=WAIT_MS,
                          check_params_cb=lambda f: f.opcode is Opcode.TEXT and f.direction is Direction.IN) as echo:
        conn.send(b"\xef\xbb\xbfbom kept", True)
    assert echo.args[0].payload == b"\xef\xbb\xbfbom kept"
    # frame by frame, as a proxy forwards them: both sides keep the fragments as they were sent
    with qtbot.waitSignal(conn.frame, timeout=WAIT_MS, check_params_cb=lambda f: f.direction is Direction.IN
                          and f.opcode is Opcode.CONTINUATION and bool(f.fin)):
        seen.client.send_frame(Opcode.TEXT, b"one ", False)
        seen.client.send_frame(Opcode.CONTINUATION, b"two ", False)
        seen.client.send_frame(Opcode.CONTINUATION, b"three", True)
    conn.send_frame(Opcode.BINARY, b"\x01", False)
    with qtbot.waitSignal(conn.frame, timeout=WAIT_MS, check_params_cb=lambda f: f.direction is Direction.IN
                          and f.opcode is Opcode.BINARY and f.payload == b"\x01\x02"):  # the server's echo
        conn.send_frame(Opcode.CONTINUATION, b"\x02", True)
    with pytest.raises(RuntimeError):
        seen.client.send_frame(Opcode.CONTINUATION, b"no message under way", True)
    with pytest.raises(ValueError, match="data frames"):
        seen.client.send_frame(Opcode.PING, b"", True)
    assert [(f.opcode, f.fin) for f in seen.outgoing() if f.payload in (b"one ", b"two ", b"three")] == [
        (Opcode.TEXT, False), (Opcode.CONTINUATION, False), (Opcode.CONTINUATION, True)]
    assert [(f.opcode, f.fin, f.masked) for f in seen.incoming() if f.payload in (b"\x01", b"\x02")] == [
        (Opcode.BINARY, False, True), (Opcode.CONTINUATION, True, True)]
    with qtbot.waitSignal(conn.closed, timeout=WAIT_MS) as closing:
        seen.client.close(4000, "bye now")
    assert seen.incoming(Opcode.TEXT)[0].payload == b"\xef\xbb\xbfbom kept"  # byte-exact both ways
    assert (closing.args[0].code, closing.args[0].reason) == (4000, "bye now")
    served.wait_ended(seen)
    assert seen.closed[0].code == 4000 and not seen.closed[0].by_peer
    conn.deleteLater()


def test_over_the_limit_a_client_is_refused_with_503(served: Served, run: Callable[..., Any]) -> None:
    served.start(max_clients=1)
    assert served.server is not None
    port = served.server.port

    async def two() -> tuple[int, int, dict[str, str], bytes]:
        first = await RawClient.connect(port)
        status_first, _, _ = await first.upgrade(port)
        second = await RawClient.connect(port)
        status, headers, body = await second.upgrade(port)
        ended = await second.at_eof()
        first.close()
        second.close()
        assert ended
        return status_first, status, headers, body

    status_first, status, headers, body = run(two())
    assert (status_first, status, headers["retry-after"]) == (101, 503, "1")
    assert b"Too many clients" in body
    assert len(served.clients) == 1  # the refused one is no client of the server


def test_a_version_it_does_not_speak_is_answered_before_the_connection_ends(served: Served,
                                                                         run: Callable[..., Any]) -> None:
    served.start()
    assert served.server is not None
    port = served.server.port

    async def version_8() -> tuple[int, bytes, bool]:
        raw = await RawClient.connect(port)
        raw.writer.write(upgrade_request(port).replace(b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8"))
        await raw.writer.drain()
        status, _, body = await raw.answer()
        ended = await raw.at_eof()
        raw.close()
        return status, body, ended

    status, body, ended = run(version_8())
    # the library's answer to the request goes out whole, then the connection ends (it was dropped unanswered)
    assert status == 400 and b"Sec-WebSocket-Version" in body and ended


def test_a_path_that_is_not_ascii_is_refused_in_words(served: Served, run: Callable[..., Any]) -> None:
    served.start()
    assert served.server is not None
    port = served.server.port

    async def latin1_path() -> tuple[int, bytes]:
        raw = await RawClient.connect(port)
        raw.writer.write(upgrade_request(port, "/caf").replace(b"GET /caf ", b"GET /caf\xe9\xff "))
        await raw.writer.drain()
        status, _, body = await raw.answer()
        raw.close()
        return status, body

    status, body = run(latin1_path())
    said = "the path it asks for is not ASCII (byte 0xe9 at position 5)"
    assert status == 400 and said.encode() in body, body
    seen = served.wait_client()
    served.wait_ended(seen)
    assert said in seen.failed[0].message and "codec" not in seen.failed[0].message


def test_requests_can_be_refused_held_or_accepted_with_a_chosen_subprotocol(served: Served,
                                                                           run: Callable[..., Any]) -> None:
    def answer(client: Any, request: Any) -> None:
        if request.route == "/private":
            client.refuse(401, (("WWW-Authenticate", 'Bearer realm="x"'),), b"no token")
        elif request.route == "/later":
            client.hold()
        else:
            client.accept(subprotocol="mqtt", headers=(("X-Served-By", "wsinspector"),))

    served.on_request = answer
    served.start()
    assert served.server is not None
    port = served.server.port

    async def three() -> tuple[Any, Any, Any]:
        refused = await RawClient.connect(port)
        answered = await refused.upgrade(port, "/private")
        eof = await refused.at_eof()
        accepted = await RawClient.connect(port)
        chosen = await accepted.upgrade(port, "/", "Sec-WebSocket-Protocol: a, mqtt\r\n")
        held = await RawClient.connect(port)
        await held.send(b"")
        held.writer.write(b"GET /later HTTP/1.1\r\n")
        refused.close()
        accepted.close()
        held.close()
        return answered, eof, chosen

    (status, headers, body), eof, (chosen_status, chosen_headers, _) = run(three())
    assert (status, headers["www-authenticate"], body, eof) == (401, 'Bearer realm="x"', b"no token", True)
    assert (chosen_status, chosen_headers["sec-websocket-protocol"], chosen_headers["x-served-by"]) == (
        101, "mqtt", "wsinspector")
    refused_seen = served.clients[0]
    served.wait_ended(refused_seen)
    assert refused_seen.failed[0].kind is FailureKind.HANDSHAKE_REJECTED
    assert refused_seen.client.handshake is not None and refused_seen.client.handshake.status == 401


def test_a_client_breaking_the_protocol_is_failed_with_1002_and_told(served: Served,
                                                                     run: Callable[..., Any]) -> None:
    served.start()
    assert served.server is not None
    port = served.server.port

    async def unmasked() -> Any:
        raw = await RawClient.connect(port)
        await raw.upgrade(port)
        await raw.send(client_frame(0x1, b"not masked", masked=False))
        frame = await raw.frame()
        raw.close()
        return frame

    close = run(unmasked())
    assert (close.opcode, close.payload[:2], close.masked) == (0x8, b"\x03\xea", False)  # 1002, from a server
    seen = served.wait_client()
    served.wait_ended(seen)
    assert seen.rejected and seen.rejected[0].message.startswith("Protocol error from the client")
    [refused] = seen.incoming()[:1]
    assert refused.note.startswith("rejected") and refused.masked is False


def test_a_client_sending_a_deflate_bomb_is_named_as_the_sender(served: Served,
                                                                  run: Callable[..., Any]) -> None:
    """A compressed frame from the client that inflates past the limit: the server fails it with 1009 and says
    the client sent it, not the server."""
    mib = 1 << 20
    served.start(ServerSettings(max_message_size=mib, max_frame_size=mib))
    assert served.server is not None
    port = served.server.port
    compressor = zlib.compressobj(wbits=-15)
    bomb = (compressor.compress(bytes(2 * mib)) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]

    async def bombs() -> Any:
        raw = await RawClient.connect(port)
        await raw.upgrade(port, extra="Sec-WebSocket-Extensions: permessage-deflate\r\n")
        frame = bytearray(client_frame(0x2, bomb))
        frame[0] |= 0x40  # RSV1: compressed
        await raw.send(bytes(frame))
        close = await raw.frame()
        raw.close()
        return close

    close = run(bombs())
    assert (close.opcode, close.payload[:2]) == (0x8, b"\x03\xf1")  # 1009
    seen = served.wait_client()
    served.wait_ended(seen)
    message = seen.rejected[0].message
    assert message.startswith(f"The client sent a compressed frame of {human_size(len(bomb))} that inflates "
                              "past the 1.0 MiB limit"), message


def test_a_client_that_never_finishes_its_request_times_out(served: Served, run: Callable[..., Any],
                                                            qtbot: Any) -> None:
    """It is answered 408 Request Timeout (Connection: close) before the connection ends, not just dropped."""
    served.start(ServerSettings(handshake_timeout_s=0.2))
    assert served.server is not None
    port = served.server.port

    async def slow() -> tuple[tuple[int, dict[str, str], bytes], bool]:
        raw = await RawClient.connect(port)
        await raw.send(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never the blank line
        answer = await raw.answer()
        ended = await raw.at_eof()
        raw.close()
        return answer, ended

    (status, headers, _body), ended = run(slow())
    assert (status, headers.get("connection")) == (408, "close") and ended
    seen = served.wait_client()
    served.wait_ended(seen)
    assert seen.failed[0].kind is FailureKind.HANDSHAKE_TIMEOUT and seen.failed[0].http_status == 408
    assert "no whole upgrade request from the client" in seen.failed[0].message
    assert "answered 408 Request Timeout" in seen.failed[0].message


def test_listening_errors_are_one_line(served: Served) -> None:
    served.start()
    assert served.server is not None
    taken = WireServer()
    with pytest.raises(ServerListenError, match=r"^Cannot listen on 127\.0\.0\.1:\d+: the port is in use"):
        taken.listen("127.0.0.1", served.server.port)
    with pytest.raises(ServerListenError, match="is not an IP address"):
        WireServer().listen("not an address", 0)
    with pytest.raises(ServerListenError, match="no network interface has that address"):
        WireServer().listen("203.0.113.9", 0)


def test_tls_with_a_self_signed_certificate(served: Served, run: Callable[..., Any], tmp_path: Path) -> None:
    certificate, key = self_signed_localhost()
    url = served.start(tls=ServerTls(certificate, key))
    assert url.startswith("wss://127.0.0.1:")
    (tmp_path / "cert.pem").write_bytes(certificate)
    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))

    async def secure() -> str | bytes:
        async with connect(url, ssl=context, server_hostname="localhost") as ws:
            await ws.send("over tls")
            return await ws.recv()

    assert run(secure()) == "over tls"
    seen = served.wait_client()
    assert seen.incoming(Opcode.TEXT)[0].payload == b"over tls"
    assert seen.client.state in (ConnectionState.OPEN, ConnectionState.CLOSING, ConnectionState.CLOSED)
