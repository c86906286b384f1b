"""The Secret Service (GNOME Keyring, KeePassXC, KWallet) over one D-Bus connection for the whole run.

``keyring``'s own Secret Service backend opens a new connection to the session bus for every password it reads,
writes or forgets, and closes it right after. GNOME Keyring 42.1 (Debian 12's) does not survive that churn on a
busy machine: a request reaches it from a client it has no record of, an assertion fails
("gkd_secret_service_get_pkcs11_session: assertion 'client' failed") and the daemon aborts, taking every
application's secrets offline until it is started again. Measured on a loaded two-core machine, setting, reading
and forgetting passwords in a loop for 40 s: a connection per call killed the daemon in two runs out of three; one
held connection, in none of three.

:class:`HeldSecretService` is that backend with its connection opened on first use and kept, and one Secret
Service session on it (the library opens a session for each secret read or written unless given one, and the
service keeps each until its connection closes). A connection that broke (the bus went away) is opened again,
and a session the service no longer knows (it restarted) is opened again, each once per call. Calls are
serialised by a lock, one D-Bus exchange at a time. Items keep ``keyring``'s attributes (``service``,
``username``): what either backend stored, the other finds.
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
from keyring.credentials import SimpleCredential
from secretstorage.dhcrypto import Session
from secretstorage.util import open_session

T = TypeVar("T")

#: failures after which a call is tried once more over a fresh session (the service restarted on the same bus:
#: our session went with it); a prompt the user dismissed, or an item not found, is an answer, not tried again
_STALE = (secretstorage.exceptions.SecretServiceNotAvailableException, DBusErrorResponse)
#: what else a call to the Secret Service can fail with
_FAILURES = (secretstorage.exceptions.SecretStorageException, DBusErrorResponse)


class HeldSecretService(SecretService.Keyring):
    """``keyring``'s Secret Service backend over one held D-Bus connection and one session on it (see the
    module). Never chosen by keyring's own detection (``viable``): :func:`wsinspector.app.secrets.open_keeper`
    puts it in place of the backend keyring chose."""

    viable = False  # two viable Secret Service backends would make keyring chain them, each call on both

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._connection: DBusConnection | None = None
        self._session: Session | None = None
        self._lock = threading.RLock()

    @classmethod
    def taking_over(cls, backend: keyring.backend.KeyringBackend) -> HeldSecretService:
        """This backend with ``backend``'s settings (its preferred collection, scheme, application id from
        keyring's configuration)."""
        held = cls()
        vars(held).update(vars(backend))
        return held

    def close(self) -> None:
        with self._lock:
            self._session = None
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _collection(self) -> secretstorage.Collection:
        if self._connection is None:
            self._connection = secretstorage.dbus_init()
        if self._session is None:  # one per connection: a session per call would stay open on the service
            self._session = open_session(self._connection)
        preferred = getattr(self, "preferred_collection", None)
        if preferred:
            collection = secretstorage.Collection(self._connection, preferred, session=self._session)
        else:  # not get_default_collection: it drops the session given for a collection that exists
            try:
                collection = secretstorage.Collection(self._connection, session=self._session)
            except secretstorage.exceptions.ItemNotFoundException:  # a new keyring: this creates it
                collection = secretstorage.get_default_collection(self._connection, session=self._session)
        if collection.is_locked():
            collection.unlock()  # the service may ask the user
            if collection.is_locked():
                raise keyring.errors.KeyringLocked("Failed to unlock the collection!")
        return collection

    def _with_collection(self, use: Callable[[secretstorage.Collection], T]) -> T:
        with self._lock:
            for attempt in (1, 2):
                try:
                    return use(self._collection())
                except OSError as exc:  # the bus went away: a new connection, once
                    self.close()
                    if attempt == 2:
                        raise keyring.errors.KeyringError(f"Lost the session bus: {exc}.") from exc
                except _STALE as exc:
                    self._session = None
                    if attempt == 2:
                        raise keyring.errors.KeyringError(f"The Secret Service failed: {exc}.") from exc
                except _FAILURES as exc:
                    raise keyring.errors.KeyringError(f"The Secret Service failed: {exc}.") from exc
        raise AssertionError("unreachable")

    def get_password(self, service: str, username: str) -> str | None:
        credential = self._find(self._query(service, username))
        return None if credential is None else credential.password

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        return self._find(self._query(service, username))

    def _find(self, query: dict[str, str]) -> SimpleCredential | None:
        def read(collection: secretstorage.Collection) -> SimpleCredential | None:
            for item in collection.search_items(query):
                self.unlock(item)  # type: ignore[no-untyped-call]
                username = item.get_attributes().get(self.schemes[self.scheme]["username"], "")
                return SimpleCredential(username, item.get_secret().decode("utf-8"))
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
