"""The replay speed and the runner, driven on a fake clock."""

from __future__ import annotations

import json

import pytest

from tests.core.scenario.helpers import Peer, docs_example
from wsinspector.core.frames import Opcode, close_payload
from wsinspector.core.scenario.model import (
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
from wsinspector.core.scenario.run import (
    Finished,
    Replay,
    SendAction,
    WaitAction,
    parse_speed,
    scaled_delay,
    send_delays,
)
from wsinspector.core.scenario.verdict import EXIT_ERROR, EXIT_FAILED, Verdict
from wsinspector.core.scenario.yaml_io import load


@pytest.mark.parametrize(("text", "speed"), [
    ("1", 1.0), ("0.5", 0.5), ("2", 2.0), ("2x", 2.0), (" MAX ", 0.0), ("0", 0.0), ("inf", 0.0), (3, 3.0),
    (float("inf"), 0.0),
])
def test_parse_speed(text: str | float, speed: float):
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["fast", "-1", "nan", "", "x"])
def test_bad_speeds(text: str):
    with pytest.raises(ValueError, match="speed"):
        parse_speed(text)


def test_send_delays_scale_recorded_gaps():
    steps = (SendStep(TextPayload("a"), delay_s=1.0), ExpectStep(OpcodeMatcher(Opcode.TEXT)),
             WaitStep(seconds=3), SendStep(TextPayload("b")), SendStep(TextPayload("c"), delay_s=0.3))
    assert send_delays(steps, 1.0) == [(0, 1.0), (3, 0.0), (4, 0.3)]
    assert send_delays(steps, 0.5) == [(0, 2.0), (3, 0.0), (4, 0.6)]
    assert send_delays(steps, 2) == [(0, 0.5), (3, 0.0), (4, 0.15)]
    assert send_delays(steps, 0) == [(0, 0.0), (3, 0.0), (4, 0.0)]
    assert scaled_delay(None, 1) == 0 and scaled_delay(-1, 1) == 0 and scaled_delay(1, float("inf")) == 0


def test_replay_runs_the_documented_example():
    test = load(docs_example())
    replay = Replay(test, {"token": "t"})
    peer = Peer(replay)
    text = Opcode.TEXT
    answers = {
        b'{"op":"login","user":"ann"}': [(0.1, text, b'{"op": "welcome", "user": "ann", "session": "s-42"}')],
        b'{"op":"resume","session":"s-42"}': [
            (0.05, Opcode.PING, b""),
            (0.1, text, b'{"op": "resumed", "session": "s-42", "ts": 5, "items": [{"id": 1, "name": "first"}, '
                        b'{"id": 2, "name": "second"}]}')],
        b"\x01\x02\xff": [(0.2, text, b"pong 7")],
        b"bye": [(0.1, Opcode.CLOSE, close_payload(1000))],
    }
    result = peer.run(answers, pushes=[(2.0, text, b'{"status": "starting"}'), (3.0, text, b'{"status": "ready"}')])
    assert [s.status for s in result.steps] == [Verdict.PASSED] * len(test.steps), result.steps
    assert result.exit_code == 0 and result.ok
    assert [data for _, _, data in peer.sent] == [b'{"op":"login","user":"ann"}', b'{"op":"resume","session":"s-42"}',
                                                  b"\x01\x02\xff", b"bye"]
    assert replay.variables["session_id"] == "s-42"
    assert result.steps[1].message == "captured session_id=s-42"
    # "resume" waits its recorded 0.25 s after the welcome arrived (at 100.1)
    assert peer.sent[1][0] == pytest.approx(100.35)
    assert result.steps[2].duration_s == pytest.approx(0.25)
    assert result.totals == {"passed": 10, "failed": 0, "error": 0, "skipped": 0, "total": 10}
    assert replay.done and replay.current is None


def test_replay_at_twice_the_speed_and_as_fast_as_possible():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("a"), delay_s=1.0),
                                       SendStep(TextPayload("b"), delay_s=0.5)))
    for speed, times in ((2.0, [100.5, 100.75]), (0.5, [102.0, 103.0]), (0.0, [100.0, 100.0])):
        peer = Peer(Replay(test, speed=speed))
        assert peer.run().ok
        assert [t for t, _, _ in peer.sent] == pytest.approx(times)


