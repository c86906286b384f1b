"""Apache Tomcat, a Java servlet container, with its WebSocket examples (Debian's ``tomcat10`` and
``tomcat10-examples``): a Tomcat of the test's own, in a folder of its own (CATALINA_BASE) on 127.0.0.1 and a free
port, serving only the examples webapp, run in the foreground until the test ends.

``scripts/test`` installs the packages (``scripts/qt-system-packages.sh tomcat10 tomcat10-examples``); where they
are missing, the tests that need Tomcat fail and name them."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from tests.conftest import free_port

CATALINA_HOME = Path("/usr/share/tomcat10")
EXAMPLES = Path("/usr/share/tomcat10-examples/examples")
CONF = Path("/etc/tomcat10")
#: the JVM starts and deploys the examples in a few seconds; much longer on a loaded machine
START_TIMEOUT_S = 90

SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="{port}" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
"""


def missing() -> str:
    """What is not installed ("" when Tomcat and its examples are)."""
    needed = [("tomcat10", CATALINA_HOME / "bin" / "catalina.sh"), ("tomcat10-examples", EXAMPLES / "WEB-INF"),
              ("tomcat10 (its configuration)", CONF / "web.xml")]
    gone = [package for package, path in needed if not path.exists()]
    if shutil.which("java") is None:
        gone.append("a Java runtime (default-jre-headless)")
    return ", ".join(gone)


class Tomcat:
    """``Tomcat(folder).start()`` returns once Tomcat says it has started; :attr:`url` is the examples'
    WebSocket folder (``ws://127.0.0.1:PORT/examples/websocket/``)."""

    def __init__(self, folder: Path) -> None:
        self.base = folder
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/examples/websocket/"
        self.output: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        lacking = missing()
        if lacking:
            pytest.fail(f"Tomcat is not installed: the servlet container tests need the Debian packages tomcat10 "
                        f"and tomcat10-examples (missing: {lacking}; scripts/test installs them)")
        conf = self.base / "conf"
        conf.mkdir(parents=True)
        for name in ("web.xml", "catalina.properties", "logging.properties", "context.xml"):
            shutil.copy(CONF / name, conf / name)
        (conf / "server.xml").write_text(SERVER_XML.format(port=self.port), encoding="utf-8")
        for folder in ("webapps", "logs", "temp", "work"):
            (self.base / folder).mkdir()
        (self.base / "webapps" / "examples").symlink_to(EXAMPLES)
        env = {**os.environ, "CATALINA_HOME": str(CATALINA_HOME), "CATALINA_BASE": str(self.base),
               "CATALINA_TMPDIR": str(self.base / "temp")}
        self._proc = subprocess.Popen([str(CATALINA_HOME / "bin" / "catalina.sh"), "run"], cwd=self.base, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      text=True, start_new_session=True)
        started = threading.Event()
        self._reader = threading.Thread(target=self._read, args=(started,), daemon=True)
        self._reader.start()
        if not started.wait(START_TIMEOUT_S) or self._proc.poll() is not None:
            tail = "\n".join(self.output[-30:])
            self.stop()
            pytest.fail(f"Tomcat did not start in {START_TIMEOUT_S} s:\n{tail}")

    def _read(self, started: threading.Event) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.output.append(line.rstrip())
            if "Server startup in" in line:
                started.set()
        started.set()  # it ended: start() says so

    def stop(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=30)  # it reads to the end of Tomcat's output
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None
