"""Which cases a probe runs (and whether it may), what the cases cannot measure, and where probes are kept."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import urlsplit

from .cases import AGGRESSIVE_CASES, CASES, DEFAULT_CASES
from .row import ProbeResult, conformance

#: the store's setting holding the probes (JSON, newest last); no table of their own
PROBES_SETTING = "probes"
#: probes kept: the oldest go first
PROBES_KEEP = 200


class PlanError(ValueError):
    """The cases asked for cannot run: one line saying why."""


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plan(names: Iterable[str] = (), *, aggressive: bool = False, url: str = "") -> tuple[str, ...]:
    """The cases to run in order: ``names`` (all of them when empty: the polite ones, with the aggressive
    ones when ``aggressive``). An aggressive case named without ``aggressive`` runs only on a loopback
    address; elsewhere it needs the user's say-so (``--aggressive``, the page's confirmation)."""
    chosen = [name.strip() for name in names if name.strip()]
    unknown_names = [name for name in chosen if name not in CASES]
    if unknown_names:
        raise PlanError(f"unknown case {', '.join(unknown_names)}: the cases are {', '.join(CASES)}")
    if not chosen:
        chosen = list(DEFAULT_CASES) + (list(AGGRESSIVE_CASES) if aggressive else [])
    harsh = [name for name in chosen if name in AGGRESSIVE_CASES]
    if harsh and not aggressive and not is_loopback(url):
        raise PlanError(f"{', '.join(harsh)} {'is an aggressive case' if len(harsh) == 1 else 'are aggressive cases'}"
                        " (floods, protocol violations): against an address that is not loopback they run only "
                        "with --aggressive")
    return tuple(dict.fromkeys(chosen))


def finish(result: ProbeResult, codes_sent: Iterable[int] = ()) -> None:
    """What no single case measures: the conformance summary from the cells that checked it, and the close
    codes the endpoint sent in the whole probe (``codes_sent``), told in the closing column."""
    codes = sorted(set(codes_sent))
    closing = result.cells.get("closing")
    if closing is not None and closing.known:
        told = ", ".join(map(str, codes)) if codes else "none"
        result.cells["closing"] = replace(closing, detail=f"{closing.detail}; close codes it sent in the probe: "
                                          f"{told}", data={**closing.data, "codes_sent": codes})
    result.cells["conformance"] = conformance(result.cells)
    result.cells.pop("violations", None)  # in the conformance cell now: not a column of its own


def load_probes(text: str | None) -> list[ProbeResult]:
    """The kept probes from the setting's text; what does not read is left out."""
    try:
        items = json.loads(text) if text else []
    except ValueError:
        return []
    return [ProbeResult.from_json(item) for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def kept_with(text: str | None, result: ProbeResult) -> tuple[str, int]:
    """The setting's text with ``result`` added (given the next id), the oldest beyond ``PROBES_KEEP`` let go."""
    probes = load_probes(text)
    result.id = max((p.id for p in probes), default=0) + 1
    probes = [*probes, result][-PROBES_KEEP:]
    return json.dumps([p.to_json() for p in probes], ensure_ascii=False), result.id
