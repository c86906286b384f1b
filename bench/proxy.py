"""Round-trip time and throughput through the recording proxy vs straight to the same upstream.

The upstream is a `websockets` asyncio echo server in its own process; the proxy is `wsinspector proxy` in its
own process, twice: recording into a temporary data folder, as it does by default, and with ``--no-record``
(forwarding only). One asyncio client process measures every path, taking turns (direct, recording proxy,
forwarding proxy) so all see the same machine load: round trips of one message at a time, and throughput as
messages echoed per second with a window of messages in flight. 64-byte and 64 KiB messages. Prints, last, the
ratios of the recording proxy: the RTT it adds at the median (goal < 100 µs on loopback) and proxied / direct
throughput (goal >= 0.5); the forwarding proxy's ratios come just before them, and before those what a relay
that only copies bytes adds (Python, two blocking threads per client, no WebSocket parsing): the floor any
proxy process in Python sits on, on this machine, in this run; and, where socat is installed (apt), what socat
adds relaying TCP in C: the floor of any process in the path at all. With the recording proxy: the rate the store
alone commits a round trip's four frames at, and the rate the recording proxy sustained (until its store had
committed what it echoed). Before each path's turn every process has gone idle (what a run left to do counts
as the run's: its time in the sustained rate, its CPU in the proxy's), and the path is woken by as many round
trips as are then measured. On a loaded machine the wall-clock figures wander; the CPU time each proxy and the
echo server spend per message echoed (Linux: /proc) does not, and says what the proxy costs. Every process of
the app's (the proxies, the bytes-only relay, the store measured here) runs on the allocator settings the
app's entry point makes (``core/allocator.py``).

    .venv/bin/python bench/proxy.py [--rounds N] [--no-record] [--against DIR]

``--no-record``: only the forwarding proxy (its ratios last). ``--against DIR``: the forwarding proxy of another
checkout (e.g. a worktree of the code before a change) in the same interleaved rounds, and, printed last, this
tree's forwarding proxy against it: its CPU per message echoed and its throughput as ratios of the other's (the
CPU figure is the one that holds still on a noisy machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BYTES_RELAY, median, percentile

from wsinspector.core.allocator import keep_freed_memory

ROOT = Path(__file__).resolve().parents[1]
SIZES = (64, 64 * 1024)
#: messages in flight while measuring throughput
WINDOW = 32
#: the relays that parse nothing, measured as floors: Python's (two blocking threads per client) and socat's
FLOORS = {"bytes": "relay copying bytes in Python, the floor", "socat": "socat, a relay in C"}

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


def start_relay(upstream: str) -> tuple[subprocess.Popen[str], str]:
    port = upstream.rstrip("/").rsplit(":", 1)[1]
    proc = subprocess.Popen([sys.executable, "-c", BYTES_RELAY, port], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, f"ws://127.0.0.1:{int(proc.stdout.readline())}/"


def start_socat(upstream: str) -> tuple[subprocess.Popen[str], str] | None:
    """socat relaying TCP both ways (a process of its own per client, in C, TCP_NODELAY both ways, reads of up
    to 1 MiB as the Python relay's): the floor of an extra process in the path with no Python in it; None where
    socat is not installed."""
    socat = shutil.which("socat")
    if socat is None:
        return None
    port = upstream.rstrip("/").rsplit(":", 1)[1]
    with socket.socket() as probe:  # a free port for it (socat cannot print the one it was given)
        probe.bind(("127.0.0.1", 0))
        listen = probe.getsockname()[1]
    proc = subprocess.Popen([socat, "-b", str(1 << 20), f"TCP-LISTEN:{listen},bind=127.0.0.1,reuseaddr,fork,nodelay",
                             f"TCP:127.0.0.1:{port},nodelay"], stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as attempt:
            if attempt.connect_ex(("127.0.0.1", listen)) == 0:
                return proc, f"ws://127.0.0.1:{listen}/"
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("socat did not start listening")


def start_proxy(upstream: str, data_dir: str, record: bool, tree: Path = ROOT) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "wsinspector", "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream,
               "--data-dir", data_dir]
    if not record:
        command.append("--no-record")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WSINSPECTOR_KEYRING": "memory"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=tree)  # -m: the tree's package
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


#: how long the processes may take to go idle before a measurement (a recording proxy commits its backlog)
SETTLE_S = 20.0
#: no CPU used for this long: idle
IDLE_S = 0.1


async def settled(pids: dict[str, int]) -> float:
    """Wait until no process of ``pids`` used CPU for ``IDLE_S`` (a proxy still writing what the last
    throughput run recorded would slow the path measured next, whichever it is); how long they were busy.
    Says so if they were still busy after ``SETTLE_S``."""
    start = time.monotonic()
    before = {pid: cpu_s(pid) for pid in pids.values()}
    while time.monotonic() - start < SETTLE_S:
        await asyncio.sleep(IDLE_S)
        now = {pid: cpu_s(pid) for pid in pids.values()}
        if now == before:
            return max(0.0, time.monotonic() - start - IDLE_S)
        before = now
    print(f"  (still busy after {SETTLE_S:g} s: measuring on)", file=sys.stderr)
    return SETTLE_S


async def measure(urls: dict[str, str], rounds: int, pids: dict[str, int],
                  store_dir: str, record: bool) -> dict[tuple[str, int], dict[str, list[float]]]:
    """Every path of ``urls`` (by name) in turn, each round, once what the path before it left to do is done:
    round trips (after as many again to wake the path), then a throughput run; the CPU time of each process of ``pids``
    (by name) per message of each throughput run; with ``record``, the store's own rate for large messages
    (:func:`store_rate`, in ``store_dir``)."""
    results: dict[tuple[str, int], dict[str, list[float]]] = {}
    async with AsyncExitStack() as stack:
        paths = [(name, await stack.enter_async_context(connect(url, max_size=None, compression=None)))
                 for name, url in urls.items()]
        for size in SIZES:  # warm every path
            for _name, ws in paths:
                await rtts(ws, b"w" * size, 20)
        for _ in range(rounds):
            for size in SIZES:
                per_round = 50 if size <= 1024 else 20
                for name, ws in paths:
                    got = results.setdefault((name, size), {"rtt": [], "rate": []})
                    count = 2000 if size <= 1024 else 300
                    await settled(pids)
                    await rtts(ws, os.urandom(size), per_round)  # after the pause, every thread on the path awake
                    got["rtt"].extend(await rtts(ws, os.urandom(size), per_round))
                    before = {name: cpu_s(pid) for name, pid in pids.items()}
                    rate = await throughput(ws, os.urandom(size), count)
                    got["rate"].append(rate)
                    # what the run left to do (a recording proxy committing its backlog) is the run's: its time
                    # and its CPU count for this path, as what it sustains
                    got.setdefault("sustained", []).append(count / (count / rate + await settled(pids)))
                    for who, pid in pids.items():
                        got.setdefault(f"cpu {who}", []).append((cpu_s(pid) - before[who]) / count)
                if record and size > 1024:
                    results.setdefault(("store", size), {"rate": []})["rate"].append(
                        store_rate(store_dir, size, 300))
    return results


def store_rate(data_dir: str, size: int, count: int) -> float:
    """Round trips per second the store alone keeps up with: each one's four frames of ``size`` bytes (the
    client's message and the echo, on both hops) appended to a log as the recording proxy's engines report
    them, handed to the store's writer thread as its flushes do, timed until all are committed: what a
    recording proxy can sustain on this machine's disk (for a while it echoes faster, its backlog growing)."""
    from wsinspector.app.connection import WINDOW_BYTES, WINDOW_FRAMES  # noqa: PLC0415  (with --record only)
    from wsinspector.core.frames import Direction, Opcode  # noqa: PLC0415
    from wsinspector.core.log import FrameLog  # noqa: PLC0415
    from wsinspector.core.store import Store  # noqa: PLC0415

    store = Store(Path(data_dir) / f"store-{time.monotonic_ns()}.sqlite3")
    store.start_writer()
    log = FrameLog()
    upstream, _whole = log.upstream_sinks()
    session_id = store.create_session("bench", "ws://127.0.0.1:1/", log.started_wall, log.started_ns)
    payloads = [os.urandom(size) for _ in range(8)]
    key = os.urandom(4)
    flush_every = 64  # round trips a 50 ms flush takes at a few thousand a second
    saved, open_chunk = 0, None
    start = time.perf_counter()
    for n in range(count):
        payload, now = payloads[n % len(payloads)], time.monotonic_ns()
        log.append_fields(Direction.IN, Opcode.BINARY, payload, now, True, False, False, False, True, size, key)
        upstream(Direction.OUT, Opcode.BINARY, payload, now, True, False, False, False, True, size, key)
        upstream(Direction.IN, Opcode.BINARY, payload, now, True, False, False, False, False, size)
        log.append_fields(Direction.OUT, Opcode.BINARY, payload, now, True, False, False, False, False, size)
        if n % flush_every == flush_every - 1 or n == count - 1:
            last = len(log) - 1
            open_chunk = store.append_live(session_id, log, saved, last, open_chunk)
            saved = last + 1
            log.keep_window(WINDOW_FRAMES, WINDOW_BYTES, saved, saved)
    store.settle()
    rate = count / (time.perf_counter() - start)
    store.close()
    return rate


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def report(results: dict[tuple[str, int], dict[str, list[float]]], kinds: tuple[str, ...], rounds: int) -> None:
    """Each path's figures, the floor's ratios, then each proxy's against the goals (the recording one last)."""
    print(f"{' and '.join(kinds)} proxy vs direct, {rounds} interleaved rounds, websockets echo server upstream")
    ratios = []
    for size in SIZES:
        label = f"{size} B" if size < 1024 else f"{size // 1024} KiB"
        for name in ("direct", *FLOORS, *kinds):
            if (name, size) not in results:
                continue
            got = results[(name, size)]
            print(f"  {label:>6} {name:>10}: rtt p50 {median(got['rtt']) / 1000:8.1f} µs, p95 "
                  f"{percentile(got['rtt'], 0.95) / 1000:8.1f} µs; {median(got['rate']):10,.0f} msg/s "
                  f"({median(got['rate']) * size / 1e6:8.1f} MB/s)")
        cpu_echo = _mean(results[("direct", size)]["cpu echo"])
        cpus = ", ".join(f"{kind} proxy {_mean(results[(kind, size)][f'cpu {kind}']) * 1e6:8.1f} µs" for kind in kinds)
        print(f"  {label:>6} CPU per message echoed: {cpus}; echo server (direct) {cpu_echo * 1e6:8.1f} µs")
        for kind in kinds:
            added = (median(results[(kind, size)]["rtt"]) - median(results[("direct", size)]["rtt"])) / 1000
            rate = median(results[(kind, size)]["rate"]) / median(results[("direct", size)]["rate"])
            ratios.append((kind, label, added, rate))
    for size in SIZES:
        label = f"{size} B" if size < 1024 else f"{size // 1024} KiB"
        for floor, what in FLOORS.items():
            if (floor, size) not in results:
                print(f"{label} ({what}): not measured, socat is not installed")
                continue
            added = (median(results[(floor, size)]["rtt"]) - median(results[("direct", size)]["rtt"])) / 1000
            rate = median(results[(floor, size)]["rate"]) / median(results[("direct", size)]["rate"])
            print(f"{label} ({what}): rtt added p50 {added:.1f} µs; throughput relay/direct {rate:.2f}")
        if ("store", size) in results:
            stored = median(results[("store", size)]["rate"])
            sustained = median(results[("recording", size)]["sustained"])
            direct = median(results[("direct", size)]["rate"])
            print(f"{label} (the store alone): {stored:,.0f} round trips/s committed ({stored * 4 * size / 1e6:.0f} "
                  f"MB/s of frames), store/direct {stored / direct:.2f}; the recording proxy sustained "
                  f"{sustained:,.0f}/s until its store was done, {sustained / direct:.2f} of direct")
    for kind in kinds:  # the recording proxy's, the default, last
        for name, label, added, rate in ratios:
            if name == kind and kind != "against":
                print(f"{label} ({kind}): rtt added p50 {added:.1f} µs (goal < 100); throughput proxy/direct "
                      f"{rate:.2f} (goal >= 0.5)")


def compare(results: dict[tuple[str, int], dict[str, list[float]]], against: Path) -> None:
    """This tree's forwarding proxy against the other checkout's, measured in the same rounds."""
    for size in SIZES:
        label = f"{size} B" if size < 1024 else f"{size // 1024} KiB"
        ours, theirs = results[("forwarding", size)], results[("against", size)]
        cpu, cpu_against = _mean(ours["cpu forwarding"]), _mean(theirs["cpu against"])
        print(f"{label} (forwarding, this tree / {against}): CPU per message echoed {cpu * 1e6:.1f} / "
              f"{cpu_against * 1e6:.1f} µs = {cpu / cpu_against:.2f}; throughput "
              f"{median(ours['rate']) / median(theirs['rate']):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--no-record", action="store_true", help="only the proxy that forwards without recording")
    parser.add_argument("--against", type=Path, help="another checkout whose forwarding proxy runs in the same rounds")
    args = parser.parse_args()
    kinds: tuple[str, ...] = ("forwarding",) if args.no_record else ("forwarding", "recording")
    if args.against is not None:
        if not (args.against / "wsinspector" / "__main__.py").is_file():
            parser.error(f"--against: {args.against} is not a wsinspector checkout")
        kinds = ("against", *kinds)
    keep_freed_memory()  # the store measured here runs on the allocator settings the proxy's process has
    echo, upstream = start_echo()
    proxies: dict[str, subprocess.Popen[str]] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        try:
            urls = {"direct": upstream}
            proxies["bytes"], urls["bytes"] = start_relay(upstream)
            socat = start_socat(upstream)
            if socat is not None:
                proxies["socat"], urls["socat"] = socat
            for kind in kinds:
                tree = args.against if kind == "against" else ROOT
                proxies[kind], urls[kind] = start_proxy(upstream, os.path.join(data_dir, kind), kind == "recording",
                                                        tree)
            pids = {"echo": echo.pid} | {kind: proxies[kind].pid for kind in kinds}
            results = asyncio.run(measure(urls, args.rounds, pids, data_dir, not args.no_record))
        finally:
            for proc in proxies.values():
                proc.terminate()
                proc.wait(timeout=10)
            assert echo.stdin is not None
            echo.stdin.close()
            echo.wait(timeout=10)
    report(results, kinds, args.rounds)
    if args.against is not None:
        compare(results, args.against)
    return 0


if __name__ == "__main__":
    sys.exit(main())
