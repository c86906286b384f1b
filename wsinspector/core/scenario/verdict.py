"""What a run found: a verdict per step, the run's result and exit code, and the JUnit XML report of it."""

from __future__ import annotations

import enum
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_ERROR = 2


def format_duration(seconds: float) -> str:
    """How long a step or a run took, as the command line and the Tests page show it."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


class Verdict(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class StepResult:
    index: int
    #: :func:`step_label`
    name: str
    #: send, expect or wait
    kind: str
    status: Verdict
    duration_s: float = 0.0
    #: one line: what went wrong (or what was done)
    message: str = ""
    expected: str = ""
    received: str = ""
    diff: str = ""


@dataclass(frozen=True, slots=True)
class RunResult:
    steps: tuple[StepResult, ...]
    name: str = ""
    duration_s: float = 0.0
    #: a connection or usage error (the connection failed, dropped, a variable was unknown, …)
    error: str = ""
    #: what went wrong after the last step, as the connection ended: a protocol error from the server, or
    #: a closing handshake the server did not complete in time (an error of the run, as ``error``)
    closing: str = ""

    def count(self, status: Verdict) -> int:
        return sum(1 for step in self.steps if step.status is status)

    @property
    def totals(self) -> dict[str, int]:
        totals = {status.value: self.count(status) for status in Verdict}
        totals["total"] = len(self.steps)
        return totals

    @property
    def exit_code(self) -> int:
        """0 every step passed, 1 an expectation failed, 2 a connection or usage error, or a connection that
        did not end well after the steps (wins over 1)."""
        if self.error or self.closing or self.count(Verdict.ERROR):
            return EXIT_ERROR
        if self.count(Verdict.FAILED):
            return EXIT_FAILED
        return EXIT_PASSED

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_PASSED


# -- JUnit XML ---------------------------------------------------------------------------------------

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: characters it forbids (NUL, most control characters) shown as \\xNN."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


#: characters of the expected and the received message in a JUnit report (the diff shows where they differ)
JUNIT_DETAIL_CHARS = 4096


def _clipped(text: str, limit: int = JUNIT_DETAIL_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _step_details(step: StepResult) -> str:
    parts = [step.message]
    for label, text in (("expected", _clipped(step.expected)), ("received", _clipped(step.received)),
                        ("diff", step.diff)):
        if text:
            parts.append(f"{label}:\n{text}")
    return "\n\n".join(part for part in parts if part)


def junit_xml(result: RunResult, suite_name: str) -> str:
    """The run as a JUnit XML report: one ``testcase`` per step, ``failure`` for a failed expectation (with
    the diff), ``error`` for an error, ``skipped`` for steps not run; times in seconds. A connection error
    that no step reports (the connection failed before the first step) is a ``connection`` test case, and
    what went wrong as the connection ended after the steps a ``closing`` test case, with an ``error``."""
    cases: list[ET.Element] = []
    failures = errors = skipped = 0
    if result.error and not result.count(Verdict.ERROR):
        connecting = max(0.0, result.duration_s - sum(step.duration_s for step in result.steps))
        case = ET.Element("testcase", classname=_xml_text(suite_name), name="connection", time=f"{connecting:.3f}")
        ET.SubElement(case, "error", message=_xml_text(result.error), type="ConnectionError").text = (
            _xml_text(result.error))
        cases.append(case)
        errors += 1
    for step in result.steps:
        case = ET.Element("testcase", classname=_xml_text(suite_name), name=_xml_text(step.name),
                          time=f"{step.duration_s:.3f}")
        if step.status is Verdict.FAILED:
            failures += 1
            element = ET.SubElement(case, "failure", message=_xml_text(step.message), type="AssertionError")
            element.text = _xml_text(_step_details(step))
        elif step.status is Verdict.ERROR:
            errors += 1
            element = ET.SubElement(case, "error", message=_xml_text(step.message), type="Error")
            element.text = _xml_text(_step_details(step))
        elif step.status is Verdict.SKIPPED:
            skipped += 1
            ET.SubElement(case, "skipped", message=_xml_text(step.message))
        cases.append(case)
    if result.closing:
        case = ET.Element("testcase", classname=_xml_text(suite_name), name="closing", time="0.000")
        ET.SubElement(case, "error", message=_xml_text(result.closing), type="ConnectionError").text = (
            _xml_text(result.closing))
        cases.append(case)
        errors += 1
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors),
              "skipped": str(skipped), "time": f"{result.duration_s:.3f}"}
    root = ET.Element("testsuites", {"name": _xml_text(suite_name), **counts})
    suite = ET.SubElement(root, "testsuite", {"name": _xml_text(suite_name), **counts})
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

