"""App-wide connection defaults: the TLS and proxy settings every connection uses unless it says otherwise.

A corporate user sets the company's CA bundle, client certificate and proxy once; each connection then gets
them through :func:`effective`, the one rule for a connection's effective records:

- **CA file** and **oldest TLS version**: the connection's own when it has one, else the app's.
- **Client certificate**: taken as a whole. A connection that names no certificate of its own uses the app's
  certificate, key and passphrase; one that names its own uses its own key and passphrase only (a passphrase
  is never tried on another certificate's key).
- **Trusted certificates** (pinned fingerprints): the connection's and the app's together.
- **Verification**: on only when both the connection and the app verify. Turning it off app-wide turns it off
  for every connection, each of which then shows the persistent "Certificate not verified" warning and records
  it with its session.
- **Proxy**: a connection left at the system's setting uses the app's proxy setting (as a whole: mode, address,
  user and password) when the app's is not "the system's" itself; a connection with a proxy of its own, or
  "none", keeps it.

The stored form is JSON in the store's ``settings`` table (key :data:`SETTINGS_KEY`), without secret values:
the client key's passphrase and the proxy's password are kept by the app's secret keeper under
``defaults/tls.passphrase`` and ``defaults/proxy.password`` (:func:`secret_key`), and the stored form names
those that had a value (``kept_secrets``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from wsinspector.core.profiles import (
    PROFILE_VERSION,
    PROXY_HTTP,
    PROXY_MODES,
    PROXY_SOCKS5,
    PROXY_SYSTEM,
    TLS_VERSIONS,
    ProfileFormatError,
    Proxy,
    Settings,
    Tls,
    profile_from_dict,
)
from wsinspector.core.secrets import secret_fields

#: the key of the store's settings table that holds the defaults
SETTINGS_KEY = "connection_defaults"
#: the version of the stored form
DEFAULTS_VERSION = 1
#: the records the app gives defaults for
RECORDS = ("tls", "proxy")

_S = TypeVar("_S", bound=Settings)


@dataclass(frozen=True, slots=True)
class ConnectionDefaults:
    """The app-wide TLS and proxy settings. Built-in values everywhere mean "no app-wide default"."""

    tls: Tls = field(default_factory=Tls)
    proxy: Proxy = field(default_factory=Proxy)

    def records(self) -> tuple[tuple[str, Tls | Proxy], ...]:
        return (("tls", self.tls), ("proxy", self.proxy))

    @property
    def is_empty(self) -> bool:
        return self == ConnectionDefaults()

    def secret_values(self) -> dict[str, str]:
        """Every secret setting by its path (``tls.passphrase``, ``proxy.password``), empty ones included."""
        return {f"{name}.{name_}": str(getattr(record, name_))
                for name, record in self.records() for name_ in secret_fields(record)}

    def with_secret_values(self, values: Mapping[str, str]) -> ConnectionDefaults:
        """The defaults with each secret set from ``values`` by path; a path ``values`` lacks becomes empty."""
        changes: dict[str, Any] = {}
        for name, record in self.records():
            changes[name] = replace(record, **{name_: values.get(f"{name}.{name_}", "")  # type: ignore[arg-type]
                                               for name_ in secret_fields(record)})
        return replace(self, **changes)


def secret_key(path: str) -> str:
    """The keeper key of a secret default: ``defaults/tls.passphrase``, ``defaults/proxy.password``."""
    return f"defaults/{path}"


def effective_tls(own: Tls, app: Tls) -> Tls:
    """A connection's TLS settings with the app-wide ones filled in (see the module's rule)."""
    identity = {} if own.client_cert else {"client_cert": app.client_cert, "client_key": app.client_key,
                                             "passphrase": app.passphrase}
    return replace(own, verify=own.verify and app.verify, ca_file=own.ca_file or app.ca_file,
                   min_version=own.min_version or app.min_version,
                   pinned=tuple(dict.fromkeys((*own.pinned, *app.pinned))), **identity)


def effective_proxy(own: Proxy, app: Proxy) -> Proxy:
    """A connection's proxy: the app's when the connection is left at the system's setting."""
    return app if own.mode == PROXY_SYSTEM and app.mode != PROXY_SYSTEM else own


def effective(settings: _S, defaults: ConnectionDefaults | None) -> _S:
    """A connection's settings as it connects: its TLS and proxy records with the app-wide defaults applied."""
    if defaults is None or defaults.is_empty:
        return settings
    return replace(settings, tls=effective_tls(settings.tls, defaults.tls),
                   proxy=effective_proxy(settings.proxy, defaults.proxy))


#: how a message names a proxy that came from the app-wide defaults
FROM_DEFAULTS = "the app's connection defaults"


