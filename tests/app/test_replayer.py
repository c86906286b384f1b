"""ReplayController: a test file replayed over a real connection to peers on 127.0.0.1, with its signals, the
messages it assembles from frames, the end of the connection, and the recording of the run as a session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.net.hostile_extra import upgrades_with
from tests.peers import QtPeer, after_upgrade, sends_then_drops, sends_then_waits, server_frame
from tests.rejected_frames import REJECTED
from wsinspector.app.replayer import ReplayController
from wsinspector.core.events import FailureKind
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE
from wsinspector.core.scenario.model import (
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    OpcodeMatcher,
    Scenario,
    SendStep,
    TextMatcher,
    TextPayload,
    WaitStep,
)
from wsinspector.core.scenario.run import send_delays
from wsinspector.core.scenario.verdict import RunResult, StepResult, Verdict
from wsinspector.core.store import SessionStatus, Store

WAIT_MS = 20_000


class Run:
    """A controller and everything it signalled."""

    def __init__(self, controller: ReplayController) -> None:
        self.controller = controller
        self.events: list[tuple[str, object]] = []
        self.finished: list[RunResult] = []
        controller.step_started.connect(lambda index: self.events.append(("started", index)))
        controller.step_finished.connect(lambda step: self.events.append(("finished", step)))
        controller.progress.connect(lambda done, total: self.events.append(("progress", (done, total))))
        controller.finished.connect(self.finished.append)

    @property
    def result(self) -> RunResult:
        [result] = self.finished
        return result


def replay(qtbot: Any, test: Scenario, **kwargs: Any) -> Run:
    controller = ReplayController(test, **kwargs)
    recorded = Run(controller)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        controller.start()
        assert recorded.finished == []  # never reported synchronously
    assert controller.done and not controller.running
    controller.deleteLater()
    return recorded


ECHO = (
    SendStep(JsonPayload({"op": "hello", "n": [1, 2.5, None]}), name="hello"),
    ExpectStep(JsonMatcher({"n": [1, 2.5, None], "op": "hello"}), name="hello back"),
    SendStep(TextPayload("text ✓"), name="text"),
    ExpectStep(TextMatcher("text ✓"), name="text back"),
    SendStep(BinaryPayload(b"\x00\xff"), name="bytes"),
    ExpectStep(BytesMatcher(b"\x00\xff"), name="bytes back"),
)


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_an_echo_test_passes_with_its_signals_in_order_and_is_recorded(qtbot: Any, peer: Callable[..., str],
                                                                        store: Store, engine: str):
    test = Scenario("echo", peer(), ECHO)
    run = replay(qtbot, test, engine=engine, store=store, replay_of="/tests/echo.wstest.yaml")
    result = run.result
    assert result.ok and result.exit_code == 0, result.steps
    expected: list[tuple[str, object]] = []
    for index in range(len(ECHO)):
        expected += [("started", index), ("finished", result.steps[index]), ("progress", (index + 1, len(ECHO)))]
    assert run.events == expected
    controller = run.controller
    assert controller.profile.protocol.engine == engine
    assert controller.close_info is not None and controller.close_info.code == 1000
    assert not controller.close_info.by_peer
    record = store.session(controller.session_id or -1)
    assert record is not None
    assert record.replay_of == "/tests/echo.wstest.yaml"
    assert record.name == "Replay: echo"
    assert record.status == SessionStatus.CLOSED and record.close_code == 1000
    assert store.stored_frame_count(record.id) == len(controller.log)
    messages = [(m.direction, m.opcode, m.payload) for m in controller.log.messages]
    assert messages[:2] == [(Direction.OUT, Opcode.TEXT, b'{"op":"hello","n":[1,2.5,null]}'),
                            (Direction.IN, Opcode.TEXT, b'{"op":"hello","n":[1,2.5,null]}')]


def test_a_fragmented_message_is_matched_whole(qtbot: Any):
    qt_peer = QtPeer(outgoing_frame_size=4)
    url = qt_peer.listen()
    try:
        test = Scenario("fragments", url, (SendStep(TextPayload("hello fragmented world")),
                                           ExpectStep(TextMatcher("hello fragmented world"))))
        run = replay(qtbot, test)
    finally:
        qt_peer.stop()
    assert run.result.ok, run.result.steps
    log = run.controller.log
    incoming = [log.opcode(seq) for seq in range(len(log)) if log.direction(seq) is Direction.IN]
    assert incoming.count(Opcode.CONTINUATION) == 5  # 22 bytes in frames of 4


async def pings_then_echoes(ws: Any) -> None:
    await ws.ping(b"heartbeat")
    await ws.send("after the ping")
    async for message in ws:
        await ws.send(message)


def test_control_frames_reach_the_replay_by_their_opcode(qtbot: Any, peer: Callable[..., str]):
    test = Scenario("ping", peer(pings_then_echoes), (
        ExpectStep(OpcodeMatcher(Opcode.PING), name="a ping"),
        ExpectStep(TextMatcher("after the ping")),  # the pong we sent back is not a message
    ))
    run = replay(qtbot, test)
    assert run.result.ok, run.result.steps


async def announces_then_closes(ws: Any) -> None:
    await ws.send("bye")
    await ws.close(1001, "going home")


async def announces_then_drops(ws: Any) -> None:
    await ws.send("bye")
    ws.transport.abort()


def test_a_close_by_the_server_fails_the_waiting_step_and_a_drop_is_an_error(qtbot: Any, peer: Callable[..., str]):
    steps = (ExpectStep(TextMatcher("bye")), ExpectStep(TextMatcher("more"), timeout_s=30))
    run = replay(qtbot, Scenario("closes", peer(announces_then_closes), steps))
    assert [s.status for s in run.result.steps] == [Verdict.PASSED, Verdict.FAILED]
    assert run.result.steps[1].message.startswith("expected a text message, the connection was closed (close 1001")
    assert run.result.exit_code == 1
    assert run.controller.close_info is not None and run.controller.close_info.by_peer

    run = replay(qtbot, Scenario("drops", peer(announces_then_drops), steps))
    assert [s.status for s in run.result.steps] == [Verdict.PASSED, Verdict.ERROR]
    assert run.result.steps[1].message.startswith("Server gone")
    assert run.result.exit_code == 2


def test_a_send_after_the_server_closed_is_an_error_that_says_so(qtbot: Any, peer: Callable[..., str]):
    steps = (ExpectStep(TextMatcher("bye")), ExpectStep(OpcodeMatcher(Opcode.CLOSE)), SendStep(TextPayload("too late")))
    run = replay(qtbot, Scenario("late", peer(announces_then_closes), steps))
    last = run.result.steps[2]
    assert last.status is Verdict.ERROR
    assert last.message.startswith("cannot send: the server closed the connection (close 1001")


def test_speed_zero_skips_recorded_delays(qtbot: Any, peer: Callable[..., str]):
    test = Scenario("slow recording", peer(), (
        SendStep(TextPayload("a"), delay_s=3600.0), ExpectStep(TextMatcher("a")),
        SendStep(TextPayload("b"), delay_s=86400.0), ExpectStep(TextMatcher("b")),
    ))
    run = replay(qtbot, test, speed=0.0)
    assert run.result.ok, run.result.steps
    replay_machine = run.controller.replay
    assert replay_machine.speed == 0.0
    assert send_delays(test.steps, replay_machine.speed) == [(0, 0.0), (2, 0.0)]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_a_dead_server_fails_the_run_before_any_step(qtbot: Any, store: Store, engine: str):
    test = Scenario("dead", f"ws://127.0.0.1:{_free_port()}/", ECHO)
    run = replay(qtbot, test, engine=engine, store=store, replay_of="dead.yaml")
    result = run.result
    assert run.controller.failure is not None and run.controller.failure.kind is FailureKind.REFUSED
    assert "refused" in result.error
    assert result.exit_code == 2
    assert [s.status for s in result.steps] == [Verdict.SKIPPED] * len(ECHO)
    assert not [event for event in run.events if event[0] == "started"]
    record = store.session(run.controller.session_id or -1)
    assert record is not None and record.status == SessionStatus.FAILED and "refused" in record.close_reason


def test_an_invalid_url_is_reported_through_finished(qtbot: Any):
    run = replay(qtbot, Scenario("bad", "ws://127.0.0.1:9/", ECHO), url="http://example.com/")
    assert "ws:// or wss://" in run.result.error
    assert run.result.exit_code == 2


def test_cancel_ends_the_running_step_and_closes_the_connection(qtbot: Any, peer: Callable[..., str]):
    test = Scenario("long", peer(), (SendStep(TextPayload("x")), WaitStep(seconds=600), SendStep(TextPayload("y"))))
    controller = ReplayController(test)
    run = Run(controller)
    controller.step_started.connect(lambda index: index == 1 and controller.cancel("stopped by the user"))
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        controller.start()
    result = run.result
    assert [(s.status, s.message) for s in result.steps] == [
        (Verdict.PASSED, "sent text (1 byte)"), (Verdict.ERROR, "stopped by the user"),
        (Verdict.SKIPPED, "not run: steps[1] wait 600 s error")]
    assert result.exit_code == 2
    assert controller.close_info is not None and controller.close_info.code == 1000
    controller.deleteLater()


def test_recording_that_fails_does_not_stop_the_run(qtbot: Any, peer: Callable[..., str], store: Store):
    store.close()  # every write now fails
    messages: list[str] = []
    controller = ReplayController(Scenario("echo", peer(), ECHO), store=store, replay_of="x")
    controller.recording_failed.connect(messages.append)
    run = Run(controller)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        controller.start()
    assert run.result.ok
    assert len(messages) == 1 and messages[0].startswith("Recording stopped: ")
    controller.deleteLater()


def test_messages_that_arrive_before_the_first_step_are_kept(qtbot: Any, peer: Callable[..., str]):
    async def greets(ws: Any) -> None:
        await ws.send("welcome")
        async for _ in ws:
            pass

    run = replay(qtbot, Scenario("greeting", peer(greets), (ExpectStep(TextMatcher("welcome")),)))
    assert run.result.ok
    [step] = run.result.steps
    assert isinstance(step, StepResult) and step.status is Verdict.PASSED


def test_cancel_as_a_send_step_starts_sends_nothing(qtbot: Any, peer: Callable[..., str]):
    received: list[object] = []

    async def records(ws: Any) -> None:
        async for message in ws:
            received.append(message)

    controller = ReplayController(Scenario("cancelled", peer(records), (SendStep(TextPayload("never")),)))
    run = Run(controller)
    controller.step_started.connect(lambda _index: controller.cancel("stopped"))
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        controller.start()
    assert [(s.status, s.message) for s in run.result.steps] == [(Verdict.ERROR, "stopped")]
    assert controller.close_info is not None and controller.close_info.code == 1000
    assert not [seq for seq in range(len(controller.log)) if controller.log.opcode(seq) is Opcode.TEXT]
    assert received == []
    controller.deleteLater()


# -- frames the client refuses ------------------------------------------------------------------------

STEP_KINDS = ("expect", "wait until", "send after")

#: words of the Wire engine's verdict for each refused frame: what the server did wrong
WIRE_WORDS = {
    "close code 1005": "a close frame with the code 1005",
    "close code 1006": "a close frame with the code 1006",
    "close code 999": "a close frame with the code 999",
    "close code 2000": "a close frame with the code 2000",
    "close code 5000": "a close frame with the code 5000",
    "one-byte close body": "a close frame with a 1-byte body",
    "close frame of 126 bytes": "a close frame of 126 bytes",
    "close reason not UTF-8": "a close reason that is not valid UTF-8",
    "fragmented close": "a close frame without FIN",
    "close with RSV3": "a close frame with RSV3 set",
    "masked close": "a masked close frame",
    "text not UTF-8": "text that is not valid UTF-8",
    "text fragment not UTF-8": "text that is not valid UTF-8",
    "reserved data opcode 0x3": "the reserved opcode 0x3",
    "reserved control opcode 0xb": "the reserved opcode 0xb",
    "text with RSV1": "a text frame with RSV1 set",
    "ping with RSV2": "a ping frame with RSV2 set",
    "masked text": "a masked text frame",
    "masked ping": "a masked ping frame",
    "frame over the size limit": "a message larger than the 64.0 MiB limit",
    "continuation with nothing to continue": "a continuation frame while no fragmented message was under way",
    "text inside a fragmented text": "a text frame in the middle of a fragmented message",
    "fragmented ping": "a ping frame without FIN",
}


def _waiting_for(kind: str, looks_like: Opcode) -> tuple[SendStep | ExpectStep | WaitStep, ...]:
    """One step of ``kind`` that a refused frame looking like ``looks_like`` would satisfy if it were taken."""
    if kind == "expect":
        return (ExpectStep(OpcodeMatcher(looks_like), timeout_s=30, name="the step"),)
    if kind == "wait until":
        return (WaitStep(until=OpcodeMatcher(looks_like), timeout_s=30, name="the step"),)
    return (SendStep(TextPayload("after it"), name="the step"),)


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
@pytest.mark.parametrize("kind", STEP_KINDS)
@pytest.mark.parametrize("case", list(REJECTED))
def test_a_frame_the_client_refuses_never_counts_and_the_step_says_what_the_server_did(
        qtbot: Any, hostile: Callable[..., str], case: str, kind: str, engine: str):
    rejected = REJECTED[case]
    if engine == ENGINE_QT and not rejected.qt_sees_it:
        pytest.skip("QWebSocket takes masked frames from a server (and hides pings): the Qt engine cannot tell")
    url = hostile(upgrades_with(rejected.data))
    run = replay(qtbot, Scenario("hostile", url, _waiting_for(kind, rejected.looks_like)), engine=engine)
    result = run.result
    [step] = result.steps
    assert step.status is Verdict.ERROR, step
    assert "Protocol error from the server" in step.message or "larger than the" in step.message, step.message
    if kind == "send after":
        assert step.message.startswith("cannot send: ")
    if engine == ENGINE_WIRE:
        assert WIRE_WORDS[case] in step.message, step.message
    assert result.exit_code == 2 and not result.ok
    assert run.controller.close_info is not None and run.controller.close_info.failure is not None


def test_messages_before_a_refused_frame_still_count_and_the_refusal_fails_the_run(qtbot: Any,
                                                                                  hostile: Callable[..., str]):
    data = server_frame(0x1, b"hello") + REJECTED["close code 1005"].data
    steps = (ExpectStep(TextMatcher("hello"), name="hello"),)
    run = replay(qtbot, Scenario("after the last step", hostile(upgrades_with(data)), steps))
    result = run.result
    assert [s.status for s in result.steps] == [Verdict.PASSED]
    assert "a close frame with the code 1005" in result.closing
    assert result.exit_code == 2

    steps = (ExpectStep(TextMatcher("hello"), name="hello"), ExpectStep(OpcodeMatcher(Opcode.CLOSE), name="close"))
    run = replay(qtbot, Scenario("the next step", hostile(upgrades_with(data)), steps))
    assert [s.status for s in run.result.steps] == [Verdict.PASSED, Verdict.ERROR]
    assert "a close frame with the code 1005" in run.result.steps[1].message
    assert not run.result.closing  # said once, by the step


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_a_closing_handshake_that_times_out_fails_the_run(qtbot: Any, hostile: Callable[..., str], engine: str):
    url = hostile(sends_then_waits(server_frame(0x1, b"hello")))  # never answers our close frame
    run = replay(qtbot, Scenario("silent close", url, (ExpectStep(TextMatcher("hello")),)), engine=engine)
    result = run.result
    assert [s.status for s in result.steps] == [Verdict.PASSED]
    assert result.closing.startswith("Closing handshake timed out"), result.closing
    assert result.exit_code == 2 and not result.ok


def _hangs_up_on_our_close(reset: bool) -> Any:
    """Sends "one", then reads until the client's close frame comes and ends the TCP connection without
    answering it (``reset``: with an RST)."""
    from tests.net.hostile_extra import read_client_frame

    async def then(reader: Any, writer: Any) -> None:
        writer.write(server_frame(0x1, b"one"))
        await writer.drain()
        while (frame := await read_client_frame(reader)) is not None and frame.opcode != 0x8:
            pass
        if reset:
            writer.transport.abort()
        else:
            writer.close()

    return after_upgrade(then)


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_a_server_that_hangs_up_on_our_close_frame_fails_the_run(qtbot: Any, hostile: Callable[..., str],
                                                                  store: Store, engine: str, reset: bool):
    url = hostile(_hangs_up_on_our_close(reset))
    steps = (SendStep(TextPayload("hello")), ExpectStep(TextMatcher("one")))
    run = replay(qtbot, Scenario("hangs up", url, steps), engine=engine, store=store)
    result = run.result
    assert [s.status for s in result.steps] == [Verdict.PASSED, Verdict.PASSED]
    assert "without answering our close frame" in result.closing, result.closing
    assert result.exit_code == 2 and not result.ok
    record = store.session(run.controller.session_id or -1)
    assert record is not None and record.status == SessionStatus.FAILED


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_a_server_that_drops_the_connection_after_the_last_step_fails_the_run(qtbot: Any,
                                                                              hostile: Callable[..., str],
                                                                              engine: str):
    url = hostile(sends_then_drops(server_frame(0x1, b"one")))
    run = replay(qtbot, Scenario("drops", url, (ExpectStep(TextMatcher("one")),)), engine=engine)
    result = run.result
    assert [s.status for s in result.steps] == [Verdict.PASSED]
    assert result.closing.startswith("the server "), result.closing
    assert "close frame" in result.closing, result.closing
    assert result.exit_code == 2 and not result.ok


def test_a_run_started_without_secrets_keeps_the_tests_own_out_of_its_handshake(qtbot: Any, peer: Callable[..., str],
                                                                                 store: Store):
    """The window's Tests page gives a run no secrets: those of the test file itself stay out all the same."""
    from wsinspector.core.handshake import last_handshake

    password, token = "pw-3f9a-secret", "tk-81c2-secret"
    test = Scenario("secret", peer() + "?access_token={{token}}", ECHO[:2],
                    headers=(("X-Password", "{{password}}"), ("X-Trace", "trace-7")),
                    variables=(("password", password), ("token", token)))
    run = replay(qtbot, test, store=store, replay_of="secret.wstest.yaml")
    assert run.result.ok, run.result.steps
    session_id = run.controller.session_id or -1
    handshake = last_handshake((ts, kind, text) for _seq, ts, kind, text in store.events(session_id))
    assert handshake is not None and handshake.status == 101
    assert password not in handshake.to_json() and token not in handshake.to_json()
    headers = dict(handshake.request_headers)
    assert headers["X-Password"] == "{{password}}" and headers["X-Trace"] == "trace-7"
