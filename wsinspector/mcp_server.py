"""The Model Context Protocol server of ``wsinspector mcp``: the tools of :mod:`wsinspector.mcp_tools` with their
schemas and descriptions, on the official SDK's ``MCPServer``.

Imported only by that command (``cli_mcp.py``), never by the window or the other commands: the SDK is large.
Every answer is JSON (as text and as structured content) with the secrets the app knows masked; every failure is
a tool error of one line (``is_error``), never a traceback.

No ``from __future__ import annotations`` here: the SDK reads the tools' parameter types from their annotations,
which must be objects, not strings naming what only this module's functions see.
"""

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from wsinspector import __version__
from wsinspector.core.probe.cases import AGGRESSIVE_CASES, CASES
from wsinspector.core.secrets import SecretError
from wsinspector.core.store import StoreError
from wsinspector.mcp_tools import AgentTools, ToolFailure

Direction = Literal["", "in", "out"]
OpcodeName = Literal["text", "binary", "close", "ping", "pong", "continuation"]
PayloadForm = Literal["auto", "text", "base64"]
Handle = Annotated[int, Field(description="the connection's handle, as open_connection gave it")]
Timeout = Annotated[float, Field(gt=0, le=300, description="how long to wait, in seconds")]
MaxPayload = Annotated[int, Field(ge=0, le=1 << 20, description="a payload is cut after this many bytes "
                                  "(truncated: true says so; length is the whole payload's)")]
PayloadArg = Annotated[PayloadForm, Field(description='"auto": text for valid UTF-8 text (and close, ping, '
                                          'pong), else base64; "text" always (invalid bytes replaced); '
                                          '"base64" always')]
TextArg = Annotated[str, Field(description="only messages whose payload holds this text (any case unless "
                               "case_sensitive; a close frame's reason)")]
OpcodesArg = Annotated[list[OpcodeName], Field(description="only these opcodes (none: any)")]

INSTRUCTIONS = """\
wsinspector inspects and tests WebSocket endpoints. Saved connections and recorded sessions live in its data \
folder. open_connection gives a handle; send_message, wait_for_message, ping and close_connection take it. \
Everything an open connection sends and receives is recorded as a session: read_session reads it (session_id \
from open_connection or list_sessions). run_test replays a test file (.wstest.yaml) and gives its verdict. \
probe_endpoint measures what an endpoint does, its evidence recorded as sessions. \
Secret values (tokens, passwords) are never shown: they read as ***, and URLs have them REDACTED."""

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
TALKS = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)

#: what a tool gives: its answer, and secret values of its own to mask in it (a test run's)
Reply = dict[str, Any] | tuple[dict[str, Any], list[str]]
#: what the app's own code raises with a message meant for the user
_SAID = (ToolFailure, StoreError, SecretError, OSError, ValueError, RuntimeError)


