"""Render the composing screenshot of the README (docs/composing.png) from a real session against the built-in
echo server: saved messages (the connection's and a shared one) in the Saved menu, a periodic send shown in the
tab's header and marked ◷ in the timeline, an auto-reply marked ↩. With a folder as a second argument, the
dialogs too (saved messages, history, periodic send, auto-reply rules).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_composing.py docs/composing.png

Every step waits for the app's own signals; nothing is faked.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wsinspector.app.context import AppContext
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.sending import Schedule
from wsinspector.ui.automation import AutoReplyDialog, ScheduleDialog
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.saved_messages import HistoryDialog, SavedMessagesDialog


def wait_for(signal: object, timeout_ms: int = 10_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def grab(widget: QDialog, out: Path) -> None:
    widget.show()
    pause(200)
    widget.grab().save(str(out))
    print(f"wrote {out}")
    widget.close()


def main(out: Path, dialogs: Path | None) -> int:
    app = QApplication([])
    app.setApplicationName("wsinspector")
    context = AppContext(Path(tempfile.mkdtemp()))
    window = MainWindow(context)
    window.resize(1280, 820)
    window.show()
    if context.echo_url is None:
        wait_for(context.echo_started)
    echo = next(p for p in context.connections.profiles if p.builtin)
    echo = context.connections.save(echo.with_changes(
        messages=(("Subscribe", "json", '{"op": "subscribe", "id": "{{$uuid}}"}'),
                  ("Heartbeat", "text", "hb {{$counter}} at {{$isoTimestamp}}")),
        auto_replies=(("Answer pings", "equals", "ping", "", "text", "pong {{$counter}}", True),
                      ("Acks", "json", "order", "$.type", "json", '{"ack": "{{$uuid}}"}', False))))
    context.connections.set_shared_messages((("Hello", "text", "hello from {{$randomInt}}"),))
    window.connections.select(echo.id)
    page = window.inspector
    session, composer = page.session, page.composer
    page.toggle_connection()
    wait_for(session.opened)
    composer.send_saved(0)
    composer.set_mode(PayloadMode.TEXT)
    composer.editor.setPlainText("ping")
    composer.send()
    session.composing.start_schedule(Schedule(kind="text", text="tick {{$counter}}", interval_ms=250, count=0,
                                              jitter_pct=10))
    session.composing.start_schedule(Schedule(kind="text", text="hb {{$timestamp}}", interval_ms=400, count=20))
    pause(1500)
    session.flush()
    pause(300)
    composer.editor.setPlainText('{"op": "unsubscribe", "id": {{$randomInt}}}')
    composer.set_mode(PayloadMode.JSON)
    page.timeline.selectRow(1)
    page.timeline.scrollToTop()
    pause(300)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    if dialogs is not None:
        dialogs.mkdir(parents=True, exist_ok=True)
        indicator = page.composing.indicator
        menu = indicator.menu()
        menu.popup(indicator.mapToGlobal(indicator.rect().bottomLeft()))
        pause(300)
        menu.grab().save(str(dialogs / "indicator-menu.png"))
        menu.close()
        saved = composer.saved_button.menu()
        saved.popup(composer.saved_button.mapToGlobal(composer.saved_button.rect().bottomLeft()))
        pause(300)
        saved.grab().save(str(dialogs / "saved-menu.png"))
        saved.close()
        session.composing.stop_schedules()
        profile = page.composing.profile
        assert profile is not None
        grab(SavedMessagesDialog(profile.messages, context.connections.shared_messages(), profile.name, window),
             dialogs / "saved-messages.png")
        grab(HistoryDialog(session.composing.history, window), dialogs / "history.png")
        grab(ScheduleDialog("tick {{$counter}}", window), dialogs / "schedule.png")
        grab(AutoReplyDialog(profile.auto_replies, profile.auto_reply_limit, window), dialogs / "auto-replies.png")
    window.close()
    context.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/composing.png"),
                  Path(sys.argv[2]) if len(sys.argv) > 2 else None))
