"""Mock rules files (core/mock): what a file says is what a client of the mock gets, message by message and
deadline by deadline; a bad file is one line naming the line, the column and the field."""

from __future__ import annotations

import random

import pytest

from wsinspector.core.mock.model import CLOSE, RAW, SEND
from wsinspector.core.mock.replay import Recorded, route_from_messages, route_from_test
from wsinspector.core.mock.session import MockSession
from wsinspector.core.mock.yaml_io import MockFileError, load_rules
from wsinspector.core.scenario.yaml_io import load

RULES = """\
version: 1
name: Shop
variables: {shop: corner}
subprotocols: [v1.shop]
routes:
  /orders:
    on_connect:
      - text: "hello {{client}} at {{shop}} on {{path}}"
    rules:
      - name: order
        match: {json: "$.type", equals: order}
        capture: {item: "$.item", qty: "$.qty"}
        delay: 0.5
        do:
          - json: {ok: true, item: "{{item}}", qty: "{{qty}}", n: "{{$counter}}"}
          - wait: 1
          - text: "shipped {{item}}"
            fragments: 3
      - match: {regex: "^say (?P<word>\\\\w+)$"}
        times: 1
        do: {text: "{{word}}!"}
      - match: {binary: "00 ff"}
        do: {binary: "ff 00"}
      - match: {contains: quit}
        do: [{close: 4001, reason: "as asked"}]
    every:
      - interval: 2
        count: 2
        do: {text: "tick {{$counter}}"}
  /faults:
    pings: late
    pong_delay: 3
    rules:
      - match: {any: true}
        do:
          - invalid_utf8: true
          - raw: {opcode: 3, data: "01"}
          - text: masked
            masked: true
          - close_mid_message: "never finished"
  "*":
    handshake: {status: 418, headers: {X-Why: teapot}, body: "short and stout"}
"""


def _session(path: str) -> MockSession:
    rules = load_rules(RULES)
    route = rules.route(path)
    assert route is not None
    return MockSession(route, dict(rules.variables), path=path, client="127.0.0.1:5000",
                       wall_clock=lambda: 1_700_000_000.0, rng=random.Random(7))


def test_a_clients_conversation_with_the_rules() -> None:
    session = _session("/orders")
    session.opened(10.0)
    [hello] = session.due(10.0)
    assert hello.data == b"hello 127.0.0.1:5000 at corner on /orders" and hello.cause == "on connect"
    assert session.next_deadline() == 12.0  # the first periodic push

    assert session.received(b'{"type": "order", "item": "tea", "qty": 2}', True, 10.5) == "order"
    assert session.due(10.9) == []  # the rule's delay
    [ack] = session.due(11.0)
    assert ack.data == b'{"ok":true,"item":"tea","qty":"2","n":"2"}' and ack.cause == "order"
    [shipped, tick] = session.due(12.0)  # due at the same time: the one scheduled first goes first
    assert (shipped.data, shipped.action.fragments) == (b"shipped tea", 3)
    assert (tick.data, tick.cause) == (b"tick 4", "every 2 s")
    [last_tick] = session.due(14.0)
    assert last_tick.data == b"tick 5"
    assert session.next_deadline() is None  # count: 2, nothing queued

    assert session.received(b"say hi", True, 20.0) is not None
    assert session.due(20.0)[0].data == b"hi!"
    assert session.received(b"say again", True, 21.0) is None  # times: 1
    assert session.received(b"\x00\xff", False, 22.0) is not None
    assert session.due(22.0)[0].data == b"\xff\x00"
    assert session.received(b"\x00\xfe", False, 23.0) is None
    assert session.received(b"please quit now", True, 24.0) is not None
    [close] = session.due(24.0)
    assert (close.action.kind, close.action.code, close.action.reason) == (CLOSE, 4001, "as asked")


def test_fault_actions_and_late_pongs() -> None:
    session = _session("/faults")
    session.opened(0.0)
    session.ping_received(b"p1", 1.0)
    session.received(b"anything", True, 1.0)
    bad, raw, masked, cut = session.due(1.0)
    assert (bad.action.kind, bad.action.raw_text, bad.data) == (SEND, True, b"bad \xc3\x28 text")
    assert (raw.action.kind, raw.action.opcode, raw.data) == (RAW, 3, b"\x01")
    assert masked.action.masked and masked.data == b"masked"
    assert cut.data == b"never finished"
    assert session.due(3.9) == []
    [pong] = session.due(4.0)
    assert (pong.cause, pong.data) == ("late pong", b"p1")


def test_routes_and_the_handshake() -> None:
    rules = load_rules(RULES)
    fallback = rules.route("/elsewhere")
    assert fallback is not None and fallback.path == "*"
    assert (fallback.handshake.status, fallback.handshake.headers, fallback.handshake.body) == (
        418, (("X-Why", "teapot"),), b"short and stout")
    orders = rules.route("/orders")
    assert orders is not None and orders.handshake.subprotocols == ("v1.shop",)
    only = load_rules("version: 1\nrules:\n  - match: {any: true}\n    do: {text: x}\n")
    assert only.route("/any/path") is not None
    assert load_rules("version: 1\nroutes:\n  /a:\n    handshake: never\n").route("/b") is None


def test_a_route_that_checks_the_origin() -> None:
    rules = load_rules("version: 1\nroutes:\n  /strict:\n    origins: [http://allowed.example, https://b.example]\n"
                       "  /open: {on_connect: [{text: hi}]}\n")
    strict, anyone = rules.route("/strict"), rules.route("/open")
    assert strict is not None and strict.origins == ("http://allowed.example", "https://b.example")
    assert anyone is not None and anyone.origins == ()  # no list: any Origin


