"""Messages a second the server echoes to a flood client: wsinspector's mock server (``serve --mock`` with one
rule that answers every message with itself, recording every frame to a data folder, as it does by default)
vs a `websockets` asyncio echo server, each in its own process, in interleaved rounds.

The client is an asyncio `websockets` client in this process: each round it sends N text messages of 64 bytes
with at most WINDOW unanswered, and times until the last echo is back. Prints, last, the ratio of the app's
median rate to the websockets server's.

    .venv/bin/python bench/server.py [messages per round] [rounds]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

WINDOW = 256
PAYLOAD = "x" * 64

WEBSOCKETS_SERVER = """
import asyncio
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", 0, compression=None, max_queue=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().create_future()
asyncio.run(main())
"""

RULES = """\
version: 1
name: bench echo
rules:
  - match: {any: true}
    do: {text: "{{message}}"}
"""


async def flood(url: str, count: int) -> float:
    """Messages a second: ``count`` sent with at most WINDOW unanswered, until the last echo is back."""
    async with connect(url, compression=None, max_queue=None) as ws:
        await ws.send("warm")
        await ws.recv()
        window = asyncio.Semaphore(WINDOW)

        async def send() -> None:
            for _ in range(count):
                await window.acquire()
                await ws.send(PAYLOAD)

        start = time.perf_counter()
        sender = asyncio.create_task(send())
        for _ in range(count):
            await ws.recv()
            window.release()
        elapsed = time.perf_counter() - start
        await sender
        return count / elapsed


def start_app_server(folder: Path) -> tuple[subprocess.Popen[str], str]:
    rules = folder / "echo.yaml"
    rules.write_text(RULES, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "wsinspector", "--data-dir", str(folder / "data"), "serve",
                             "--mock", str(rules), "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    url = line.split('"url": "', 1)[1].split('"', 1)[0]
    return proc, url


def start_websockets_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", WEBSOCKETS_SERVER], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    port = int(proc.stdout.readline())  # type: ignore[union-attr]
    return proc, f"ws://127.0.0.1:{port}/"


def main(count: int, rounds: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        app, app_url = start_app_server(Path(folder))
        ref, ref_url = start_websockets_server()
        try:
            app_rates, ref_rates = [], []
            asyncio.run(flood(app_url, 1000))  # warm both
            asyncio.run(flood(ref_url, 1000))
            for _ in range(rounds):
                ref_rates.append(asyncio.run(flood(ref_url, count)))
                app_rates.append(asyncio.run(flood(app_url, count)))
        finally:
            for proc in (app, ref):
                proc.terminate()
                proc.wait(timeout=30)

    def describe(rates: list[float]) -> str:
        return f"median {statistics.median(rates):,.0f}/s, min {min(rates):,.0f}/s, max {max(rates):,.0f}/s"

    print(f"server echo: {rounds} interleaved rounds of {count:,} text messages of {len(PAYLOAD)} B, "
          f"at most {WINDOW} unanswered, each server in its own process")
    print(f"  websockets asyncio echo server:                   {describe(ref_rates)}")
    print(f"  wsinspector serve --mock (echo rule, recording):  {describe(app_rates)}")
    ratio = statistics.median(app_rates) / statistics.median(ref_rates)
    print(f"server: wsinspector / websockets = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000, int(sys.argv[2]) if len(sys.argv) > 2 else 5))
