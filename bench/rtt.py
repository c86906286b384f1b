"""RTT as wsinspector reports it vs RTT as a raw asyncio `websockets` client measures it, same server.

The echo server runs in its own process. The two clients take turns, one ping each, so both see the same
machine load. Prints, last, the ratio of the app's median RTT to the raw client's (target <= 1.5).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/rtt.py [pings]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import Future

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from websockets.asyncio.client import connect

from wsinspector.app.connection import ConnectionController
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import ConnectionProfile, Endpoint

SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().create_future()
asyncio.run(main())
"""


class RawClient:
    """An asyncio websockets client on its own thread and loop, timing its own pings."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ws = self._call(self._connect(url))

    def _call(self, coro):  # type: ignore[no-untyped-def]
        future: Future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=30)

    async def _connect(self, url: str):  # type: ignore[no-untyped-def]
        return await connect(url)

    async def _ping(self) -> int:
        start = time.monotonic_ns()
        waiter = await self.ws.ping()
        await waiter
        return time.monotonic_ns() - start

    def ping(self) -> int:
        return int(self._call(self._ping()))

    def close(self) -> None:
        self._call(self.ws.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def wait_until(condition, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("no answer from the echo server")
        QTimer.singleShot(0, loop.quit)
        loop.exec()


def main(pings: int) -> int:
    app = QCoreApplication([])
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        url = f"ws://127.0.0.1:{port}/"
        raw = RawClient(url)
        controller = ConnectionController()
        controller.connect_to(ConnectionProfile(name="bench", endpoint=Endpoint(url)))
        wait_until(lambda: controller.is_open)
        log = controller.log

        def app_ping(i: int) -> int:
            controller.ping(f"bench {i}".encode())
            before = len(log)
            wait_until(lambda: any(log.opcode(s) is Opcode.PONG and log.direction(s) is Direction.IN
                                   for s in range(before, len(log))))
            seq = next(s for s in range(before, len(log)) if log.opcode(s) is Opcode.PONG)
            rtt = log.rtt_ns(seq)
            assert rtt is not None
            return rtt

        for i in range(20):  # warm both paths
            raw.ping()
            app_ping(-i - 1)
        raw_rtts, app_rtts = [], []
        for i in range(pings):
            raw_rtts.append(raw.ping())
            app_rtts.append(app_ping(i))
        controller.shutdown()
        raw.close()
    finally:
        server.kill()
        server.wait()
    app.processEvents()

    def describe(values: list[int]) -> str:
        ordered = sorted(values)
        return (f"median {statistics.median(ordered) / 1000:.1f} µs, p95 {ordered[int(len(ordered) * 0.95)] / 1000:.1f}"
                f" µs, min {ordered[0] / 1000:.1f} µs")

    print(f"rtt over {pings} interleaved pings against a websockets echo server in its own process")
    print(f"  raw websockets client (its own ping): {describe(raw_rtts)}")
    print(f"  wsinspector (log, matched pong):      {describe(app_rtts)}")
    ratio = statistics.median(app_rtts) / statistics.median(raw_rtts)
    print(f"rtt: app median / raw median = {ratio:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
