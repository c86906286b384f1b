"""Autobahn|Testsuite conformance of the client engines: tests/conformance/autobahn.py, run in a child process
(its own QCoreApplication and qasync loop, and its own kosoku fuzzingserver), judged from its JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: every group kosoku has from 1 to 10 (Autobahn has no group 8)
FRAMING_GROUPS = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"]


def run_conformance(engine: str, cases: list[str], tmp_path: Path, timeout_s: float,
                    extra: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """The driver's JSON report and printed summary for ``engine`` over ``cases``."""
    out = tmp_path / f"autobahn-{engine}.json"
    command = [sys.executable, "-m", "tests.conformance.autobahn", "--engine", engine, "--json", str(out), "--quiet",
               *(extra or []), "--cases", *cases]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert result.returncode == 0, f"the conformance run could not run:\n{result.stderr}\n{result.stdout}"
    return json.loads(out.read_text(encoding="utf-8")), result.stdout


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {case["case_id"]: case["verdict"] for case in report["cases"]}


#: every compression setting of groups 12 and 13 (12.1-12.5 data sets, 13.1-13.7 deflate parameters), with
#: the cases of messages up to 8 KiB (1-6) and 8 KiB sent in 256-byte fragments (11); the cases of 16 KiB to
#: 128 KiB messages repeat the same code paths with more data and take four fifths of the full run's time
#: (docs/conformance.md has the full run, regenerated with tests/conformance/autobahn.py)
DEFLATE_CASES = [f"{group}.{n}" for group in ("12.1", "12.2", "12.3", "12.4", "12.5", "13.1", "13.3", "13.4",
                                             "13.7") for n in (1, 2, 3, 4, 5, 6, 11)]
#: kosoku asks for client_no_context_takeover in these only when the client's offer names it
NO_CONTEXT_TAKEOVER_CASES = [f"{group}.{n}" for group in ("13.2", "13.5", "13.6") for n in (1, 2, 3, 4, 5, 6, 11)]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_wire_engine_passes_autobahn_cases_1_to_13(tmp_path: Path) -> None:
    """Groups 1 to 10 whole and every compression setting of 12 and 13: nothing FAILED, nothing
    UNIMPLEMENTED (NON-STRICT and INFORMATIONAL are allowed, each with its reason in docs/conformance.md)."""
    report, summary = run_conformance("wire", FRAMING_GROUPS + DEFLATE_CASES, tmp_path, timeout_s=800)
    found = verdicts(report)
    assert len(found) == 301 + len(DEFLATE_CASES), summary
    bad = {case_id: verdict for case_id, verdict in found.items() if verdict in ("FAILED", "UNIMPLEMENTED")}
    assert not bad, f"Autobahn cases not passed with the Wire engine: {bad}\n{summary}"


@pytest.mark.timeout(300)
def test_wire_engine_compresses_without_context_takeover(tmp_path: Path) -> None:
    report, summary = run_conformance("wire", NO_CONTEXT_TAKEOVER_CASES, tmp_path, timeout_s=250,
                                      extra=["--profile", "compression.client_no_context_takeover=true"])
    assert verdicts(report) == dict.fromkeys(NO_CONTEXT_TAKEOVER_CASES, "OK"), summary


def test_qt_engine_passes_framing_cases(tmp_path: Path) -> None:
    """Framing, pings and pongs, and the opening of the close cases work with the Qt engine."""
    report, summary = run_conformance("qt", ["1.*", "2.*", "7.1.*"], tmp_path, timeout_s=100)
    found = verdicts(report)
    assert len(found) == 16 + 11 + 6, summary
    assert "FAILED" not in found.values(), summary


def test_qt_engine_text_limitation_is_reported(tmp_path: Path) -> None:
    """The Qt engine passes text through QString, which loses a leading U+FFFE: Autobahn's two U+FFFE cases
    must come out FAILED, not pass. (kosoku 0.1.0 alone would send these payloads double-encoded and let them
    pass; the run puts them right.) A control case with a plain noncharacter passes."""
    report, summary = run_conformance("qt", ["6.22.1", "6.23.6", "6.23.7"], tmp_path, timeout_s=100)
    assert verdicts(report) == {"6.22.1": "FAILED", "6.23.6": "FAILED", "6.23.7": "OK"}, summary
    assert {"6.22.1", "6.23.6", "6.23.7"} <= set(report["fixed_payloads"]), summary


#: the cases where the order of what the client does decides OK or NON-STRICT: a valid message then a bad frame
#: (3.2, 3.3, 4.1.3-4.2.5, 5.15), text that breaks inside a frame not yet whole (6.4.3, 6.4.4); and one of
#: 13.2, which only the reference answers as Autobahn does (client_no_context_takeover to any offer)
STRICT_CASES = ["3.2", "3.3", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.15", "6.4.3", "6.4.4",
                "13.2.1"]


def reference_wstest() -> Path:
    """wstest, installed by scripts/autobahn-reference (Python 2.7, from the package registry): the test fails
    with the script's own words when it cannot be installed."""
    result = subprocess.run([str(ROOT / "scripts" / "autobahn-reference"), "--install"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"wstest is not available:\n{result.stderr}"
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.timeout(700)
def test_wire_engine_is_strict_against_the_reference(tmp_path: Path) -> None:
    """Against Autobahn|Testsuite itself, the cases that tell a strict client from a lenient one come out OK."""
    wstest = reference_wstest()
    report, summary = run_conformance("wire", STRICT_CASES, tmp_path, timeout_s=120,
                                      extra=["--server", "wstest", "--wstest", str(wstest)])
    assert report["suite"].startswith("wstest "), summary
    assert verdicts(report) == dict.fromkeys(STRICT_CASES, "OK"), summary


def test_the_reference_script_names_a_missing_python_27(tmp_path: Path) -> None:
    """Without Python 2.7 the reference run says so by name and fails; it never passes silently."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv"),
           "WSTEST_PYTHON": str(tmp_path / "no-python2.7"), "WSTEST_VENV": str(tmp_path / "wstest-venv")}
    result = subprocess.run([str(ROOT / "scripts" / "autobahn-reference"), "--engine", "wire"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert "Python 2.7 is not installed" in result.stderr and "wstest" in result.stderr
    assert not (tmp_path / "wstest-venv").exists()