class _Server(MCPServer[Any]):
    """Arguments that do not fit a tool's schema are told in one line, like any other failure."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
                                 for error in cause.errors())
            raise ToolError(f"Error executing tool {name}: {problems}") from cause


def _session(broken: Callable[[], object]) -> Callable[[MCPServer[Any]], Any]:
    """The server's lifespan: one session, over standard input and output. When the SDK's writer (or reader) of
    the standard streams fails, it cancels the session and waits for its reader of standard input, a thread
    that returns only when the client closes it: ``broken`` is called at the cancellation, not after that."""

    @asynccontextmanager
    async def session(_server: MCPServer[Any]) -> AsyncIterator[None]:
        try:
            yield None
        except asyncio.CancelledError:
            broken()
            raise

    return session


class _Replies:
    """A tool's answer as JSON with the secrets the app knows masked, or its failure as one line."""

    def __init__(self, tools: AgentTools) -> None:
        self.tools = tools

    async def __call__(self, work: Callable[[], Reply | Awaitable[Reply]]) -> CallToolResult:
        try:
            reply = work()
            if inspect.isawaitable(reply):
                reply = await reply
        except _SAID as exc:
            line = " ".join(str(exc).split()) or type(exc).__name__
            raise ToolError(self.tools.masker().text(line)) from None
        data, secrets = reply if isinstance(reply, tuple) else (reply, [])
        text = self.tools.masker(*secrets).text(json.dumps(data, ensure_ascii=False))
        try:
            structured = json.loads(text)
        except ValueError:  # a secret value that looks like JSON's own punctuation
            raise ToolError("the answer cannot be given without a secret in it") from None
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def build_server(tools: AgentTools, *, broken: Callable[[], object]) -> MCPServer[Any]:
    """The server with every tool, over ``tools`` (one app context). ``broken`` is called if the session breaks
    off before the client ends it: a line to the client cannot be written (it stopped reading our standard
    output, or exited), or standard input cannot be read."""
    server = _Server("wsinspector", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING",
                     lifespan=_session(broken))
    reply = _Replies(tools)
    _add_reading(server, tools, reply)
    _add_links(server, tools, reply)
    _add_runs(server, tools, reply)
    return server


