"""Autobahn|Testsuite's fuzzing client against wsinspector's server: ``wstest -m fuzzingclient`` (Python 2.7, the
reference) runs its cases against ``wsinspector serve --mock`` with a rules file that echoes every message
back as it came (:data:`ECHO_RULES`), the server of the Server page and of the recording proxy.

    scripts/autobahn-reference --role server [--cases GLOB ...] [--exclude GLOB ...] [--json OUT.json]
                                             [--markdown docs/conformance.md] [--reports-dir DIR]
    python -m tests.conformance.server_autobahn --wstest PATH [the same options]
    python -m tests.conformance.server_autobahn --combine A.json B.json ... [--markdown ...]

wstest connects to the server once per case and judges what the server sent back and how it closed. Groups 12
and 13 offer permessage-deflate with each case's parameters; the server accepts every offer it can. Cases run
one after the other (the fuzzing client has no parallel mode): a long run can be split into several runs (say
groups 1-11, 12, 13) each with its own ``--json``, and ``--combine`` makes one report of them.

Verdicts are counted as for the client (:func:`tests.conformance.autobahn.verdict_of`). Exit status: 0 when
the run completed, whatever the verdicts; 2 when it could not run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance.autobahn import (
    ROOT,
    CaseOutcome,
    ClientSide,
    RunError,
    RunReport,
    expected_events,
    markdown_section,
    short_events,
    summary_text,
    verdict_of,
)

AGENT = "wsinspector-server"
SECTION = "reference-server"
TITLE = "Reference: Server (wsinspector serve, echoing)"
#: every message back as it came: the server side's echo, in the mock rules format (docs/mock.md)
ECHO_RULES = """\
version: 1
name: Autobahn echo
rules:
  - match: {any: true}
    do: [{echo: true}]
"""
#: how long the server may take to say where it listens
LISTEN_TIMEOUT_S = 60.0


class EchoServer:
    """``wsinspector serve --mock ECHO_RULES --no-record --json`` in a child process."""

    def __init__(self, folder: Path) -> None:
        self._rules = folder / "echo.yaml"
        self._rules.write_text(ECHO_RULES, encoding="utf-8")
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""
        #: what the server said beside its clients' opening and closing (problems, anything on stderr)
        self.problems: list[str] = []

    def start(self) -> str:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "wsinspector", "serve", "--mock", str(self._rules), "--no-record", "--json",
             "--max-clients", "8"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None and self._proc.stderr is not None
        line = self._proc.stdout.readline()  # the first line says where it listens, or the server ended
        try:
            self.url = json.loads(line)["url"]
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise RunError(f"wsinspector serve did not listen: {line!r}") from None
        # a line per client and its end: read on, or the server would block on a full pipe
        for stream in (self._proc.stdout, self._proc.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()
        return self.url

    def _drain(self, stream: Any) -> None:
        for line in stream:
            if '"event": "problem"' in line or not line.startswith("{"):
                self.problems.append(line.rstrip())

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def wstest_version(wstest: Path) -> str:
    try:
        text = subprocess.run([str(wstest), "--autobahnversion"], capture_output=True, text=True, timeout=60,
                              check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RunError(f"wstest cannot run ({wstest}): {exc}") from None
    found = re.search(r"AutobahnTestSuite\s+(\S+)", text)
    return f"wstest {found.group(1)}" if found else "wstest"


def _started_s(text: str) -> float:
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return 0.0


def read_outcomes(reports_dir: Path, agent: str = AGENT) -> list[CaseOutcome]:
    """wstest's verdicts per case (``index.json`` and one file per case), the time of each from its report."""
    index = json.loads((reports_dir / "index.json").read_text(encoding="utf-8"))
    details = []
    for case_id, entry in index.get(agent, {}).items():
        detail = json.loads((reports_dir / entry["reportfile"]).read_text(encoding="utf-8"))
        details.append((case_id, entry, detail))
    first = min((t for _c, _e, d in details if (t := _started_s(d.get("started", "")))), default=0.0)
    outcomes = []
    for case_id, entry, detail in details:
        duration_ms = int(entry.get("duration") or 0)
        started = _started_s(detail.get("started", "")) or first
        side = ClientSide(end="", start_s=max(0.0, started - first),
                          seconds=duration_ms / 1000)
        outcomes.append(CaseOutcome(
            case_id=case_id, index=int(detail.get("case") or 0),
            verdict=verdict_of(entry["behavior"], entry["behaviorClose"]), behavior=entry["behavior"],
            behavior_close=entry["behaviorClose"], result=detail.get("result") or "",
            result_close=detail.get("resultClose") or "", remote_close_code=entry.get("remoteCloseCode"),
            duration_ms=duration_ms, client=side, received=short_events(detail.get("received")),
            expected=short_events(expected_events(detail.get("expected")))))
    return outcomes


def run(wstest: Path, patterns: Sequence[str], exclude: Sequence[str], reports_dir: Path, command: str,
        progress: bool) -> RunReport:
    suite = wstest_version(wstest)
    reports_dir.mkdir(parents=True, exist_ok=True)
    server = EchoServer(reports_dir)
    began = time.monotonic()
    url = server.start()
    try:
        spec = {"outdir": str(reports_dir), "servers": [{"agent": AGENT, "url": url}],
                "cases": list(patterns) or ["*"], "exclude-cases": list(exclude), "exclude-agent-cases": {}}
        spec_path = reports_dir / "fuzzingclient-spec.json"
        spec_path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        result = subprocess.run([str(wstest), "-m", "fuzzingclient", "-s", str(spec_path)], cwd=reports_dir,
                                stdout=None if progress else subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                check=False)
        if result.returncode != 0 or not (reports_dir / "index.json").exists():
            raise RunError(f"wstest -m fuzzingclient ended with status {result.returncode} and no report")
    finally:
        server.stop()
    if progress and server.problems:
        print("the server said:", *server.problems[-20:], sep="\n  ", file=sys.stderr)
    wall_s = time.monotonic() - began
    return RunReport(engine="server", suite=suite,
                     date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"), command=command,
                     server=suite.split()[0], parallel=1, patterns=list(patterns), wall_s=wall_s,
                     cases=read_outcomes(reports_dir))


