"""What a load test engine is given: a test file's connection and steps, its variables sorted into defaults,
secrets read from the environment and captures, and what the engines cannot do said in words.

A test goes through :func:`~wsinspector.core.scenario.secrets.without_secrets` first, so a credential the file
or a recorded session holds never reaches an export: each becomes a variable read from an environment
variable (:func:`env_name`), as every variable the file uses without defining it does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..env_templates import auth_templates, env_name
from ..scenario.from_session import RecordedMessage, scenario_from_frames
from ..scenario.model import (
    EventStep,
    ExpectStep,
    Scenario,
    Step,
    VerbStep,
    WaitStep,
    step_label,
)
from ..scenario.secrets import without_secrets
from ..scenario.variables import step_texts, variables_in

__all__ = ["DEFAULT_DURATION_S", "DEFAULT_VUS", "LoadOptions", "LoadPlan", "LoadTestError", "auth_templates",
           "env_name",
           "load_plan", "parse_duration", "plan_from_session"]

DEFAULT_VUS = 10
DEFAULT_DURATION_S = 30
_DURATION = re.compile(r"\s*(?:(\d+)h)?\s*(?:(\d+)m(?!s))?\s*(?:(\d+)s?)?\s*")
#: ``{{$uuid}}``…: the composer's dynamic values (core/dynamic.py)
_DYNAMIC = re.compile(r"\{\{\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class LoadTestError(ValueError):
    """Options that make no load test (the message says which, for the user)."""


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How much load: ``vus`` virtual users over ``duration_s`` seconds."""

    vus: int = DEFAULT_VUS
    duration_s: int = DEFAULT_DURATION_S

    def __post_init__(self) -> None:
        if self.vus < 1:
            raise LoadTestError(f"--vus must be 1 or more, not {self.vus}")
        if self.duration_s < 1:
            raise LoadTestError(f"--duration must be at least 1 second, not {self.duration_s}")


def parse_duration(text: str) -> int:
    """Seconds of ``90``, ``90s``, ``2m``, ``1h30m``; :class:`LoadTestError` for anything else."""
    match = _DURATION.fullmatch(text)
    if not text.strip() or match is None or not any(match.groups()):
        raise LoadTestError(f"--duration: {text!r} is not a duration (e.g. 30s, 2m, 1h30m)")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """A test as the exports write it: ``test`` has no secret value left; ``defaults`` are the variables the file
    defines, ``from_env`` those an environment variable must give (``(variable, ENV_NAME)``), ``captured`` those
    steps capture. ``steps`` are the steps an engine runs (protocol steps are left out, and said so in
    ``unsupported``, as is whatever else both engines cannot do)."""

    test: Scenario
    url: str
    headers: tuple[tuple[str, str], ...]
    steps: tuple[tuple[int, Step], ...]
    defaults: tuple[tuple[str, str], ...]
    from_env: tuple[tuple[str, str], ...]
    captured: tuple[str, ...]
    #: what neither engine can express, one sentence each
    unsupported: tuple[str, ...] = ()
    #: variables of a Basic auth header (k6 computes it; Artillery cannot): (user template, password template)
    basic_auth: tuple[str, str] | None = None
    dynamic: tuple[str, ...] = field(default=())
    #: what the steps were written from, for the file's first line
    source: str = "test file"

    def label(self, index: int) -> str:
        return step_label(index, self.test.steps[index])


def _uses(test: Scenario, url: str, headers: Iterable[tuple[str, str]],
          basic: tuple[str, str] | None) -> list[str]:
    texts = [url, *(f"{name}{value}" for name, value in headers), *(basic or ())]
    texts += [text for step in test.steps for _where, text in step_texts(step)]
    used: dict[str, None] = {}
    for text in texts:
        used.update(dict.fromkeys(variables_in(text)))
    return list(used)


def load_plan(test: Scenario, *, secret_variables: Sequence[str] = (),
              secret_headers: Sequence[str] = ()) -> LoadPlan:
    """The plan of ``test``: its secrets made environment variables (whatever names them a secret: their names,
    the user's marks, the credential headers), the rest sorted as :class:`LoadPlan` says."""
    redacted = without_secrets(test, secret_variables=secret_variables, secret_headers=secret_headers).test
    notes: list[str] = []
    url, headers, basic = auth_templates(redacted.url, redacted.headers, redacted.auth, notes)
    if redacted.protocol:
        notes.append(f"protocol: the test speaks {redacted.protocol}; its protocol steps (emit, subscribe, "
                     "expect event…) and the protocol's housekeeping are left out")
    if redacted.connect_to:
        notes.append(f"connect_to {redacted.connect_to}: both engines connect to the URL's host")
    tls = redacted.tls
    if tls.ca_file or tls.client_cert or tls.pinned or not tls.verify:
        notes.append("tls: the CA file, client certificate, pinned keys and verification setting are not "
                     "carried over; configure them in the engine")
    steps: list[tuple[int, Step]] = []
    for index, step in enumerate(redacted.steps):
        if isinstance(step, VerbStep | EventStep):
            notes.append(f"{step_label(index, step)}: a protocol step, left out")
            continue
        steps.append((index, step))
    captured: dict[str, None] = {}
    for _index, step in steps:
        if isinstance(step, ExpectStep | WaitStep):
            captured.update(dict.fromkeys(name for name, _path in step.capture))
    defined = dict(redacted.variables)
    used = _uses(redacted, url, headers, basic)
    defaults = tuple((name, value) for name, value in redacted.variables if name in used and name not in captured)
    from_env = tuple((name, env_name(name)) for name in used if name not in defined and name not in captured)
    dynamic: dict[str, None] = {}
    for _index, step in steps:
        for _where, text in step_texts(step):
            dynamic.update(dict.fromkeys(_DYNAMIC.findall(text)))
    return LoadPlan(test=redacted, url=url, headers=headers, steps=tuple(steps), defaults=defaults,
                    from_env=from_env, captured=tuple(captured), unsupported=tuple(notes), basic_auth=basic,
                    dynamic=tuple(dynamic))


def plan_from_session(frames: Iterable[RecordedMessage], name: str, url: str, *,
                      started_ns: int | None = None, subprotocols: Sequence[str] = (),
                      headers: Sequence[tuple[str, str]] = (), variables: Sequence[tuple[str, str]] = (),
                      secret_variables: Sequence[str] = (), secret_headers: Sequence[str] = ()) -> LoadPlan:
    """The plan of a recorded session's messages, made a test as Save as test makes it (its credentials kept
    out in the same way: ``secret_variables`` and ``secret_headers`` are the connection's marks). The messages
    stay as they went over the wire, whatever protocol they speak: the engines speak none."""
    test = scenario_from_frames(frames, name, url, started_ns=started_ns, subprotocols=subprotocols,
                                headers=headers, variables=variables)
    plan = load_plan(test, secret_variables=secret_variables, secret_headers=secret_headers)
    return replace(plan, source="recorded session")

