"""Reading a large test file: what ``wsinspector run`` and the Tests page do before the first step.

A recorded session turned into a test file can be tens of megabytes: a send and an expect per message. The file
is written by the app (``dump``), then read back (``read_test``) in interleaved rounds: as the app reads it, on
libyaml's parser, and, as the baseline, on PyYAML's own parser in Python (what the app used before, and still
uses where PyYAML was built without libyaml). Both must give the same test. Prints, last, the app's reading
time as a ratio of the baseline's (goal: well under 1x).

    .venv/bin/python bench/test_file.py [--messages 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import median

from wsinspector.core.scenario import yaml_io
from wsinspector.core.scenario.model import ExpectStep, Scenario, SendStep, TextMatcher, TextPayload


def recorded(messages: int) -> Scenario:
    """A test as recording a JSON echo gives: each message sent after its recorded gap, then its echo expected."""
    steps: list[SendStep | ExpectStep] = []
    for seq in range(messages):
        text = json.dumps({"seq": seq, "user": f"user-{seq % 97}", "body": "lorem ipsum " * (1 + seq % 30)})
        steps += (SendStep(TextPayload(text), delay_s=0.001 * (seq % 7)), ExpectStep(TextMatcher(text)))
    return Scenario(name="recorded", url="ws://127.0.0.1:9/", steps=tuple(steps))


def read_s(path: Path, loader: type) -> tuple[float, Scenario]:
    saved = yaml_io._Loader
    yaml_io._Loader = loader
    try:
        start = time.perf_counter()
        test = yaml_io.read_test(path)
        return time.perf_counter() - start, test
    finally:
        yaml_io._Loader = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not yaml_io.LIBYAML:
        print("PyYAML was built without libyaml here: the app reads test files on PyYAML's parser, 1.00x")
        return
    test = recorded(args.messages)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recorded.wstest.yaml"
        yaml_io.write_test(path, test)
        size_mb = path.stat().st_size / 1e6
        app: list[float] = []
        base: list[float] = []
        for _ in range(args.rounds):
            took, read = read_s(path, yaml_io._CLoader)
            assert read == test, "libyaml's parser read the file differently"
            app.append(took)
            took, read = read_s(path, yaml_io._PyLoader)
            assert read == test, "PyYAML's parser read the file differently"
            base.append(took)
    print(f"test file of {len(test.steps):,} steps, {size_mb:.1f} MB, {args.rounds} interleaved rounds")
    print(f"  PyYAML's parser (baseline): {median(base):6.2f} s ({size_mb / median(base):5.2f} MB/s)")
    print(f"  libyaml's parser (the app): {median(app):6.2f} s ({size_mb / median(app):5.2f} MB/s)")
    print(f"reading a test file: app / PyYAML's parser {median(app) / median(base):.2f}x (goal well under 1x)")


if __name__ == "__main__":
    main()
