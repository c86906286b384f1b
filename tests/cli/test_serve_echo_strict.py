"""Plain ``wsinspector serve``, the echo server, refuses what breaks the protocol as ``serve --mock`` does: an
unmasked client frame is closed with 1002, a request that is not HTTP is answered 400, and the next client is
echoed; Ctrl+C still stops it with exit status 0."""

from __future__ import annotations

import re
import signal
import struct
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.cli.conftest import Cli
from tests.net.served import RawClient, client_frame


def test_the_echo_server_refuses_protocol_breakers_and_serves_the_next(cli: Cli, qtbot: Any, run: Any,
                                                                       tmp_path: Path) -> None:
    proc, out_path, err_path = cli.start("--data-dir", str(tmp_path / "data"), "serve")
    qtbot.waitUntil(lambda: "listening on" in out_path.read_text("utf-8") or proc.poll() is not None,
                    timeout=30_000)
    found = re.search(r"(ws://127\.0\.0\.1:(\d+)/)", out_path.read_text("utf-8"))
    assert found is not None, err_path.read_text("utf-8")
    url, port = found.group(1), int(found.group(2))

    async def hostile_then_good() -> tuple[int, int, str]:
        unmasked = await RawClient.connect(port)
        await unmasked.upgrade(port)
        await unmasked.send(client_frame(0x1, b"not masked", masked=False))
        close = await unmasked.frame()
        unmasked.close()
        garbage = await RawClient.connect(port)
        await garbage.send(b"\x16\x03\x01 not an HTTP request\r\n\r\n")
        status = (await garbage.answer())[0]
        garbage.close()
        async with connect(url) as ws:
            await ws.send("still here")
            echoed = str(await ws.recv())
        return int(struct.unpack("!H", close.payload[:2])[0]), status, echoed

    assert run(hostile_then_good()) == (1002, 400, "still here")
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
    assert result.stdout.splitlines()[-1] == "Echo server stopped"