def combine(paths: Sequence[Path], command: str) -> RunReport:
    """One report of several runs' JSON reports, each a part of the cases. The runs may have overlapped, so a
    group's time is the time its cases took, one after the other; the whole is the runs' wall times added up."""
    parts = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    if not parts:
        raise RunError("--combine needs at least one JSON report")
    cases = []
    for part in parts:
        for case in part["cases"]:
            side = ClientSide(**case.pop("client"))
            cases.append(CaseOutcome(**case, client=side))
    cases.sort(key=lambda c: [int(n) for n in c.case_id.split(".")])
    clock = 0.0
    for case in cases:
        case.client.start_s, clock = clock, clock + case.client.seconds
    return RunReport(engine="server", suite=parts[0]["suite"], date=max(p["date"] for p in parts), command=command,
                     server=parts[0]["server"], parallel=1, patterns=[], wall_s=sum(p["wall_s"] for p in parts),
                     cases=cases)


def update_markdown(path: Path, report: RunReport, parts: int = 1) -> None:
    """Write the server's section of ``path`` (between its markers), leaving every other section as it is."""
    begin, end = f"<!-- autobahn:{SECTION}:begin -->", f"<!-- autobahn:{SECTION}:end -->"
    body = markdown_section(report).replace("fuzzingserver wstest", "fuzzing client wstest")
    body = f"## {TITLE}" + body[body.index("\n"):]
    if parts > 1:
        body = body.replace("; wall time", f" (in {parts} runs; a group's wall s is the time its cases took); "
                                           "wall time of the runs added up", 1)
    section = f"{begin}\n{body}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n"
    path.write_text(text, encoding="utf-8")


def kosoku_verdicts(url: str, patterns: Sequence[str], concurrency: int = 2) -> dict[str, dict[str, str]]:
    """kosoku's fuzzing client (Python 3, fast, for the test suite) against ``url``: per case, its behavior, close
    verdict and their prose, and the server's answer to the opening request."""
    import asyncio

    try:
        import kosoku
    except ImportError as exc:
        raise RunError(f"kosoku is not installed (pip install 'kosoku>=0.1.0'): {exc}") from exc

    async def fuzz() -> list[Any]:
        try:
            return list(await kosoku.run_fuzzingclient(url, cases=list(patterns), concurrency=concurrency))
        except kosoku.FailureError as exc:
            return list(exc.results)

    def name(verdict: object) -> str:  # Behavior.NON_STRICT -> NON-STRICT
        return str(verdict).rpartition(".")[2].replace("_", "-")

    return {r.case_id: {"behavior": name(r.behavior), "close": name(r.behavior_close),
                        "result": f"{r.result} {r.result_close}".strip(), "response": r.http_response or ""}
            for r in asyncio.run(fuzz())}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.server_autobahn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wstest", type=Path, metavar="PATH", help="the wstest program (Python 2.7)")
    parser.add_argument("--cases", nargs="+", default=[], metavar="GLOB", help="case ids to run (default: all)")
    parser.add_argument("--exclude", nargs="+", default=[], metavar="GLOB", help="case ids to leave out")
    parser.add_argument("--combine", nargs="+", type=Path, default=[], metavar="JSON",
                        help="make one report of these runs' JSON reports instead of running")
    parser.add_argument("--kosoku", metavar="URL",
                        help="run kosoku's fuzzing client against this server instead (its verdicts as JSON)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the report as JSON")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="write the report's section of this file")
    parser.add_argument("--reports-dir", type=Path, metavar="DIR", help="keep wstest's HTML and JSON reports here")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)


def _command(args: argparse.Namespace) -> str:
    parts = ["QT_QPA_PLATFORM=offscreen", "scripts/autobahn-reference", "--role", "server"]
    if args.cases:
        parts += ["--cases", *args.cases]
    if args.exclude:
        parts += ["--exclude", *args.exclude]
    if args.markdown:
        parts += ["--markdown", "docs/conformance.md"]
    return " ".join(p if p.startswith("QT_") else shlex.quote(p) for p in parts)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.kosoku:
        try:
            found = kosoku_verdicts(args.kosoku, args.cases or ["*"])
        except RunError as exc:
            print(f"autobahn: could not run: {exc}", file=sys.stderr)
            return 2
        text = json.dumps(found, indent=1)
        if args.json is not None:
            args.json.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return 0
    try:
        if args.combine:
            report = combine(args.combine, _command(args))
        else:
            if args.wstest is None:
                raise RunError("give --wstest PATH (scripts/autobahn-reference --role server installs it)")
            with tempfile.TemporaryDirectory(prefix="autobahn-server-") as scratch:
                report = run(args.wstest, args.cases, args.exclude, args.reports_dir or Path(scratch),
                             _command(args), not args.quiet)
    except RunError as exc:
        print(f"autobahn: could not run: {exc}", file=sys.stderr)
        return 2
    print(summary_text(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_json(), indent=1) + "\n", encoding="utf-8")
    if args.markdown is not None:
        update_markdown(args.markdown, report, len(args.combine) or 1)
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # everything is written: leave without tearing kosoku's native runtime down, which now and then aborts the
    # process at exit (SIGABRT, after a complete report)
    os._exit(status)
