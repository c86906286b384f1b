"""``{{variables}}`` in a test: expanding them, finding where each is used and what defines it there (reported
before anything runs), the values a run starts with, and the connection profile of a test."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..dynamic import SendContext, expand_dynamic
from ..frames import Opcode
from ..profiles import (
    AUTH_API_KEY,
    AUTH_BASIC,
    AUTH_BEARER,
    AUTH_OAUTH2,
    Auth,
    ConnectionProfile,
    Endpoint,
    Handshake,
    UnknownVariableError,
)
from ..profiles import expand as _expand_profile
from .model import (
    VARIABLE_NAME,
    EventStep,
    ExpectStep,
    JsonMatcher,
    JsonPayload,
    Matcher,
    RegexMatcher,
    Scenario,
    SendStep,
    Step,
    TextMatcher,
    TextPayload,
    VerbStep,
    WaitStep,
    matcher_kind,
)


class UndefinedVariablesError(UnknownVariableError):
    """Variables a test uses that nothing defines (at the point where they are used). ``names`` lists them,
    ``uses`` says where each one is used."""

    def __init__(self, uses: Sequence[VariableUse]) -> None:
        self.uses = tuple(uses)
        names = list(dict.fromkeys(use.name for use in uses))
        super().__init__(names)
        parts = []
        for name in names:
            where = ", ".join(dict.fromkeys(use.where for use in uses if use.name == name))
            later = [use for use in uses if use.name == name and use.captured_later is not None]
            note = ""
            if later and later[0].captured_later == later[0].step:
                note = f"; steps[{later[0].step}] captures it, for the steps after it"
            elif later:
                note = f"; it is captured only later, by steps[{later[0].captured_later}]"
            parts.append(f"{{{{{name}}}}} (used in {where}{note})")
        self.args = (f"Unknown variable{'s' if len(names) > 1 else ''}: {'; '.join(parts)}",)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Replace every ``{{name}}``; unknown names raise :class:`UnknownVariableError` naming them all."""
    return _expand_profile(text, dict(variables))


def variables_in(text: str) -> list[str]:
    """Names of the ``{{variables}}`` in ``text``, in order, once each."""
    try:
        _expand_profile(text, {})
    except UnknownVariableError as exc:
        return list(exc.names)
    return []


def self_standing(name: str) -> str:
    """The value of a variable that stands for itself: ``{{name}}`` (expansion does not go round twice)."""
    return f"{{{{{name}}}}}"


