"""The endpoint probe against real peers on 127.0.0.1 (tests/probe_peers.py): each peer probed once, with the
cases whose columns it tells, and its row asserted as that implementation behaves; the evidence sessions are
read back from the store. The same peers make docs/probe.md's table (scripts/probe-table.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import probe_peers
from tests.decoder_peers import node_peers_ready
from tests.net.pki import Authority
from tests.peers import masked_server_frame, server_frame
from wsinspector.app.probe import ProbeController
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.probe.plan import PROBES_SETTING, load_probes, plan
from wsinspector.core.probe.row import ProbeResult
from wsinspector.core.probe.steps import CaseContext
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake, Tls
from wsinspector.core.store import Store
from wsinspector.core.stored import StoredSession

PROBE_MS = 90_000


@pytest.fixture
def probe(qtbot: Any, store: Store) -> Callable[..., ProbeResult]:
    """``probe(url, "a,b,…")``: the probe's result once it is over (on loopback: aggressive cases allowed)."""

    def run(url: str, cases: str, answer_s: float = 1.0, **settings: Any) -> ProbeResult:
        names = plan(cases.split(","), url=url)
        profile = ConnectionProfile(name="peer", endpoint=Endpoint(url), **settings)
        controller = ProbeController(profile, names, store=store, aggressive=True,
                                     ctx=CaseContext(aggressive=True, answer_s=answer_s))
        with qtbot.waitSignal(controller.finished, timeout=PROBE_MS) as finished:
            controller.start()
        result: ProbeResult = finished.args[0]
        controller.deleteLater()
        return result

    return run


def frames_of(store: Store, session_id: int) -> list[Any]:
    record = store.session(session_id)
    assert record is not None
    session = StoredSession(store, record)
    return list(session.frames(0, len(session) - 1)) if len(session) else []


def test_websockets_row_with_its_evidence_and_keepalive(probe, run, store):
    peer = run(probe_peers.websockets_peer())
    result = probe(peer.url, "versions,messages,utf8,fragments,pings,heartbeat,compression,closing,size")

    assert result.connected
    versions = result.cell("versions")
    assert versions.data["accepted"] == ["13"]
    assert versions.data["answers"] == {"8": "400", "7": "400", "99": "400"}
    assert versions.value == "13; 99 → 400, no list"
    assert result.cell("text").value == result.cell("binary").value == "yes, echoed"
    assert result.cell("utf8").value == "1007"
    assert result.cell("fragmentation").value == "yes, with pings between"
    assert result.cell("sends_fragmented").value == "no"
    pongs = result.cell("pongs")
    assert pongs.value.startswith("yes, RTT p50") and len(pongs.data["rtt_ms"]) == 5
    # websockets pings every second and closes with 1011 when a ping goes unanswered
    heartbeat = result.cell("heartbeat")
    assert heartbeat.value.startswith("every ") and "unanswered: closed with 1011" in heartbeat.value
    assert result.cell("idle_timeout").known is False
    assert result.cell("compression").value == "yes, compresses"
    closing = result.cell("closing")
    assert closing.value == "echoes our code; 1005 → closed with 1002"
    # the close codes it sent while a case listened: 4000 echoed, 1002, 1007, 1009, 1011 for unanswered pings
    assert closing.data["codes_sent"] == [1002, 1007, 1009, 1011, 4000]
    size = result.cell("size_limit")  # websockets' max_size: 1 MiB
    assert size.data["accepted"] == 2 ** 20 and size.data["how"] == "1009"
    assert result.cell("h2").value.startswith("unknown — ")
    conformance = result.cell("conformance")
    assert conformance.value == "4/5 yes"
    assert "unsupported version answered with the list: no" in conformance.detail  # a 400 without the list

    # the evidence: the invalid UTF-8 sent, the 1007 that came back, in the session the cell names
    (session_id,) = result.cell("utf8").sessions
    frames = frames_of(store, session_id)
    sent = [f for f in frames if f.direction is Direction.OUT and f.opcode is Opcode.TEXT]
    assert sent and b"\xed\xa0\x80" in sent[0].payload
    assert [f.close_code for f in frames if f.direction is Direction.IN and f.opcode is Opcode.CLOSE] == [1007]
    assert store.session(session_id).name == "Probe · utf8: invalid UTF-8"
    # every case timed, every session it opened named; the probe kept in the store
    assert [t.name for t in result.cases] == ["versions", "messages", "utf8", "fragments", "pings", "heartbeat",
                                              "compression", "closing", "size"]
    assert len(result.cases[0].sessions) == 4
    kept = load_probes(store.setting(PROBES_SETTING))
    assert [p.id for p in kept] == [result.id] and kept[0].cell("utf8").value == "1007"


