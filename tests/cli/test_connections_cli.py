"""``wsinspector connections``: the saved connections by folder, run as a user runs it (a real subprocess over
the real store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from wsinspector.core import folders as fo
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.store import Store

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsinspector", "--data-dir", str(data_dir), "connections", *args],
                          capture_output=True, text=True, env=ENV, timeout=60)


def _saved(data_dir: Path) -> None:
    store = Store(data_dir / "wsinspector.sqlite3")
    try:
        for name, url, folder in [("Echo", "ws://127.0.0.1:9/", ""),
                                  ("Chat", "wss://chat.example.com/ws?token=s3cr3t", "Team/Staging"),
                                  ("Feed", "wss://feed.example.com/", "Team")]:
            store.save_profile(ConnectionProfile(name=name, endpoint=Endpoint(url), folder=folder,
                                                 id=name.lower()))
        store.set_setting(fo.FOLDERS_SETTING, '["Archive"]')
        store.set_setting(fo.LAST_USED_SETTING, '{"feed": 1700000000, "echo": 1600000000}')
    finally:
        store.close()


def test_lists_connections_by_folder_as_json_and_text(tmp_path: Path) -> None:
    _saved(tmp_path)
    done = _cli(tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert listed["folders"] == ["Archive", "Team", "Team/Staging"]
    assert [(c["name"], c["folder"]) for c in listed["connections"]] == \
        [("Echo", ""), ("Chat", "Team/Staging"), ("Feed", "Team")]
    assert "s3cr3t" not in done.stdout  # a token in a URL is not printed
    assert listed["connections"][2]["last_used"] == "2023-11-14T22:13:20+00:00"

    done = _cli(tmp_path, "--folder", "Team")
    assert (done.returncode, done.stdout.splitlines()) == (
        0, ["Team/Staging/Chat\twss://chat.example.com/ws?token=REDACTED", "Team/Feed\twss://feed.example.com/"])
    done = _cli(tmp_path, "--search", "FEED example", "--json")
    assert [c["name"] for c in json.loads(done.stdout)["connections"]] == ["Feed"]
    done = _cli(tmp_path, "--recent", "--json")
    assert [c["name"] for c in json.loads(done.stdout)["connections"]] == ["Feed", "Echo"]


def test_an_unknown_folder_and_no_match_have_their_exit_status(tmp_path: Path) -> None:
    _saved(tmp_path)
    done = _cli(tmp_path, "--folder", "Nope")
    assert done.returncode == 2
    assert done.stderr.strip() == ("wsinspector: --folder: there is no folder “Nope” (the folders: “Archive”, "
                                   "“Team”, “Team/Staging”)")
    done = _cli(tmp_path, "--folder", "Archive", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout) == {"folders": ["Archive"], "connections": []}
    # no data yet: nothing listed, and no file made
    empty = tmp_path / "empty"
    assert _cli(empty, "--json").returncode == 1
    assert not (empty / "wsinspector.sqlite3").exists()
