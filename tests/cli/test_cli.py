"""The command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.sync.client import connect

import wsinspector

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
BIN = Path(sys.executable).parent


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsinspector", *args], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def test_version_from_module_and_entry_points(tmp_path):
    """The first line names the version; then what About says: Qt, Python, the data folder, the licence."""
    for command in ([sys.executable, "-m", "wsinspector"], [str(BIN / "wsinspector")], [str(BIN / "wsinspector-cli")]):
        result = subprocess.run([*command, "--data-dir", str(tmp_path), "--version"], capture_output=True, text=True,
                                env=ENV, timeout=60)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == f"wsinspector {wsinspector.__version__}"
        fields = dict(line.split(": ", 1) for line in lines[1:])
        assert fields["Qt"].startswith("6.11.2 (PySide6 6.11.2)")
        assert fields["Python"].startswith(".".join(map(str, sys.version_info[:2])))
        assert fields["Data folder"] == str(tmp_path)
        assert fields["Keyring"] == "Secret Service (GNOME Keyring, KeePassXC, KWallet)"
        # the suite keeps secrets in memory (WSINSPECTOR_KEYRING=memory): said, as no keyring is asked
        assert fields["Secrets kept in"] == ("memory, only while wsinspector runs (WSINSPECTOR_KEYRING=memory: "
                                             "no keyring is asked)")
        assert fields["Licence"] == "MIT"
        assert not (tmp_path / "wsinspector.sqlite3").exists()  # --version touches nothing


def test_smoke_test_shows_the_window_visits_every_page_and_quits(tmp_path):
    """What installers run on every OS: the window paints, every page loads (the Health page's graph and
    the Tests page are built on first use), the icon and TLS are there, and the exit code says so."""
    for args, env in (([f"--data-dir={tmp_path}", "--smoke-test"], ENV),
                      (["--data-dir", str(tmp_path)], {**ENV, "WSINSPECTOR_SMOKE_TEST": "1"})):
        result = subprocess.run([sys.executable, "-m", "wsinspector", *args], capture_output=True, text=True,
                                env=env, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert lines[:2] == ["wsinspector: smoke test: window shown", "wsinspector: smoke test: window ready"]
        assert "wsinspector: smoke test: pages shown: Inspector, Health, Sessions, Tests, Server, Probe" in lines
        assert any(line.startswith("wsinspector: smoke test: TLS library: OpenSSL") for line in lines)
        assert lines[-1] == "wsinspector: smoke test: passed"
        assert "Traceback" not in result.stderr
    assert (tmp_path / "wsinspector.sqlite3").exists()


#: what the first paint must not wait for: the store, the engines, the pages' heavy libraries, the commands'
#: parsers and modules, the keyring and its backends, what Qt itself does not import
HEAVY = ("wsinspector.core.store", "wsinspector.app.context", "wsinspector.ui.inspector", "wsinspector.net.wire",
         "wsinspector.core.profiles", "wsinspector.core.formats", "websockets", "numpy", "pyqtgraph", "yaml",
         "PySide6.QtNetwork", "keyring", "wsinspector.core.decoders", "wsinspector.cli_run",
         "wsinspector.cli_connections", "wsinspector.cli_messages", "wsinspector.cli_transfer",
         "wsinspector.cli_handshake", "wsinspector.cli_store", "wsinspector.cli_decode", "wsinspector.cli_defaults",
         "wsinspector.cli_serve", "wsinspector.cli_replay", "wsinspector.net.wire_server", "wsinspector.core.mock",
         "platformdirs", "json", "sqlite3",
         *(("socket",) if os.name != "nt" else ()))  # Windows wakes the event loop on signals through a socket


def test_the_window_paints_before_the_store_and_the_pages_are_loaded(tmp_path):
    """The window appears at once, as an empty frame; the store, the connections and the pages follow it."""
    code = f"""
import sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)

class Watch(QObject):
    seen = False
    def eventFilter(self, obj, event):
        if not self.seen and event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
            self.seen = True
            loaded = [name for name in {HEAVY!r} if name in sys.modules and name not in before]
            if sys.platform.startswith("linux"):  # the SVG icon engine (and QtSvg) comes with the icon, after it
                with open("/proc/self/maps", encoding="utf-8") as maps:
                    loaded += ["the SVG icon engine"] if "qsvgicon" in maps.read() else []
            print("loaded at the first paint:", ",".join(loaded) or "nothing", flush=True)
        return False

