"""A real Secret Service for the tests that need one: gnome-keyring-daemon on a D-Bus session bus of its own
(``dbus-run-session``), its keyrings in a temporary home, unlocked with a password fed on stdin. The ``keyring``
library is pointed at that bus and nowhere else; the developer's own keyring is never touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: the packages that give gnome-keyring-daemon and dbus-run-session (Debian and Ubuntu)
PACKAGES = "gnome-keyring dbus"

#: a session bus that starts no service by itself: probing for the Secret Service before gnome-keyring has
#: taken its name must not make the bus start another, locked one
_BUS_CONFIG = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir={tmp}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

_SESSION = """\
echo "$DBUS_SESSION_BUS_ADDRESS" > "$1.tmp" && mv "$1.tmp" "$1"
(
    while :; do
        gnome-keyring-daemon --foreground --unlock --components=secrets < "$2" >> "$1.log" 2>&1 &
        echo $! > "$1.pid.tmp" && mv "$1.pid.tmp" "$1.pid"
        wait $!
        status=$?
        [ -e "$1.restart" ] || break  # stopped to be started again (the test's restart)
        rm "$1.restart"
    done
    echo $status > "$1.exit"  # however it ended: stopped, or by itself
) &
cat > /dev/null  # until the test closes this end: the bus stays up even when the daemon is gone
kill "$(cat "$1.pid")" 2>/dev/null
wait
"""


class _Daemon:
    """The gnome-keyring-daemon of one test, by the files its session writes next to ``address``. Calling it
    stops the daemon for good (the bus stays up); :meth:`restart` stops it and starts another on the same bus,
    with the same keyrings."""

    def __init__(self, address: Path, qtbot: Any) -> None:
        self.address = address
        self.qtbot = qtbot
        self.stopped = False

    def _file(self, suffix: str) -> Path:
        return self.address.with_name(self.address.name + suffix)

    def _pid(self) -> int:
        return int(self._file(".pid").read_text().strip())

    def log(self) -> str:
        log = self._file(".log")
        text = log.read_text(errors="replace").strip() if log.exists() else ""
        return text or "it wrote nothing"

    def ended_by_itself(self) -> str:
        """How the daemon ended without being stopped ("" while it runs, or once stopped)."""
        if self.stopped or not self._file(".exit").exists():
            return ""
        return f"exit status {self._file('.exit').read_text().strip()}"

    def __call__(self) -> None:
        self.stopped = True
        os.kill(self._pid(), signal.SIGTERM)
        self.qtbot.waitUntil(lambda: not _answers(), timeout=30_000)

    def restart(self) -> None:
        old = self._pid()
        self._file(".restart").touch()
        os.kill(old, signal.SIGTERM)
        self.qtbot.waitUntil(lambda: self._pid() != old and _answers(), timeout=30_000)


def _answers() -> bool:
    """Whether the Secret Service is on the bus with its default keyring (each probe closes its connection)."""
    from contextlib import closing

    import secretstorage

    try:
        with closing(secretstorage.dbus_init()) as connection:
            return bool(secretstorage.check_service_availability(connection)
                        and not secretstorage.get_default_collection(connection).is_locked())
    except Exception:  # not up yet: any error of the bus or the service
        return False


@pytest.fixture
def secret_service(qtbot: Any, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[_Daemon]:
    """A running, unlocked Secret Service that ``keyring`` (and so the app) uses for this test. Calling the
    fixture's value stops it (as when the keyring daemon dies while the app runs), the bus staying up; its
    ``restart()`` starts another in its place."""
    missing = [tool for tool in ("gnome-keyring-daemon", "dbus-run-session") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: the keyring tests need gnome-keyring and D-Bus "
                    f"(scripts/qt-system-packages.sh {PACKAGES} installs them; scripts/test runs it)")
    import keyring
    from keyring.backends import fail

    from wsinspector.app.secret_service import HeldSecretService

    home = tmp_path / "keyring-home"
    runtime = home / "run"
    runtime.mkdir(parents=True)
    runtime.chmod(0o700)
    password = tmp_path / "keyring-password"
    password.write_text("test keyring password")
    address = tmp_path / "bus-address"
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
           "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CONFIG_HOME": str(home / ".config")}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    config = tmp_path / "session-bus.conf"
    config.write_text(_BUS_CONFIG.format(tmp=tmp_path))
    command = ["dbus-run-session", f"--config-file={config}", "--", "sh", "-c", _SESSION, "session", str(address),
               str(password)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, env=env, stderr=subprocess.DEVNULL)
    daemon = _Daemon(address, qtbot)
    backend = HeldSecretService()
    try:
        qtbot.waitUntil(address.exists, timeout=30_000)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address.read_text().strip())
        monkeypatch.delenv("WSINSPECTOR_KEYRING", raising=False)
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
        try:
            qtbot.waitUntil(_answers, timeout=30_000)
        except qtbot.TimeoutError:
            pytest.fail(f"the Secret Service did not answer: {daemon.log()}")
        keyring.set_keyring(backend)  # as the app sets it: one held connection (wsinspector/app/secret_service.py)
        yield daemon
        ended = daemon.ended_by_itself()
        if ended:
            pytest.fail(f"gnome-keyring-daemon ended by itself during the test ({ended}): {daemon.log()}")
    finally:
        for held in {backend, keyring.get_keyring()}:  # and one the app took over from keyring's own backend
            if isinstance(held, HeldSecretService):
                held.close()
        keyring.set_keyring(fail.Keyring())
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
