"""What ``wsinspector mcp`` lets an agent do, as plain methods over the app: the saved connections and the
stored sessions of the data folder, connections opened headless (``app/agent.py``), test runs and decoders.

Each method returns a JSON-able dict, or raises :class:`ToolFailure` with one line saying why. Nothing here
speaks MCP (``cli_mcp.py`` does), and nothing leaves without the secrets the app knows being masked
(:meth:`AgentTools.masker`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsinspector.app.agent import AgentLinks, Link, LinkError
from wsinspector.core.copying import PAYLOAD_FORMS, Item, row_page, row_record
from wsinspector.core.filters import FilterError, named_filter
from wsinspector.core.redact import redact_url
from wsinspector.core.scenario.secrets import Masker
from wsinspector.core.store import SessionRecord, StoreError

if TYPE_CHECKING:
    from wsinspector.app.context import AppContext
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.core.session import Session

#: a page of rows holds at most this many
MAX_ROWS = 500
#: a row's payload is cut at this many bytes at most
MAX_PAYLOAD_BYTES = 1 << 20
#: a page's payloads end it once they reach this many bytes
PAGE_BUDGET_BYTES = 1 << 20


class ToolFailure(Exception):
    """What a tool could not do, in one line."""


class AgentTools:
    """The tools over one app context (its store, saved connections, environments, defaults, keeper)."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.links = AgentLinks(context)

    # -- secrets ----------------------------------------------------------------------------------

    def masker(self, *more: str) -> Masker:
        """Masks every secret value the app knows: the saved connections', the environments' and globals', the
        connection defaults', what the connections opened here were given or captured, and ``more``."""
        from wsinspector.core.secrets import secret_values

        context = self.context
        values = [value for profile in context.connections.profiles for value in secret_values(profile).values()]
        for environment in (context.environments.globals, *context.environments.environments):
            values += [value for name, value in environment.variables if name in environment.secret_variables]
        values += context.defaults.defaults.secret_values().values()
        values += self.links.secret_values
        return Masker([value for value in (*values, *more) if value])

    # -- saved connections and stored sessions ------------------------------------------------------

    def list_connections(self, search: str, folder: str) -> dict[str, Any]:
        from wsinspector.cli_connections import listed, read_listing

        try:
            folders, rows = listed(read_listing(self.context.store), folder, search)
        except ValueError as exc:
            raise ToolFailure(f"folder: {exc}") from None
        return {"folders": folders, "connections": rows}

    def get_connection(self, connection: str) -> dict[str, Any]:
        """A saved connection's settings as they are stored: secret values left out (``kept_secrets`` names the
        secret settings that have one), the URL redacted."""
        from wsinspector.core.profiles import ProfileError, profile_to_dict

        profile = self._profile(connection)
        try:
            settings = profile_to_dict(profile)
        except ProfileError as exc:
            raise ToolFailure(str(exc)) from None
        endpoint = settings.get("endpoint")
        if isinstance(endpoint, dict) and isinstance(endpoint.get("url"), str):
            endpoint["url"] = redact_url(endpoint["url"])
        return {"id": profile.id, "name": profile.name, "settings": settings}

    def list_sessions(self, offset: int, limit: int) -> dict[str, Any]:
        records = self.context.store.sessions()
        offset, limit = max(offset, 0), _bounded(limit, 1, MAX_ROWS)
        page = records[offset:offset + limit]
        return {"sessions": [self._session_row(record) for record in page],
                "next_offset": offset + limit if offset + limit < len(records) else None}

    def read_session(self, session_id: int, *, offset: int, limit: int, frames: bool, direction: str,
                     opcodes: Sequence[str], text: str, regex: bool, case_sensitive: bool, payload: str,
                     max_payload_bytes: int) -> dict[str, Any]:
        record, session = self._session(session_id)
        _check_payload_form(payload)
        try:
            flt = named_filter(direction, opcodes, text, regex, case_sensitive)
            page = row_page(session, flt, whole_messages=not frames, offset=max(offset, 0),
                            limit=_bounded(limit, 1, MAX_ROWS), payload=payload,
                            payload_limit=_bounded(max_payload_bytes, 0, MAX_PAYLOAD_BYTES),
                            budget=PAGE_BUDGET_BYTES)
        except FilterError as exc:
            raise ToolFailure(str(exc)) from None
        return {"session": self._session_row(record, session), "rows": page.rows, "next_offset": page.next_offset}

    def decode_message(self, session_id: int | None, seq: int | None, text: str, base64_: str,
                       protocol: str, outgoing: bool) -> dict[str, Any]:
        """A message of a session (``session_id`` and ``seq``: the session's decoding setting, subprotocol and URL
        choose the decoder unless ``protocol`` does), or one given as ``text`` or ``base64_``, decoded."""
        from wsinspector.core.decoders.base import DecodeError, FrameView
        from wsinspector.core.decoders.registry import configured, decoder_registry
        from wsinspector.core.decoders.session import SessionContext

        if session_id is not None:
            if seq is None:
                raise ToolFailure("give the seq of the message to decode (read_session shows them)")
            return self._decode_in_session(session_id, seq, protocol)
        if not text and not base64_:
            raise ToolFailure("give a session_id and seq, or the message as text or base64")
        data, is_text = _payload(text, base64_)
        registry = decoder_registry()
        frame = FrameView(data, is_text, outgoing, 0)
        try:
            chosen = registry.choose(override=protocol) if protocol else registry.sniffed(frame)
            decoder = configured(chosen, {}) if chosen is not None else None
        except (KeyError, DecodeError) as exc:
            raise ToolFailure(str(exc.args[0] if exc.args else exc)) from None
        if decoder is None:
            raise ToolFailure(f"no decoder recognises this message (name one as protocol: "
                              f"{', '.join(registry.names())})")
        return registry.decode(decoder, frame, SessionContext(lambda index: frame if index == 0 else None)).as_json()

    # -- live connections -------------------------------------------------------------------------

    async def open_connection(self, url: str, connection: str, engine: str, timeout_s: float) -> dict[str, Any]:
        profile = self._to_open(url, connection, engine)
        try:
            link, info = await self.links.open(profile, timeout_s)
        except LinkError as exc:
            raise ToolFailure(str(exc)) from None
        controller = link.controller
        return {"handle": link.handle, "session_id": controller.session_id, "name": profile.name,
                "url": redact_url(info.url), "subprotocol": info.subprotocol or None,
                "extensions": info.extensions or None, "engine": controller.engine}

    def open_connections(self) -> dict[str, Any]:
        return {"connections": [
            {"handle": link.handle, "name": link.controller.profile.name if link.controller.profile else "",
             "state": link.controller.state.name.lower(), "session_id": link.controller.session_id,
             "frames": len(link.controller.log)} for link in self.links.links]}

    def send_message(self, handle: int, text: str, base64_: str) -> dict[str, Any]:
        data, is_text = _payload(text, base64_)
        link = self._link(handle)
        try:
            seq = self.links.send(link, data, is_text)
        except LinkError as exc:
            raise ToolFailure(str(exc)) from None
        return {"handle": handle, "seq": seq, "opcode": "text" if is_text else "binary", "length": len(data)}

    async def wait_for_message(self, handle: int, *, direction: str, opcodes: Sequence[str], text: str,
                               regex: bool, case_sensitive: bool, after_seq: int | None, timeout_s: float,
                               payload: str, max_payload_bytes: int) -> dict[str, Any]:
        link = self._link(handle)
        _check_payload_form(payload)
        try:
            # a message by default: a heartbeat's pong or a server's ping is waited for only when asked for
            flt = named_filter(direction, opcodes or ("text", "binary"), text, regex, case_sensitive)
            item = await self.links.wait_for(link, flt, after_seq, timeout_s)
        except (FilterError, LinkError) as exc:
            raise ToolFailure(str(exc)) from None
        return self._row(link, item, payload, max_payload_bytes)

    async def ping(self, handle: int, timeout_s: float) -> dict[str, Any]:
        link = self._link(handle)
        try:
            pong, rtt_ns = await self.links.ping(link, timeout_s)
        except LinkError as exc:
            raise ToolFailure(str(exc)) from None
        return {"handle": handle, "rtt_us": round(rtt_ns / 1000, 1), "pong_seq": pong.seq}

    async def close_connection(self, handle: int, code: int, reason: str, timeout_s: float) -> dict[str, Any]:
        link = self._link(handle)
        session_id, frames = link.controller.session_id, len(link.controller.log)
        try:
            info = await self.links.close(link, code, reason, timeout_s)
        except LinkError as exc:
            raise ToolFailure(str(exc)) from None
        ended: dict[str, Any] = {"handle": handle, "session_id": session_id, "frames": frames}
        if info is None:
            ended["closed"] = f"it did not close within {timeout_s:g} s: the connection was cut"
        else:
            ended.update(closed=info.message, code=info.code, reason=info.reason, by_server=info.by_peer)
        return ended

    # -- test files -------------------------------------------------------------------------------

    async def run_test(self, test_file: str, url: str, variables: dict[str, str], environment: str, speed: str,
                       engine: str) -> tuple[dict[str, Any], list[str]]:
        """Replay a test file as ``wsinspector run`` does, recorded in the data folder: the verdict, each step,
        and the run's own secret values (what it was given and what its auth captured), masked in the report
        and for whatever else shows it."""
        from wsinspector.cli_run import RunSetupError, format_summary, prepare_run, result_masker, run_arguments
        from wsinspector.core.scenario.verdict import RunResult

        path = Path(test_file).expanduser()
        args = run_arguments(path, url=url or None, var=[f"{name}={value}" for name, value in variables.items()],
                             env=environment or None, speed=speed, engine=engine or None,
                             data_dir=self.context.data_dir)
        try:
            prepared = prepare_run(args)
        except RunSetupError as exc:
            raise ToolFailure(str(exc)) from None
        store = self.context.store if self.context.saving else None
        controller = prepared.controller(args, store)
        captured: list[str] = []
        done: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
        controller.authenticated.connect(captured.extend)
        controller.finished.connect(lambda result: None if done.done() else done.set_result(result))
        controller.start()
        try:
            result = controller.result if controller.done and controller.result else await done
        except BaseException:  # the request was cancelled, or the server is stopping: the run stops too
            if not controller.done:
                controller.finished.connect(controller.deleteLater)
                controller.cancel("the request was cancelled")
            raise
        controller.deleteLater()
        result = result_masker(prepared, captured).result(result)
        steps = [{"name": step.name, "kind": step.kind, "status": step.status.value,
                  "duration_s": round(step.duration_s, 6),
                  **{key: value for key in ("message", "expected", "received", "diff")
                     if (value := getattr(step, key))}}
                 for step in result.steps]
        verdict = {0: "passed", 1: "failed"}.get(result.exit_code, "error")
        report = {"verdict": verdict, "exit_code": result.exit_code, "summary": format_summary(result),
                  "test": prepared.name, "steps": steps, "session_id": controller.session_id}
        for key in ("error", "closing"):
            if value := getattr(result, key):
                report[key] = value
        return report, [*prepared.secrets, *captured]

    # -- probes -------------------------------------------------------------------------------------

    async def probe_endpoint(self, url: str, connection: str, cases: Sequence[str],
                             aggressive: bool) -> dict[str, Any]:
        """Probe an endpoint as the Probe page does (the app-wide defaults and the active environment applied,
        each case's connections recorded as sessions, the probe kept): its row of the comparison table, each
        column's value with the ids of the sessions holding its evidence, and each case's timing. Aggressive
        cases run against an address that is not loopback only when ``aggressive`` says so."""
        from wsinspector.app.probes import ProbesController
        from wsinspector.core.probe.plan import PlanError, plan
        from wsinspector.core.probe.row import ProbeResult

        profile = self._to_open(url, connection, "")
        try:
            plan(cases, aggressive=aggressive, url=profile.url)
        except PlanError as exc:
            raise ToolFailure(str(exc).replace("with --aggressive", "with aggressive: true")) from None
        context = self.context
        probes = ProbesController(context.store, lambda: context.defaults.defaults,
                                  context.environments.variables_for)
        refused: list[str] = []
        done: asyncio.Future[ProbeResult] = asyncio.get_running_loop().create_future()
        probes.refused.connect(refused.append)
        probes.finished.connect(lambda result: None if done.done() else done.set_result(result))
        if not probes.start(profile, cases, confirmed=aggressive, saved=bool(connection)):
            probes.deleteLater()
            raise ToolFailure(refused[0] if refused else "the probe did not start")
        running = probes.running
        try:
            result = await done
        except BaseException:  # the request was cancelled, or the server is stopping: the probe stops too
            probes.finished.connect(probes.deleteLater)
            probes.cancel()
            raise
        probes.deleteLater()
        answer = result.to_json()
        if not result.connected:
            failure = (running.first_failure if running is not None else "") or "see the sessions"
            answer["error"] = f"no WebSocket connection to {result.url} could be opened: {failure}"
        return answer

    # -- helpers ----------------------------------------------------------------------------------

    def _link(self, handle: int) -> Link:
        try:
            return self.links.get(handle)
        except LinkError as exc:
            raise ToolFailure(str(exc)) from None

    def _profile(self, connection: str) -> ConnectionProfile:
        """A saved connection by id, else by name (any case)."""
        connections = self.context.connections
        found = connections.get(connection)
        if found is not None:
            return found
        named = [p for p in connections.profiles if p.name.casefold() == connection.strip().casefold()]
        if len(named) == 1:
            return named[0]
        if named:
            raise ToolFailure(f"{len(named)} saved connections are named “{connection}”: give one's id "
                              f"({', '.join(p.id for p in named)})")
        raise ToolFailure(f"there is no saved connection “{connection}” (list_connections lists them)")

    def _to_open(self, url: str, connection: str, engine: str) -> ConnectionProfile:
        """The connection to open: a saved one (with ``url`` over its own, not saved), or one to ``url``."""
        from wsinspector.core.profiles import ConnectionProfile, ProfileError, validate_url

        if engine not in ("", "wire", "qt"):
            raise ToolFailure(f"unknown engine {engine!r}: use \"wire\" or \"qt\"")
        if connection:
            profile = self._profile(connection)
            if url:
                try:
                    profile = self.context.connections.with_url(profile, url)[0]
                except ValueError as exc:
                    raise ToolFailure(str(exc)) from None
        elif url:
            try:
                url = validate_url(url)
            except ProfileError as exc:
                raise ToolFailure(str(exc)) from None
            profile = ConnectionProfile(name=redact_url(url)).with_changes(endpoint={"url": url})
        else:
            raise ToolFailure("give a url, or a saved connection (its id or name)")
        return profile.with_changes(protocol={"engine": engine}) if engine else profile

    def _session(self, session_id: int) -> tuple[SessionRecord, Session]:
        """A stored session's record, and the session: the live log while one of the open connections records
        it, else read from the store."""
        from wsinspector.core.stored import StoredSession

        try:
            record = self.context.store.session(session_id)
        except StoreError as exc:
            raise ToolFailure(str(exc)) from None
        if record is None:
            raise ToolFailure(f"there is no session {session_id} (list_sessions lists them)")
        live = self.links.live_session(session_id)
        return record, (live.log if live is not None else StoredSession(self.context.store, record))

    def _session_row(self, record: SessionRecord, session: Session | None = None) -> dict[str, Any]:
        live = self.links.live_session(record.id)
        row: dict[str, Any] = {
            "id": record.id, "name": record.name, "url": redact_url(record.url),
            "started": _iso(record.started_wall), "ended": _iso(record.ended_wall), "status": record.status,
            "frames": len(session) if session is not None else record.frame_count,
            "subprotocol": record.subprotocol or None, "live": live is not None}
        if record.close_code is not None:
            row["close_code"] = record.close_code
        if record.replay_of:
            row["replay_of"] = record.replay_of
        return row

    def _row(self, link: Link, item: Item, payload: str, max_payload_bytes: int) -> dict[str, Any]:
        return row_record(link.controller.log, item, payload, _bounded(max_payload_bytes, 0, MAX_PAYLOAD_BYTES))

    def _decode_in_session(self, session_id: int, seq: int, protocol: str) -> dict[str, Any]:
        from wsinspector.core.decoders.registry import decoder_registry
        from wsinspector.core.decoders.session import SessionDecoding, session_source
        from wsinspector.core.profiles import Decoding

        record, session = self._session(session_id)
        if not 0 <= seq < len(session):
            raise ToolFailure(f"session {session_id} has no frame {seq} (it has {len(session)})")
        message = session.message_for(seq)
        if message is None:
            raise ToolFailure(f"frame {seq} is no whole message (a control frame, or a message not complete)")
        profile = self.context.connections.get(record.profile_id) if record.profile_id else None
        setting = profile.decoding if profile is not None else Decoding()
        decoding = SessionDecoding(decoder_registry(), session_source(session), override=protocol or setting.decoder,
                                   subprotocol=record.subprotocol, url=record.url, options=dict(setting.options),
                                   cache_size=16)
        decoded = decoding.decoded(message.last_seq)
        if decoded is None:
            raise ToolFailure(f"no decoder recognises session {session_id}'s messages (name one as protocol: "
                              f"{', '.join(decoding.registry.names())})")
        return {"seq": message.first_seq, **decoded.as_json()}


def _payload(text: str, base64_: str) -> tuple[bytes, bool]:
    """(bytes, is_text) of a message given as text or, when ``base64_`` is not empty, as base64."""
    if not base64_:
        return text.encode("utf-8", "surrogatepass"), True
    if text:
        raise ToolFailure("give the message as text or as base64, not both")
    try:
        return base64.b64decode(base64_, validate=True), False
    except (binascii.Error, ValueError):
        raise ToolFailure("base64: not valid base64") from None


def _check_payload_form(payload: str) -> None:
    if payload not in PAYLOAD_FORMS:
        raise ToolFailure(f"payload: use {', '.join(PAYLOAD_FORMS)}")


def _bounded(value: int, low: int, high: int) -> int:
    return min(max(value, low), high)


def _iso(wall: float | None) -> str | None:
    return None if wall is None else datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")
