"""The timeline's rows painted in one pass: what Qt's item delegate draws for each cell (Fusion's look), without
asking the model for every role of every cell or laying out text it then cuts.

A screen of the timeline is some 50 rows of 7 to 11 cells. Painted by ``QTableView`` and its delegate, each cell
is a call into the model (``multiData``, and ``rowCount``/``columnCount`` for the index) and three layouts of its
whole text (its size, its elision, its drawing). Here :class:`RowPainter` reads each row once from the model's
cache of painted rows (``TimelineModel.painted_row``), cuts a long text to what its column can show from the
glyphs' advances (Qt elides only that much), and draws it at the place the delegate would. The current cell of a
focused view (the only one with a focus frame), a text with line breaks or invisible characters and a text
cut short that holds characters of other fonts are still painted by the delegate.

Fusion is the style this paints like (the app's on Linux); under any other style the view paints as Qt does."""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
    QPalette,
    QRawFont,
    QStaticText,
)
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTableView

if TYPE_CHECKING:
    from wsinspector.ui.timeline import TimelineModel

_FOREGROUND, _FONT = int(Qt.ItemDataRole.ForegroundRole), int(Qt.ItemDataRole.FontRole)
_BACKGROUND, _ALIGNMENT = int(Qt.ItemDataRole.BackgroundRole), int(Qt.ItemDataRole.TextAlignmentRole)
_ELIDE = Qt.TextElideMode.ElideRight
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
#: texts shorter than this (pixels) than their room are drawn whole without measuring them
_SLACK = 8
#: the most fitted texts kept (texts repeat: directions, opcodes, protocols), and of texts laid out once
_FITTED = 4096
_STATIC = 512
#: the selected columns of a row wholly selected
_WHOLE = [(0, -1)]


class _Advances(dict[str, float]):
    """Characters' advances in a font, each measured the first time it is asked for."""

    def __init__(self, metrics: QFontMetricsF) -> None:
        super().__init__()
        self._metrics = metrics

    def __missing__(self, char: str) -> float:
        advance = self[char] = self._metrics.horizontalAdvance(char)
        return advance


class _Metrics:
    """A font's metrics and its characters' advances."""

    def __init__(self, font: QFont) -> None:
        self.font = font
        self.metrics = QFontMetrics(font)
        self.exact = QFontMetricsF(font)
        self.ascent = self.metrics.ascent()
        self.height = self.metrics.height()
        self.advances = _Advances(self.exact)
        #: texts fitted to a room, by (text, room): the text shown and its width when known
        self.fitted: dict[tuple[str, int], tuple[str, float | None]] = {}
        self._static: dict[str, QStaticText] = {}
        #: whether the font itself (not one Qt falls back to) has a character's glyph, by character
        self._owned: dict[str, bool] = {}
        self._raw = QRawFont.fromFont(font)

    def covers(self, text: str) -> bool:
        """Whether this font draws every character of ``text`` (no other font's taller line)."""
        owned = self._owned
        for char in set(text):
            has = owned.get(char)
            if has is None:
                has = owned[char] = self._raw.supportsCharacter(ord(char))
            if not has:
                return False
        return True

    def static(self, text: str) -> QStaticText:
        """``text`` laid out once in this font."""
        laid = self._static.get(text)
        if laid is None:
            if len(self._static) >= _STATIC:
                self._static.clear()
            laid = self._static[text] = QStaticText(text)
            laid.setTextFormat(Qt.TextFormat.PlainText)
            laid.prepare(font=self.font)
        return laid

    def fit(self, text: str, room: int) -> tuple[str, float | None]:
        """``text`` as the delegate shows it in ``room`` pixels (whole, or elided on the right), and its width
        when it is shown whole."""
        key = (text, room)
        fitted = self.fitted.get(key)
        if fitted is not None:
            return fitted
        ends = list(accumulate(map(self.advances.__getitem__, text)))
        width = ends[-1] if ends else 0.0
        fitted = None
        if width <= room - _SLACK:
            if text.isascii() and text.isprintable():
                fitted = (text, width)
            elif (exact := self.exact.horizontalAdvance(text)) < room:
                fitted = (text, exact)
        if fitted is None:
            # Qt elides what reaches well past the edge: the elided text is the same as the whole one's
            cut = bisect_right(ends, room + _SLACK) + 1
            shown = self.metrics.elidedText(text[:cut], _ELIDE, room)
            if cut < len(text) and shown == text[:cut]:  # the cut fits after all (its advances misjudged)
                shown = self.metrics.elidedText(text, _ELIDE, room)
            fitted = (shown, None)
        if len(self.fitted) >= _FITTED:
            self.fitted.clear()
        self.fitted[key] = fitted
        return fitted


