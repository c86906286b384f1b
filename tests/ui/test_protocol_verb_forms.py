"""The protocol bar's forms of STOMP (stomp-broker-js in node), SignalR and Phoenix (servers answering as those
protocols' specifications say: theirs need .NET and Elixir): each verb's fields filled as a user does, sent, the
frame the protocol wrote is on the wire, and what the server answered is in the Protocol list against the verb."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox

from tests.decoders.test_real_peers import node_server  # noqa: F401
from tests.ui.helpers import click, close_connection, replace_text, show_window
from tests.ui.test_protocol_verbs import LONG_WAIT_MS, _connect_in_mode, _field, _sent
from tests.ui.test_tests_view import run_test
from wsinspector.core.profiles import ConnectionProfile, Decoding, Endpoint
from wsinspector.core.scenario.yaml_io import read_test
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.protocol_bar import ProtocolBar
from wsinspector.ui.protocol_list import REPLY, STATE, WHAT


def _rows_starting(bar_list: Any, start: str) -> list[tuple[str, ...]]:
    return [row for row in bar_list.rows() if row[0].startswith(start)]


def _send(qtbot: Any, window: MainWindow, bar: ProtocolBar, frame: bytes) -> None:
    """Click Send and wait until ``frame`` went."""
    click(qtbot, bar.send_button)
    assert bar.error.text() == ""
    qtbot.waitUntil(lambda: frame in _sent(window), timeout=LONG_WAIT_MS)


def test_stomp_subscribe_send_and_disconnect_through_the_forms(
    qtbot: Any, window: MainWindow, node_server: Callable[[str], int], tmp_path: Path  # noqa: F811
) -> None:
    show_window(qtbot, window)
    url = f"ws://127.0.0.1:{node_server('stomp_server.mjs')}/stomp"
    profile = ConnectionProfile(name="stomp", endpoint=Endpoint(url), decoding=Decoding(mode="stomp"))
    bar = _connect_in_mode(qtbot, window, profile)
    listed = window.inspector.protocol.list
    qtbot.waitUntil(lambda: "connected" in [row[2] for row in listed.rows()], timeout=LONG_WAIT_MS)
    form = bar.choose("subscribe")
    assert isinstance(form.inputs["ack"], QComboBox) and isinstance(form.inputs["receipt"], QCheckBox)
    replace_text(qtbot, _field(bar, "destination"), "/topic/echo")
    replace_text(qtbot, _field(bar, "id"), "echoes")
    _send(qtbot, window, bar, b"SUBSCRIBE\nid:echoes\ndestination:/topic/echo\nack:auto\n\n\0")
    bar.choose("send")
    replace_text(qtbot, _field(bar, "destination"), "/queue/echo")
    replace_text(qtbot, _field(bar, "body"), '{"p": 1}')
    replace_text(qtbot, _field(bar, "content_type"), "application/json")
    _send(qtbot, window, bar, b'SEND\ndestination:/queue/echo\ncontent-type:application/json\ncontent-length:8\n\n'
                              b'{"p": 1}\0')
    # what the broker sent back to /topic/echo is listed under the subscription
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "subscribe")] == ["receiving (1)"],
                    timeout=LONG_WAIT_MS)
    tree = listed.tree
    (subscription,) = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                       if tree.topLevelItem(i).text(WHAT).startswith("subscribe")]
    assert subscription.text(WHAT) == "subscribe /topic/echo echoes auto"
    message = subscription.child(0)
    assert message.text(WHAT).startswith("MESSAGE /topic/echo") and message.text(REPLY) == '{"json":{"p":1}}'
    assert [row[2] for row in _rows_starting(listed, "send")] == ["sent"]
    # DISCONNECT asks for a receipt by default: the broker's RECEIPT acknowledges it
    form = bar.choose("disconnect")
    assert form.inputs["receipt"].isChecked()
    _send(qtbot, window, bar, b"DISCONNECT\nreceipt:receipt-0\n\n\0")
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "disconnect")] == ["acknowledged"],
                    timeout=LONG_WAIT_MS)
    assert _rows_starting(listed, "disconnect")[0][4] == "receipt receipt-0 for DISCONNECT"
    # the session saved as a test speaks STOMP again and passes against the same broker
    close_connection(qtbot, window)
    saved = tmp_path / "echo.wstest.yaml"
    assert window.save_session_as_test(path=saved)
    assert read_test(saved).protocol == "stomp"
    result = run_test(qtbot, window.tests_view)
    assert result.ok, result


def test_signalr_invoke_send_and_stream_through_the_forms(qtbot: Any, window: MainWindow, signalr_hub: Any) -> None:
    show_window(qtbot, window)
    profile = ConnectionProfile(name="hub", endpoint=Endpoint(signalr_hub.url), decoding=Decoding(mode="signalr"))
    bar = _connect_in_mode(qtbot, window, profile)
    listed = window.inspector.protocol.list
    qtbot.waitUntil(lambda: "connected" in [row[2] for row in listed.rows()], timeout=LONG_WAIT_MS)
    assert bar.verb.currentData() == "invoke"
    replace_text(qtbot, _field(bar, "target"), "Add")
    replace_text(qtbot, _field(bar, "arguments"), "[1, 2]")
    _send(qtbot, window, bar, b'{"type":1,"target":"Add","arguments":[1,2],"invocationId":"0"}\x1e')
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "invoke")] == ["acknowledged"],
                    timeout=LONG_WAIT_MS)
    assert _rows_starting(listed, "invoke")[0][:2] == ("invoke Add [1, 2]", "0")  # as typed
    assert _rows_starting(listed, "invoke")[0][4] == "3"
    # a send has no answer; the hub's call back is a row of its own
    bar.choose("send")
    replace_text(qtbot, _field(bar, "target"), "Broadcast")
    replace_text(qtbot, _field(bar, "arguments"), '["hi"]')
    _send(qtbot, window, bar, b'{"type":1,"target":"Broadcast","arguments":["hi"]}\x1e')
    qtbot.waitUntil(lambda: bool(_rows_starting(listed, "event:")), timeout=LONG_WAIT_MS)
    assert [row[2] for row in _rows_starting(listed, "send")] == ["sent"]
    event = _rows_starting(listed, "event:")[0]
    assert event[0] == 'event: ReceiveMessage ["hi"]' and event[4] == '["hi"]'
    # a stream's items are listed under it, and its completion ends it
    bar.choose("stream")
    replace_text(qtbot, _field(bar, "target"), "Counter")
    replace_text(qtbot, _field(bar, "arguments"), "[2]")
    _send(qtbot, window, bar, b'{"type":4,"target":"Counter","arguments":[2],"invocationId":"1"}\x1e')
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "stream")] == ["acknowledged"],
                    timeout=LONG_WAIT_MS)
    tree = listed.tree
    (stream,) = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                 if tree.topLevelItem(i).text(WHAT).startswith("stream")]
    assert [stream.child(i).text(REPLY) for i in range(stream.childCount())] == ["1", "2"]
    # an unknown method's error completion says so against it
    bar.choose("invoke")
    replace_text(qtbot, _field(bar, "target"), "Nope")
    replace_text(qtbot, _field(bar, "arguments"), "[]")
    _send(qtbot, window, bar, b'{"type":1,"target":"Nope","arguments":[],"invocationId":"2"}\x1e')
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "invoke Nope")] == ["error"],
                    timeout=LONG_WAIT_MS)
    assert _rows_starting(listed, "invoke Nope")[0][4] == "Nope failed: Unknown hub method 'Nope'"


def test_phoenix_join_push_and_leave_through_the_forms(qtbot: Any, window: MainWindow,
                                                       phoenix_endpoint: Any) -> None:
    show_window(qtbot, window)
    profile = ConnectionProfile(name="phx", endpoint=Endpoint(phoenix_endpoint.url),
                                decoding=Decoding(mode="phoenix"))
    bar = _connect_in_mode(qtbot, window, profile)
    listed = window.inspector.protocol.list
    assert bar.verb.currentData() == "join"
    replace_text(qtbot, _field(bar, "topic"), "room:private")
    replace_text(qtbot, _field(bar, "payload"), '{"token": "t0k"}')
    _send(qtbot, window, bar, b'["1","1","room:private","phx_join",{"token":"t0k"}]')
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "join")] == ["acknowledged"],
                    timeout=LONG_WAIT_MS)
    assert _rows_starting(listed, "join")[0][:2] == ('join room:private {"token": "t0k"}', "1")
    assert _rows_starting(listed, "join")[0][4] == '{"joined":"room:private"}'
    # a push is replied to, and the broadcast it caused is a row of its own
    bar.choose("push")
    replace_text(qtbot, _field(bar, "topic"), "room:private")
    replace_text(qtbot, _field(bar, "event"), "shout")
    replace_text(qtbot, _field(bar, "payload"), '{"body": "hi"}')
    _send(qtbot, window, bar, b'["1","2","room:private","shout",{"body":"hi"}]')
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "push")] == ["acknowledged"]
                    and bool(_rows_starting(listed, "event:")), timeout=LONG_WAIT_MS)
    assert _rows_starting(listed, "event:")[0][0] == 'event: room:private shout {"body":"hi"}'
    # a push to a topic not joined is refused by the session and sends nothing
    sent = len(_sent(window))
    replace_text(qtbot, _field(bar, "topic"), "room:lobby")
    click(qtbot, bar.send_button)
    assert bar.error.text() == "join room:lobby before pushing to it" and len(_sent(window)) == sent
    form = bar.choose("leave")
    replace_text(qtbot, form.inputs["topic"], "room:private")
    _send(qtbot, window, bar, b'["1","3","room:private","phx_leave",{}]')
    qtbot.waitUntil(lambda: [row[2] for row in _rows_starting(listed, "leave")] == ["acknowledged"],
                    timeout=LONG_WAIT_MS)
    tree = listed.tree
    leave = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                 if tree.topLevelItem(i).text(WHAT).startswith("leave"))
    assert leave.text(STATE) == "acknowledged"

