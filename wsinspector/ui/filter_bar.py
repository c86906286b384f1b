"""Above the timeline: filters (direction, opcode, text or regex, a decoded field), find next/previous, go to a
time."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QToolButton, QWidget

from wsinspector.app.throttle import Throttle
from wsinspector.core.decoders.filters import DecodedFilter, DecodedFilterError, parse_decoded_filter
from wsinspector.core.filters import FilterError, FrameFilter
from wsinspector.core.frames import Direction, Opcode
from wsinspector.ui import palette
from wsinspector.ui.inline_message import ElidedLabel

_DIRECTIONS = {
    "In and out": frozenset(Direction),
    "In ↓": frozenset({Direction.IN}),
    "Out ↑": frozenset({Direction.OUT}),
}
_DATA = frozenset({Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION})
_CONTROL = frozenset({Opcode.CLOSE, Opcode.PING, Opcode.PONG})
_OPCODES: dict[str, frozenset[Opcode] | None] = {
    "All opcodes": None,
    "Data": _DATA,
    "Text": frozenset({Opcode.TEXT}),
    "Binary": frozenset({Opcode.BINARY}),
    "Continuation": frozenset({Opcode.CONTINUATION}),
    "Control": _CONTROL,
    "Close": frozenset({Opcode.CLOSE}),
    "Ping": frozenset({Opcode.PING}),
    "Pong": frozenset({Opcode.PONG}),
}
DEBOUNCE_MS = 250
#: the widest the place of the filter's error and status grows (a third of it at the least)
MESSAGES_WIDTH = 260


class FilterBar(QWidget):
    """Signals:
    filter_changed(object): the FrameFilter to apply (an empty one shows everything); with it, ``decoded_filter``
        (a filter over the messages decoded, or None)
    find_requested(bool): find the next match of the search text; True = backwards
    jump_requested(float): go to the first frame at or after this many seconds into the session
    problem(str): an error the bar shows, whole (its own place may be too narrow for all of it)
    """

    filter_changed = Signal(object)
    find_requested = Signal(bool)
    jump_requested = Signal(float)
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self.direction = QComboBox()
        self.direction.setObjectName("filterDirection")
        self.direction.addItems(list(_DIRECTIONS))
        self.opcode = QComboBox()
        self.opcode.setObjectName("filterOpcode")
        self.opcode.addItems(list(_OPCODES))
        self.search = QLineEdit()
        self.search.setObjectName("filterText")
        self.search.setPlaceholderText("Search payloads…")
        self.search.setClearButtonEnabled(True)
        self.decoded = QLineEdit()
        self.decoded.setObjectName("filterDecoded")
        self.decoded.setPlaceholderText("Decoded: event=chat")
        self.decoded.setClearButtonEnabled(True)
        self.decoded.setToolTip(
            "Show only the messages whose decoded form matches (the Decoded tab shows what they hold):\n"
            "event=chat · destination=/topic/prices · topic=sensors/1 · operation=1 · type=PUBLISH\n"
            "event~cha (contains) · protocol=mqtt · $.socketio.args[0].user = \"ann\" (a JSON path = value)")
        self.only_matches = QCheckBox("Only matches")
        self.only_matches.setObjectName("filterOnlyMatches")
        self.only_matches.setToolTip("Show only the frames whose payload contains the search text")
        self.only_matches.setChecked(True)
        self.regex = QCheckBox(".*")
        self.regex.setToolTip("Regular expression")
        self.case = QCheckBox("Aa")
        self.case.setToolTip("Case-sensitive")
        self.previous = QToolButton(text="▲")
        self.previous.setObjectName("findPrevious")
        self.previous.setToolTip("Find previous (Shift+F3)")
        self.next = QToolButton(text="▼")
        self.next.setObjectName("findNext")
        self.next.setToolTip("Find next (F3)")
        self.jump = QLineEdit()
        self.jump.setObjectName("jumpToTime")
        self.jump.setPlaceholderText("Go to s")
        self.jump.setToolTip("Go to the first frame at or after this time (seconds since the session began)")
        self.jump.setMaximumWidth(80)
        self._build_messages()

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.direction, self.opcode):
            layout.addWidget(widget)
        layout.addWidget(self.search, 2)
        layout.addWidget(self.decoded, 1)
        for widget in (self.regex, self.case, self.only_matches, self.previous, self.next, self.jump):
            layout.addWidget(widget)
        layout.addWidget(self.messages, 1)  # its width is the bar's share, whatever text it shows
        layout.addWidget(self.cancel)

        self._debounce = Throttle(self.apply, DEBOUNCE_MS, "filterDebounce", leading=False, parent=self)
        self.search.textEdited.connect(self._debounce)
        self.search.returnPressed.connect(self.apply)
        self.decoded.textEdited.connect(self._debounce)
        self.decoded.returnPressed.connect(self.apply)
        for box in (self.direction, self.opcode):
            box.currentIndexChanged.connect(self.apply)
        for check in (self.regex, self.case, self.only_matches):
            check.toggled.connect(self.apply)
        self.previous.clicked.connect(lambda: self._find(True))
        self.next.clicked.connect(lambda: self._find(False))
        self.jump.returnPressed.connect(self._on_jump)
        self._applied = FrameFilter()
        #: the decoded filter applied with the last FrameFilter emitted (None: none)
        self.decoded_filter: DecodedFilter | None = None

    def _build_messages(self) -> None:
        """The error, the status and Cancel keep one place of one width: a long error (a bad regular expression)
        never widens the bar, and nothing beside it moves when one shows."""
        self.error = ElidedLabel()
        self.error.setObjectName("filterError")
        palette.style(self.error, "color: {error};")
        self.error.hide()
        self.status = ElidedLabel()
        self.status.setObjectName("filterStatus")
        policy = self.status.sizePolicy()
        policy.setRetainSizeWhenHidden(False)  # hidden, it leaves its width to the error
        self.status.setSizePolicy(policy)
        self.cancel = QToolButton(text="✕")
        self.cancel.setObjectName("filterCancel")
        self.cancel.setToolTip("Stop filtering")
        policy = self.cancel.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.cancel.setSizePolicy(policy)
        self.cancel.hide()
        self.messages = QWidget()
        self.messages.setObjectName("filterMessages")
        self.messages.setMinimumWidth(MESSAGES_WIDTH // 3)
        self.messages.setMaximumWidth(MESSAGES_WIDTH)
        messages = QHBoxLayout(self.messages)
        messages.setContentsMargins(0, 0, 0, 0)
        messages.addWidget(self.error, 1)
        messages.addWidget(self.status, 1)

    def current_filter(self) -> FrameFilter:
        """What the table should show (the search text counts only with 'Only matches')."""
        return FrameFilter(
            directions=_DIRECTIONS[self.direction.currentText()],
            opcodes=_OPCODES[self.opcode.currentText()],
            text=self.search.text() if self.only_matches.isChecked() else "",
            regex=self.regex.isChecked(),
            case_sensitive=self.case.isChecked(),
        )

    def search_filter(self) -> FrameFilter:
        """What find next/previous looks for: the search text alone."""
        return FrameFilter(text=self.search.text(), regex=self.regex.isChecked(),
                           case_sensitive=self.case.isChecked())

    def show_error(self, message: str) -> None:
        """An error in the bar's message place (the status makes way for it while it shows)."""
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.status.setVisible(not message)
        if message:
            self.problem.emit(message)

    @Slot()
    def apply(self) -> None:
        self._debounce.cancel()
        flt = self.current_filter()
        try:
            flt.matcher()
        except FilterError as exc:
            self.show_error(str(exc))
            return
        text = self.decoded.text().strip()
        try:
            decoded = parse_decoded_filter(text) if text else None
        except DecodedFilterError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        if flt != self._applied or decoded != self.decoded_filter:
            self._applied = flt
            self.decoded_filter = decoded
            self.filter_changed.emit(flt)

    @Slot(object)
    def show_only_direction(self, direction: Direction) -> None:
        """Narrow the filter to one direction (the timeline's row actions)."""
        self.direction.setCurrentText("In ↓" if direction is Direction.IN else "Out ↑")

    @Slot(str)
    def show_only_opcode(self, choice: str) -> None:
        """Narrow the filter to one opcode choice ("Text", "Ping"...)."""
        if self.opcode.findText(choice) >= 0:
            self.opcode.setCurrentText(choice)

    def reset(self) -> None:
        """Back to showing everything, without emitting (a new source starts unfiltered)."""
        for widget in (self.direction, self.opcode, self.regex, self.case, self.only_matches):
            widget.blockSignals(True)
        self.direction.setCurrentIndex(0)
        self.opcode.setCurrentIndex(0)
        self.search.clear()
        self.decoded.clear()
        self.decoded_filter = None
        self.jump.clear()
        for widget in (self.direction, self.opcode, self.regex, self.case, self.only_matches):
            widget.blockSignals(False)
        self._applied = FrameFilter()
        self._debounce.cancel()
        self.show_error("")

    def _find(self, backwards: bool) -> None:
        if not self.search.text():
            self.show_error("Type something to find")
            return
        try:
            self.search_filter().matcher()
        except FilterError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.find_requested.emit(backwards)

    def _on_jump(self) -> None:
        text = self.jump.text().strip().removesuffix("s").strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds):
            self.show_error(f"Not a time in seconds: {self.jump.text()!r}")
            return
        if seconds < 0:
            self.show_error("Times start at 0 s")
            return
        self.show_error("")
        self.jump_requested.emit(seconds)