def test_a_route_that_answers_a_close_with_its_own_code() -> None:
    rules = load_rules("version: 1\nroutes:\n  /leaves:\n    on_close: {code: 1001, reason: going away}\n"
                       "  /polite: {on_close: {code: 4000}}\n  /echoes: {pings: never}\n")
    leaves, polite, echoes = rules.route("/leaves"), rules.route("/polite"), rules.route("/echoes")
    assert leaves is not None and leaves.on_close == (1001, "going away")
    assert polite is not None and polite.on_close == (4000, "")
    assert echoes is not None and echoes.on_close is None  # the client's own code echoed, as RFC 6455 says


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "line 1, column 1: the file is empty", id="empty"),
        pytest.param("rules: []\n", "line 1, column 1: this is not a wsinspector mock file", id="no-version"),
        pytest.param("version: 1\nrules:\n  - match: {regex: '('}\n    do: {text: x}\n",
                     "line 3, column 20: rules[0].match.regex: not a regular expression", id="bad-regex"),
        pytest.param("version: 1\nrules:\n  - match: {text: a}\n    do: {text: '{{who}}'}\n",
                     "line 4, column 16: rules[0].do.text: unknown variable {{who}}", id="unknown-variable"),
        pytest.param("version: 1\non_connect:\n  - text: a\n    fragmnts: 2\n",
                     "line 4, column 5: on_connect[0]: unknown key 'fragmnts'; did you mean 'fragments'?",
                     id="misspelt-key"),
        pytest.param("version: 1\nrules:\n  - match: {json: '$.a'}\n    do: {text: x}\n",
                     "line 3, column 12: rules[0].match: 'equals' is missing", id="json-without-value"),
        pytest.param("version: 1\npings: late\nrules: []\n", "'pong_delay' is missing", id="late-without-delay"),
        pytest.param("version: 1\non_connect:\n  - raw: {opcode: 1, data: '41'}\n",
                     "line 3, column 10: on_connect[0].raw: this is an ordinary message", id="raw-ordinary"),
        pytest.param("version: 1\nroutes:\n  chat: {}\n", "line 3, column 3: routes: 'chat' is not a path",
                     id="route-not-a-path"),
        pytest.param("version: 1\nrules: [\n", "line 3, column 1: not valid YAML", id="bad-yaml"),
        pytest.param("version: 1\nevery:\n  - interval: 0\n    do: {text: x}\n",
                     "line 3, column 15: every[0].interval: must be a positive number", id="zero-interval"),
        pytest.param("version: 1\norigins: http://a.example\nrules: []\n",
                     "line 2, column 10: origins: must be a list", id="origins-not-a-list"),
        pytest.param("version: 1\nrules: []\non_close: {code: 1005}\n",
                     "line 3, column 18: on_close.code: 1005 is not a code a close frame may carry",
                     id="on-close-forbidden-code"),
        pytest.param("version: 1\nrules: []\non_close: {code: 999}\n",
                     "line 3, column 18: on_close.code: must be from 1000 to 4999", id="on-close-out-of-range"),
        pytest.param("version: 1\nrules: []\non_close: {reason: bye}\n",
                     "line 3, column 11: on_close: 'code' is missing", id="on-close-without-code"),
        pytest.param("version: 1\nrules: []\non_close: 1001\n",
                     "line 3, column 11: on_close: must be a mapping", id="on-close-not-a-mapping"),
    ],
)
def test_a_bad_rules_file_is_one_line_with_its_place(text: str, expected: str) -> None:
    with pytest.raises(MockFileError) as caught:
        load_rules(text)
    message = str(caught.value)
    assert message.startswith(expected) or expected in message, message
    assert "\n" not in message


def test_a_recording_played_back_as_the_server() -> None:
    recorded = [Recorded(False, True, b"hello", 0.0), Recorded(True, True, b"q1", 1.0),
                Recorded(False, True, b"a1", 1.5), Recorded(False, False, b"\x01", 2.5),
                Recorded(True, True, b"q2", 3.0), Recorded(False, True, b"{{not a variable}}", 3.0)]
    route = route_from_messages(recorded, speed=2.0)
    session = MockSession(route, {}, wall_clock=lambda: 0.0)
    session.opened(100.0)
    assert [a.data for a in session.due(100.0)] == [b"hello"]
    assert session.received(b"anything at all", True, 110.0) == "recorded reply 1"
    assert session.due(110.2) == []  # 0.5 s recorded, at double speed
    [a1] = session.due(110.25)
    [binary] = session.due(110.75)
    assert (a1.data, binary.data, binary.action.is_text) == (b"a1", b"\x01", False)
    session.received(b"x", False, 120.0)
    assert [a.data for a in session.due(120.0)] == [b"{{not a variable}}"]  # recorded bytes, never templates
    assert session.received(b"more", True, 121.0) is None  # the recording has no third answer


def test_a_test_file_played_back_as_the_server() -> None:
    test = load("version: 1\nurl: ws://x/\nvariables: {who: Ada}\nsteps:\n"
                "  - expect: {text: 'welcome'}\n"
                "  - send: {text: hi}\n"
                "  - expect: {json: {hello: '{{who}}'}}\n"
                "  - expect: {regex: '.*'}\n"
                "  - send: {binary: '00'}\n"
                "  - wait: 0.5\n"
                "  - expect: {binary: 'ff'}\n")
    route, warnings = route_from_test(test)
    assert [a.data for a in route.on_connect] == [b"welcome"]
    assert [[(a.kind, a.data) for a in group] for group in route.sequence] == [
        [("send", b'{"hello":"Ada"}')], [("wait", b""), ("send", b"\xff")]]
    assert warnings == ["step 4: only an exact text, JSON or binary message can be sent back; this expectation is "
                        "skipped"]
