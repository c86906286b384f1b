"""A recording proxy's session: both hops' frames in one log and one stored session, each frame knowing its
hop, each hop's fragments assembled apart, and `wsinspector messages`' lines saying the hop."""

from __future__ import annotations

import json

import pytest

from wsinspector.core.copying import item_at, session_lines
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.model import header
from wsinspector.core.proxy import PROXY_EVENT
from wsinspector.core.store import SessionStatus, Store
from wsinspector.core.stored import StoredSession

IN, OUT = Direction.IN, Direction.OUT


def proxied_log() -> FrameLog:
    """The client sends a text message in two fragments while the upstream server sends one in two fragments
    too: both arrive IN at once, on different hops. The proxy forwards each as one frame."""
    log = FrameLog(started_ns=1_000, started_wall=1_700_000_000.0)
    log.add_event(1_000, PROXY_EVENT, "ws://127.0.0.1:1/ -> ws://127.0.0.1:2/")
    up, up_whole = log.upstream_sinks()
    ts = iter(range(2_000, 100_000, 100))
    log.append_fields(IN, Opcode.TEXT, b"client ", next(ts), False, False, False, False, True)  # 0
    up(IN, Opcode.TEXT, b"server ", next(ts), False, False, False, False, False)  # 1
    log.append_fields(IN, Opcode.CONTINUATION, b"says hi", next(ts), True, False, False, False, True)  # 2
    up(OUT, Opcode.TEXT, b"client says hi", next(ts), True, False, False, False, True, 14)  # 3
    up(IN, Opcode.CONTINUATION, b"answers", next(ts), True, False, False, False, False)  # 4
    log.append_fields(OUT, Opcode.TEXT, b"server answers", next(ts), True, False, False, False, False, 14)  # 5
    up_whole(header.whole_in(Opcode.BINARY, header_known=True, length_known=True), b"\x01\x02", next(ts))  # 6
    log.append_fields(OUT, Opcode.BINARY, b"\x01\x02", next(ts), True, False, False, False, False, 2)  # 7
    return log


UPSTREAM_SEQS = {1, 3, 4, 6}


def recorded(store: Store, log: FrameLog) -> StoredSession:
    session_id = store.create_session("proxy", "ws://127.0.0.1:1/", log.started_wall, log.started_ns)
    for ts, kind, text in log.events:
        store.add_event(session_id, 0, ts, kind, text)
    store.append_live(session_id, log, 0, len(log) - 1, None)
    store.finish_session(session_id, SessionStatus.CLOSED, log.started_wall + 1, 1000, "")
    record = store.session(session_id)
    assert record is not None
    return StoredSession(store, record)


def test_each_hop_fragments_are_assembled_apart_live_and_stored(store: Store) -> None:
    log = proxied_log()
    assert log.protocol_errors == [], "two hops' fragments in one direction are not a broken sequence"
    for session in (log, recorded(store, log)):
        assert [f.upstream for f in session.frames(0, len(session) - 1)] == [
            s in UPSTREAM_SEQS for s in range(len(session))]
        assert [header.upstream(session.origin(s)) for s in range(len(session))] == [
            s in UPSTREAM_SEQS for s in range(len(session))]
        from_client = session.message_for(0)
        assert from_client is not None
        assert (from_client.payload, from_client.seqs, from_client.upstream) == (b"client says hi", (0, 2), False)
        from_server = session.message_for(4)
        assert from_server is not None
        assert (from_server.payload, from_server.seqs, from_server.upstream) == (b"server answers", (1, 4), True)
        assert session.data_opcode(4) is Opcode.TEXT
        assert [m.payload for m in session.iter_messages()] == [
            b"client says hi", b"client says hi", b"server answers", b"server answers", b"\x01\x02", b"\x01\x02"]
        assert item_at(session, 1, whole_message=True).upstream


def test_the_messages_lines_of_a_proxy_session_say_each_hop(store: Store) -> None:
    stored = recorded(store, proxied_log())
    lines = [json.loads(line) for line in session_lines(stored)]
    assert [(line["seq"], line["hop"], line["direction"], line.get("text")) for line in lines] == [
        (0, "client", "in", "client says hi"),
        (3, "upstream", "out", "client says hi"),
        (1, "upstream", "in", "server answers"),
        (5, "client", "out", "server answers"),
        (6, "upstream", "in", None),
        (7, "client", "out", None),
    ]
    frames = [json.loads(line) for line in session_lines(stored, whole_messages=False)]
    assert [line["hop"] for line in frames] == ["upstream" if s in UPSTREAM_SEQS else "client" for s in range(8)]


def test_a_connection_session_has_no_hop_in_its_lines(store: Store) -> None:
    log = FrameLog(started_ns=1_000, started_wall=1_700_000_000.0)
    log.append_fields(OUT, Opcode.TEXT, b"hi", 2_000, True, False, False, False, True, 2)
    assert "hop" not in json.loads(next(session_lines(recorded(store, log))))


@pytest.mark.parametrize("interrupting", [False, True], ids=["after-a-message", "inside-a-fragmented-one"])
def test_an_upstream_whole_message_is_kept_as_its_fields_would_keep_it(interrupting: bool) -> None:
    """The upstream hop's whole-message path and its frame sink keep the same frame: header bits, hop,
    message; a whole frame inside a fragmented upstream message is judged the same way by both."""
    logs = []
    for whole in (True, False):
        log = FrameLog(started_ns=1_000, started_wall=1_700_000_000.0)
        up, up_whole = log.upstream_sinks()
        if interrupting:
            up(IN, Opcode.TEXT, b"part", 2_000, False, False, False, False, False)
        if whole:
            up_whole(header.whole_in(Opcode.BINARY, header_known=True, length_known=True), b"\x07\x08", 3_000)
        else:
            up(IN, Opcode.BINARY, b"\x07\x08", 3_000, True, False, False, False, False, 2)
        logs.append(log)
    fast, fields = logs
    seq = len(fast) - 1
    assert fast.meta(seq) == fields.meta(seq) and fast.origin(seq) == fields.origin(seq)
    assert header.upstream(fast.origin(seq)) and fast.payload(seq) == b"\x07\x08"
    assert fast.protocol_errors == fields.protocol_errors
    assert bool(fast.protocol_errors) == interrupting
    fast_message, fields_message = fast.message_for(seq), fields.message_for(seq)
    assert (fast_message is None) == (fields_message is None)
    if fast_message is not None and fields_message is not None:
        assert (fast_message.payload, fast_message.upstream) == (fields_message.payload, fields_message.upstream)
