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
from collections.abc import Mapping

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
            raise SecretError(f"The keyring could not give back {key}: {exc or type(exc).__name__}") from None

    def set(self, key: str, value: str) -> None:
        try:
            self._backend.set_password(SERVICE, key, value)
        except keyring.errors.KeyringError as exc:
            raise SecretError(f"The keyring could not keep {key}: {exc or type(exc).__name__}") from None

    def delete(self, key: str) -> None:
        try:
            self._backend.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass  # it was not there
        except keyring.errors.KeyringError as exc:
            raise SecretError(f"The keyring could not forget {key}: {exc or type(exc).__name__}") from None


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


def unavailable_warning(reason: str) -> str:
    """What the user is told once at start when no keyring can be used."""
    return (f"No usable keyring ({reason}): secrets (passwords, tokens, passphrases) are kept only while "
            "wsinspector runs, never written to disk. Give them again after a restart, or set them in "
            f"environment variables: {ENVIRONMENT_PREFIX}<VARIABLE> for a secret variable, "
            f"{ENVIRONMENT_PREFIX}HEADER_<HEADER> for a header, {ENVIRONMENT_PREFIX}TLS_PASSPHRASE, "
            f"{ENVIRONMENT_PREFIX}PROXY_PASSWORD.")


def _usable(backend: keyring.backend.KeyringBackend) -> str:
    """Why this keyring cannot be used ("" when it can): it is keyring's placeholder, or it fails to answer."""
    try:
        if backend.priority <= 0:
            return f"{backend.name} is keyring's placeholder for none"
        backend.get_password(SERVICE, _PROBE_KEY)  # a locked or absent Secret Service fails here
    except (keyring.errors.KeyringError, RuntimeError, OSError, ValueError) as exc:
        return f"{backend.name}: {exc or type(exc).__name__}"
    return ""


def open_keeper(environ: Mapping[str, str] = os.environ) -> tuple[SecretKeeper, str]:
    """The keeper to use, and a warning for the user ("" when there is nothing to say)."""
    if environ.get(KEEPER_ENV, "").strip().lower() == "memory":
        return EnvironmentKeeper(MemoryKeeper(), environ), ""
    try:
        backend = keyring.get_keyring()
        reason = _usable(backend)
    except (keyring.errors.KeyringError, RuntimeError, OSError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
    if reason:
        log.warning("no usable keyring: %s", reason)
        return EnvironmentKeeper(MemoryKeeper(), environ), unavailable_warning(reason)
    log.info("secrets are kept in %s", backend.name)
    return EnvironmentKeeper(KeyringKeeper(backend), environ), ""
