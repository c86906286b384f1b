"""Saved connection profiles: the list the connections panel shows, backed by the store."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from wsinspector.core.auth import checked_target
from wsinspector.core.profiles import BUILTIN_LOCAL_ECHO, ConnectionProfile, Endpoint, ReadOnlyProfileError
from wsinspector.core.store import Store

LOCAL_ECHO_NAME = "Local echo"


class ConnectionsController(QObject):
    """Signals:
    profiles_changed(): the list or a profile in it changed
    """

    profiles_changed = Signal()

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._profiles = store.profiles()

    @property
    def profiles(self) -> list[ConnectionProfile]:
        return list(self._profiles)

    def get(self, profile_id: str) -> ConnectionProfile | None:
        return next((p for p in self._profiles if p.id == profile_id), None)

    def save(self, profile: ConnectionProfile) -> ConnectionProfile:
        self._store.save_profile(profile)
        for i, existing in enumerate(self._profiles):
            if existing.id == profile.id:
                self._profiles[i] = profile
                break
        else:
            self._profiles.append(profile)
        self.profiles_changed.emit()
        return profile

    def with_url(self, profile: ConnectionProfile, url: str) -> tuple[ConnectionProfile, str]:
        """What to connect to when the user typed ``url`` over ``profile``'s: the profile saved with it, or, for
        the built-in and a read-only profile, a copy used once, with a notice that says so.

        Raises ValueError (with the reason) when the URL cannot be used.
        """
        if url == profile.url:
            return profile, ""
        edited = profile.with_changes(endpoint={"url": url})
        checked_target(edited)  # the values a login before connecting captures stand in
        if profile.builtin:
            # The built-in profile follows the echo server's port; keep the user's URL out of it.
            return edited, (f"Connecting to {url} once; “{profile.name}” keeps pointing at the built-in echo "
                            "server. Use Duplicate to save a connection of your own.")
        if profile.read_only:
            return edited, f"Connecting to {url} once: {ReadOnlyProfileError(profile)}."
        return self.save(edited), ""

    def trust_certificate(self, profile: ConnectionProfile, sha256: str) -> ConnectionProfile:
        """``profile`` with the server certificate of this SHA-256 fingerprint trusted (saved, unless it is the
        built-in or a read-only profile: then for this once)."""
        pinned = (*profile.tls.pinned, sha256) if sha256 not in profile.tls.pinned else profile.tls.pinned
        trusted = profile.with_changes(tls={"pinned": pinned})
        if profile.builtin or profile.read_only:
            return trusted
        return self.save(trusted)

    def rename(self, profile_id: str, name: str) -> ConnectionProfile:
        profile = self._existing(profile_id)
        return self.save(profile.with_changes(name=name.strip() or profile.name))

    def duplicate(self, profile_id: str) -> ConnectionProfile:
        profile = self._existing(profile_id)
        return self.save(profile.duplicate(self.unique_name(f"{profile.name} (copy)")))

    def delete(self, profile_id: str) -> None:
        self._store.delete_profile(profile_id)
        self._profiles = [p for p in self._profiles if p.id != profile_id]
        self.profiles_changed.emit()

    def unique_name(self, wanted: str) -> str:
        names = {p.name for p in self._profiles}
        if wanted not in names:
            return wanted
        n = 2
        while f"{wanted} {n}" in names:
            n += 1
        return f"{wanted} {n}"

    def ensure_local_echo(self, url: str) -> tuple[ConnectionProfile, bool]:
        """Point the built-in "Local echo" profile at ``url`` (the echo server's port changes per start).

        Returns the profile and whether it was created now (first start).
        """
        for profile in self._profiles:
            if profile.builtin == BUILTIN_LOCAL_ECHO:
                if profile.url != url and profile.read_only:  # saved by a newer version: follow it in memory
                    profile = profile.with_changes(endpoint=Endpoint(url))
                    self._profiles = [profile if p.id == profile.id else p for p in self._profiles]
                elif profile.url != url:
                    profile = self.save(profile.with_changes(endpoint=Endpoint(url)))
                return profile, False
        return self.save(ConnectionProfile(name=LOCAL_ECHO_NAME, endpoint=Endpoint(url),
                                           builtin=BUILTIN_LOCAL_ECHO)), True

    def _existing(self, profile_id: str) -> ConnectionProfile:
        profile = self.get(profile_id)
        if profile is None:
            raise KeyError(profile_id)
        return profile
