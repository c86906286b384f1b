"""``wsinspector export TEST_FILE|SESSION --format k6|artillery``: a test file, or a stored session (by id, name or
"last", made a test as Save as test makes it), as a load test for an engine that scales past one machine
(core/loadtest), its secrets as environment variables.

Exit codes: 0 written; 1 no such session; 2 a usage error, a test file or session that cannot be read, or an
output file that cannot be written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wsinspector.cli_output import err

if TYPE_CHECKING:
    from wsinspector.core.loadtest import LoadPlan

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
#: what names a test file rather than a session, when no such file exists (its error is then the file's)
_TEST_SUFFIXES = (".yaml", ".yml")
#: the formats ``export`` writes a test file in
LOAD_TEST_FORMATS = ("k6", "artillery")


def add_export_options(exporter: argparse.ArgumentParser) -> None:
    """The options of ``export`` that a load test export reads (``--format`` says which export it is)."""
    exporter.add_argument("--vus", type=int, default=None, metavar="N",
                          help="k6 / artillery: virtual users (default 10)")
    exporter.add_argument("--duration", default=None, metavar="D",
                          help="k6 / artillery: how long the load lasts: 30s, 2m, 1h30m (default 30s)")
    exporter.add_argument("-o", "--output-file", dest="output_file", type=Path, default=None, metavar="FILE",
                          help="k6 / artillery: the file to write (default: standard output)")


def export_load_test(args: argparse.Namespace) -> int:
    """Write the test file or stored session ``args.output`` (the positional argument) as ``args.format``: a
    file when it exists (or is named like a test file), else a session."""
    from wsinspector.core.loadtest import (
        DEFAULT_DURATION_S,
        DEFAULT_VUS,
        LoadOptions,
        LoadTestError,
        artillery_scenario,
        k6_script,
        parse_duration,
    )

    source: Path = args.output
    try:
        duration = parse_duration(args.duration) if args.duration is not None else DEFAULT_DURATION_S
        options = LoadOptions(vus=args.vus if args.vus is not None else DEFAULT_VUS, duration_s=duration)
    except LoadTestError as exc:
        err(f"export: {exc}")
        return EXIT_USAGE
    is_file = source.exists() or source.suffix.lower() in _TEST_SUFFIXES
    plan = _file_plan(source) if is_file else _session_plan(args, str(source))
    if isinstance(plan, int):
        return plan
    text = k6_script(plan, options) if args.format == "k6" else artillery_scenario(plan, options)
    output: Path | None = args.output_file
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(f".{output.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, output)
    except OSError as exc:
        err(f"cannot write {output}: {exc.strerror or exc}")
        return EXIT_USAGE
    secrets = ", ".join(env for _name, env in plan.from_env)
    print(f"Wrote {output} ({args.format}: {options.vus} virtual users, {options.duration_s} s)"
          + (f"; set {secrets} in the environment" if secrets else ""))
    return EXIT_OK


def _file_plan(source: Path) -> LoadPlan | int:
    """The plan of the test file ``source``, or the exit status once why it cannot be read is said."""
    from wsinspector.core.loadtest import load_plan
    from wsinspector.core.scenario.yaml_io import ScenarioFileError, read_test

    try:
        return load_plan(read_test(source, check_url=False))
    except ScenarioFileError as exc:
        err(f"{source}: {exc}")
    except OSError as exc:
        err(f"cannot read {source}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        err(f"{source}: not a test file (not UTF-8 text)")
    return EXIT_USAGE


def _session_plan(args: argparse.Namespace, name: str) -> LoadPlan | int:
    """The plan of the stored session ``name`` (id, name or "last") with its saved connection's headers and
    secret marks, or the exit status once why there is none is said."""
    from wsinspector.app.connections import ConnectionsController
    from wsinspector.app.secrets import open_keeper
    from wsinspector.app.sessions import SessionsController
    from wsinspector.app.tests import SessionTestError, stored_session_plan
    from wsinspector.cli_sessions import find_session
    from wsinspector.cli_store import open_sessions_store
    from wsinspector.core.store import StoreError

    if args.connection or args.folder is not None or args.frames:
        err("export: --connection, --folder and --frames do not go with a load test")
        return EXIT_USAGE
    store = open_sessions_store(args)
    if isinstance(store, int):
        return store
    try:
        found = find_session(store, name)
        if isinstance(found, str):
            err(f"export: {found}; nor is there a test file {name}")
            return EXIT_NOT_FOUND
        # the saved connection's secrets are read only to know them for what they are: none is written out
        keeper, warning = open_keeper()
        if warning:
            err(f"warning: {warning}")
        profiles = ConnectionsController(store, secrets=keeper).profiles
        return stored_session_plan(SessionsController(store), profiles, found.id)
    except (SessionTestError, StoreError) as exc:
        err(f"export: {exc}")
        return EXIT_USAGE
    finally:
        store.close()
