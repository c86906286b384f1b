"""Autobahn|Testsuite conformance run of the app's WebSocket client engines, served by kosoku or by wstest.

    python -m tests.conformance.autobahn --engine qt|wire [--cases '1.*' ...] [--json OUT.json]
                                         [--markdown docs/conformance.md]
    scripts/autobahn-reference --engine qt|wire [the same options]

Two fuzzingservers can serve the cases. kosoku (the default) runs Autobahn's case files in Python 3 with a
server of its own: fast, in the test suite, but not faithful in everything (it answers some offers
differently, and how its frames fall into TCP reads differs). wstest is Autobahn|Testsuite itself
(``--server wstest --wstest PATH``, Python 2.7): the reference whose figures are published;
``scripts/autobahn-reference`` installs it and runs this module with it. Either server serves the cases
to the client under test, which follows Autobahn's client protocol:

* ``/getCaseCount``: the server sends the number of selected cases as a text message, then closes;
* ``/runCase?case=N&agent=NAME`` for N in 1..count: the client echoes every message back unchanged
  (text as text, binary as binary) until the connection ends;
* ``/updateReports?agent=NAME``: ends the run; kosoku drops this connection without a close frame, wstest
  writes its reports, closes and (asked with ``shutdownOnComplete``) exits.

The engine is driven through the same interface the app uses: a ``ConnectionProfile`` resolved into a
target, ``open()``, and the frame sink the session normally installs. Incoming data frames are assembled
into messages with :class:`~wsinspector.core.frames.MessageAssembler` and each whole message is sent back
with ``send(payload, is_text)``. Whatever the engine does to a message (the Qt engine hands text over
decoded and re-encodes it) reaches the server as it is, and shows up in the verdicts.

Our engine runs on a qasync loop over a QCoreApplication, as in the app. kosoku's fuzzingserver runs in a
child process by default (``--server subprocess``); ``--server inprocess`` runs ``kosoku.run_fuzzingserver``
on the same loop instead. Both work and give the same verdicts; the child process is the default because:

* an engine that hangs or crashes the interpreter cannot take the server and its verdicts down with it: the
  cases already run keep their results, and a case that never finished is reported as such;
* kosoku's own report writer runs, so its HTML and JSON reports can be kept (``--reports-dir``);
* kosoku runs Autobahn's case code in Python for every message it sends or checks; in its own process that
  code does not share our GIL. The permessage-deflate groups 12 and 13 (about 200,000 compressed messages)
  run about 5 % faster that way: our side's compression is what takes the time.

The child watches its standard input and exits when this process goes away.

Cases run two at a time (``--parallel``): kosoku accepts concurrent cases, and many of them wait on
timers (5.19, 5.20, 6.4.x), which halves the run of groups 1 to 10. Groups 12 and 13 are CPU-bound.

kosoku 0.1.0 sends the valid-UTF-8 payloads of group 6 that Autobahn spells in byte escapes double-encoded
(see :mod:`tests.conformance.fuzzingserver`), so those cases would not check what they describe. The run
fixes them first, in either server mode; ``--kosoku-as-is`` runs kosoku's cases unchanged.

Verdicts: a case counts as FAILED when its behavior is FAILED or ERROR, its close verdict is anything but
OK or INFORMATIONAL, or it has no result at all (it never ran to the end). Otherwise it counts under its
behavior: OK, NON-STRICT, INFORMATIONAL or UNIMPLEMENTED. kosoku itself treats UNIMPLEMENTED (the
permessage-deflate cases against a client that does not offer the extension) as not passed; Autobahn's own
reports do not, and neither does this summary.

The script exits 0 whenever the run completed, whatever the verdicts; 2 when it could not run.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import datetime
import fnmatch
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

AGENT_PREFIX = "wsinspector"
ENGINES = ("qt", "wire")
VERDICTS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
#: behaviors that pass; anything else (FAILED, ERROR) fails the case
_BEHAVIOR_PASS = frozenset({"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED"})
#: close verdicts that pass; FAILED, FAILED BY CLIENT, UNCLEAN and WRONG CODE fail the case
_CLOSE_PASS = frozenset({"OK", "INFORMATIONAL"})
MIB = 1024 * 1024
#: Autobahn's largest messages are 16 MiB (group 9); the app's default limit
MAX_MESSAGE_SIZE = 64 * MIB
DEFAULT_CASE_TIMEOUT_S = 300.0
DEFAULT_PARALLEL = 2
ROOT = Path(__file__).resolve().parents[2]

_LISTENING = re.compile(rb"listening on ws://([^\s:]+):(\d+)")
#: wstest's list of the cases it serves, in run order, printed as a Python 2 list
_WSTEST_CASES = re.compile(rb"Cases = (\[[^\]]*\])")


class RunError(RuntimeError):
    """The run could not be carried out (as opposed to cases failing)."""


# -- results --------------------------------------------------------------------------------------


@dataclass
class ClientSide:
    """What our side saw of one case's connection."""

    #: "closed", "failed", "cancelled" or "timeout"
    end: str = ""
    detail: str = ""
    #: from the start of the first case to this one's, and how long this one took
    start_s: float = 0.0
    seconds: float = 0.0
    echoed: int = 0


@dataclass
class CaseOutcome:
    case_id: str
    index: int
    verdict: str
    behavior: str
    behavior_close: str
    result: str
    result_close: str
    remote_close_code: int | None
    #: kosoku's measure of the case, from its start to the end of the connection
    duration_ms: int
    client: ClientSide = field(default_factory=ClientSide)
    #: the messages kosoku got back and the ones it expected, shortened (see :func:`short_events`)
    received: str = ""
    expected: str = ""


