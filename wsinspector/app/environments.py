"""Environments and globals: the list the toolbar's switcher and the Environments dialog show, the active one,
kept in the store (``settings``) with their secret values in the app's secret keeper."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from wsinspector.core.environments import (
    GLOBALS_NAME,
    Environment,
    EnvironmentsError,
    environment_from_dict,
    environment_to_dict,
    environments_from_json,
    environments_to_json,
    find_environment,
    merge_variables,
    read_env_file,
    secret_key,
    with_secrets_from,
)
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.redact import is_secret_name
from wsinspector.core.secrets import MemoryKeeper, SecretKeeper
from wsinspector.core.store import Store, StoreError

log = logging.getLogger(__name__)

#: keys of the store's settings table
ENVIRONMENTS_KEY = "environments"
GLOBALS_KEY = "environments.globals"
ACTIVE_KEY = "environments.active"
GLOBALS_ID = "globals"


def load_environments(store: Store, secrets: SecretKeeper) -> tuple[list[Environment], Environment, str]:
    """The environments, the globals and the active environment's id ("" for none) kept in ``store``, secret
    values read from ``secrets``. EnvironmentsError when what is stored cannot be read."""
    text = store.setting(ENVIRONMENTS_KEY)
    environments = [] if text is None else environments_from_json(text)
    environments = [with_secrets_from(e, secrets, e.id) for e in environments]
    globals_text = store.setting(GLOBALS_KEY)
    globals_ = Environment(GLOBALS_NAME, id=GLOBALS_ID)
    if globals_text is not None:
        globals_ = with_secrets_from(environment_from_dict(_json(globals_text), "globals"), secrets, None)
    active = store.setting(ACTIVE_KEY) or ""
    if all(e.id != active for e in environments):
        active = ""
    return environments, globals_, active


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EnvironmentsError(f"The saved globals are not valid JSON: {exc}") from None


def _usable(environment: Environment) -> list[tuple[str, str]]:
    """The variables of an environment that have a value: a secret the keeper did not give back (another
    machine, a keyring that is locked) is left undefined, so that connecting names it instead of sending ""."""
    return [(name, value) for name, value in environment.variables
            if value or name not in environment.secret_variables]


class EnvironmentsController(QObject):
    """The environments, the globals and which environment is active.

    Signals:
        environments_changed(): an environment or the globals were added, changed, renamed or deleted
        active_changed(str): the active environment's id ("" for none)
    """

    environments_changed = Signal()
    active_changed = Signal(str)

    def __init__(self, store: Store, secrets: SecretKeeper, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._secrets = secrets
        #: why the stored environments could not be read ("" when they could): nothing is saved over them then
        self.load_error = ""
        try:
            self._environments, self._globals, self._active = load_environments(store, secrets)
        except EnvironmentsError as exc:
            self.load_error = str(exc)
            log.warning("environments not read: %s", exc)
            self._environments, self._globals, self._active = [], Environment(GLOBALS_NAME, id=GLOBALS_ID), ""

    # -- reading -------------------------------------------------------------------------------------

    @property
    def environments(self) -> list[Environment]:
        return list(self._environments)

    @property
    def globals(self) -> Environment:
        return self._globals

    @property
    def active(self) -> Environment | None:
        return self.get(self._active)

    def get(self, environment_id: str) -> Environment | None:
        return next((e for e in self._environments if e.id == environment_id), None)

    def variables_for(self, profile: ConnectionProfile) -> dict[str, str]:
        """What ``profile``'s ``{{variables}}`` resolve to now: globals < the connection's < the active
        environment's (``core.environments.merge_variables``)."""
        active = self.active
        return merge_variables(globals_=_usable(self._globals), connection=profile.variables,
                               environment=_usable(active) if active else ())

    def secret_values_for(self, profile: ConnectionProfile) -> list[str]:
        """The values of the secret variables of the layers over ``profile``'s own: the globals and the active
        environment (never to be shown or recorded where they are expanded)."""
        layers = [self._globals, *([self.active] if self.active else [])]
        return [value for env in layers for name, value in env.variables if value and name in env.secret_variables]

    def run_layers(self) -> tuple[dict[str, str], dict[str, str]]:
        """The globals and the active environment's variables, for a test run in the window (the test's own
        variables go between them)."""
        active = self.active
        return dict(_usable(self._globals)), dict(_usable(active)) if active else {}

    # -- changing ------------------------------------------------------------------------------------

    def add(self, name: str = "New environment", variables: Mapping[str, str] | None = None) -> Environment:
        environment = Environment(self.unique_name(name.strip() or "New environment"),
                                  tuple((variables or {}).items()))
        return self.save(environment)

    def save(self, environment: Environment) -> Environment:
        """Add or replace an environment (by id); the globals when its id is the globals'."""
        if environment.id == GLOBALS_ID:
            self._keep_secrets(self._globals, environment, None)
            self._globals = environment
            self._store.set_setting(GLOBALS_KEY, json.dumps(environment_to_dict(environment), ensure_ascii=False))
        else:
            old = self.get(environment.id)
            self._keep_secrets(old, environment, environment.id)
            if old is None:
                self._environments.append(environment)
            else:
                self._environments = [environment if e.id == environment.id else e for e in self._environments]
            self._write()
        self.environments_changed.emit()
        return environment

    def rename(self, environment_id: str, name: str) -> Environment:
        environment = self._existing(environment_id)
        name = name.strip()
        if not name or name == environment.name:
            return environment
        return self.save(replace(environment, name=self.unique_name(name)))

    def duplicate(self, environment_id: str) -> Environment:
        environment = self._existing(environment_id)
        return self.save(environment.duplicate(self.unique_name(f"{environment.name} (copy)")))

    def delete(self, environment_id: str) -> None:
        environment = self._existing(environment_id)
        self._environments = [e for e in self._environments if e.id != environment_id]
        self._write()
        for name in environment.secret_variables:
            self._secrets.delete(secret_key(environment.id, name))
        self.environments_changed.emit()
        if self._active == environment_id:
            self.set_active("")

    def set_active(self, environment_id: str) -> None:
        """Make an environment the active one ("" for none): the next connect resolves with it."""
        if environment_id and self.get(environment_id) is None:
            raise KeyError(environment_id)
        if environment_id == self._active:
            return
        self._active = environment_id
        self._store.set_setting(ACTIVE_KEY, environment_id)
        self.active_changed.emit(environment_id)

    def unique_name(self, wanted: str) -> str:
        names = {e.name for e in self._environments}
        if wanted not in names:
            return wanted
        n = 2
        while f"{wanted} {n}" in names:
            n += 1
        return f"{wanted} {n}"

    def _existing(self, environment_id: str) -> Environment:
        environment = self.get(environment_id)
        if environment is None:
            raise KeyError(environment_id)
        return environment

    def _write(self) -> None:
        if self.load_error:
            raise EnvironmentsError(f"{self.load_error}; they are left as they are, so nothing is saved over them")
        self._store.set_setting(ENVIRONMENTS_KEY, environments_to_json(self._environments))

    def _keep_secrets(self, old: Environment | None, new: Environment, environment_id: str | None) -> None:
        """Secret values into the keeper; the keys of variables no longer secret (or gone) out of it."""
        for name, value in new.variables:
            if name in new.secret_variables:
                self._secrets.set(secret_key(environment_id, name), value)
        if old is not None:
            kept = {name for name, _ in new.variables if name in new.secret_variables}
            for name in old.secret_variables:
                if name not in kept:
                    self._secrets.delete(secret_key(environment_id, name))


