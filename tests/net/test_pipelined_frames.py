"""A client that sends frames without waiting for the server's 101 (in the same packet as its request): they
wait for the answer, which goes out first; then they are read as if they came after it. A close frame among
them no longer ends the connection before the client has had its 101."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from tests.net.served import RawClient, Served, client_frame, upgrade_request
from wsinspector.core.frames import Opcode


def test_frames_sent_with_the_request_are_read_after_the_answer(served: Served, run: Callable[..., Any]) -> None:
    served.start()
    assert served.server is not None
    port = served.server.port

    async def pipelined() -> tuple[int, bytes]:
        raw = await RawClient.connect(port)
        await raw.send(upgrade_request(port) + client_frame(0x1, b"early bird"))
        status = (await raw.answer())[0]
        echoed = (await raw.frame()).payload
        raw.close()
        return status, echoed

    assert run(pipelined()) == (101, b"early bird")


def test_a_close_sent_with_the_request_is_answered_after_the_101(served: Served, run: Callable[..., Any]) -> None:
    served.start()
    assert served.server is not None
    port = served.server.port

    async def pipelined_close() -> tuple[int, int]:
        raw = await RawClient.connect(port)
        await raw.send(upgrade_request(port) + client_frame(0x8, struct.pack("!H", 1000)))
        status = (await raw.answer())[0]
        close = await raw.frame()
        raw.close()
        return status, close.opcode if close.opcode != 0x8 else int(struct.unpack("!H", close.payload[:2])[0])

    assert run(pipelined_close()) == (101, 1000)
    seen = served.wait_client()
    served.wait_ended(seen)
    assert seen.opened and seen.closed and seen.closed[0].by_peer and seen.closed[0].code == 1000
    assert [f.opcode for f in seen.incoming()] == [Opcode.CLOSE]