def test_replay_stops_at_the_first_failure_and_skips_the_rest():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("hi")), ExpectStep(TextMatcher("hello")),
                                       SendStep(TextPayload("more")), ExpectStep(TextMatcher("x"))))
    peer = Peer(Replay(test))
    result = peer.run({b"hi": [(0.2, Opcode.TEXT, b"goodbye")]})
    assert [s.status for s in result.steps] == [Verdict.PASSED, Verdict.FAILED, Verdict.SKIPPED,
                                                Verdict.SKIPPED]
    failed = result.steps[1]
    assert failed.name == "steps[1] expect text" and failed.kind == "expect"
    assert failed.message == "the text differs from character 1"
    assert "-hello" in failed.diff and "+goodbye" in failed.diff
    assert failed.expected == "hello" and failed.received == "goodbye"
    assert failed.duration_s == pytest.approx(0.2)
    assert result.steps[2].message == "not run: steps[1] expect text failed"
    assert result.exit_code == EXIT_FAILED
    assert len(peer.sent) == 1


def test_replay_times_out_on_the_steps_timeout():
    test = Scenario("t", "ws://h/", (ExpectStep(TextMatcher("x"), timeout_s=2),
                                       ExpectStep(TextMatcher("y"))), timeout_s=7)
    peer = Peer(Replay(test))
    result = peer.run(pushes=[(2.5, Opcode.TEXT, b"x")])  # too late
    assert result.steps[0].status is Verdict.FAILED
    assert result.steps[0].message == "timeout: no matching message within 2 s"
    assert result.steps[0].duration_s == pytest.approx(2.0)
    assert peer.waits[0] == pytest.approx(102.0)
    # the file's default timeout applies to steps that set none
    peer = Peer(Replay(Scenario("t", "ws://h/", (ExpectStep(TextMatcher("y")),), timeout_s=7)))
    assert peer.run().steps[0].duration_s == pytest.approx(7.0)


def test_a_message_that_arrives_after_the_deadline_does_not_count():
    replay = Replay(Scenario("t", "ws://h/", (ExpectStep(TextMatcher("x"), timeout_s=5),)))
    assert replay.poll(10.0) == WaitAction(15.0)
    replay.on_message(Opcode.TEXT, b"x", 15.5)  # the caller was late to look
    finished = replay.poll(16.0)
    assert isinstance(finished, Finished)
    assert finished.result.steps[0].message == "timeout: no matching message within 5 s"
    assert finished.result.duration_s == pytest.approx(5.0)


def test_expect_passes_over_pings_and_wait_until_drops_other_messages():
    test = Scenario("t", "ws://h/", (
        WaitStep(until=JsonMatcher({"ready": True}, ("$.id",)), capture=(("id", "$.id"),)),
        ExpectStep(TextMatcher("next {{id}}")),
        WaitStep(seconds=1),
        ExpectStep(OpcodeMatcher(Opcode.PONG)),
    ))
    peer = Peer(Replay(test))
    result = peer.run(pushes=[(0.1, Opcode.TEXT, b'{"ready": false}'), (0.2, Opcode.BINARY, b"\x00"),
                              (0.3, Opcode.TEXT, b'{"ready": true, "id": 9}'), (0.4, Opcode.PING, b""),
                              (0.5, Opcode.TEXT, b"next 9"), (0.6, Opcode.PONG, b"")])
    assert result.ok, result.steps
    assert result.steps[2].duration_s == pytest.approx(1.0)
    assert result.duration_s == pytest.approx(1.5)


def test_a_message_that_arrived_during_a_fixed_wait_is_kept_for_the_next_expect():
    test = Scenario("t", "ws://h/", (WaitStep(seconds=2), ExpectStep(TextMatcher("early"))))
    assert Peer(Replay(test)).run(pushes=[(0.5, Opcode.TEXT, b"early")]).ok


def test_expect_fails_when_the_connection_closes():
    test = Scenario("t", "ws://h/", (ExpectStep(TextMatcher("x")), ExpectStep(TextMatcher("y"))))
    result = Peer(Replay(test)).run(pushes=[(0.1, Opcode.CLOSE, close_payload(1011, "oops"))])
    assert result.steps[0].status is Verdict.FAILED
    assert result.steps[0].message == ("expected a text message, the connection was closed "
                                       "(close 1011 (internal error): oops)")
    # a wait until passes over the close frame, then the closed connection fails it at once
    test = Scenario("t", "ws://h/", (WaitStep(until=TextMatcher("x")),))
    peer = Peer(Replay(test))
    result = peer.run(pushes=[(0.1, Opcode.CLOSE, close_payload(1000))])
    assert result.steps[0].message.startswith("the connection was closed (close 1000")
    assert peer.now == pytest.approx(100.1)  # no waiting for the timeout


def test_on_closed_without_a_close_frame():
    replay = Replay(Scenario("t", "ws://h/", (ExpectStep(TextMatcher("x")),)))
    assert isinstance(replay.poll(0.0), WaitAction)
    replay.on_closed(1.0, "network is down")
    finished = replay.poll(1.0)
    assert isinstance(finished, Finished)
    assert finished.result.steps[0].message == "the connection was closed: network is down before a matching message"


