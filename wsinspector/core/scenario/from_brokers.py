"""Recorded STOMP, MQTT, SignalR and Phoenix sessions as the steps of a test that speaks the protocol
(:mod:`.from_protocol` chooses and calls them).

- STOMP: the first ``CONNECT`` gives the options (``host``, ``login``, ``passcode`` as a variable,
  ``heart_beat``, its other headers as ``headers``, a credential among them a variable named as the header);
  SUBSCRIBE, UNSUBSCRIBE, SEND, ACK, NACK and DISCONNECT become verbs (a ``receipt`` header asks for one again);
  a MESSAGE is expected as data on its destination, a RECEIPT as the ack of what asked for it.
- MQTT: the first ``CONNECT`` gives ``client_id``, ``keep_alive``, ``version``, ``clean``, ``username`` and
  ``password`` (a variable); SUBSCRIBE (one verb per topic filter, with its QoS), UNSUBSCRIBE, PUBLISH (topic,
  payload, QoS, retain) and DISCONNECT become verbs; a PUBLISH received is expected as data on its topic with its
  QoS, a SUBACK, UNSUBACK, PUBACK or PUBCOMP as the ack of what it answers. PUBACK, PUBREC, PUBREL, PUBCOMP we
  sent, PINGREQ and PINGRESP are the session's own.
- SignalR (JSON hub protocol): an invocation with an id becomes ``invoke``, one without ``send``, a stream
  invocation ``stream``, a cancel ``cancel`` (with the id the test's session will have given it); an invocation
  from the server is expected as an event by its target, a completion as an ack with its result, a stream item
  as data on its stream's id.
- Phoenix (V2 JSON): ``phx_join`` becomes ``join`` (its payload's secrets as variables), ``phx_leave``
  ``leave``, any other event ``push``; an ``ok`` reply is expected as an ack with its response, a broadcast as an
  event by its name. Heartbeats and their replies are the session's own.

A message that does not read as the protocol raises (DecodeError, ValueError…): the test is then made of plain
messages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from ..decoders.mqtt_packets import parse_packet, split_packets
from ..decoders.phoenix import parse_message
from ..decoders.signalr import split_json
from ..decoders.stomp import parse_frames
from ..frames import Direction, Opcode
from ..redact import is_secret_field, is_secret_header
from .from_protocol import Builder, Recorded, masked

#: STOMP headers a verb's own fields say (the others of a SEND go in its ``headers``)
_SEND_OWN = frozenset({"destination", "content-type", "content-length", "receipt"})
#: CONNECT headers the session writes from its options (the others go in the ``headers`` option)
_CONNECT_OWN = frozenset({"accept-version", "host", "heart-beat", "login", "passcode"})
#: an Authorization value's scheme, kept before the variable
_SCHEME = re.compile(r"^\s*((?:Bearer|Basic|Token|Digest|ApiKey)\s+)\S", re.IGNORECASE)


def _stomp(builder: Builder, messages: Iterable[Recorded]) -> None:
    connected = False
    receipts: dict[str, str] = {}  # a recorded receipt id -> what the session will say it was for
    for ts_ns, direction, _opcode, payload in messages:  # text or binary: the frames are the same
        out = Direction(direction) is Direction.OUT
        builder.at(ts_ns)
        for frame in parse_frames(bytes(payload)):
            command = frame["command"]
            if command == "HEARTBEAT":
                continue
            headers: dict[str, str] = {}
            for name, value in frame["headers"]:
                headers.setdefault(name, value)
            if out and command in ("CONNECT", "STOMP"):
                if not connected:
                    connected = True
                    _stomp_options(builder, headers)
            elif out:
                _stomp_verb(builder, command, headers, frame["body"], receipts)
            elif command == "MESSAGE":
                builder.expect("data", frame["body"], destination=headers.get("destination", ""))
            elif command == "RECEIPT" and headers.get("receipt-id", "") in receipts:
                builder.expect("ack", receipts.pop(headers["receipt-id"]))


def _stomp_options(builder: Builder, headers: dict[str, str]) -> None:
    if "host" in headers:
        builder.options.append(("host", headers["host"]))
    if headers.get("login"):
        builder.options.append(("login", headers["login"]))
    if headers.get("passcode"):
        builder.options.append(("passcode", "{{passcode}}"))
    if "heart-beat" in headers:
        builder.options.append(("heart_beat", headers["heart-beat"].replace(" ", "")))
    extra = {name: _unsecret(name, value) for name, value in headers.items() if name not in _CONNECT_OWN}
    if extra:
        builder.options.append(("headers", json.dumps(extra, ensure_ascii=False, separators=(",", ":"))))


def _unsecret(name: str, value: str) -> str:
    """A CONNECT header's value, a credential (``Authorization: Bearer …``, ``X-Api-Key``) as a variable named
    as the header (its scheme kept)."""
    if not value or not (is_secret_header(name) or is_secret_field(name)):
        return value
    scheme = _SCHEME.match(value)
    return (scheme.group(1) if scheme else "") + "{{" + name.lower() + "}}"


def _stomp_verb(builder: Builder, command: str, headers: dict[str, str], body: Any,
                receipts: dict[str, str]) -> None:
    receipt = headers.get("receipt")
    asked = {"receipt": True} if receipt is not None else {}
    if command == "SUBSCRIBE":
        destination = headers["destination"]
        ack = headers.get("ack", "auto")
        builder.verb("subscribe", destination=destination, id=headers.get("id", ""),
                     **({"ack": ack} if ack != "auto" else {}), **asked)
        what = f"SUBSCRIBE {destination}"
    elif command == "UNSUBSCRIBE":
        builder.verb("unsubscribe", id=headers["id"], **asked)
        what = f"UNSUBSCRIBE {headers['id']}"
    elif command == "SEND":
        destination = headers["destination"]
        extra = {name: value for name, value in headers.items() if name not in _SEND_OWN}
        builder.verb("send", destination=destination, body=_stomp_body(body),
                     content_type=headers.get("content-type", ""), **({"headers": extra} if extra else {}), **asked)
        what = f"SEND {destination}"
    elif command in ("ACK", "NACK"):
        ident = headers.get("id", headers.get("message-id", ""))
        builder.verb(command.lower(), id=ident, **asked)
        what = f"{command} {ident}"
    elif command == "DISCONNECT":
        builder.verb("disconnect", receipt=receipt is not None)
        what = "DISCONNECT"
    else:
        raise ValueError(f"a STOMP client does not send {command}")
    if receipt is not None:
        receipts[receipt] = what


def _stomp_body(body: Any) -> str:
    """A SEND's body as the verb's text: a JSON body as compact JSON, bytes that are not text refused."""
    if isinstance(body, str):
        return body
    if "json" in body:
        return json.dumps(body["json"], ensure_ascii=False, separators=(",", ":"))
    raise ValueError("a STOMP body that is not text")


def _mqtt(builder: Builder, messages: Iterable[Recorded]) -> None:
    streams = {True: b"", False: b""}
    version = 4
    connected = False
    pending: dict[int, list[str]] = {}  # a recorded packet id -> what the session will say its answer is for
    for ts_ns, direction, opcode, payload in messages:
        out = Direction(direction) is Direction.OUT
        builder.at(ts_ns)
        if Opcode(opcode) is not Opcode.BINARY:
            raise ValueError("MQTT over WebSocket is binary")
        packets, streams[out], _ = split_packets(streams[out] + bytes(payload))
        for raw in packets:
            tree = parse_packet(raw, version)
            kind = tree["type"]
            if out and kind == "CONNECT":
                if not connected:
                    connected = True
                    version = tree["level"] if tree["level"] == 5 else 4
                    _mqtt_options(builder, tree, version)
            elif out:
                _mqtt_verb(builder, tree, raw, pending)
            elif kind == "PUBLISH":
                builder.expect("data", tree["payload"], topic=tree["topic"], qos=str(tree["qos"]))
            elif kind in ("SUBACK", "UNSUBACK", "PUBACK", "PUBCOMP") and tree["packet_id"] in pending:
                for what in pending.pop(tree["packet_id"]):
                    builder.expect("ack", what)


def _mqtt_options(builder: Builder, tree: dict[str, Any], version: int) -> None:
    builder.options.append(("client_id", tree["client_id"]))
    builder.options.append(("keep_alive", str(tree["keep_alive"])))
    builder.options.append(("version", str(version)))
    if not tree["clean_start"]:
        builder.options.append(("clean", "false"))
    if tree.get("username"):
        builder.options.append(("username", tree["username"]))
    if "password" in tree:
        builder.options.append(("password", "{{password}}"))


def _mqtt_verb(builder: Builder, tree: dict[str, Any], raw: bytes, pending: dict[int, list[str]]) -> None:
    kind = tree["type"]
    if kind == "SUBSCRIBE":
        for item in tree["topics"]:
            builder.verb("subscribe", topic=item["topic"], qos=str(item["qos"]))
        pending[tree["packet_id"]] = [f"SUBSCRIBE {item['topic']}" for item in tree["topics"]]
    elif kind == "UNSUBSCRIBE":
        for item in tree["topics"]:
            builder.verb("unsubscribe", topic=item["topic"])
        pending[tree["packet_id"]] = [f"UNSUBSCRIBE {item['topic']}" for item in tree["topics"]]
    elif kind == "PUBLISH":
        size = tree["size"]
        text = (raw[-size:] if size else b"").decode("utf-8")  # the payload ends the packet
        builder.verb("publish", topic=tree["topic"], payload=text, qos=str(tree["qos"]),
                     **({"retain": True} if tree["retain"] else {}))
        if tree["qos"]:
            pending[tree["packet_id"]] = [f"PUBLISH {tree['topic']}"]
    elif kind == "DISCONNECT":
        builder.verb("disconnect")
    # PUBACK, PUBREC, PUBREL, PUBCOMP, PINGREQ: the session's own answers


def _signalr(builder: Builder, messages: Iterable[Recorded]) -> None:
    ids: dict[str, str] = {}  # a recorded invocation id -> the one the test's session gives it
    for ts_ns, direction, opcode, payload in messages:
        out = Direction(direction) is Direction.OUT
        builder.at(ts_ns)
        if Opcode(opcode) is not Opcode.TEXT:
            raise ValueError("this test speaks SignalR's JSON protocol")
        for message in split_json(bytes(payload).decode("utf-8")):
            kind = message.get("type")
            if kind is None:  # the handshake and its answer
                if out and message.get("protocol", "json") != "json":
                    raise ValueError("this test speaks SignalR's JSON protocol")
                continue
            if out:
                _signalr_out(builder, message, ids)
            elif kind == 1:
                builder.expect("event", message.get("arguments", []), message["target"])
            elif kind == 2:
                builder.expect("data", message.get("item"), id=ids.get(str(message.get("invocationId")), ""))
            elif kind == 3 and "error" not in message:
                builder.expect("ack", message.get("result"))


def _signalr_out(builder: Builder, message: dict[str, Any], ids: dict[str, str]) -> None:
    kind = message["type"]
    ident = message.get("invocationId")
    if kind in (1, 4):
        fields = {"target": message["target"], "arguments": message.get("arguments", [])}
        if kind == 4 or ident is not None:
            ids[str(ident)] = str(len(ids))
            builder.verb("stream" if kind == 4 else "invoke", **fields)
        else:
            builder.verb("send", **fields)
    elif kind == 5:
        builder.verb("cancel", id=ids.get(str(ident), str(ident)))
    # pings (6) and a close (7): the session's own


def _phoenix(builder: Builder, messages: Iterable[Recorded]) -> None:
    beats: set[str] = set()  # the refs of the heartbeats we sent
    for ts_ns, direction, opcode, payload in messages:
        out = Direction(direction) is Direction.OUT
        builder.at(ts_ns)
        if Opcode(opcode) is not Opcode.TEXT:
            raise ValueError("this test speaks Phoenix's V2 JSON serializer")
        message = parse_message(bytes(payload).decode("utf-8"))
        topic, event, ref, body = message["topic"], message["event"], message["ref"], message["payload"]
        if out:
            if topic == "phoenix" and event == "heartbeat":
                beats.add(str(ref))
            elif event == "phx_join":
                builder.verb("join", topic=topic, payload=masked(body))
            elif event == "phx_leave":
                builder.verb("leave", topic=topic)
            else:
                builder.verb("push", topic=topic, event=event, payload=body)
        elif event == "phx_reply":
            if str(ref) in beats or not isinstance(body, dict) or body.get("status") != "ok":
                continue  # a heartbeat's reply, or an error the session reports as one
            builder.expect("ack", body.get("response"))
        elif event not in ("phx_error", "phx_close"):
            builder.expect("event", body, event)


#: the converters by protocol name
CONVERTERS: dict[str, Callable[[Builder, Iterable[Recorded]], None]] = {
    "stomp": _stomp, "mqtt": _mqtt, "signalr": _signalr, "phoenix": _phoenix}