def test_aiohttp_row(probe, run):
    peer = probe_peers.AiohttpPeer()
    url = run(peer.start())
    try:
        result = probe(url, "versions,utf8,compression,closing")
    finally:
        run(peer.stop())
    assert result.cell("versions").data["accepted"] == ["13", "8", "7"]
    assert result.cell("utf8").value == "1007"
    assert result.cell("compression").value == "yes, compresses"
    # aiohttp answers any close frame with 1000, never with our code
    assert result.cell("closing").value == "answers 1000; 1005 → closed with 1002"


@pytest.fixture
def node_ws(qtbot: Any, tmp_path: Path) -> Iterator[str]:
    node_peers_ready()
    out = tmp_path / "ws_echo.out"
    proc = probe_peers.start_node_ws(out)
    try:
        qtbot.waitUntil(lambda: probe_peers.node_port(proc, out) > 0, timeout=30_000)
        yield f"ws://127.0.0.1:{probe_peers.node_port(proc, out)}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_node_ws_row(probe, node_ws):
    result = probe(node_ws, "versions,subprotocols,compression,utf8,size")
    versions = result.cell("versions")
    # ws speaks 13 and 8 and says so when refusing another version (RFC 6455 §4.4)
    assert versions.value == "13, 8; 99 → 400 listing 13, 8"
    assert versions.data["conforms"] is True
    assert result.cell("subprotocols").value == "wsinspector.probe"  # the first offered
    assert result.cell("compression").value == "no"  # off by default in ws' server
    assert result.cell("utf8").value == "1007"
    assert result.cell("size_limit").value == "≥ 16.0 MiB"  # maxPayload 100 MiB: past the search's cap


@pytest.fixture
def websocat(qtbot: Any, tmp_path: Path) -> Iterator[str]:
    out = tmp_path / "websocat.out"
    proc, port = probe_peers.start_websocat(out)
    try:
        qtbot.waitUntil(lambda: probe_peers.websocat_listening(proc, out), timeout=30_000)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_websocat_row(probe, websocat):
    result = probe(websocat, "versions,subprotocols,messages,pings,closing,utf8", answer_s=0.5)
    assert result.cell("versions").value == "13; 99 → 400, no list"
    assert result.cell("subprotocols").value == "wsinspector.probe"
    # its echo mirrors lines: a message without a line break is held, never answered
    assert result.cell("text").value == "yes, no answer"
    assert result.cell("pongs").data["conforms"] is True
    # it answers neither a close frame nor invalid UTF-8 with one: it drops the connection
    assert result.cell("closing").value == ("dropped the connection (no close frame); "
                                            "1005 → dropped the connection (no close frame)")
    assert result.cell("utf8").value == "dropped the connection (no close frame)"


def test_qt_websocket_server_row(probe, qtbot):
    from wsinspector.net.server import EchoServer

    server = EchoServer()
    url = server.listen()
    try:
        result = probe(url, "versions,fragments,pings,compression,utf8,closing")
    finally:
        server.close()
        server.deleteLater()
    assert result.cell("versions").value == "13; 99 → 400 listing 13"
    assert result.cell("fragmentation").value == "yes, with pings between"
    assert result.cell("pongs").data["conforms"] is True
    assert result.cell("compression").value == "no"
    assert result.cell("utf8").value == "1007"
    assert result.cell("closing").value == "echoes our code; 1005 → closed with 1002"


