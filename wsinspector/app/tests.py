"""Tests made from sessions: the complete messages of a live or a stored session become a test file.

Messages come from the session interface (a fragmented message becomes one step, with its whole payload);
control frames (pings, pongs, the close) are left out. What a step looks like is decided by
:func:`core.scenario.from_session.scenario_from_frames`; credentials are kept out of the test by
:func:`core.scenario.secrets.without_secrets` and handed back apart, for the run at hand.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wsinspector.app.connection import ConnectionController
from wsinspector.app.sessions import SessionsController
from wsinspector.core.loadtest.plan import LoadPlan, plan_from_session
from wsinspector.core.profiles import ConnectionProfile, ProfileError
from wsinspector.core.redact import REDACTED, redact_url
from wsinspector.core.scenario.from_protocol import session_protocol
from wsinspector.core.scenario.from_session import RecordedMessage, scenario_from_frames
from wsinspector.core.scenario.model import Scenario
from wsinspector.core.scenario.secrets import without_secrets
from wsinspector.core.secrets import masked, secret_values
from wsinspector.core.session import Session
from wsinspector.core.store import StoreError
from wsinspector.core.stored import StoredSession

#: a test of more steps than this is no use to edit or to read: refuse, and say so
MAX_MESSAGES = 10_000


class SessionTestError(ValueError):
    """No test can be made of this session; the message says why, ``level`` how serious it is (for the
    window's banner: ``error`` or ``info``)."""

    def __init__(self, message: str, level: str = "error") -> None:
        super().__init__(message)
        self.level = level


class SessionTooLongError(SessionTestError):
    """The session holds more messages than a test can sensibly hold."""


@dataclass(frozen=True, slots=True)
class SessionTest:
    """A test made from a session, ready to be written to a file: no credentials in it."""

    test: Scenario
    #: where it came from, for the user: ``session “feed”``, ``the live session``
    origin: str
    #: ``(variable, value)`` of the credentials taken out of the test; the file uses these variables
    #: without defining them
    secrets: tuple[tuple[str, str], ...] = ()


def _session_test(test: Scenario, origin: str, profile: ConnectionProfile | None = None) -> SessionTest:
    redacted = without_secrets(test) if profile is None else without_secrets(
        test, secret_variables=profile.secret_variables, secret_headers=profile.handshake.secret_headers)
    return SessionTest(redacted.test, origin, redacted.secrets)


def recorded_messages(source: Session, limit: int = MAX_MESSAGES) -> list[RecordedMessage]:
    """(ts_ns of its last frame, direction, opcode, payload) of every complete data message, in the order
    the messages completed. A broken fragment sequence is dropped, as the timeline shows it."""
    out: list[RecordedMessage] = []
    for message in source.iter_messages():
        if len(out) >= limit:
            raise SessionTooLongError(f"the session holds more than {limit:,} messages: too many for a test "
                                      "(export it instead, or record a shorter session)")
        out.append((source.ts_ns(message.last_seq), message.direction, message.opcode, message.payload))
    return out


def scenario_from_session(source: Session, name: str, url: str, *,
                          subprotocols: Sequence[str] = (), headers: Sequence[tuple[str, str]] = (),
                          variables: Sequence[tuple[str, str]] = (), decoder: str = "",
                          subprotocol: str = "") -> Scenario:
    """A test from a session: what was sent becomes send steps (with the recorded gaps as delays), what was
    received becomes expectations; a session its decoder (``decoder``: the connection's choice, "" automatic)
    reads as a protocol a test speaks (Socket.IO, GraphQL, STOMP, MQTT, SignalR, Phoenix) becomes a test that
    speaks it. :class:`SessionTooLongError` past
    :data:`MAX_MESSAGES` messages."""
    messages = recorded_messages(source)
    protocol = session_protocol(messages, decoder=decoder, subprotocol=subprotocol, url=url)
    return scenario_from_frames(messages, name, url, started_ns=source.started_ns, subprotocols=subprotocols,
                                headers=headers, variables=variables, protocol=protocol)


def stored_session_test(sessions: SessionsController, profiles: Iterable[ConnectionProfile],
                        session_id: int) -> SessionTest:
    """A test of a recorded session. Its URL is the one connected to; headers, subprotocols and variables
    come from the session's saved connection while it exists (else the negotiated subprotocol is
    offered)."""
    stored, profile, url, headers, subprotocols, variables = _stored_inputs(sessions, profiles, session_id, "test")
    record = stored.record
    origin = f"session “{record.name}”"
    try:
        test = scenario_from_session(stored, record.name, url, subprotocols=subprotocols, headers=headers,
                                     variables=variables, subprotocol=record.subprotocol,
                                     decoder=_read_as(profile))
        return _session_test(test, origin, profile)
    except SessionTooLongError as exc:
        raise SessionTooLongError(f"Cannot make a test of {origin}: {exc}") from None
    except (StoreError, sqlite3.Error) as exc:
        raise SessionTestError(f"Cannot read {origin}: {exc}") from None


def stored_session_plan(sessions: SessionsController, profiles: Iterable[ConnectionProfile],
                        session_id: int) -> LoadPlan:
    """A recorded session as a load test's plan (``core/loadtest``): its messages as they went over the wire,
    the URL, headers, subprotocols and variables as :func:`stored_session_test` finds them, every credential
    an environment variable."""
    stored, profile, url, headers, subprotocols, variables = _stored_inputs(sessions, profiles, session_id,
                                                                            "load test")
    origin = f"session “{stored.record.name}”"
    try:
        return plan_from_session(recorded_messages(stored), stored.record.name, url, started_ns=stored.started_ns,
                                 subprotocols=subprotocols, headers=headers, variables=variables,
                                 secret_variables=profile.secret_variables if profile else (),
                                 secret_headers=profile.handshake.secret_headers if profile else ())
    except SessionTooLongError as exc:
        raise SessionTooLongError(f"Cannot make a load test of {origin}: {exc}") from None
    except (StoreError, sqlite3.Error) as exc:
        raise SessionTestError(f"Cannot read {origin}: {exc}") from None


_Inputs = tuple[StoredSession, ConnectionProfile | None, str, Sequence[tuple[str, str]], Sequence[str],
                Sequence[tuple[str, str]]]


def _stored_inputs(sessions: SessionsController, profiles: Iterable[ConnectionProfile], session_id: int,
                   what: str) -> _Inputs:
    """A stored session, its saved connection (while it exists), and the URL, headers, subprotocols and
    variables a test of it connects with."""
    try:
        stored = sessions.open(session_id)
    except (KeyError, StoreError, sqlite3.Error) as exc:
        raise SessionTestError(f"Cannot make a {what} of session {session_id}: {exc}") from None
    record = stored.record
    profile = next((p for p in profiles if p.id == record.profile_id), None)
    if profile is not None:
        headers, subprotocols, variables = profile.handshake.headers, profile.handshake.subprotocols, profile.variables
    else:
        headers, variables = (), ()
        subprotocols = (record.subprotocol,) if record.subprotocol else ()
    # the session's URL is stored without its secrets: the saved connection's, when it is the one connected to
    url = profile.url if profile is not None and record.url in _recorded_urls(profile) else record.url
    return stored, profile, url, headers, subprotocols, variables


def _recorded_urls(profile: ConnectionProfile) -> set[str]:
    """How a session of this connection has its URL stored: its variables expanded (or not), secrets out."""
    urls = {redact_url(profile.url)}
    with contextlib.suppress(ProfileError):  # not connectable as it is: it was not this URL
        urls.add(redact_url(masked(profile.resolved().url, secret_values(profile).values(), REDACTED)))
    return urls


def _read_as(profile: ConnectionProfile | None) -> str:
    """The decoder a connection's sessions are read as: its own choice, else the protocol its mode speaks, else ""
    (automatic)."""
    from wsinspector.core.protocols.registry import SESSIONS  # noqa: PLC0415

    if profile is None:
        return ""
    return profile.decoding.decoder or (profile.decoding.mode if profile.decoding.mode in SESSIONS else "")


def live_session_test(session: ConnectionController) -> SessionTest:
    """A test of the live session (so far), with its connection's URL, headers, subprotocols and variables."""
    profile = session.profile
    if profile is None or not len(session.log):
        raise SessionTestError("Nothing to make a test of yet: connect and exchange a few messages first, or pick "
                               "a recorded session on the Sessions page.", "info")
    origin = "the live session"
    try:
        test = scenario_from_session(session.log, profile.name, profile.url,
                                     subprotocols=profile.handshake.subprotocols,
                                     headers=profile.handshake.headers, variables=profile.variables,
                                     decoder=_read_as(profile))
        return _session_test(test, origin, profile)
    except SessionTooLongError as exc:
        raise SessionTooLongError(f"Cannot make a test of {origin}: {exc}") from None