def short_events(events: Any) -> str:
    """kosoku's list of events (``["message", payload, is_binary]``, pings, pongs), each payload cut short."""
    parts = []
    for event in list(events or [])[:4]:
        if isinstance(event, list | tuple) and len(event) >= 3 and event[0] == "message":
            payload = event[1]
            shown = repr(payload[:32]) + ("..." if len(payload) > 32 else "")
            parts.append(f"{'binary' if event[2] else 'text'} {shown} ({len(payload)})")
        else:
            parts.append(repr(event)[:48])
    if len(list(events or [])) > 4:
        parts.append("...")
    return "[" + ", ".join(parts) + "]"


def expected_events(expected: Any) -> Any:
    """The events kosoku's OK verdict expects (``expected`` maps a verdict to its events)."""
    if isinstance(expected, dict):
        return expected.get("OK", next(iter(expected.values()), []))
    return expected


def verdict_of(behavior: str, behavior_close: str) -> str:
    if behavior not in _BEHAVIOR_PASS or behavior_close not in _CLOSE_PASS:
        return "FAILED"
    return behavior


def group_of(case_id: str) -> str:
    """``1.1.1`` -> ``1.1``, ``6.4.2`` -> ``6.4``, ``12.3.7`` -> ``12.3``; ``5.4`` -> ``5``, ``2.11`` -> ``2``."""
    parts = case_id.split(".")
    return ".".join(parts[:2]) if len(parts) >= 3 else parts[0]


def _id_key(case_id: str) -> list[int]:
    return [int(p) if p.isdigit() else -1 for p in case_id.split(".")]


@dataclass
class RunReport:
    engine: str
    #: the fuzzingserver and its version: ``kosoku 0.1.0``, ``wstest 25.10.1`` (the reference)
    suite: str
    date: str
    command: str
    server: str
    parallel: int
    patterns: list[str]
    wall_s: float
    cases: list[CaseOutcome]
    #: cases whose text payload was put right before the run (see tests.conformance.fuzzingserver)
    fixed_payloads: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        totals = dict.fromkeys(VERDICTS, 0)
        for case in self.cases:
            totals[case.verdict] += 1
        return totals

    def groups(self) -> dict[str, dict[str, Any]]:
        """Per group: counts per verdict; ``wall_s``, from the start of its first case to the end of its last
        (a group's cases run one after the other in the run, overlapping only when run in parallel); and
        ``case_s``, the time of its cases summed."""
        rows: dict[str, dict[str, Any]] = {}
        for case in sorted(self.cases, key=lambda c: _id_key(c.case_id)):
            row = rows.setdefault(group_of(case.case_id), {**dict.fromkeys(VERDICTS, 0), "case_s": 0.0,
                                                            "first": float("inf"), "last": 0.0})
            row[case.verdict] += 1
            row["case_s"] += case.client.seconds
            row["first"] = min(row["first"], case.client.start_s)
            row["last"] = max(row["last"], case.client.start_s + case.client.seconds)
        for row in rows.values():
            row["wall_s"] = max(0.0, row.pop("last") - row.pop("first"))
        return rows

    def listed(self, verdict: str) -> list[CaseOutcome]:
        return sorted((c for c in self.cases if c.verdict == verdict), key=lambda c: _id_key(c.case_id))

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "suite": self.suite,
            "date": self.date,
            "command": self.command,
            "server": self.server,
            "parallel": self.parallel,
            "patterns": self.patterns,
            "wall_s": round(self.wall_s, 3),
            "fixed_payloads": self.fixed_payloads,
            "counts": self.counts(),
            "groups": {name: {**row, "wall_s": round(row["wall_s"], 3), "case_s": round(row["case_s"], 3)}
                       for name, row in self.groups().items()},
            "cases": [asdict(c) for c in sorted(self.cases, key=lambda c: _id_key(c.case_id))],
        }


# -- case selection -------------------------------------------------------------------------------


def all_case_ids() -> list[str]:
    """Every case id kosoku knows, in its run order."""
    try:
        import kosoku.cases
    except ImportError as exc:
        raise RunError(f"kosoku is not installed (pip install 'kosoku>=0.1.0'): {exc}") from exc

    return list(kosoku.cases.CASES)


def select_cases(patterns: Sequence[str] | None, exclude: Sequence[str] | None) -> list[str]:
    """The ids kosoku serves for these globs, in run order (case N of the run is ``[N - 1]``)."""
    ids = all_case_ids()
    for pattern in [*(patterns or ()), *(exclude or ())]:
        if not any(fnmatch.fnmatchcase(i, pattern) for i in ids):
            raise RunError(f"no case matches {pattern!r}")
    chosen = [i for i in ids if not patterns or any(fnmatch.fnmatchcase(i, p) for p in patterns)]
    return [i for i in chosen if not any(fnmatch.fnmatchcase(i, p) for p in exclude or ())]


# -- the engine under test ------------------------------------------------------------------------


def engine_class(name: str) -> type:
    """The connection class of an engine; both take ``(parent=None, sink=None)``."""
    if name == "qt":
        from wsinspector.net.client import QtConnection

        return QtConnection
    if name == "wire":
        try:
            from wsinspector.net.wire import WireConnection
        except ImportError as exc:
            raise RunError(f"the Wire engine cannot be imported (wsinspector.net.wire.WireConnection): {exc}") from exc
        return WireConnection
    raise RunError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")