def test_hostile_row_comes_out_the_bad_way(probe, hostile):
    url = hostile(probe_peers.silent_after_upgrade)
    # it never answers: every wait runs to its end, made short here
    result = probe(url, "versions,pings,utf8,closing,violations,flow", answer_s=0.25)
    assert result.cell("versions").value == "13, 8, 7, 99; 99 → accepted, no list"
    assert result.cell("pongs").value == "no"
    assert result.cell("utf8").value == "ignored"
    assert result.cell("closing").value == "does not answer; 1005 → does not answer"
    conformance = result.cell("conformance")
    assert conformance.value == "0/7 yes"
    assert conformance.data["checks"]["reserved opcodes refused"] is False
    # it reads whatever comes, answering nothing: 16 MiB taken while we read nothing
    assert result.cell("flow_control").value == "no backpressure within 16.0 MiB"
    # what the probe did not run says so, never a guess
    assert result.cell("text").value == "unknown — not probed (the messages case did not run)"


def test_a_server_dropping_big_frames_shows_its_limit_and_how_it_refuses(probe, hostile):
    url = hostile(probe_peers.resets_past(100_000))
    result = probe(url, "size,closing")
    size = result.cell("size_limit")
    # found within 5 %, by a search that never sends more than the limit's neighbourhood needs
    assert size.data["accepted"] <= 100_000 < size.data["refused"] <= size.data["accepted"] * 1.05
    assert size.data["how"] == "dropped (no close frame)"
    assert size.value.endswith("(dropped (no close frame))")
    assert result.cell("closing").value == ("dropped the connection (no close frame); "
                                            "1005 → dropped the connection (no close frame)")


def test_a_server_echoing_our_broken_frames_is_not_credited_with_refusing_them(probe, hostile, store):
    url = hostile(probe_peers.mirrors_frames())
    result = probe(url, "violations,closing")
    checks = result.cell("conformance").data["checks"]
    # each forbidden frame came back as it went: our side refused the echo, the server refused nothing
    assert [checks[f"{name} refused"] for name in ("reserved bits", "reserved opcodes", "control frame size")] \
        == [False, False, False]
    assert "reserved opcodes refused: no (broke the protocol: sent a frame with the reserved opcode 0x3)" \
        in result.cell("conformance").detail
    # it echoed 4000, then 1005, which it may not send: not "closed without a code"
    closing = result.cell("closing")
    assert closing.value.startswith("echoes our code; 1005 → broke the protocol: sent a close frame with the code "
                                    "1005")
    assert closing.data["conforms"] is False
    # the sessions say our side failed each connection the echo broke (the 1005 one was closing already)
    refused = [store.session(i) for i in result.cell("conformance").sessions if i not in closing.sessions]
    assert [(r.status, r.close_code) for r in refused if r is not None] == [("failed", 1002)] * 3
    last = store.session(closing.sessions[-1])
    assert last is not None and (last.status, last.close_code) == ("failed", 1005)


@pytest.mark.parametrize(("sent", "broke"), [
    (bytes([0x97, 5]) + b"abcde", "sent a frame with the reserved opcode 0x7"),
    (masked_server_frame(0x1, b"two"), "sent a masked text frame"),
    (bytes([0x82, 127]) + (1 << 63).to_bytes(8, "big") + b"xxxx", "sent a message larger than"),
    (server_frame(0x9, b"p", rsv=4), "sent a ping frame with RSV1 set"),
], ids=["reserved opcode", "masked", "2^63 bytes", "ping with RSV1"])
def test_a_frame_our_side_refused_is_never_read_as_the_servers_answer(probe, hostile, store, sent, broke):
    url = hostile(probe_peers.sends_after_upgrade(sent))
    result = probe(url, "messages,heartbeat,size")
    for key in ("text", "binary", "heartbeat"):
        cell = result.cell(key)
        assert cell.value.startswith(f"no — broke the protocol: {broke}"), (key, cell.value)
    size = result.cell("size_limit")
    assert not size.known and f"the endpoint broke the protocol: {broke}" in size.value
    assert not result.cell("idle_timeout").known
    records = [store.session(i) for i in result.cell("text").sessions]
    assert {(r.status, r.close_code) for r in records if r is not None} == {("failed", 1002 if "larger" not in broke
                                                                              else 1009)}