def test_connection_failure_before_the_first_step():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("a")), ExpectStep(TextMatcher("b"))))
    replay = Replay(test)
    replay.on_error("cannot connect: refused", 5.0)
    action = replay.poll(6.0)
    assert isinstance(action, Finished)
    result = action.result
    assert result.error == "cannot connect: refused"
    assert [s.status for s in result.steps] == [Verdict.SKIPPED, Verdict.SKIPPED]
    assert result.exit_code == EXIT_ERROR


def test_connection_drop_during_a_step_is_an_error():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("a")), ExpectStep(TextMatcher("b")),
                                       SendStep(TextPayload("c"))))
    replay = Replay(test)
    assert isinstance(replay.poll(0.0), SendAction)
    assert isinstance(replay.poll(0.0), WaitAction)
    assert replay.current == 1 and len(replay.results) == 1
    replay.on_error("connection reset", 0.5)
    replay.on_message(Opcode.TEXT, b"b", 0.6)  # ignored: the run is over
    result = replay.result()
    assert [s.status for s in result.steps] == [Verdict.PASSED, Verdict.ERROR, Verdict.SKIPPED]
    assert result.steps[1].message == "connection reset"
    assert result.exit_code == EXIT_ERROR


def test_a_failed_send_is_an_error_of_that_step():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("a")), SendStep(TextPayload("b"))))
    replay = Replay(test)
    assert isinstance(replay.poll(0.0), SendAction)
    assert replay.current == 0 and replay.results == ()
    replay.on_error("cannot send: socket closed", 0.1)
    result = replay.result()
    assert [(s.status, s.message) for s in result.steps] == [
        (Verdict.ERROR, "cannot send: socket closed"),
        (Verdict.SKIPPED, "not run: steps[0] send text error")]
    assert result.exit_code == EXIT_ERROR
    assert isinstance(replay.poll(0.2), Finished)


def test_an_error_after_the_last_step_changes_nothing():
    replay = Replay(Scenario("t", "ws://h/", (SendStep(TextPayload("a")),)))
    assert isinstance(replay.poll(0.0), SendAction)
    finished = replay.poll(0.0)
    assert isinstance(finished, Finished) and finished.result.ok
    replay.on_error("dropped", 1.0)
    assert replay.result().ok and replay.result().error == ""


def test_an_unknown_variable_at_run_time_is_an_error():
    test = Scenario("t", "ws://h/", (SendStep(TextPayload("{{nope}}")),))
    result = Peer(Replay(test)).run()
    assert result.steps[0].status is Verdict.ERROR
    assert result.steps[0].message == "Unknown variable: {{nope}}"
    assert result.exit_code == EXIT_ERROR


def test_a_failed_wait_until_says_what_arrived_instead():
    test = Scenario("t", "ws://h/", (WaitStep(until=JsonMatcher({"status": "ready"}), timeout_s=2),))
    result = Peer(Replay(test)).run(pushes=[(0.1, Opcode.TEXT, b'{"status": "busy"}'),
                                               (0.2, Opcode.TEXT, b"noise"),
                                               (0.3, Opcode.TEXT, b'{"status": "ready", "id": 99}')])
    step = result.steps[0]
    assert step.status is Verdict.FAILED
    assert step.message == ("timeout: no matching message within 2 s; 3 messages did not match, the last: "
                            "1 difference in the JSON: $.id: unexpected (got 99)")
    assert json.loads(step.received) == {"status": "ready", "id": 99}
    assert step.diff == "$.id: unexpected (got 99)"
    # a wait-until that saw nothing says only that
    result = Peer(Replay(test)).run()
    assert result.steps[0].message == "timeout: no matching message within 2 s" and not result.steps[0].received


def test_a_captured_credential_is_not_shown():
    test = Scenario("t", "ws://h/", (ExpectStep(OpcodeMatcher(Opcode.TEXT),
                                                    capture=(("token", "$.token"), ("room", "$.room"))),))
    replay = Replay(test)
    result = Peer(replay).run(pushes=[(0.1, Opcode.TEXT, b'{"token": "t0k3n-abc", "room": "7"}')])
    assert result.steps[0].message == "captured token=***, room=7"
    assert replay.variables["token"] == "t0k3n-abc"


# -- a frame the client refused ----------------------------------------------------------------------

_REFUSED = "Protocol error from the server: the server sent a close frame with the code 1005"


