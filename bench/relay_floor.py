"""What a process that only copies bytes adds to a round trip, with round trips back to back.

`bench/proxy.py` lets every process go idle before each path's turn, then wakes the path with as many round
trips as it times; there a bytes-only relay adds some 90 to 120 µs to a 64-byte round trip on the 2-core
machine. This measures the same relay design (two blocking threads per connection, `recv` -> `sendall`,
`TCP_NODELAY`) with nothing idle: a blocking client sends 64 bytes to a blocking echo server, each in its own
process, straight and through the relay, one message at a time, thousands back to back, the two paths taking
turns. Prints, last, the median round trip through the relay against the direct one, and the difference.

    .venv/bin/python bench/relay_floor.py [--rounds N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

from _common import BYTES_RELAY

#: an echo server: a blocking thread per connection
ECHO = """
import socket, threading
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while data := conn.recv(65536):
        conn.sendall(data)
while True:
    threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()
"""

SIZE = 64


def start(code: str, *args: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def round_trips(conn: socket.socket, count: int) -> list[float]:
    """``count`` round trips of one message, back to back, in µs."""
    message = b"x" * SIZE
    taken = []
    for _ in range(count):
        start_ns = time.perf_counter_ns()
        conn.sendall(message)
        got = 0
        while got < SIZE:
            got += len(conn.recv(65536))
        taken.append((time.perf_counter_ns() - start_ns) / 1000)
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    echo, echo_port = start(ECHO)
    relay, relay_port = start(BYTES_RELAY, str(echo_port))
    try:
        paths = {name: socket.create_connection(("127.0.0.1", port))
                 for name, port in (("direct", echo_port), ("relay", relay_port))}
        for conn in paths.values():
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            round_trips(conn, 500)  # every thread of the path awake, its memory warm
        medians: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(rounds):
            for name, conn in paths.items():
                medians[name].append(statistics.median(round_trips(conn, 3000)))
        for conn in paths.values():
            conn.close()
    finally:
        for proc in (relay, echo):
            proc.kill()
            proc.wait()
    direct, relayed = statistics.median(medians["direct"]), statistics.median(medians["relay"])
    print(f"{SIZE} B round trips back to back, {rounds} interleaved rounds of 3,000")
    for name, values in medians.items():
        print(f"  {name:>6}: rtt p50 per round " + ", ".join(f"{value:.1f}" for value in values) + " µs")
    print(f"relay/direct rtt p50 {relayed / direct:.2f} (relay adds {relayed - direct:+.1f} µs)")


if __name__ == "__main__":
    main()
