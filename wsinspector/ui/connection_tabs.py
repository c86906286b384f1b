"""The Inspector page's tabs: one per open connection, each an ``InspectorPage`` over its own controller, and one
per stored session opened read-only. A tab's label, icon and the window title are its own connection's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QTabWidget, QWidget

from wsinspector.core.events import ConnectionState
from wsinspector.ui import palette
from wsinspector.ui.inspector import STATE_STYLE, InspectorPage

if TYPE_CHECKING:
    from wsinspector.app.connection import ConnectionController
    from wsinspector.app.context import AppContext
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.ui.banner import Banner



def _dot(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


class _TabBanner:
    """The window's banner as one tab's page sees it: a message from a tab that is not the current one names
    its connection, so it is never read as the current tab's."""

    def __init__(self, banner: Banner, tabs: ConnectionTabs) -> None:
        self._banner = banner
        self._tabs = tabs
        self.page: InspectorPage | None = None

    def show_message(self, text: str, level: str = "error",
                     action: tuple[str, Callable[[], None]] | None = None) -> None:
        page = self.page
        if page is not None and page is not self._tabs.currentWidget() and page.profile is not None:
            text = f"{page.profile.name}: {text}"
        self._banner.show_message(text, level, action)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._banner, name)


class ConnectionTabs(QTabWidget):
    """The open connections, a tab each (closable, movable). Closing a tab ends its connection and saves what it
    recorded (``AppContext.close_controller``); one live tab is always left.

    Signals:
        page_opened(object): a new ``InspectorPage`` was added (the window connects it)
        page_closed(object): an ``InspectorPage`` was closed; it is deleted later
    """

    page_opened = Signal(object)
    page_closed = Signal(object)

    def __init__(self, context: AppContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionTabs")
        self.setDocumentMode(True)
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setUsesScrollButtons(True)
        self._context = context
        self._banner = banner
        self._icons: dict[str, QIcon] = {}
        self._last_live: InspectorPage | None = None
        self.tabCloseRequested.connect(self._on_close_requested)
        self.currentChanged.connect(self._on_current_changed)

    # -- what is open ---------------------------------------------------------------------------------------

    def pages(self) -> list[InspectorPage]:
        return [page for index in range(self.count()) if isinstance(page := self.widget(index), InspectorPage)]

    def live_pages(self) -> list[InspectorPage]:
        return [page for page in self.pages() if not page.stored_only]

    @property
    def current_page(self) -> InspectorPage:
        page = self.currentWidget()
        assert isinstance(page, InspectorPage), "the Inspector always has a tab"
        return page

    @property
    def live_page(self) -> InspectorPage:
        """The current tab when it is live, or else the live tab shown last."""
        page = self.current_page
        if not page.stored_only:
            return page
        if self._last_live is not None and self._last_live in self.live_pages():
            return self._last_live
        return self.live_pages()[0]

    def page_for_profile(self, profile_id: str) -> InspectorPage | None:
        for page in self.live_pages():
            if page.profile is not None and page.profile.id == profile_id:
                return page
        return None

    def page_for_session(self, session_id: int) -> InspectorPage | None:
        for page in self.pages():
            if page.stored_only and page.viewing is not None and page.viewing.session_id == session_id:
                return page
        return None

    # -- opening and closing ----------------------------------------------------------------------------------

    def open_live(self, profile: ConnectionProfile | None = None,
                  controller: ConnectionController | None = None) -> InspectorPage:
        """A new tab over a new connection's controller (or ``controller``), showing ``profile``; made current."""
        context = self._context
        banner = _TabBanner(self._banner, self)
        page = InspectorPage(controller or context.open_controller(), context.connections, context.sessions,
                             banner)  # type: ignore[arg-type]
        banner.page = page
        if profile is not None:  # before it is current: the list on the left follows the current tab's
            page.on_profile_selected(profile)
        self._add(page)
        return page

    def open_stored(self, session_id: int) -> InspectorPage | None:
        """The stored session in a read-only tab of its own (the one it already has, if open); made current."""
        existing = self.page_for_session(session_id)
        if existing is not None:
            self.setCurrentWidget(existing)
            return existing
        context = self._context
        controller = context.open_controller()  # never connected: the page's live side stays empty
        page = InspectorPage(controller, context.connections, context.sessions, self._banner)
        if not page.open_session(session_id):
            page.shutdown()
            context.close_controller(controller)
            page.deleteLater()
            return None
        page.keep_stored()
        self._add(page)
        return page

    def _add(self, page: InspectorPage) -> None:
        self.page_opened.emit(page)
        index = self.insertTab(self.currentIndex() + 1, page, page.tab_text())
        self.show_page_state(page)
        self.setCurrentIndex(index)

    @Slot(int)
    def _on_close_requested(self, index: int) -> None:
        page = self.widget(index)
        if isinstance(page, InspectorPage):
            self.close_page(page)

    def close_page(self, page: InspectorPage) -> None:
        """Close a tab: its connection ends and its recording is saved. The last live tab makes way for a new,
        empty one."""
        if not page.stored_only and self.live_pages() == [page]:
            self.open_live(page.profile)
        elif page.stored_only and page is self.currentWidget():
            self.setCurrentWidget(self.live_page)  # back to the live tab it was opened over
        page.shutdown()
        self.removeTab(self.indexOf(page))
        self._context.close_controller(page.session)
        if self._last_live is page:
            self._last_live = None
        self.page_closed.emit(page)
        page.deleteLater()

    def close_all(self) -> None:
        """The window closes: every page stops (the context ends the controllers)."""
        for page in self.pages():
            page.shutdown()

    # -- moving between tabs --------------------------------------------------------------------------------

    @Slot()
    def next_tab(self) -> None:
        if self.count():
            self.setCurrentIndex((self.currentIndex() + 1) % self.count())

    @Slot()
    def previous_tab(self) -> None:
        if self.count():
            self.setCurrentIndex((self.currentIndex() - 1) % self.count())

    @Slot(int)
    def _on_current_changed(self, _index: int) -> None:
        page = self.currentWidget()
        if isinstance(page, InspectorPage) and not page.stored_only:
            self._last_live = page

    # -- a tab's face ----------------------------------------------------------------------------------------

    def show_page_state(self, page: InspectorPage) -> None:
        """The tab's label and icon: its connection's name and state (or the stored session's name)."""
        index = self.indexOf(page)
        if index < 0:
            return
        self.setTabText(index, page.tab_text())
        if page.stored_only:
            colour, tip = palette.colour("stored"), "Stored session, read-only"
        else:
            state = page.session.state
            text, colour = STATE_STYLE[state]
            if page.session.is_reconnecting:
                text, colour = "Reconnecting…", STATE_STYLE[ConnectionState.CONNECTING][1]
            url = page.url.text().strip()
            tip = f"{text}: {url}" if url else text
            if page.url_modified_now:
                tip += " (URL not saved)"
        self.setTabToolTip(index, tip)
        if colour not in self._icons:
            self._icons[colour] = _dot(colour)
        self.setTabIcon(index, self._icons[colour])
