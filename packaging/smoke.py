"""Smoke test of a built or installed wsinspector, used as a person would use it.

    python packaging/smoke.py --bin-dir dist/wsinspector --gui-wrapper 'xvfb-run -a'
    python packaging/smoke.py                      # the wsinspector and wsinspector-cli found on PATH
    python packaging/smoke.py --prefix 'chroot /srv/debian' --root /srv/debian --trust-ca system

Steps, each reported PASS or FAIL with the reason (exit status 1 if any failed):
  version        wsinspector-cli --version prints `wsinspector X.Y.Z` first, and a keyring the build supports
  serve          wsinspector-cli serve --port P answers a websockets client, then stops on SIGTERM (Windows:
                 terminate) and exits
  run-ws         wsinspector-cli run FILE against a ws:// echo served here, with both engines
  wss-untrusted  the same against a wss:// echo whose certificate comes from a CA made here: must fail with a
                 TLS error, since the CA is not trusted
  wss-trusted    with --trust-ca system: the CA is put into the operating system's store, the run must pass with
                 both engines, and the CA is removed afterwards
  gui            wsinspector --smoke-test opens the window and reports it was shown

--prefix runs every command of the app through a wrapper (chroot DIR, sudo -u USER, ...). Files the app must
read are written below --root, the folder the wrapped commands see as /.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import ipaddress
import os
import queue
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from websockets.asyncio.server import serve
    from websockets.sync.client import connect
except ImportError as exc:
    sys.exit(f"smoke: the Python package {exc.name} is needed (pip install websockets cryptography)")

IS_WIN = sys.platform == "win32"
IS_MAC = sys.platform == "darwin"
EXE = ".exe" if IS_WIN else ""
SMOKE_LINE = "wsinspector: smoke test: window shown"
VERSION_LINE = re.compile(r"^wsinspector \d+\.\d+\.\d+\S*")
TLS_ERROR = re.compile(r"certificate|TLS|SSL|handshake", re.IGNORECASE)

TEST_FILE = """\
version: 1
name: packaging smoke test
url: ws://127.0.0.1:1/
timeout: 10
steps:
  - name: send text
    send:
      text: hello from the smoke test ✓
  - name: text echoed
    expect:
      text: hello from the smoke test ✓
  - name: send json
    send:
      json:
        op: ping
        n: 1
  - name: json echoed
    expect:
      json:
        op: ping
        n: 1
  - name: send binary
    send:
      binary: 00 01 fe ff
  - name: binary echoed
    expect:
      binary: 00 01 fe ff
"""


# -- reporting -----------------------------------------------------------------------------------------------

@dataclass
class Report:
    results: list[tuple[str, str]] = field(default_factory=list)  # (step, PASS/FAIL/SKIP)

    def passed(self, step: str, detail: str) -> None:
        self.results.append((step, "PASS"))
        print(f"PASS {step}: {detail}", flush=True)

    def failed(self, step: str, reason: str, output: str = "") -> None:
        self.results.append((step, "FAIL"))
        print(f"FAIL {step}: {reason}", flush=True)
        if output.strip():
            lines = output.rstrip().splitlines()[-25:]
            print("\n".join(f"    | {line}" for line in lines), flush=True)

    def skipped(self, step: str, reason: str) -> None:
        self.results.append((step, "SKIP"))
        print(f"SKIP {step}: {reason}", flush=True)

    def summary(self) -> int:
        failed = [step for step, verdict in self.results if verdict == "FAIL"]
        ran = [step for step, verdict in self.results if verdict != "SKIP"]
        skipped = len(self.results) - len(ran)
        also = f" ({skipped} skipped)" if skipped else ""
        if failed:
            print(f"smoke: {len(failed)} of {len(ran)} steps FAILED{also}: {', '.join(failed)}", flush=True)
            return 1
        print(f"smoke: all {len(ran)} steps succeeded{also}", flush=True)
        return 0


# -- running the app -----------------------------------------------------------------------------------------

@dataclass
class App:
    cli: str
    gui: str
    prefix: list[str]
    gui_wrapper: list[str]
    timeout: float

    def command(self, exe: str, args: Sequence[str], wrapper: Sequence[str] = ()) -> list[str]:
        return [*self.prefix, *wrapper, exe, *args]

    def run(self, exe: str, args: Sequence[str], wrapper: Sequence[str] = (),
            timeout: float | None = None) -> tuple[int | None, str]:
        """Run to the end; (exit status or None on time-out, stdout and stderr together)."""
        cmd = self.command(exe, args, wrapper)
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=timeout or self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            out = exc.output.decode("utf-8", "replace") if exc.output else ""
            return None, out
        except OSError as exc:
            return -1, f"cannot start {shlex.join(cmd)}: {exc}"
        return done.returncode, done.stdout.decode("utf-8", "replace")


class LineReader:
    """The output of a running process, line by line, readable with a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(proc,), daemon=True)
        self._thread.start()

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], deadline: float) -> re.Match[str] | None:
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        return None

    def rest(self, timeout: float) -> str:
        self._thread.join(timeout)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        return "\n".join(self.seen)