class _Pass:
    """What painting the rows once needs: the colours of the view's palette now, its fonts, the painter's pen and
    font as last set."""

    def __init__(self, view: QTableView, painter: QPainter, fonts: dict[bool, _Metrics]) -> None:
        pal = view.palette()
        group = (QPalette.ColorGroup.Active if view.isActiveWindow() else QPalette.ColorGroup.Inactive) \
            if view.isEnabled() else QPalette.ColorGroup.Disabled
        self.painter = painter
        self.fonts = fonts
        self.highlight = pal.brush(group, QPalette.ColorRole.Highlight)
        self.highlighted_text = pal.color(group, QPalette.ColorRole.HighlightedText)
        self.text = pal.color(group, QPalette.ColorRole.Text)
        self.alternate = pal.brush(group, QPalette.ColorRole.AlternateBase) if view.alternatingRowColors() else None
        self.margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
        self.pen: QColor | None = None
        self.bold: bool | None = None

    def fit(self, text: str, looks: dict[int, Any], width: int) -> tuple[str, float | None] | None:
        """A cell's text as shown in a column ``width`` wide, and its width when known; None when only Qt can
        place it: a text cut short that holds characters of other fonts (Qt centres it by the whole text's
        line, taller with them)."""
        metrics = self.fonts[looks[_FONT] is not None]
        fitted = metrics.fit(text, width - 2 * self.margin)
        return None if fitted[1] is None and not text.isascii() and not metrics.covers(text) else fitted

    def draw(self, fitted: tuple[str, float | None], looks: dict[int, Any], cell: tuple[int, int, int, int],
             chosen: bool, static: bool) -> None:
        """A cell's text as :meth:`fit` gave it, in its colour, font and alignment; ``static``: a text many rows
        show alike (drawn from glyphs laid out once)."""
        painter = self.painter
        is_bold = looks[_FONT] is not None
        metrics = self.fonts[is_bold]
        if is_bold is not self.bold:
            painter.setFont(metrics.font)
            self.bold = is_bold
        foreground = looks[_FOREGROUND]
        colour = self.highlighted_text if chosen else (self.text if foreground is None else foreground.color())
        if colour != self.pen:
            painter.setPen(colour)
            self.pen = colour
        x, top, width, height = cell
        shown, advance = fitted
        laid_out = static and advance is not None
        if not laid_out and not shown.isascii():  # other fonts may draw some of it: their line may be taller
            room = width - 2 * self.margin
            painter.drawText(QRect(x + self.margin, top, room, height), looks[_ALIGNMENT] or _LEFT, shown)
            return
        if looks[_ALIGNMENT] is not None:  # right-aligned
            if advance is None:
                advance = metrics.exact.horizontalAdvance(shown)
            start = x + width - self.margin - advance
        else:
            start = x + self.margin
        if laid_out:
            painter.drawStaticText(QPointF(start, top + (height - metrics.height) // 2), metrics.static(shown))
        else:
            painter.drawText(QPointF(start, top + (height - metrics.height) // 2 + metrics.ascent), shown)


class RowPainter:
    """Paints a :class:`TimelineView`'s visible rows (see the module's docstring); ``repeating``: the columns
    whose texts many rows share (their glyphs are laid out once)."""

    def __init__(self, view: QTableView, repeating: frozenset[int] = frozenset()) -> None:
        self._view = view
        self._repeating = repeating
        self._metrics: dict[bool, _Metrics] = {}
        self._font_key = ""

    def _fonts(self) -> dict[bool, _Metrics]:
        font = self._view.font()
        key = font.key()
        if key != self._font_key:
            bold = QFont(font)
            bold.setBold(True)
            self._metrics = {False: _Metrics(font), True: _Metrics(bold)}
            self._font_key = key
        return self._metrics

    def paints(self) -> bool:
        """Whether this paints the view: its style is Fusion, its delegate Qt's own, left to right, no grid."""
        view = self._view
        return (view.style().name() == "fusion" and type(view.itemDelegate()).__name__ == "QStyledItemDelegate"
                and not view.showGrid() and view.layoutDirection() == Qt.LayoutDirection.LeftToRight)

    def paint(self, event: QPaintEvent, model: TimelineModel) -> None:
        view = self._view
        area = event.rect()
        first = view.rowAt(area.top())
        count = model.rowCount()
        columns = self._columns(area)
        if first < 0 or count == 0 or not columns:
            return
        last = view.rowAt(area.bottom())
        last = count - 1 if last < 0 else last
        selected = self._selected(first, last)
        current = view.currentIndex()
        focused = (current.row(), current.column()) \
            if current.isValid() and (view.hasFocus() or view.viewport().hasFocus()) else None
        left = min(x for _col, x, _width in columns)
        span = max(x + width for _col, x, width in columns) - left
        height = view.rowHeight(first)
        top = view.rowViewportPosition(first)
        painter = QPainter(view.viewport())
        try:
            rows = _Pass(view, painter, self._fonts())
            for row in range(first, last + 1):
                spans = selected.get(row)
                if spans == _WHOLE:
                    painter.fillRect(left, top, span, height, rows.highlight)
                elif rows.alternate is not None and row & 1:
                    painter.fillRect(left, top, span, height, rows.alternate)
                self._row(rows, model, row, QRect(left, top, span, height), columns, spans, focused)
                top += height
        finally:
            painter.end()

    def _row(self, rows: _Pass, model: TimelineModel, row: int, line: QRect, columns: list[tuple[int, int, int]],
             spans: list[tuple[int, int]] | None, focused: tuple[int, int] | None) -> None:
        held = model.painted_row(row)
        style = held[0]
        whole = spans == _WHOLE
        top, height = line.y(), line.height()
        for col, x, width in columns:
            looks = model.look(style, col)
            chosen = whole or (spans is not None and any(a <= col <= b for a, b in spans))
            if chosen and not whole:
                rows.painter.fillRect(x, top, width, height, rows.highlight)
            text = model.painted_text(held, row, col)
            focus = focused == (row, col)
            # a focus frame; line breaks, invisible marks; other fonts cut short: as Qt's delegate paints them
            fitted = rows.fit(text, looks, width) if text and not focus and text.isprintable() else None
            if fitted is None and (text or focus):
                self._delegate_paint(rows.painter, model, QRect(x, top, width, height), (row, col), chosen, focus)
                rows.pen = rows.bold = None
                continue
            background = looks[_BACKGROUND]
            if background is not None and not chosen:
                rows.painter.fillRect(x, top, width, height, background)
            if fitted is not None:
                rows.draw(fitted, looks, (x, top, width, height), chosen, col in self._repeating)

    def _columns(self, area: QRect) -> list[tuple[int, int, int]]:
        """The shown columns the area crosses: (column, x in the viewport, width), left to right."""
        header = self._view.horizontalHeader()
        left = header.visualIndexAt(area.left())
        right = header.visualIndexAt(area.right())
        if left < 0:
            left = 0 if area.left() < 0 else header.count()
        if right < 0:
            right = header.count() - 1
        columns = []
        for visual in range(left, right + 1):
            col = header.logicalIndex(visual)
            if header.isSectionHidden(col):
                continue
            width = header.sectionSize(col)
            if width > 0:
                columns.append((col, header.sectionViewportPosition(col), width))
        return columns

    def _selected(self, first: int, last: int) -> dict[int, list[tuple[int, int]]]:
        """The selected columns of the rows first to last, by row: spans of columns, (0, -1) for a whole row."""
        view = self._view
        model = view.model()
        widest = model.columnCount() - 1
        spans: dict[int, list[tuple[int, int]]] = {}
        ranges = view.selectionModel().selection()
        for position in range(ranges.size()):
            selection = ranges.at(position)
            top, bottom = max(selection.top(), first), min(selection.bottom(), last)
            if top > bottom:
                continue
            cols = (0, -1) if selection.left() == 0 and selection.right() >= widest else \
                (selection.left(), selection.right())
            for row in range(top, bottom + 1):
                spans.setdefault(row, []).append(cols)
        for row, held in spans.items():
            if (0, -1) in held:
                spans[row] = _WHOLE
        return spans

    def _delegate_paint(self, painter: QPainter, model: Any, rect: QRect, cell: tuple[int, int],
                        chosen: bool, focus: bool) -> None:
        """A cell as the delegate paints it (the current cell of a focused view: its focus frame)."""
        view = self._view
        row, col = cell
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        option.rect = rect
        if focus:
            option.state |= QStyle.StateFlag.State_HasFocus
        if chosen:
            option.state |= QStyle.StateFlag.State_Selected
        if view.alternatingRowColors() and row & 1:
            option.features = option.features | QStyleOptionViewItem.ViewItemFeature.Alternate
        painter.save()
        view.itemDelegate().paint(painter, option, model.index(row, col, QModelIndex()))
        painter.restore()
