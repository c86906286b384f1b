"""Keep credentials out of a test made from a recorded session.

A test file is meant to be committed and shared, so what authenticated the recorded session must not be
written into it. :func:`without_secrets` turns every credential it finds into a ``{{variable}}`` that the
file does not define, and returns the values apart, for the run at hand only (the window keeps them as
overrides; ``wsinspector run`` takes them from ``--var NAME``, read from the environment). It finds:

- variables named like a secret (``token``, ``api_key``, ``password``...), and every variable used in one
  of the places below;
- in the URL: the password of the user info (or the user info alone, often a token) and the values of
  query parameters named like a secret (``?access_token=``, ``&sig=``);
- handshake headers that carry credentials: ``Authorization`` (keeping its scheme: ``Bearer {{authorization}}``),
  ``Cookie``, and headers named like a secret (``X-Api-Key``);
- in sent JSON, string values of keys that name a credential (``password``, ``token``, ``apiKey``...);
- then, anywhere in sent and expected text and JSON, every occurrence of a secret value found so far
  (a server that echoes the token back);
- in expected JSON, string values of keys that name a credential (a session token the server issues,
  different on every run): the value is written as ``REDACTED`` and its path ignored.

Binary payloads and regular expressions are left as they are.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_plus

from wsinspector.core.jsonpath import PathSegment, format_json_path

from ..redact import REDACTED, is_secret_field, is_secret_header, is_secret_name, rewrite_url
from .model import (
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Matcher,
    Scenario,
    SendStep,
    Step,
    TextMatcher,
    TextPayload,
    WaitStep,
)
from .variables import self_standing, variables_in
from .verdict import RunResult, StepResult

__all__ = ["MASK", "Masker", "Redacted", "mask_text", "without_secrets"]

#: what is shown in place of a secret value
MASK = "***"
#: secret values shorter than this are not searched for in messages (too likely to match by chance)
MIN_VALUE_LENGTH = 6
#: ``Bearer abc``: the scheme stays in the header, the credential becomes a variable
_AUTH_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9_-]*)(?P<space>\s+)(?P<credential>\S.*)", re.DOTALL)
_NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Redacted:
    """A test without its secrets, and the secrets: ``(variable, value)`` for the variables the file now
    uses without defining them."""

    test: Scenario
    secrets: tuple[tuple[str, str], ...]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.secrets]


class _Secrets:
    """The secrets found so far: variable names and values, each value under one name."""

    def __init__(self, variables: Iterable[tuple[str, str]]) -> None:
        self.defined = dict(variables)
        self.values: dict[str, str] = {}

    def mark(self, name: str) -> None:
        """A variable of the test that holds a secret."""
        if name in self.defined:
            self.values[name] = self.defined[name]

    def mark_used_in(self, text: str) -> bool:
        """Mark the variables ``text`` uses; whether it uses any."""
        names = variables_in(text)
        for name in names:
            self.mark(name)
        return bool(names)

    def reference(self, wanted: str, value: str) -> str:
        """``{{name}}`` for a secret value: the variable that already holds it, else a new one named after
        ``wanted`` (made a valid, unused name)."""
        for name, known in (*self.values.items(), *self.defined.items()):
            if known == value:
                self.mark(name)
                self.values[name] = value
                return f"{{{{{name}}}}}"
        base = _NOT_NAME_CHARS.sub("_", wanted).strip("_.-") or "secret"
        if not base[0].isalpha() and base[0] != "_":
            base = f"_{base}"
        name, number = base, 2
        while name in self.defined or name in self.values:
            name, number = f"{base}_{number}", number + 1
        self.values[name] = value
        return f"{{{{{name}}}}}"

    def in_texts(self) -> list[tuple[str, str]]:
        """(value, reference) to replace in message texts, longest value first."""
        found = [(value, f"{{{{{name}}}}}") for name, value in self.values.items()
                 if len(value) >= MIN_VALUE_LENGTH and "{{" not in value]
        return sorted(found, key=lambda pair: -len(pair[0]))


#: a ``{{variable}}`` reference, left alone when secret values are replaced around it
_REFERENCE = re.compile(r"(\{\{\s*[A-Za-z_][A-Za-z0-9_.-]*\s*\}\})")


def _replace_values(text: str, pairs: list[tuple[str, str]]) -> str:
    """Every secret value in ``text`` by its reference, longest first, never inside a reference already
    there (a password "password" would otherwise turn ``{{password}}`` into ``{{{{password}}}}``)."""
    if not any(value in text for value, _ in pairs):
        return text
    parts = _REFERENCE.split(text)
    for index in range(0, len(parts), 2):  # the even parts are outside references
        part = parts[index]
        for value, reference in pairs:
            if value in part:
                pieces = part.split(value)
                part = reference.join(pieces)
        parts[index] = part
    return "".join(parts)


def _map_json(value: Any, visit: Callable[[tuple[PathSegment, ...], str | None, str], str],
              path: tuple[PathSegment, ...] = (), key: str | None = None) -> Any:
    """A copy of a JSON value with every string replaced by ``visit(path, key it is under, string)``."""
    if isinstance(value, str):
        return visit(path, key, value)
    if isinstance(value, dict):
        return {name: _map_json(item, visit, (*path, name), name) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_map_json(item, visit, (*path, index), key) for index, item in enumerate(value)]
    return value


def _redact_url(url: str, secrets: _Secrets) -> str:
    def userinfo(info: str) -> str:
        user, colon, password = info.partition(":")
        if colon and password and not secrets.mark_used_in(password):
            return f"{user}:{secrets.reference('password', password)}"
        if not colon and not secrets.mark_used_in(user):
            return secrets.reference("user_info", user)
        return info

    def parameter(name: str, value: str) -> str:
        if value and is_secret_name(name) and not secrets.mark_used_in(value):
            reference = secrets.reference(name, value)
            decoded = unquote_plus(value)
            if decoded != value:  # messages carry it decoded: a variable of its own, so they replay as recorded
                secrets.reference(f"{name}_decoded", decoded)
            return reference
        return value

    return rewrite_url(url, userinfo, parameter)


def _redact_header(name: str, value: str, secrets: _Secrets, marked: bool = False) -> str:
    if not (marked or is_secret_header(name)) or not value or secrets.mark_used_in(value):
        return value
    wanted = name.lower()
    scheme = _AUTH_SCHEME.fullmatch(value)
    if scheme and wanted in ("authorization", "proxy-authorization"):
        return f"{scheme['scheme']}{scheme['space']}{secrets.reference(wanted, scheme['credential'])}"
    return secrets.reference(wanted, value)


def _sent_json(value: Any, secrets: _Secrets) -> Any:
    def visit(_path: tuple[PathSegment, ...], key: str | None, text: str) -> str:
        if key is not None and is_secret_field(key) and text and not secrets.mark_used_in(text):
            return secrets.reference(key, text)
        return text

    return _map_json(value, visit)


def _expected_json(matcher: JsonMatcher, pairs: list[tuple[str, str]]) -> JsonMatcher:
    ignored: list[str] = []

    def visit(path: tuple[PathSegment, ...], key: str | None, text: str) -> str:
        text = _replace_values(text, pairs)
        if key is not None and is_secret_field(key) and text and not variables_in(text):
            ignored.append(format_json_path(path))
            return REDACTED
        return text

    value = _map_json(matcher.value, visit)
    ignore = (*matcher.ignore, *(path for path in dict.fromkeys(ignored) if path not in matcher.ignore))
    return JsonMatcher(value, ignore)


def _matcher(matcher: Matcher, pairs: list[tuple[str, str]]) -> Matcher:
    if isinstance(matcher, TextMatcher):
        return TextMatcher(_replace_values(matcher.text, pairs))
    if isinstance(matcher, JsonMatcher):
        return _expected_json(matcher, pairs)
    return matcher


def _step(step: Step, pairs: list[tuple[str, str]]) -> Step:
    if isinstance(step, SendStep):
        payload = step.payload
        if isinstance(payload, TextPayload):
            return replace(step, payload=TextPayload(_replace_values(payload.text, pairs)))
        if isinstance(payload, JsonPayload):
            replaced = _map_json(payload.value, lambda _path, _key, text: _replace_values(text, pairs))
            return replace(step, payload=JsonPayload(replaced))
        return step
    if isinstance(step, ExpectStep):
        return replace(step, matcher=_matcher(step.matcher, pairs))
    if isinstance(step, WaitStep) and step.until is not None:
        return replace(step, until=_matcher(step.until, pairs))
    return step


def without_secrets(test: Scenario, *, secret_variables: Iterable[str] = (),
                    secret_headers: Iterable[str] = ()) -> Redacted:
    """The test with its credentials turned into variables it does not define (see the module's text);
    ``secret_variables`` and ``secret_headers`` are marked secret by the user, whatever their names say."""
    secrets = _Secrets(test.variables)
    marked_variables = set(secret_variables)
    for name, value in test.variables:
        if (is_secret_name(name) and value != self_standing(name)) or name in marked_variables:
            secrets.mark(name)
    url = _redact_url(test.url, secrets)
    marked_headers = {name.lower() for name in secret_headers}
    headers = tuple((name, _redact_header(name, value, secrets, name.lower() in marked_headers))
                    for name, value in test.headers)
    steps: list[Step] = []
    for step in test.steps:
        if isinstance(step, SendStep) and isinstance(step.payload, JsonPayload):
            step = replace(step, payload=JsonPayload(_sent_json(step.payload.value, secrets)))
        steps.append(step)
    pairs = secrets.in_texts()
    steps = [_step(step, pairs) for step in steps]
    variables = tuple((name, value) for name, value in test.variables if name not in secrets.values)
    redacted = replace(test, url=url, headers=headers, steps=tuple(steps), variables=variables)
    return Redacted(redacted, tuple(secrets.values.items()))


def run_secret_values(test: Scenario, variables: Mapping[str, str], url: str | None = None) -> list[str]:
    """The values of a test run with ``variables`` (its own and the run's) that are secrets wherever they go:
    those the test uses where credentials go (a header like Cookie, a token in the URL — ``url`` when it
    replaces the test's —, a password field), literal ones included, and those of the variables named like
    secrets or that its auth uses where secrets go."""
    from .auth_io import secret_variables  # noqa: PLC0415  (the auth's reading needs yaml: only when run)

    auth_secrets = set(secret_variables(test.auth))
    connected = replace(test, url=url or test.url, variables=tuple(variables.items()))
    secrets = [value for _, value in without_secrets(connected).secrets]  # literal ones included
    secrets += [value for name, value in variables.items()
                if is_secret_name(name) or is_secret_field(name) or name in auth_secrets]
    return secrets


#: secret values shorter than this are not masked in output (they would garble it, and say little)
MIN_MASKED_LENGTH = 4
#: a secret this short made only of lower-case letters is an ordinary word ("wrong", "secret")
PLAIN_WORD_LENGTH = 8
#: a run of base64 long enough to carry a credential (``user:password`` in a Basic header)
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{8,}={0,2}")


def is_plain_word(value: str) -> bool:
    """Whether a secret value is an ordinary word: masked wherever it occurs, it would rewrite the app's own
    messages ("the passphrase is ***") and, by doing so, tell the secret. Such values are not masked by value;
    where they are known to be secret by name (a field, a variable, a header) they are still left out."""
    return len(value) < PLAIN_WORD_LENGTH and value.isascii() and value.isalpha() and value.islower()



class Masker:
    """Replaces secret values with ``***`` in what is printed or reported: each value as it is and as text
    inside a JSON string (escaped), and the part of a value that a ``…`` cut leaves (a clipped diff). The
    forms to look for are worked out once, for all the texts of a run."""

    def __init__(self, values: Iterable[str]) -> None:
        forms: set[str] = set()
        #: values left as they are in text: too short, or an ordinary word (see :func:`is_plain_word`)
        self.skipped = 0
        for value in set(values):
            if len(value) < MIN_MASKED_LENGTH or is_plain_word(value):
                self.skipped += bool(value)
                continue
            forms.update((value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]))
        #: longest first, so a secret that contains another is masked whole
        self.forms = sorted(forms, key=len, reverse=True)

    def _derived(self, match: re.Match[str]) -> str:
        """A base64 run that carries a secret (``Basic dTpVUkxQVw==``, made of ``user:password``) masked whole."""
        run = match.group(0)
        try:
            decoded = base64.b64decode(run + "=" * (-len(run) % 4), altchars=b"-_" if "-" in run or "_" in run
                                       else None).decode("utf-8", "replace")
        except ValueError:
            return run
        return MASK if any(value in decoded for value in self.forms) else run

    def text(self, text: str) -> str:
        if self.forms:
            text = _BASE64_RUN.sub(self._derived, text)
        for value in self.forms:
            if value in text:
                text = text.replace(value, MASK)
            if "…" in text:
                for size in range(len(value) - 1, MIN_MASKED_LENGTH - 1, -1):
                    text = text.replace(f"…{value[-size:]}", f"…{MASK}").replace(f"{value[:size]}…", f"{MASK}…")
        return text

    def step(self, step: StepResult) -> StepResult:
        if not self.forms:
            return step
        return replace(step, name=self.text(step.name), message=self.text(step.message),
                       expected=self.text(step.expected), received=self.text(step.received),
                       diff=self.text(step.diff))

    def result(self, result: RunResult) -> RunResult:
        if not self.forms:
            return result
        return replace(result, steps=tuple(self.step(s) for s in result.steps), error=self.text(result.error))


def mask_text(text: str, values: Iterable[str]) -> str:
    """``text`` with the secret ``values`` masked (see :class:`Masker`)."""
    return Masker(values).text(text)
