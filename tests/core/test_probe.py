"""The probe's cases as state machines, fed events and the time by hand (no sockets, no Qt), and the plan and
tables they make."""

from __future__ import annotations

import pytest

from wsinspector.core.probe import steps
from wsinspector.core.probe.cases import AGGRESSIVE_CASES, DEFAULT_CASES, http2, pings, versions
from wsinspector.core.probe.h2settings import CLIENT_PREFACE, MAX_SETTINGS, FrameError, first_settings
from wsinspector.core.probe.plan import PlanError, finish, plan
from wsinspector.core.probe.row import ProbeResult, markdown, wikitable


class Driver:
    """Does nothing but note the actions, at a clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0
        self.done: list[steps.Action] = []

    def do(self, action: steps.Action) -> float:
        self.done.append(action)
        return self.now


def test_versions_case_reads_accepted_refused_and_the_listed_versions():
    driver = Driver()
    run = steps.CaseRun(versions, steps.CaseContext(), driver.do)
    run.start(driver.now)
    assert driver.done == [steps.Open("Sec-WebSocket-Version 13", version="13")]
    assert run.deadline == pytest.approx(driver.now + 5.0)
    run.feed(steps.Opened(100.01, None, "", ()))
    assert isinstance(driver.done[-2], steps.Close) and driver.done[-1].version == "8"
    for _ in ("8", "7", "99"):
        run.feed(steps.Refused(100.02, 426, (("Sec-WebSocket-Version", "13"),), "426 Upgrade Required"))
    assert run.done and run.deadline is None
    cell = run.cells["versions"]
    assert cell.value == "13; 99 → 426 listing 13"
    assert cell.data["conforms"] is True and cell.data["answers"] == {"8": "426", "7": "426", "99": "426"}


def test_pings_case_waits_until_its_deadline_and_says_no_pong_came():
    driver = Driver()
    run = steps.CaseRun(pings, steps.CaseContext(), driver.do)
    run.start(driver.now)
    run.feed(steps.Opened(100.0, None, "", ()))
    assert driver.done[-1] == steps.Ping(b"wsinspector-probe-0")
    assert run.deadline == pytest.approx(101.0)
    run.feed(steps.Received(100.5, "text", b"chatter", True, False, 7))  # not a pong: still waiting
    assert not run.done and run.deadline == pytest.approx(101.0)
    run.feed(steps.TimedOut(101.0))
    assert run.cells["pongs"].value == "no" and run.cells["pongs"].data["conforms"] is False
    assert driver.done[-1] == steps.Close(1000, "wsinspector probe")


def test_plan_keeps_aggressive_cases_to_loopback_unless_asked_and_tables_escape_cells():
    assert plan(url="ws://example.com/") == DEFAULT_CASES
    assert plan(aggressive=True, url="wss://example.com/") == DEFAULT_CASES + AGGRESSIVE_CASES
    assert plan(["size"], url="ws://[::1]:9/") == ("size",)
    with pytest.raises(PlanError, match="--aggressive"):
        plan(["pings", "size"], url="ws://example.com/")
    with pytest.raises(PlanError, match="unknown case nope"):
        plan(["nope"])

    result = ProbeResult(url="ws://a|b/", started=0.0, cells={"text": steps.Cell("yes | echoed")})
    finish(result)
    assert result.cell("conformance").value.startswith("unknown — ")
    assert "| ws://a\\|b/ |" in markdown([result]) and "yes \\| echoed" in markdown([result])
    wiki = wikitable([result]).splitlines()
    assert wiki[0] == '{| class="wikitable sortable"' and wiki[-1] == "|}" and "| yes &#124; echoed" in wiki
    assert "| unknown — not probed (the size case did not run)" in wiki


@pytest.mark.parametrize(("secure", "answer", "value"), [
    (False, None, "unknown — ws:// is HTTP/1.1 without TLS: no ALPN to ask for h2"),
    (True, steps.Alpn(100.1, "http/1.1"), "no (no h2)"),
    (True, steps.Alpn(100.1, ""), "no (no h2)"),
    (True, steps.Alpn(100.1, "", "The remote host closed the connection"),
     "unknown — the TLS handshake failed: The remote host closed the connection"),
    (True, steps.Alpn(100.1, "h2", settings=((0x3, 100), (0x8, 1))), "yes — SETTINGS_ENABLE_CONNECT_PROTOCOL=1"),
    (True, steps.Alpn(100.1, "h2", settings=((0x3, 100),)), "no — h2 without SETTINGS_ENABLE_CONNECT_PROTOCOL"),
    (True, steps.Alpn(100.1, "h2", settings=((0x8, 0),)), "no — h2 without SETTINGS_ENABLE_CONNECT_PROTOCOL"),
    (True, steps.Alpn(100.1, "h2", settings_error="the first frame is not SETTINGS (type 0x1, 12 bytes)"),
     "unknown — it speaks h2 (ALPN chose h2), but its SETTINGS were not read: the first frame is not SETTINGS "
     "(type 0x1, 12 bytes)"),
], ids=["ws", "http1", "no-alpn", "tls-failed", "h2-connect", "h2-plain", "h2-connect-0", "h2-unread"])
def test_h2_is_told_by_alpn_over_tls_only(secure, answer, value):
    driver = Driver()
    run = steps.CaseRun(http2, steps.CaseContext(secure=secure), driver.do)
    run.start(driver.now)
    if answer is not None:
        assert driver.done == [steps.AskAlpn()]
        run.feed(answer)
    assert run.done and run.cells["h2"].value == value


def frame(kind: int, flags: int, stream: int, body: bytes, length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return size.to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + body


def test_the_servers_first_settings_frame_is_read_from_bytes_as_they_come():
    assert CLIENT_PREFACE == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    whole = frame(4, 0, 0, b"\x00\x03\x00\x00\x00\x64" + b"\x00\x08\x00\x00\x00\x01") + b"\x00\x00\x04"
    # short: the header or the body not all there yet
    assert [first_settings(whole[:n]) for n in (0, 8, 9, 20)] == [None] * 4
    assert first_settings(whole) == {0x3: 100, 0x8: 1}  # bytes after the frame are the next frame's
    assert first_settings(frame(4, 0, 0, b"")) == {}
    # a repeated parameter: the later value wins (RFC 9113 §6.5.3)
    assert first_settings(frame(4, 0, 0, b"\x00\x08\x00\x00\x00\x01\x00\x08\x00\x00\x00\x00")) == {0x8: 0}


@pytest.mark.parametrize(("data", "why"), [
    (frame(1, 4, 1, b"\x82"), r"the first frame is not SETTINGS \(type 0x1, 1 bytes\)"),
    (b"HTTP/1.1 400 Bad Request\r\n", "not SETTINGS .*: an HTTP/1.1 answer"),
    (frame(4, 0, 3, b""), "a SETTINGS frame on stream 3, not 0"),
    (frame(4, 1, 0, b""), "a SETTINGS acknowledgement"),
    (frame(4, 0, 0, b"\x00\x08\x00"), "a SETTINGS frame of 3 bytes, not a whole number"),
    (frame(4, 0, 0, b"", length=MAX_SETTINGS + 6), f"of {MAX_SETTINGS + 6} bytes, over the {MAX_SETTINGS} read"),
], ids=["headers", "http1", "stream", "ack", "ragged", "too-long"])
def test_a_first_frame_that_is_not_the_servers_settings_says_why(data, why):
    with pytest.raises(FrameError, match=why):
        first_settings(data)
