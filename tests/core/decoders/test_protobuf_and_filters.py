"""Protocol Buffers read without a schema and with a descriptor set; filters over decoded fields and JSON paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from wsinspector.core.decoders.base import DecodeError, FrameView
from wsinspector.core.decoders.filters import DecodedFilterError, parse_decoded_filter
from wsinspector.core.decoders.registry import configured, decoder_registry


def _schema(path: Path) -> type:
    """A descriptor set as ``protoc --include_imports --descriptor_set_out`` writes it, and the message class
    the protobuf library makes from it."""
    file = descriptor_pb2.FileDescriptorProto(name="ticks.proto", package="demo", syntax="proto3")
    meta = file.message_type.add(name="Meta")
    meta.field.add(name="note", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                   label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    tick = file.message_type.add(name="Tick")
    for name, number, kind, label, type_name in (
            ("symbol", 1, "TYPE_STRING", "LABEL_OPTIONAL", ""), ("price", 2, "TYPE_DOUBLE", "LABEL_OPTIONAL", ""),
            ("sizes", 3, "TYPE_INT32", "LABEL_REPEATED", ""), ("meta", 4, "TYPE_MESSAGE", "LABEL_OPTIONAL",
                                                                 ".demo.Meta")):
        field = tick.field.add(name=name, number=number, type=getattr(descriptor_pb2.FieldDescriptorProto, kind),
                               label=getattr(descriptor_pb2.FieldDescriptorProto, label))
        if type_name:
            field.type_name = type_name
    path.write_bytes(descriptor_pb2.FileDescriptorSet(file=[file]).SerializeToString())
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("demo.Tick"))


def test_protobuf_without_a_schema_shows_the_wire_format(tmp_path: Path):
    tick = _schema(tmp_path / "ticks.desc")(symbol="ACME", price=3.5, sizes=[1, 300], meta={"note": "hi"})
    registry = decoder_registry()
    decoded = registry.decode(registry.get("protobuf"), FrameView(tick.SerializeToString(), False))
    assert decoded.ok, decoded.error
    wire = decoded.tree["wire"]
    assert [(f["field"], f["wire"]) for f in wire] == [(1, "len"), (2, "i64"), (3, "len"), (4, "len")]
    assert wire[0]["value"] == {"string": "ACME"}
    assert wire[1]["value"]["float"] == 3.5
    assert wire[3]["value"] == {"message": [{"field": 1, "wire": "len", "value": {"string": "hi"}}]}
    assert decoded.summary.startswith('{1:"ACME" 2:3.5')


def test_protobuf_with_a_descriptor_set_names_the_fields(tmp_path: Path):
    schema = tmp_path / "ticks.desc"
    tick = _schema(schema)(symbol="ACME", price=3.5, sizes=[1, 300], meta={"note": "hi"})
    registry = decoder_registry()
    decoder = configured(registry.get("protobuf"), {"descriptors": str(schema), "message": "demo.Tick"})
    decoded = registry.decode(decoder, FrameView(tick.SerializeToString(), False))
    assert decoded.tree["fields"] == {"symbol": "ACME", "price": 3.5, "sizes": [1, 300], "meta": {"note": "hi"}}
    assert decoded.summary == 'demo.Tick {"symbol":"ACME","price":3.5,"sizes":[1,300],"meta":{"note":"hi"}}'
    assert decoded.fields == {"type": "demo.Tick"}
    broken = registry.decode(decoder, FrameView(b"\x0a\x05AC", False))
    assert broken.error == "field 1 at byte 0 says 5 bytes, 2 remain"


@pytest.mark.parametrize(("options", "message"), [
    ({"descriptors": "missing.desc", "message": "demo.Tick"}, "cannot read the descriptor set missing.desc"),
    ({"descriptors": "ticks.desc", "message": "demo.Nope"}, "ticks.desc has no message 'demo.Nope' (it has "
                                                            "demo.Meta, demo.Tick)"),
    ({"descriptors": "ticks.proto", "message": "demo.Tick"}, "ticks.proto is a .proto source: compile it to a "
                                                             "descriptor set first (protoc --include_imports"),
    ({"descriptors": "garbage.desc", "message": "demo.Tick"}, "garbage.desc is not a descriptor set"),
], ids=["missing-file", "unknown-message", "proto-source", "not-a-descriptor-set"])
def test_a_schema_that_cannot_be_used_is_one_sentence(tmp_path: Path, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    _schema(tmp_path / "ticks.desc")
    (tmp_path / "garbage.desc").write_bytes(b"\xff\xff\xff")
    with pytest.raises(DecodeError) as raised:
        configured(decoder_registry().get("protobuf"), options)
    assert str(raised.value).startswith(message)


def _decoded(name: str, payload: bytes, text: bool = True):
    registry = decoder_registry()
    return registry.decode(registry.get(name), FrameView(payload, text))


def test_filters_on_decoded_fields_and_json_paths():
    event = _decoded("socket.io", b'42["chat",{"user":"ann","n":3}]')
    mqtt = _decoded("mqtt", b"\x30\x0d\x00\x09sensors/1hi", False)
    stomp = _decoded("stomp", b"SEND\ndestination:/topic/prices\n\n1\x00")
    cases = {
        "event=chat": [True, False, False],
        "event~ha": [True, False, False],
        "topic=sensors/1": [False, True, False],
        "destination = /topic/prices": [False, False, True],
        "protocol=mqtt": [False, True, False],
        '$.socketio.args[0].user = "ann"': [True, False, False],
        "$.socketio.args[0].user = ann": [True, False, False],
        "$.socketio.args[0].n = 3": [True, False, False],
        '$.socketio.args[0].n = "3"': [False, False, False],
        "$.packets[0].payload ~ h": [False, True, False],
    }
    for text, expected in cases.items():
        condition = parse_decoded_filter(text)
        assert [condition.matches(d) for d in (event, mqtt, stomp)] == expected, text
    assert not parse_decoded_filter("event=chat").matches(_decoded("socket.io", b"9"))
    assert not parse_decoded_filter("event=chat").matches(None)


@pytest.mark.parametrize("text", ["chat", "$.a[", "=x"])
def test_a_filter_that_cannot_be_read_says_how_to_write_one(text):
    with pytest.raises(DecodedFilterError):
        parse_decoded_filter(text)
