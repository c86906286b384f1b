"""Named environments (Local, Staging, Production...) and globals: sets of ``{{variables}}``, merged into the
values a connection or a test run resolves, and their stored form.

The layers, lowest first (a later one wins for the same name):

1. globals: the variables every connection and run sees;
2. the connection's own variables (a test file's ``variables:`` in ``wsinspector run``);
3. the active environment (``--env NAME`` in ``wsinspector run``, then ``--env-file FILE``);
4. values given for this once: ``--var`` on the command line (and, during a test run, captures).

So an environment can point a saved connection somewhere else (the environment is the thing the user switches),
while a connection still carries sensible defaults of its own, as Postman's environments win over a collection's
variables. Secret values are not held in the stored form: they live in a :class:`SecretKeeper`, under
``environment/<id>/<name>`` and ``globals/<name>``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wsinspector.core.profiles import UnknownVariableError, expand
from wsinspector.core.secrets import SecretKeeper

#: a variable's name: what ``{{name}}`` accepts (letters, digits, ``_ . -``; not starting with a digit)
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
GLOBALS_NAME = "Globals"

Pairs = tuple[tuple[str, str], ...]


class EnvironmentsError(ValueError):
    """An environment or an environment file that cannot be used; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class Environment:
    """A named set of variables. ``secret_variables`` names those whose values are secret: kept by a keeper,
    shown masked; ``variables`` holds their values only in memory."""

    name: str
    variables: Pairs = ()
    secret_variables: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def values(self) -> dict[str, str]:
        return dict(self.variables)

    def duplicate(self, name: str) -> Environment:
        return replace(self, name=name, id=uuid.uuid4().hex)


