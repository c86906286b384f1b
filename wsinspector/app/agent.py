"""Connections opened for an agent, headless (``wsinspector mcp``): each is a :class:`ConnectionController` of
the :class:`AppContext`, as a window's tab is, driven by coroutines on the asyncio loop that runs inside Qt's
event loop (qasync). A coroutine waits for what a controller signals (opened, failed, new frames, closed) on a
future that the signal's slot completes, with a timeout; nothing polls or sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wsinspector.app.connection import ConnectionController
from wsinspector.core.copying import Item, RowReader
from wsinspector.core.events import CloseInfo, ConnectionState, Failure, OpenInfo
from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.latency import PingPayloads
from wsinspector.core.model import header

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from wsinspector.app.context import AppContext
    from wsinspector.core.profiles import ConnectionProfile

#: the longest any call may wait for the server
MAX_WAIT_S = 300.0


#: rows read between two looks at a wait's deadline: reading a flood's backlog does not hold the answer past it
DEADLINE_EVERY = 1024


class LinkError(Exception):
    """What an agent's request on a connection could not do, in one line for it."""


@dataclass
class Link:
    """One connection an agent opened: its number for the agent (``handle``) and its controller."""

    handle: int
    controller: ConnectionController
    #: a wait looks at what came from here on unless told otherwise: after the last message sent, or after the
    #: last one a wait gave
    mark: int = 0
    #: how the connection ended, once it has
    close_info: CloseInfo | None = None


