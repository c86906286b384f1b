"""STOMP 1.2 (1.1 and 1.0 as the server answers) over WebSocket.

``CONNECT`` offers heart-beating ``cx,cy`` (what we can send, what we want); the server's ``CONNECTED`` answers
``sx,sy``. We then send an end-of-line at least every max(cx, sy) ms when nothing else went (0 when either is 0),
and expect something from the server every max(sx, cy) ms (the server is called silent after twice that). Every
verb may ask for a receipt: the ``RECEIPT`` is matched to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from wsinspector.core.decoders.stomp import parse_frames
from wsinspector.core.protocols.base import Outgoing, ProtocolError, ProtocolSession, Verb, VerbField, brief

_RECEIPT = VerbField("receipt", "bool", default=False, help="ask the broker for a receipt")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", ":": "\\c"}


def _escape(value: str) -> str:
    return "".join(_ESCAPES.get(char, char) for char in value)


def encode_frame(command: str, headers: list[tuple[str, str]], body: bytes = b"", escape: bool = True) -> bytes:
    """One STOMP frame; header values escaped as 1.1 and 1.2 say (never in CONNECT); a body gets its
    content-length."""
    lines = [command]
    for name, value in headers:
        if escape:
            name, value = _escape(name), _escape(value)
        elif "\n" in name + value or "\r" in name + value:
            raise ProtocolError(f"the {command} header {name} cannot hold a line break")
        lines.append(f"{name}:{value}")
    if body:
        lines.append(f"content-length:{len(body)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body + b"\0"


class StompSession(ProtocolSession):
    name: ClassVar[str] = "stomp"
    title: ClassVar[str] = "STOMP"
    subprotocols: ClassVar[tuple[str, ...]] = ("v12.stomp", "v11.stomp", "v10.stomp")
    VERBS: ClassVar[tuple[Verb, ...]] = (
        Verb("subscribe", "Subscribe", (
            VerbField("destination", "text", required=True, help="e.g. /topic/prices"),
            VerbField("id", "text", help="the subscription id (made up when empty)"),
            VerbField("ack", "choice", default="auto", choices=("auto", "client", "client-individual")),
            _RECEIPT)),
        Verb("unsubscribe", "Unsubscribe", (VerbField("id", "text", required=True), _RECEIPT)),
        Verb("send", "Send", (
            VerbField("destination", "text", required=True),
            VerbField("body", "text", default=""),
            VerbField("content_type", "text", default="text/plain"),
            VerbField("headers", "json", help="more headers, a JSON object"),
            _RECEIPT)),
        Verb("ack", "Acknowledge a message", (VerbField("id", "text", required=True), _RECEIPT)),
        Verb("nack", "Refuse a message", (VerbField("id", "text", required=True), _RECEIPT)),
        Verb("disconnect", "Disconnect", (VerbField("receipt", "bool", default=True),)),
    )

    def __init__(self, host: str = "/", login: str = "", passcode: str = "",
                 heart_beat: tuple[int, int] = (10000, 10000), headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__()
        self.host = host
        self.login = login
        self.passcode = passcode
        self.heart_beat = heart_beat
        self.extra_headers = headers
        self.connected: dict[str, str] = {}
        self.version = ""
        self.send_every_s = 0.0
        self.expect_every_s = 0.0
        self._last_sent = 0.0
        self._last_received = 0.0
        self._silent = False
        self._next_id = 0
        self.pending_receipts: dict[str, str] = {}
        self.subscriptions: dict[str, str] = {}

    def _start(self, now: float) -> None:
        headers = [("accept-version", "1.2,1.1,1.0"), ("host", self.host),
                   ("heart-beat", f"{self.heart_beat[0]},{self.heart_beat[1]}")]
        if self.login:
            headers += [("login", self.login), ("passcode", self.passcode)]
        headers += list(self.extra_headers)
        self._frame("CONNECT", headers, escape=False)

    def _frame(self, command: str, headers: list[tuple[str, str]], body: bytes = b"", escape: bool = True,
               receipt: bool = False, what: str = "") -> str:
        ref = ""
        if receipt:
            ref = f"receipt-{self._next_id}"
            self._next_id += 1
            headers = [*headers, ("receipt", ref)]
            self.pending_receipts[ref] = what or command
        self._out.append(Outgoing(encode_frame(command, headers, body, escape), True))
        return ref

    def note_sent(self, now: float) -> None:
        self._last_sent = now

    def _receive(self, payload: bytes, text: bool, now: float) -> None:
        self._last_received = now
        self._silent = False
        for frame in parse_frames(payload):
            self._frame_in(frame, now)

    def _frame_in(self, frame: dict[str, Any], now: float) -> None:
        command = frame["command"]
        if command == "HEARTBEAT":
            return
        headers: dict[str, str] = {}
        for name, value in frame["headers"]:
            headers.setdefault(name, value)
        body = frame["body"]
        if command == "CONNECTED":
            self._connected(headers, now)
        elif command == "MESSAGE":
            self.event("data", f"MESSAGE {headers.get('destination', '?')} {brief(body)}",
                       destination=headers.get("destination", ""), subscription=headers.get("subscription", ""),
                       ack=headers.get("ack", headers.get("message-id", "")), headers=headers, body=body)
        elif command == "RECEIPT":
            ref = headers.get("receipt-id", "")
            what = self.pending_receipts.pop(ref, None)
            if what is None:
                self.event("error", f"STOMP: a RECEIPT {ref!r} for nothing we asked", receipt=ref)
            else:
                self.event("ack", f"receipt {ref} for {what}", receipt=ref, what=what)
                if what == "DISCONNECT":
                    self.closed = True
        elif command == "ERROR":
            self.event("error", f"STOMP ERROR: {headers.get('message', '')} {brief(body)}".strip(), headers=headers,
                       body=body)
        else:
            self.event("error", f"STOMP: a {command} frame from the server", command=command)

    def _connected(self, headers: dict[str, str], now: float) -> None:
        self.connected = headers
        self.version = headers.get("version", "1.0")
        sx, sy = _heart_beat(headers.get("heart-beat", "0,0"))
        cx, cy = self.heart_beat
        self.send_every_s = (max(cx, sy) / 1000) if cx and sy else 0.0
        self.expect_every_s = (max(sx, cy) / 1000) if sx and cy else 0.0
        self.event("connected", f"connected: STOMP {self.version}, heart-beats out every "
                                f"{self.send_every_s:g} s, in every {self.expect_every_s:g} s",
                   version=self.version, headers=headers)

    def next_deadline(self) -> float | None:
        if self.closed or not self.connected:
            return None
        deadlines = []
        if self.send_every_s:
            deadlines.append(self._last_sent + self.send_every_s)
        if self.expect_every_s and not self._silent:
            deadlines.append(self._last_received + 2 * self.expect_every_s)
        return min(deadlines) if deadlines else None

    def _tick(self, now: float) -> None:
        if self.send_every_s and now >= self._last_sent + self.send_every_s:
            self.send_text("\n")
            self._last_sent = now
        if self.expect_every_s and not self._silent and now >= self._last_received + 2 * self.expect_every_s:
            self._silent = True
            self.event("error", f"STOMP: nothing from the broker for {2 * self.expect_every_s:g} s "
                                f"(heart-beats every {self.expect_every_s:g} s were agreed)")

    # -- verbs ---------------------------------------------------------------------------------------

    def subscribe(self, destination: str, id: str = "", ack: str = "auto", receipt: bool = False) -> str:
        if not destination:
            raise ProtocolError("subscribe needs a destination")
        if not id:
            id = f"sub-{self._next_id}"
            self._next_id += 1
        self.subscriptions[id] = destination
        ref = self._frame("SUBSCRIBE", [("id", id), ("destination", destination), ("ack", ack)], receipt=receipt,
                          what=f"SUBSCRIBE {destination}")
        return ref or id

    def verb_subscribe(self, now: float, destination: str, id: str, ack: str, receipt: bool) -> str:
        return self.subscribe(destination, id or "", ack, receipt)

    def verb_unsubscribe(self, now: float, id: str, receipt: bool) -> str:
        self.subscriptions.pop(id, None)
        return self._frame("UNSUBSCRIBE", [("id", id)], receipt=receipt, what=f"UNSUBSCRIBE {id}")

    def send(self, destination: str, body: str | bytes = "", content_type: str = "text/plain",
             headers: dict[str, Any] | None = None, receipt: bool = False) -> str:
        if not destination:
            raise ProtocolError("send needs a destination")
        if headers is not None and not isinstance(headers, dict):
            raise ProtocolError("send: headers must be a JSON object")
        extra = [(str(name), str(value)) for name, value in (headers or {}).items()]
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        wanted = [("destination", destination), *([("content-type", content_type)] if content_type else []), *extra]
        return self._frame("SEND", wanted, raw, receipt=receipt, what=f"SEND {destination}")

    def verb_send(self, now: float, destination: str, body: str, content_type: str, headers: Any,
                  receipt: bool) -> str:
        return self.send(destination, body, content_type, headers, receipt)

    def verb_ack(self, now: float, id: str, receipt: bool) -> str:
        return self._frame("ACK", [("id" if self.version == "1.2" else "message-id", id)], receipt=receipt,
                           what=f"ACK {id}")

    def verb_nack(self, now: float, id: str, receipt: bool) -> str:
        return self._frame("NACK", [("id" if self.version == "1.2" else "message-id", id)], receipt=receipt,
                           what=f"NACK {id}")

    def verb_disconnect(self, now: float, receipt: bool) -> str:
        return self._frame("DISCONNECT", [], receipt=receipt)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "subscribe": self.verb_subscribe,
            "unsubscribe": self.verb_unsubscribe,
            "send": self.verb_send,
            "ack": self.verb_ack,
            "nack": self.verb_nack,
            "disconnect": self.verb_disconnect,
        }


def _heart_beat(value: str) -> tuple[int, int]:
    first, _, second = value.partition(",")
    try:
        return max(0, int(first.strip() or 0)), max(0, int(second.strip() or 0))
    except ValueError:
        raise ProtocolError(f"the broker's heart-beat header {value!r} is not two numbers") from None
