"""What the window remembers across restarts, kept with Qt's settings (``QSettings``, an INI file in the user's
configuration folder: ``~/.config/wsinspector/wsinspector.ini`` on Linux), apart from the store: the window's
geometry and toolbar, the splitters, the timeline's columns (widths, order, hidden ones), the open tabs (their
saved connections by id and the stored sessions by id, never a URL), the current tab and page, the appearance
(View ▸ Appearance) and each open connection's composer draft (its text and mode).

Tabs come back **disconnected**: reopening a window never opens sockets by itself; each tab's Connect (Ctrl+K)
connects it in one click. A value that is missing, of another type or from another version is ignored.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QSplitter

from wsinspector import APP_NAME

# The window's geometry is read before its first paint (app_settings, restore_geometry); the rest of what it
# remembers once its pages are built. So json, hashlib (OpenSSL) and the palette (Qt's namespace) are imported
# where they are used, after the first paint.

if TYPE_CHECKING:
    from wsinspector.ui.inspector import InspectorPage
    from wsinspector.ui.main_window import MainWindow

#: the layout of what is stored; a file of another version is read for what still fits
VERSION = 1
#: the pages by name (an index would point elsewhere if pages were added)
PAGES = ("inspector", "health", "sessions", "tests")


def app_settings() -> QSettings:
    """The user's settings file for the window's state."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_NAME, APP_NAME)


def _bytes(value: Any) -> QByteArray | None:
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, bytes | bytearray) and value:
        return QByteArray(bytes(value))
    return None


def _json(value: Any, kind: type) -> Any:
    """A JSON value of ``kind`` stored as text, or None."""
    if not isinstance(value, str):
        return None
    import json  # noqa: PLC0415  (after the first paint)

    try:
        loaded = json.loads(value)
    except ValueError:
        return None
    return loaded if isinstance(loaded, kind) else None


def restore_geometry(window: MainWindow, settings: QSettings) -> None:
    """The window's size and place as it was left (before it is first shown)."""
    geometry = _bytes(settings.value("window/geometry"))
    if geometry is not None:
        window.restoreGeometry(geometry)


