"""Saved connection profiles: the list the connections panel shows, its folders and the recently used ones,
backed by the store; their secret values by the secret keeper (the store never sees them: ``core/profiles.py``
leaves them out of the stored form)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from PySide6.QtCore import QObject, Signal

from wsinspector.core import folders as fo
from wsinspector.core.auth import checked_target
from wsinspector.core.formats import Imported
from wsinspector.core.literal_secrets import lift_secrets
from wsinspector.core.profiles import (
    BUILTIN_LOCAL_ECHO,
    ConnectionProfile,
    Endpoint,
    ReadOnlyProfileError,
    UnknownVariableError,
    profile_to_json,
)
from wsinspector.core.redact import is_secret_header, is_secret_name
from wsinspector.core.secrets import (
    MemoryKeeper,
    SecretError,
    SecretKeeper,
    connection_key,
    environment_name,
    secret_label,
    secret_values,
    with_secret_values,
)
from wsinspector.core.sending import SHARED_MESSAGES_SETTING, messages_from_json, messages_to_json
from wsinspector.core.store import Store, StoreError

log = logging.getLogger(__name__)

#: the store setting that says the plaintext secrets of older versions were moved into the keyring
_MIGRATED = "secrets_in_keyring"

LOCAL_ECHO_NAME = "Local echo"


class ConnectionsController(QObject):
    """Signals:
    profiles_changed(): the list, a profile in it, or the folders changed
    recent_changed(): a connection was used (the Recent group)
    lifted(name, variables): secrets written in a saved connection's URL or login headers now live in
        these secret variables
    shared_messages_changed(): the saved messages every connection has changed
    """

    profiles_changed = Signal()
    recent_changed = Signal()
    #: (connection name, variables): secrets written in its URL or login headers were moved into these secret
    #: variables on saving (the URL now reads ``?token={{token}}``)
    lifted = Signal(str, list)
    shared_messages_changed = Signal()

    def __init__(self, store: Store, parent: QObject | None = None, *, secrets: SecretKeeper | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._secrets: SecretKeeper = secrets if secrets is not None else MemoryKeeper()
        #: what went wrong moving or reading secrets, for the user (shown once at start)
        self.warnings: list[str] = []
        self._profiles = [self._with_kept_secrets(p) for p in store.profiles()]
        #: the same profiles by id (``get`` in constant time: an import of thousands asks for each)
        self._by_id = {p.id: p for p in self._profiles}
        #: the folders the user made, kept even while empty
        self._kept_folders = fo.folders_from_json(store.setting(fo.FOLDERS_SETTING))
        self._last_used = fo.last_used_from_json(store.setting(fo.LAST_USED_SETTING))
        self._shared_messages = messages_from_json(store.setting(SHARED_MESSAGES_SETTING))

    # -- saved messages ---------------------------------------------------------------------------

    def shared_messages(self) -> tuple[tuple[str, str, str], ...]:
        """The saved messages every connection has (name, kind, template), kept in the store's settings."""
        return self._shared_messages

    def set_shared_messages(self, messages: Iterable[tuple[str, str, str]]) -> None:
        """StoreError (for the user) when they cannot be saved."""
        messages = tuple(messages)
        self._store.set_setting(SHARED_MESSAGES_SETTING, messages_to_json(messages))
        self._shared_messages = messages
        self.shared_messages_changed.emit()

    def save_composing(self, profile: ConnectionProfile, **changes: object) -> ConnectionProfile:
        """Save a connection's saved messages or auto-reply rules (``changes``) over what is saved of it now.
        ValueError when it cannot keep them."""
        if profile.read_only:
            raise ValueError(str(ReadOnlyProfileError(profile)))
        current = self.get(profile.id) or profile
        return self.save(current.with_changes(**changes))

    # -- secrets ------------------------------------------------------------------------------------

    def _with_kept_secrets(self, profile: ConnectionProfile) -> ConnectionProfile:
        """A stored profile with its secret values from the keeper; one it does not have stays empty (and
        connecting names it: ``ConnectionProfile.missing_secrets``)."""
        values: dict[str, str] = {}
        for path in profile.kept_secrets:  # only those saved with a value: each asks the keyring once
            try:
                value = self._secrets.get(connection_key(profile.id, path))
            except SecretError as exc:
                log.warning("%s", exc)
                continue
            if value is not None:
                values[path] = value
        return with_secret_values(profile, values)

    def _keep_secrets(self, profile: ConnectionProfile) -> ConnectionProfile:
        """Put the profile's secret values into the keeper (and forget those it no longer has); the profile
        with ``kept_secrets`` naming them. SecretError when the keeper fails.
        A secret written literally in a URL or a login header moves into a secret variable first
        (``core/literal_secrets.py``); :attr:`lifted` tells it once."""
        profile, lifted = lift_secrets(profile)
        if lifted:
            self.lifted.emit(profile.name, lifted)
        values = secret_values(profile)
        previous = self.get(profile.id)
        gone = set(secret_values(previous)) - set(values) if previous is not None else set()
        for path, value in values.items():
            key = connection_key(profile.id, path)
            if value:
                self._secrets.set(key, value)
            else:
                self._secrets.delete(key)
        for path in gone:
            self._secrets.delete(connection_key(profile.id, path))
        return profile.with_changes(kept_secrets=tuple(path for path, value in values.items() if value))

    def unkept_secrets(self, profile: ConnectionProfile) -> str:
        """Where secrets are kept only while the process runs (no keyring): which of ``profile``'s are lost when
        it exits, and the environment variable that can give each; "" when none are."""
        if self._secrets.persistent or not profile.kept_secrets:
            return ""
        named = "; ".join(f"{secret_label(path)}: set {environment_name(connection_key(profile.id, path))}"
                          for path in profile.kept_secrets)
        return (f"“{profile.name}” has secrets no keyring keeps: they are gone when wsinspector exits. Give them "
                f"again, or in environment variables ({named})")

    def _forget_secrets(self, profile: ConnectionProfile) -> None:
        for path in secret_values(profile):
            try:
                self._secrets.delete(connection_key(profile.id, path))
            except SecretError as exc:
                log.warning("%s", exc)

    def migrate_plaintext(self) -> None:
        """Move the secrets older versions stored in plaintext (headers and variables named like secrets, secrets
        written in a URL or a login header) into
        the keeper, mark them secret, and leave nothing of them in the database file. Only into a keeper that
        outlives the process; otherwise they stay where they are and :attr:`warnings` says so. Once."""
        if self._store.setting(_MIGRATED) == "1":
            return
        found = [(profile, _plaintext_secrets(profile)) for profile in self._profiles if not profile.read_only]
        found = [(profile, names) for profile, names in found
                 if names[0] or names[1] or lift_secrets(profile)[1]]
        if not found:
            self._store.set_setting(_MIGRATED, "1")
            return
        if not self._secrets.persistent:
            listed = ", ".join(f"“{profile.name}”" for profile, _ in found)
            self.warnings.append(f"Saved connections hold secrets in plaintext from an older version ({listed}); "
                                 "they stay there until a keyring is available to move them into.")
            return
        strict = getattr(self._secrets, "strict", None)
        if strict is not None:  # a keyring that fails now must not leave them in memory only
            self._secrets.strict = True  # type: ignore[attr-defined]
        try:
            for profile, (headers, variables) in found:
                marked = profile.with_changes(
                    handshake={"secret_headers": (*profile.handshake.secret_headers, *headers)},
                    secret_variables=(*profile.secret_variables, *variables))
                self.save(marked)
        finally:
            if strict is not None:
                self._secrets.strict = strict  # type: ignore[attr-defined]
        self._store.erase_freed()
        self._store.set_setting(_MIGRATED, "1")
        log.info("moved the plaintext secrets of %d saved connection%s into %s", len(found),
                 "s" if len(found) != 1 else "", self._secrets.where)

    @property
    def profiles(self) -> list[ConnectionProfile]:
        return list(self._profiles)

    def get(self, profile_id: str) -> ConnectionProfile | None:
        return self._by_id.get(profile_id)

    def save(self, profile: ConnectionProfile) -> ConnectionProfile:
        """Save a profile: its secret values into the keeper, the rest into the store. SecretError or
        StoreError (for the user) when either fails."""
        profile = self._keep_secrets(profile)
        self._store.save_profile(profile)
        self._put([profile])
        self.profiles_changed.emit()
        return profile

    def add_imported(self, imported: Iterable[Imported]) -> list[ConnectionProfile]:
        """Save connections read from a file, each under a name not taken yet, in one transaction; the list is
        told once. (:class:`ImportBatch` does the same a connection at a time, for work in slices.)"""
        batch = ImportBatch(self)
        try:
            for item in imported:
                batch.add(item)
        except BaseException:
            batch.discard()
            raise
        return batch.commit()

    def _save_all(self, profiles: Sequence[ConnectionProfile], stored: Sequence[str] | None = None) -> None:
        """Store these profiles (whose secret values the keeper has already) in one transaction, and tell the
        list once."""
        if profiles:
            self._store.save_profiles(profiles, stored)
            self._put(profiles)
            self.profiles_changed.emit()

    def _refolder(self, profiles: Sequence[ConnectionProfile]) -> None:
        """Store these profiles, whose folder alone changed, in one transaction (only their folder is rewritten),
        and tell the list once."""
        if profiles:
            left = set(self._store.move_profiles([(p.id, p.folder) for p in profiles]))
            if left:  # stored in an older form: saved whole, in the current one
                self._store.save_profiles([p for p in profiles if p.id in left])
            self._put(profiles)
            self.profiles_changed.emit()

    def _put(self, profiles: Sequence[ConnectionProfile]) -> None:
        """These profiles in the list, each in the place of the one of its id, or else at the end."""
        changed = {p.id: p for p in profiles if p.id in self._by_id}
        if changed:
            self._profiles = [changed.get(p.id, p) for p in self._profiles]
        self._profiles += [p for p in profiles if p.id not in self._by_id]
        self._by_id.update((p.id, p) for p in profiles)

    def _drop(self, profile_ids: set[str]) -> None:
        self._profiles = [p for p in self._profiles if p.id not in profile_ids]
        for pid in profile_ids:
            self._by_id.pop(pid, None)

    def with_url(self, profile: ConnectionProfile, url: str) -> tuple[ConnectionProfile, str]:
        """What to connect to when the user typed ``url`` over ``profile``'s: a copy with that URL, not saved
        (``save_url`` saves it); for the built-in and a read-only profile with a notice that it is used once.

        Raises ValueError (with the reason) when the URL cannot be used.
        """
        if url == profile.url:
            return profile, ""
        edited = profile.with_changes(endpoint={"url": url})
        with contextlib.suppress(UnknownVariableError):  # the globals or an environment may define it: connecting
            checked_target(edited)  # names it then, with where it is used (what a login captures stands in)
        if profile.builtin:
            # The built-in profile follows the echo server's port; keep the user's URL out of it.
            return edited, (f"Connecting to {url} once; “{profile.name}” keeps pointing at the built-in echo "
                            "server. Use Duplicate to save a connection of your own.")
        if profile.read_only:
            return edited, f"Connecting to {url} once: {ReadOnlyProfileError(profile)}."
        return edited, ""

    def save_url(self, profile: ConnectionProfile, url: str) -> ConnectionProfile:
        """Save ``url`` as the URL of the saved connection ``profile`` (the user said Save).

        Raises ValueError (with the reason) when the URL cannot be used or the connection cannot take it.
        """
        if profile.builtin:
            raise ValueError(f"“{profile.name}” points at the built-in echo server and keeps its URL: use "
                             "Duplicate to save a connection of your own")
        if profile.read_only:
            raise ValueError(str(ReadOnlyProfileError(profile)))
        edited, _ = self.with_url(profile, url)
        if edited is profile:
            return profile
        current = self.get(profile.id) or profile  # what else was saved since the tab took it stays
        return self.save(current.with_changes(endpoint={"url": url}))

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
        self._delete_all([profile_id])

    def _delete_all(self, profile_ids: Sequence[str]) -> None:
        """Delete these connections in one transaction, forget their secret values; the list is told once."""
        ids = set(profile_ids)
        self._store.delete_profiles(ids)
        for pid in ids:
            profile = self.get(pid)
            if profile is not None:
                self._forget_secrets(profile)
        self._drop(ids)
        used = [pid for pid in ids if self._last_used.pop(pid, None) is not None]
        if used:
            self._save_last_used()
        self.profiles_changed.emit()

    def unique_name(self, wanted: str) -> str:
        return fo.UniqueNames(p.name for p in self._profiles).take(wanted)

    def ensure_local_echo(self, url: str) -> tuple[ConnectionProfile, bool]:
        """Point the built-in "Local echo" profile at ``url`` (the echo server's port changes per start).

        Returns the profile and whether it was created now (first start).
        """
        for profile in self._profiles:
            if profile.builtin == BUILTIN_LOCAL_ECHO:
                if profile.url != url and profile.read_only:  # saved by a newer version: follow it in memory
                    profile = profile.with_changes(endpoint=Endpoint(url))
                    self._put([profile])
                elif profile.url != url:
                    profile = self.save(profile.with_changes(endpoint=Endpoint(url)))
                return profile, False
        return self.save(ConnectionProfile(name=LOCAL_ECHO_NAME, endpoint=Endpoint(url),
                                           builtin=BUILTIN_LOCAL_ECHO)), True

    # -- folders ------------------------------------------------------------------------------------

    @property
    def folders(self) -> list[str]:
        """Every folder's path, sorted by name (a parent before its folders)."""
        return fo.all_folders(self._profiles, self._kept_folders)

    def tree(self) -> fo.FolderNode:
        return fo.build_tree(self._profiles, self._kept_folders)

    def profiles_in(self, folder: str, recursive: bool = True) -> list[ConnectionProfile]:
        """The connections of ``folder`` ("" the top level) in their order, with those of its folders unless
        ``recursive`` is False: what an export of the folder holds."""
        return fo.profiles_in(self._profiles, folder, recursive)

    def create_folder(self, parent: str, name: str) -> str:
        """A new, empty folder in ``parent``; its path. FolderError when the name cannot be used."""
        path = fo.join(fo.normal_path(parent), fo.folder_name(name))
        self._check_free(path)
        self._set_kept_folders([*self.folders, path])
        self.profiles_changed.emit()
        return path

    def rename_folder(self, path: str, name: str) -> str:
        """The folder at ``path`` named ``name``, with everything in it; its new path."""
        new = fo.join(fo.parent_of(path), fo.folder_name(name))
        if new != path:
            self._check_free(new)
            self._rebase(path, new)
        return new

    def move_folder(self, path: str, parent: str) -> str:
        """The folder at ``path`` moved into ``parent`` ("" the top level), with everything in it; its new path."""
        parent = fo.normal_path(parent)
        if fo.is_within(parent, path) and path:
            raise fo.FolderError(f"The folder “{fo.leaf(path)}” cannot go into itself or a folder inside it")
        new = fo.join(parent, fo.leaf(path))
        if new != path:
            self._check_free(new)
            self._rebase(path, new)
        return new

    def delete_folder(self, path: str, keep_connections: bool) -> None:
        """Delete the folder at ``path`` and its folders. Their connections are deleted too, unless
        ``keep_connections``: then they (and the folders inside) move up into the folder's parent."""
        if not path:
            raise fo.FolderError("The top level is not a folder")
        parent = fo.parent_of(path)
        folders = self.folders
        inside = self.profiles_in(path)
        with self._one_change():
            if keep_connections:
                self._refolder([_rebased(p, path, parent) for p in inside if not p.read_only])
                self._set_kept_folders([fo.rebase(f, path, parent) for f in folders if f != path])
            else:
                self._delete_all([p.id for p in inside])
                self._set_kept_folders([f for f in folders if not fo.is_within(f, path)])

    def move(self, profile_ids: Sequence[str], folder: str, before: str | None = None) -> None:
        """Move connections into ``folder``, in this order: just before the connection ``before``, or after the
        folder's last one. A connection saved by a newer version stays where it is (it cannot be saved)."""
        folder = fo.normal_path(folder)
        with self._one_change():
            self._set_kept_folders([*self.folders, folder])  # a folder left empty stays
            movable = [pid for pid in profile_ids if (p := self.get(pid)) is not None and not p.read_only]
            moving = [self._existing(pid) for pid in movable]
            self._refolder([p.with_changes(folder=folder) for p in moving if fo.normal_path(p.folder) != folder])
            order = fo.moved_order(self._profiles, movable, folder, before)
            self._store.reorder_profiles(order)
            place = {pid: i for i, pid in enumerate(order)}
            self._profiles.sort(key=lambda p: place.get(p.id, len(place)))

    @contextmanager
    def _one_change(self) -> Iterator[None]:
        """Saves and deletes told to the views as one change, once they are all done."""
        blocked = self.blockSignals(True)
        try:
            yield
        finally:
            self.blockSignals(blocked)
            self.profiles_changed.emit()

    def _check_free(self, path: str) -> None:
        if path in self.folders:
            raise fo.FolderError(f"There is already a folder “{fo.leaf(path)}” in "
                                 f"{fo.display_path(fo.parent_of(path))}")

    def _rebase(self, old: str, new: str) -> None:
        """The folder ``old`` and everything in it moved to ``new``: one transaction, the list told once."""
        folders = self.folders
        with self._one_change():
            self._refolder([_rebased(p, old, new) for p in self.profiles_in(old) if not p.read_only])
            self._set_kept_folders([fo.rebase(f, old, new) for f in folders])

    def _set_kept_folders(self, folders: Sequence[str]) -> None:
        """Keep these folders (with their parents) whether or not a connection is in them."""
        self._kept_folders = fo.all_folders((), folders)
        self._store.set_setting(fo.FOLDERS_SETTING, fo.folders_to_json(self._kept_folders))

    # -- recently used --------------------------------------------------------------------------------

    def recent(self, count: int = fo.RECENT_COUNT) -> list[ConnectionProfile]:
        """The connections used last, the latest first."""
        return fo.recent(self._profiles, self._last_used, count)

    def mark_used(self, profile_id: str, wall: float | None = None) -> None:
        """Note that the connection was used now (or at ``wall``): it leads the Recent group."""
        self._last_used[profile_id] = time.time() if wall is None else wall
        self._save_last_used()
        self.recent_changed.emit()

    def _save_last_used(self) -> None:
        known = {p.id for p in self._profiles}
        self._last_used = {pid: wall for pid, wall in self._last_used.items() if pid in known}
        try:
            self._store.set_setting(fo.LAST_USED_SETTING, fo.last_used_to_json(self._last_used))
        except StoreError as exc:  # the list still shows it for this run
            log.warning("last use not saved: %s", exc)

    def _existing(self, profile_id: str) -> ConnectionProfile:
        profile = self.get(profile_id)
        if profile is None:
            raise KeyError(profile_id)
        return profile


