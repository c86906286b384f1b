"""`wsinspector probe`: an endpoint measured headless (the comparison table's row), and the kept probes listed
and compared side by side (Markdown, CSV, JSON, MediaWiki)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from wsinspector import APP_NAME
from wsinspector.cli_output import err, run_until_done, say, stopping_when_output_gone

if TYPE_CHECKING:
    from wsinspector.core.probe.row import ProbeResult
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.core.store import Store

EXIT_OK = 0
EXIT_NO_CONNECTION = 1
EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from wsinspector.core.probe.cases import AGGRESSIVE_CASES, CASES

    parser = sub.add_parser(
        "probe", help="measure what an endpoint does (versions, messages, fragments, pongs, heartbeat, limits, "
        "compression, closing…) and print its row of the comparison table; list or compare kept probes",
        description="Runs bounded cases against the endpoint, each over connections of its own (recorded as "
        "sessions, the evidence), and prints the row. Exit status: 0 it ran, 1 no WebSocket connection could "
        "be opened, 2 usage or interrupted (Ctrl+C, or its output closed; what ran is kept).")
    parser.add_argument("target", nargs="?", metavar="URL|CONNECTION",
                        help="a ws:// or wss:// URL, or a saved connection's name or id (its TLS, proxy and auth)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="the row as JSON, with each case's timing and the "
                       "ids of the sessions holding its evidence")
    shape.add_argument("--markdown", action="store_true", help="a Markdown table")
    shape.add_argument("--wikitable", action="store_true", help="MediaWiki table syntax")
    shape.add_argument("--csv", action="store_true", help="CSV")
    parser.add_argument("--cases", default="", metavar="A,B,…",
                        help=f"the cases to run (default: all polite ones): {', '.join(CASES)}")
    parser.add_argument("--aggressive", action="store_true",
                        help=f"also run the aggressive cases ({', '.join(AGGRESSIVE_CASES)}: a bounded size "
                        "search, a flood with reads paused, protocol violations); needed for them against an "
                        "address that is not loopback")
    parser.add_argument("--name", default="", help="the row's name in tables (default: the URL)")
    parser.add_argument("--list", action="store_true", help="list the kept probes")
    parser.add_argument("--compare", nargs="*", type=int, metavar="ID",
                        help="kept probes side by side (default: the newest of each endpoint)")
    parser.add_argument("--no-record", action="store_true", help="keep neither the probe nor its sessions")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                        help="where sessions, connections and probes are kept")


def _shape(args: argparse.Namespace) -> str:
    return next((name for name in ("json", "markdown", "wikitable", "csv") if getattr(args, name)), "text")


def _table(results: list[ProbeResult], shape: str) -> str:
    from wsinspector.core.probe import row

    if shape == "json":
        return row.json_text(results)
    if shape == "text":
        return row.markdown(results)
    return row.FORMATS[shape](results)


def run_probe(args: argparse.Namespace) -> int:
    """``wsinspector probe``: headless (QCoreApplication: no display, no widgets)."""
    from wsinspector.app.context import DB_NAME, default_data_dir
    from wsinspector.core.store import Store, StoreError

    data_dir = getattr(args, "data_dir", None) or default_data_dir()
    if args.list or args.compare is not None:
        return _kept(args, data_dir / DB_NAME)
    if not args.target:
        err("probe: give a URL or a saved connection (or --list, --compare)")
        return EXIT_USAGE
    store: Store | None = None
    if not args.no_record or "://" not in args.target:
        try:
            store = Store(data_dir / DB_NAME)
        except (StoreError, OSError) as exc:
            if "://" not in args.target:
                err(f"probe: the saved connections cannot be read: {exc}")
                return EXIT_USAGE
            err(f"warning: the probe is not kept: {exc}")
    try:
        profile = _profile(args.target, store)
        if isinstance(profile, str):
            err(f"probe: {profile}")
            return EXIT_USAGE
        return _run(args, _with_defaults(profile, data_dir), None if args.no_record else store)
    finally:
        if store is not None:
            store.close()


def _with_defaults(profile: ConnectionProfile, data_dir: Path) -> ConnectionProfile:
    """The app-wide TLS and proxy defaults applied, as a connect in the window applies them."""
    from wsinspector.app.context import DB_NAME
    from wsinspector.cli_defaults import _stored
    from wsinspector.core.connection_defaults import effective
    from wsinspector.core.profiles import ProfileFormatError
    from wsinspector.core.store import StoreError

    if not (data_dir / DB_NAME).is_file():
        return profile
    try:
        defaults = _stored(data_dir, with_secrets=True)[0]
    except (ProfileFormatError, StoreError, OSError) as exc:
        err(f"warning: the app-wide connection defaults cannot be read ({exc}); the probe goes without them")
        return profile
    return profile if defaults.is_empty else effective(profile, defaults)


def _profile(target: str, store: Store | None) -> ConnectionProfile | str:
    from wsinspector.core.profiles import ConnectionProfile, Endpoint
    from wsinspector.core.store import StoreError

    if "://" in target:
        return ConnectionProfile(name=target, endpoint=Endpoint(target))
    assert store is not None
    from wsinspector.app.connections import ConnectionsController
    from wsinspector.app.secrets import open_keeper

    keeper, warning = open_keeper()
    if warning:
        err(f"warning: {warning}")
    try:
        profiles = ConnectionsController(store, secrets=keeper).profiles
    except StoreError as exc:
        return f"the saved connections cannot be read: {exc}"
    found = [p for p in profiles if target in (p.id, p.name)] or [
        p for p in profiles if p.name.casefold() == target.casefold()]
    if len(found) != 1:
        return (f"no saved connection named {target!r} (and it is not a ws:// or wss:// URL)" if not found
                else f"{len(found)} saved connections are named {target!r}: give its id")
    return found[0]


def _run(args: argparse.Namespace, profile: ConnectionProfile, store: Store | None) -> int:
    from PySide6.QtCore import QCoreApplication

    from wsinspector.app.probe import ProbeController
    from wsinspector.app.signals import SignalWatcher
    from wsinspector.core.auth import checked_target
    from wsinspector.core.probe import row
    from wsinspector.core.probe.plan import PlanError, plan
    from wsinspector.core.probe.steps import CaseContext
    from wsinspector.core.profiles import ProfileError
    from wsinspector.core.words import shortened

    try:
        checked_target(profile)
        names = plan(args.cases.split(","), aggressive=args.aggressive, url=profile.url)
    except (PlanError, ProfileError) as exc:
        err(f"probe: {exc}")
        return EXIT_USAGE
    app = QCoreApplication.instance() or QCoreApplication([APP_NAME])
    harsh = args.aggressive or any(name in ("utf8", "size", "flow", "violations") for name in names)
    saved = "://" not in args.target
    controller = ProbeController(profile, names, store=store, aggressive=harsh,
                                 ctx=CaseContext(aggressive=harsh), name=args.name or (profile.name if saved else ""),
                                 profile_id=profile.id if saved else None)
    shape = _shape(args)
    if shape == "text":
        controller.case_finished.connect(lambda name, seconds: say(f"  {name}: {seconds:.2f} s"))
    controller.finished.connect(lambda _result: app.quit())
    watcher = SignalWatcher()
    watcher.received.connect(lambda _signum: controller.cancel())
    with stopping_when_output_gone(controller.cancel):
        if shape == "text":
            say(f"Probing {shortened(controller.result.url)}: {', '.join(names)}")
        run_until_done(app, controller, watcher)
    result = controller.result
    if shape == "text":
        say(row.text_report(result), end="")
        if result.id:
            say(f"Kept as probe {result.id}; its sessions are in {store.path if store else ''}")
    elif shape == "json":
        say(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        say(_table([result], shape), end="")
    if controller.cancelled:
        err("probe: interrupted: the cases after the one running were not run")
        return EXIT_USAGE
    if not result.connected:
        err(f"probe: no WebSocket connection to {shortened(result.url)} could be opened: "
            f"{shortened(controller.first_failure or 'see the sessions')}")
        return EXIT_NO_CONNECTION
    return EXIT_OK


def _kept(args: argparse.Namespace, path: Path) -> int:
    from datetime import UTC, datetime

    from wsinspector.core.probe.plan import PROBES_SETTING, load_probes
    from wsinspector.core.store import Store, StoreError

    if not path.is_file():
        err(f"no probes kept in {path.parent}")
        return EXIT_NO_CONNECTION
    try:
        store = Store(path)
    except StoreError as exc:
        err(str(exc))
        return EXIT_USAGE
    try:
        probes = load_probes(store.setting(PROBES_SETTING))
    finally:
        store.close()
    shape = _shape(args)
    if args.list:
        if shape == "json":
            print(json.dumps([{"id": p.id, "url": p.url, "name": p.name, "started": p.started,
                               "seconds": round(p.seconds, 3), "aggressive": p.aggressive} for p in probes],
                             indent=2), flush=True)
        else:
            for p in probes:
                when = datetime.fromtimestamp(p.started, UTC).strftime("%Y-%m-%d %H:%M:%S")
                print(f"{p.id:>4}  {when}  {p.label}  ({p.seconds:.1f} s{', aggressive' if p.aggressive else ''})")
        return EXIT_OK
    by_id = {p.id: p for p in probes}
    if args.compare:
        missing = [str(i) for i in args.compare if i not in by_id]
        if missing:
            err(f"probe: no kept probe {', '.join(missing)} (see --list)")
            return EXIT_USAGE
        chosen = [by_id[i] for i in args.compare]
    else:
        newest = {p.label: p for p in probes}
        chosen = list(newest.values())
    print(_table(chosen, shape), end="", flush=True)
    return EXIT_OK