def proxy_source(settings: Settings, defaults: ConnectionDefaults | None) -> str:
    """Where the proxy a connection goes through is set, for messages ("": its own settings)."""
    if defaults is not None and effective_proxy(settings.proxy, defaults.proxy) is defaults.proxy:
        return FROM_DEFAULTS
    return ""


def applied(settings: Settings, defaults: ConnectionDefaults | None) -> list[str]:
    """What the app-wide defaults give a connection, for the user (no secret values): ``CA file /etc/…``."""
    if defaults is None:
        return []
    own, app = settings.tls, defaults.tls
    said: list[str] = []
    if not own.ca_file and app.ca_file:
        said.append(f"CA file {app.ca_file}")
    if not own.client_cert and app.client_cert:
        said.append(f"client certificate {app.client_cert}")
    if not own.min_version and app.min_version:
        said.append(f"oldest version {TLS_VERSIONS[app.min_version]}")
    extra = [p for p in app.pinned if p not in own.pinned]
    if extra:
        said.append(f"{len(extra)} trusted certificate{'s' if len(extra) > 1 else ''}")
    if own.verify and not app.verify:
        said.append("no verification of the server's certificate")
    if proxy_source(settings, defaults):
        said.append(f"proxy {describe_proxy(defaults.proxy)}")
    return said


def describe_proxy(proxy: Proxy) -> str:
    """``http://proxy.example:3128 (user ann)``, ``none: connect directly``, ``the system's``: no password."""
    if proxy.mode in (PROXY_HTTP, PROXY_SOCKS5):
        host = f"[{proxy.host}]" if ":" in proxy.host else proxy.host
        user = f" (user {proxy.username})" if proxy.username else ""
        return f"{'socks5' if proxy.mode == PROXY_SOCKS5 else 'http'}://{host}:{proxy.port}{user}"
    return PROXY_MODES.get(proxy.mode, proxy.mode).split(" (")[0].lower().rstrip(":")


class _AnyVariable(dict[str, str]):
    """Variables as a check sees them: every name is defined (each connection expands its own)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "x"


def checked(defaults: ConnectionDefaults) -> ConnectionDefaults:
    """The defaults with fingerprints written the one way; ProfileError names what cannot be used (a client key
    without its certificate, a proxy without its address, a malformed fingerprint)."""
    tls = defaults.tls.resolved(_AnyVariable())
    defaults.proxy.resolved(_AnyVariable())
    return replace(defaults, tls=replace(defaults.tls, pinned=tls.pinned))


# -- the stored form -----------------------------------------------------------------------------------


def defaults_to_json(defaults: ConnectionDefaults) -> str:
    """The stored form: every field but the secret ones, and the paths of the secrets that had a value."""
    data: dict[str, Any] = {"version": DEFAULTS_VERSION}
    for name, record in defaults.records():
        secret = set(secret_fields(record))
        data[name] = {f.name: _plain(getattr(record, f.name)) for f in fields(record) if f.name not in secret}
    data["kept_secrets"] = [path for path, value in defaults.secret_values().items() if value]
    return json.dumps(data, ensure_ascii=False)


def defaults_from_json(text: str) -> tuple[ConnectionDefaults, tuple[str, ...]]:
    """The defaults (secret values empty) and the paths of the secrets kept for them; ProfileFormatError names
    what cannot be read."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProfileFormatError(f"The saved connection defaults are not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileFormatError("The saved connection defaults are not a JSON object")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProfileFormatError(f"The saved connection defaults have an unknown format version {version!r}")
    records = {name: data[name] for name in RECORDS if name in data}
    # the records are read as a connection's are: the same types, the same messages naming a setting
    profile = profile_from_dict("defaults", {"version": PROFILE_VERSION, "name": "defaults", **records})
    kept = data.get("kept_secrets", [])
    if not isinstance(kept, list) or not all(isinstance(path, str) for path in kept):
        raise ProfileFormatError(f"The saved connection defaults list their secrets wrongly: {kept!r}")
    return ConnectionDefaults(tls=profile.tls, proxy=profile.proxy), tuple(kept)


def describe(defaults: ConnectionDefaults, kept_secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """``wsinspector defaults --json``: the settings without secret values; ``secrets`` says, for each secret
    setting, whether a value is kept (``"kept"``) or none was given (``""``)."""
    out: dict[str, Any] = json.loads(defaults_to_json(defaults))
    out.pop("kept_secrets")
    values = defaults.secret_values()
    out["secrets"] = {path: "kept" if values.get(path) or path in kept_secrets else "" for path in values}
    return out


def _plain(value: object) -> object:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value