def merge_variables(*, globals_: Iterable[tuple[str, str]] = (), connection: Iterable[tuple[str, str]] = (),
                    environment: Iterable[tuple[str, str]] = (),
                    overrides: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> dict[str, str]:
    """The one place the layers meet: globals < connection < environment < overrides (see the module's text)."""
    merged: dict[str, str] = {}
    for layer in (globals_, connection, environment):
        merged.update(layer)
    merged.update(overrides.items() if isinstance(overrides, Mapping) else overrides)
    return merged


def expand_message(text: str, variables: Mapping[str, str]) -> str:
    """A message typed in the composer with its ``{{variables}}`` replaced. Only ``{{name}}`` with a variable name
    inside (spaces around it allowed) is a variable: ``{{ a + b }}``, ``{{#each}}``, ``{{}}`` and a lone ``{{`` are
    sent as typed. A template that must keep ``{{name}}`` itself is sent with the composer's Variables switch
    off. ``UnknownVariableError`` names every unknown variable."""
    return expand(text, variables)


def expand_message_as_typed(text: str, variables: Mapping[str, str], unknown: str = "0") -> str:
    """``expand_message`` for checking a message while it is typed: an unknown variable stands as ``unknown``."""
    try:
        return expand(text, variables)
    except UnknownVariableError as exc:
        return expand(text, {**variables, **dict.fromkeys(exc.names, unknown)})


def check_name(name: str, where: str) -> str:
    """``name`` stripped when it is a variable name; EnvironmentsError naming ``where`` when not."""
    name = name.strip()
    if not VARIABLE_NAME.fullmatch(name):
        raise EnvironmentsError(f"{where}: {name!r} is not a variable name (letters, digits, _ . -; not starting "
                                "with a digit)")
    return name


# -- the stored form ------------------------------------------------------------------------------------
#
# {"id": ..., "name": ..., "variables": [[name, value], ...], "secret_variables": [name, ...]}
# Secret variables are listed with an empty value: the value is in the keeper.


def secret_key(environment_id: str | None, name: str) -> str:
    """The keeper's key of a secret variable: of an environment, or of the globals (``environment_id`` None)."""
    return f"globals/{name}" if environment_id is None else f"environment/{environment_id}/{name}"


def environment_to_dict(environment: Environment) -> dict[str, Any]:
    secret = set(environment.secret_variables)
    return {"id": environment.id, "name": environment.name,
            "variables": [[name, "" if name in secret else value] for name, value in environment.variables],
            "secret_variables": list(environment.secret_variables)}


def environment_from_dict(data: object, where: str) -> Environment:
    if not isinstance(data, dict):
        raise EnvironmentsError(f"{where} is not an object")
    name, env_id = data.get("name"), data.get("id")
    if not isinstance(name, str) or not isinstance(env_id, str) or not env_id:
        raise EnvironmentsError(f"{where} has no name or id")
    variables = data.get("variables", [])
    secret = data.get("secret_variables", [])
    if not isinstance(variables, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in variables):
        raise EnvironmentsError(f"{where}.variables is not a list of [name, value] pairs")
    if not isinstance(secret, list) or not all(isinstance(s, str) for s in secret):
        raise EnvironmentsError(f"{where}.secret_variables is not a list of names")
    return Environment(name, tuple((n, v) for n, v in variables), tuple(secret), env_id)


def with_secrets_from(environment: Environment, keeper: SecretKeeper, environment_id: str | None) -> Environment:
    """The environment with its secret values read from ``keeper`` (a value the keeper lacks stays empty)."""
    secret = set(environment.secret_variables)
    return replace(environment, variables=tuple(
        (name, (keeper.get(secret_key(environment_id, name)) or "") if name in secret else value)
        for name, value in environment.variables))


def environments_to_json(environments: Iterable[Environment]) -> str:
    return json.dumps([environment_to_dict(e) for e in environments], ensure_ascii=False)


def environments_from_json(text: str) -> list[Environment]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise EnvironmentsError(f"The saved environments are not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise EnvironmentsError("The saved environments are not a list")
    return [environment_from_dict(item, f"environments[{i}]") for i, item in enumerate(data)]


def find_environment(environments: Iterable[Environment], name: str) -> Environment:
    """The environment called ``name`` (exactly, else ignoring case); EnvironmentsError listing the known ones."""
    known = list(environments)
    exact = [e for e in known if e.name == name] or [e for e in known if e.name.casefold() == name.casefold()]
    if exact:
        return exact[0]
    names = ", ".join(repr(e.name) for e in known) or "none are defined (add them in the window: Environments…)"
    raise EnvironmentsError(f"No environment {name!r}; known environments: {names}")


# -- environment files ----------------------------------------------------------------------------------


def read_env_file(path: Path, warnings: list[str] | None = None) -> dict[str, str]:
    """The variables of an environment file: ``.json`` (an object of names to strings, numbers or booleans),
    ``.yaml``/``.yml`` (a mapping, the same), anything else dotenv lines (``NAME=value``). EnvironmentsError names
    the file and the line or field that is wrong; what is taken but likely unintended (a name given twice in a
    dotenv file) is added to ``warnings``."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EnvironmentsError(f"cannot read the environment file {path}: {reason}") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise EnvironmentsError(f"{path}: not valid JSON: {exc}") from None
        return _mapping(data, path)
    if suffix in (".yaml", ".yml"):
        import yaml  # noqa: PLC0415  (only for YAML files)

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" (line {mark.line + 1})" if mark is not None else ""
            raise EnvironmentsError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
        return _mapping({} if data is None else data, path)
    return parse_dotenv(text, str(path), warnings)


def _mapping(data: object, path: Path) -> dict[str, str]:
    if not isinstance(data, dict):
        raise EnvironmentsError(f"{path}: expected a mapping of variable names to values, not {type(data).__name__}")
    values: dict[str, str] = {}
    for key, value in data.items():
        name = check_name(str(key), f"{path}: {key!r}")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float | str):
            value = str(value)
        else:
            raise EnvironmentsError(f"{path}: {name}: the value must be a string, a number or a boolean")
        values[name] = value
    return values


def parse_dotenv(text: str, where: str, warnings: list[str] | None = None) -> dict[str, str]:
    """``NAME=value`` lines: blank lines and ``#`` comments skipped, an optional ``export`` before the name, a
    value in single quotes taken as it is, in double quotes with ``\\n``, ``\\"`` and ``\\\\`` escapes; a ``#``
    comment may follow a closing quote. A name given again wins, and ``warnings`` gets a sentence naming both
    lines."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, equals, value = line.partition("=")
        if not equals:
            raise EnvironmentsError(f"{where}, line {number}: expected NAME=value, got {raw.strip()!r}")
        name = check_name(name, f"{where}, line {number}")
        value = value.strip()
        if value[:1] in ("'", '"'):
            value = _quoted(value, f"{where}, line {number}: {name}")
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if name in lines and warnings is not None:
            warnings.append(f"{where}: {name} is given on line {lines[name]} and again on line {number}; "
                            f"line {number} wins")
        lines[name] = number
        values[name] = value
    return values


_DOUBLE_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _quoted(value: str, where: str) -> str:
    """A dotenv value that starts with a quote: what is between the quotes (double quotes: escapes read), with
    nothing after the closing quote but a ``#`` comment."""
    quote = value[0]
    if quote == "'":
        end = value.find("'", 1)
        inner = value[1:end]
    else:
        match = _DOUBLE_QUOTED.match(value)
        end = -1 if match is None else match.end() - 1
        inner = "" if match is None else match.group(1)
    if end < 0:
        raise EnvironmentsError(f"{where}: the value's closing {quote} is missing")
    rest = value[end + 1:].strip()
    if rest and not rest.startswith("#"):
        raise EnvironmentsError(f"{where}: {rest!r} follows the closing {quote} (a comment starts with #)")
    if quote == '"':
        inner = re.sub(r'\\(["\\n])', lambda m: "\n" if m.group(1) == "n" else m.group(1), inner)
    return inner
