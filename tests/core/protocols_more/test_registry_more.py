"""Choosing a protocol session by name: unknown names and options are refused in one line, options are read
from the connection's text, and a connection offering no subprotocol offers the mode's own."""

from __future__ import annotations

import pytest

from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.protocols.base import ProtocolError
from wsinspector.core.protocols.graphql import LEGACY
from wsinspector.core.protocols.registry import MODE_AUTO, make_session, mode_for, offering_mode_subprotocols


def test_unknown_protocol_names_and_options_are_refused():
    with pytest.raises(ProtocolError, match=r"No protocol session 'amqp': use one of socket.io"):
        make_session("amqp")
    with pytest.raises(ProtocolError, match="stomp has no option among flavour"):
        make_session("stomp", [("flavour", "x")])
    with pytest.raises(ProtocolError, match="option auth is not JSON"):
        make_session("socket.io", [("auth", "{oops")])
    with pytest.raises(ProtocolError, match="option keep_alive must be a number, not 'soon'"):
        make_session("mqtt", [("keep_alive", "soon")])
    with pytest.raises(ProtocolError, match="option heart_beat must be a number"):
        make_session("stomp", [("heart_beat", "a,b")])


def test_options_are_read_from_text():
    session = make_session("socket.io", [("namespace", "/admin"), ("auth", '{"token":"t"}'), ("connect", "no")])
    assert session._auto == []  # type: ignore[attr-defined]
    assert make_session("socket.io", [("auth", "  ")])._auto == [("/", None)]  # type: ignore[attr-defined]
    assert make_session("graphql", subprotocol=LEGACY).protocol == LEGACY  # type: ignore[attr-defined]
    assert make_session("mqtt", subprotocol="mqttv3.1").version == 4  # type: ignore[attr-defined]
    make_session("signalr", [("keep_alive_s", "2.5")])
    make_session("stomp", [("heart_beat", "1000")])


def test_auto_mode_follows_the_decoder():
    assert mode_for(MODE_AUTO, "stomp") == "stomp"
    assert mode_for(MODE_AUTO, "json") == ""
    assert mode_for("mqtt", "json") == "mqtt"


def test_a_connection_offering_no_subprotocol_offers_the_modes():
    profile = ConnectionProfile(name="p", endpoint=Endpoint("ws://localhost:1883/mqtt"))
    assert offering_mode_subprotocols(profile) is profile
    mqtt = profile.with_changes(decoding={"mode": "mqtt"})
    assert offering_mode_subprotocols(mqtt).handshake.subprotocols
    offering = mqtt.with_changes(handshake={"subprotocols": ("custom",)})
    assert offering_mode_subprotocols(offering) is offering