def profile_overrides(settings: Sequence[str]) -> dict[str, Any]:
    """``["compression.deflate=false", "protocol.close_timeout_s=2"]`` -> the settings to change by record
    (``{"compression": {"deflate": False}, ...}``), each value of its field's type."""
    import dataclasses

    from wsinspector.core.profiles import RECORD_TYPES

    types = {f"{record}.{f.name}": str(f.type) for record, cls in RECORD_TYPES.items()
             for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for setting in settings:
        place, sep, raw = setting.partition("=")
        place = place.strip()
        if not sep or place not in types or place in ("endpoint.url", "protocol.engine"):
            raise RunError(f"--profile takes RECORD.FIELD=VALUE with a connection setting, not {setting!r}")
        kind = types[place]
        record, name = place.split(".")
        into = values.setdefault(record, {})
        try:
            if kind == "bool":
                if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(raw)
                into[name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif kind == "int":
                into[name] = int(raw)
            elif kind == "float":
                into[name] = float(raw)
            elif kind == "str":
                into[name] = raw
            else:
                raise RunError(f"--profile cannot set {place} (a {kind})")
        except ValueError:
            raise RunError(f"--profile {place}: {raw!r} is not a {kind}") from None
    return values


def make_target(engine: str, url: str, overrides: dict[str, Any] | None = None) -> Any:
    from wsinspector.core.profiles import ConnectionProfile, Endpoint

    settings: dict[str, Any] = {**(overrides or {})}
    settings["limits"] = {"max_message_size": MAX_MESSAGE_SIZE, "max_frame_size": MAX_MESSAGE_SIZE,
                          **settings.get("limits", {})}
    settings["protocol"] = {**settings.get("protocol", {}), "engine": engine}
    profile = ConnectionProfile(name=f"Autobahn ({engine})", endpoint=Endpoint(url)).with_changes(**settings)
    return profile.resolved()


class EchoPeer:
    """One connection of the engine under test. With ``echo``, every whole message received is sent back
    as it arrived; otherwise the messages are only collected."""

    def __init__(self, engine_cls: type, engine: str, url: str, echo: bool = True,
                 overrides: dict[str, Any] | None = None) -> None:
        from wsinspector.core.frames import Direction, FragmentationError, MessageAssembler, Opcode

        self._fragmentation_error = FragmentationError
        #: frames the engine delivered out of order (it should have failed the connection instead)
        self.problems: list[str] = []
        self._in = Direction.IN
        self._text = Opcode.TEXT
        self._assembler = MessageAssembler(Direction.IN)
        self._echo = echo
        self.messages: list[tuple[bool, bytes]] = []
        self.echoed = 0
        self.url = url
        self.target = make_target(engine, url, overrides)
        self.done: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self.conn = engine_cls(sink=self._on_frame)
        self.conn.closed.connect(self._on_closed)
        self.conn.failed.connect(self._on_failed)
        self.conn.cancelled.connect(self._on_cancelled)
        self.first_message: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def open(self) -> None:
        self.conn.open(self.target)

    def _on_frame(self, direction: Any, opcode: Any, payload: bytes, _ts_ns: int, fin: bool | None,
                  *_fields: Any, **_named: Any) -> None:
        if direction is not self._in or opcode.is_control:
            return
        note = _fields[6] if len(_fields) > 6 else _named.get("note", "")
        if isinstance(note, str) and note.startswith("rejected"):
            return  # a frame the engine refused and shows only by its header: no part of a message
        try:
            message = self._assembler.feed_parts(opcode, fin, -1, payload)
        except self._fragmentation_error as exc:
            self.problems.append(f"the engine delivered {exc}")
            self._assembler.reset()
            return
        if message is None:
            return
        is_text = message.opcode is self._text
        if not self.first_message.done():
            self.first_message.set_result(message.payload)
        if not self._echo:
            self.messages.append((is_text, message.payload))
            return
        try:
            self.conn.send(message.payload, is_text)
        except RuntimeError:
            return  # the connection is closing: the message arrived after the server's close frame
        self.echoed += 1

    def _finish(self, end: str, detail: str) -> None:
        if self.problems:
            detail = "; ".join([detail, *self.problems[:3]])
        if not self.done.done():
            self.done.set_result((end, detail))
        if not self.first_message.done():
            self.first_message.cancel()

    def _on_closed(self, info: Any) -> None:
        detail = info.failure.detail if info.failure is not None else ""
        message = info.message
        self._finish("closed", message if not detail or detail in message else f"{message} [{detail}]")

    def _on_failed(self, failure: Any) -> None:
        self._finish("failed", failure.message)

    def _on_cancelled(self) -> None:
        self._finish("cancelled", "the attempt was cancelled")

    async def wait_end(self, timeout_s: float) -> tuple[str, str]:
        """Wait for the connection to end; past ``timeout_s`` drop it and report a timeout."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.done), timeout_s)
        except TimeoutError:
            self.conn.abort()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.done), 10.0)
            return "timeout", f"still open after {timeout_s:g} s: dropped"

    def dispose(self) -> None:
        self.conn.closed.disconnect(self._on_closed)
        self.conn.failed.disconnect(self._on_failed)
        self.conn.cancelled.disconnect(self._on_cancelled)
        self.conn.deleteLater()


class Driver:
    """Runs the Autobahn client protocol with one engine against a fuzzingserver at ``base_url``."""

    def __init__(self, engine: str, base_url: str, agent: str, case_timeout_s: float,
                 progress: Callable[[str], None] | None = None, overrides: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.overrides = overrides or {}
        self.engine_cls = engine_class(engine)
        self.base_url = base_url.rstrip("/")
        self.agent = agent
        self.case_timeout_s = case_timeout_s
        self.progress = progress or (lambda _line: None)

    async def case_count(self) -> int:
        peer = EchoPeer(self.engine_cls, self.engine, f"{self.base_url}/getCaseCount", echo=False,
                        overrides=self.overrides)
        peer.open()
        try:
            text = await asyncio.wait_for(asyncio.shield(peer.first_message), 30.0)
        except (TimeoutError, asyncio.CancelledError):
            end = peer.done.result() if peer.done.done() else ("timeout", "no answer in 30 s")
            raise RunError(f"/getCaseCount gave no count: {end[0]}: {end[1]}") from None
        finally:
            await peer.wait_end(30.0)
            peer.dispose()
        return int(text.decode("ascii").strip())

    async def run_case(self, index: int, run_started: float) -> ClientSide:
        peer = EchoPeer(self.engine_cls, self.engine, f"{self.base_url}/runCase?case={index}&agent={self.agent}",
                        overrides=self.overrides)
        started = time.perf_counter()
        peer.open()
        end, detail = await peer.wait_end(self.case_timeout_s)
        side = ClientSide(end=end, detail=detail, start_s=started - run_started,
                          seconds=time.perf_counter() - started, echoed=peer.echoed)
        peer.dispose()
        return side

    async def run_cases(self, count: int, parallel: int) -> dict[int, ClientSide]:
        sides: dict[int, ClientSide] = {}
        queue = iter(range(1, count + 1))
        run_started = time.perf_counter()

        async def worker() -> None:
            for index in queue:
                sides[index] = await self.run_case(index, run_started)
                self.progress(f"case {index}/{count}: {sides[index].end} in {sides[index].seconds:.2f} s")

        await asyncio.gather(*(worker() for _ in range(max(1, parallel))))
        return sides

    async def update_reports(self, query: str = "") -> None:
        peer = EchoPeer(self.engine_cls, self.engine, f"{self.base_url}/updateReports?agent={self.agent}{query}",
                        echo=False, overrides=self.overrides)
        peer.open()
        await peer.wait_end(120.0)
        peer.dispose()


# -- the fuzzingserver ----------------------------------------------------------------------------


@dataclass
class ServerResult:
    """One case's verdicts as kosoku reports them."""

    case_id: str
    index: int
    agent: str
    behavior: str
    behavior_close: str
    result: str
    result_close: str
    remote_close_code: int | None
    duration_ms: int
    received: str = ""
    expected: str = ""


class InProcessServer:
    """``kosoku.run_fuzzingserver`` on the running loop."""

    name = "inprocess"
    update_query = ""
    #: once kosoku's runtime ran in this process, leaving it must skip interpreter finalization (see the end)
    started_any = False

    def __init__(self, patterns: Sequence[str] | None, exclude: Sequence[str] | None) -> None:
        import kosoku

        self._context = kosoku.run_fuzzingserver(list(patterns) if patterns else None,
                                                 list(exclude) if exclude else None, host="127.0.0.1", port=0)
        self._server: Any = None
        self.url = ""

    async def start(self) -> None:
        InProcessServer.started_any = True
        self._server = await self._context.__aenter__()
        self.url = f"ws://127.0.0.1:{self._server.port}"

    async def results(self) -> list[ServerResult]:
        import kosoku

        try:
            raw = await asyncio.wait_for(self._server.get_result(), 120.0)
        except kosoku.FailureError as failure:
            raw = failure.results
        return [ServerResult(case_id=r.case_id, index=r.case_index, agent=r.agent, behavior=r.behavior.value,
                             behavior_close=r.behavior_close.value, result=r.result, result_close=r.result_close,
                             remote_close_code=r.remote_close_code, duration_ms=r.duration,
                             received=short_events(r.received), expected=short_events(expected_events(r.expected)))
                for r in raw]

    async def stop(self) -> None:
        if self._server is not None:
            await self._context.__aexit__(None, None, None)
            self._server = None


class SubprocessServer:
    """``kosoku -m fuzzingserver 127.0.0.1:0`` in a child process; its JSON reports are read at the end.

    Its stderr is read as it comes (through the loop, so the Qt sockets keep running): the first line
    names the port, and the end of the stream is the process exiting once the reports are written."""

    name = "subprocess"
    #: added to the ``/updateReports`` URL that ends the run
    update_query = ""

    def __init__(self, patterns: Sequence[str] | None, exclude: Sequence[str] | None,
                 reports_dir: Path | None, fix_payloads: bool = True) -> None:
        self._fix_payloads = fix_payloads
        self._patterns = list(patterns or ())
        self._exclude = list(exclude or ())
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        if reports_dir is None:
            self._temp = tempfile.TemporaryDirectory(prefix="autobahn-")
            reports_dir = Path(self._temp.name)
        self.reports_dir = reports_dir.resolve()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr = bytearray()
        self._port: asyncio.Future[int] | None = None
        self._eof: asyncio.Future[None] | None = None
        self.url = ""

    async def start(self) -> None:
        args = [sys.executable, "-m", "tests.conformance.fuzzingserver"]
        if not self._fix_payloads:
            args.append("--kosoku-as-is")
        args += ["-m", "fuzzingserver", "127.0.0.1:0", "-o", str(self.reports_dir)]
        for pattern in self._patterns:
            args += ["-i", pattern]
        for pattern in self._exclude:
            args += ["-x", pattern]
        port = await self._launch(args, cwd=ROOT, output=subprocess.DEVNULL)
        self.url = f"ws://127.0.0.1:{port}"

    async def _launch(self, args: list[str], cwd: Path, output: int) -> int:
        """Start the server; its stderr (and its stdout, with ``output=subprocess.STDOUT``) is read as it
        comes, until :meth:`_started` finds the port in it."""
        loop = asyncio.get_running_loop()
        # its stdin stays open, unwritten, for as long as this process lives
        try:
            if output == subprocess.STDOUT:
                self._proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            else:
                self._proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.PIPE, stdout=output,
                                              stderr=subprocess.PIPE)
        except OSError as exc:
            raise RunError(f"{self.name} cannot start ({args[0]}): {exc}") from None
        stream = self._proc.stdout if output == subprocess.STDOUT else self._proc.stderr
        assert stream is not None
        fd = stream.fileno()
        os.set_blocking(fd, False)
        self._port = loop.create_future()
        self._eof = loop.create_future()
        loop.add_reader(fd, self._on_stderr, fd)
        try:
            return await asyncio.wait_for(asyncio.shield(self._port), 60.0)
        except (TimeoutError, RunError) as exc:
            await self.stop()
            raise RunError(f"the {self.name} fuzzingserver did not start: {exc or 'no port in 60 s'}\n"
                           f"{self._stderr.decode(errors='replace')}") from None

    def _started(self) -> int | None:
        """The port the server listens on, once its output says so."""
        match = _LISTENING.search(self._stderr)
        return int(match.group(2)) if match else None

    def _on_stderr(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if chunk:
            self._stderr += chunk
            if self._port is not None and not self._port.done():
                port = self._started()
                if port is not None:
                    self._port.set_result(port)
            return
        asyncio.get_running_loop().remove_reader(fd)
        if self._port is not None and not self._port.done():
            self._port.set_exception(RunError(f"{self.name} exited"))
        if self._eof is not None and not self._eof.done():
            self._eof.set_result(None)

    async def results(self) -> list[ServerResult]:
        assert self._proc is not None and self._eof is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._eof), 300.0)
        except TimeoutError:
            raise RunError(f"{self.name} did not finish writing its reports in 300 s") from None
        code = self._proc.wait(timeout=30)
        index_path = self.reports_dir / "index.json"
        if code not in (0, 1) or not index_path.exists():
            raise RunError(f"{self.name} exited with {code} and no report\n{self._stderr.decode(errors='replace')}")
        return list(read_reports(self.reports_dir))

    async def stop(self) -> None:
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(ValueError, OSError):
                        asyncio.get_running_loop().remove_reader(stream.fileno())
                    stream.close()
            if proc.stdin is not None:
                proc.stdin.close()
            self._proc = None
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None


