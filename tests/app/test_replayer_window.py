"""ReplayController under a flood: the run's log keeps a bounded window of frames in memory, as a connection's
does, yet never lets go of a frame a step has yet to read; against real peers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from wsinspector.app import replayer as replayer_module
from wsinspector.app.replayer import ReplayController
from wsinspector.core.chunks import OPEN_FRAMES
from wsinspector.core.frames import Direction
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE
from wsinspector.core.scenario.model import ExpectStep, Scenario, SendStep, TextMatcher, TextPayload, WaitStep
from wsinspector.core.scenario.verdict import RunResult
from wsinspector.core.store import Store
from wsinspector.core.stored import StoredSession

WAIT_MS = 20_000
WINDOW = 100
WINDOW_BYTES = 256 * 1024
FLOOD = 3000
BURST = 1500


@pytest.fixture(autouse=True)
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's log keeps only its newest WINDOW frames and WINDOW_BYTES of payload (and lets go of more
    beyond twice that)."""
    monkeypatch.setattr(replayer_module, "WINDOW_FRAMES", WINDOW, raising=False)
    monkeypatch.setattr(replayer_module, "WINDOW_BYTES", WINDOW_BYTES, raising=False)


def _held(controller: ReplayController) -> int:
    return len(controller.log) - controller.log.first_held


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_a_flood_during_a_last_wait_leaves_memory(qtbot: Any, peer: Callable[..., str], engine: str, kind: str):
    """Nothing reads what arrives during a fixed wait that ends the test: a run not recorded holds only its
    newest frames, within the window's frames and bytes, while far more arrive."""
    # small texts stay in the log's tail, which the window cuts anywhere; each large binary payload is a block of
    # its own: either way the window is kept to the frame (a block the window starts in stays whole)
    count = FLOOD if kind == "text" else 200
    payload: str | bytes = "x" * 10 if kind == "text" else bytes(64 * 1024)  # 12.5 MiB of binary in all

    async def floods(ws: Any) -> None:
        for _ in range(count):
            await ws.send(payload)
        async for _ in ws:
            pass

    controller = ReplayController(Scenario("flood", peer(floods), (WaitStep(seconds=600),)), engine=engine)
    finished: list[RunResult] = []
    controller.finished.connect(finished.append)
    controller.start()
    log = controller.log
    qtbot.waitUntil(lambda: log.frames_in >= count and _held(controller) <= 2 * WINDOW
                    and log.payload_bytes <= 2 * WINDOW_BYTES, timeout=WAIT_MS)
    assert log.first_held > 0 and log.dropped == range(0, log.first_held)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        controller.cancel("the test is over")
    assert finished and controller.done
    controller.deleteLater()


def bursts(release: asyncio.Event) -> Callable[[Any], Any]:
    """On "go": a burst and "sep"; on "next": "early", a burst and "last"; once ``release`` is set: "after"."""

    async def handler(ws: Any) -> None:
        await ws.recv()
        for index in range(BURST):
            await ws.send(f"a{index}")
        await ws.send("sep")
        await ws.recv()
        await ws.send("early")
        for index in range(BURST):
            await ws.send(f"b{index}")
        await ws.send("last")
        await release.wait()
        await ws.send("after")
        async for _ in ws:
            pass

    return handler


STEPS = (
    SendStep(TextPayload("go")),
    WaitStep(until=TextMatcher("sep"), timeout_s=30),
    SendStep(TextPayload("next")),
    WaitStep(seconds=0.2),  # nothing reads meanwhile: "early" and the burst after it wait in the log
    ExpectStep(TextMatcher("early")),
    WaitStep(until=TextMatcher("last"), timeout_s=30),
    ExpectStep(TextMatcher("after"), timeout_s=30),
)


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "not-recorded"])
@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_steps_match_messages_that_arrived_long_before_while_the_window_lets_go_of_the_rest(
        qtbot: Any, peer: Callable[..., str], store: Store, engine: str, recorded: bool):
    release = asyncio.Event()
    test = Scenario("bursts", peer(bursts(release)), STEPS)
    controller = ReplayController(test, engine=engine, store=store if recorded else None, replay_of="bursts")
    log, inbox = controller.log, controller.inbox
    unread_let_go: list[tuple[int, int]] = []

    def check(_first: int, _last: int) -> None:
        if log.first_held > inbox.unread:
            unread_let_go.append((log.first_held, inbox.unread))

    controller.frames_appended.connect(check)
    finished: list[RunResult] = []
    controller.finished.connect(finished.append)
    controller.start()
    # the last step waits: everything before it was read, and the window holds only the newest frames (and, of
    # a recorded run, the small chunk the next save writes again, however many frames came after the window)
    slack = OPEN_FRAMES if recorded else 0
    qtbot.waitUntil(lambda: controller.replay.current == len(STEPS) - 1 and log.first_held > 0
                    and _held(controller) <= 2 * WINDOW + slack, timeout=WAIT_MS)
    assert len(log) > 2 * BURST
    release.set()
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    [result] = finished
    assert result.ok, result.steps
    assert unread_let_go == []
    incoming = [m.payload for m in log.iter_messages() if m.direction is Direction.IN]
    if recorded:
        # what left memory is read back from the recording
        assert log.dropped == range(0)
        assert incoming == [*(f"a{i}".encode() for i in range(BURST)), b"sep", b"early",
                            *(f"b{i}".encode() for i in range(BURST)), b"last", b"after"]
        record = store.session(controller.session_id or -1)
        assert record is not None and len(StoredSession(store, record)) == len(log)
    else:
        assert log.dropped == range(0, log.first_held) and incoming[-1] == b"after"
    controller.deleteLater()
