"""Where secrets are kept: a keeper maps a key to a secret value, outside the store.

A setting that holds a secret (a password, a token, a passphrase) is declared with ``field(..., metadata=SECRET)``
in its record; :func:`wsinspector.core.redact.is_secret_name` says which variables and headers are secret by
default. The app keeps secret values in the OS keyring through a keeper; the core only knows the protocol below.
"""

from __future__ import annotations

from typing import Protocol

#: dataclass field metadata of a setting whose value is a secret
SECRET = {"secret": True}


class SecretKeeper(Protocol):
    """Secret values by key."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryKeeper:
    """Secrets for the running process only: where no keyring is available, and in tests."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        self._values[key] = value

    def delete(self, key: str) -> None:
        self._values.pop(key, None)