class WstestServer(SubprocessServer):
    """Autobahn|Testsuite's own fuzzingserver, ``wstest -m fuzzingserver`` (Python 2.7), in a child process:
    the reference. ``scripts/autobahn-reference`` installs it and passes its path.

    It takes its settings from a spec file, prints the ids of the cases it will serve (in run order) before
    it listens, and writes its reports and exits when the run ends with ``/updateReports`` and
    ``shutdownOnComplete``. Its reports have the same form as kosoku's."""

    name = "wstest"
    update_query = "&shutdownOnComplete=true"

    def __init__(self, wstest: Path, patterns: Sequence[str] | None, exclude: Sequence[str] | None,
                 reports_dir: Path | None) -> None:
        super().__init__(patterns, exclude, reports_dir)
        self._wstest = wstest
        self.case_ids: list[str] = []
        self.version = "wstest"

    def _command(self, port: int) -> list[str]:
        spec = {"url": f"ws://127.0.0.1:{port}", "outdir": str(self.reports_dir),
                "cases": self._patterns or ["*"], "exclude-cases": self._exclude, "exclude-agent-cases": {}}
        spec_path = self.reports_dir / "fuzzingclient-spec.json"
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        spec_path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        # -u 0: without the web server it would also start, on port 8080 of every interface
        return [str(self._wstest), "-m", "fuzzingserver", "-u", "0", "-s", str(spec_path)]

    async def start(self) -> None:
        try:
            version = subprocess.run([str(self._wstest), "--autobahnversion"], capture_output=True, text=True,
                                     timeout=60, check=True).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise RunError(f"wstest cannot run ({self._wstest}): {exc}") from None
        found = re.search(r"AutobahnTestSuite\s+(\S+)", version)
        self.version = f"wstest {found.group(1)}" if found else "wstest"
        with socket.socket() as probe:  # a free port: wstest takes a fixed one from its spec
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        await self._launch(self._command(port), cwd=self.reports_dir, output=subprocess.STDOUT)
        for _attempt in range(100):  # it prints the cases just before it listens
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            if self._proc is not None and self._proc.poll() is None:
                break
        else:
            await self.stop()
            raise RunError(f"wstest did not listen on port {port}\n{self._stderr.decode(errors='replace')}")
        self.url = f"ws://127.0.0.1:{port}"

    def _started(self) -> int | None:
        found = _WSTEST_CASES.search(self._stderr)
        if found is None:
            return None
        self.case_ids = [str(c) for c in ast.literal_eval(found.group(1).decode())]
        return 0