def command_line_layers(data_dir: Path, name: str | None, env_file: Path | None,
               secrets: SecretKeeper, given: Collection[str] = ()
               ) -> tuple[dict[str, str], dict[str, str], list[str], list[str]]:
    """What ``wsinspector run --env NAME --env-file FILE`` adds: the globals (with ``--env``), the environment's
    variables (``--env-file`` over ``--env``), the secret values among them (never shown) and warnings. Nothing is
    read from the store without ``--env``; a secret missing from the keyring is not warned of when it is
    ``given`` (with ``--var``). EnvironmentsError says what is wrong (an unknown name lists the known
    ones; a bad file names the line or field)."""
    globals_: dict[str, str] = {}
    environment: dict[str, str] = {}
    secret_values: list[str] = []
    warnings: list[str] = []
    if name is not None:
        environments, globals_env, found = _stored_environments(data_dir, secrets)
        chosen = find_environment(environments, name)
        for env, env_id in ((globals_env, None), (chosen, chosen.id)):
            for variable in env.secret_variables:
                value = found.get(secret_key(env_id, variable))
                if value is None and variable not in given:
                    warnings.append(f"{'the globals' if env_id is None else f'environment {env.name!r}'}: the "
                                    f"secret value of {variable} is not in the keyring here; give it with --var "
                                    f"{variable}")
                elif value is not None:
                    secret_values.append(value)
        globals_ = _known(globals_env, found, None)
        environment = _known(chosen, found, chosen.id)
    if env_file is not None:
        from_file = read_env_file(env_file, warnings)
        environment.update(from_file)
        secret_values += [value for variable, value in from_file.items() if value and is_secret_name(variable)]
    return globals_, environment, secret_values, warnings


