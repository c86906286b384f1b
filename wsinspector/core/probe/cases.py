"""The probe's cases: each a generator over :mod:`.steps` that opens its own connections, does a bounded
thing and returns the cells of its columns, with the evidence in words. A case that cannot decide says
"unknown" and why (:func:`.steps.unknown`), never a guess.

Polite cases (``DEFAULT_CASES``) send a few small messages; the aggressive ones (``AGGRESSIVE_CASES``: the size
search, a flood with reads paused, protocol violations) are bounded by ``CaseContext.byte_cap`` and their own
time limits, and run only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from ..latency import rtt_stats
from ..words import counted
from .h2settings import ENABLE_CONNECT_PROTOCOL
from .steps import (
    Alpn,
    AskAlpn,
    Case,
    CaseContext,
    Cell,
    Cells,
    Close,
    Closed,
    Event,
    HoldReading,
    Open,
    Opened,
    Ping,
    Received,
    Refused,
    Send,
    SendFrame,
    SendParts,
    Step,
    TimedOut,
    Wait,
    unknown,
)

#: how long an opening handshake may take before the case gives up on it
HANDSHAKE_S = 5.0
#: the size search: where it starts, how long it may take, how fine it gets
SIZE_START = 64 * 1024
SIZE_TIME_S = 25.0
SIZE_PRECISION = 1.05
#: flow control: how long reads stay paused, and each message's size
FLOW_HOLD_S = 2.0
FLOW_MESSAGE = 256 * 1024
#: "does it send fragmented messages": the message asked back
FRAGMENT_PROBE = 256 * 1024

_DATA = ("text", "binary", "continuation")
Gen = Generator[Step, object, Event]


# -- helpers ----------------------------------------------------------------------------------------

def wait_for(ctx: CaseContext, wanted: Callable[[Event], bool], seconds: float) -> Gen:
    """The first event ``wanted`` accepts, or the end (:class:`Closed`, :class:`Refused`), or
    :class:`TimedOut` after ``seconds``."""
    end = ctx.now + seconds
    while True:
        event = yield Wait(end - ctx.now)
        assert isinstance(event, Opened | Refused | Received | Closed | Alpn | TimedOut)
        if isinstance(event, Received) and event.opcode == "close":
            # the endpoint's close frame says how it ends: no need to wait for the TCP connection to go
            code = int.from_bytes(event.payload[:2], "big") if len(event.payload) >= 2 else None
            return Closed(event.at, code, by_peer=True, clean=True, message=f"close frame {code}")
        if isinstance(event, TimedOut | Closed | Refused) or wanted(event):
            return event


def connect(ctx: CaseContext, action: Open) -> Gen:
    """Open a connection: :class:`Opened`, or why not (:class:`Refused`, :class:`TimedOut`)."""
    yield action
    return (yield from wait_for(ctx, lambda e: isinstance(e, Opened), HANDSHAKE_S))


def message(ctx: CaseContext, seconds: float) -> Generator[Step, object, tuple[Received, ...] | Event]:
    """The frames of the next whole data message, or the event that came instead of it."""
    frames: list[Received] = []
    end = ctx.now + seconds
    while True:
        event = yield from wait_for(ctx, lambda e: isinstance(e, Received) and e.opcode in _DATA,
                                    max(0.0, end - ctx.now))
        if not isinstance(event, Received):
            return event
        frames.append(event)
        if event.fin:
            return tuple(frames)


def pong(ctx: CaseContext, seconds: float) -> Gen:
    return (yield from wait_for(ctx, lambda e: isinstance(e, Received) and e.opcode == "pong", seconds))


def goodbye(ctx: CaseContext) -> Generator[Step, object, None]:
    """Close with 1000: the closing handshake goes on while the next connection opens (the driver lets it end,
    within the connection's close timeout), so an endpoint slow to close costs the probe no time."""
    yield Close(1000, "wsinspector probe")


def ended(event: Event) -> str:
    """What an event that was not the answer says, in words."""
    if isinstance(event, Closed):
        if event.broke:
            return f"broke the protocol: {event.broke}"
        if event.code is not None:
            return f"closed with {event.code}"
        return "dropped the connection (no close frame)" if not event.clean else "closed without a code"
    if isinstance(event, Refused):
        return f"refused the connection ({event.message})"
    return "silence"


def not_opened(event: Event, what: str) -> Cells:
    if isinstance(event, Refused):
        return {what: unknown(f"the connection was refused: {event.message}")}
    return {what: unknown(f"the connection did not open within {HANDSHAKE_S:g} s")}


def mib(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.0f} KiB"
    return counted(size, "byte")


def joined(frames: tuple[Received, ...]) -> bytes:
    return b"".join(frame.payload for frame in frames)


# -- protocol versions ------------------------------------------------------------------------------

def versions(ctx: CaseContext) -> Case:
    """Sec-WebSocket-Version 13, 8, 7 and one no version has (99): which it accepts, what it answers to the
    rest and whether it lists the versions it speaks (RFC 6455 §4.4)."""
    accepted: list[str] = []
    answers: dict[str, str] = {}
    listed: str | None = None
    for version in ("13", "8", "7", "99"):
        event = yield from connect(ctx, Open(f"Sec-WebSocket-Version {version}", version=version))
        if isinstance(event, Opened):
            accepted.append(version)
            yield from goodbye(ctx)
        elif isinstance(event, Refused) and event.status is not None:
            answers[version] = str(event.status)
            names = [value for name, value in event.headers if name.lower() == "sec-websocket-version"]
            if names:
                listed = ", ".join(names)
        else:
            answers[version] = "no answer" if isinstance(event, TimedOut) else ended(event)
    if "13" not in accepted and "13" not in answers:
        return {"versions": unknown(f"version 13 did not connect ({answers.get('13', 'no answer')})")}
    value = ", ".join(accepted) if accepted else "none"
    unsupported = answers.get("99", "accepted" if "99" in accepted else "")
    value += f"; 99 → {unsupported}" + (f" listing {listed}" if listed else ", no list")
    detail = "; ".join([f"{v}: accepted" for v in accepted] + [f"{v}: {a}" for v, a in answers.items()])
    return {"versions": Cell(value, detail, data={"accepted": accepted, "answers": answers, "listed": listed,
                                                  "conforms": bool(listed) and "99" not in accepted})}


def http2(ctx: CaseContext) -> Case:
    """Whether the endpoint offers WebSocket over HTTP/2 (RFC 8441): ALPN over TLS tells whether it speaks
    HTTP/2 at all; with h2, its first SETTINGS frame whether it offers the extended CONNECT
    (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, RFC 8441 §3)."""
    if not ctx.secure:
        return {"h2": unknown("ws:// is HTTP/1.1 without TLS: no ALPN to ask for h2")}
    yield AskAlpn()
    # the check bounds its handshake and SETTINGS read by HANDSHAKE_S and says which one ran out; this is its backstop
    answer = yield from wait_for(ctx, lambda e: isinstance(e, Alpn), HANDSHAKE_S + 1.0)
    if not isinstance(answer, Alpn):
        return {"h2": unknown(f"no answer to the TLS handshake within {HANDSHAKE_S + 1.0:g} s")}
    if answer.error:
        return {"h2": unknown(f"the TLS handshake failed: {answer.error}")}
    if answer.protocol == "h2":
        return {"h2": _extended_connect(answer)}
    chosen = answer.protocol or "none"
    return {"h2": Cell("no (no h2)", f"offered h2 and http/1.1 by ALPN, it chose {chosen}: no HTTP/2, so no "
                       "WebSocket over HTTP/2", data={"alpn": answer.protocol})}


def _extended_connect(answer: Alpn) -> Cell:
    if answer.settings_error:
        return unknown(f"it speaks h2 (ALPN chose h2), but its SETTINGS were not read: {answer.settings_error}",
                       {"alpn": "h2"})
    settings = dict(answer.settings)
    data = {"alpn": "h2", "settings": {f"0x{k:x}": v for k, v in sorted(settings.items())}}
    listed = ", ".join(f"0x{k:x}={v}" for k, v in sorted(settings.items())) or "none"
    if settings.get(ENABLE_CONNECT_PROTOCOL) == 1:
        return Cell("yes — SETTINGS_ENABLE_CONNECT_PROTOCOL=1", "ALPN chose h2 and its SETTINGS offer the extended "
                    f"CONNECT of RFC 8441 (parameters: {listed})", data=data)
    return Cell("no — h2 without SETTINGS_ENABLE_CONNECT_PROTOCOL", "ALPN chose h2 but its SETTINGS do not set "
                f"SETTINGS_ENABLE_CONNECT_PROTOCOL to 1 (parameters: {listed}): no extended CONNECT, so no "
                "WebSocket over HTTP/2", data=data)


# -- messages ---------------------------------------------------------------------------------------

def _one_message(ctx: CaseContext, data: bytes, text: bool) -> Generator[Step, object, tuple[Cell, bool]]:
    """Send one message; the cell saying what came of it, and whether the connection is still open."""
    kind = "text" if text else "binary"
    yield Send(data, text)
    answer = yield from message(ctx, ctx.answer_s)
    if isinstance(answer, tuple):
        body = joined(answer)
        if body == data:
            return Cell("yes, echoed", f"a {kind} message of {mib(len(data))} came back as sent",
                        data={"accepted": True, "echoed": True}), True
        return Cell("yes, answered", f"a {kind} message of {mib(len(data))} was answered with "
                    f"{mib(len(body))} of {answer[0].opcode}", data={"accepted": True, "echoed": False}), True
    if isinstance(answer, TimedOut):
        return Cell("yes, no answer", f"the connection stayed open; nothing came back within {ctx.answer_s:g} s",
                    data={"accepted": True, "echoed": False}), True
    return Cell(f"no — {ended(answer)}", f"after a {kind} message the endpoint {ended(answer)}",
                data={"accepted": False}), False


def messages(ctx: CaseContext) -> Case:
    """A text and a binary message: accepted, echoed, answered."""
    event = yield from connect(ctx, Open("text and binary"))
    if not isinstance(event, Opened):
        return {**not_opened(event, "text"), **not_opened(event, "binary")}
    text, still_open = yield from _one_message(ctx, "wsinspector probe ✓".encode(), True)
    if not still_open:
        event = yield from connect(ctx, Open("binary"))
        if not isinstance(event, Opened):
            return {"text": text, **not_opened(event, "binary")}
    binary, still_open = yield from _one_message(ctx, bytes(range(256)), False)
    if still_open:
        yield from goodbye(ctx)
    return {"text": text, "binary": binary}


def invalid_utf8(ctx: CaseContext) -> Case:
    """A text message that is not UTF-8 (a lone surrogate): RFC 6455 §8.1 wants the connection failed, 1007."""
    event = yield from connect(ctx, Open("invalid UTF-8"))
    if not isinstance(event, Opened):
        return not_opened(event, "utf8")
    yield Send(b"wsinspector \xed\xa0\x80 probe", True)
    answer = yield from wait_for(ctx, lambda e: isinstance(e, Received) and e.opcode in _DATA, ctx.answer_s)
    if isinstance(answer, Received):
        yield from goodbye(ctx)
        return {"utf8": Cell("accepted (answered)", "a text message with a lone surrogate was answered",
                             data={"conforms": False})}
    if isinstance(answer, TimedOut):
        yield from goodbye(ctx)
        return {"utf8": Cell("ignored", f"no close within {ctx.answer_s:g} s of a text message with a lone "
                             "surrogate", data={"conforms": False})}
    code = answer.code if isinstance(answer, Closed) else None
    return {"utf8": Cell(str(code) if code is not None else ended(answer),
                         f"after a text message with a lone surrogate the endpoint {ended(answer)}",
                         data={"code": code, "conforms": code == 1007})}


# -- fragmentation ----------------------------------------------------------------------------------

def fragments(ctx: CaseContext) -> Case:
    """A text message in three frames with pings between them; then a message of 256 KiB, to see whether
    the endpoint sends fragmented messages itself."""
    event = yield from connect(ctx, Open("fragmented message"))
    if not isinstance(event, Opened):
        return {**not_opened(event, "fragmentation"), **not_opened(event, "sends_fragmented")}
    parts = (b"wsinspector ", b"probe ", b"fragments")
    yield SendParts(parts, True, ping_between=b"probe-between")
    answer = yield from message(ctx, ctx.answer_s)
    pongs = [e for e in ctx.received if e.opcode == "pong" and e.payload == b"probe-between"]
    if isinstance(answer, tuple):
        echoed = joined(answer) == b"".join(parts)
        cell = Cell("yes, with pings between", f"3 frames with 2 pings between: {counted(len(pongs), 'pong')}, "
                    + ("the message echoed whole" if echoed else "an answer came"),
                    data={"accepted": True, "conforms": True})
    elif isinstance(answer, TimedOut):
        yield from goodbye(ctx)
        # kept open, but nothing tells whether it read the message whole: no verdict for conformance
        return {"fragmentation": Cell("yes, no answer", f"3 frames with 2 pings between: "
                                      f"{counted(len(pongs), 'pong')}; the connection stayed open",
                                      data={"accepted": True}),
                "sends_fragmented": unknown("it answers no message: nothing to see fragmented")}
    else:
        return {"fragmentation": Cell(f"no — {ended(answer)}", f"after a fragmented message the endpoint "
                                      f"{ended(answer)}", data={"accepted": False, "conforms": False}),
                "sends_fragmented": unknown("the connection ended before the test")}
    yield Send(bytes(FRAGMENT_PROBE), False)
    big = yield from message(ctx, ctx.answer_s)
    if isinstance(big, tuple):
        sends = (Cell(f"yes ({len(big)} frames)", f"a {mib(FRAGMENT_PROBE)} message came back in "
                      f"{counted(len(big), 'frame')}", data={"frames": len(big)}) if len(big) > 1 else
                 Cell("no", f"a {mib(FRAGMENT_PROBE)} message came back in one frame", data={"frames": 1}))
        yield from goodbye(ctx)
    elif isinstance(big, TimedOut):
        seen = [e for e in ctx.received if e.opcode == "continuation"]
        sends = (Cell("yes", "it sent continuation frames") if seen else
                 unknown(f"it answered no {mib(FRAGMENT_PROBE)} message, and sent no fragmented one"))
        yield from goodbye(ctx)
    else:
        sends = unknown(f"after a {mib(FRAGMENT_PROBE)} message the endpoint {ended(big)}")
    return {"fragmentation": cell, "sends_fragmented": sends}


# -- pings and pongs --------------------------------------------------------------------------------

def pings(ctx: CaseContext) -> Case:
    """Five pings with distinct payloads: answered, with which payload, how fast."""
    event = yield from connect(ctx, Open("pings"))
    if not isinstance(event, Opened):
        return not_opened(event, "pongs")
    rtts: list[float] = []
    other = 0
    for index in range(5):
        payload = f"wsinspector-probe-{index}".encode()
        sent = yield Ping(payload)
        assert isinstance(sent, float)
        answer = yield from pong(ctx, ctx.answer_s)
        if not isinstance(answer, Received):
            if not rtts and not other:
                if isinstance(answer, TimedOut):
                    yield from goodbye(ctx)
                    return {"pongs": Cell("no", f"no pong within {ctx.answer_s:g} s of a ping",
                                          data={"conforms": False})}
                return {"pongs": Cell(f"no — {ended(answer)}", f"after a ping the endpoint {ended(answer)}",
                                      data={"conforms": False})}
            break
        if answer.payload == payload:
            rtts.append((answer.at - sent) * 1000)
        else:
            other += 1
    yield from goodbye(ctx)
    stats = rtt_stats(rtts)
    if stats is None:
        return {"pongs": Cell("yes, other payload", f"{counted(other, 'pong')} with another payload than the "
                              "ping's", data={"conforms": False})}
    value = f"yes, RTT p50 {stats.p50_ms:.2f} ms"
    detail = (f"{counted(stats.count, 'pong')} with the ping's payload; RTT min {stats.min_ms:.2f}, p50 "
              f"{stats.p50_ms:.2f}, p95 {stats.p95_ms:.2f}, max {stats.max_ms:.2f} ms, jitter "
              f"{stats.jitter_ms:.2f} ms" + (f"; {other} with another payload" if other else ""))
    return {"pongs": Cell(value, detail, data={"conforms": not other, "rtt_ms": [round(r, 3) for r in rtts],
                                              "p50_ms": round(stats.p50_ms, 3)})}


def heartbeat(ctx: CaseContext) -> Case:
    """Automatic pongs off, nothing sent, for ``ctx.patience_s``: does the endpoint ping us, how often, and
    what it does when we never answer; an idle timeout shows here too."""
    event = yield from connect(ctx, Open("heartbeat (no pongs from us)", auto_pong=False))
    if not isinstance(event, Opened):
        return {**not_opened(event, "heartbeat"), **not_opened(event, "idle_timeout")}
    start = ctx.now
    seen: list[float] = []
    window = ctx.patience_s
    while True:
        answer = yield from wait_for(ctx, lambda e: isinstance(e, Received) and e.opcode == "ping",
                                     max(0.0, start + window - ctx.now))
        if isinstance(answer, Received):
            seen.append(max(0.0, answer.at - start))  # a ping read with the upgrade's answer: at the start
            continue
        break
    waited = f"{window:g} s"
    gaps = [b - a for a, b in zip([0.0, *seen], seen, strict=False)]
    if isinstance(answer, TimedOut):
        yield from goodbye(ctx)
        idle = Cell(f"none within {waited}", f"the connection stayed open {waited} without a message")
        if not seen:
            return {"heartbeat": Cell(f"none within {waited}", f"no ping came in {waited} of silence"),
                    "idle_timeout": idle}
        return {"heartbeat": Cell(f"every {max(gaps):.1f} s; unanswered: kept open",
                                  f"{counted(len(seen), 'ping')} in {waited} (at "
                                  + ", ".join(f"{t:.1f} s" for t in seen) + "), none answered, the connection "
                                  "stayed open", data={"interval_s": round(max(gaps), 2)}),
                "idle_timeout": idle}
    after = ctx.now - start
    if isinstance(answer, Closed) and answer.broke:
        heard = f"{counted(len(seen), 'ping')}, then it" if seen else "it"
        return {"heartbeat": Cell(f"no — {ended(answer)}", f"{heard} {ended(answer)} after {after:.1f} s",
                                  data={"broke": answer.broke}),
                "idle_timeout": unknown(f"the endpoint {ended(answer)}")}
    if seen:
        return {"heartbeat": Cell(f"every {max(gaps):.1f} s; unanswered: {ended(answer)} after {after:.1f} s",
                                  f"{counted(len(seen), 'ping')} unanswered, then it {ended(answer)}",
                                  data={"interval_s": round(max(gaps), 2), "closed_after_s": round(after, 2)}),
                "idle_timeout": unknown("the endpoint ended the connection for the unanswered pings")}
    return {"heartbeat": Cell(f"none; {ended(answer)} after {after:.1f} s", "no ping came before it ended"),
            "idle_timeout": Cell(f"{after:.1f} s", f"idle, the endpoint {ended(answer)} after {after:.1f} s",
                                 data={"seconds": round(after, 2)})}


# -- compression ------------------------------------------------------------------------------------

def compression(ctx: CaseContext) -> Case:
    """permessage-deflate offered (plain, then asking for server_no_context_takeover and 10 window bits):
    what it answers, and whether it compresses what it sends."""
    event = yield from connect(ctx, Open("permessage-deflate", deflate={}))
    if not isinstance(event, Opened):
        return not_opened(event, "compression")
    if not event.extensions:
        yield from goodbye(ctx)
        return {"compression": Cell("no", "permessage-deflate offered, none answered")}
    answered = event.extensions
    data = ("wsinspector probe " * 128).encode()
    yield Send(data, True)
    answer = yield from message(ctx, ctx.answer_s)
    compresses = ""
    if isinstance(answer, tuple):
        compresses = "compresses" if answer[0].compressed else "does not compress"
    yield from goodbye(ctx)
    event = yield from connect(ctx, Open("permessage-deflate with parameters",
                                         deflate={"server_no_context_takeover": True,
                                                  "server_max_window_bits": 10}))
    params = "refused the parameters"
    if isinstance(event, Opened):
        params = f"with parameters: {event.extensions or 'none answered'}"
        yield from goodbye(ctx)
    value = "yes" + (f", {compresses}" if compresses else "")
    detail = (f"a plain offer answered: {answered}; {params}"
              + (f"; it {compresses} its messages" if compresses else "; it sent no message to tell"))
    return {"compression": Cell(value, detail, data={"compresses": compresses == "compresses"})}


# -- handshake choices ------------------------------------------------------------------------------

def refused_anyway(ctx: CaseContext, without: str, plain: Open) -> Generator[Step, object, str]:
    """After an upgrade with a change was refused: the same upgrade without it (``plain``). "" when that one
    opens (the change was refused), else why nothing can be told: an endpoint refusing every upgrade says
    nothing of the change."""
    event = yield from connect(ctx, plain)
    if isinstance(event, Opened):
        yield from goodbye(ctx)
        return ""
    answer = (str(event.status) if isinstance(event, Refused) and event.status is not None
              else "no answer" if isinstance(event, TimedOut) else ended(event))
    return f"no upgrade succeeded: without {without} it was refused too ({answer})"


def subprotocols(ctx: CaseContext) -> Case:
    offered = (*ctx.subprotocols, "wsinspector.probe", "chat", "graphql-transport-ws", "mqtt", "v12.stomp")
    event = yield from connect(ctx, Open("subprotocols", subprotocols=offered))
    if isinstance(event, Opened):
        yield from goodbye(ctx)
        if event.subprotocol:
            return {"subprotocols": Cell(event.subprotocol, "offered " + ", ".join(offered),
                                         data={"picked": event.subprotocol})}
        return {"subprotocols": Cell("none picked", "offered " + ", ".join(offered) + "; none picked",
                                     data={"picked": None})}
    if isinstance(event, Refused) and event.status is not None:
        why = yield from refused_anyway(ctx, "the subprotocols the probe adds", Open("the connection's own "
                                                                                        "subprotocols"))
        if why:
            return {"subprotocols": unknown(why)}
        return {"subprotocols": Cell(f"refused the offer ({event.status})", event.message)}
    return not_opened(event, "subprotocols")


FOREIGN_ORIGIN = "https://probe.invalid"


def origin(ctx: CaseContext) -> Case:
    event = yield from connect(ctx, Open("foreign Origin", origin=FOREIGN_ORIGIN))
    if isinstance(event, Opened):
        yield from goodbye(ctx)
        return {"origin": Cell("not checked", f"Origin: {FOREIGN_ORIGIN} was accepted", data={"checked": False})}
    if isinstance(event, Refused) and event.status is not None:
        why = yield from refused_anyway(ctx, "the foreign Origin", Open("the connection's own Origin"))
        if why:
            return {"origin": unknown(why)}
        return {"origin": Cell(f"checked ({event.status})", f"Origin: {FOREIGN_ORIGIN} was refused: "
                               f"{event.message}", data={"checked": True})}
    return not_opened(event, "origin")


# -- closing ----------------------------------------------------------------------------------------

def closing(ctx: CaseContext) -> Case:
    """Close with 4000: does the endpoint echo the code; then (aggressive) with 1005, a code RFC 6455 forbids
    on the wire: 1002 is the answer it wants."""
    event = yield from connect(ctx, Open("closing with 4000"))
    if not isinstance(event, Opened):
        return not_opened(event, "closing")
    yield Close(4000, "wsinspector probe")
    answer = yield from wait_for(ctx, lambda e: False, ctx.answer_s)
    if isinstance(answer, Closed) and answer.clean:
        echo = ("echoes our code" if answer.code == 4000 else f"answers {answer.code}" if answer.code is not None
                else "answers without a code")
    else:
        echo = "does not answer" if isinstance(answer, TimedOut) else ended(answer)
    cells: Cells = {}
    data: dict[str, object] = {"conforms": echo == "echoes our code"}
    detail = f"after our close frame with 4000 it {echo}"
    if ctx.aggressive:
        event = yield from connect(ctx, Open("closing with 1005"))
        if isinstance(event, Opened):
            yield Close(1005, "")
            answer = yield from wait_for(ctx, lambda e: False, ctx.answer_s)
            invalid = ended(answer) if not isinstance(answer, TimedOut) else "does not answer"
            detail += f"; to a close frame with 1005 (forbidden on the wire) it {invalid}"
            data["invalid_code"] = invalid
            data["conforms"] = data["conforms"] and isinstance(answer, Closed) and answer.code == 1002
            echo += f"; 1005 → {invalid}"
    cells["closing"] = Cell(echo, detail, data=data)
    return cells


# -- aggressive -------------------------------------------------------------------------------------

def _try_size(ctx: CaseContext, size: int) -> Generator[Step, object, tuple[str, str]]:
    """One attempt of the size search on an open connection: ("ok", how) or ("refused", how)."""
    yield Send(bytes(size), False)
    answer = yield from message(ctx, ctx.answer_s + size / (64 * 1024 * 1024))
    if isinstance(answer, tuple):
        return "ok", "echoed"
    if isinstance(answer, TimedOut):
        return "ok", "kept open"
    if isinstance(answer, Closed):
        if answer.broke:
            return "broke", answer.broke
        if answer.code is not None:
            return "refused", str(answer.code)
        if answer.clean:
            return "refused", "closed"
        return "refused", "dropped (no close frame)"  # a TCP reset and an orderly end read alike here
    return "refused", "silence"


def size_limit(ctx: CaseContext) -> Case:
    """The largest binary message (one frame) it takes, by a search bounded in bytes and time."""
    cap = ctx.byte_cap
    budget_end = ctx.now + SIZE_TIME_S
    sent_total = 0
    accepted, refused, how_refused, how_ok = 0, 0, "", ""
    size = SIZE_START
    open_now = False
    while size and ctx.now < budget_end and sent_total + size <= 4 * cap:
        if not open_now:
            event = yield from connect(ctx, Open(f"size {size}", max_size=cap * 2))
            if not isinstance(event, Opened):
                break
            open_now = True
        result, how = yield from _try_size(ctx, size)
        sent_total += size
        if result == "broke":
            return {"size_limit": unknown(f"after a message of {mib(size)} the endpoint broke the protocol: {how}",
                                          {"accepted": accepted})}
        if result == "ok":
            accepted, how_ok = size, how
        else:
            refused, how_refused, open_now = size, how, False
        if refused == 0:
            if size >= cap:
                break
            size = min(cap, size * 4)
        elif refused / max(accepted, 1) <= SIZE_PRECISION:
            break
        else:
            size = (accepted + refused) // 2
    if open_now:
        yield from goodbye(ctx)
    return {"size_limit": _size_cell(accepted, how_ok, refused, how_refused, cap)}


def _size_cell(accepted: int, how_ok: str, refused: int, how_refused: str, cap: int) -> Cell:
    if refused == 0 and accepted == 0:
        return unknown("no attempt got through")
    if refused == 0:
        return Cell(f"≥ {mib(accepted)}", f"a message of {mib(accepted)} was taken ({how_ok}); the search stops "
                    f"at {mib(cap)}", data={"accepted": accepted})
    if accepted == 0:
        return Cell(f"< {mib(refused)} ({how_refused})", f"{mib(refused)} refused: {how_refused}",
                    data={"refused": refused, "how": how_refused})
    return Cell(f"≈ {mib(accepted)} ({how_refused})",
                f"{accepted:,} bytes taken ({how_ok}), {refused:,} refused: {how_refused}",
                data={"accepted": accepted, "refused": refused, "how": how_refused})


def flow_control(ctx: CaseContext) -> Case:
    """Our reads paused for ``FLOW_HOLD_S`` while we send up to ``byte_cap``: does the endpoint keep reading
    (its answers queue up on its side) or stop (our bytes wait unsent: TCP backpressure)."""
    event = yield from connect(ctx, Open("flow control", max_size=FLOW_MESSAGE * 2))
    if not isinstance(event, Opened):
        return not_opened(event, "flow_control")
    yield HoldReading(True)
    total = 0
    while total + FLOW_MESSAGE <= ctx.byte_cap:
        yield Send(bytes(FLOW_MESSAGE), False)
        total += FLOW_MESSAGE
    answer = yield from wait_for(ctx, lambda e: False, FLOW_HOLD_S)
    yield HoldReading(False)
    if isinstance(answer, Closed):
        return {"flow_control": Cell(f"no — {ended(answer)}", f"with our reads paused and {mib(total)} sent, it "
                                     f"{ended(answer)}")}
    assert isinstance(answer, TimedOut)
    unsent = answer.unsent
    got = yield from wait_for(ctx, lambda e: False, ctx.answer_s)
    echoed = sum(e.size for e in ctx.received if e.opcode in _DATA)
    if not isinstance(got, TimedOut):
        return {"flow_control": Cell(f"no — {ended(got)}", f"after our reads resumed it {ended(got)}")}
    yield from goodbye(ctx)
    if unsent > 0:
        value = f"backpressure ({mib(total - unsent)} read)"
        detail = (f"reads paused {FLOW_HOLD_S:g} s: of {mib(total)} sent it read {mib(total - unsent)}, then "
                  f"stopped reading; {mib(echoed)} came back once we read again")
    else:
        value = f"no backpressure within {mib(total)}"
        detail = (f"reads paused {FLOW_HOLD_S:g} s: it read all {mib(total)} we sent (its answers waited on its "
                  f"side); {mib(echoed)} came back once we read again")
    return {"flow_control": Cell(value, detail, data={"sent": total, "unsent": unsent, "echoed": echoed})}


def violations(ctx: CaseContext) -> Case:
    """Frames RFC 6455 forbids from a client: a reserved bit with no extension, a reserved opcode, a ping of
    126 bytes. Each must fail the connection (1002, or dropping it)."""
    checks: dict[str, bool | None] = {}
    answers: dict[str, str] = {}
    for name, frame in (("reserved bits", SendFrame(0x1, b"probe", rsv=0x2)),
                        ("reserved opcodes", SendFrame(0x3, b"probe")),
                        ("control frame size", SendFrame(0x9, bytes(126)))):
        event = yield from connect(ctx, Open(name))
        if not isinstance(event, Opened):
            checks[name] = None
            continue
        yield frame
        answer = yield from wait_for(ctx, lambda e: False, ctx.answer_s)
        if isinstance(answer, TimedOut):
            checks[name] = False
            answers[name] = f"kept the connection open {ctx.answer_s:g} s"
            yield from goodbye(ctx)
        else:
            # what it sent back broke the protocol (our frame echoed, say): our side refused it, not the endpoint
            checks[name] = isinstance(answer, Closed) and not answer.broke and answer.code in (1002, None)
            answers[name] = ended(answer)
    return {"violations": Cell(", ".join(f"{k}: {'yes' if v else 'unknown' if v is None else 'no'}"
                                         for k, v in checks.items()),
                               "; ".join(f"after {k} it {a}" for k, a in answers.items()),
                               data={"checks": checks, "answers": answers})}


CASES: dict[str, Callable[[CaseContext], Case]] = {
    "versions": versions, "h2": http2, "messages": messages, "fragments": fragments, "pings": pings,
    "heartbeat": heartbeat, "compression": compression, "subprotocols": subprotocols, "origin": origin,
    "closing": closing, "utf8": invalid_utf8, "size": size_limit, "flow": flow_control,
    "violations": violations,
}
DEFAULT_CASES = ("versions", "h2", "messages", "fragments", "pings", "heartbeat", "compression", "subprotocols",
                 "origin", "closing")
#: protocol violations, floods and the size search: opt-in, bounded
AGGRESSIVE_CASES = ("utf8", "size", "flow", "violations")
