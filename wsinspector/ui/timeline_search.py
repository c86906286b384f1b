"""How a connection tab filters, finds and jumps in its timeline: the filter computed in slices with its
progress and Cancel in the filter bar, find next / previous past rows the filter hides, go to a time, and the
counts of what the timeline shows. A part of ``InspectorPage`` (ui/inspector.py), kept apart for its size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QAbstractItemView, QLabel

from wsinspector.app.tasks import ChunkedTask
from wsinspector.core.filters import FrameFilter, find_next
from wsinspector.core.words import counted

if TYPE_CHECKING:
    from wsinspector.app.sessions import SessionsController
    from wsinspector.core.stored import StoredSession
    from wsinspector.ui.decoding import TabDecoding
    from wsinspector.ui.filter_bar import FilterBar
    from wsinspector.ui.timeline import TimelineModel, TimelineView


class TimelineSearch:
    """Filter, find and go-to over the tab's timeline; the tab gives the widgets and controllers below."""

    model: TimelineModel
    timeline: TimelineView
    filter_bar: FilterBar
    decoding: TabDecoding
    counts: QLabel
    _sessions: SessionsController
    _viewing: StoredSession | None
    _filter_task: ChunkedTask | None

    @property
    def is_filtering(self) -> bool:
        """A filter is being computed (its progress and Cancel are in the filter bar)."""
        return self._filter_task is not None

    @Slot(object)
    def apply_filter(self, flt: FrameFilter) -> None:
        if self._filter_task is not None:
            previous, self._filter_task = self._filter_task, None
            previous.cancelled.disconnect()  # replaced, not cancelled by the user: nothing to say
            previous.cancel()
            previous.deleteLater()
        source = self.model.source
        if source is None:
            return
        decoded = self.filter_bar.decoded_filter
        if flt.is_empty() and decoded is None:
            self.model.set_filter(None)
            self._update_counts()
            return
        # scan only the frames the table already knows; later ones reach it through on_frames_appended
        upto = self.model.known_frames
        task = (self._sessions.filter_task(source, flt, self, upto=upto) if decoded is None
                else self.decoding.filter_task(source, flt, decoded, self, upto=upto))
        matcher = flt.matcher()
        keeps = self.decoding.keeps(decoded) if decoded is not None else None

        def done(result: object) -> None:
            rows, upto = result  # type: ignore[misc]
            live = source is not self._viewing
            self.model.set_filter(rows, matcher if live else None, upto, keeps)
            self._end_filter(task)

        def progress(done_count: int, total: int) -> None:
            percent = f" {100 * done_count // total}%" if total else ""
            self.filter_bar.status.setText(f"Filtering…{percent}")

        task.finished.connect(done)
        task.progress.connect(progress)
        task.cancelled.connect(lambda: self._end_filter(task, "Filtering cancelled: showing all frames"))
        task.failed.connect(lambda message: self._end_filter(task, message))
        self._filter_task = task
        self.filter_bar.cancel.show()
        self.filter_bar.status.setText("Filtering…")
        task.start()

    def _end_filter(self, task: ChunkedTask, message: str = "") -> None:
        if self._filter_task is task:
            self._filter_task = None
            self.filter_bar.cancel.hide()
        if message:
            self.filter_bar.show_error(message)
        self._update_counts()
        task.deleteLater()

    @Slot()
    def cancel_filter(self) -> None:
        if self._filter_task is not None:
            self._filter_task.cancel()
            self.model.set_filter(None)

    @Slot(bool)
    def find(self, backwards: bool) -> None:
        source = self.model.source
        if source is None or not len(source):
            return
        flt = self.filter_bar.search_filter()
        current = self.timeline.currentIndex()
        start = self.model.seq_at(current.row()) if current.isValid() else (len(source) if backwards else -1)
        total = len(source)
        seq = find_next(flt, start, total, source.scan, backwards=backwards)
        first_hidden: int | None = None
        while seq is not None and self.model.row_of(seq) is None:
            # a match the filter hides: look on from there, until the search comes round again
            if seq in (first_hidden, start):
                self.filter_bar.show_error("Every match is hidden by the filter")
                return
            if first_hidden is None:
                first_hidden = seq
            seq = find_next(flt, seq, total, source.scan, backwards=backwards)
        row = None if seq is None else self.model.row_of(seq)
        if row is None:
            self.filter_bar.show_error("No match")
            return
        self.select_row(row)

    @Slot(float)
    def jump_to(self, seconds: float) -> None:
        source = self.model.source
        if source is None or not self.model.rowCount():
            return
        # The Time column shows microseconds, rounded: a typed time means that displayed microsecond.
        target = min(source.started_ns + round(seconds * 1e6) * 1000 - 500, 2**63 - 1)
        self.select_row(self.model.nearest_row(source.seq_at_or_after(target)))

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.timeline.pin()
        self.timeline.setCurrentIndex(index)
        self.timeline.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def _update_counts(self) -> None:
        source = self.model.source
        total = len(source) if source is not None else 0
        frames_in = source.frames_in if source is not None else 0
        shown = self.model.rowCount()
        text = f"frames: {total:,}  (↓ {frames_in:,}  ↑ {total - frames_in:,})"
        if self.model.is_filtered:
            text = f"showing {shown:,} of {counted(total, 'frame')}"
        dropped = len(source.dropped) if source is not None else 0
        if dropped:
            text += f"  · {dropped:,} older not kept"
        self.counts.setText(text)
        self.filter_bar.status.setText(f"{shown:,} / {total:,}" if self.model.is_filtered else "")

