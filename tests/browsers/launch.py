"""Real browsers as WebSocket clients: Debian's Chromium and Firefox ESR, headless, each with a fresh profile and no
network beyond loopback, load a page served by the test (:class:`PageServer`, Python's ``http.server`` on
127.0.0.1) whose script talks WebSocket and posts what it saw back to the same server as JSON.

``scripts/test`` installs both browsers (``scripts/qt-system-packages.sh chromium firefox-esr``); where one is
missing the test that needs it fails and names it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

PAGE = Path(__file__).with_name("page.html")

#: Firefox's prefs for a profile that fetches nothing by itself (no updates, telemetry, studies, safe browsing
#: lists, prefetching, push, captive-portal or connectivity checks, first-run pages) and reaches only loopback
FIREFOX_PREFS = {
    "app.update.enabled": False, "app.update.auto": False, "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False, "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False, "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False, "toolkit.telemetry.server": "", "network.prefetch-next": False,
    "network.dns.disablePrefetch": True, "network.http.speculative-parallel-limit": 0,
    "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
    # anything but loopback goes to a proxy that is not there (loopback never goes through a proxy)
    "network.proxy.type": 1, "network.proxy.http": "127.0.0.1", "network.proxy.http_port": 9,
    "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": 9, "network.proxy.share_proxy_settings": True,
    "network.proxy.allow_hijacking_localhost": False, "dom.push.connection.enabled": False,
    "geo.provider.network.url": "", "browser.region.network.url": "", "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False, "browser.safebrowsing.downloads.enabled": False,
    "browser.shell.checkDefaultBrowser": False, "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False, "browser.newtabpage.enabled": False, "browser.startup.page": 0,
    "extensions.update.enabled": False, "extensions.getAddons.cache.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/", "browser.search.update": False,
    "media.gmp-manager.url": "http://127.0.0.1:9/", "extensions.blocklist.enabled": False,
}


@dataclass(frozen=True)
class Browser:
    """One of the browsers the tests drive: its Debian package and program."""

    name: str
    package: str
    program: str

    def path(self) -> str:
        """The program, or the test fails naming the package to install."""
        found = shutil.which(self.program)
        if found is None:
            pytest.fail(f"{self.name} is not installed: the browser tests need the Debian package "
                        f"{self.package} (scripts/qt-system-packages.sh {self.package}; scripts/test installs it)")
        return found

    def command(self, url: str, profile: Path) -> list[str]:
        if self.program == "chromium":
            return [self.path(), "--headless=new", "--no-sandbox", f"--user-data-dir={profile}",
                    "--disable-background-networking", "--disable-component-update", "--no-first-run",
                    "--no-default-browser-check", "--disable-sync", "--disable-extensions", "--disable-gpu",
                    # anything but loopback: no address, and a proxy that is not there
                    "--proxy-server=http://127.0.0.1:9",
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", url]
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in FIREFOX_PREFS.items()),
            encoding="utf-8")
        return [self.path(), "--headless", "--no-remote", "--profile", str(profile), url]


CHROMIUM = Browser("Chromium", "chromium", "chromium")
FIREFOX = Browser("Firefox ESR", "firefox-esr", "firefox-esr")
BROWSERS = {"chromium": CHROMIUM, "firefox": FIREFOX}


class PageServer:
    """``http.server`` on 127.0.0.1 serving ``page.html`` at ``/`` and taking the page's report at ``/report``
    (JSON, kept in :attr:`reports`)."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = PAGE.read_bytes() if self.path.split("?")[0] == "/" else b""
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    owner.reports.append(json.loads(data))
                except ValueError:
                    owner.reports.append({"error": f"the page posted what is not JSON: {data[:200]!r}"})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, **query: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/?{urlencode(query)}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class Running:
    """A browser process started in a session of its own, so it and the processes it starts end together."""

    def __init__(self, browser: Browser, url: str, profile: Path) -> None:
        profile.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["HOME"] = str(profile.parent)
        self.log = profile.parent / f"{browser.program}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(browser.command(url, profile), stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)

    def exited(self) -> bool:
        return self.proc.poll() is not None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]

    def stop(self) -> None:
        """End the browser and every process it started (its session's process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
