"""Secret values in the OS keyring (Secret Service or KWallet on Linux, Keychain on macOS, Credential Manager on
Windows) through the ``keyring`` library, and what stands in where there is none.

:func:`open_keeper` chooses at start: the keyring when it answers; otherwise a keeper that holds secrets in
memory for as long as the app runs, and a warning saying so. Either way a secret can also be given in an
environment variable (:func:`wsinspector.core.secrets.environment_name`: ``WSINSPECTOR_SECRET_TOKEN``), read
when the keeper has no value for it. Secrets never fall back to a plaintext file.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping

import keyring
import keyring.backend
import keyring.errors

from wsinspector.core.secrets import ENVIRONMENT_PREFIX, MemoryKeeper, SecretError, SecretKeeper, environment_name

log = logging.getLogger(__name__)

#: the keyring's service name under which every secret of wsinspector is kept
SERVICE = "wsinspector"
#: "memory": keep secrets for the running process only, by choice (no keyring is asked, nothing is said)
KEEPER_ENV = "WSINSPECTOR_KEYRING"
_PROBE_KEY = "wsinspector/probe"


class KeyringKeeper:
    """Secrets in an OS keyring, under the service ``wsinspector``; a keyring error is a :class:`SecretError`."""

    persistent = True

    def __init__(self, backend: keyring.backend.KeyringBackend) -> None:
        self._backend = backend
        self.where = f"the system keyring ({backend.name})"

    def get(self, key: str) -> str | None:
        try:
            return self._backend.get_password(SERVICE, key)
        except keyring.errors.KeyringError as exc:
            raise SecretError(f"The keyring could not give back a secret: {keyring_failure(exc)}") from None

    def set(self, key: str, value: str) -> None:
        try:
            self._backend.set_password(SERVICE, key, value)
        except keyring.errors.KeyringError as exc:
            raise SecretError(f"The keyring could not keep a secret: {keyring_failure(exc)}") from None

    def delete(self, key: str) -> None:
        try:
            self._backend.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass  # it was not there
        except keyring.errors.KeyringError as exc:
            raise SecretError(f"The keyring could not forget a secret: {keyring_failure(exc)}") from None


class EnvironmentKeeper:
    """A keeper whose missing values are read from ``WSINSPECTOR_SECRET_…`` environment variables."""

    def __init__(self, inner: SecretKeeper, environ: Mapping[str, str]) -> None:
        self.inner = inner
        self._environ = environ
        self.persistent = inner.persistent
        self.where = inner.where

    def get(self, key: str) -> str | None:
        value = self.inner.get(key)
        return value if value is not None else self._environ.get(environment_name(key))

    def set(self, key: str, value: str) -> None:
        self.inner.set(key, value)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


class FallbackKeeper:
    """The keyring, until it fails (its service stopped, say): then, for the rest of the run, memory (and the
    environment), so that saving loses nothing. Each listener is told once, with what to say to the user.
    ``strict``: fail instead (while moving plaintext secrets, which must not end up in memory only)."""

    def __init__(self, keyring_keeper: SecretKeeper, memory: SecretKeeper) -> None:
        self._keyring = keyring_keeper
        self._memory = memory
        self.persistent = keyring_keeper.persistent
        self.where = keyring_keeper.where
        self.strict = False
        #: what the user is told once the keyring failed ("" while it works)
        self.lost = ""
        self.listeners: list[Callable[[str], None]] = []

    def _fall_back(self, exc: SecretError) -> None:
        if self.strict:
            raise exc
        self.lost = lost_warning(str(exc))
        self.persistent = self._memory.persistent
        self.where = self._memory.where
        log.info("keyring failed, secrets now in memory: %s", exc)
        for listener in self.listeners:
            listener(self.lost)

    def get(self, key: str) -> str | None:
        if not self.lost:
            try:
                return self._keyring.get(key)
            except SecretError as exc:
                self._fall_back(exc)
        return self._memory.get(key)

    def set(self, key: str, value: str) -> None:
        if not self.lost:
            try:
                self._keyring.set(key, value)
                return
            except SecretError as exc:
                self._fall_back(exc)
        self._memory.set(key, value)

    def delete(self, key: str) -> None:
        self._memory.delete(key)
        if not self.lost:
            try:
                self._keyring.delete(key)
            except SecretError as exc:
                self._fall_back(exc)


def lost_warning(reason: str) -> str:
    """What the user is told, once, when the keyring stops working while wsinspector runs."""
    return (f"{reason.rstrip('.')}. Secrets (passwords, tokens, passphrases) saved from now on are kept only while "
            "wsinspector runs, never written to disk: save the connection again once the keyring is back, or give "
            f"them in {ENVIRONMENT_PREFIX}… environment variables.")


def unavailable_warning(reason: str) -> str:
    """What the user is told once at start when no keyring can be used."""
    return (f"No usable keyring ({reason}): secrets (passwords, tokens, passphrases) are kept only while "
            "wsinspector runs, never written to disk. Give them again after a restart, or set them in "
            f"environment variables: {ENVIRONMENT_PREFIX}<VARIABLE> for a secret variable, "
            f"{ENVIRONMENT_PREFIX}HEADER_<HEADER> for a header, {ENVIRONMENT_PREFIX}TLS_PASSPHRASE, "
            f"{ENVIRONMENT_PREFIX}PROXY_PASSWORD.")


#: why no keyring is used, when none is installed or running (keyring then offers a placeholder that keeps nothing)
NO_KEYRING = "no keyring service (such as GNOME Keyring, KWallet or KeePassXC) is running"


def keyring_failure(exc: BaseException) -> str:
    """What a keyring's failure means, for the user: the keyring's own words after what happened."""
    detail = str(exc).strip() or type(exc).__name__
    if "org.freedesktop.secrets" in detail or "was not provided by any .service files" in detail:
        return "the keyring service stopped or is not running"
    return f"the keyring did not answer: {detail}"


def _usable(backend: keyring.backend.KeyringBackend) -> str:
    """Why this keyring cannot be used ("" when it can): it is keyring's placeholder, or it fails to answer."""
    try:
        if backend.priority <= 0:
            return NO_KEYRING
        backend.get_password(SERVICE, _PROBE_KEY)  # a locked or absent Secret Service fails here
    except (keyring.errors.KeyringError, RuntimeError, OSError, ValueError) as exc:
        return keyring_failure(exc)
    return ""


