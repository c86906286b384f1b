"""core/loadtest: what the k6 and Artillery exports of a test say, secrets kept out, limits named."""

from __future__ import annotations

import yaml

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.loadtest import (
    LoadOptions,
    LoadTestError,
    artillery_scenario,
    k6_script,
    load_plan,
    parse_duration,
    plan_from_session,
)
from wsinspector.core.scenario.yaml_io import load

SECRET_TEST = """
version: 1
name: With secrets
url: wss://api.example.com/live?access_token=tok-1234567890&room=7
headers:
  X-Api-Key: key-abcdefghij
  X-Trace: on
variables:
  password: hunter2-long-secret
steps:
  - send:
      json: {op: login, password: '{{password}}'}
  - expect:
      regex: '(?P<word>ok)\\s+(?P=word)'
  - expect:
      opcode: ping
  - send:
      binary: 0102
"""


def _both(text: str) -> tuple[str, str]:
    plan = load_plan(load(text))
    options = LoadOptions(vus=4, duration_s=90)
    return k6_script(plan, options), artillery_scenario(plan, options)


def test_secret_values_become_environment_variables_in_both_exports() -> None:
    for export in _both(SECRET_TEST):
        for value in ("tok-1234567890", "key-abcdefghij", "hunter2-long-secret"):
            assert value not in export
        assert "ACCESS_TOKEN" in export and "X_API_KEY" in export and "PASSWORD" in export
    k6, artillery = _both(SECRET_TEST)
    assert '"access_token": "ACCESS_TOKEN"' in k6
    assert "{{ $processEnvironment.X_API_KEY }}" in artillery
    assert "X-Trace: 'on'" in artillery


def test_what_artillery_cannot_express_is_named_at_the_top() -> None:
    _k6, artillery = _both(SECRET_TEST)
    header = artillery.split("config:")[0]
    assert "steps[2] expect opcode: Artillery does not see ping frames; step left out" in header
    assert "steps[3] send binary: Artillery's ws engine sends text only; this binary message is left out" in header
    document = yaml.safe_load(artillery)
    flow = document["scenarios"][0]["flow"]
    assert document["scenarios"][0]["engine"] == "ws"
    assert list(flow[0]) == ["connect"]
    # the login and the regular expression that checks its answer, in JavaScript's syntax
    assert flow[1]["send"]["capture"] == [{"regexp": "(?<word>ok)\\s+\\k<word>", "as": "_matched"}]
    assert document["config"]["phases"] == [{"duration": 90, "arrivalCount": 4}]


def test_k6_keeps_what_it_can_express_and_names_python_only_syntax() -> None:
    plan = load_plan(load(SECRET_TEST.replace("(?P<word>ok)", "(?i)(?P<word>ok)")))
    k6 = k6_script(plan, LoadOptions())
    assert '"expect": {"opcode": "ping"}' in k6
    assert '"hex": "0102"' in k6
    assert "uses Python syntax JavaScript does not have" in k6.split("import")[0]


def test_a_recorded_session_exports_as_its_test_would() -> None:
    frames = [(1_000_000_000, Direction.OUT, Opcode.TEXT, b'{"op":"hi","token":"s3cr3t-token-value"}'),
              (1_200_000_000, Direction.IN, Opcode.TEXT, b"welcome"),
              (1_300_000_000, Direction.IN, Opcode.PING, b"")]
    plan = plan_from_session(frames, "Recorded", "ws://127.0.0.1:1/feed", started_ns=0,
                             headers=[("Authorization", "Bearer abcdefghijkl")])
    artillery = artillery_scenario(plan, LoadOptions(vus=1, duration_s=1))
    for value in ("s3cr3t-token-value", "abcdefghijkl"):
        assert value not in artillery
    flow = yaml.safe_load(artillery)["scenarios"][0]["flow"]
    assert flow[1] == {"think": 1.0}
    assert flow[2]["send"]["payload"] == {"op": "hi", "token": "{{ $processEnvironment.TOKEN }}"}
    assert flow[2]["send"]["match"][0]["value"] == "welcome"


def test_durations_and_bad_options() -> None:
    assert [parse_duration(text) for text in ("45", "45s", "2m", "1h30m")] == [45, 45, 120, 5400]
    for bad in ("", "soon", "2 weeks"):
        try:
            parse_duration(bad)
        except LoadTestError as exc:
            assert "is not a duration" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was read as a duration")
