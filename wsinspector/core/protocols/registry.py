"""The protocol sessions by name (the names of their decoders), and choosing one for a connection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.protocols.base import ProtocolError, ProtocolSession
from wsinspector.core.protocols.graphql import LEGACY, GraphQlSession
from wsinspector.core.protocols.mqtt import MqttSession
from wsinspector.core.protocols.phoenix import PhoenixSession
from wsinspector.core.protocols.signalr import SignalRSession
from wsinspector.core.protocols.socketio import SocketIoSession
from wsinspector.core.protocols.stomp import StompSession

SESSIONS: dict[str, type[ProtocolSession]] = {cls.name: cls for cls in (
    SocketIoSession, StompSession, GraphQlSession, MqttSession, SignalRSession, PhoenixSession)}
#: a connection's protocol mode: off, chosen like its decoder, or a session's name
MODE_OFF = ""
MODE_AUTO = "auto"
MODES = (MODE_OFF, MODE_AUTO, *SESSIONS)

_INT_OPTIONS = {"keep_alive", "version"}
_FLOAT_OPTIONS = {"keep_alive_s", "server_timeout_s", "heartbeat_s"}


def offering_mode_subprotocols(profile: ConnectionProfile) -> ConnectionProfile:
    """``profile`` offering its protocol mode's subprotocols when it offers none itself (a broker may refuse a
    connection that offers none: mosquitto without ``mqtt``)."""
    session = SESSIONS.get(profile.decoding.mode)
    if session is None or profile.handshake.subprotocols or not session.subprotocols:
        return profile
    return profile.with_changes(handshake={"subprotocols": session.subprotocols})


def mode_for(mode: str, decoder: str) -> str:
    """The session's name a connection speaks: its mode, or for ``auto`` its decoder's name when a session
    speaks it (else "")."""
    if mode == MODE_AUTO:
        return decoder if decoder in SESSIONS else ""
    return mode


def make_session(name: str, options: Iterable[tuple[str, str]] = (), subprotocol: str = "") -> ProtocolSession:
    """A fresh session of the protocol ``name`` with the connection's options (``[name, value]`` pairs as text:
    ``namespace``, ``auth`` (JSON), ``payload`` (JSON), ``client_id``, ``keep_alive``, ``heart_beat`` (``cx,cy``),
    ``headers`` (a JSON object: STOMP's more CONNECT headers) …); ProtocolError for an unknown name or option."""
    if name not in SESSIONS:
        raise ProtocolError(f"No protocol session {name!r}: use one of {', '.join(SESSIONS)}")
    kwargs: dict[str, Any] = {}
    for key, value in options:
        kwargs[key] = _option(key, value)
    if name == "graphql" and subprotocol == LEGACY and "protocol" not in kwargs:
        kwargs["protocol"] = LEGACY
    if name == "mqtt" and subprotocol in ("mqttv3.1",) and "version" not in kwargs:
        kwargs["version"] = 4
    try:
        return SESSIONS[name](**kwargs)
    except TypeError:
        raise ProtocolError(f"{name} has no option among {', '.join(sorted(kwargs))}") from None


def _option(key: str, value: str) -> Any:
    import json  # noqa: PLC0415

    if key in ("auth", "payload", "headers"):
        try:
            found = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"option {key} is not JSON: {exc.msg}") from None
        if key != "headers":
            return found
        if not isinstance(found, dict | None):
            raise ProtocolError("option headers must be a JSON object of header names and values")
        return tuple((str(name), str(item)) for name, item in (found or {}).items())
    try:
        if key in _INT_OPTIONS:
            return int(value)
        if key in _FLOAT_OPTIONS:
            return float(value)
        if key == "heart_beat":
            first, _, second = value.partition(",")
            return int(first), int(second or first)
    except ValueError:
        raise ProtocolError(f"option {key} must be a number, not {value!r}") from None
    if key in ("clean", "connect"):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value