def _held(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
    """``keyring``'s Secret Service backend replaced, for this process, by one that holds its D-Bus connection
    (:mod:`wsinspector.app.secret_service` says why); any other backend as it is."""
    if sys.platform != "linux" or type(backend).__module__ != "keyring.backends.SecretService":
        return backend
    try:
        from wsinspector.app.secret_service import HeldSecretService
    except ImportError as exc:  # a build without it: keyring's own backend still works (about.keyring_support)
        log.warning("the Secret Service over one connection is not available: %s", exc)
        return backend
    held = HeldSecretService.taking_over(backend)
    keyring.set_keyring(held)  # every later keeper of this process shares its connection
    return held


def open_keeper(environ: Mapping[str, str] = os.environ) -> tuple[SecretKeeper, str]:
    """The keeper to use, and a warning for the user ("" when there is nothing to say)."""
    if environ.get(KEEPER_ENV, "").strip().lower() == "memory":
        return EnvironmentKeeper(MemoryKeeper(), environ), ""
    try:
        backend = _held(keyring.get_keyring())
        reason = _usable(backend)
    except (keyring.errors.KeyringError, RuntimeError, OSError, ValueError) as exc:
        reason = keyring_failure(exc)
    if reason:
        log.info("no usable keyring: %s", reason)  # the caller tells the user, once
        return EnvironmentKeeper(MemoryKeeper(), environ), unavailable_warning(reason)
    log.info("secrets are kept in %s", backend.name)
    return FallbackKeeper(EnvironmentKeeper(KeyringKeeper(backend), environ),
                          EnvironmentKeeper(MemoryKeeper(), environ)), ""