def read_reports(reports_dir: Path) -> Iterable[ServerResult]:
    """kosoku's JSON reports: ``index.json`` (agent -> case id -> verdicts and the case's report file)
    and one file per case with the prose and the case's position in the run."""
    index = json.loads((reports_dir / "index.json").read_text(encoding="utf-8"))
    for agent, cases in index.items():
        for case_id, entry in cases.items():
            detail = json.loads((reports_dir / entry["reportfile"]).read_text(encoding="utf-8"))
            yield ServerResult(case_id=case_id, index=int(detail["case"]), agent=agent,
                               behavior=entry["behavior"], behavior_close=entry["behaviorClose"],
                               result=detail.get("result") or "", result_close=detail.get("resultClose") or "",
                               remote_close_code=entry.get("remoteCloseCode"), duration_ms=int(entry["duration"]),
                               received=short_events(detail.get("received")),
                               expected=short_events(expected_events(detail.get("expected"))))


# -- the run --------------------------------------------------------------------------------------


def merge(selected: Sequence[str], sides: dict[int, ClientSide], results: Sequence[ServerResult],
          agent: str) -> list[CaseOutcome]:
    """One outcome per case run: kosoku's verdicts with what our side saw. A case kosoku has no result
    for (it never ran to the end) is FAILED."""
    by_index = {r.index: r for r in results if r.agent == agent}
    outcomes = []
    for index in range(1, len(selected) + 1):
        case_id = selected[index - 1]
        side = sides.get(index, ClientSide(end="not run"))
        found = by_index.get(index)
        if found is None:
            outcomes.append(CaseOutcome(case_id=case_id, index=index, verdict="FAILED", behavior="MISSING",
                                        behavior_close="MISSING", result="kosoku has no result for this case",
                                        result_close=f"our side: {side.end}: {side.detail}".strip(),
                                        remote_close_code=None, duration_ms=0, client=side))
            continue
        if found.case_id != case_id:
            raise RunError(f"case {index} is {found.case_id} in kosoku's report, {case_id} in our selection")
        outcomes.append(CaseOutcome(case_id=case_id, index=index,
                                    verdict=verdict_of(found.behavior, found.behavior_close),
                                    behavior=found.behavior, behavior_close=found.behavior_close,
                                    result=found.result, result_close=found.result_close,
                                    remote_close_code=found.remote_close_code, duration_ms=found.duration_ms,
                                    client=side, received=found.received, expected=found.expected))
    return outcomes