def test_a_close_answered_without_a_code_and_a_ping_with_the_upgrade_read_as_they_are(probe, hostile):
    closing = probe(hostile(probe_peers.answers_close_without_code), "closing").cell("closing")
    assert closing.value == "answers without a code; 1005 → closed without a code"
    # a ping read in the same packet as the upgrade's answer came at the start, never before it
    heartbeat = probe(hostile(probe_peers.sends_after_upgrade(server_frame(0x9, b"hb"))), "heartbeat")
    assert heartbeat.cell("heartbeat").value == "every 0.0 s; unanswered: kept open"
    assert heartbeat.cell("heartbeat").data["interval_s"] == 0.0


def test_a_server_refusing_every_upgrade_is_not_said_to_check_origin_or_refuse_subprotocols(probe, hostile):
    from tests.peers import http_status

    result = probe(hostile(http_status(404, "Not Found")), "origin,subprotocols")
    assert not result.connected
    for key, without in (("origin", "the foreign Origin"), ("subprotocols", "the subprotocols the probe adds")):
        cell = result.cell(key)
        assert not cell.known, cell.value
        assert cell.value == f"unknown — no upgrade succeeded: without {without} it was refused too (404)"


def test_a_wss_endpoint_with_its_connection_tls_settings_and_h2_told_by_alpn(probe, websockets_server, tmp_path):
    ca = Authority(tmp_path)
    context = ca.issue("server").server_context()
    context.set_alpn_protocols(["h2", "http/1.1"])  # a TLS front that would speak HTTP/2
    peer = websockets_server(ssl=context)
    url = peer.url.replace("ws://", "wss://")
    result = probe(url, "h2,messages", tls=Tls(ca_file=str(ca.cert)))
    # the cases connect with the connection's CA: the private one is trusted
    assert result.cell("text").value == "yes, echoed"
    # it chose h2 by ALPN but, speaking HTTP/1.1 only, drops the connection at the HTTP/2 preface: no SETTINGS
    h2 = result.cell("h2")
    assert h2.known is False and h2.data == {"alpn": "h2"}
    assert h2.value.startswith("unknown — it speaks h2 (ALPN chose h2), but its SETTINGS were not read: "
                               "the connection ended after 0 bytes (")


@pytest.mark.parametrize(("extended_connect", "value"), [
    (True, "yes — SETTINGS_ENABLE_CONNECT_PROTOCOL=1"),
    (False, "no — h2 without SETTINGS_ENABLE_CONNECT_PROTOCOL"),
], ids=["extended-connect", "plain-h2"])
def test_an_h2_server_is_told_by_its_settings(probe, run, tmp_path, extended_connect, value):
    ca = Authority(tmp_path)
    peer = probe_peers.H2Peer(ca.issue("server").server_context(), extended_connect)
    url = run(peer.start())
    try:
        result = probe(url, "h2", tls=Tls(ca_file=str(ca.cert)))
    finally:
        run(peer.stop())
    h2 = result.cell("h2")
    assert h2.value == value and h2.known
    assert h2.data["settings"]["0x8"] == (1 if extended_connect else 0)  # h2 lists it either way
    assert h2.data["settings"]["0x3"] == 100  # its SETTINGS_MAX_CONCURRENT_STREAMS, read from the same frame
    assert peer.prefaces == 1  # the h2 server took the probe's preface as a valid one


