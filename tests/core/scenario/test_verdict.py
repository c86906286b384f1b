"""Verdicts, exit codes and the JUnit XML report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.core.scenario.helpers import Peer
from wsinspector.core.frames import Opcode
from wsinspector.core.scenario.model import ExpectStep, JsonMatcher, Scenario, SendStep, TextPayload
from wsinspector.core.scenario.run import Replay
from wsinspector.core.scenario.verdict import RunResult, StepResult, Verdict, junit_xml


def test_exit_codes():
    def run(*statuses: Verdict, error: str = "") -> RunResult:
        return RunResult(tuple(StepResult(i, f"s{i}", "send", s) for i, s in enumerate(statuses)), error=error)

    assert run().exit_code == 0
    assert run(Verdict.PASSED, Verdict.PASSED).exit_code == 0
    assert run(Verdict.PASSED, Verdict.FAILED, Verdict.SKIPPED).exit_code == 1
    assert run(Verdict.FAILED, Verdict.ERROR).exit_code == 2
    assert run(Verdict.SKIPPED, error="refused").exit_code == 2


def test_junit_xml_one_testcase_per_step():
    result = RunResult((
        StepResult(0, "log in", "send", Verdict.PASSED, 0.0125),
        StepResult(1, "welcome", "expect", Verdict.FAILED, 1.5, '1 difference in the JSON: $.a: ...',
                     expected='{"a": 1}', received='{"a": 2}', diff="$.a: expected 1, got 2"),
        StepResult(2, "bye", "send", Verdict.SKIPPED, 0.0, "not run: welcome failed"),
    ), name="t", duration_s=1.5125)
    xml = junit_xml(result, "Login <suite> & co")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.attrib == {"name": "Login <suite> & co", "tests": "3", "failures": "1", "errors": "0",
                            "skipped": "1", "time": "1.512"}
    cases = suite.findall("testcase")
    assert [(c.get("name"), c.get("time"), c.get("classname")) for c in cases] == [
        ("log in", "0.013", "Login <suite> & co"), ("welcome", "1.500", "Login <suite> & co"),
        ("bye", "0.000", "Login <suite> & co")]
    assert list(cases[0]) == []
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message") == "1 difference in the JSON: $.a: ..."
    assert failure.text is not None
    assert "$.a: expected 1, got 2" in failure.text and 'received:\n{"a": 2}' in failure.text
    skipped = cases[2].find("skipped")
    assert skipped is not None and skipped.get("message") == "not run: welcome failed"


def test_junit_xml_errors_and_unprintable_characters():
    result = RunResult((StepResult(0, "s\x00", "expect", Verdict.ERROR, 0.1, "reset\x1b", received="\ud800"),),
                         error="reset")
    root = ET.fromstring(junit_xml(result, "suite"))
    error = root.find("testsuite/testcase/error")
    assert error is not None and error.get("message") == "reset\\x1b"
    assert root.find("testsuite/testcase").get("name") == "s\\x00"  # type: ignore[union-attr]
    assert root.get("errors") == "1" and root.get("tests") == "1"


def test_junit_xml_for_a_connection_that_never_opened():
    replay = Replay(Scenario("t", "ws://h/", (SendStep(TextPayload("a")),)))
    replay.on_error("cannot connect", 0.0)
    root = ET.fromstring(junit_xml(replay.result(), "t"))
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["connection", "steps[0] send text"]
    assert cases[0].find("error") is not None and cases[1].find("skipped") is not None
    assert root.get("tests") == "2" and root.get("errors") == "1" and root.get("skipped") == "1"


def test_junit_xml_of_a_real_run_round_trips_through_a_parser():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("hi")), ExpectStep(JsonMatcher({"a": [1]}))))
    result = Peer(Replay(test)).run({b"hi": [(0.25, Opcode.TEXT, b'{"a": [2]}')]})
    failure = ET.fromstring(junit_xml(result, "t")).find("testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    assert "$.a[0]: expected 1, got 2" in failure.text


def test_a_connection_that_fails_after_trying_for_a_while_reports_how_long():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("a")),))
    replay = Replay(test)
    replay.connecting(10.0)
    replay.on_error("the opening handshake timed out after 10 s", 20.0)
    result = replay.result()
    assert result.duration_s == pytest.approx(10.0)
    report = ET.fromstring(junit_xml(result, "t"))
    assert report.find("testsuite/testcase[@name='connection']").get("time") == "10.000"


def test_a_closing_that_went_wrong_is_a_test_case_with_an_error():
    import xml.etree.ElementTree as ET

    from wsinspector.core.scenario.verdict import RunResult, StepResult, Verdict, junit_xml

    result = RunResult((StepResult(0, "hello", "expect", Verdict.PASSED, 0.1),), "t", 5.2,
                       closing="Closing handshake timed out: the server did not answer our close frame within 5 s")
    assert result.exit_code == 2 and not result.ok
    suite = ET.fromstring(junit_xml(result, "t")).find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("errors")) == ("2", "1")
    [case] = [case for case in suite.iter("testcase") if case.find("error") is not None]
    error = case.find("error")
    assert case.get("name") == "closing" and error is not None
    assert (error.get("message") or "").startswith("Closing handshake timed out")