async def run(engine: str, patterns: Sequence[str] | None, exclude: Sequence[str] | None, server_kind: str,
              parallel: int, case_timeout_s: float, reports_dir: Path | None, command: str,
              progress: Callable[[str], None], fix_payloads: bool = True,
              overrides: dict[str, Any] | None = None, wstest: Path | None = None) -> RunReport:
    engine_class(engine)  # fail before starting anything when the engine cannot be loaded
    make_target(engine, "ws://127.0.0.1:9/", overrides)  # and when the profile settings are not valid
    agent = f"{AGENT_PREFIX}-{engine}"
    server: InProcessServer | SubprocessServer
    fixed: set[str] = set()
    if server_kind == "wstest":
        if wstest is None:
            raise RunError("--server wstest needs --wstest PATH (scripts/autobahn-reference installs it)")
        server = WstestServer(wstest, patterns, exclude, reports_dir)
    else:
        from tests.conformance.fuzzingserver import fix_utf8_payloads

        selected = select_cases(patterns, exclude)
        if not selected:
            raise RunError(f"no case matches {list(patterns or [])}")
        # in this process for the in-process server; the child process applies the same fix to its own copy
        fixed = set(fix_utf8_payloads()) if fix_payloads else set()
        if server_kind == "inprocess":
            server = InProcessServer(patterns, exclude)
        else:
            server = SubprocessServer(patterns, exclude, reports_dir, fix_payloads)
    started = time.perf_counter()
    await server.start()
    try:
        if isinstance(server, WstestServer):
            selected = server.case_ids
            suite = server.version
        else:
            suite = f"kosoku {metadata.version('kosoku')}"
        driver = Driver(engine, server.url, agent, case_timeout_s, progress, overrides)
        count = await driver.case_count()
        if count != len(selected):
            raise RunError(f"{server.name} serves {count} cases, the selection here has {len(selected)}")
        sides = await driver.run_cases(count, parallel)
        await driver.update_reports(server.update_query)
        results = await server.results()
        wall = time.perf_counter() - started
    finally:
        await server.stop()
    return RunReport(engine=engine, suite=suite,
                     date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"), command=command,
                     server=server.name, parallel=parallel, patterns=list(patterns or []), wall_s=wall,
                     cases=merge(selected, sides, results, agent),
                     fixed_payloads=[case_id for case_id in selected if case_id in fixed])


def run_on_qt_loop(coro_factory: Callable[[], Any]) -> Any:
    """Run a coroutine on a qasync loop over a QCoreApplication, as the app runs its own."""
    import qasync
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(coro_factory())
    finally:
        asyncio.set_event_loop(None)


# -- output ---------------------------------------------------------------------------------------

_SHORT = {"OK": "OK", "NON-STRICT": "NON-STRICT", "INFORMATIONAL": "INFO", "UNIMPLEMENTED": "UNIMPL",
          "FAILED": "FAILED"}


def _exchange(case: CaseOutcome) -> str:
    """What kosoku got back against what it expected, for a behavior that failed on the messages."""
    if case.behavior != "FAILED" or case.received == case.expected:
        return ""
    return f"received {case.received}, expected {case.expected}"