@pytest.fixture
def socketio(qtbot: Any, tmp_path: Path) -> Iterator[str]:
    node_peers_ready()
    out = tmp_path / "socketio.out"
    proc = probe_peers.start_socketio(out)
    try:
        qtbot.waitUntil(lambda: probe_peers.node_port(proc, out) > 0, timeout=30_000)
        yield f"ws://127.0.0.1:{probe_peers.node_port(proc, out)}{probe_peers.SOCKETIO_PATH}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_socketio_engine_io_endpoint_row(probe, socketio):
    result = probe(socketio, "versions,messages,utf8,pings,heartbeat,compression,closing")
    # socket.io's WebSocket is node's ws underneath: 13 and 8, the list when refusing another
    assert result.cell("versions").value == "13, 8; 99 → 400 listing 13, 8"
    # it speaks Engine.IO: on connect it sends its open packet ("0{sid…}") whatever we send, so a text message
    # looks answered and so does invalid UTF-8 — the probe tells what it saw, the packet came first
    assert result.cell("text").value == "yes, answered"
    assert result.cell("utf8").value == "accepted (answered)"
    # a binary message that is no Engine.IO packet ends the connection, without a close code
    assert result.cell("binary").value.startswith("no — ")
    assert result.cell("pongs").data["conforms"] is True
    # Engine.IO's heartbeat is its own "2"/"3" packets every 25 s, never a WebSocket ping
    assert result.cell("heartbeat").value == "none within 3 s"
    assert result.cell("compression").value == "no"  # perMessageDeflate off by default
    assert result.cell("closing").value == "echoes our code; 1005 → closed with 1002"


@pytest.fixture
def lws(qtbot: Any, tmp_path: Path) -> Iterator[str]:
    out = tmp_path / "lws.out"
    proc, port = probe_peers.start_lws(out)
    try:
        qtbot.waitUntil(lambda: probe_peers.listening(proc, out, port), timeout=30_000)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_libwebsockets_test_server_row(probe, lws):
    # offered first, its mirror protocol sends each message back to every client on it: here, only us
    result = probe(lws, "versions,messages,utf8,fragments,pings,subprotocols,closing",
                   handshake=Handshake(subprotocols=(probe_peers.LWS_MIRROR,)))
    # it takes any Sec-WebSocket-Version, 99 too ("Unknown client spec version" in its log)
    assert result.cell("versions").value == "13, 8, 7, 99; 99 → accepted, no list"
    assert result.cell("text").value == "yes, echoed"
    # it mirrors our binary message as a text frame, not UTF-8: our side refused it, no echo
    assert result.cell("binary").value == ("no — broke the protocol: sent text that is not valid UTF-8 "
                                           "(invalid start byte)")
    assert result.cell("utf8").value == "1007"
    assert result.cell("fragmentation").value == "yes, with pings between"
    assert result.cell("sends_fragmented").value == "no"
    assert result.cell("pongs").data["conforms"] is True
    assert result.cell("subprotocols").value == probe_peers.LWS_MIRROR
    assert result.cell("closing").value == "echoes our code; 1005 → closed with 1002"


def test_libwebsockets_drops_an_offer_of_subprotocols_it_does_not_speak(probe, lws):
    result = probe(lws, "subprotocols")
    subprotocols = result.cell("subprotocols")
    assert subprotocols.known is False and "closed the connection without answering" in subprotocols.value


@pytest.fixture
def mock_url(qtbot: Any) -> Iterator[Callable[[str], str]]:
    controller, mock = probe_peers.mock_server()
    yield lambda path: f"ws://127.0.0.1:{controller.server.port}{path}"
    controller.stop()
    mock.deleteLater()
    controller.deleteLater()


