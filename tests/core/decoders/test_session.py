"""Decoding a session as a view: frames decoded with the frames around them (a Socket.IO event and its binary
attachments, MQTT packets that span or share frames), in any order, through a small cache."""

from __future__ import annotations

from tests.core.decoders.examples import MQTT_CONNECT_311, MQTT_PUBLISH_QOS1, mqtt_packet, utf8
from wsinspector.core.decoders.base import FrameView
from wsinspector.core.decoders.registry import decoder_registry
from wsinspector.core.decoders.session import SessionDecoding


def _session(frames: list[tuple[bool, bytes, bool]], **choice: str) -> tuple[SessionDecoding, list[int]]:
    """(outgoing, payload, text) frames as a session; the list counts the reads of each frame."""
    views = [FrameView(payload, text, outgoing, index) for index, (outgoing, payload, text) in enumerate(frames)]
    reads = [0] * len(views)

    def source(index: int) -> FrameView | None:
        if index >= len(views):
            return None
        reads[index] += 1
        return views[index]

    return SessionDecoding(decoder_registry(), source, **choice), reads


def test_a_binary_event_is_joined_to_its_attachments_and_each_attachment_names_its_event():
    session, _ = _session([
        (True, b'451-["upload",{"name":"a.png","data":{"_placeholder":true,"num":0}}]', True),
        (False, b"42[\"progress\",1]", True),  # the other direction does not interrupt
        (True, b"\x89PNG", False),
        (True, b'462-/files,9[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', True),
        (True, b"\x01", False),
        (True, b"\x02\x03", False),
        (True, b"\x04", False),  # past the two attachments: a plain binary message
    ])
    assert session.decoder is not None and session.decoder.name == "socket.io"
    event = session.decoded(0)
    assert event.tree["socketio"]["args"] == [{"name": "a.png", "data": {"$bytes": "89504e47"}}]
    assert session.decoded(2).summary == "ATTACHMENT 1/1 of EVENT upload (4 bytes)"
    ack = session.decoded(3)
    assert ack.summary == 'ACK /files 9 [{"$bytes":"01"},{"$bytes":"0203"}]'
    assert session.decoded(5).summary == "ATTACHMENT 2/2 of ACK 9 (2 bytes)"
    assert session.decoded(6).summary == "MESSAGE binary (1 bytes)"


def test_mqtt_packets_that_span_and_share_frames_are_read_whole_in_any_order():
    big = mqtt_packet(0x30, utf8("cams/1") + bytes(range(256)) * 4)
    frames = [
        (True, MQTT_CONNECT_311, False),
        (False, b"\x20\x02\x00\x00", False),
        (True, big[:10], False),
        (False, MQTT_PUBLISH_QOS1[:5], False),  # the other direction's stream is its own
        (True, big[10:700], False),
        (True, big[700:] + b"\xc0\x00" + MQTT_PUBLISH_QOS1[:3], False),
        (False, MQTT_PUBLISH_QOS1[5:] + b"\xd0\x00", False),
        (True, MQTT_PUBLISH_QOS1[3:], False),
    ]
    session, reads = _session(frames, subprotocol="mqtt")
    # asked from the end first, as a view opened at the bottom of a session
    assert session.decoded(7).summary == '(end of) PUBLISH sensors/1 qos1 id=7 {"t":21.5}'
    spanning = session.decoded(5)
    assert spanning.summary.startswith("(end of) PUBLISH cams/1 qos0 ")
    assert spanning.summary.endswith("; PINGREQ; PUBLISH continues in the next frame (3 of 25 bytes)")
    assert spanning.tree["packets"][0]["size"] == 1024 and spanning.tree["continued_bytes"] == 700
    assert session.decoded(4).summary == "PUBLISH continues in the next frame (700 of 1035 bytes)"
    assert session.decoded(2).summary == "PUBLISH continues in the next frame (10 of 1035 bytes)"
    assert session.decoded(3).summary == "PUBLISH continues in the next frame (5 of 25 bytes)"
    assert session.decoded(6).summary == '(end of) PUBLISH sensors/1 qos1 id=7 {"t":21.5}; PINGRESP'
    assert session.decoded(6).fields == {"type": "PUBLISH", "topic": "sensors/1", "packet_id": "7"}
    assert session.decoded(0).summary == "CONNECT client=sensor-1 v3.1.1 keepalive=60"
    assert session.decoded(1).summary == "CONNACK rc=0"
    before = list(reads)
    for index in range(len(frames)):
        session.decoded(index)
    assert reads == before  # answered from the cache


