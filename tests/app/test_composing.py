"""What a connection sends on its own, against a real QWebSocketServer on loopback: dynamic values expanded
afresh at each send, the counter, periodic sends (exactly N, stopped on disconnect) and auto-replies (an
application-level ping answered, the rate limit held), each such frame marked in the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6

from tests.peers import QtPeer
from wsinspector.app.connection import ConnectionController
from wsinspector.core.frames import Direction
from wsinspector.core.model import header
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.sending import Schedule

WAIT_MS = 10_000


@pytest.fixture
def peer(qtbot: Any) -> Iterator[QtPeer]:
    server = QtPeer()
    yield server
    server.stop()


@pytest.fixture
def controller(qtbot: Any, peer: QtPeer) -> Iterator[ConnectionController]:
    controller = ConnectionController()
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        controller.connect_to(ConnectionProfile(name="composing", endpoint=Endpoint(peer.listen())))
    yield controller
    controller.shutdown()


def _out_marks(controller: ConnectionController) -> list[str]:
    log = controller.log
    return [header.origin_label(log.origin(seq)) for seq in range(len(log)) if log.direction(seq) is Direction.OUT]


def _arrive(qtbot: Any, peer: QtPeer, count: int) -> list[str]:
    qtbot.waitUntil(lambda: len(peer.received) >= count, timeout=WAIT_MS)
    return [m if isinstance(m, str) else m.decode() for m in peer.received]


def test_dynamic_values_arrive_expanded_and_new_at_each_send(qtbot: Any, peer: QtPeer,
                                                             controller: ConnectionController) -> None:
    composing = controller.composing
    for _ in range(3):
        composing.send_template("json", '{"id": "{{$uuid}}", "n": {{$counter}}, "r": {{$randomInt}}, '
                                        '"t": {{$timestamp}}, "at": "{{$isoTimestamp}}"}')
    sent = [json.loads(text) for text in _arrive(qtbot, peer, 3)]
    assert [m["n"] for m in sent] == [1, 2, 3]
    assert len({m["id"] for m in sent}) == 3
    assert all(0 <= m["r"] <= 1000 and m["t"] > 1_700_000_000 and m["at"].endswith("Z") for m in sent)
    assert _out_marks(controller) == ["", "", ""]  # the user's own sends carry no mark
    with pytest.raises(ValueError, match=r"Unknown dynamic value \{\{\$nope\}\}"):
        composing.send_template("text", "{{$nope}}")
    composing.send_template("text", "after {{$counter}}")
    assert _arrive(qtbot, peer, 4)[3] == "after 4"  # the refused one counted nothing


def test_a_periodic_send_sends_exactly_its_count_marked_as_scheduled(qtbot: Any, peer: QtPeer,
                                                                     controller: ConnectionController) -> None:
    composing = controller.composing
    with qtbot.waitSignal(composing.schedules_changed, timeout=WAIT_MS,
                          check_params_cb=lambda *_: not composing.schedules):
        composing.start_schedule(Schedule(kind="text", text="tick {{$counter}}", interval_ms=5, count=7,
                                          jitter_pct=50))
    composing.send_template("text", "done")
    assert _arrive(qtbot, peer, 8) == [f"tick {n}" for n in range(1, 8)] + ["done"]
    assert _out_marks(controller) == ["scheduled"] * 7 + [""]


def test_schedules_stop_when_the_connection_closes(qtbot: Any, peer: QtPeer,
                                                   controller: ConnectionController) -> None:
    composing = controller.composing
    composing.start_schedule(Schedule(kind="text", text="a", interval_ms=5))
    composing.start_schedule(Schedule(kind="text", text="b", interval_ms=7))
    assert len(composing.schedules) == 2
    _arrive(qtbot, peer, 6)
    timers = [timer for _schedule, timer in composing.schedules.values()]
    with qtbot.waitSignal(controller.closed, timeout=WAIT_MS):
        controller.disconnect()
    assert composing.schedules == {}
    assert not any(shiboken6.isValid(timer) and timer.isActive() for timer in timers)
    with pytest.raises(RuntimeError, match="Not connected"):
        composing.start_schedule(Schedule(kind="text", text="c", interval_ms=5))


def test_an_auto_reply_answers_an_application_ping_within_its_rate_limit(qtbot: Any, peer: QtPeer,
                                                                         controller: ConnectionController) -> None:
    composing = controller.composing
    composing.set_rules((("app ping", "json", "ping", "$.type", "json", '{"type": "pong", "n": {{$counter}}}',
                          True),
                         ("off", "contains", "ping", "", "text", "never sent", False)), 3)
    composing.clock = lambda: 100.0  # every ping in the same second: the limit lets three replies through
    for _ in range(10):
        peer.send_text_to_all('{"type": "ping"}')
    qtbot.waitUntil(lambda: composing.replies_sent + composing.limit.refused == 10, timeout=WAIT_MS)
    assert (composing.replies_sent, composing.limit.refused) == (3, 7)
    composing.send_template("text", "end")
    received = _arrive(qtbot, peer, 4)
    assert received == ['{"type": "pong", "n": 1}', '{"type": "pong", "n": 2}', '{"type": "pong", "n": 3}', "end"]
    assert _out_marks(controller) == ["auto-reply"] * 3 + [""]
    # switched off, a ping goes unanswered
    composing.set_auto_reply(False)
    composing.clock = lambda: 200.0
    peer.send_text_to_all('{"type": "ping"}')
    log = controller.log
    qtbot.waitUntil(lambda: sum(1 for seq in range(len(log)) if log.payload(seq) == b'{"type": "ping"}') == 11,
                    timeout=WAIT_MS)
    controller.flush()  # the views, and the rules, hear of it
    composing.send_template("text", "still off")
    qtbot.waitUntil(lambda: peer.received[-1] == "still off", timeout=WAIT_MS)
    assert composing.replies_sent == 3


def test_a_stored_rule_that_cannot_work_is_left_out_and_said(qtbot: Any, peer: QtPeer,
                                                             controller: ConnectionController) -> None:
    composing = controller.composing
    with qtbot.waitSignal(composing.refused, timeout=WAIT_MS) as refused:
        composing.set_rules((("broken", "regex", "(", "", "text", "x", True),
                             ("fine", "equals", "hi", "", "text", "hello", True)), 10)
    assert refused.args[0].startswith("Rule “broken”: not a regular expression") and \
        refused.args[0].endswith(": it is not used")
    assert [rule.name for rule in composing.rules] == ["fine"]
    peer.send_text_to_all("(")
    peer.send_text_to_all("hi")
    qtbot.waitUntil(lambda: peer.received == ["hello"], timeout=WAIT_MS)


def test_a_schedule_whose_message_cannot_be_sent_ends_and_says_why(qtbot: Any, peer: QtPeer,
                                                                    controller: ConnectionController) -> None:
    composing = controller.composing
    with qtbot.waitSignal(composing.refused, timeout=WAIT_MS) as refused:
        composing.start_schedule(Schedule(kind="json", text='{"user": "{{user}}"}', interval_ms=5))
    assert refused.args[0].startswith("Periodic send stopped: Unknown variable")
    assert composing.schedules == {} and len(controller.log) == 0
