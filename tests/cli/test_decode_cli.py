"""``wsinspector decode`` as a script runs it: frames on standard input, JSON lines out, exit codes; and decoder
packages installed beside wsinspector, found through their entry points (tests/decoder_example, the package
docs/decoders.md describes, and tests/decoder_broken, whose decoders fail)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}


def decode(*args: str, lines: str | bytes, site: Path | None = None) -> tuple[int, list[dict], str]:
    env = dict(ENV)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "wsinspector", "decode", *args],
                            input=lines.encode() if isinstance(lines, str) else lines, capture_output=True,
                            env=env, timeout=60)
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    return result.returncode, out, result.stderr.decode()


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two decoder packages, pip-installed (built from their pyproject.toml with the setuptools of the test
    tools) into a folder put on the path of the decode command: importlib.metadata reads their entry points from
    the .dist-info pip writes."""
    root = tmp_path_factory.mktemp("decoder-packages")
    site = root / "site"
    sources = [shutil.copytree(TESTS / name, root / name) for name in ("decoder_example", "decoder_broken")]
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             "--no-deps", "--no-build-isolation", "--target", str(site), *map(str, sources)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pip could not install the example decoder packages:\n{result.stderr}"
    return site


def test_a_session_of_socket_io_frames_is_detected_and_each_line_printed_as_json():
    lines = ('0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}\n'
             '> 40\n'
             '40{"sid":"s1"}\n'
             '> 451-["upload",{"_placeholder":true,"num":0}]\n'
             '> hex:00ff10\n'
             '\n'
             '< 42["chat","hi"]\n'
             '<base64:AQID\n')
    status, out, err = decode(lines=lines)
    assert status == 0, err
    assert [item["protocol"] for item in out] == ["socket.io"] * 7
    assert [item["summary"] for item in out] == [
        "OPEN sid=abc pingInterval=25000", "CONNECT /", 'CONNECT / {"sid":"s1"}',
        'EVENT upload [{"_placeholder":true,"num":0}] (+1 binary)', "ATTACHMENT 1/1 of EVENT upload (3 bytes)",
        'EVENT chat ["hi"]', "MESSAGE binary (3 bytes)"]
    assert [item["line"] for item in out] == [1, 2, 3, 4, 5, 7, 8]
    assert [item["direction"] for item in out] == ["in", "out", "in", "out", "out", "in", "in"]
    assert out[4]["kind"] == "binary" and out[4]["fields"]["event"] == "upload"
    assert out[5]["tree"]["socketio"]["args"] == ["hi"]


def test_a_json_line_gives_a_text_frame_with_line_breaks_and_the_subprotocol_chooses_the_decoder():
    status, out, _ = decode("--subprotocol", "v12.stomp",
                            lines='> json:"SUBSCRIBE\\nid:0\\ndestination:/topic/prices\\n\\n\\u0000"\n')
    assert status == 0
    assert out[0]["protocol"] == "stomp" and out[0]["summary"] == "SUBSCRIBE /topic/prices id=0"
    status, out, _ = decode("--url", "wss://example.com/socket/websocket?token=x&vsn=2.0.0",
                            lines='["1","1","room:lobby","phx_join",{}]\n')
    assert out[0]["protocol"] == "phoenix"


def test_a_line_that_does_not_decode_is_said_in_its_json_and_the_exit_status_is_1():
    status, out, err = decode("--protocol", "mqtt", lines="hex:3005\nhex:zz\n")
    assert status == 1
    assert out[0] == {"line": 1, "direction": "in", "kind": "binary", "protocol": "mqtt",
                      "summary": "PUBLISH continues in the next frame (2 of 7 bytes)",
                      "fields": {}, "tree": {"version": "3.1.1", "packets": [],
                                             "unfinished": {"type": "PUBLISH", "have": 2, "total": 7}}}
    assert out[1]["protocol"] is None and out[1]["error"].startswith("the hex: payload cannot be read")
    assert "Traceback" not in err
    status, out, _ = decode(lines="just words\n")
    assert status == 1 and out == [{"line": 1, "direction": "in", "kind": "text", "protocol": None,
                                    "error": "no decoder recognises this frame"}]