# -- echo servers and certificates ---------------------------------------------------------------------------

class EchoServers:
    """websockets echo servers on 127.0.0.1, in a thread of their own: ws:// and, given a context, wss://."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: list[object] = []

    def start(self, tls: ssl.SSLContext | None = None) -> int:
        async def echo(ws) -> None:  # type: ignore[no-untyped-def]
            async for message in ws:
                await ws.send(message)

        async def listen() -> object:
            return await serve(echo, "127.0.0.1", 0, ssl=tls)

        server = asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)
        self.servers.append(server)
        return server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    def close(self) -> None:
        async def close_all() -> None:
            for server in self.servers:
                server.close()  # type: ignore[attr-defined]
                await server.wait_closed()  # type: ignore[attr-defined]

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass
class Certificates:
    name: str  # the CA's common name, unique to this run
    ca_pem: bytes
    ca_serial: int
    ca_sha1: str
    server_context: ssl.SSLContext


def make_certificates(folder: Path) -> Certificates:
    """A CA made for this run, and a server certificate for 127.0.0.1 and localhost that it signs."""
    now = datetime.datetime.now(datetime.UTC)
    name = f"wsinspector smoke test CA {secrets.token_hex(4)}"
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    chain = folder / "server-chain.pem"
    chain.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_file = folder / "server-key.pem"
    key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key_file)
    return Certificates(name=name, ca_pem=ca.public_bytes(pem), ca_serial=ca.serial_number,
                        ca_sha1=ca.fingerprint(hashes.SHA1()).hex().upper(), server_context=context)


# -- the operating system's certificate store ----------------------------------------------------------------

class SystemStore:
    """Puts a CA into the store the operating system (and so Qt) trusts, and takes it out again."""

    def __init__(self, certs: Certificates, root: Path, prefix: list[str], work: Path) -> None:
        self.certs = certs
        self.root = root
        self.prefix = prefix
        self.work = work
        self.installed = False
        self.slug = "wsinspector-smoke-" + certs.name.rsplit(" ", 1)[-1]

    def _run(self, cmd: list[str]) -> None:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)} exited {done.returncode}: "
                               f"{done.stdout.decode('utf-8', 'replace').strip()[-500:]}")

    def _sudo(self) -> list[str]:
        return [] if os.geteuid() == 0 else ["sudo", "-n"]

    def _debian_crt(self) -> Path:
        return self.root / "usr" / "local" / "share" / "ca-certificates" / f"{self.slug}.crt"

    def _debian_update(self, *args: str) -> None:
        tool = self.root / "usr" / "sbin" / "update-ca-certificates"
        if not tool.exists():
            raise RuntimeError(f"{tool} is missing: only the Debian/Ubuntu CA store (ca-certificates) is supported")
        self._run([*self.prefix, "update-ca-certificates", *args])

    def install(self) -> str:
        ca_file = self.work / f"{self.slug}.pem"
        ca_file.write_bytes(self.certs.ca_pem)
        if IS_WIN:
            self._run(["certutil", "-f", "-addstore", "Root", str(ca_file)])
            self.installed = True
            return "added to the machine's Root store (certutil)"
        if IS_MAC:
            self._run([*self._sudo(), "security", "add-trusted-cert", "-d", "-r", "trustRoot",
                       "-k", "/Library/Keychains/System.keychain", str(ca_file)])
            self.installed = True
            return "added to the System keychain as a trusted root (security add-trusted-cert)"
        if os.geteuid() != 0:
            raise RuntimeError("installing a CA into the system store needs root")
        crt = self._debian_crt()
        if not crt.parent.is_dir():
            raise RuntimeError(f"{crt.parent} is missing: is ca-certificates installed?")
        crt.write_bytes(self.certs.ca_pem)
        self.installed = True
        self._debian_update()
        return f"added as {crt} (update-ca-certificates)"

    def remove(self) -> str:
        if not self.installed:
            return "nothing to remove"
        if IS_WIN:
            self._run(["certutil", "-delstore", "Root", format(self.certs.ca_serial, "x")])
        elif IS_MAC:
            ca_file = self.work / f"{self.slug}.pem"
            self._run([*self._sudo(), "security", "remove-trusted-cert", "-d", str(ca_file)])
            self._run([*self._sudo(), "security", "delete-certificate", "-Z", self.certs.ca_sha1,
                       "/Library/Keychains/System.keychain"])
        else:
            self._debian_crt().unlink(missing_ok=True)
            self._debian_update("--fresh")
        self.installed = False
        return "removed"


# -- the steps -----------------------------------------------------------------------------------------------

def step_version(app: App, report: Report, expect: str | None) -> None:
    code, out = app.run(app.cli, ["--version"])
    first = out.splitlines()[0] if out.strip() else ""
    if code != 0:
        report.failed("version", f"exit status {code}", out)
    elif not VERSION_LINE.match(first):
        report.failed("version", f"first line is {first!r}, not `wsinspector X.Y.Z`", out)
    elif expect and first.split()[1] != expect:
        report.failed("version", f"first line is {first!r}, expected version {expect}", out)
    elif "Keyring: no " in out:  # the build left out what the OS keyring needs: secrets would not be kept
        keyring_line = next(line for line in out.splitlines() if line.startswith("Keyring: "))
        report.failed("version", keyring_line, out)
    else:
        report.passed("version", first)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def step_serve(app: App, report: Report) -> None:
    port = free_port()
    cmd = app.command(app.cli, ["serve", "--port", str(port)])
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        report.failed("serve", f"cannot start {shlex.join(cmd)}: {exc}")
        return
    reader = LineReader(proc)
    try:
        listening = reader.wait_for(re.compile(r"listening on (ws://\S+)"), time.monotonic() + app.timeout)
        if listening is None:
            report.failed("serve", "no `listening on ws://...` line", reader.rest(1))
            return
        url = f"ws://127.0.0.1:{port}/"
        text, data = "smoke ✓ " + secrets.token_hex(8), secrets.token_bytes(64)
        with connect(url, open_timeout=10, close_timeout=5) as ws:
            ws.send(text)
            echoed_text = ws.recv(timeout=10)
            ws.send(data)
            echoed_data = ws.recv(timeout=10)
        if echoed_text != text or echoed_data != data:
            report.failed("serve", f"{url} echoed {echoed_text!r} / {echoed_data!r}", reader.rest(1))
            return
        how = "terminate()" if IS_WIN else "SIGTERM"
        if IS_WIN:
            proc.terminate()
        else:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            report.failed("serve", f"still running 15 s after {how}", reader.rest(1))
            return
        out = reader.rest(5)
        if not IS_WIN and code != 0:
            report.failed("serve", f"exit status {code} after {how}", out)
            return
        report.passed("serve", f"{url} echoed text and binary; exited {code} after {how}")
    except Exception as exc:  # a failed connection or protocol error is this step's failure
        report.failed("serve", f"{type(exc).__name__}: {exc}", reader.rest(1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def run_test(app: App, report: Report, step: str, test_file: str, url: str, data_dir: str, engine: str,
             expect_pass: bool) -> None:
    args = ["run", test_file, "--url", url, "--engine", engine, "--data-dir", data_dir, "--connect-timeout", "10"]
    code, out = app.run(app.cli, args)
    name = f"{step} ({engine})"
    if code is None:
        report.failed(name, f"no exit within {app.timeout:g} s", out)
    elif expect_pass:
        if code == 0 and "PASSED" in out:
            report.passed(name, f"{url}: {out.strip().splitlines()[-1]}")
        else:
            report.failed(name, f"exit status {code} against {url}", out)
    elif code == 2 and TLS_ERROR.search(out):
        reason = next((line.strip() for line in out.splitlines() if TLS_ERROR.search(line)), "")
        report.passed(name, f"refused as it should be: {reason}")
    else:
        report.failed(name, f"expected exit status 2 with a certificate error, got {code}", out)


def step_gui(app: App, report: Report, data_dir: str) -> None:
    code, out = app.run(app.gui, ["--smoke-test", "--data-dir", data_dir], wrapper=app.gui_wrapper,
                        timeout=max(app.timeout, 90))
    if code == 0 and SMOKE_LINE in out:
        report.passed("gui", SMOKE_LINE)
    elif code is None:
        report.failed("gui", "no exit within the time limit", out)
    else:
        missing = "" if SMOKE_LINE in out else f", no line {SMOKE_LINE!r}"
        report.failed("gui", f"exit status {code}{missing}", out)


# -- main ----------------------------------------------------------------------------------------------------

def executables(args: argparse.Namespace) -> tuple[str, str]:
    if args.bin_dir:
        folder = Path(args.bin_dir)
        cli, gui = str(folder / f"wsinspector-cli{EXE}"), str(folder / f"wsinspector{EXE}")
    else:
        cli, gui = f"wsinspector-cli{EXE}", f"wsinspector{EXE}"  # from PATH
    return args.cli or cli, args.gui or gui


def split(text: str) -> list[str]:
    return shlex.split(text, posix=not IS_WIN) if text else []


def main(argv: Sequence[str] | None = None) -> int:  # noqa: C901, PLR0912, PLR0915
    parser = argparse.ArgumentParser(description="Smoke-test a built or installed wsinspector.")
    parser.add_argument("--bin-dir", help="folder holding wsinspector and wsinspector-cli (default: find them on "
                        "PATH); for a macOS app: wsinspector.app/Contents/MacOS")
    parser.add_argument("--cli", help="the console executable (overrides --bin-dir)")
    parser.add_argument("--gui", help="the window executable (overrides --bin-dir)")
    parser.add_argument("--prefix", default="", help="run the app's commands through this wrapper, e.g. 'chroot DIR'")
    parser.add_argument("--root", type=Path, default=None,
                        help="the folder the wrapped commands see as / (default: /): test files go below it")
    parser.add_argument("--gui-wrapper", default="", help="run the window through this, e.g. 'xvfb-run -a'")
    parser.add_argument("--trust-ca", choices=("none", "system"), default="none",
                        help="system: put the test CA into the operating system's store for the wss-trusted "
                             "step, and remove it afterwards (needs root or administrator rights)")
    parser.add_argument("--engines", default="wire,qt", help="engines to run the tests with (default wire,qt)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("version", "serve", "run-ws", "wss-untrusted", "wss-trusted", "gui"),
                        help="leave a step out (repeatable); it is reported as skipped")
    parser.add_argument("--expect-version", help="the version --version must print")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a command may take (default 60)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (test file, data folders)")
    args = parser.parse_args(argv)

    cli, gui = executables(args)
    app = App(cli=cli, gui=gui, prefix=split(args.prefix), gui_wrapper=split(args.gui_wrapper), timeout=args.timeout)
    if not app.prefix:
        for exe in (cli, gui):
            if shutil.which(exe) is None:
                print(f"smoke: {exe} is not an executable (give --bin-dir, --cli/--gui, or put it on PATH)",
                      file=sys.stderr)
                return 2
    root = args.root.resolve() if args.root else None
    host_tmp = (root / "tmp") if root else Path(tempfile.gettempdir())
    work = Path(tempfile.mkdtemp(prefix="wsinspector-smoke-", dir=host_tmp))

    def seen(path: Path) -> str:
        """The path as the (wrapped) app sees it."""
        return "/" + path.relative_to(root).as_posix() if root else str(path)

    print(f"smoke: {shlex.join(app.command(cli, []))} and {shlex.join(app.command(gui, [], app.gui_wrapper))}; "
          f"files in {work}", flush=True)
    report = Report()
    skip = set(args.skip)
    engines = [engine for engine in args.engines.split(",") if engine]
    servers = EchoServers()
    store: SystemStore | None = None
    try:
        if "version" in skip:
            report.skipped("version", "--skip")
        else:
            step_version(app, report, args.expect_version)
        if "serve" in skip:
            report.skipped("serve", "--skip")
        else:
            step_serve(app, report)

        test_file = work / "smoke.wstest.yaml"
        test_file.write_text(TEST_FILE, encoding="utf-8")
        data_dir = work / "data"
        data_dir.mkdir()
        certs = make_certificates(work)
        ws_port = servers.start()
        wss_port = servers.start(certs.server_context)
        runs: list[tuple[str, str, bool]] = [
            ("run-ws", f"ws://127.0.0.1:{ws_port}/", True),
            ("wss-untrusted", f"wss://127.0.0.1:{wss_port}/", False),
        ]
        for step, url, expect_pass in runs:
            if step in skip:
                report.skipped(step, "--skip")
                continue
            for engine in engines:
                run_test(app, report, step, seen(test_file), url, seen(data_dir), engine, expect_pass)

        if "wss-trusted" in skip:
            report.skipped("wss-trusted", "--skip")
        elif args.trust_ca == "none":
            report.skipped("wss-trusted", "--trust-ca none: the test CA is not installed into the system store")
        else:
            store = SystemStore(certs, root or Path("/"), app.prefix, work)
            try:
                how = store.install()
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                report.failed("wss-trusted", f"cannot install the test CA: {exc}")
            else:
                print(f"smoke: test CA {certs.name!r} {how}", flush=True)
                for engine in engines:
                    run_test(app, report, "wss-trusted", seen(test_file), f"wss://127.0.0.1:{wss_port}/",
                             seen(data_dir), engine, True)

        if "gui" in skip:
            report.skipped("gui", "--skip")
        else:
            step_gui(app, report, seen(work / "gui-data"))
    finally:
        if store is not None:
            try:
                print(f"smoke: test CA {store.remove()}", flush=True)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                report.failed("wss-trusted", f"cannot remove the test CA {store.certs.name!r}: {exc}")
        servers.close()
        if args.keep:
            print(f"smoke: kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
