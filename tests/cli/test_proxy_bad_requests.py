"""A request to ``wsinspector proxy`` that no WebSocket server could accept (not HTTP, no key, POST, HTTP/1.0, no
Upgrade) is answered by the proxy itself with the status that says why, and never opens an upstream
connection: the upstream sees only the clients that can be forwarded; and such clients never keep Ctrl+C
from stopping the proxy."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli
from tests.net.served import RawClient, upgrade_request

BAD = {
    "garbage": (lambda _port: b"\x16\x03\x01 a TLS hello, not HTTP\r\n\r\n", 400),
    "no-key": (lambda port: re.sub(rb"Sec-WebSocket-Key: [^\r]*\r\n", b"", upgrade_request(port)), 400),
    "post": (lambda port: upgrade_request(port).replace(b"GET ", b"POST ", 1), 405),
    "http-1.0": (lambda port: upgrade_request(port).replace(b"HTTP/1.1", b"HTTP/1.0", 1), 505),
    "no-upgrade": (lambda port: upgrade_request(port).replace(b"Upgrade: websocket\r\n", b""), 426),
}


def test_requests_no_server_accepts_are_answered_without_an_upstream_connection(
        cli: Cli, qtbot: Any, run: Any, websockets_server: Any, tmp_path: Path) -> None:
    reached: list[str] = []

    def count(_connection: Any, request: Any) -> None:
        reached.append(request.path)

    upstream = websockets_server(process_request=count)
    proc, out_path, err_path = cli.start("--data-dir", str(tmp_path / "data"), "proxy", "--upstream", upstream.url,
                                         "--no-record")
    qtbot.waitUntil(lambda: "Proxy listening on" in out_path.read_text("utf-8") or proc.poll() is not None,
                    timeout=30_000)
    found = re.search(r"Proxy listening on ws://127\.0\.0\.1:(\d+)/", out_path.read_text("utf-8"))
    assert found is not None, err_path.read_text("utf-8")
    port = int(found.group(1))

    async def each() -> dict[str, int]:
        statuses = {}
        for name, (request_of, _status) in BAD.items():
            raw = await RawClient.connect(port)
            await raw.send(request_of(port))
            statuses[name] = (await raw.answer())[0]
            raw.close()
        good = await RawClient.connect(port)
        statuses["good"] = (await good.upgrade(port, "/good"))[0]
        good.close()
        return statuses

    assert run(each()) == {**{name: status for name, (_, status) in BAD.items()}, "good": 101}
    assert reached == ["/good"]
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
    assert "upstream open" in result.stdout and result.stdout.count("client asks for") == 1