def _broken_run(steps: tuple[SendStep | ExpectStep | WaitStep, ...], before: list[tuple[Opcode, bytes]],
                ) -> tuple[Replay, list[Finished | SendAction | WaitAction]]:
    """``before`` arrives, then the client refuses a frame, all before the first poll."""
    replay = Replay(Scenario("t", "ws://x/", steps, timeout_s=5))
    for opcode, payload in before:
        replay.on_message(opcode, payload, 100.0)
    replay.on_protocol_error(_REFUSED, 100.5)
    actions = [replay.poll(101.0)]
    while isinstance(actions[-1], SendAction):
        actions.append(replay.poll(101.0))
    return replay, actions


@pytest.mark.parametrize("step", [
    ExpectStep(OpcodeMatcher(Opcode.CLOSE)), WaitStep(until=OpcodeMatcher(Opcode.CLOSE)), SendStep(TextPayload("x")),
    WaitStep(seconds=10),
], ids=["expect", "wait until", "send", "fixed wait"])
def test_a_refused_frame_makes_the_waiting_step_an_error_that_says_why(step: SendStep | ExpectStep | WaitStep):
    _, actions = _broken_run((step, ExpectStep(TextMatcher("never"))), [])
    assert isinstance(actions[-1], Finished)
    result = actions[-1].result
    assert [s.status for s in result.steps] == [Verdict.ERROR, Verdict.SKIPPED]
    assert _REFUSED in result.steps[0].message
    assert result.exit_code == EXIT_ERROR and not result.closing
    assert not [a for a in actions if isinstance(a, SendAction)]


def test_messages_before_the_refused_frame_count_and_after_the_last_step_it_is_the_closing():
    _, actions = _broken_run((ExpectStep(TextMatcher("a")), WaitStep(until=TextMatcher("c"))),
                             [(Opcode.TEXT, b"a"), (Opcode.TEXT, b"b"), (Opcode.TEXT, b"c")])
    result = actions[-1].result  # type: ignore[union-attr]
    assert [s.status for s in result.steps] == [Verdict.PASSED, Verdict.PASSED]
    assert result.closing == _REFUSED and result.exit_code == EXIT_ERROR

    _, actions = _broken_run((WaitStep(until=TextMatcher("z")),), [(Opcode.TEXT, b"a"), (Opcode.TEXT, b"b")])
    [step] = actions[-1].result.steps  # type: ignore[union-attr]
    assert step.status is Verdict.ERROR
    assert step.message.startswith(_REFUSED) and "2 messages did not match" in step.message


def test_a_closing_that_went_wrong_after_the_run_is_an_error_of_the_run():
    replay = Replay(Scenario("t", "ws://x/", (SendStep(TextPayload("x")),)))
    assert isinstance(replay.poll(1.0), SendAction)
    assert isinstance(replay.poll(1.0), Finished)
    replay.on_closing_failed("Closing handshake timed out: the server did not answer", 7.0)
    replay.on_protocol_error("later news", 8.0)
    result = replay.result()
    assert result.closing == "Closing handshake timed out: the server did not answer"
    assert result.exit_code == EXIT_ERROR and not result.ok
    assert [s.status for s in result.steps] == [Verdict.PASSED]


def test_send_steps_expand_dynamic_values_afresh_when_given_a_wall_clock():
    steps = (SendStep(TextPayload("{{user}} #{{$counter}} at {{$timestamp}}")),
             SendStep(JsonPayload({"id": "{{$uuid}}", "n": "{{$counter}}"})),
             SendStep(JsonPayload({"id": "{{$uuid}}", "n": "{{$counter}}"})))
    test = Scenario(name="dynamic", url="ws://h/", variables=(("user", "ann"),), steps=steps)
    peer = Peer(Replay(test, wall_clock=lambda: 1_700_000_000.5))
    assert peer.run().ok
    first, second, third = (data for _, _, data in peer.sent)
    assert first == b"ann #1 at 1700000000"
    second_json, third_json = json.loads(second), json.loads(third)
    assert (second_json["n"], third_json["n"]) == ("2", "3")
    assert second_json["id"] != third_json["id"] and len(second_json["id"]) == 36
    # without a wall clock (the core on its own) they go as written
    plain = Peer(Replay(test))
    assert plain.run().ok and plain.sent[0][2] == b"ann #{{$counter}} at {{$timestamp}}"


def test_an_unknown_dynamic_value_in_a_send_step_is_that_steps_error():
    test = Scenario(name="typo", url="ws://h/", steps=(SendStep(TextPayload("{{$uuidd}}")),))
    result = Peer(Replay(test, wall_clock=lambda: 0.0)).run()
    assert result.exit_code == EXIT_ERROR
    assert "Unknown dynamic value {{$uuidd}}" in result.steps[0].message
