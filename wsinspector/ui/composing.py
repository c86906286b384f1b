"""One tab's composer joined to its connection's controller and ``composing`` (``app/composing.py``): sends,
saved messages (the connection's in its profile, the shared ones in the store), the history, periodic sends
and auto-reply rules with their dialogs, and the indicator in the tab's header."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QBoxLayout, QWidget

from wsinspector.app.throttle import Throttle
from wsinspector.core.frames import Opcode
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.sending import SendingError, kind_of
from wsinspector.core.store import StoreError
from wsinspector.ui.automation import AutomationIndicator, AutoReplyDialog, ScheduleDialog
from wsinspector.ui.saved_messages import HistoryDialog, SavedMessagesDialog

if TYPE_CHECKING:
    from wsinspector.app.connection import ConnectionController
    from wsinspector.app.connections import ConnectionsController
    from wsinspector.ui.composer import Composer
    from wsinspector.ui.timeline_menu import TimelineMenu


class ComposerLink(QObject):
    """Connects a composer to its controller; ``profile`` is the connection the tab shows."""

    def __init__(self, composer: Composer, controller: ConnectionController, connections: ConnectionsController,
                 header: QBoxLayout, parent: QWidget) -> None:
        super().__init__(parent)
        self.composer = composer
        self.controller = controller
        self.composing = controller.composing
        self.connections = connections
        self.profile: ConnectionProfile | None = None
        #: what the tab does when its profile was saved here (it takes the saved one)
        self.profile_saved = lambda profile: None
        self.indicator = AutomationIndicator()
        header.insertWidget(max(0, header.count() - 1), self.indicator)
        composing = self.composing
        composer.expand = composing.expand
        composer.secret_names = self._secret_names
        composer.send_requested.connect(composing.request_send)
        composer.fragmented_send_requested.connect(composing.request_fragmented_send)
        composer.ping_requested.connect(controller.request_ping)
        composer.close_requested.connect(controller.request_disconnect)
        composer.pong_requested.connect(controller.request_pong)
        composer.raw_close_requested.connect(controller.request_raw_close)
        composer.auto_pong_toggled.connect(controller.request_auto_pong)
        composer.sent_as_typed.connect(composing.add_history)
        composer.saved_send_requested.connect(composing.request_template)
        composer.save_message_requested.connect(self.save_message)
        composer.manage_saved_requested.connect(self.manage_saved)
        composer.history_requested.connect(self.show_history)
        composer.schedule_requested.connect(self.start_schedule)
        composer.auto_replies_requested.connect(self.edit_auto_replies)
        controller.refused.connect(composer.show_error)
        composing.refused.connect(composer.show_error)
        composing.history_changed.connect(lambda: composer.set_history(composing.history))
        # a schedule every few ms, or a flood of messages a rule answers, redraws the header a few times a second;
        # a schedule started or ended, or the rules switched, at once
        self._automation = Throttle(self._show_automation, 200, "automationIndicator", parent=self)
        self._shown: tuple[object, ...] = ()
        composing.schedules_changed.connect(self._on_automation)
        composing.auto_replies_changed.connect(self._on_automation)
        self.indicator.stop_requested.connect(self._stop)
        self.indicator.auto_reply_toggled.connect(composing.set_auto_reply)
        connections.shared_messages_changed.connect(self._show_saved)

    def _secret_names(self) -> list[str]:
        secrets = self.controller.secret_values
        return [name for name, value in self.controller.variables.items() if value and value in secrets]

    def set_profile(self, profile: ConnectionProfile | None) -> None:
        self.profile = profile
        self._show_saved()
        self.composing.set_rules(profile.auto_replies if profile else (),
                                 profile.auto_reply_limit if profile else 10)
        self.composing.load_history(profile.id if profile else "")

    @Slot()
    def _show_saved(self) -> None:
        self.composer.set_saved_messages(self.profile.messages if self.profile else (),
                                         self.connections.shared_messages())

    # -- saved messages -----------------------------------------------------------------------------

    @Slot(str, str, str, bool)
    def save_message(self, name: str, kind: str, text: str, shared: bool) -> None:
        if shared:
            self._save_shared((*self.connections.shared_messages(), (name, kind, text)))
        elif self.profile is None:
            self.composer.show_error("Choose a saved connection first, or keep the message as shared")
        else:
            self._save_profile(messages=(*self.profile.messages, (name, kind, text)))

    @Slot()
    def manage_saved(self) -> None:
        dialog = SavedMessagesDialog(self.profile.messages if self.profile else (),
                                     self.connections.shared_messages(),
                                     self.profile.name if self.profile else "this connection", self.composer)
        if not dialog.exec():
            return
        own, shared = dialog.messages()
        if shared != self.connections.shared_messages():
            self._save_shared(shared)
        if self.profile is not None and own != self.profile.messages:
            self._save_profile(messages=own)
        elif self.profile is None and own:
            self.composer.show_error("Choose a saved connection first: only shared messages were kept")

    def _save_shared(self, messages: tuple[tuple[str, str, str], ...]) -> None:
        try:
            self.connections.set_shared_messages(messages)
        except StoreError as exc:
            self.composer.show_error(str(exc))

    def _save_profile(self, **changes: object) -> None:
        assert self.profile is not None
        try:
            saved = self.connections.save_composing(self.profile, **changes)
        except (ValueError, StoreError) as exc:
            self.composer.show_error(str(exc))
            return
        self.profile_saved(saved)

    def add_to_menu(self, menu: TimelineMenu) -> None:
        """The timeline's row menu gets "Save as saved message…" for the current row's message."""
        action = QAction("Save as saved message…", menu)
        action.setObjectName("saveAsSavedMessage")
        action.setToolTip("Keep this message as a saved message of the connection, or a shared one")

        def save() -> None:
            item = menu.current_item(whole_message=True)
            if item is not None and item.opcode in (Opcode.TEXT, Opcode.BINARY):
                self.composer.save_as_saved_message(item.payload, not item.is_text)

        def enable() -> None:
            item = menu.current_item(whole_message=True)
            action.setEnabled(item is not None and item.opcode in (Opcode.TEXT, Opcode.BINARY))

        action.triggered.connect(save)
        menu.about_to_show.connect(enable)
        menu.add_action(action, "send")

    # -- the history --------------------------------------------------------------------------------

    @Slot()
    def show_history(self) -> None:
        dialog = HistoryDialog(self.composing.history, self.composer)
        if dialog.exec() and dialog.chosen is not None:
            self.composer.load_message(*dialog.chosen)

    # -- periodic sends and auto-replies ------------------------------------------------------------

    @Slot()
    def start_schedule(self) -> None:
        composer = self.composer
        if not composer.send_button.isEnabled():
            composer.show_error("Not connected: connect first, then start a periodic send")
            return
        text = composer.editor.toPlainText()
        dialog = ScheduleDialog(text, composer)
        if not dialog.exec():
            return
        try:
            self.composing.start_schedule(dialog.schedule(kind_of(composer.current_mode()), text))
        except (SendingError, RuntimeError, ValueError) as exc:
            composer.show_error(str(exc))
            return
        composer.show_error("")

    @Slot()
    def edit_auto_replies(self) -> None:
        if self.profile is None:
            self.composer.show_error("Choose a saved connection first: its auto-reply rules are kept with it")
            return
        dialog = AutoReplyDialog(self.profile.auto_replies, self.profile.auto_reply_limit, self.composer)
        if dialog.exec():
            self._save_profile(auto_replies=dialog.rules(), auto_reply_limit=dialog.limit.value())

    @Slot(int)
    def _stop(self, schedule_id: int) -> None:
        if schedule_id:
            self.composing.stop_schedule(schedule_id)
        else:
            self.composing.stop_schedules()

    def _what_runs(self) -> tuple[object, ...]:
        composing = self.composing
        return tuple(composing.schedules), composing.rules, composing.auto_reply_on

    @Slot()
    def _on_automation(self) -> None:
        if self._what_runs() != self._shown:
            self._automation.cancel()
            self._show_automation()
        else:
            self._automation()

    @Slot()
    def _show_automation(self) -> None:
        composing = self.composing
        self._shown = self._what_runs()
        self.indicator.show_state([s for s, _timer in composing.schedules.values()], composing.rules,
                                  composing.auto_reply_on, composing.replies_sent, composing.limit.refused)