class WindowState:
    """Saves the window's state into ``settings`` (``save``, when the window closes) and puts it back
    (``restore``, once its pages are built). The tabs and drafts are kept per data folder: another
    ``--data-dir`` has other connections."""

    def __init__(self, window: MainWindow, settings: QSettings) -> None:
        self.window = window
        self.settings = settings
        #: saved since the window opened (closing it saves; quitting otherwise saves after the event loop)
        self.saved = False
        import hashlib  # noqa: PLC0415  (after the first paint)

        self._data_key = hashlib.sha256(str(window.context.data_dir).encode()).hexdigest()[:16]
        window.connection_tabs.page_opened.connect(self._on_page_opened)

    # -- saving -------------------------------------------------------------------------------------------------

    def save(self) -> None:
        import json  # noqa: PLC0415  (after the first paint)

        from wsinspector.core.redact import url_secrets  # noqa: PLC0415

        window, settings = self.window, self.settings
        settings.setValue("version", VERSION)
        settings.setValue("window/geometry", window.saveGeometry())
        settings.setValue("window/state", window.saveState(VERSION))
        settings.setValue("window/split", window.main_split.saveState())
        settings.setValue("window/page", PAGES[window.tabs.currentIndex()] if window.tabs.currentIndex() >= 0
                          else PAGES[0])
        page = window.connection_tabs.current_page
        settings.setValue("inspector/split", page.split.saveState())
        settings.setValue("inspector/columns", page.timeline.horizontalHeader().saveState())
        settings.setValue("window/appearance", window.keys.appearance)
        tabs: list[dict[str, Any]] = []
        current = 0
        for index, each in enumerate(window.connection_tabs.pages()):
            if each.stored_only and each.viewing is not None:
                tabs.append({"session": each.viewing.session_id})
            elif each.profile is not None:
                entry: dict[str, Any] = {"profile": each.profile.id}
                typed = each.url.text().strip()
                if each.url_modified_now and not url_secrets(typed):  # credentials only ever in the keyring
                    entry["url"] = typed
                text = each.composer.editor.toPlainText()
                if text:
                    entry["draft"] = {"text": text, "mode": each.composer.current_mode().value}
                tabs.append(entry)
            else:
                tabs.append({})
            if each is window.connection_tabs.current_page:
                current = index
        group = f"data/{self._data_key}"
        settings.setValue(f"{group}/tabs", json.dumps({"tabs": tabs, "current": current}))
        settings.remove(f"{group}/drafts")  # each tab's draft is in its entry now
        settings.sync()
        self.saved = True

    # -- restoring ----------------------------------------------------------------------------------------------

    def restore(self) -> None:
        """Put back what was saved; what cannot be read is left as the window made it."""
        window, settings = self.window, self.settings
        state = _bytes(settings.value("window/state"))
        if state is not None:
            window.restoreState(state, VERSION)
        split = _bytes(settings.value("window/split"))
        if split is not None:
            window.main_split.restoreState(split)
        appearance = settings.value("window/appearance")
        from wsinspector.ui.palette import APPEARANCES  # noqa: PLC0415  (after the first paint)

        if isinstance(appearance, str) and appearance in APPEARANCES:
            window.keys.set_appearance(appearance)
        self._restore_tabs()
        page = settings.value("window/page")
        if isinstance(page, str) and page in PAGES:
            window.tabs.setCurrentIndex(PAGES.index(page))

    def _restore_tabs(self) -> None:
        """The tabs as they were left, each with its own typed URL and draft, back disconnected."""
        window, group = self.window, f"data/{self._data_key}"
        saved = _json(self.settings.value(f"{group}/tabs"), dict) or {}
        drafts = _json(self.settings.value(f"{group}/drafts"), dict) or {}  # by connection, as kept before
        entries = saved.get("tabs")
        tabs = window.connection_tabs
        first = tabs.current_page
        pages: list[InspectorPage | None] = []
        for entry in entries if isinstance(entries, list) else []:
            page = self._reopen(entry, first if first not in pages else None)
            pages.append(page)
            if page is None or page.stored_only or page.profile is None:
                continue
            url = entry.get("url")
            if isinstance(url, str) and url.strip():
                page.url.setText(url.strip())
            draft = entry.get("draft", drafts.pop(page.profile.id, None))
            if isinstance(draft, dict):
                _put_draft(page, draft)
        for page in tabs.pages():
            self._apply_layout(page)
        current = saved.get("current")
        if isinstance(current, int) and 0 <= current < len(pages) and pages[current] is not None:
            tabs.setCurrentWidget(pages[current])
        reopened = len({id(page) for page in pages if page is not None and not page.stored_only})
        if reopened > 1:
            window.statusBar().showMessage(
                f"{reopened} tabs reopened, not connected: Connect (Ctrl+K) connects the current one", 10000)

    def _reopen(self, entry: Any, first: InspectorPage | None) -> InspectorPage | None:
        """A tab for ``entry``: ``first`` (the tab the window opened with) for the first live one, a new tab
        for each other; None for what cannot be put back (a connection deleted since)."""
        window = self.window
        if not isinstance(entry, dict):
            return None
        profile_id, session_id = entry.get("profile"), entry.get("session")
        if isinstance(profile_id, str):
            profile = window.context.connections.get(profile_id)
            if profile is None:
                return None
            if first is not None and not first.stored_only:
                window.connections.select(profile.id)
                first.on_profile_selected(profile)
                return first
            return window.connection_tabs.open_live(profile)
        if isinstance(session_id, int) and not isinstance(session_id, bool):
            return window.connection_tabs.open_stored(session_id)
        return None

    def _apply_layout(self, page: InspectorPage) -> None:
        split = _bytes(self.settings.value("inspector/split"))
        if split is not None:
            page.split.restoreState(split)
        columns = _bytes(self.settings.value("inspector/columns"))
        if columns is not None:
            page.timeline.horizontalHeader().restoreState(columns)

    def _on_page_opened(self, page: InspectorPage) -> None:
        """A new tab takes the splitter and columns of the tab it opens beside."""
        tabs = self.window.connection_tabs
        current = tabs.currentWidget()
        if current is None or current is page:
            return
        source = tabs.current_page
        _copy_layout(source.split, page.split)
        _copy_layout(source.timeline.horizontalHeader(), page.timeline.horizontalHeader())


def _copy_layout(source: QSplitter | QHeaderView, target: QSplitter | QHeaderView) -> None:
    target.restoreState(source.saveState())


def _put_draft(page: InspectorPage, draft: dict[str, Any]) -> None:
    from wsinspector.core.payloads import PayloadMode  # noqa: PLC0415

    text, mode = draft.get("text"), draft.get("mode")
    if not isinstance(text, str) or page.composer.editor.toPlainText():
        return
    with contextlib.suppress(ValueError, TypeError):
        page.composer.set_mode(PayloadMode(mode))
    page.composer.editor.setPlainText(text)
