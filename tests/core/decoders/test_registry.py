"""The registry: decoders found through entry points, a broken one named and left out, and the choice of a
connection's decoder (its own setting, the negotiated subprotocol, the URL, the first frames; priority)."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from wsinspector.core.decoders.base import DecodeContext, Decoded, DecodeError, Decoder, FrameView
from wsinspector.core.decoders.registry import (
    AUTO,
    ENTRY_POINT_GROUP,
    DecoderRegistry,
    Loaded,
    configured,
    decoder_registry,
    registry_from,
)


def _entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_the_built_in_decoders_come_from_the_installed_entry_points():
    registry = decoder_registry()
    assert registry.problems == []
    assert sorted(registry.names()) == ["cbor", "graphql", "json", "mqtt", "msgpack", "phoenix", "protobuf",
                                        "signalr", "socket.io", "stomp"]
    assert registry.origin("mqtt") == "wsinspector: mqtt = wsinspector.core.decoders.mqtt:MqttDecoder"
    assert decoder_registry() is registry  # read once


def test_an_entry_point_that_cannot_be_loaded_is_one_problem_and_the_others_load():
    registry = registry_from([
        _entry("json", "wsinspector.core.decoders.formats:JsonDecoder"),
        _entry("gone", "wsinspector_no_such_package.decoders:Gone"),
        _entry("not-a-decoder", "json:loads"),
        _entry("json", "wsinspector.core.decoders.formats:JsonDecoder"),  # the same package found twice
        _entry("other-json", "wsinspector.core.decoders.formats:JsonDecoder"),
    ])
    assert registry.names() == ["json"]
    assert registry.problems == [
        "decoder 'gone' from an unknown package could not be loaded: ModuleNotFoundError: No module named "
        "'wsinspector_no_such_package'",
        "decoder 'not-a-decoder' from an unknown package could not be loaded: TypeError: json:loads is not a "
        "wsinspector Decoder",
        "decoder 'json' from an unknown package: other-json = wsinspector.core.decoders.formats:JsonDecoder is "
        "ignored: an unknown package: json = wsinspector.core.decoders.formats:JsonDecoder has the same name",
    ]


CHOICES = [
    ({"subprotocol": "graphql-transport-ws"}, "graphql"),
    ({"subprotocol": "V12.STOMP"}, "stomp"),
    ({"subprotocol": "mqtt"}, "mqtt"),
    ({"url": "wss://chat.example.com/socket.io/?EIO=4&transport=websocket"}, "socket.io"),
    ({"url": "ws://localhost:4000/socket/websocket?vsn=2.0.0"}, "phoenix"),
    ({"frames": [FrameView(b'0{"sid":"x","pingInterval":1}', True)]}, "socket.io"),
    ({"frames": [FrameView(b"hello", True), FrameView(b'{"type":"connection_init"}', True)]}, "graphql"),
    ({"frames": [FrameView(b'{"anything":1}', True)]}, "json"),
    ({"frames": [FrameView(b"\x82\xa1a\x01\xa1b\x02", False)]}, "msgpack"),
    ({"frames": [FrameView(b"CONNECT\naccept-version:1.2\n\n\x00", True)]}, "stomp"),
    # the connection's own choice wins over everything
    ({"override": "cbor", "subprotocol": "mqtt"}, "cbor"),
    # "auto" chooses; a subprotocol beats the URL
    ({"override": AUTO, "subprotocol": "mqtt", "url": "/socket.io/?EIO=4"}, "mqtt"),
]


@pytest.mark.parametrize(("choice", "expected"), CHOICES,
                         ids=[f"{expected}-by-{'-'.join(sorted(choice))}-{number}"
                              for number, (choice, expected) in enumerate(CHOICES)])
def test_the_decoder_of_a_connection(choice, expected):
    chosen = decoder_registry().choose(**choice)
    assert chosen is not None and chosen.name == expected


def test_nothing_is_chosen_for_traffic_no_decoder_recognises():
    assert decoder_registry().choose(subprotocol="chat", url="ws://x/", frames=[FrameView(b"hi", True)]) is None


def test_an_unknown_decoder_name_lists_the_known_ones():
    with pytest.raises(KeyError) as raised:
        decoder_registry().choose(override="carrier-pigeon")
    assert raised.value.args[0].startswith("no decoder is called 'carrier-pigeon': choose one of socket.io, ")


@pytest.mark.parametrize("written", ["socketio", "Socket.IO", "SOCKET-IO", "socket.io"])
def test_a_decoder_is_found_by_its_name_written_without_punctuation_or_in_other_case(written):
    assert decoder_registry().choose(override=written) is decoder_registry().get("socket.io")


class _Careless(Decoder):
    """A third-party decoder with every mistake a registry must survive."""

    name = "careless"
    priority = 99
    url_patterns = ("([unclosed",)

    def sniff(self, frame: FrameView) -> bool:
        raise ZeroDivisionError("sniffing divided by zero")

    def decode(self, frame: FrameView, context: DecodeContext) -> Decoded:
        if frame.payload == b"deep":
            raise RecursionError
        return "a summary, not a Decoded"  # type: ignore[return-value]

    def with_options(self, options: dict[str, str]) -> object:
        return options


def test_a_careless_decoder_is_named_once_and_the_others_still_choose_and_decode():
    json_decoder = decoder_registry().get("json")
    registry = DecoderRegistry([Loaded(_Careless(), "careless-pkg: careless = careless:Careless"),
                                Loaded(json_decoder, "wsinspector")])
    chosen = registry.choose(url="wss://x/([unclosed", frames=[FrameView(b'{"a":1}', True)])
    assert chosen is json_decoder
    careless = registry.get("careless")
    assert registry.decode(careless, FrameView(b"x", True)).error == "the decoder gave no decoded form"
    assert registry.decode(careless, FrameView(b"deep", True)).error == "nested too deeply"
    assert registry.decode(json_decoder, FrameView(b'{"a":1}', True)).ok
    assert registry.problems == [
        "decoder 'careless' (careless-pkg: careless = careless:Careless) has a URL pattern that is not a regular "
        "expression: '([unclosed' (unterminated character set at position 1)",
        "decoder 'careless' (careless-pkg: careless = careless:Careless) failed: ZeroDivisionError: sniffing "
        "divided by zero",
    ]
    with pytest.raises(DecodeError, match="the careless decoder gave no decoder for its options"):
        configured(careless, {"a": "b"})


def test_an_entry_point_whose_decoder_has_no_usable_name_is_refused():
    registry = registry_from([_entry("nameless", "wsinspector.core.decoders.base:Decoder")])
    assert registry.names() == []
    assert registry.problems == ["decoder 'nameless' from an unknown package could not be loaded: ValueError: "
                                 "wsinspector.core.decoders.base:Decoder has no usable name (lower-case letters, "
                                 "digits, '.', '_' or '-')"]