def _add_reading(server: MCPServer[Any], tools: AgentTools, reply: _Replies) -> None:
    """The tools that read the data folder: saved connections, sessions, decoders."""

    @server.tool(annotations=READ_ONLY)
    async def list_connections(
            search: Annotated[str, Field(description="only those whose name, URL or folder holds every word")] = "",
            folder: Annotated[str, Field(description='only this folder and those inside it ("Team/Staging")')] = "",
    ) -> CallToolResult:
        """List the saved connections (id, name, folder, URL with secrets redacted, when last used) and the
        folders, in the window's order."""
        return await reply(lambda: tools.list_connections(search, folder))

    @server.tool(annotations=READ_ONLY)
    async def get_connection(
            connection: Annotated[str, Field(description="the saved connection's id or name")],
    ) -> CallToolResult:
        """A saved connection's settings (endpoint, handshake headers, TLS, proxy, auth, heartbeat, decoding...),
        as stored: secret values are left out (kept_secrets names the secret settings that have one)."""
        return await reply(lambda: tools.get_connection(connection))

    @server.tool(annotations=READ_ONLY)
    async def list_sessions(
            offset: Annotated[int, Field(ge=0, description="skip this many (next_offset of the page before)")] = 0,
            limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> CallToolResult:
        """List the recorded sessions, newest first: id, name, URL, start and end, status, frames, and whether
        an open connection is recording it now (live)."""
        return await reply(lambda: tools.list_sessions(offset, limit))

    @server.tool(annotations=READ_ONLY)
    async def read_session(
            session_id: Annotated[int, Field(description="the session's id (list_sessions, open_connection)")],
            offset: Annotated[int, Field(ge=0, description="skip this many matching rows (next_offset of the "
                                         "page before)")] = 0,
            limit: Annotated[int, Field(ge=1, le=500)] = 50,
            frames: Annotated[bool, Field(description="one row per frame; by default one per message, "
                                          "fragments folded, control frames rows of their own")] = False,
            direction: Annotated[Direction, Field(description='"in" (from the server), "out", or "" both')] = "",
            opcodes: OpcodesArg = [],  # noqa: B006  (read, never changed: the SDK needs the default itself)
            text: TextArg = "",
            regex: Annotated[bool, Field(description="text is a regular expression (Python's)")] = False,
            case_sensitive: bool = False,
            payload: PayloadArg = "auto",
            max_payload_bytes: MaxPayload = 4096,
    ) -> CallToolResult:
        """Read a session's messages (or frames) with filters, a page at a time: seq, direction, opcode, time
        (s since the session began), time_of_day, length, and the payload as text or base64. next_offset is
        where the next page starts (null: no more). A session being recorded is read as it is now."""
        return await reply(lambda: tools.read_session(
            session_id, offset=offset, limit=limit, frames=frames, direction=direction, opcodes=opcodes,
            text=text, regex=regex, case_sensitive=case_sensitive, payload=payload,
            max_payload_bytes=max_payload_bytes))

    @server.tool(annotations=READ_ONLY)
    async def decode_message(
            session_id: Annotated[int | None, Field(description="decode a message of this session...")] = None,
            seq: Annotated[int | None, Field(description="...the one at this seq (read_session shows it)")] = None,
            text: Annotated[str, Field(description="or decode this text message")] = "",
            base64: Annotated[str, Field(description="or this binary message, as base64")] = "",
            protocol: Annotated[str, Field(description="the decoder (json, msgpack, cbor, protobuf, socket.io, "
                                           "signalr, stomp, graphql, mqtt, phoenix); by default the session's "
                                           "setting, subprotocol and first messages choose")] = "",
            outgoing: Annotated[bool, Field(description="a given message was sent by the client")] = False,
    ) -> CallToolResult:
        """Decode a message as the protocol on top of WebSocket reads it (Socket.IO, STOMP, MQTT, GraphQL,
        SignalR, Phoenix, JSON, MessagePack, CBOR, protobuf): its protocol, a one-line summary, fields and the
        decoded tree, or one line saying why it does not decode."""
        return await reply(lambda: tools.decode_message(session_id, seq, text, base64, protocol, outgoing))


def _add_links(server: MCPServer[Any], tools: AgentTools, reply: _Replies) -> None:
    """The tools over connections an agent opens."""

    @server.tool(annotations=TALKS)
    async def open_connection(
            url: Annotated[str, Field(description="a ws:// or wss:// URL (over a saved connection's own: used "
                                      "once, not saved)")] = "",
            connection: Annotated[str, Field(description="a saved connection's id or name: its settings, "
                                             "secrets, the active environment and the app-wide defaults "
                                             "apply")] = "",
            engine: Annotated[Literal["", "wire", "qt"], Field(description="the connection engine (default: "
                                                               "the connection's, wire)")] = "",
            timeout_s: Timeout = 10.0,
    ) -> CallToolResult:
        """Open a WebSocket connection and record it as a session. Gives a handle for send_message,
        wait_for_message, ping and close_connection, and the session's id for read_session."""
        return await reply(lambda: tools.open_connection(url, connection, engine, timeout_s))

    @server.tool(annotations=READ_ONLY)
    async def open_connections() -> CallToolResult:
        """The connections open now: handle, name, state, session id and frames so far."""
        return await reply(tools.open_connections)

    @server.tool(annotations=TALKS)
    async def send_message(
            handle: Handle,
            text: Annotated[str, Field(description="a text message")] = "",
            base64: Annotated[str, Field(description="or a binary message, as base64 (then text stays empty)")] = "",
    ) -> CallToolResult:
        """Send one message on an open connection. Gives its seq; wait_for_message then looks at what comes
        after it."""
        return await reply(lambda: tools.send_message(handle, text, base64))

    @server.tool(annotations=TALKS)
    async def wait_for_message(
            handle: Handle,
            text: TextArg = "",
            regex: Annotated[bool, Field(description="text is a regular expression (Python's)")] = False,
            case_sensitive: bool = False,
            direction: Annotated[Direction, Field(description='"in" (from the server, the default), "out", '
                                                  'or "" both')] = "in",
            opcodes: Annotated[list[OpcodeName], Field(description="only these opcodes (none: text and binary "
                                                       "messages; ping, pong or close when named)")] = [],  # noqa: B006
            after_seq: Annotated[int | None, Field(ge=-1, description="look after this seq (-1: the whole "
                                                   "session); by default after the last message sent, or after "
                                                   "the one the last wait gave")] = None,
            timeout_s: Timeout = 10.0,
            payload: PayloadArg = "auto",
            max_payload_bytes: MaxPayload = 4096,
    ) -> CallToolResult:
        """Wait for the first message that matches (a message already received counts), up to timeout_s. Gives
        it as read_session gives a row; fails when the time is up or the connection ends first."""
        return await reply(lambda: tools.wait_for_message(
            handle, direction=direction, opcodes=opcodes, text=text, regex=regex, case_sensitive=case_sensitive,
            after_seq=after_seq, timeout_s=timeout_s, payload=payload, max_payload_bytes=max_payload_bytes))

    @server.tool(annotations=TALKS)
    async def ping(handle: Handle, timeout_s: Timeout = 10.0) -> CallToolResult:
        """Send a ping and wait for its pong: the round-trip time in microseconds, measured from the frames'
        time stamps as the Health page measures it."""
        return await reply(lambda: tools.ping(handle, timeout_s))

    @server.tool(annotations=TALKS)
    async def close_connection(
            handle: Handle,
            code: Annotated[int, Field(description="the close code (1000 normal; 1001-1003, 1007-1011, "
                                       "3000-4999)")] = 1000,
            reason: Annotated[str, Field(description="the close reason (at most 123 bytes of UTF-8)")] = "",
            timeout_s: Timeout = 5.0,
    ) -> CallToolResult:
        """Close a connection and wait for it to end; its session is saved. Gives how it ended."""
        return await reply(lambda: tools.close_connection(handle, code, reason, timeout_s))


def _add_runs(server: MCPServer[Any], tools: AgentTools, reply: _Replies) -> None:
    """Test files, run as `wsinspector run` runs them."""

    @server.tool(annotations=TALKS)
    async def run_test(
            test_file: Annotated[str, Field(description="the test file's path (.wstest.yaml; "
                                            "docs/test-format.md)")],
            url: Annotated[str, Field(description="connect here instead of the file's url")] = "",
            variables: Annotated[dict[str, str], Field(description="variables over the file's (and the "
                                                       "environment's)")] = {},  # noqa: B006  (never changed)
            environment: Annotated[str, Field(description="use this environment's variables and the "
                                              "globals, as kept in the data folder")] = "",
            speed: Annotated[str, Field(description='scale the recorded delays: "1" as recorded, "2" twice as '
                                        'fast, "max" without delays')] = "1",
            engine: Annotated[Literal["", "wire", "qt"], Field(description="the connection engine")] = "",
    ) -> CallToolResult:
        """Replay a test file against its server, as `wsinspector run` does, recorded as a session: the verdict
        (passed, failed or error), the summary line, and each step with what was expected and received."""
        return await reply(lambda: tools.run_test(test_file, url, variables, environment, speed, engine))

    @server.tool(annotations=TALKS)
    async def probe_endpoint(
            url: Annotated[str, Field(description="a ws:// or wss:// URL (over a saved connection's own)")] = "",
            connection: Annotated[str, Field(description="a saved connection's id or name: its settings, "
                                             "secrets, the active environment and the app-wide defaults "
                                             "apply")] = "",
            cases: Annotated[list[str], Field(description=f"the cases to run, in this order: "
                                              f"{', '.join(CASES)} (none: every polite case, and the aggressive "
                                              f"ones too when aggressive)")] = [],  # noqa: B006  (never changed)
            aggressive: Annotated[bool, Field(description=f"allow the aggressive cases ({', '.join(AGGRESSIVE_CASES)}"
                                              ": a bounded size search, a flood, protocol violations) against an "
                                              "address that is not loopback; without it they are refused "
                                              "there")] = False,
    ) -> CallToolResult:
        """Measure what an endpoint does, as `wsinspector probe` does: bounded cases (versions, messages,
        fragments, pings, heartbeat, limits, compression, closing...), each over connections of its own recorded
        as sessions. Gives the endpoint's row of the comparison table: each column's value and detail with the
        ids of the sessions holding its evidence (read_session reads them), and each case's time in seconds."""
        return await reply(lambda: tools.probe_endpoint(url, connection, cases, aggressive))