def _case_line(case: CaseOutcome) -> str:
    close = f"close {case.behavior_close}"
    prose = "; ".join(p for p in (case.result, case.result_close, _exchange(case)) if p)
    seen = f" (our side: {case.client.end}: {case.client.detail})" if case.client.detail else ""
    return f"{case.case_id}: {case.behavior} / {close} — {prose}{seen}"


def payload_note(report: RunReport) -> str:
    if report.fixed_payloads:
        return (f"{len(report.fixed_payloads)} group 6 cases had their text payload put right first: "
                f"{report.suite} sends them double-encoded (tests/conformance/fuzzingserver.py).")
    if "--kosoku-as-is" in report.command:
        return "kosoku's group 6 text payloads were sent as kosoku has them (double-encoded), not as Autobahn's."
    return ""


def summary_text(report: RunReport) -> str:
    groups = report.groups()
    width = max(len("group"), *(len(g) for g in groups))
    header = f"{'group':<{width}} " + " ".join(f"{_SHORT[v]:>10}" for v in VERDICTS) + f" {'wall s':>9}"
    lines = [f"Autobahn conformance, {report.engine} engine: {len(report.cases)} cases, "
             f"{report.suite}, server {report.server}, {report.parallel} at a time, "
             f"wall {report.wall_s:.1f} s"]
    if payload_note(report):
        lines.append(payload_note(report))
    lines += ["", header, "-" * len(header)]
    for name, row in groups.items():
        lines.append(f"{name:<{width}} " + " ".join(f"{row[v]:>10}" for v in VERDICTS) + f" {row['wall_s']:>9.1f}")
    totals = report.counts()
    lines += ["-" * len(header),
              f"{'all':<{width}} " + " ".join(f"{totals[v]:>10}" for v in VERDICTS) + f" {report.wall_s:>9.1f}"]
    for verdict in ("FAILED", "NON-STRICT"):
        listed = report.listed(verdict)
        lines += ["", f"{verdict} ({len(listed)}):"]
        lines += [f"  {_case_line(c)}" for c in listed] or ["  none"]
    lines += ["", "wall s: from the start of the group's first case to the end of its last; for all, the whole run"]
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_section(report: RunReport) -> str:
    groups = report.groups()
    totals = report.counts()
    lines = [
        f"## {report.engine.capitalize()} engine (`--engine {report.engine}`)",
        "",
        f"{report.suite}, {report.date}: {len(report.cases)} cases"
        + (f" ({', '.join(report.patterns)})" if report.patterns else "")
        + f", {report.parallel} at a time, fuzzingserver {report.server}; wall time {report.wall_s:.1f} s."
        + (f" {payload_note(report)}" if payload_note(report) else ""),
        "",
        "Regenerate this section:",
        "",
        "```sh",
        report.command,
        "```",
        "",
        "| group | " + " | ".join(VERDICTS) + " | wall s |",
        "| --- | " + " | ".join("---:" for _ in VERDICTS) + " | ---: |",
    ]
    for name, row in groups.items():
        lines.append(f"| {name} | " + " | ".join(str(row[v]) for v in VERDICTS) + f" | {row['wall_s']:.1f} |")
    lines.append("| **all** | " + " | ".join(f"**{totals[v]}**" for v in VERDICTS) + f" | **{report.wall_s:.1f}** |")
    for verdict in ("FAILED", "NON-STRICT"):
        listed = report.listed(verdict)
        lines += ["", f"### {verdict} ({len(listed)})", ""]
        lines += [f"- `{c.case_id}` {c.behavior} / close {c.behavior_close}: "
                  + _md_escape("; ".join(p for p in (c.result, c.result_close, _exchange(c)) if p))
                  + (f" — our side: {_md_escape(c.client.end)}: {_md_escape(c.client.detail)}"
                     if c.client.detail else "")
                  for c in listed] or ["None."]
    return "\n".join(lines)


def _markers(engine: str) -> tuple[str, str]:
    return f"<!-- autobahn:{engine}:begin -->", f"<!-- autobahn:{engine}:end -->"


_MD_INTRO = """# WebSocket conformance (Autobahn|Testsuite)

The app's client engines against Autobahn|Testsuite's cases, served by
[kosoku](https://pypi.org/project/kosoku/) (`tests/conformance/autobahn.py`; `tests/conformance/test_autobahn.py`
runs it in the test suite). In each case the client echoes every message back unchanged until the server
closes; kosoku judges what it received and how the connection was closed.

Verdicts, per case: **FAILED** when the behavior is FAILED (or the case did not run to a verdict), or the
close verdict is anything but OK or INFORMATIONAL; otherwise the behavior's verdict. **NON-STRICT** is
acceptable (it departs from a SHOULD); **INFORMATIONAL** cases probe what the RFC leaves open;
**UNIMPLEMENTED** marks the permessage-deflate cases (groups 12 and 13) where no compression was
negotiated: the client did not offer it, or (13.2, 13.5, 13.6) kosoku asks for `client_no_context_takeover`
and only does so when the offer names it. *wall s* is the time from the start of the group's first case to
the end of its last (for **all**, the whole run, starting the server included).

kosoku 0.1.0 sends the valid-UTF-8 text of most of group 6 double-encoded, which any client echoes back
intact; the run restores Autobahn's bytes first (`tests/conformance/fuzzingserver.py`). `--reports-dir DIR`
keeps kosoku's own HTML and JSON reports, with the wire log of each case.

Each engine's section is rewritten only by a run with that engine.
"""


