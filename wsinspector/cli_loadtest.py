"""``wsinspector export TEST_FILE --format k6|artillery``: a test file as a load test for an engine that scales
past one machine (core/loadtest), its secrets as environment variables.

Exit codes: 0 written; 2 a usage error, a test file that cannot be read, or an output file that cannot be
written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from wsinspector import APP_NAME

EXIT_OK = 0
EXIT_USAGE = 2
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


def _err(message: str) -> None:
    from wsinspector.cli import printable

    print(printable(f"{APP_NAME}: {message}"), file=sys.stderr, flush=True)


def export_load_test(args: argparse.Namespace) -> int:
    """Write the test file ``args.output`` (the positional argument) as ``args.format``."""
    from wsinspector.core.loadtest import (
        DEFAULT_DURATION_S,
        DEFAULT_VUS,
        LoadOptions,
        LoadTestError,
        artillery_scenario,
        k6_script,
        load_plan,
        parse_duration,
    )
    from wsinspector.core.scenario.yaml_io import ScenarioFileError, read_test

    source: Path = args.output
    try:
        duration = parse_duration(args.duration) if args.duration is not None else DEFAULT_DURATION_S
        options = LoadOptions(vus=args.vus if args.vus is not None else DEFAULT_VUS, duration_s=duration)
    except LoadTestError as exc:
        _err(f"export: {exc}")
        return EXIT_USAGE
    try:
        test = read_test(source, check_url=False)
    except ScenarioFileError as exc:
        _err(f"{source}: {exc}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"cannot read {source}: {exc.strerror or exc}")
        return EXIT_USAGE
    except UnicodeDecodeError:
        _err(f"{source}: not a test file (not UTF-8 text)")
        return EXIT_USAGE
    plan = load_plan(test)
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
        _err(f"cannot write {output}: {exc.strerror or exc}")
        return EXIT_USAGE
    secrets = ", ".join(env for _name, env in plan.from_env)
    print(f"Wrote {output} ({args.format}: {options.vus} virtual users, {options.duration_s} s)"
          + (f"; set {secrets} in the environment" if secrets else ""))
    return EXIT_OK
