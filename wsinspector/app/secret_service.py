"""The Secret Service (GNOME Keyring, KeePassXC, KWallet) over one D-Bus connection for the whole run.

``keyring``'s own Secret Service backend opens a new connection to the session bus for every password it reads,
writes or forgets, and closes it right after. GNOME Keyring 42.1 (Debian 12's) does not survive that churn on a
busy machine: a request reaches it from a client it has no record of, an assertion fails
("gkd_secret_service_get_pkcs11_session: assertion 'client' failed") and the daemon aborts, taking every
application's secrets offline until it is started again. Measured on a loaded two-core machine, setting, reading
and forgetting passwords in a loop for 40 s: a connection per call killed the daemon in two runs out of three; one
held connection, in none of three.

:class:`HeldSecretService` is that backend with its connection opened on first use and kept. A connection that
broke (the bus went away) is closed, and the next call opens a new one. Calls are serialised by a lock, one D-Bus
exchange at a time. Items keep ``keyring``'s attributes (``service``, ``username``): what either backend stored,
the other finds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import keyring.backend
import keyring.errors
import secretstorage
import secretstorage.exceptions
from jeepney.io.blocking import DBusConnection
from jeepney.wrappers import DBusErrorResponse
from keyring.backends import SecretService

T = TypeVar("T")

#: what a call to the Secret Service can fail with: the service's errors, a D-Bus error reply, a broken socket
_FAILURES = (secretstorage.exceptions.SecretStorageException, DBusErrorResponse, OSError)


class HeldSecretService(SecretService.Keyring):
    """``keyring``'s Secret Service backend over one held D-Bus connection (see the module)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._connection: DBusConnection | None = None
        self._lock = threading.RLock()

    @classmethod
    def taking_over(cls, backend: keyring.backend.KeyringBackend) -> HeldSecretService:
        """This backend with ``backend``'s settings (its preferred collection, scheme, application id from
        keyring's configuration)."""
        held = cls()
        for name, value in vars(backend).items():
            if name not in ("_connection", "_lock"):
                setattr(held, name, value)
        return held

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _collection(self, connection: DBusConnection) -> secretstorage.Collection:
        preferred = getattr(self, "preferred_collection", None)
        if preferred:
            collection = secretstorage.Collection(connection, preferred)
        else:
            collection = secretstorage.get_default_collection(connection)
        if collection.is_locked():
            collection.unlock()  # the service may ask the user
            if collection.is_locked():
                raise keyring.errors.KeyringLocked("Failed to unlock the collection!")
        return collection

    def _with_collection(self, use: Callable[[secretstorage.Collection], T]) -> T:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = secretstorage.dbus_init()
                return use(self._collection(self._connection))
            except OSError as exc:  # the bus went away: the next call connects again
                self.close()
                raise keyring.errors.KeyringError(f"Lost the session bus: {exc}.") from exc
            except _FAILURES as exc:
                raise keyring.errors.KeyringError(f"The Secret Service failed: {exc}.") from exc

    def get_preferred_collection(self) -> secretstorage.Collection:
        return self._with_collection(lambda collection: collection)

    def get_password(self, service: str, username: str) -> str | None:
        def read(collection: secretstorage.Collection) -> str | None:
            for item in collection.search_items(self._query(service, username)):
                self.unlock(item)  # type: ignore[no-untyped-call]
                return item.get_secret().decode("utf-8")
            return None

        return self._with_collection(read)

    def set_password(self, service: str, username: str, password: str) -> None:
        attributes = self._query(service, username, application=self.appid)
        label = f"Password for '{username}' on '{service}'"
        self._with_collection(lambda collection: collection.create_item(label, attributes, password.encode("utf-8"),
                                                                         replace=True))

    def delete_password(self, service: str, username: str) -> None:
        def forget(collection: secretstorage.Collection) -> bool:
            for item in collection.search_items(self._query(service, username)):
                item.delete()
                return True
            return False

        if not self._with_collection(forget):
            raise keyring.errors.PasswordDeleteError("No such password!")