watch = Watch()
app.installEventFilter(watch)
before = set(sys.modules)  # what the interpreter and Qt loaded already (coverage's start-up hook loads sqlite3)
from wsinspector.cli import main
sys.exit(main(["--data-dir", sys.argv[1], "--smoke-test"]))
"""
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=ENV,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "loaded at the first paint: nothing", result.stdout
    assert lines[1:3] == ["wsinspector: smoke test: window shown", "wsinspector: smoke test: window ready"]
    assert lines[-1] == "wsinspector: smoke test: passed"


#: how the window is started (desktop entries, file managers, installers' checks): read without the parser
WINDOW_STARTS = [[], ["--smoke-test"], ["--data-dir", "DIR"], ["--data-dir=DIR", "--smoke-test"],
                 ["--smoke-test", "--data-dir", "DIR"], ["--data-dir", "one", "--data-dir", "DIR"], ["a.wstest.yaml"],
                 ["--data-dir", "DIR", "a.wstest.yaml", "b.json"], ["FILE"], ["FILE", "run", "serve"]]
#: the rest goes to the parser: commands, help, abbreviations, mistakes
PARSER_STARTS = [["open", "FILE"], ["--smoke", "--data", "DIR"], ["--help"], ["--version"], ["run", "a.wstest.yaml"],
                 ["serve"], ["--data-dir"], ["--data-dir", "--smoke-test"], ["--data-dir="], ["FILE", "--smoke-test"],
                 ["FILE", "--", "x"], ["--", "FILE"], ["typo"], ["-x"]]


@pytest.mark.parametrize("argv", [*WINDOW_STARTS, *PARSER_STARTS], ids=lambda argv: " ".join(argv) or "no arguments")
def test_the_window_reads_its_arguments_as_the_parser_does(tmp_path, argv):
    """The window's start reads its few arguments without building every command's parser, and reads them as
    the parser does (the same folder, check and files); anything else goes to the parser."""
    from wsinspector.cli import _with_open_command, build_parser, window_arguments

    existing = tmp_path / "notes"  # a file with no test or session extension: still a file to open
    existing.write_text("", encoding="utf-8")
    real = [arg.replace("FILE", str(existing)).replace("DIR", str(tmp_path)) for arg in argv]
    fast = window_arguments(real)
    assert (fast is not None) == (argv in WINDOW_STARTS)
    if fast is not None:
        args = build_parser().parse_args(_with_open_command(real))
        assert not args.version and args.command in (None, "open")
        assert fast == (args.data_dir, args.smoke_test, getattr(args, "files", []))


def test_smoke_test_without_a_data_folder_leaves_the_users_alone(tmp_path):
    home = tmp_path / "home"
    env = {**ENV, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "config")}
    env.pop("WSINSPECTOR_DATA_DIR", None)
    result = subprocess.run([sys.executable, "-m", "wsinspector", "--smoke-test"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list((home / "data").glob("**/*.sqlite3"))


def test_smoke_test_fails_when_the_resources_are_missing(tmp_path):
    """A build that lost its resources (the icon) must fail the check, not pass it."""
    code = ("import sys; from pathlib import Path; import wsinspector.ui.main_window as window; "
            "window.RESOURCES = Path(sys.argv[1]); from wsinspector.cli import main; "
            "sys.exit(main(['--data-dir', sys.argv[1], '--smoke-test']))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=ENV,
                            timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "smoke test: window shown" in result.stdout
    assert "smoke test: FAILED: the window icon did not load" in result.stderr
    assert "smoke test: passed" not in result.stdout


def test_unknown_command_is_a_usage_error():
    result = _cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "wsinspector", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_serve_echoes_until_ctrl_c():
    proc = _start(["serve"])
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        with connect(match.group(0)) as ws:
            ws.send("hello")
            assert ws.recv(timeout=10) == "hello"
            ws.send(b"\x00\xff")
            assert ws.recv(timeout=10) == b"\x00\xff"
    finally:
        code, out, _ = _stop(proc)
    assert code == 0
    assert "stopped" in out


def test_serve_on_a_given_port_and_a_busy_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = _start(["serve", "--port", str(port)])
    try:
        assert f"ws://127.0.0.1:{port}/" in proc.stdout.readline()  # type: ignore[union-attr]
        busy = _cli("serve", "--port", str(port))
        assert busy.returncode == 2
        assert f"Cannot listen on 127.0.0.1:{port}" in busy.stderr
        assert "Traceback" not in busy.stderr
    finally:
        _stop(proc)


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_serve_rejects_an_invalid_port(port):
    result = _cli("serve", "--port", port)
    assert result.returncode == 2
    assert "between 0 and 65535" in result.stderr


def test_gui_starts_with_its_echo_server_and_saves_the_local_echo_connection(tmp_path):
    proc = _start(["--data-dir", str(tmp_path)])
    try:
        seen = []
        for line in proc.stderr:  # type: ignore[union-attr]
            seen.append(line)
            match = re.search(r"echo server at (ws://127\.0\.0\.1:\d+/)", line)
            if match:
                break
        assert match, "".join(seen)
        assert str(tmp_path) in line
        with connect(match.group(1)) as ws:
            ws.send("from outside")
            assert ws.recv(timeout=10) == "from outside"
    finally:
        code, _, err = _stop(proc, signal.SIGTERM)
    assert code == 0, err
    assert "Traceback" not in err
    with sqlite3.connect(tmp_path / "wsinspector.sqlite3") as db:
        rows = [r[0] for r in db.execute("SELECT data FROM profiles")]
    assert any('"Local echo"' in row and match.group(1) in row for row in rows)


def test_smoke_test_finishes_when_its_output_is_closed_early(tmp_path):
    """``wsinspector --smoke-test | grep -q shown``: the reader goes away after one line; the check still
    ends on its own with its verdict in the exit code, instead of hanging on a broken pipe."""
    proc = subprocess.Popen([sys.executable, "-m", "wsinspector", "--data-dir", str(tmp_path), "--smoke-test"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == "wsinspector: smoke test: window shown"
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, err
    assert "FAILED" not in err


def test_smoke_test_of_a_build_without_standard_streams_still_reports(tmp_path):
    """A windowed build (wsinspector.exe on Windows) starts with sys.stdout and sys.stderr set to None; run
    with its output redirected, as installers' checks run it, it still prints its verdict."""
    code = ("import sys; sys.stdout = sys.stderr = None; from wsinspector.cli import main; "
            "sys.exit(main(['--data-dir', sys.argv[1], '--smoke-test']))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=ENV,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "wsinspector: smoke test: window shown"
    assert result.stdout.splitlines()[-1] == "wsinspector: smoke test: passed"
