"""Phoenix channels, the V2 JSON serializer (``vsn=2.0.0``): each frame is ``[join_ref, ref, topic, event,
payload]``. Replies (``phx_reply``) carry ``{"status": ..., "response": ...}``."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView, short


def parse_message(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc.msg} at character {exc.pos + 1}") from None
    if not isinstance(value, list) or len(value) != 5:
        raise DecodeError("a Phoenix V2 message is an array of 5: [join_ref, ref, topic, event, payload]")
    join_ref, ref, topic, event, payload = value
    for name, item in (("join_ref", join_ref), ("ref", ref)):
        if item is not None and not isinstance(item, str | int):
            raise DecodeError(f"its {name} must be a string or null")
    if not isinstance(topic, str) or not isinstance(event, str):
        raise DecodeError("its topic and event must be strings")
    return {"join_ref": join_ref, "ref": ref, "topic": topic, "event": event, "payload": payload}


class PhoenixDecoder(Decoder):
    """Phoenix channels over WebSocket (V2 JSON serializer)."""

    name: ClassVar[str] = "phoenix"
    title: ClassVar[str] = "Phoenix channels"
    priority: ClassVar[int] = 30
    url_patterns: ClassVar[tuple[str, ...]] = (r"/websocket/?\?(?:[^#]*&)?vsn=2\.",)

    def sniff(self, frame: FrameView) -> bool:
        if not frame.text or not frame.payload.startswith(b"["):
            return False
        try:
            message = parse_message(frame.payload.decode("utf-8"))
        except (DecodeError, UnicodeDecodeError):
            return False
        return str(message["event"]).startswith("phx_") or message["topic"] == "phoenix"

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        message = parse_message(frame.as_text())
        event, topic, payload = message["event"], message["topic"], message["payload"]
        fields = {"topic": topic, "event": event, "type": event}
        if message["ref"] is not None:
            fields["ref"] = str(message["ref"])
        if event == "phx_reply" and isinstance(payload, dict):
            status = payload.get("status", "?")
            fields["status"] = str(status)
            summary = f"phx_reply {topic} {status} ref={message['ref']} {short(payload.get('response'), 80)}"
        elif event == "heartbeat":
            summary = f"heartbeat ref={message['ref']}"
        else:
            summary = f"{event} {topic} {short(payload, 90)}"
        return Decoded(self.name, summary, message, fields)
