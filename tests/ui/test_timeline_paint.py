"""The timeline paints its rows itself (ui/timeline_paint.py): they look exactly as Qt's item delegate paints them
(colours of directions and kinds, bold closes, a reconnect's background, damaged frames, alternate rows, the
selection, the focused cell, long texts elided, right-aligned numbers), and what it keeps of the rows it painted is
never shown once the decoder, the columns, the view or the session changed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QStyledItemDelegate

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.profiles import Decoding
from wsinspector.core.store import SessionStatus, Store
from wsinspector.core.stored import StoredSession
from wsinspector.ui.decoding import TabDecoding
from wsinspector.ui.timeline import COL_GAP, COL_WALL, TimelineModel, TimelineView

URL = "wss://paint.invalid/socket.io/?EIO=4&transport=websocket"


def _meta(direction: Direction, opcode: Opcode, fin: bool = True) -> int:
    return header.pack(direction, opcode, fin, False, False, False, direction is Direction.OUT)


_FRAMES = [
    (_meta(Direction.IN, Opcode.TEXT), b'0{"sid":"paint","pingInterval":25000}'),
    (_meta(Direction.OUT, Opcode.TEXT), b"40"),
    (_meta(Direction.IN, Opcode.TEXT), b'42["chat",{"text":"' + b"a long line of chat " * 30 + b'"}]'),
    (_meta(Direction.OUT, Opcode.TEXT), b'421["ask",{"n":1}]'),
    (_meta(Direction.IN, Opcode.BINARY), bytes(range(80))),
    (_meta(Direction.OUT, Opcode.PING), b"hi"),
    (_meta(Direction.IN, Opcode.PONG), b"hi"),
    (0x27, b"a frame whose header is damaged in the file"),  # opcode 7: reserved
    (_meta(Direction.IN, Opcode.TEXT, fin=False), b'42["frag'),
    (_meta(Direction.IN, Opcode.CONTINUATION), b'ment"]'),
    (_meta(Direction.IN, Opcode.TEXT), b"W" * 150),
    (_meta(Direction.IN, Opcode.TEXT), b"i" * 150),
    (_meta(Direction.OUT, Opcode.TEXT), "héllo wörld ✓ 日本".encode()),
    (_meta(Direction.OUT, Opcode.TEXT), '{"who":"\U0001f469\u200d\U0001f4bb"}'.encode()),  # a joined emoji
    (_meta(Direction.OUT, Opcode.CLOSE), b"\x03\xe8bye\nnow"),  # a reason on two lines
] * 4


def _store_session(store: Store, frames: list[tuple[int, bytes]], reconnect_at: int | None = None) -> StoredSession:
    session_id = store.create_session("paint", URL, time.time(), 0)
    store.append_frames(session_id, [(seq, 997_000 * seq, meta, len(payload), None, None, payload)
                                     for seq, (meta, payload) in enumerate(frames)])
    if reconnect_at is not None:
        store.add_event(session_id, reconnect_at, 997_000 * reconnect_at, "reconnect", "connected again")
    store.finish_session(session_id, SessionStatus.CLOSED, time.time(), 1000, "")
    record = store.session(session_id)
    assert record is not None
    return StoredSession(store, record)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "paint.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def session(store: Store) -> StoredSession:
    return _store_session(store, _FRAMES, reconnect_at=15)


class _Views:
    """Timelines made for a test, closed after it."""

    def __init__(self, qtbot: Any) -> None:
        self.qtbot = qtbot
        self.made: list[TimelineView] = []

    def make(self, session: StoredSession, decoding: Decoding | None = None, through_delegate: bool = False,
             width: int = 1100) -> TimelineView:
        model = TimelineModel()
        if decoding is not None:
            tab = TabDecoding(model)
            tab.set_setting(decoding)
            tab.set_session(session, URL)
            model.set_decoding(tab)
        model.set_source(session)
        view = TimelineView(model)
        self.qtbot.addWidget(view)
        if through_delegate:  # a delegate of its own: the view paints through it, as Qt does
            view.setItemDelegate(QStyledItemDelegate_(view))
        view.show_decoded(decoding is not None)
        view.resize(width, 500)
        view.show()
        self.qtbot.waitExposed(view)
        self.made.append(view)
        return view


class QStyledItemDelegate_(QStyledItemDelegate):  # Qt's delegate, under another name
    pass


@pytest.fixture
def views(qtbot: Any) -> Iterator[_Views]:
    made = _Views(qtbot)
    yield made
    for view in made.made:
        view.close()


def _shot(view: TimelineView, focused: bool = False) -> QImage:
    """The rows as painted (without a focus frame unless ``focused``: only one of the views has the focus)."""
    QApplication.processEvents()
    if not focused:
        view.clearFocus()
    return view.viewport().grab().toImage()


def _act(view: TimelineView, scroll: bool) -> None:
    """Rows selected (two whole rows, one cell), a current cell in a focused view; scrolled both ways."""
    flags = QItemSelectionModel.SelectionFlag
    model = view.model()
    view.activateWindow()
    view.setFocus()
    selection = view.selectionModel()
    selection.select(model.index(3, 0), flags.ClearAndSelect | flags.Rows)
    selection.select(model.index(15, 0), flags.Select | flags.Rows)
    selection.setCurrentIndex(model.index(5, 2), flags.Select | flags.Rows)
    selection.select(model.index(20, 3), flags.Select)
    if scroll:
        view.horizontalScrollBar().setValue(37)
        view.verticalScrollBar().setValue(3)


@pytest.mark.parametrize(("decoded", "width", "scroll"), [
    (False, 1100, False), (False, 700, True), (True, 1100, True), (True, 700, False)],
    ids=["raw-wide", "raw-narrow-scrolled", "decoded-wide-scrolled", "decoded-narrow"])
def test_rows_look_as_qts_delegate_paints_them(views: _Views, session: StoredSession, decoded: bool, width: int,
                                                scroll: bool) -> None:
    decoding = Decoding() if decoded else None
    own = views.make(session, decoding, width=width)
    qts = views.make(session, decoding, through_delegate=True, width=width)
    for view in (own, qts):
        view.show_column(COL_WALL, True)
        view.show_column(COL_GAP, True)
    plain = [_shot(own), _shot(qts)]
    assert plain[0] == plain[1]
    shots = []
    for view in (own, qts):
        _act(view, scroll)
        shots.append(_shot(view, focused=True))
    assert shots[0] != plain[0]  # the selection shows
    assert shots[0] == shots[1]


def test_another_decoder_repaints_the_decoded_column(views: _Views, session: StoredSession) -> None:
    view = views.make(session, Decoding())
    first = _shot(view)
    view.model().decoding.set_setting(Decoding(decoder="json"))
    view.show_decoded(True)
    assert _shot(view) != first
    assert _shot(view) == _shot(views.make(session, Decoding(decoder="json")))


def test_rows_show_another_session_a_column_and_the_message_view_at_once(
        views: _Views, store: Store, session: StoredSession) -> None:
    view = views.make(session)
    first = _shot(view)
    other = _store_session(store, list(reversed(_FRAMES)))
    view.model().set_source(other)
    assert _shot(view) != first
    assert _shot(view) == _shot(views.make(other))

    view.show_column(COL_GAP, True)
    fresh = views.make(other)
    fresh.show_column(COL_GAP, True)
    assert _shot(view) == _shot(fresh)

    view.model().set_messages(True)
    fresh.model().set_messages(True)
    assert _shot(view) == _shot(fresh)
    assert _shot(view) != _shot(views.make(other))
