"""``wsinspector probe``: a real subprocess probing a `websockets` peer this test process serves on 127.0.0.1; the
row as JSON, the kept probes listed and compared, the exit codes."""

from __future__ import annotations

import json
import signal
import socket

from tests.probe_peers import silent_after_upgrade
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake
from wsinspector.core.store import Store


def test_probe_command_prints_the_row_keeps_it_and_compares(cli, peer, tmp_path):
    url = peer()
    data = tmp_path / "data"
    ran = cli("probe", url, "--json", "--cases", "messages,pings", "--data-dir", str(data))
    assert ran.returncode == 0, ran.output
    row = json.loads(ran.stdout)
    assert row["columns"]["text"]["value"] == "yes, echoed"
    assert [case["name"] for case in row["cases"]] == ["messages", "pings"]
    assert all(case["seconds"] > 0 and case["sessions"] for case in row["cases"])
    assert row["columns"]["pongs"]["sessions"] == row["cases"][1]["sessions"]

    listed = cli("probe", "--list", "--data-dir", str(data))
    assert listed.returncode == 0 and url in listed.stdout
    wiki = cli("probe", "--compare", str(row["id"]), "--wikitable", "--data-dir", str(data))
    assert wiki.stdout.startswith('{| class="wikitable sortable"') and "\n| yes, echoed\n" in wiki.stdout
    csv = cli("probe", "--compare", "--csv", "--data-dir", str(data))
    assert csv.stdout.splitlines()[0].startswith("Endpoint,Protocol versions,")


def test_probe_command_exit_codes(cli, tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = str(tmp_path / "data")
    refused = cli("probe", f"ws://127.0.0.1:{port}/", "--json", "--data-dir", data)
    assert refused.returncode == 1 and "nothing is listening on that port" in refused.stderr
    row = json.loads(refused.stdout)  # the cases after the first are not run: they could only fail alike
    assert row["connected"] is False and len(row["cases"]) == 10
    assert {case.get("stopped") for case in row["cases"][1:]} == {"not run: no connection could be opened"}
    malformed = cli("probe", "ws://", "--data-dir", data)
    assert malformed.returncode == 2 and malformed.stderr.strip() == "wsinspector: probe: The URL has no host"
    harsh = cli("probe", "ws://probe.invalid/", "--cases", "size", "--data-dir", data)
    assert harsh.returncode == 2 and "--aggressive" in harsh.stderr and "Traceback" not in harsh.stderr
    unknown = cli("probe", "ws://127.0.0.1:1/", "--cases", "nope", "--data-dir", data)
    assert unknown.returncode == 2 and "unknown case nope" in unknown.stderr


def test_probe_command_uses_a_saved_connection_by_name(cli, websockets_server, tmp_path):
    peer = websockets_server(subprotocols=["chat.v2"])
    data = tmp_path / "data"
    data.mkdir()
    store = Store(data / "wsinspector.sqlite3")
    store.save_profile(ConnectionProfile(name="Chat server", endpoint=Endpoint(peer.url),
                                         handshake=Handshake(subprotocols=("chat.v2",))))
    store.close()
    ran = cli("probe", "Chat server", "--cases", "subprotocols", "--markdown", "--data-dir", str(data))
    assert ran.returncode == 0, ran.output
    # the connection's own subprotocol offered first, and picked; the row named after the connection
    assert "| Chat server |" in ran.stdout and "| chat.v2 |" in ran.stdout
    missing = cli("probe", "No such server", "--data-dir", str(data))
    assert missing.returncode == 2 and "no saved connection named 'No such server'" in missing.stderr


def test_ctrl_c_stops_the_probe_and_keeps_what_ran(cli, hostile, tmp_path):
    url = hostile(silent_after_upgrade)  # answers nothing: the messages case waits for its answers
    data = str(tmp_path / "data")
    proc, out, err = cli.start("probe", url, "--cases", "versions,messages,pings", "--data-dir", data)
    cli.qtbot.waitUntil(lambda: "  versions: " in out.read_text("utf-8"), timeout=30_000)
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out, err)
    assert result.returncode == 2 and "probe: interrupted" in result.stderr
    assert "cases: versions " in result.stdout and "messages " in result.stdout
    assert "(the probe was cancelled)" in result.stdout and "pings" not in result.stdout.split("cases:")[1]
    listed = cli("probe", "--list", "--data-dir", data)
    assert url in listed.stdout  # what ran is kept
