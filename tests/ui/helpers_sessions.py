"""Helpers for the Sessions page, stored sessions, filters, export/import and long tasks.

Like ``tests/ui/helpers.py`` they drive the real window the way a user does where that is practical; bulk
traffic goes through the composer's own signals (what its Send and Ping buttons emit) so that hundreds of
messages do not have to be typed key by key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QComboBox, QDialogButtonBox, QLineEdit, QPlainTextEdit, QWidget

from tests.peers import QtPeer
from tests.ui.helpers import (
    LEFT,
    WAIT_MS,
    button_with_text,
    click,
    close_connection,
    connect,
    replace_text,
    send_and_wait_for_echo,
)
from wsinspector.app.tasks import ChunkedTask
from wsinspector.app.throttle import Throttle
from wsinspector.core.export import SessionInfo, write_session
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.model import header
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.store import SessionStatus, Store
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.sessions_view import COLUMNS as SESSION_COLUMNS

#: for tasks over hundreds of thousands of frames
LONG_WAIT_MS = 60_000

# -- tabs and the Sessions page -----------------------------------------------------------------------


def show_tab(qtbot: Any, window: MainWindow, title: str) -> None:
    """Click a tab of the main window by its title."""
    bar = window.tabs.tabBar()
    index = next((i for i in range(bar.count()) if bar.tabText(i) == title), -1)
    assert index >= 0, f"no tab {title!r}"
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert window.tabs.currentIndex() == index


def session_rows(window: MainWindow) -> list[dict[str, str]]:
    """The Sessions table as the user reads it: one dict per row, by column title."""
    model = window.sessions_view.model
    return [
        {title: model.data(model.index(row, col)) for col, title in enumerate(SESSION_COLUMNS)}
        for row in range(model.rowCount())
    ]


def session_ids(window: MainWindow) -> list[int]:
    model = window.sessions_view.model
    ids = []
    for row in range(model.rowCount()):
        record = model.record(row)
        assert record is not None
        ids.append(record.id)
    return ids


def session_row(window: MainWindow, session_id: int) -> int:
    row = window.sessions_view.model.row_of(session_id)
    assert row is not None, f"session {session_id} is not listed"
    return row


def session_tooltip(window: MainWindow, session_id: int) -> str:
    model = window.sessions_view.model
    tip = model.data(model.index(session_row(window, session_id), 0), Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tip, str)
    return tip


def click_session(qtbot: Any, window: MainWindow, session_id: int) -> None:
    table = window.sessions_view.table
    index = window.sessions_view.model.index(session_row(window, session_id), 0)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualRect(index).center())
    current = window.sessions_view.current_record()
    assert current is not None and current.id == session_id


def double_click_session(qtbot: Any, window: MainWindow, session_id: int) -> None:
    table = window.sessions_view.table
    index = window.sessions_view.model.index(session_row(window, session_id), 0)
    table.scrollTo(index)
    pos = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), LEFT, pos=pos)
    qtbot.mouseDClick(table.viewport(), LEFT, pos=pos)


def sessions_button(window: MainWindow, text: str) -> QAbstractButton:
    return button_with_text(window.sessions_view, text)


def open_stored(qtbot: Any, window: MainWindow, session_id: int) -> None:
    """Sessions tab › double-click the session: the Inspector shows it read-only."""
    show_tab(qtbot, window, "Sessions")
    double_click_session(qtbot, window, session_id)
    qtbot.waitUntil(lambda: window.inspector.viewing is not None and window.inspector.viewing.session_id == session_id,
                    timeout=WAIT_MS)
    assert window.tabs.currentIndex() == 0
    assert window.inspector.viewing_bar.isVisible()


def input_dialog_answer(qtbot: Any, text: str) -> Callable[[QWidget], None]:
    """A ModalHandler callback that types ``text`` into a QInputDialog (one line or several) and clicks OK."""
    def answer(dialog: QWidget) -> None:
        editor = dialog.findChild(QPlainTextEdit)
        field: QWidget | None = editor if editor is not None and editor.isVisible() else dialog.findChild(QLineEdit)
        assert field is not None
        replace_text(qtbot, field, text)
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        click(qtbot, buttons.button(QDialogButtonBox.StandardButton.Ok))

    return answer


def message_box_answer(qtbot: Any, button: Any, seen: dict[str, str]) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        seen["title"] = dialog.windowTitle()
        seen["text"] = dialog.text()  # type: ignore[attr-defined]
        click(qtbot, dialog.button(button))  # type: ignore[attr-defined]

    return answer


# -- recording ----------------------------------------------------------------------------------------


def echo_round(qtbot: Any, window: MainWindow, messages: Iterable[str]) -> int:
    """Connect to the selected connection, send each message and see its echo, disconnect; the session id."""
    connect(qtbot, window)
    session_id = window.session.session_id
    assert session_id is not None
    for message in messages:
        send_and_wait_for_echo(qtbot, window, message)
    with qtbot.waitSignal(window.session.session_saved, timeout=WAIT_MS) as saved:
        close_connection(qtbot, window)
    assert saved.args == [session_id]
    return session_id


def counts_total(window: MainWindow) -> int | None:
    """The total number of frames the status bar reports (filtered or not)."""
    text = window.inspector.counts.text()
    match = re.fullmatch(r"frames: ([\d,]+) .*", text) or re.fullmatch(r"showing [\d,]+ of ([\d,]+) frames", text)
    return int(match.group(1).replace(",", "")) if match else None


def wait_total(qtbot: Any, window: MainWindow, total: int, timeout: int = WAIT_MS, told: bool = True) -> None:
    """Wait until the status bar counts ``total`` frames of the live session and (``told``) the timeline has been
    told of them all (it hears of frames once they are stored, a moment after the log holds them; a paused view
    is told nothing)."""
    model = window.inspector.model
    qtbot.waitUntil(lambda: counts_total(window) == total and (not told or model.known_frames >= total),
                    timeout=timeout)


def send_texts(qtbot: Any, window: MainWindow, texts: list[str], wait: bool = True) -> None:
    """Send each text as a text message, as the composer's Send does; wait until every echo is counted."""
    before = len(window.session.log)
    for text in texts:
        window.inspector.composer.send_requested.emit(text.encode("utf-8"), True)
    assert window.inspector.composer.error.isHidden(), window.inspector.composer.error.text()
    if wait:
        wait_total(qtbot, window, before + 2 * len(texts))