def expand_json(value: Any, variables: Mapping[str, str]) -> Any:
    """A copy of a JSON value with variables expanded in every string, object keys included."""
    if isinstance(value, str):
        return expand(value, variables)
    if isinstance(value, dict):
        return {expand(k, variables): expand_json(v, variables) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [expand_json(v, variables) for v in value]
    return value


def _json_strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _json_strings(item)


def _matcher_texts(matcher: Matcher) -> Iterable[str]:
    if isinstance(matcher, TextMatcher):
        yield matcher.text
    elif isinstance(matcher, RegexMatcher):
        yield matcher.pattern
    elif isinstance(matcher, JsonMatcher):
        yield from _json_strings(matcher.value)


def step_texts(step: Step) -> Iterable[tuple[str, str]]:
    """(field below the step, text) of every string of a step where variables are expanded."""
    if isinstance(step, VerbStep):
        for name, value in step.fields:
            for text in _json_strings(value):
                yield f"{step.verb}.{name}", text
        return
    if isinstance(step, EventStep):
        for text in _json_strings(step.value):
            yield f"expect.{step.kind}", text
        return
    if isinstance(step, SendStep):
        if isinstance(step.payload, TextPayload):
            yield "send.text", step.payload.text
        elif isinstance(step.payload, JsonPayload):
            for text in _json_strings(step.payload.value):
                yield "send.json", text
        return
    matcher = step.matcher if isinstance(step, ExpectStep) else step.until
    if matcher is not None:
        kind = "expect" if isinstance(step, ExpectStep) else "wait"
        for text in _matcher_texts(matcher):
            yield f"{kind}.{matcher_kind(matcher)}", text


def auth_texts(auth: Auth) -> Iterable[tuple[str, str]]:
    """(field, text) of every string of a test's auth where variables are expanded: those of its kind, the
    cookies and the pre-connect request."""
    names = {AUTH_BASIC: ("username", "password"), AUTH_BEARER: ("token",),
             AUTH_API_KEY: ("api_key_name", "api_key_value"),
             AUTH_OAUTH2: ("token_url", "client_id", "client_secret", "scope")}.get(auth.kind, ())
    for name in (*names, "cookies"):
        yield f"auth.{name}", getattr(auth, name)
    if auth.login_url:
        yield "auth.login.url", auth.login_url
        yield "auth.login.method", auth.login_method
        for name, value in auth.login_headers:
            yield f"auth.login.headers.{name}", name
            yield f"auth.login.headers.{name}", value
        yield "auth.login.body", auth.login_body


@dataclass(frozen=True, slots=True)
class VariableUse:
    name: str
    #: the field that uses it: ``url``, ``headers.Authorization``, ``subprotocols[0]``, ``steps[2].send.json``
    field: str
    #: index of the step that uses it; None for the connection (url, headers, subprotocols)
    step: int | None
    #: what defines it there: ``capture`` (an earlier step), ``login capture`` (the request before connecting),
    #: ``command line``, ``file``; "" when nothing does
    source: str
    #: the earlier step whose capture defines it (source ``capture``)
    captured_by: int | None = None
    #: when undefined: a later step that captures it (the test uses it too early)
    captured_later: int | None = None
    #: the step's name, when it has one
    step_name: str = ""

    @property
    def defined(self) -> bool:
        return bool(self.source)

    @property
    def where(self) -> str:
        return f"{self.field} ({self.step_name!r})" if self.step_name else self.field


def variable_uses(test: Scenario, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> list[VariableUse]:  # noqa: C901
    """Every use of a variable in the test, in file order, with what defines it at that point. ``overrides``
    are the ``--var`` values. A capture defines a variable for the steps after it (and then wins over the
    command line and the file); the command line wins over the file."""
    from_cli = dict(overrides.items() if isinstance(overrides, Mapping) else overrides)
    from_file = dict(test.variables)
    captures: dict[str, list[int]] = {}
    for index, step in enumerate(test.steps):
        if isinstance(step, ExpectStep | WaitStep):
            for name, _ in step.capture:
                captures.setdefault(name, []).append(index)
    uses: list[VariableUse] = []
    from_login = {name for name, _ in test.auth.login_captures} if test.auth.login_url else set()

    def add(text: str, where: str, index: int | None, step_name: str = "") -> None:
        for name in variables_in(text):
            earlier = [i for i in captures.get(name, ()) if index is not None and i < index]
            later = [i for i in captures.get(name, ()) if index is None or i >= index]
            if earlier:
                source = "capture"
            elif name in from_login:
                source = "login capture"
            elif name in from_cli:
                source = "command line"
            elif name in from_file:
                source = "file"
            else:
                source = ""
            uses.append(VariableUse(name, where, index, source, earlier[-1] if earlier else None,
                                    later[0] if later and not source else None, step_name))

    for where, text in auth_texts(test.auth):
        add(text, where, None)
    add(test.url, "url", None)
    for name, value in test.headers:
        add(name, f"headers.{name}", None)
        add(value, f"headers.{name}", None)
    for i, protocol in enumerate(test.subprotocols):
        add(protocol, f"subprotocols[{i}]", None)
    for name, value in test.protocol_options:
        add(value, f"protocol_options.{name}", None)
    for index, step in enumerate(test.steps):
        for where, text in step_texts(step):
            add(text, f"steps[{index}].{where}", index, step.name)
    return uses


def check_variables(test: Scenario, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
    """Raise :class:`UndefinedVariablesError` if a variable is used where nothing defines it."""
    missing = [use for use in variable_uses(test, overrides) if not use.defined]
    if missing:
        raise UndefinedVariablesError(missing)


def initial_variables(test: Scenario, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """The variables a run starts with: the file's, overridden by ``--var`` values."""
    variables = dict(test.variables)
    variables.update(overrides.items() if isinstance(overrides, Mapping) else overrides)
    return variables


def parse_var_option(text: str) -> tuple[str, str]:
    """``name=value`` (a ``--var`` argument) as a pair; ``ValueError`` with a message for the user."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise ValueError(f"--var {text!r}: expected NAME=VALUE")
    if not VARIABLE_NAME.fullmatch(name):
        raise ValueError(f"--var {text!r}: {name!r} is not a variable name (letters, digits, _ . -; "
                         "not starting with a digit)")
    return name, value


def to_profile(test: Scenario, overrides: Mapping[str, str] | Iterable[tuple[str, str]] = (),
               url: str | None = None, base_dir: Path | None = None) -> ConnectionProfile:
    """A connection profile for the test (``url`` replaces the file's, e.g. from ``--url``). Its
    ``resolved()`` expands the variables and validates everything needed to connect. The TLS settings' relative
    file names are relative to ``base_dir`` (the test file's folder)."""
    tls = test.tls
    if base_dir is not None:
        def under(value: str) -> str:
            relative = value and not value.startswith("{{") and not Path(value).expanduser().is_absolute()
            return str(base_dir / value) if relative else value

        tls = replace(tls, ca_file=under(tls.ca_file), client_cert=under(tls.client_cert),
                      client_key=under(tls.client_key))
    return ConnectionProfile(
        name=test.name or "test",
        endpoint=Endpoint(url if url is not None else test.url, connect_to=test.connect_to),
        handshake=Handshake(headers=test.headers, subprotocols=test.subprotocols or _offered(test.protocol)),
        tls=tls,
        auth=test.auth,
        variables=tuple(initial_variables(test, overrides).items()),
    )


def _offered(protocol: str) -> tuple[str, ...]:
    """The subprotocols a test of ``protocol`` offers when it names none (a broker may refuse none)."""
    from ..protocols.registry import SESSIONS  # noqa: PLC0415

    session = SESSIONS.get(protocol)
    return session.subprotocols if session is not None else ()


def render_send(step: SendStep, variables: Mapping[str, str],
                context: SendContext | None = None) -> tuple[Opcode, bytes]:
    """Opcode and bytes of a send step, variables expanded (:class:`UnknownVariableError` if one is unknown),
    then, given a ``context``, dynamic values (``{{$uuid}}``…; ``UnknownDynamicValueError`` names an unknown
    one)."""
    payload = step.payload
    if isinstance(payload, TextPayload):
        text = expand(payload.text, variables)
        if context is not None:
            text = expand_dynamic(text, context)
        return Opcode.TEXT, text.encode("utf-8", errors="surrogatepass")
    if isinstance(payload, JsonPayload):
        value = expand_json(payload.value, variables)
        if context is not None:
            value = _dynamic_json(value, context)
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return Opcode.TEXT, text.encode("utf-8")
    return Opcode.BINARY, payload.data


def _dynamic_json(value: Any, context: SendContext) -> Any:
    """A JSON value with dynamic values expanded in every string (a string stays a string: ``"{{$counter}}"``
    sends ``"3"``)."""
    if isinstance(value, str):
        return expand_dynamic(value, context)
    if isinstance(value, dict):
        return {expand_dynamic(k, context): _dynamic_json(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamic_json(v, context) for v in value]
    return value
