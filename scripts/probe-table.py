#!/usr/bin/env python3
"""Probe the peers the tests probe (tests/probe_peers.py: websockets, aiohttp, node ws, socket.io, websocat,
libwebsockets' test server, QWebSocketServer, Tomcat's echo example, hostile servers), every case including the aggressive ones, and the
mock server's fault routes with the cases each is about, and write their rows into docs/probe.md between the table
markers, with each probe's time.

Usage, from the repository with its .venv (node's ws and socket.io from scripts/node-peers.sh, Debian's
libwebsockets-test-server, tomcat10 and tomcat10-examples as scripts/test installs them):
    .venv/bin/python scripts/probe-table.py [--check]
``--check`` prints the table and leaves the file alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- probe-table:begin -->", "<!-- probe-table:end -->"
SUMMARY_BEGIN, SUMMARY_END = "<!-- probe-summary:begin -->", "<!-- probe-summary:end -->"
#: the README's narrower table
SUMMARY_COLUMNS = ("versions", "utf8", "pongs", "heartbeat", "size_limit", "compression", "closing", "conformance")


async def probe(url: str, name: str, store: Any, cases: str = "", subprotocols: tuple[str, ...] = (),
                origin: str = "") -> Any:
    """``cases``: only these (comma-separated); all of them, aggressive ones included, when empty."""
    from wsinspector.app.probe import ProbeController
    from wsinspector.core.probe.plan import plan
    from wsinspector.core.probe.steps import CaseContext
    from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake

    profile = ConnectionProfile(name=name, endpoint=Endpoint(url),
                                handshake=Handshake(subprotocols=subprotocols, origin=origin))
    names = plan(cases.split(","), url=url) if cases else plan(aggressive=True, url=url)
    controller = ProbeController(profile, names, store=store, aggressive=True,
                                 ctx=CaseContext(aggressive=True), name=name)
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    controller.finished.connect(lambda result: done.done() or done.set_result(result))
    controller.start()
    result = await done
    print(f"{name}: {result.seconds:.1f} s", file=sys.stderr, flush=True)
    return result


def websocat_version() -> str:
    import subprocess

    from tests import probe_peers

    return subprocess.run([probe_peers.websocat_binary(), "--version"], capture_output=True, text=True,
                          check=False).stdout.split()[-1]


def tomcat_version() -> str:
    import subprocess

    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "tomcat10"], capture_output=True, text=True,
                          check=False).stdout.strip() or "10"


def node_ws_version() -> str:
    package = ROOT / "tests" / "node_peers" / "node_modules" / "ws" / "package.json"
    return str(json.loads(package.read_text())["version"])


async def main(check: bool) -> int:
    import aiohttp
    import websockets
    from PySide6 import __version__ as qt_version

    from tests import probe_peers
    from tests.servlet.tomcat import Tomcat
    from wsinspector.core.probe import row
    from wsinspector.core.store import Store
    from wsinspector.net.server import EchoServer

    tmp = Path(tempfile.mkdtemp(prefix="probe-table-"))
    store = Store(tmp / "probe.sqlite3")
    node = probe_peers.start_node_ws(tmp / "node.out")
    socketio = probe_peers.start_socketio(tmp / "socketio.out")
    lws, lws_port = probe_peers.start_lws(tmp / "lws.out")
    mock, _rules = probe_peers.mock_server()  # the rules answer as long as they are kept
    tomcat = Tomcat(tmp / "tomcat")
    tomcat.start()
    websocat, websocat_port = probe_peers.start_websocat(tmp / "websocat.out")
    websockets_peer = await probe_peers.websockets_peer()
    aiohttp_peer = probe_peers.AiohttpPeer()
    await aiohttp_peer.start()
    hostile = probe_peers.hostile_peer()
    await hostile.start()
    dropping = probe_peers.HostileServer(probe_peers.resets_past(100_000))
    await dropping.start()
    qt = EchoServer()
    qt.listen()
    results: list[Any] = []  # every case
    targeted: list[Any] = []  # the cases that tell a fault route's columns
    try:
        port = 0
        while not port:
            port = probe_peers.node_port(node, tmp / "node.out")
            await asyncio.sleep(0.05)
        socketio_port = 0
        while not socketio_port:
            socketio_port = probe_peers.node_port(socketio, tmp / "socketio.out")
            await asyncio.sleep(0.05)
        while not probe_peers.websocat_listening(websocat, tmp / "websocat.out"):
            await asyncio.sleep(0.05)
        while not probe_peers.listening(lws, tmp / "lws.out", lws_port):
            await asyncio.sleep(0.05)
        for url, name in ((websockets_peer.url, f"websockets {websockets.__version__} (ping_interval=1)"),
                          (aiohttp_peer.url, f"aiohttp {aiohttp.__version__}"),
                          (f"ws://127.0.0.1:{port}/", f"node ws {node_ws_version()}"),
                          (f"ws://127.0.0.1:{socketio_port}{probe_peers.SOCKETIO_PATH}",
                           f"socket.io {probe_peers.socketio_version()} (Engine.IO endpoint)"),
                          (f"ws://127.0.0.1:{websocat_port}/", f"websocat {websocat_version()} (-s)"),
                          (qt.url, f"QWebSocketServer (Qt {qt_version})"),
                          (tomcat.url + "echoAnnotation", f"Tomcat {tomcat_version()} (echoAnnotation example)"),
                          (hostile.url, "hostile: silent after the upgrade"),
                          (dropping.url, "hostile: drops frames over 100,000 bytes")):
            results.append(await probe(url, name, store))
        lws_name = f"libwebsockets test server {probe_peers.lws_version()}"
        lws_url = f"ws://127.0.0.1:{lws_port}/"
        results.append(await probe(lws_url, f"{lws_name} ({probe_peers.LWS_MIRROR})", store,
                                   subprotocols=(probe_peers.LWS_MIRROR,)))
        mock_url = f"ws://127.0.0.1:{mock.server.port}"
        results.append(await probe(f"{mock_url}/echo", "wsinspector serve --mock (an echo route)", store))
        targeted.append(await probe(lws_url, f"{lws_name}, none of its subprotocols offered", store, "subprotocols"))
        for path, cases, what in probe_peers.MOCK_ROUTES:
            if path != "/echo":
                targeted.append(await probe(f"{mock_url}{path}", f"mock {path}: {what}", store, cases,
                                            origin=probe_peers.MOCK_ORIGINS.get(path, "")))
    finally:
        mock.stop()
        tomcat.stop()
        for proc in (node, socketio, lws, websocat):
            proc.terminate()
            proc.wait(timeout=30)
        await websockets_peer.stop()
        await aiohttp_peer.stop()
        await hostile.stop()
        await dropping.stop()
        qt.close()
        store.close()
    timings = "\n".join(f"- {r.label}: {r.seconds:.1f} s (" + ", ".join(f"{t.name} {t.seconds:.2f}"
                                                                         for t in r.cases) + ")" for r in results)
    table = (f"{BEGIN}\n{row.markdown(results)}\nEach probe's time, all cases (aggressive ones included), and "
             f"each case's in seconds:\n\n{timings}\n\nThe mock server's fault routes (`MOCK_ROUTES` in "
             f"tests/probe_peers.py), and libwebsockets offered none of its subprotocols: each probed with only the "
             f"cases its columns need, the columns no case measured left out (blank: not probed):\n\n"
             f"{targeted_table(targeted)}{END}")
    if check:
        print(table)
        return 0
    replace_between(ROOT / "docs" / "probe.md", BEGIN, END, table)
    replace_between(ROOT / "README.md", SUMMARY_BEGIN, SUMMARY_END,
                    f"{SUMMARY_BEGIN}\n{row.markdown(results, SUMMARY_COLUMNS)}{SUMMARY_END}")
    return 0


def targeted_table(results: list[Any]) -> str:
    """A table of the columns some of ``results`` measured; a cell its probe did not measure is blank."""
    from wsinspector.core.probe import row

    columns = [key for key, _ in row.COLUMNS if key != "conformance" and any(key in r.cells for r in results)]
    lines = ["| Endpoint | " + " | ".join(row.HEADINGS[key] for key in columns) + " |",
             "|" + "---|" * (len(columns) + 1)]
    for result in results:
        cells = [result.cells[key].value.replace("|", "\\|") if key in result.cells else "" for key in columns]
        lines.append(f"| {result.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def replace_between(doc: Path, begin: str, end: str, block: str) -> None:
    text = doc.read_text(encoding="utf-8")
    start, stop = text.index(begin), text.index(end) + len(end)
    doc.write_text(text[:start] + block + text[stop:], encoding="utf-8")
    print(f"wrote {doc}", file=sys.stderr)


def run() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("WSINSPECTOR_KEYRING", "memory")
    import qasync
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return int(loop.run_until_complete(main("--check" in sys.argv)))


if __name__ == "__main__":
    sys.exit(run())
