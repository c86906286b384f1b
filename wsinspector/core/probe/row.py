"""A probe's result as the comparison table's row: the columns, the row's JSON form (what the store keeps),
and the tables of several rows side by side (Markdown, CSV, JSON, MediaWiki)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wsinspector.core.words import shortened

from .steps import Cell, unknown

#: (key, heading) in the table's order
COLUMNS: tuple[tuple[str, str], ...] = (
    ("versions", "Protocol versions"),
    ("h2", "WebSocket over HTTP/2"),
    ("text", "Text messages"),
    ("binary", "Binary messages"),
    ("utf8", "Invalid UTF-8"),
    ("fragmentation", "Fragmented messages"),
    ("sends_fragmented", "Sends fragmented"),
    ("pongs", "Automatic pongs"),
    ("heartbeat", "Heartbeat pings"),
    ("size_limit", "Message size limit"),
    ("compression", "permessage-deflate"),
    ("subprotocols", "Subprotocol picked"),
    ("origin", "Origin"),
    ("closing", "Closing"),
    ("idle_timeout", "Idle timeout"),
    ("flow_control", "Flow control"),
    ("conformance", "Conformance subset"),
)
HEADINGS = dict(COLUMNS)
#: the case that measures each column (its name for ``--cases``)
MEASURED_BY = {"versions": "versions", "h2": "h2", "text": "messages", "binary": "messages",
               "utf8": "utf8", "fragmentation": "fragments", "sends_fragmented": "fragments", "pongs": "pings",
               "heartbeat": "heartbeat", "idle_timeout": "heartbeat", "size_limit": "size",
               "compression": "compression", "subprotocols": "subprotocols", "origin": "origin",
               "closing": "closing", "flow_control": "flow", "conformance": "violations"}


@dataclass(frozen=True, slots=True)
class CaseTiming:
    name: str
    seconds: float
    sessions: tuple[int, ...]
    #: why it ended early (its time was up, the probe was cancelled), else empty
    stopped: str = ""


@dataclass(slots=True)
class ProbeResult:
    """One probe of one endpoint: its cells by column, each case's timing and evidence sessions."""

    url: str
    started: float  # wall-clock seconds
    aggressive: bool = False
    name: str = ""
    cells: dict[str, Cell] = field(default_factory=dict)
    cases: list[CaseTiming] = field(default_factory=list)
    seconds: float = 0.0
    #: a WebSocket connection opened at least once
    connected: bool = False
    id: int = 0

    def cell(self, key: str) -> Cell:
        """A column's cell; one the probe did not run says so."""
        if key in self.cells:
            return self.cells[key]
        case = MEASURED_BY.get(key, key)
        return unknown(f"not probed (the {case} case did not run)")

    @property
    def label(self) -> str:
        return self.name or self.url

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "url": self.url, "name": self.name, "started": self.started,
            "aggressive": self.aggressive, "seconds": round(self.seconds, 3), "connected": self.connected,
            "columns": {key: {"value": c.value, "detail": c.detail, "known": c.known, "sessions": list(c.sessions),
                              **({"data": dict(c.data)} if c.data else {})} for key, c in self.cells.items()},
            "cases": [{"name": t.name, "seconds": round(t.seconds, 3), "sessions": list(t.sessions),
                       **({"stopped": t.stopped} if t.stopped else {})} for t in self.cases],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ProbeResult:
        """The stored form read back; what does not read is left at its default (a damaged row stays a row)."""
        columns = data.get("columns")
        cells: dict[str, Cell] = {}
        if isinstance(columns, dict):
            for key, value in columns.items():
                if isinstance(value, dict):
                    sessions = value.get("sessions")
                    extra = value.get("data")
                    cells[str(key)] = Cell(str(value.get("value", "")), str(value.get("detail", "")),
                                           bool(value.get("known", True)),
                                           tuple(s for s in sessions if isinstance(s, int))
                                           if isinstance(sessions, list) else (),
                                           extra if isinstance(extra, dict) else {})
        cases: list[CaseTiming] = []
        raw_cases = data.get("cases")
        for item in raw_cases if isinstance(raw_cases, list) else []:
            if isinstance(item, dict):
                sessions = item.get("sessions")
                cases.append(CaseTiming(str(item.get("name", "")), _number(item.get("seconds")),
                                        tuple(s for s in sessions if isinstance(s, int))
                                        if isinstance(sessions, list) else (), str(item.get("stopped", ""))))
        ident = data.get("id")
        return cls(url=str(data.get("url", "")), started=_number(data.get("started")),
                   aggressive=bool(data.get("aggressive")), name=str(data.get("name", "")), cells=cells,
                   cases=cases, seconds=_number(data.get("seconds")), connected=bool(data.get("connected")),
                   id=ident if isinstance(ident, int) else 0)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def conformance(cells: Mapping[str, Cell]) -> Cell:
    """The conformance subset from the cells that measured it: each check yes, no or unknown, with evidence."""
    checks: list[tuple[str, bool | None]] = []
    hows: dict[str, str] = {}  # what the endpoint did instead, for a check it failed
    sessions: list[int] = []
    for key, name in (("fragmentation", "framing (fragments, control frames between)"), ("pongs", "ping/pong"),
                      ("utf8", "UTF-8 (1007)"), ("closing", "close (echoes the code)"),
                      ("versions", "unsupported version answered with the list")):
        cell = cells.get(key)
        verdict = cell.data.get("conforms") if cell is not None and cell.known else None
        checks.append((name, verdict if isinstance(verdict, bool) else None))
        if cell is not None:
            sessions.extend(cell.sessions)
    violations = cells.get("violations")
    raw = violations.data.get("checks") if violations is not None else None
    answers = violations.data.get("answers") if violations is not None else None
    for name, verdict in (raw.items() if isinstance(raw, dict) else ()):
        checks.append((f"{name} refused", verdict if isinstance(verdict, bool) else None))
        how = answers.get(name) if isinstance(answers, dict) else None
        if verdict is False and isinstance(how, str):
            hows[f"{name} refused"] = how
    if violations is not None:
        sessions.extend(violations.sessions)
    decided = [v for _, v in checks if v is not None]
    if not decided:
        return unknown("no check ran (run the aggressive cases for the protocol violations)")
    detail = "; ".join(f"{name}: " + ("yes" if v else "unknown" if v is None
                                      else f"no ({hows[name]})" if name in hows else "no") for name, v in checks)
    return Cell(f"{sum(decided)}/{len(decided)} yes", detail, sessions=tuple(dict.fromkeys(sessions)),
                data={"checks": {name: v for name, v in checks}})


