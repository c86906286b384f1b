"""One tab's protocol mode in the window: the composer's protocol bar (``ui/protocol_bar.py``) above the raw
message editor and the Protocol list (``ui/protocol_list.py``) beside Frame and Handshake, joined to the
connection's driver (``controller.protocol``, ``app/protocol.py``). The bar shows while the mode speaks (from
``started`` to ``stopped``), never in a stored session's own tab; a verb the driver refuses says why in the
bar's one line, and sends nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from wsinspector.core.protocols.base import ProtocolError, ProtocolEvent
from wsinspector.core.protocols.registry import SESSIONS
from wsinspector.ui.protocol_bar import ProtocolBar
from wsinspector.ui.protocol_list import ProtocolList

if TYPE_CHECKING:
    from wsinspector.ui.inspector import InspectorPage


class ProtocolLink(QObject):
    def __init__(self, page: InspectorPage) -> None:
        super().__init__(page)
        self.page = page
        self.driver = page.session.protocol
        self.bar = ProtocolBar()
        self.bar.hide()
        self.list = ProtocolList()
        # the composer's place in the splitter holds the bar above the composer
        split, composer = page.split, page.composer
        index = split.indexOf(composer)
        self.box = QWidget()
        self.box.setObjectName("composerBox")
        self.box.setMinimumHeight(composer.minimumHeight())
        layout = QVBoxLayout(self.box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.bar)
        split.replaceWidget(index, self.box)
        layout.addWidget(composer, 1)
        layout.addStretch(0)  # the verbs alone keep to the top
        self.tab = page.lower_tabs.addTab(self.list, "Protocol")
        page.lower_tabs.setTabVisible(self.tab, False)
        self.bar.invoke_requested.connect(self.invoke)
        self.bar.raw_toggled.connect(self._show_raw)
        self.driver.started.connect(self.on_started)
        self.driver.stopped.connect(self.on_stopped)
        self.driver.protocol_event.connect(self.on_event)
        self.driver.problem.connect(self.list.show_problem)
        page.source_changed.connect(self._on_source)

    @property
    def shown(self) -> bool:
        return not self.bar.isHidden()

    @Slot(str)
    def on_started(self, name: str) -> None:
        if self.page.stored_only:
            return
        session = SESSIONS.get(name)
        title = session.title if session is not None else name
        self.bar.set_verbs(name, title, self.driver.verbs())
        self.list.begin(title)
        self.page.lower_tabs.setTabVisible(self.tab, True)
        self.bar.show()
        self._show_raw(self.bar.raw.isChecked())

    @Slot()
    def on_stopped(self) -> None:
        self.bar.hide()
        self.bar.show_error("")
        if not self.page.stored_only:
            self.page.composer.show()

    @Slot(str, object)
    def invoke(self, verb: str, fields: dict[str, Any]) -> None:
        if self.page.viewing is not None:
            self.bar.show_error("A stored session is shown: Back to live, then send")
            return
        try:
            invoked = self.driver.invoke(verb, **fields)
        except ProtocolError as exc:
            self.bar.show_error(str(exc))
            return
        self.bar.show_error("")
        self.list.add_invoked(verb, fields, invoked.ref)

    @Slot(object)
    def on_event(self, event: ProtocolEvent) -> None:
        self.list.add_event(event)

    @Slot(bool)
    def _show_raw(self, raw: bool) -> None:
        if not self.page.stored_only:
            self.page.composer.setVisible(raw or not self.shown)

    @Slot(object, bool)
    def _on_source(self, _source: object, live: bool) -> None:
        self.bar.send_button.setEnabled(live)