def send_pings(qtbot: Any, window: MainWindow, payloads: list[bytes]) -> None:
    """Send pings as the composer's Ping does; wait until every pong is counted."""
    before = len(window.session.log)
    for payload in payloads:
        window.inspector.composer.ping_requested.emit(payload)
    wait_total(qtbot, window, before + 2 * len(payloads))


class FlushWatcher(QObject):
    """Remembers the last frame the live session handed to the views (``frames_appended``)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.last = -1
        window.session.frames_appended.connect(self._on_appended)

    def _on_appended(self, _first: int, last: int) -> None:
        self.last = max(self.last, last)

    def wait_for(self, qtbot: Any, count: int, timeout: int = WAIT_MS) -> None:
        qtbot.waitUntil(lambda: self.last >= count - 1, timeout=timeout)


# -- filters ------------------------------------------------------------------------------------------


def wait_filter_settled(qtbot: Any, window: MainWindow, timeout: int = WAIT_MS) -> None:
    """Wait until typing has paused long enough (the debounce fired) and the filter run has finished."""
    debounce = window.inspector.filter_bar.findChild(Throttle, "filterDebounce")
    assert debounce is not None
    qtbot.waitUntil(lambda: not debounce.pending and not window.inspector.is_filtering, timeout=timeout)


def type_search(qtbot: Any, window: MainWindow, text: str) -> None:
    """Type into the search field (applied after the debounce) and wait for the result."""
    replace_text(qtbot, window.inspector.filter_bar.search, text)
    assert window.inspector.filter_bar.search.text() == text
    wait_filter_settled(qtbot, window)


def choose(qtbot: Any, window: MainWindow, combo: QComboBox, text: str) -> None:
    index = combo.findText(text)
    assert index >= 0, f"no item {text!r}"
    combo.setCurrentIndex(index)
    assert combo.currentText() == text
    wait_filter_settled(qtbot, window)


def toggle(qtbot: Any, window: MainWindow, box: QAbstractButton, checked: bool) -> None:
    if box.isChecked() != checked:
        click(qtbot, box)
    assert box.isChecked() == checked
    wait_filter_settled(qtbot, window)


# -- tasks --------------------------------------------------------------------------------------------


class TaskOutcome:
    """How a ChunkedTask ended. Create it right after the window made the task: the task's first slice
    runs on the next turn of the event loop, so nothing can have been missed."""

    def __init__(self, task: ChunkedTask | None) -> None:
        assert task is not None, "the window did not start a task"
        self.kind = ""
        self.value: object = None
        self.progress: list[tuple[int, int]] = []
        task.finished.connect(lambda value: self._end("finished", value))
        task.failed.connect(lambda message: self._end("failed", message))
        task.cancelled.connect(lambda: self._end("cancelled", None))
        task.progress.connect(lambda done, total: self.progress.append((done, total)))

    def _end(self, kind: str, value: object) -> None:
        self.kind, self.value = kind, value

    def wait(self, qtbot: Any, timeout: int = LONG_WAIT_MS) -> TaskOutcome:
        qtbot.waitUntil(lambda: bool(self.kind), timeout=timeout)
        return self

    def wait_progress(self, qtbot: Any, timeout: int = LONG_WAIT_MS) -> None:
        qtbot.waitUntil(lambda: bool(self.progress) or bool(self.kind), timeout=timeout)
        assert not self.kind, f"the task ended ({self.kind}: {self.value}) before it showed progress"


# -- stored data made quickly -------------------------------------------------------------------------

OUT_TEXT = header.pack(Direction.OUT, Opcode.TEXT, True, False, False, False, True)
IN_TEXT = header.pack(Direction.IN, Opcode.TEXT, True)


def big_payload(seq: int) -> bytes:
    return b"frame %d" % seq


def store_big_session(store: Store, count: int, name: str = "Big session", status: str = SessionStatus.CLOSED,
                      started_ns: int = 5_000_000) -> int:
    """A session of ``count`` small text frames (even seqs out, odd seqs in, 1 ms apart) written straight
    to the store."""
    started_wall = time.time() - 3600
    session_id = store.create_session(name, "ws://127.0.0.1:9/big", started_wall, started_ns)
    batch = 50_000
    for first in range(0, count, batch):
        store.append_frames(session_id, [
            (seq, started_ns + seq * 1_000_000, IN_TEXT if seq % 2 else OUT_TEXT, None, None, None, big_payload(seq))
            for seq in range(first, min(first + batch, count))
        ])
    if status != SessionStatus.LIVE:
        store.finish_session(session_id, status, started_wall + count / 1000, 1000, "")
    return session_id


def write_big_file(path: Path, count: int) -> None:
    """A session file of ``count`` small frames, written by the format's own writer."""
    info = SessionInfo(name="Big file", url="ws://127.0.0.1:9/file", started_wall=time.time() - 60,
                       ended_wall=time.time(), status="closed", close_code=1000)
    frames = (Frame(seq, seq * 1000, Direction.IN if seq % 2 else Direction.OUT, Opcode.TEXT, big_payload(seq), True)
              for seq in range(count))
    with path.open("w", encoding="utf-8", newline="\n") as fp:
        for _ in write_session(fp, info, frames, 0):
            pass