def test_a_stream_that_is_not_mqtt_is_read_afresh_from_the_next_frame():
    # a PUBLISH of 5 bytes begins; the next frame would end it with bytes that are no PUBLISH's
    session, _ = _session([(True, b"\x30\x05\x00", False), (True, b"\xc0\x00\xc0\x00", False)], override="mqtt")
    assert session.decoded(0).summary == "PUBLISH continues in the next frame (3 of 7 bytes)"
    assert session.decoded(1).summary == "PINGREQ; PINGREQ"


def test_a_connection_naming_an_unknown_decoder_says_so_on_every_frame():
    session, _ = _session([(True, b"{}", True)], override="nonesuch")
    decoded = session.decoded(0)
    assert decoded is not None and decoded.error.startswith("no decoder is called 'nonesuch'")
    assert session.decoder is None


def test_a_session_no_decoder_recognises_has_no_decoded_form():
    session, _ = _session([(True, b"hello", True)])
    assert session.decoded(0) is None and session.decoded(5) is None


def test_a_recorded_session_is_decoded_message_by_message_past_pings_and_fragments():
    """A live log as the app records it: a fragmented binary event, a ping between the event and its attachment,
    the attachment itself in two fragments."""
    from wsinspector.core.decoders.session import session_source
    from wsinspector.core.frames import Direction, Frame, Opcode
    from wsinspector.core.log import FrameLog

    log = FrameLog()
    for ts, (direction, opcode, payload, fin) in enumerate([
        (Direction.IN, Opcode.TEXT, b'0{"sid":"a","pingInterval":25000}', True),
        (Direction.IN, Opcode.TEXT, b'451-["file",{"_placeholder":', False),
        (Direction.IN, Opcode.CONTINUATION, b'true,"num":0}]', True),
        (Direction.IN, Opcode.PING, b"", True),
        (Direction.IN, Opcode.BINARY, b"\x01\x02", False),
        (Direction.IN, Opcode.CONTINUATION, b"\x03", True),
    ]):
        log.append(Frame(seq=0, ts_ns=ts, direction=direction, opcode=opcode, payload=payload, fin=fin))
    session = SessionDecoding(decoder_registry(), session_source(log))
    assert session.decoder is not None and session.decoder.name == "socket.io"
    assert [session.decoded(seq) and session.decoded(seq).summary for seq in range(len(log))] == [
        "OPEN sid=a pingInterval=25000", None, 'EVENT file [{"$bytes":"010203"}] (+1 binary)', None, None,
        "ATTACHMENT 1/1 of EVENT file (3 bytes)"]


def test_a_saved_connection_names_its_decoder_and_options_and_keeps_what_a_newer_version_added():
    """The per-connection choice: the profile's decoding record, in its stored form, with an unknown key kept and
    ``{{variables}}`` in an option expanded when the connection is resolved."""
    from wsinspector.core.profiles import profile_from_json, profile_to_json

    stored = ('{"version": 2, "name": "feed", "endpoint": {"url": "wss://feed.example.com/ws"}, "decoding": '
              '{"decoder": "mqtt", "options": [["descriptors", "{{schemas}}/ticks.desc"]], "colour": "teal"}}')
    profile = profile_from_json("p1", stored)
    assert profile.decoding.decoder == "mqtt"
    assert '"colour": "teal"' in profile_to_json(profile)
    target = profile.resolved({"schemas": "/srv/schemas"})
    assert target.decoding.options == (("descriptors", "/srv/schemas/ticks.desc"),)
    # the connection's choice wins over what its traffic looks like
    session, _ = _session([(False, b'{"type": 1}', True), (False, b"\x00\x01", False)],
                          override=profile.decoding.decoder)
    assert session.decoder is not None and session.decoder.name == "mqtt"
    assert session.decoded(1).error == "byte 0 (0x00) is not an MQTT packet type"
