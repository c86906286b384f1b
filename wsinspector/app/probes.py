"""The Probe page's controller: one probe at a time over the app's store (with the app-wide connection
defaults and the active environment's variables applied, as a connect applies them), and the kept probes:
listed, deleted, exported as tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal, Slot

from wsinspector.app.probe import ProbeController
from wsinspector.core.auth import checked_target
from wsinspector.core.connection_defaults import ConnectionDefaults, effective
from wsinspector.core.probe import row
from wsinspector.core.probe.cases import AGGRESSIVE_CASES
from wsinspector.core.probe.plan import PROBES_SETTING, PlanError, is_loopback, load_probes, plan
from wsinspector.core.probe.row import ProbeResult
from wsinspector.core.probe.steps import CaseContext
from wsinspector.core.profiles import ConnectionProfile, Endpoint, ProfileError
from wsinspector.core.store import Store, StoreError

#: the export formats, by the name the page shows
EXPORTS: dict[str, tuple[str, Callable[[list[ProbeResult]], str]]] = {
    "Markdown": ("md", row.markdown), "CSV": ("csv", row.csv_text), "JSON": ("json", row.json_text),
    "MediaWiki": ("wiki", row.wikitable)}


class ProbesController(QObject):
    """Signals: ``started(str)`` (the endpoint), ``case_finished(str, float)``, ``finished(ProbeResult)``,
    ``changed()`` (the kept probes), ``refused(str)`` (a probe that cannot start, in one line)."""

    started = Signal(str)
    case_finished = Signal(str, float)
    finished = Signal(object)
    changed = Signal()
    refused = Signal(str)

    def __init__(self, store: Store, defaults: Callable[[], ConnectionDefaults | None] = lambda: None,
                 variables: Callable[[ConnectionProfile], Mapping[str, str]] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._defaults = defaults
        self._variables = variables
        self.running: ProbeController | None = None

    def kept(self) -> list[ProbeResult]:
        try:
            return load_probes(self._store.setting(PROBES_SETTING))
        except (StoreError, sqlite3.Error):
            return []

    @staticmethod
    def needs_confirmation(url: str, names: Iterable[str]) -> bool:
        """Aggressive cases against an address that is not loopback: only once the user confirmed."""
        return any(name in AGGRESSIVE_CASES for name in names) and not is_loopback(url)

    @staticmethod
    def profile_for(text: str) -> ConnectionProfile:
        """A URL typed for once."""
        return ConnectionProfile(name=text, endpoint=Endpoint(text.strip()))

    def start(self, profile: ConnectionProfile, names: Iterable[str], *, confirmed: bool = False,
              saved: bool = False) -> bool:
        """Probe ``profile``'s endpoint with the cases ``names``; aggressive ones away from loopback need
        ``confirmed``. False (and ``refused``) when it cannot start."""
        if self.running is not None:
            self.refused.emit("A probe is running: wait for it or cancel it")
            return False
        if urlsplit(profile.url.strip()).scheme.lower() not in ("ws", "wss"):
            self.refused.emit("Give a ws:// or wss:// URL, or choose a saved connection")
            return False
        names = list(names)
        harsh = any(name in AGGRESSIVE_CASES for name in names)
        try:
            chosen = plan(names, aggressive=confirmed, url=profile.url)
        except PlanError as exc:
            self.refused.emit(str(exc).replace("with --aggressive", "once you confirm them"))
            return False
        if not chosen:
            self.refused.emit("Choose at least one case")
            return False
        try:
            checked_target(profile, self._variables(profile) if self._variables else None)
        except ProfileError as exc:
            self.refused.emit(str(exc))
            return False
        defaults = self._defaults()
        target = effective(profile, defaults) if defaults is not None else profile
        self.running = ProbeController(target, chosen, store=self._store, aggressive=harsh,
                                       ctx=CaseContext(aggressive=harsh), name=profile.name if saved else "",
                                       profile_id=profile.id if saved else None,
                                       variables=self._variables(profile) if self._variables else None,
                                       parent=self)
        self.running.case_finished.connect(self.case_finished)
        self.running.finished.connect(self._on_finished)
        self.started.emit(self.running.result.url)
        self.running.start()
        return True

    def cancel(self) -> None:
        if self.running is not None:
            self.running.cancel()

    @Slot(object)
    def _on_finished(self, result: ProbeResult) -> None:
        running, self.running = self.running, None
        if running is not None:
            running.deleteLater()
        self.finished.emit(result)
        self.changed.emit()

    def delete(self, ids: Iterable[int]) -> None:
        gone = set(ids)
        kept = [p for p in self.kept() if p.id not in gone]
        try:
            self._store.set_setting(PROBES_SETTING, row.json_text(kept))
        except (StoreError, sqlite3.Error) as exc:
            self.refused.emit(f"The probes could not be deleted: {exc}")
            return
        self.changed.emit()

    def table(self, ids: Iterable[int], kind: str) -> str:
        """The kept probes ``ids`` (in that order) as ``kind``, one of :data:`EXPORTS`."""
        by_id = {p.id: p for p in self.kept()}
        return EXPORTS[kind][1]([by_id[i] for i in ids if i in by_id])

    def shutdown(self) -> None:
        if self.running is not None:
            self.running.cancel()
