"""``wsinspector defaults``: the app-wide connection defaults (TLS and proxy) kept in the data folder, headless;
and how ``wsinspector run`` reads them.

``run`` applies the defaults kept in the data folder's store (``--data-dir``, else the default data folder) when
that store exists; ``--no-defaults`` ignores them. They fill what the test file and the run's options leave
unset (``core/connection_defaults.py``), so a command-line option always wins. Their secret values (the client
key's passphrase, the proxy's password) come from the keyring, or from ``WSINSPECTOR_SECRET_TLS_PASSPHRASE`` and
``WSINSPECTOR_SECRET_PROXY_PASSWORD``; ``--client-key-passphrase-env`` and ``--proxy-password-env`` give them too
when the run names no client certificate or proxy of its own.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from wsinspector.cli_output import err

if TYPE_CHECKING:
    from wsinspector.app.defaults import StoredDefaults
    from wsinspector.core.connection_defaults import ConnectionDefaults

EXIT_OK = 0
EXIT_USAGE = 2
#: the environment variable each secret default can also be given in, and the run's option for it
_SECRET_SOURCES = {"tls.passphrase": ("WSINSPECTOR_SECRET_TLS_PASSPHRASE", "--client-key-passphrase-env"),
                   "proxy.password": ("WSINSPECTOR_SECRET_PROXY_PASSWORD", "--proxy-password-env")}


def _stored(data_dir: Path | None, with_secrets: bool) -> StoredDefaults:
    from wsinspector.app.context import default_data_dir
    from wsinspector.app.defaults import stored_defaults
    from wsinspector.app.secrets import open_keeper

    return stored_defaults(data_dir or default_data_dir(), (lambda: open_keeper()[0]) if with_secrets else None)


def run_defaults(args: argparse.Namespace) -> ConnectionDefaults | None:
    """The defaults ``wsinspector run`` applies (None: there are none), with the secrets its options give them;
    what they set is said on stderr. Defaults that cannot be read (a damaged store, say) are named in a warning,
    and the run goes on without them, as it goes on without recording into such a store."""
    from wsinspector.core.connection_defaults import applied
    from wsinspector.core.profiles import PROXY_SYSTEM, ConnectionProfile, ProfileFormatError
    from wsinspector.core.store import StoreError

    try:
        defaults, _kept, missing, where = _stored(getattr(args, "data_dir", None), with_secrets=True)
    except (ProfileFormatError, StoreError, OSError) as exc:
        err(f"warning: the app-wide connection defaults cannot be read ({exc}); the run goes without them")
        return None
    if defaults.is_empty:
        return None
    if args.client_key_passphrase_env and not args.client_cert and defaults.tls.client_cert:
        defaults = replace(defaults, tls=replace(defaults.tls,
                                                 passphrase=os.environ.get(args.client_key_passphrase_env, "")))
        missing = [path for path in missing if path != "tls.passphrase"]
    if args.proxy_password_env and not args.proxy and defaults.proxy.mode != PROXY_SYSTEM:
        defaults = replace(defaults, proxy=replace(defaults.proxy,
                                                   password=os.environ.get(args.proxy_password_env, "")))
        missing = [path for path in missing if path != "proxy.password"]
    said = applied(ConnectionProfile(name=""), defaults)
    if said:
        err(f"using the app-wide connection defaults from {where}: {'; '.join(said)} (--no-defaults: without them)")
    for path in missing:
        variable, option = _SECRET_SOURCES[path]
        err(f"warning: the keyring here has no value for the connection defaults' {path}: give it with {option} "
            f"or {variable}")
    return defaults


def print_defaults(data_dir: Path | None, as_json: bool) -> int:
    """``wsinspector defaults``: one line per setting, or JSON; secret values are never printed."""
    from wsinspector.app.context import default_data_dir
    from wsinspector.core.connection_defaults import describe, describe_proxy
    from wsinspector.core.profiles import ProfileFormatError
    from wsinspector.core.store import StoreError

    try:
        defaults, kept, _missing, where = _stored(data_dir, with_secrets=False)
    except (ProfileFormatError, StoreError, OSError) as exc:
        err(f"defaults: {exc}")
        return EXIT_USAGE
    described = describe(defaults, kept)
    if as_json:
        print(json.dumps({**described, "store": where or None}, ensure_ascii=False, indent=2))
        return EXIT_OK
    tls, secrets = defaults.tls, described["secrets"]
    print(f"Connection defaults in {where or (data_dir or default_data_dir())}{'' if where else ' (no store yet)'}")
    for label, value in (("CA file", tls.ca_file), ("Client certificate", tls.client_cert),
                         ("Client key", tls.client_key),
                         ("Passphrase", "kept in the keyring" if secrets["tls.passphrase"] else ""),
                         ("Oldest TLS version", tls.min_version),
                         ("Trusted certificates", ", ".join(tls.pinned)),
                         ("Verification", "on" if tls.verify else "OFF: any certificate is accepted"),
                         ("Proxy", describe_proxy(defaults.proxy)),
                         ("Proxy password", "kept in the keyring" if secrets["proxy.password"] else "")):
        print(f"  {label}: {value or '-'}")
    return EXIT_OK