def _placeholder(engine: str) -> str:
    return (f"## {engine.capitalize()} engine (`--engine {engine}`)\n\nNot generated yet. Generate it with:\n\n"
            f"```sh\n{regenerate_command(engine, None, 'docs/conformance.md')}\n```")


def update_markdown(path: Path, report: RunReport, section_name: str | None = None,
                    title: str | None = None) -> None:
    """Write this engine's section of ``path`` (or the section ``section_name``, headed ``title``), leaving
    every other section as it is."""
    begin, end = _markers(section_name or report.engine)
    body = markdown_section(report)
    if title:
        body = f"## {title}" + body[body.index("\n"):]
    section = f"{begin}\n{body}\n{end}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = _MD_INTRO + "".join(f"\n{_markers(e)[0]}\n{_placeholder(e)}\n{_markers(e)[1]}\n" for e in ENGINES)
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def regenerate_command(engine: str, patterns: Sequence[str] | None, markdown: str | None,
                       extra: Sequence[str] = (), reference: bool = False) -> str:
    """The command that runs the same again; ``reference``: through ``scripts/autobahn-reference`` (wstest)."""
    start = ["scripts/autobahn-reference"] if reference else [".venv/bin/python", "-m", "tests.conformance.autobahn"]
    parts = ["QT_QPA_PLATFORM=offscreen", *start, "--engine", engine]
    if patterns:
        parts += ["--cases", *patterns]
    parts += list(extra)
    if markdown:
        parts += ["--markdown", markdown]
    return " ".join(shlex.quote(p) if not p.startswith("QT_QPA_PLATFORM=") else p for p in parts)


# -- command line ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.autobahn",
                                     description="Run Autobahn|Testsuite's client cases (served by kosoku) "
                                                 "against one of wsinspector's WebSocket engines.")
    parser.add_argument("--engine", choices=ENGINES, required=True, help="the client engine under test")
    parser.add_argument("--cases", nargs="+", metavar="GLOB",
                        help="case ids or globs, e.g. '1.*' 9.7.1 (default: every case kosoku has)")
    parser.add_argument("--exclude", nargs="+", metavar="GLOB", help="case ids or globs to leave out")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="write every case's outcome here")
    parser.add_argument("--section", metavar="NAME",
                        help="with --markdown: write this named section instead of the engine's own")
    parser.add_argument("--title", metavar="TEXT", help="the heading of --section")
    parser.add_argument("--markdown", type=Path, metavar="FILE.md",
                        help="update this engine's section of a markdown report (e.g. docs/conformance.md)")
    parser.add_argument("--server", choices=("subprocess", "inprocess", "wstest"), default="subprocess",
                        help="run kosoku's fuzzingserver in a child process or on this process's loop, or "
                             "Autobahn|Testsuite's own wstest (the reference; see scripts/autobahn-reference)")
    parser.add_argument("--wstest", type=Path, metavar="PATH", help="the wstest program, for --server wstest")
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, metavar="N",
                        help="cases run at the same time")
    parser.add_argument("--case-timeout", type=float, default=DEFAULT_CASE_TIMEOUT_S, metavar="SECONDS",
                        help="drop a case's connection still open after this long")
    parser.add_argument("--reports-dir", type=Path, metavar="DIR",
                        help="keep kosoku's own HTML and JSON reports here (subprocess server)")
    parser.add_argument("--profile", nargs="+", default=[], metavar="RECORD.FIELD=VALUE",
                        help="connection settings for every connection, e.g. compression.deflate=false "
                             "compression.client_no_context_takeover=true")
    parser.add_argument("--kosoku-as-is", action="store_true",
                        help="leave kosoku's double-encoded group 6 text payloads as they are")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:  # noqa: C901
    args = parse_args(argv)
    extra: list[str] = []
    if args.exclude:
        extra += ["--exclude", *args.exclude]
    if args.server not in ("subprocess", "wstest"):
        extra += ["--server", args.server]
    if args.parallel != DEFAULT_PARALLEL:
        extra += ["--parallel", str(args.parallel)]
    if args.kosoku_as_is:
        extra += ["--kosoku-as-is"]
    if args.profile:
        extra += ["--profile", *args.profile]
    if args.section:
        extra += ["--section", args.section, "--title", args.title or args.section]
    markdown = None
    if args.markdown is not None:
        with contextlib.suppress(ValueError):
            markdown = str(args.markdown.resolve().relative_to(ROOT))
        markdown = markdown or str(args.markdown)
    command = regenerate_command(args.engine, args.cases, markdown, extra, reference=args.server == "wstest")

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        overrides = profile_overrides(args.profile)
        report = run_on_qt_loop(lambda: run(args.engine, args.cases, args.exclude, args.server, args.parallel,
                                            args.case_timeout, args.reports_dir, command, progress,
                                            not args.kosoku_as_is, overrides, args.wstest))
    except RunError as exc:
        print(f"autobahn: could not run: {exc}", file=sys.stderr)
        return 2
    print(summary_text(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_json(), indent=1) + "\n", encoding="utf-8")
    if args.markdown is not None:
        update_markdown(args.markdown, report, args.section, args.title)
    return 0


if __name__ == "__main__":
    exit_code = main()
    if InProcessServer.started_any:
        # kosoku's tokio threads may still wake asyncio futures while the interpreter finalizes, and a
        # thread that meets a finalizing interpreter aborts the process: everything is written, leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)
    sys.exit(exit_code)
