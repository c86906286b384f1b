"""Phoenix channels, the V2 JSON serializer: ``[join_ref, ref, topic, event, payload]``.

``join`` sends ``phx_join`` (its ref is the channel's join_ref from then on), ``leave`` ``phx_leave``, ``push``
an event on a joined topic; each ``phx_reply`` is matched to what it answers by its ref. A heartbeat
(``[null, ref, "phoenix", "heartbeat", {}]``) goes every interval (30 s, as phoenix.js); one still unanswered
at the next heartbeat means the server is gone."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from wsinspector.core.decoders.phoenix import parse_message
from wsinspector.core.protocols.base import ProtocolError, ProtocolSession, Verb, VerbField, brief, text_of

_TOPIC = VerbField("topic", "text", required=True, help="e.g. room:lobby")


class PhoenixSession(ProtocolSession):
    name: ClassVar[str] = "phoenix"
    title: ClassVar[str] = "Phoenix"
    VERBS: ClassVar[tuple[Verb, ...]] = (
        Verb("join", "Join a topic", (_TOPIC, VerbField("payload", "json", default={}))),
        Verb("leave", "Leave a topic", (_TOPIC,)),
        Verb("push", "Push an event", (_TOPIC, VerbField("event", "text", required=True),
                                        VerbField("payload", "json", default={}))),
    )

    def __init__(self, heartbeat_s: float = 30.0) -> None:
        super().__init__()
        self.heartbeat_s = heartbeat_s
        self._ref = 0
        self.joined: dict[str, str] = {}  # topic -> join_ref
        self.pending: dict[str, str] = {}  # ref -> what it answers
        self._next_beat: float | None = None
        self._beat_ref: str | None = None

    def _start(self, now: float) -> None:
        self._next_beat = now + self.heartbeat_s

    def _next_ref(self) -> str:
        self._ref += 1
        return str(self._ref)

    def _send(self, join_ref: str | None, ref: str, topic: str, event: str, payload: Any) -> None:
        self.send_text(json.dumps([join_ref, ref, topic, event, payload], separators=(",", ":"), ensure_ascii=False))

    def _receive(self, payload: bytes, text: bool, now: float) -> None:
        if not text:
            raise ProtocolError("a binary message: this session speaks the V2 JSON serializer")
        message = parse_message(text_of(payload))
        topic, event, ref, body = message["topic"], message["event"], message["ref"], message["payload"]
        ref = None if ref is None else str(ref)
        if event == "phx_reply":
            if ref is not None and ref == self._beat_ref:
                self._beat_ref = None
                return
            what = self.pending.pop(ref or "", None)
            status = body.get("status") if isinstance(body, dict) else None
            response = body.get("response") if isinstance(body, dict) else body
            if what is None:
                self.event("error", f"Phoenix: a reply {ref} to nothing we sent", ref=ref)
                return
            if what.startswith("join ") and status != "ok":
                self.joined.pop(topic, None)
            self.event("ack" if status == "ok" else "error", f"{status} for {what}: {brief(response)}", ref=ref,
                       status=status, response=response, what=what, topic=topic)
        elif event in ("phx_error", "phx_close"):
            self.joined.pop(topic, None)
            self.event("error" if event == "phx_error" else "closed", f"{event} on {topic}", topic=topic)
        else:
            self.event("event", f"{topic} {event} {brief(body)}", topic=topic, event=event, payload=body)

    def next_deadline(self) -> float | None:
        return None if self.closed else self._next_beat

    def _tick(self, now: float) -> None:
        if self._next_beat is None or now < self._next_beat:
            return
        if self._beat_ref is not None:
            self.closed = True
            self.event("error", f"Phoenix: heartbeat {self._beat_ref} unanswered for {self.heartbeat_s:g} s: "
                                "the server is gone")
            return
        self._beat_ref = self._next_ref()
        self._send(None, self._beat_ref, "phoenix", "heartbeat", {})
        self._next_beat = now + self.heartbeat_s

    # -- verbs ---------------------------------------------------------------------------------------

    def join(self, topic: str, payload: Any = None) -> str:
        ref = self._next_ref()
        self.joined[topic] = ref
        self.pending[ref] = f"join {topic}"
        self._send(ref, ref, topic, "phx_join", {} if payload is None else payload)
        return ref

    def verb_join(self, now: float, topic: str, payload: Any) -> str:
        return self.join(topic, payload)

    def verb_leave(self, now: float, topic: str) -> str:
        join_ref = self.joined.pop(topic, None)
        if join_ref is None:
            raise ProtocolError(f"not joined to {topic}")
        ref = self._next_ref()
        self.pending[ref] = f"leave {topic}"
        self._send(join_ref, ref, topic, "phx_leave", {})
        return ref

    def push(self, topic: str, event: str, payload: Any = None) -> str:
        join_ref = self.joined.get(topic)
        if join_ref is None:
            raise ProtocolError(f"join {topic} before pushing to it")
        ref = self._next_ref()
        self.pending[ref] = f"{event} on {topic}"
        self._send(join_ref, ref, topic, event, {} if payload is None else payload)
        return ref

    def verb_push(self, now: float, topic: str, event: str, payload: Any) -> str:
        return self.push(topic, event, payload)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "join": self.verb_join,
            "leave": self.verb_leave,
            "push": self.verb_push,
        }