def frame_total(store: Store) -> int:
    """Every frame in the store, whichever session it belongs to (orphans included)."""
    return int(store.connection.execute("SELECT coalesce(sum(count), 0) FROM chunks").fetchone()[0])


# -- peers --------------------------------------------------------------------------------------------


class FloodPeer(QtPeer):
    """A QtPeer (it echoes) that can also push text messages to its clients from a timer."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0
        self.burst = 20
        self._timer = QTimer(self)
        self._timer.setObjectName("floodPeer")
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._push)

    def start_flood(self, burst: int = 20) -> None:
        self.burst = burst
        self._timer.start()

    def stop_flood(self) -> None:
        self._timer.stop()

    def wait_client(self, qtbot: Any) -> None:
        """Wait until the server side has the connection (a push before that would reach nobody)."""
        qtbot.waitUntil(lambda: bool(self.clients), timeout=WAIT_MS)

    def push(self, count: int) -> None:
        assert self.clients, "no client to push to"
        for _ in range(count):
            self.send_text_to_all(f"pushed {self.sent}")
            self.sent += 1

    def _push(self) -> None:
        if self.clients:
            self.push(self.burst)

    def stop(self) -> None:
        self._timer.stop()
        super().stop()


def select_peer(window: MainWindow, url: str, name: str) -> ConnectionProfile:
    """Save a connection to ``url`` and select it in the connections panel."""
    profile = window.context.connections.save(ConnectionProfile(name=name, endpoint=Endpoint(url)))
    window.connections.select(profile.id)
    assert window.inspector.url.text() == url
    return profile


def select_local_echo(window: MainWindow) -> None:
    echo = next(p for p in window.context.connections.profiles if p.builtin)
    window.connections.select(echo.id)
    assert window.inspector.url.text() == window.context.echo_url
