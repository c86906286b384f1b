"""permessage-deflate (RFC 7692): the Wire engine offers it by default and shows both lengths of a compressed
frame; the Qt engine cannot negotiate it at all. Against a real `websockets` server (compression="deflate") and a
raw one that sends a deflate bomb."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest

from tests.net.conftest import WAIT_MS, Net, is_in_final
from tests.net.hostile_extra import FrameRecorder
from tests.peers import server_frame
from wsinspector.core.events import FailureKind
from wsinspector.core.frames import Opcode
from wsinspector.core.payloads import human_size
from wsinspector.core.profiles import MIB

EXTENSIONS = "Sec-WebSocket-Extensions"


def _params(header: str) -> set[str]:
    """The parts of one extension header value: {"permessage-deflate", "server_max_window_bits=12", ...}."""
    return {part.strip() for part in header.split(";")}


def _echo(net: Net, rec: Any, message: str | bytes) -> None:
    with net.qtbot.waitSignal(rec.conn.frame, timeout=WAIT_MS, check_params_cb=is_in_final):
        if isinstance(message, str):
            rec.conn.send_text(message)
        else:
            rec.conn.send_binary(message)


def test_negotiated_by_default(net: Net) -> None:
    peer, url = net.websockets_peer(compression="deflate")
    rec = net.open(url)
    [info] = rec.opened

    if net.sees_every_frame:
        assert peer.request_headers[EXTENSIONS] == "permessage-deflate; client_max_window_bits"
        answer = peer.response_headers[EXTENSIONS]
        assert answer.startswith("permessage-deflate")
        assert info.extensions.startswith("permessage-deflate")
        # what the server agreed to, in the negotiated string (which also spells out the defaults it implies)
        assert _params(answer) <= _params(info.extensions), (answer, info.extensions)
        assert info.response_headers is not None
        assert (EXTENSIONS, answer) in info.response_headers
    else:
        # Known Qt limitation: QWebSocket offers no extension, so none is negotiated
        assert EXTENSIONS not in peer.request_headers
        assert EXTENSIONS not in peer.response_headers
        assert info.extensions == ""


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_compressed_frames_both_ways(net: Net, kind: str) -> None:
    peer, url = net.websockets_peer(compression="deflate")
    rec = net.open(url)
    text = "the same words, over and over; " * 200
    message: str | bytes = text if kind == "text" else text.encode()

    _echo(net, rec, message)

    [out] = rec.outgoing()
    [back] = rec.incoming()
    payload = text.encode()
    assert out.payload == back.payload == payload  # the decoded payload, intact both ways
    assert peer.received == [message]
    assert out.opcode is back.opcode is (Opcode.TEXT if kind == "text" else Opcode.BINARY)
    if net.sees_every_frame:
        # RSV1 marks a compressed message; the wire length is the compressed one
        assert (out.rsv1, back.rsv1) == (True, True)
        assert out.payload_length is not None and out.payload_length < len(payload) // 10
        assert back.payload_length is not None and back.payload_length < len(payload) // 10
    else:
        assert out.rsv1 is False
        assert out.payload_length == len(payload)
        assert back.rsv1 is None  # QWebSocket does not expose it


def test_deflate_off(net: Net) -> None:
    peer, url = net.websockets_peer(compression="deflate")
    rec = net.open(url, compression={"deflate": False})
    payload = b"x" * 1000

    _echo(net, rec, payload.decode())

    assert EXTENSIONS not in peer.request_headers
    assert EXTENSIONS not in peer.response_headers
    assert rec.opened[0].extensions == ""
    [out] = rec.outgoing()
    [back] = rec.incoming()
    assert out.payload == back.payload == payload
    assert out.rsv1 is False
    assert out.payload_length == len(payload)
    if net.sees_every_frame:
        assert back.rsv1 is False
        assert back.payload_length == len(payload)


@pytest.mark.parametrize(
    ("options", "offered", "agreed"),
    [
        pytest.param({"client_no_context_takeover": True},
                     {"client_no_context_takeover"}, {"client_no_context_takeover"}, id="client-no-context"),
        pytest.param({"server_no_context_takeover": True},
                     {"server_no_context_takeover"}, {"server_no_context_takeover"}, id="server-no-context"),
        pytest.param({"server_max_window_bits": 10, "client_max_window_bits": 11},
                     {"server_max_window_bits=10", "client_max_window_bits=11"},
                     {"server_max_window_bits=10", "client_max_window_bits=11"}, id="window-bits"),
    ],
)
def test_offer_options_appear_in_the_negotiated_extension(
    net: Net, options: dict[str, Any], offered: set[str], agreed: set[str]
) -> None:
    peer, url = net.websockets_peer(compression="deflate")
    rec = net.open(url, compression=options)
    negotiated = rec.opened[0].extensions

    if net.sees_every_frame:
        assert offered <= _params(peer.request_headers[EXTENSIONS])
        assert agreed <= _params(peer.response_headers[EXTENSIONS])
        assert agreed <= _params(negotiated), negotiated
        _echo(net, rec, "round trip " * 100)
        assert rec.incoming()[0].payload == b"round trip " * 100
    else:
        # Known Qt limitation: the deflate fields are ignored, nothing is offered
        assert EXTENSIONS not in peer.request_headers
        assert negotiated == ""


@pytest.mark.parametrize("takeover", [True, False], ids=["context-takeover", "client-no-context-takeover"])
def test_client_context_takeover_shows_in_the_wire_lengths(net: Net, takeover: bool) -> None:
    """With context takeover the second copy of a message compresses to almost nothing (it refers back to the
    first); without it, each message is compressed from scratch to the same length."""
    _peer, url = net.websockets_peer(compression="deflate")
    rec = net.open(url, compression={"client_no_context_takeover": not takeover})
    message = "".join(f"{i:05d} " for i in range(400))  # compresses, but not to nothing

    _echo(net, rec, message)
    _echo(net, rec, message)

    first, second = (f.payload_length for f in rec.outgoing())
    assert first is not None and second is not None
    if not net.sees_every_frame:
        assert first == second == len(message)  # not compressed at all
    elif takeover:
        assert second < first // 4
    else:
        assert second == first < len(message)


def _deflate_bomb(size: int) -> bytes:
    """A raw DEFLATE stream (RFC 7692 7.2.1: without the final 00 00 FF FF) that inflates to ``size`` zeros."""
    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress(b"\0" * size) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def test_deflate_bomb_is_refused(net: Net) -> None:
    """A raw server agrees to permessage-deflate and sends a 2 KiB frame that inflates to 2 MiB, twice the
    configured limit. The Wire engine stops inflating at the limit and fails with 1009."""
    bomb = _deflate_bomb(2 * MIB)
    assert len(bomb) < 4096
    recorder = FrameRecorder(send_first=server_frame(0x2, bomb, rsv=4), echo_close=True,
                             extensions="permessage-deflate")
    _peer, url = net.hostile(recorder.behaviour())
    if not net.sees_every_frame:
        # the Qt engine offers no extension: it fails the handshake that claims one (RFC 6455 4.1), before any
        # frame is read
        rec = net.open_until("failed", url, limits={"max_message_size": MIB, "max_frame_size": MIB})
        [failure] = rec.failed
        assert failure.kind is FailureKind.HANDSHAKE_INVALID
        assert "permessage-deflate" in failure.message
        assert (rec.opened, rec.frames, recorder.frames) == ([], [], [])
        return
    rec = net.open_until("closed", url, limits={"max_message_size": MIB, "max_frame_size": MIB})

    [info] = rec.closed
    assert info.failure is not None
    rec.refused(net.sees_every_frame, Opcode.BINARY, len(bomb))
    codes = [struct.unpack("!H", w.payload[:2])[0] for w in recorder.frames if w.opcode == 0x8]
    assert rec.opened[0].extensions.startswith("permessage-deflate")
    assert info.failure.kind is FailureKind.MESSAGE_TOO_BIG
    assert (info.code, info.by_peer, info.clean) == (1009, False, False)
    assert codes == [1009]
    assert info.failure.limit == MIB
    assert info.failure.inflated_from == len(bomb)
    assert info.message == (f"The server sent a compressed frame of {human_size(len(bomb))} that inflates past "
                            "the 1.0 MiB limit (a deflate bomb?); inflating stopped at the limit; closed with "
                            "1009 (message too big)")


def test_server_claiming_an_extension_that_was_not_offered(net: Net) -> None:
    recorder = FrameRecorder(echo_close=True, extensions="permessage-deflate")
    _peer, url = net.hostile(recorder.behaviour())

    # RFC 6455 4.1: the client must fail the connection; QWebSocket would ignore the header, the Qt engine does not
    rec = net.open_until("failed", url, compression={"deflate": False})
    [failure] = rec.failed
    assert failure.kind is FailureKind.HANDSHAKE_INVALID
    assert "extension" in failure.detail and "permessage-deflate" in failure.message
    assert rec.opened == []
    assert recorder.frames == []  # nothing was sent on a connection that never opened
