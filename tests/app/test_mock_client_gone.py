"""A client that closes (or is closed by the server stopping) while a rule's answer or a periodic push is still
to come: nothing more can be sent to it, and that is no problem of the rules file, so the mock says none (a
``problem`` line is for rules that ask for what cannot be done)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from tests.net.served import RawClient, client_frame
from wsinspector.app.mock import MockServer
from wsinspector.app.server import ServerController
from wsinspector.core.mock.yaml_io import load_rules

RULES = """\
version: 1
rules:
  - match: {text: later}
    delay: 0.05
    do: {text: "too late"}
  - match: {any: true}
    do: {echo: true}
every:
  - interval: 0.02
    do: {text: tick}
"""


def test_a_client_closing_with_answers_still_due_is_no_problem(qtbot: Any, run: Callable[..., Any]) -> None:
    controller = ServerController(None, name="Mock")
    mock = MockServer(controller, load_rules(RULES))
    problems: list[str] = []
    mock.problem.connect(problems.append)
    controller.listen("127.0.0.1", 0)
    port = controller.server.port
    try:
        async def message_and_close_at_once() -> int:
            raw = await RawClient.connect(port)
            await raw.upgrade(port)
            # a message and the close in one packet: the close is read before the echo can go out
            await raw.send(client_frame(0x1, b"later") + client_frame(0x1, b"echo me")
                           + client_frame(0x8, struct.pack("!H", 1000)))
            while (frame := await raw.frame()).opcode != 0x8:
                pass
            raw.close()
            return int(struct.unpack("!H", frame.payload[:2])[0])

        with qtbot.waitSignal(controller.client_ended, timeout=10_000):
            assert run(message_and_close_at_once()) == 1000
        # the delayed answer and the next tick come due after the client is gone
        qtbot.waitUntil(lambda: not mock.clients, timeout=10_000)
        assert problems == []
    finally:
        controller.stop()
        mock.deleteLater()
        controller.deleteLater()