class AgentLinks:
    """The connections an agent has open, by handle (1, 2, …, never reused)."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._links: dict[int, Link] = {}
        self._handles = itertools.count(1)
        self._pings = PingPayloads()
        #: the secret values of the connections closed so far (a token a login captured, say)
        self._closed_secrets: set[str] = set()

    @property
    def links(self) -> list[Link]:
        return list(self._links.values())

    @property
    def secret_values(self) -> set[str]:
        """The secret values of every connection opened here, open or closed since: never to be shown."""
        return self._closed_secrets.union(*(link.controller.secret_values for link in self._links.values()))

    def get(self, handle: int) -> Link:
        link = self._links.get(handle)
        if link is None:
            open_ = ", ".join(str(h) for h in self._links) or "none"
            raise LinkError(f"there is no open connection {handle} (open ones: {open_})")
        return link

    def live_session(self, session_id: int) -> ConnectionController | None:
        """The controller recording the session ``session_id`` now, if one of these is."""
        return next((link.controller for link in self._links.values()
                     if link.controller.session_id == session_id), None)

    async def open(self, profile: ConnectionProfile, timeout_s: float) -> tuple[Link, OpenInfo]:
        """Connect to ``profile`` (the app-wide defaults and the active environment apply, as in the window);
        LinkError says why it did not open within ``timeout_s``."""
        controller = self._context.open_controller()
        link = Link(0, controller)  # its handle once it is open: a connection that failed takes none
        outcome: asyncio.Future[OpenInfo] = asyncio.get_running_loop().create_future()

        def opened(info: OpenInfo) -> None:
            if not outcome.done():
                outcome.set_result(info)

        def failed(failure: Failure) -> None:
            if not outcome.done():
                outcome.set_exception(LinkError(failure.message))

        controller.closed.connect(lambda info: setattr(link, "close_info", info))
        with _connected(controller.opened, opened), _connected(controller.failed, failed):
            try:
                controller.connect_to(profile)
                info = await _within(outcome, timeout_s, "the connection did not open")
            except BaseException:
                self._forget(link)
                raise
        link.handle = next(self._handles)
        self._links[link.handle] = link
        return link, info

    def send(self, link: Link, data: bytes, is_text: bool) -> int:
        """Send one message; its seq in the session."""
        controller = self._require_open(link)
        link.mark = seq = len(controller.log)
        try:
            controller.send(data, is_text)
        except (RuntimeError, ValueError) as exc:
            raise LinkError(str(exc)) from None
        return seq

    async def wait_for(self, link: Link, flt: FrameFilter, after: int | None, timeout_s: float) -> Item:
        """The first message (or control frame) after the seq ``after`` that ``flt`` lets through, waiting for
        it up to ``timeout_s``. ``after`` None: from the link's mark on (after the last message sent, or the
        last one a wait gave). LinkError when the time is up or the connection ends first."""
        match = flt.matcher()
        reader = RowReader(link.controller.log, first=link.mark if after is None else after + 1)
        found = await self._first(link, lambda item: match(header.kind(item.direction, item.opcode), item.payload),
                                  reader, timeout_s, "no matching message came")
        link.mark = max(link.mark, found.seq + 1)
        return found

    async def ping(self, link: Link, timeout_s: float) -> tuple[Item, int]:
        """Send a ping of our own and wait for its pong: the pong and the round trip in ns, as the session's
        latency matcher measured it (from the frames' time stamps)."""
        controller = self._require_open(link)
        payload = self._pings.next_payload()
        reader = RowReader(controller.log, first=len(controller.log))
        try:
            controller.ping(payload)
        except (RuntimeError, ValueError) as exc:
            raise LinkError(str(exc)) from None
        pong = await self._first(link, lambda item: item.opcode is Opcode.PONG and item.direction is Direction.IN
                                 and item.payload == payload, reader, timeout_s, "no pong came")
        rtt = controller.log.rtt_ns(pong.seq)
        if rtt is None:
            raise LinkError("the pong answered no ping of ours")
        return pong, rtt

    async def close(self, link: Link, code: int, reason: str, timeout_s: float) -> CloseInfo | None:
        """Close the connection (``code`` and ``reason`` in our close frame) and wait for it to end; what was
        recorded is saved and the handle is forgotten. How it ended (None: it did not end within ``timeout_s``
        and was cut)."""
        controller = link.controller
        if controller.state is not ConnectionState.CLOSED:
            try:
                controller.disconnect(code, reason)
            except ValueError as exc:  # a code or reason a client may not send: the connection stays
                raise LinkError(str(exc)) from None
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def state(value: ConnectionState) -> None:
            if value is ConnectionState.CLOSED and not ended.done():
                ended.set_result(None)

        try:
            with _connected(controller.state_changed, state):
                if controller.state is not ConnectionState.CLOSED:
                    await asyncio.wait([ended], timeout=min(max(timeout_s, 0.0), MAX_WAIT_S))
        finally:
            self._forget(link)  # a connection still closing is cut here
        return link.close_info

    async def close_all(self, code: int, reason: str, timeout_s: float) -> None:
        """Close every open connection with ``code`` and ``reason``, together, waiting ``timeout_s`` at most."""
        await asyncio.gather(*(self.close(link, code, reason, timeout_s) for link in self.links),
                             return_exceptions=True)

    def shutdown(self) -> None:
        for link in self.links:
            self._forget(link)

    def _forget(self, link: Link) -> None:
        """The link's controller ended (what it recorded saved) and its handle forgotten; its secrets kept."""
        self._closed_secrets |= link.controller.secret_values
        self._links.pop(link.handle, None)
        self._context.close_controller(link.controller)

    def _require_open(self, link: Link) -> ConnectionController:
        if not link.controller.is_open:
            raise LinkError(f"connection {link.handle} is not open ({_ended(link)})")
        return link.controller

    async def _first(self, link: Link, wanted: Callable[[Item], bool], reader: RowReader, timeout_s: float,
                     what: str) -> Item:
        """The first row ``reader`` gives that is ``wanted``, read again each time frames come."""
        controller = link.controller
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout_s, 0.0), MAX_WAIT_S)
        while True:
            found = None
            for count, item in enumerate(reader.read(), 1):  # read to the end, so the next read starts after it
                if found is None and wanted(item):
                    found = item
                if found is None and count % DEADLINE_EVERY == 0 and loop.time() >= deadline:
                    raise LinkError(f"{what} within {_seconds(timeout_s)}")  # a flood's backlog read no further
            if found is not None:
                return found
            if controller.state is ConnectionState.CLOSED and not controller.is_reconnecting:
                raise LinkError(f"{what}: connection {link.handle} ended first ({_ended(link)})")
            left = deadline - loop.time()
            if left <= 0:
                raise LinkError(f"{what} within {_seconds(timeout_s)}")
            changed: asyncio.Future[None] = loop.create_future()

            def wake(*_args: Any, changed: asyncio.Future[None] = changed) -> None:
                if not changed.done():
                    changed.set_result(None)

            with _connected(controller.frames_arrived, wake), _connected(controller.state_changed, wake):
                await asyncio.wait([changed], timeout=left)


async def _within(future: asyncio.Future[Any], timeout_s: float, what: str) -> Any:
    try:
        return await asyncio.wait_for(future, min(max(timeout_s, 0.0), MAX_WAIT_S))
    except TimeoutError:
        raise LinkError(f"{what} within {_seconds(timeout_s)}") from None


@contextmanager
def _connected(signal: SignalInstance, slot: Callable[..., None]) -> Iterator[None]:
    signal.connect(slot)
    try:
        yield
    finally:
        signal.disconnect(slot)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _ended(link: Link) -> str:
    info = link.close_info
    if info is not None:
        return info.message
    return "it has closed" if link.controller.state is ConnectionState.CLOSED else "it is not open yet"