def stored_environments(data_dir: Path) -> tuple[list[Environment], Environment, str]:
    """The environments, the globals and the active environment's id kept in the data folder's store (none when
    there is no store: it is not made), secret values left empty."""
    from wsinspector.app.context import DB_NAME  # noqa: PLC0415  (the context imports this module)

    path = data_dir / DB_NAME
    if not path.is_file():
        return [], Environment(GLOBALS_NAME, id=GLOBALS_ID), ""
    try:
        store = Store(path)
    except StoreError as exc:
        raise EnvironmentsError(f"cannot read the environments in {path}: {exc}") from None
    try:
        return load_environments(store, MemoryKeeper())
    finally:
        store.close()


def describe_environments(data_dir: Path) -> dict[str, Any]:
    """``wsinspector envs --json``: the environments and the globals, secret values left out (their names
    listed as secret)."""
    environments, globals_, active = stored_environments(data_dir)

    def described(environment: Environment) -> dict[str, Any]:
        return {"name": environment.name,
                "variables": {name: value for name, value in environment.variables
                              if name not in environment.secret_variables},
                "secret_variables": list(environment.secret_variables)}

    return {"active": next((e.name for e in environments if e.id == active), None),
            "globals": described(globals_), "environments": [described(e) for e in environments]}


def _stored_environments(data_dir: Path, secrets: SecretKeeper) -> tuple[list[Environment], Environment,
                                                                          dict[str, str]]:
    """The environments and globals kept in the data folder's store, and the secret values the keeper has for
    them by key."""
    environments, globals_, _ = stored_environments(data_dir)
    found: dict[str, str] = {}
    for env, env_id in ((globals_, None), *((e, e.id) for e in environments)):
        for variable in env.secret_variables:
            value = secrets.get(secret_key(env_id, variable))
            if value is not None:
                found[secret_key(env_id, variable)] = value
    return environments, globals_, found


def _known(environment: Environment, found: Mapping[str, str], environment_id: str | None) -> dict[str, str]:
    """The variables of an environment whose values are known: a secret the keeper lacks is left undefined."""
    return {name: found[secret_key(environment_id, name)] if name in environment.secret_variables else value
            for name, value in environment.variables
            if name not in environment.secret_variables or secret_key(environment_id, name) in found}

