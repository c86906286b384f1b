"""The app-wide connection defaults (TLS and proxy): kept in the store's ``settings`` table without secret
values, the client key's passphrase and the proxy's password in the app's secret keeper
(``defaults/tls.passphrase``, ``defaults/proxy.password``). ``core/connection_defaults.py`` says how a
connection uses them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QObject, Signal

from wsinspector.core.connection_defaults import (
    SETTINGS_KEY,
    ConnectionDefaults,
    checked,
    defaults_from_json,
    defaults_to_json,
    secret_key,
)
from wsinspector.core.profiles import ProfileFormatError
from wsinspector.core.secrets import SecretKeeper
from wsinspector.core.store import Store, StoreError

log = logging.getLogger(__name__)


def load_defaults(store: Store, secrets: SecretKeeper | None) -> tuple[ConnectionDefaults, list[str]]:
    """The defaults kept in ``store``, their secret values from ``secrets`` (None: left empty), and the paths of
    the secrets kept for them that ``secrets`` did not give back. ProfileFormatError when they cannot be read."""
    text = store.setting(SETTINGS_KEY)
    if text is None:
        return ConnectionDefaults(), []
    defaults, kept = defaults_from_json(text)
    if secrets is None:
        return defaults, []
    values, missing = _secret_values(kept, secrets)
    return defaults.with_secret_values(values), missing


def _secret_values(kept: tuple[str, ...], secrets: SecretKeeper) -> tuple[dict[str, str], list[str]]:
    """The values ``secrets`` has for the kept secrets by path, and the paths it has none for."""
    values: dict[str, str] = {}
    for path in kept:
        value = secrets.get(secret_key(path))
        if value:
            values[path] = value
    return values, [path for path in kept if path not in values]


class DefaultsController(QObject):
    """The app-wide connection defaults: what each connection gets unless it says otherwise.

    Signals:
        changed(): the defaults were saved
    """

    changed = Signal()

    def __init__(self, store: Store, secrets: SecretKeeper, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._secrets = secrets
        #: why the stored defaults could not be read ("" when they could): nothing is saved over them then
        self.load_error = ""
        #: secrets kept for the defaults that the keeper did not give back (their paths)
        self.missing: list[str] = []
        try:
            self._defaults, self.missing = load_defaults(store, secrets)
        except ProfileFormatError as exc:
            self.load_error = str(exc)
            log.warning("connection defaults not read: %s", exc)
            self._defaults = ConnectionDefaults()

    @property
    def defaults(self) -> ConnectionDefaults:
        return self._defaults

    def save(self, defaults: ConnectionDefaults) -> ConnectionDefaults:
        """Keep ``defaults`` (checked: ProfileError says what cannot be used): the settings in the store, the
        secret values in the keeper; a secret emptied is forgotten."""
        if self.load_error:
            raise StoreError(f"{self.load_error}; they are left as they are, so nothing is saved over them")
        defaults = checked(defaults)
        for path, value in defaults.secret_values().items():
            if value:
                self._secrets.set(secret_key(path), value)
            else:
                self._secrets.delete(secret_key(path))
        self._store.set_setting(SETTINGS_KEY, defaults_to_json(defaults))
        self._defaults = defaults
        self.missing = []
        self.changed.emit()
        return defaults


class StoredDefaults(NamedTuple):
    """The defaults kept in a data folder, as ``wsinspector run`` and ``wsinspector defaults`` read them."""

    defaults: ConnectionDefaults
    #: the secrets kept for them (their paths), and those of them the keeper did not give back
    kept: tuple[str, ...]
    missing: list[str]
    #: the store's path ("" when there is no store)
    path: str


def stored_defaults(data_dir: Path, keeper: Callable[[], SecretKeeper] | None) -> StoredDefaults:
    """The defaults kept in the data folder's store (none when there is no store: it is not made). Their secret
    values come from ``keeper()``, asked only when a secret is kept (None: left empty). ProfileFormatError when
    they cannot be read."""
    from wsinspector.app.context import DB_NAME  # noqa: PLC0415  (the context imports this module)

    path = data_dir / DB_NAME
    if not path.is_file():
        return StoredDefaults(ConnectionDefaults(), (), [], "")
    try:
        store = Store(path)
    except StoreError as exc:
        raise ProfileFormatError(f"cannot read the connection defaults in {path}: {exc}") from None
    try:
        text = store.setting(SETTINGS_KEY)
    finally:
        store.close()
    if text is None:
        return StoredDefaults(ConnectionDefaults(), (), [], str(path))
    defaults, kept = defaults_from_json(text)
    if not kept or keeper is None:
        return StoredDefaults(defaults, kept, [], str(path))
    values, missing = _secret_values(kept, keeper())
    return StoredDefaults(defaults.with_secret_values(values), kept, missing, str(path))