def test_mock_server_fault_rules_make_each_column_come_out_another_way(probe, mock_url):
    rows = {path: probe(mock_url(path), cases, handshake=Handshake(origin=probe_peers.MOCK_ORIGINS.get(path, "")))
            for path, cases, _ in probe_peers.MOCK_ROUTES}

    echo = rows["/echo"]
    assert echo.cell("text").value == echo.cell("binary").value == "yes, echoed"
    assert echo.cell("utf8").value == "1007"
    assert echo.cell("fragmentation").value == "yes, with pings between"
    assert echo.cell("sends_fragmented").value == "no"
    assert echo.cell("pongs").value.startswith("yes, RTT p50")
    assert echo.cell("subprotocols").value == "chat"  # the first the route speaks that we offer
    assert echo.cell("closing").value == "echoes our code; 1005 → closed with 1002"
    # wsinspector's own server takes 13 only and answers another version with 400, as websockets does
    assert echo.cell("versions").value == "13; 99 → 400, no list"

    # pings: answered at once, 2 s late (past the 1 s the probe waits) or never
    assert rows["/pongs-late"].cell("pongs").value == "no"
    assert rows["/pongs-never"].cell("pongs").value == "no"
    assert rows["/pongs-never"].cell("conformance").data["checks"]["ping/pong"] is False

    heartbeat = rows["/heartbeat"].cell("heartbeat")
    assert heartbeat.value.startswith("every ") and heartbeat.value.endswith(" s; unanswered: kept open")
    assert "interval_s" in heartbeat.data
    # a server that ends an idle connection: no heartbeat, an idle timeout, its own close code
    assert rows["/idle"].cell("heartbeat").value.startswith("none; closed with 4001 after ")
    assert "seconds" in rows["/idle"].cell("idle_timeout").data

    fragmented = rows["/fragmented"]
    assert fragmented.cell("sends_fragmented").value == "yes (3 frames)"
    assert fragmented.cell("subprotocols").value == "none picked"

    closes = rows["/closes"]
    assert closes.cell("text").value == closes.cell("binary").value == "no — closed with 4002"
    # our close frame is echoed, but what it sends on its own is another code
    assert 4002 in closes.cell("closing").data["codes_sent"]

    listed = rows["/upgrade-426-listed"].cell("versions")
    assert listed.value == "none; 99 → 426 listing 13" and listed.data["conforms"] is True
    unlisted = rows["/upgrade-426"].cell("versions")
    assert unlisted.value == "none; 99 → 426, no list" and unlisted.data["conforms"] is False
    # it refuses every upgrade, ours without the subprotocols too: that says nothing of the subprotocols
    refuses = rows["/refuses"].cell("subprotocols")
    assert refuses.value == ("unknown — no upgrade succeeded: without the subprotocols the probe adds it was "
                             "refused too (400)")
    # a route that takes http://allowed.example only: the probe's foreign Origin is refused
    origin = rows["/origin-checked"].cell("origin")
    assert origin.value == "checked (403)" and origin.data["checked"] is True
    assert "is not allowed here" in origin.detail
    # our close frame with 4000 answered with the route's own 1001, not echoed
    closing = rows["/answers-1001"].cell("closing")
    assert closing.value == "answers 1001; 1005 → closed with 1002" and closing.data["conforms"] is False


@pytest.fixture
def tomcat(tmp_path: Path) -> Iterator[str]:
    from tests.servlet.tomcat import Tomcat

    server = Tomcat(tmp_path / "tomcat")
    server.start()
    try:
        yield server.url + "echoAnnotation"
    finally:
        server.stop()


def test_tomcat_row(probe, tomcat):
    result = probe(tomcat, "versions,messages,utf8,fragments,compression,subprotocols,closing")
    # 13 only, and another version answered 426 with the list, as RFC 6455 §4.4 says
    versions = result.cell("versions")
    assert versions.value == "13; 99 → 426 listing 13" and versions.data["conforms"] is True
    assert result.cell("text").value == result.cell("binary").value == "yes, echoed"
    assert result.cell("utf8").value == "1007"
    assert result.cell("fragmentation").value == "yes, with pings between"
    # its echo example passes on each part as it comes: our 256 KiB message came back in frames
    assert result.cell("sends_fragmented").value.startswith("yes (")
    assert result.cell("compression").value == "yes, compresses"
    assert result.cell("subprotocols").value == "none picked"
    assert result.cell("closing").value == "echoes our code; 1005 → closed with 1002"
