"""What the test-file tests share: the documented example, a test with every kind of step, a fake peer."""

from __future__ import annotations

import re
from pathlib import Path

from wsinspector.core.frames import Opcode
from wsinspector.core.scenario.model import (
    BinaryPayload,
    BytesMatcher,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    OpcodeMatcher,
    RegexMatcher,
    Scenario,
    SendStep,
    TextMatcher,
    TextPayload,
    WaitStep,
)
from wsinspector.core.scenario.run import Finished, Replay, SendAction
from wsinspector.core.scenario.verdict import RunResult

ROOT = Path(__file__).resolve().parents[3]


def docs_example() -> str:
    text = (ROOT / "docs" / "test-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks, "docs/test-format.md has no yaml example"
    return str(blocks[0])


def full_test() -> Scenario:
    return Scenario(
        name="Everything",
        url="wss://{{host}}/ws",
        variables=(("host", "example.com"), ("user", "ann"), ("port", "8080")),
        subprotocols=("chat.v2", "{{proto}}"),
        headers=(("Authorization", "Bearer {{token}}"), ("X-Empty", "")),
        timeout_s=2.5,
        steps=(
            SendStep(JsonPayload({"op": "login", "user": "{{user}}", "n": [1, 2.5, -3e-7, True, None, {}, []]}),
                       delay_s=None, name="log in"),
            ExpectStep(JsonMatcher({"op": "welcome", "session": "x", "ts": 0}, ("$.ts", "$.items[*].id")),
                         capture=(("session_id", "$.session"), ("n", '$["odd key"][0]')), timeout_s=1.0),
            SendStep(TextPayload("line one\nline two\n"), delay_s=0.25),
            SendStep(TextPayload(""), delay_s=0.0),
            SendStep(BinaryPayload(bytes(range(40)))),
            SendStep(BinaryPayload(b"")),
            ExpectStep(TextMatcher("hello {{user}}")),
            ExpectStep(BytesMatcher(b"\x00\xff")),
            ExpectStep(RegexMatcher(r"^pong \d+$"), name="pong"),
            ExpectStep(OpcodeMatcher(Opcode.PING)),
            WaitStep(seconds=0.5),
            WaitStep(seconds=2, name="two seconds"),
            WaitStep(until=JsonMatcher({"status": "ready"}), capture=(("rid", "$.id"),), timeout_s=10),
            WaitStep(until=OpcodeMatcher(Opcode.CLOSE)),
        ),
    )


class Peer:
    """Drives a Replay on a fake clock: ``script`` maps what the test sends to what the peer answers."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.now = 100.0
        self.sent: list[tuple[float, Opcode, bytes]] = []
        self.waits: list[float] = []

    def run(self, answers: dict[bytes, list[tuple[float, Opcode, bytes]]] | None = None,
            pushes: list[tuple[float, Opcode, bytes]] | None = None) -> RunResult:
        """``answers``: on sending a payload, messages that arrive after a delay; ``pushes``: messages that arrive
        at a time after the start on their own."""
        pending = sorted((self.now + t, op, data) for t, op, data in pushes or [])
        for _ in range(1000):
            action = self.replay.poll(self.now)
            if isinstance(action, Finished):
                return action.result
            if isinstance(action, SendAction):
                self.sent.append((self.now, action.opcode, action.payload))
                for delay, op, data in (answers or {}).get(action.payload, []):
                    pending.append((self.now + delay, op, data))
                pending.sort()
                continue
            self.waits.append(action.until)
            if pending and pending[0][0] <= action.until:
                at, op, data = pending.pop(0)
                self.now = max(self.now, at)
                self.replay.on_message(op, data, at)
            else:
                self.now = action.until
        raise AssertionError("the replay does not end")
