"""Round-trip time and throughput through the recording proxy vs straight to the same upstream.

The upstream is a `websockets` asyncio echo server in its own process; the proxy is `wsinspector proxy` in its
own process (recording into a temporary data folder, as it does by default; ``--no-record`` to forward only).
One asyncio client process measures both paths, taking turns (direct, proxied) so both see the same machine
load: round trips of one message at a time, and throughput as messages echoed per second with a window of
messages in flight. 64-byte and 64 KiB messages. Prints, last, the ratios: the RTT the proxy adds at the
median (goal < 100 µs on loopback) and proxied / direct throughput (goal >= 0.5). On a loaded machine the
wall-clock figures wander; the CPU time the proxy and the echo server spend per message echoed during the
throughput runs (Linux: /proc) does not, and says what the proxy costs.

    .venv/bin/python bench/proxy.py [--rounds N] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, percentile

ROOT = Path(__file__).resolve().parents[1]
SIZES = (64, 64 * 1024)
#: messages in flight while measuring throughput
WINDOW = 32

ECHO = """
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", 0, max_size=None, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


def start_echo() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, f"ws://127.0.0.1:{int(proc.stdout.readline())}/"


def start_proxy(upstream: str, data_dir: str, record: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "wsinspector", "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream,
               "--data-dir", data_dir]
    if not record:
        command.append("--no-record")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WSINSPECTOR_KEYRING": "memory"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Proxy listening on ws://127.0.0.1:PORT/ -> ..."
    if not line.startswith("Proxy listening on "):
        raise RuntimeError(f"the proxy did not start: {line!r}")
    return proc, line.split()[3]


async def rtts(ws: object, payload: bytes, count: int) -> list[int]:
    out = []
    for _ in range(count):
        start = time.perf_counter_ns()
        await ws.send(payload)  # type: ignore[attr-defined]
        await ws.recv()  # type: ignore[attr-defined]
        out.append(time.perf_counter_ns() - start)
    return out


async def throughput(ws: object, payload: bytes, count: int) -> float:
    """Messages echoed per second, ``WINDOW`` in flight."""
    window = asyncio.Semaphore(WINDOW)

    async def send() -> None:
        for _ in range(count):
            await window.acquire()
            await ws.send(payload)  # type: ignore[attr-defined]

    start = time.perf_counter()
    sender = asyncio.create_task(send())
    for _ in range(count):
        await ws.recv()  # type: ignore[attr-defined]
        window.release()
    await sender
    return count / (time.perf_counter() - start)


def cpu_s(pid: int) -> float:
    """The CPU time (user + system) a process has used so far; 0 where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(direct_url: str, proxy_url: str, rounds: int,
                  pids: dict[str, int]) -> dict[tuple[str, int], dict[str, list[float]]]:
    results: dict[tuple[str, int], dict[str, list[float]]] = {}
    async with (connect(direct_url, max_size=None, compression=None) as direct,
                connect(proxy_url, max_size=None, compression=None) as proxied):
        paths = (("direct", direct), ("proxy", proxied))
        for size in SIZES:  # warm both paths
            for _name, ws in paths:
                await rtts(ws, b"w" * size, 20)
        for _ in range(rounds):
            for size in SIZES:
                per_round = 50 if size <= 1024 else 20
                for name, ws in paths:
                    got = results.setdefault((name, size), {"rtt": [], "rate": []})
                    got["rtt"].extend(await rtts(ws, os.urandom(size), per_round))
                    count = 2000 if size <= 1024 else 300
                    before = {name: cpu_s(pid) for name, pid in pids.items()}
                    got["rate"].append(await throughput(ws, os.urandom(size), count))
                    for who, pid in pids.items():
                        got.setdefault(f"cpu {who}", []).append((cpu_s(pid) - before[who]) / count)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--no-record", action="store_true", help="the proxy forwards without recording")
    args = parser.parse_args()
    echo, upstream = start_echo()
    with tempfile.TemporaryDirectory() as data_dir:
        proxy, proxy_url = start_proxy(upstream, data_dir, not args.no_record)
        try:
            results = asyncio.run(measure(upstream, proxy_url, args.rounds, {"proxy": proxy.pid, "echo": echo.pid}))
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
            assert echo.stdin is not None
            echo.stdin.close()
            echo.wait(timeout=10)
    recording = "not recording" if args.no_record else "recording"
    print(f"proxy ({recording}) vs direct, {args.rounds} interleaved rounds, websockets echo server upstream")
    ratios = []
    for size in SIZES:
        label = f"{size} B" if size < 1024 else f"{size // 1024} KiB"
        for name in ("direct", "proxy"):
            got = results[(name, size)]
            print(f"  {label:>6} {name:>6}: rtt p50 {median(got['rtt']) / 1000:8.1f} µs, p95 "
                  f"{percentile(got['rtt'], 0.95) / 1000:8.1f} µs; {median(got['rate']):10,.0f} msg/s "
                  f"({median(got['rate']) * size / 1e6:8.1f} MB/s)")
        cpu_proxy = sum(results[("proxy", size)]["cpu proxy"]) / len(results[("proxy", size)]["cpu proxy"])
        cpu_echo = sum(results[("direct", size)]["cpu echo"]) / len(results[("direct", size)]["cpu echo"])
        print(f"  {label:>6} CPU per message echoed: proxy {cpu_proxy * 1e6:8.1f} µs, echo server (direct) "
              f"{cpu_echo * 1e6:8.1f} µs")
        added = (median(results[("proxy", size)]["rtt"]) - median(results[("direct", size)]["rtt"])) / 1000
        rate = median(results[("proxy", size)]["rate"]) / median(results[("direct", size)]["rate"])
        ratios.append((label, added, rate))
    for label, added, rate in ratios:
        print(f"{label}: rtt added p50 {added:.1f} µs (goal < 100); throughput proxy/direct {rate:.2f} (goal >= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
