"""ASP.NET Core SignalR, the JSON hub protocol: each message is a JSON object ended by the record separator 0x1E.

The session sends the handshake ``{"protocol":"json","version":1}\\x1e`` and waits for ``{}`` (or an error);
``invoke`` gets an invocation id whose ``Completion`` (type 3) is matched to it, ``send`` none, ``stream`` a
StreamInvocation (type 4) whose items (type 2) and completion come back. A ping (type 6) goes out whenever
nothing was sent for the keep-alive interval (15 s, as the clients do); the server is called silent after its
timeout (30 s) without a message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from wsinspector.core.decoders.signalr import RECORD_SEPARATOR, split_json
from wsinspector.core.protocols.base import ProtocolError, ProtocolSession, Verb, VerbField, brief, text_of

HANDSHAKE = '{"protocol":"json","version":1}' + RECORD_SEPARATOR
_CALL = (VerbField("target", "text", required=True), VerbField("arguments", "json", default=[]))


def record(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False) + RECORD_SEPARATOR


class SignalRSession(ProtocolSession):
    name: ClassVar[str] = "signalr"
    title: ClassVar[str] = "SignalR"
    VERBS: ClassVar[tuple[Verb, ...]] = (
        Verb("invoke", "Invoke (with an answer)", _CALL),
        Verb("send", "Send (no answer)", _CALL),
        Verb("stream", "Stream", _CALL),
        Verb("cancel", "Cancel a stream", (VerbField("id", "text", required=True),)),
    )

    def __init__(self, keep_alive_s: float = 15.0, server_timeout_s: float = 30.0) -> None:
        super().__init__()
        self.keep_alive_s = keep_alive_s
        self.server_timeout_s = server_timeout_s
        self.handshaken = False
        self._last_sent = 0.0
        self._last_received = 0.0
        self._silent = False
        self._next_id = 0
        self.pending: dict[str, str] = {}

    def _start(self, now: float) -> None:
        self.send_text(HANDSHAKE)
        self._last_received = now

    def note_sent(self, now: float) -> None:
        self._last_sent = now

    def _receive(self, payload: bytes, text: bool, now: float) -> None:
        if not text:
            raise ProtocolError("a binary message: this session speaks the JSON protocol")
        self._last_received = now
        self._silent = False
        for message in split_json(text_of(payload)):
            self._message(message)

    def _message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind is None:
            if message.get("error"):
                self.event("error", f"SignalR handshake refused: {message['error']}")
            elif not self.handshaken:
                self.handshaken = True
                self.event("connected", "handshake done (JSON protocol, version 1)")
            return
        ident = message.get("invocationId")
        if kind == 1:
            self.event("event", f"{message.get('target')} {brief(message.get('arguments', []))}",
                       event=message.get("target", ""), args=message.get("arguments", []), id=ident)
        elif kind == 2:
            self.event("data", f"stream {ident} item {brief(message.get('item'))}", id=ident, item=message.get("item"))
        elif kind == 3:
            what = self.pending.pop(str(ident), None)
            if "error" in message:
                self.event("error", f"{what or 'invocation ' + str(ident)} failed: {message['error']}", id=ident)
            else:
                self.event("ack", f"completion {ident} for {what or '?'}: {brief(message.get('result'))}", id=ident,
                           result=message.get("result"), what=what)
        elif kind == 6:
            pass
        elif kind == 7:
            self.closed = True
            why = f": {message['error']}" if message.get("error") else ""
            self.event("closed", f"the server closed the hub{why}")
        else:
            self.event("error", f"SignalR: a message of type {kind} from the server", type=kind)

    def next_deadline(self) -> float | None:
        if not self.handshaken or self.closed:
            return None
        deadlines = [self._last_sent + self.keep_alive_s]
        if not self._silent:
            deadlines.append(self._last_received + self.server_timeout_s)
        return min(deadlines)

    def _tick(self, now: float) -> None:
        if not self.handshaken:
            return
        if now >= self._last_sent + self.keep_alive_s:
            self.send_text(record({"type": 6}))
        if not self._silent and now >= self._last_received + self.server_timeout_s:
            self._silent = True
            self.event("error", f"SignalR: nothing from the server for {self.server_timeout_s:g} s")

    # -- verbs ---------------------------------------------------------------------------------------

    def _call(self, kind: int, target: str, arguments: Any, answered: bool) -> str:
        if not target:
            raise ProtocolError("a hub method's name (target) is needed")
        if not isinstance(arguments, list):
            arguments = [] if arguments is None else [arguments]
        message: dict[str, Any] = {"type": kind, "target": target, "arguments": arguments}
        ident = ""
        if answered:
            ident = str(self._next_id)
            self._next_id += 1
            message["invocationId"] = ident
            self.pending[ident] = f"{target}"
        self.send_text(record(message))
        return ident

    def verb_invoke(self, now: float, target: str, arguments: Any) -> str:
        return self._call(1, target, arguments, True)

    def verb_send(self, now: float, target: str, arguments: Any) -> str:
        return self._call(1, target, arguments, False)

    def verb_stream(self, now: float, target: str, arguments: Any) -> str:
        return self._call(4, target, arguments, True)

    def verb_cancel(self, now: float, id: str) -> None:
        self.pending.pop(id, None)
        self.send_text(record({"type": 5, "invocationId": id}))

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "invoke": self.verb_invoke,
            "send": self.verb_send,
            "stream": self.verb_stream,
            "cancel": self.verb_cancel,
        }