def _rebased(profile: ConnectionProfile, old: str, new: str) -> ConnectionProfile:
    """``profile`` with its folder moved from within ``old`` to within ``new``: a change of folder only, so its
    secret values stay in the keeper as they are."""
    return profile.with_changes(folder=fo.rebase(fo.normal_path(profile.folder), old, new))


class ImportBatch:
    """Connections read from files on their way into the saved ones, in two steps so that thousands can come in
    in slices: :meth:`add` readies one (a name not taken yet, the folder it came in, its secret values into the
    keeper, its stored form); :meth:`commit` saves them all in one transaction and tells the list once;
    :meth:`discard` (a cancelled import) forgets the secret values of those it readied."""

    def __init__(self, controller: ConnectionsController) -> None:
        self._controller = controller
        self._names = fo.UniqueNames(p.name for p in controller.profiles)
        self._profiles: list[ConnectionProfile] = []
        self._stored: list[str] = []
        self._closed = False

    def __len__(self) -> int:
        return len(self._profiles)

    def add(self, item: Imported) -> ConnectionProfile:
        """Ready one connection; SecretError when the keeper fails."""
        folder = fo.path_of(item.folder or item.profile.folder.split(fo.SEPARATOR))
        profile = item.profile.with_changes(name=self._names.take(item.profile.name), folder=folder)
        profile = self._controller._keep_secrets(profile)
        self._profiles.append(profile)
        self._stored.append(profile_to_json(profile))
        return profile

    def commit(self) -> list[ConnectionProfile]:
        """Save what was readied, in one transaction; StoreError (nothing saved, their secrets forgotten)."""
        try:
            self._controller._save_all(self._profiles, self._stored)
        except BaseException:
            self.discard()
            raise
        self._closed = True
        return list(self._profiles)

    def discard(self) -> None:
        if self._closed:
            return
        self._closed = True
        for profile in self._profiles:
            self._controller._forget_secrets(profile)


def _plaintext_secrets(profile: ConnectionProfile) -> tuple[list[str], list[str]]:
    """The names of the headers and variables holding a value that looks secret but are not marked secret."""
    headers = list(dict.fromkeys(
        name for name, value in profile.handshake.headers
        if value and is_secret_header(name)
        and name.lower() not in {h.lower() for h in profile.handshake.secret_headers}))
    variables = list(dict.fromkeys(
        name for name, value in profile.variables
        if value and is_secret_name(name) and name not in profile.secret_variables))
    return headers, variables
