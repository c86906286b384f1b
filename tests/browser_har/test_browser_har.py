"""HAR with a real browser: Debian's Chromium, driven by playwright-core, records a HAR of a page (served by
Python's http.server) talking to a local websockets server; the HAR imports as a stored session whose frames are
what the server saw, in order and byte for byte. That session exported as HAR is read by a HAR reader we did not
write (har-validator, checking the HAR 1.2 schema; the bytes taken as Chrome's convention says) and by our own
importer, byte-exact for text and binary.

scripts/browser-peers.sh installs Chromium (apt) and playwright-core and har-validator (npm) for scripts/test;
where they cannot be installed the test fails, naming what is missing."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.handshake import last_handshake
from wsinspector.core.har_export import stored_har_session, write_har
from wsinspector.core.model import header
from wsinspector.core.session_import import SessionsImport
from wsinspector.core.store import Store

HERE = Path(__file__).parent
CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 120_000


def _ready() -> None:
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"Chromium ({CHROMIUM}; apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs npm)")
    for package in ("playwright-core", "har-validator"):
        if not (HERE / "node_modules" / package).is_dir():
            missing.append(f"the npm package {package} in tests/browser_har")
    if missing:
        raise AssertionError("the browser round trip needs " + ", ".join(missing) +
                             ": run scripts/browser-peers.sh (scripts/test does)")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def page_server() -> Iterator[str]:
    """http://127.0.0.1:PORT/ serving this folder (page.html), from a thread joined after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HERE)))
    thread = threading.Thread(target=server.serve_forever, name="page server")
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def ws_server(run: Callable[..., Any]) -> Iterator[tuple[str, list[tuple[Direction, Opcode, bytes]]]]:
    """A websockets server that welcomes the first message and echoes each; what it saw, as the browser's
    frames: (direction from the browser's side, opcode, payload)."""
    seen: list[tuple[Direction, Opcode, bytes]] = []

    def frame(direction: Direction, message: str | bytes) -> tuple[Direction, Opcode, bytes]:
        if isinstance(message, str):
            return direction, Opcode.TEXT, message.encode()
        return direction, Opcode.BINARY, bytes(message)

    async def handler(ws: ServerConnection) -> None:
        welcomed = False
        async for message in ws:
            seen.append(frame(Direction.OUT, message))
            if not welcomed:
                welcomed = True
                await ws.send("welcome ✓")
                seen.append(frame(Direction.IN, "welcome ✓"))
            await ws.send(message)
            seen.append(frame(Direction.IN, message))

    server = run(serve(handler, "127.0.0.1", 0, subprotocols=["har.v1"]))  # type: ignore[list-item]
    port = server.sockets[0].getsockname()[1]
    yield f"ws://127.0.0.1:{port}/talk?room=1", seen
    server.close()
    run(server.wait_closed())


def _node(qtbot: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run node on one of this folder's scripts while the event loop serves the websockets server."""
    out, err = tmp_path / f"{args[0]}.out", tmp_path / f"{args[0]}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(["node", str(HERE / args[0]), *args[1:]], stdout=stdout, stderr=stderr, cwd=HERE)
        try:
            qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.read_text(), err.read_text())


def _stored(store: Store, session_id: int) -> list[tuple[Direction, Opcode, bytes]]:
    rows = store.read_frames(session_id, 0, store.stored_frame_count(session_id) - 1)
    return [(header.direction(meta), header.opcode(meta), bytes(payload)) for _s, _t, meta, _l, _k, _n, payload in rows]


def _import(store: Store, path: Path) -> list[int]:
    job = SessionsImport(store, path)
    for _ in job.steps():
        pass
    assert job.warnings == []
    return job.ids


@pytest.mark.parametrize("content", ["embed", "attach"])
def test_a_browsers_har_imports_as_what_the_server_saw_and_ours_reads_back_elsewhere(
    content: str, qtbot: Any, tmp_path: Path, page_server: str,
    ws_server: tuple[str, list[tuple[Direction, Opcode, bytes]]],
) -> None:
    _ready()
    ws_url, seen = ws_server
    # with content "attach" Playwright puts the messages in a side file; in a .zip, both travel together
    har = tmp_path / ("browser.har" if content == "embed" else "browser.zip")
    recorded = _node(qtbot, tmp_path, "record_har.mjs", f"{page_server}page.html?ws={ws_url}", str(har),
                     str(tmp_path / "profile"), content)
    assert recorded.returncode == 0, recorded.stderr
    assert [(d, o) for d, o, _ in seen] == [
        (Direction.OUT, Opcode.TEXT), (Direction.IN, Opcode.TEXT), (Direction.IN, Opcode.TEXT),
        (Direction.OUT, Opcode.BINARY), (Direction.IN, Opcode.BINARY),
        (Direction.OUT, Opcode.TEXT), (Direction.IN, Opcode.TEXT)]

    if content == "attach":  # the messages really are in a side file in the .zip, not in the entry
        with zipfile.ZipFile(har) as archive:
            [name] = [n for n in archive.namelist() if n.endswith(".har")]
            [entry] = [e for e in json.loads(archive.read(name))["log"]["entries"]
                       if e.get("_resourceType") == "websocket"]
            assert "_webSocketMessages" not in entry and entry["response"]["content"]["_file"] in archive.namelist()
    store = Store(tmp_path / "data" / "wsinspector.sqlite3")
    try:
        [session_id] = _import(store, har)  # the page's own HTTP requests are no sessions
        assert _stored(store, session_id) == seen
        record = store.session(session_id)
        assert record is not None and record.url == ws_url and record.subprotocol == "har.v1"
        shake = last_handshake((ts, kind, text) for _seq, ts, kind, text in store.events(session_id))
        assert shake is not None and shake.status == 101
        names = {name.lower() for name, _ in shake.request_headers}
        assert {"origin", "sec-websocket-protocol", "user-agent"} <= names

        ours = tmp_path / "ours.har"
        with ours.open("w", encoding="utf-8", newline="\n") as fp:
            for _ in write_har(fp, [stored_har_session(store, record)]):
                pass
        read = _node(qtbot, tmp_path, "read_har.mjs", str(ours))
        assert read.returncode == 0, f"har-validator refused our HAR: {read.stderr}"
        types = {Direction.OUT: "send", Direction.IN: "receive"}
        assert json.loads(read.stdout) == [{"type": types[d], "opcode": int(o), "hex": p.hex()} for d, o, p in seen]
        [again] = _import(store, ours)
        assert _stored(store, again) == seen
    finally:
        store.close()
