"""A protocol session spoken over a real WebSocket (the `websockets` client) as the app's driver does: what
arrives goes to the session with the time, what it answers is sent, and its deadline wakes it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import connect

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.protocols.base import Invoked, Outgoing, ProtocolEvent, ProtocolSession


class Speaker:
    def __init__(self, session: ProtocolSession, url: str, subprotocols: list[str] | None = None) -> None:
        self.session = session
        self.url = url
        self.subprotocols = subprotocols
        self.events: list[ProtocolEvent] = []
        self.sent: list[bytes] = []
        self.received: list[bytes] = []
        #: every message both ways in order, as a recorded session has them: (ts_ns, direction, opcode, payload)
        self.recorded: list[tuple[int, Direction, Opcode, bytes]] = []
        self.started_ns = 0
        self.ws: Any = None

    def _record(self, direction: Direction, text: bool, payload: bytes) -> None:
        self.recorded.append((time.time_ns(), direction, Opcode.TEXT if text else Opcode.BINARY, payload))

    async def __aenter__(self) -> Speaker:
        self.ws = await connect(self.url, subprotocols=self.subprotocols, open_timeout=10, compression=None)
        self.started_ns = time.time_ns()
        await self._send(self.session.start(time.monotonic()))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def _send(self, messages: Any) -> None:
        for message in messages:
            assert isinstance(message, Outgoing)
            self.sent.append(message.payload)
            self._record(Direction.OUT, message.text, message.payload)
            await self.ws.send(message.payload.decode() if message.text else message.payload)
        self.events += self.session.drain_events()

    async def invoke(self, verb: str, **fields: Any) -> Invoked:
        invoked = self.session.invoke(verb, time.monotonic(), **fields)
        await self._send(invoked.messages)
        return invoked

    def of(self, kind: str) -> list[ProtocolEvent]:
        return [event for event in self.events if event.kind == kind]

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Speak until ``condition`` holds (AssertionError after ``timeout`` s)."""
        end = time.monotonic() + timeout
        while not condition():
            now = time.monotonic()
            assert now < end, f"not within {timeout} s; events: {[e.text for e in self.events]}"
            deadline = self.session.next_deadline()
            wait = end - now if deadline is None else max(0.0, min(end, deadline) - now)
            try:
                message = await asyncio.wait_for(self.ws.recv(), wait)
            except TimeoutError:
                await self._send(self.session.tick(time.monotonic()))
                continue
            raw = message.encode() if isinstance(message, str) else bytes(message)
            self.received.append(raw)
            self._record(Direction.IN, isinstance(message, str), raw)
            await self._send(self.session.receive(raw, isinstance(message, str), time.monotonic()))