@pytest.mark.parametrize(("args", "message"), [
    (["--protocol", "smoke-signals"], "no decoder is called 'smoke-signals': choose one of socket.io, graphql"),
    (["--protocol", "protobuf", "--option", "schema"], "--option 'schema': write KEY=VALUE"),
    (["--protocol", "protobuf", "--option", "message=a.B"], "the protobuf decoder needs both descriptors="),
    (["--protocol", "json", "--option", "a=b"], "the json decoder takes no options (given: a)"),
], ids=["unknown-protocol", "option-syntax", "protobuf-half-schema", "options-for-json"])
def test_usage_errors_exit_2_with_one_line(args, message):
    status, out, err = decode(*args, lines="{}\n")
    assert status == 2 and out == []
    assert err.startswith(f"wsinspector: decode: {message}") and err.count("\n") == 1


def test_a_decoder_package_registers_through_its_entry_point_like_the_built_in_ones(plugin_site: Path):
    listed = subprocess.run([sys.executable, "-m", "wsinspector", "decode", "--list"], capture_output=True,
                            text=True, env={**ENV, "PYTHONPATH": str(plugin_site)}, timeout=60).stdout
    assert "kv\tKey=value pairs\twsinspector-kv-decoder: kv = wsinspector_kv_decoder:KeyValueDecoder" in listed
    assert "socket.io\tSocket.IO\twsinspector: socket.io" in listed
    status, out, _ = decode("--subprotocol", "kv.v1", lines="op=move;x=3;y=4\n", site=plugin_site)
    assert status == 0
    assert out[0]["protocol"] == "kv" and out[0]["tree"] == {"op": "move", "x": "3", "y": "4"}
    # without the package, the name is unknown
    status, _, err = decode("--protocol", "kv", lines="op=move\n")
    assert status == 2 and "no decoder is called 'kv'" in err


def test_a_broken_decoder_package_is_named_once_and_the_other_decoders_go_on(plugin_site: Path):
    lines = "!one\n!two\n!three\n"
    status, out, err = decode(lines=lines, site=plugin_site)
    assert status == 1
    assert [item["error"] for item in out] == [
        "the decoder failed (KeyError: '!one')", "the decoder failed (KeyError: '!two')",
        "the decoder failed (KeyError: '!three')"]
    assert err.splitlines() == [
        "wsinspector: decode: decoder 'unloadable' from wsinspector-broken-decoders could not be loaded: "
        "ModuleNotFoundError: No module named 'wsinspector_broken_decoders.missing'",
        "wsinspector: decode: decoder 'crashing' (wsinspector-broken-decoders: crashing = "
        "wsinspector_broken_decoders:CrashingDecoder) failed: KeyError: '!one'"]
    status, out, err = decode(lines='42["chat","hi"]\n', site=plugin_site)
    assert status == 0 and out[0]["summary"] == 'EVENT chat ["hi"]'
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_a_filter_prints_only_the_matching_messages_and_still_the_ones_that_do_not_decode():
    lines = '42["chat","hi"]\n42["typing"]\n> 42["chat",{"user":"ann"}]\n9oops\n'
    status, out, _ = decode("--filter", "event=chat", lines=lines)
    assert [item["line"] for item in out] == [1, 3, 4] and status == 1
    assert "error" in out[2]
    status, out, _ = decode("--filter", "event=chat", "--filter", '$.socketio.args[0].user = "ann"',
                            lines=lines[:-6])
    assert [item["line"] for item in out] == [3] and status == 0
    status, out, err = decode("--filter", "chat", lines=lines)
    assert status == 2 and out == []
    assert err.startswith("wsinspector: decode: --filter: 'chat' is not a decoded filter: write field=value")