# -- tables -----------------------------------------------------------------------------------------

def _heads(columns: Sequence[str]) -> list[str]:
    return ["Endpoint", *(HEADINGS.get(key, key) for key in columns)]


def _values(result: ProbeResult, columns: Sequence[str]) -> list[str]:
    return [result.label, *(result.cell(key).value for key in columns)]


def markdown(results: Iterable[ProbeResult], columns: Sequence[str] = tuple(HEADINGS)) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(_heads(columns)) + " |", "|" + "---|" * (len(columns) + 1)]
    lines += ["| " + " | ".join(esc(v) for v in _values(r, columns)) + " |" for r in results]
    return "\n".join(lines) + "\n"


def csv_text(results: Iterable[ProbeResult], columns: Sequence[str] = tuple(HEADINGS)) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_heads(columns))
    for result in results:
        writer.writerow(_values(result, columns))
    return out.getvalue()


def json_text(results: Iterable[ProbeResult]) -> str:
    return json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False) + "\n"


def wikitable(results: Iterable[ProbeResult], columns: Sequence[str] = tuple(HEADINGS)) -> str:
    """MediaWiki table syntax, sortable, as the original comparison table is written: a cell the probe could
    not decide is marked ``{{unknown}}``-style in words, never coloured as a yes."""
    def esc(text: str) -> str:
        return text.replace("|", "&#124;").replace("\n", " ")

    lines = ['{| class="wikitable sortable"', "|-", *("! " + esc(h) for h in _heads(columns))]
    for result in results:
        lines.append("|-")
        lines.append("! " + esc(result.label))
        lines += ["| " + esc(result.cell(key).value) for key in columns]
    lines.append("|}")
    return "\n".join(lines) + "\n"


FORMATS = {"markdown": markdown, "csv": csv_text, "wikitable": wikitable}


def text_report(result: ProbeResult) -> str:
    """The row for a terminal: a line per column (value, then the evidence), then each case's timing."""
    width = max(len(h) for h in HEADINGS.values())
    lines = [f"{shortened(result.label)}  ({result.seconds:.1f} s{', aggressive' if result.aggressive else ''})"]
    for key, heading in COLUMNS:
        cell = result.cell(key)
        lines.append(f"  {heading:<{width}}  {shortened(cell.value)}")
        if cell.detail and cell.detail != cell.value and cell.known:
            lines.append(f"  {'':<{width}}    {shortened(cell.detail)}")
        if cell.sessions:
            lines.append(f"  {'':<{width}}    sessions " + ", ".join(map(str, cell.sessions)))
    lines.append("  cases: " + ", ".join(f"{t.name} {t.seconds:.2f} s" + (f" ({t.stopped})" if t.stopped else "")
                                         for t in result.cases))
    return "\n".join(lines) + "\n"
