"""A test file that speaks Socket.IO on the Tests page: its steps shown as they are (emit, expect an event),
run against python-socketio (200 ms pings, so the run must answer them), saved back unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.decoder_peers import SocketIoServer
from tests.ui.helpers_sessions import show_tab
from tests.ui.test_tests_view import cell, run_test, verdicts
from wsinspector.core.scenario.yaml_io import read_test
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.step_models import COL_KIND, COL_SUMMARY

TEST = """\
version: 1
name: chat over socket.io
url: {url}
protocol: socket.io
steps:
  - name: ask
    emit: {{event: ask, args: [21], ack: true}}
  - name: the answer
    expect:
      ack: [{{double: 42}}, {{$bytes: fffe}}]
  - wait: 1
  - name: chat
    emit: {{event: chat, args: [hi]}}
  - name: the reply
    expect:
      event: reply
      args: [{{text: hi, blob: {{$bytes: "000102"}}}}]
"""


@pytest.fixture
def quick_socketio(run: Callable[..., Any]) -> Iterator[SocketIoServer]:
    server = run(SocketIoServer(ping_interval=0.2, ping_timeout=0.5).start())
    yield server
    run(server.stop())


def test_a_socketio_test_shows_its_steps_runs_and_saves_back_unchanged(qtbot: Any, window: MainWindow,
                                                                       tmp_path: Path,
                                                                       quick_socketio: SocketIoServer):
    show_tab(qtbot, window, "Tests")
    view = window.tests_view
    path = tmp_path / "chat.wstest.yaml"
    path.write_text(TEST.format(url=quick_socketio.url), "utf-8")
    assert view.open_file(path)
    table = view.editor.table
    assert [cell(table, row, COL_KIND) for row in range(5)] == ["emit", "expect", "wait", "emit", "expect"]
    assert cell(table, 0, COL_SUMMARY) == 'event="ask" args=[21] ack=true'
    assert cell(table, 4, COL_SUMMARY) == 'event reply [{"text":"hi","blob":{"$bytes":"000102"}}]'
    assert not view.editor.step_editor.isEnabled()  # a protocol step is edited in its file
    result = run_test(qtbot, view)
    assert result.ok, result
    assert [mark for mark, _, _ in verdicts(view)] == ["✓"] * 5
    assert view.test() == read_test(path)
