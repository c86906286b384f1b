"""``wsinspector handshake``: the handshake a recorded session kept, printed by a real subprocess over the real
store the session was recorded into (against a real server that refuses the upgrade)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

from wsinspector.app.connection import ConnectionController
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake
from wsinspector.core.store import Store

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
TOKEN = "tok-1b2c3d4e5f"


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsinspector", "--data-dir", str(data_dir), "handshake", *args],
                          capture_output=True, text=True, env=ENV, timeout=60)


def _refusing(connection: Any, _request: Any) -> Any:
    return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")


def _record_refused(qtbot: Any, websockets_server: Any, data_dir: Path) -> int:
    peer = websockets_server(process_request=_refusing)
    store = Store(data_dir / "wsinspector.sqlite3")
    controller = ConnectionController(store)
    try:
        profile = ConnectionProfile(name="Guarded", endpoint=Endpoint(peer.url),
                                    handshake=Handshake(headers=(("Authorization", "Bearer {{token}}"),)),
                                    variables=(("token", TOKEN),), secret_variables=("token",))
        saved: list[int] = []
        controller.session_saved.connect(saved.append)
        with qtbot.waitSignals([controller.failed, controller.session_saved], timeout=10_000):
            controller.connect_to(profile)
        return saved[-1]
    finally:
        controller.shutdown()
        store.close()


def test_prints_the_kept_handshake_as_text_json_and_curl(qtbot: Any, websockets_server: Any, tmp_path: Path) -> None:
    session_id = _record_refused(qtbot, websockets_server, tmp_path)

    done = _cli(tmp_path, str(session_id), "--json")
    assert done.returncode == 0, done.stderr
    kept = json.loads(done.stdout)
    assert kept["request"]["line"] == "GET / HTTP/1.1" and kept["request"]["exact"] is True
    assert ["Authorization", "Bearer {{token}}"] in kept["request"]["headers"]
    assert (kept["response"]["status"], kept["response"]["reason"]) == (403, "Forbidden")
    assert kept["response"]["body"] == "origin not allowed\n"
    assert TOKEN not in done.stdout

    assert _cli(tmp_path, "last", "--json").stdout == _cli(tmp_path, "Guarded", "--json").stdout == done.stdout
    done = _cli(tmp_path)  # the newest session
    assert done.returncode == 0, done.stderr
    text = done.stdout.splitlines()
    assert text[0] == "GET / HTTP/1.1" and "Authorization: Bearer {{token}}" in text
    assert "HTTP/1.1 403 Forbidden" in text and "origin not allowed" in text

    done = _cli(tmp_path, str(session_id), "--curl")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("curl --include --no-buffer --http1.1 \\\n")
    assert "-H 'Authorization: Bearer {{token}}'" in done.stdout and TOKEN not in done.stdout


def test_no_such_session_is_exit_1_and_a_damaged_folder_exit_2(tmp_path: Path) -> None:
    Store(tmp_path / "wsinspector.sqlite3").close()
    done = _cli(tmp_path, "42")
    assert (done.returncode, done.stdout) == (1, "")
    assert "there is no session 42" in done.stderr and "Traceback" not in done.stderr
    done = _cli(tmp_path, "last")
    assert (done.returncode, done.stderr.strip()) == (
        1, "wsinspector: there is no session 'last': no sessions are stored")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "wsinspector.sqlite3").write_bytes(b"not a database at all" * 100)
    done = _cli(tmp_path / "bad")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
