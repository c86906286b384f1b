"""``wsinspector import``, ``import-command`` and ``export`` as a script or CI runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.core.formats.conftest import SAMPLES
from wsinspector.core.store import Store


def _saved(data_dir: Path) -> dict[str, object]:
    store = Store(data_dir / "wsinspector.sqlite3")
    try:
        return {p.name: p for p in store.profiles()}
    finally:
        store.close()


def test_import_adds_the_connections_and_says_what_it_left_out(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("import", "--data-dir", str(data), str(SAMPLES / "insomnia-v4.json"), str(SAMPLES / "chrome.har"))
    assert result.returncode == 0, result.output
    assert "Imported 1 connection from" in result.stdout
    assert "+ Ticker stream  wss://stream.example.com/v2/ticker?depth=10  [Market data], 1 saved message" \
        in result.stdout
    assert "! environment Staging left out" in result.stdout
    saved = _saved(data)
    assert set(saved) == {"Ticker stream", "app.example.com/socket"}
    assert saved["app.example.com/socket"].messages[0] == ("Sent 1", "text", '{"op":"auth","id":1}')  # type: ignore[attr-defined]
    assert saved["Ticker stream"].folder == "Market data"  # type: ignore[attr-defined]


def test_a_bad_file_is_named_in_one_line_and_the_others_are_imported(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"_type": "export", "__export_format": 4, "resources": [{"_id": "ws-req_1", '
                      '"_type": "websocket_request", "name": "x"}]}')
    data = tmp_path / "data"
    result = cli("import", "--data-dir", str(data), str(broken), str(SAMPLES / "bruno" / "market" / "ticker.bru"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"wsinspector: {broken}: Insomnia export: resources[0].url is missing"
    assert "Traceback" not in result.output
    assert set(_saved(data)) == {"Ticker stream"}


def test_dry_run_with_json_saves_nothing(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("import", "--data-dir", str(data), "--dry-run", "--json", str(SAMPLES / "postman" / "chat"))
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["imported"] == 2
    ticker = next(c for c in report["files"][0]["connections"] if c["name"] == "ticker")
    assert ticker["secret_variables"] == ["session_token"] and ticker["messages"] == 2
    assert not (data / "wsinspector.sqlite3").exists()


def test_import_command_and_a_command_that_is_not_one(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("import-command", "--data-dir", str(data), "websocat -H 'X-Team: blue' -k wss://ws.example.com/feed")
    assert result.returncode == 0, result.output
    profile = _saved(data)["ws.example.com/feed"]
    assert profile.handshake.headers == (("X-Team", "blue"),)  # type: ignore[attr-defined]
    assert profile.tls.verify is False  # type: ignore[attr-defined]
    bad = cli("import-command", "--data-dir", str(data), "ssh example.com")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "wsinspector: Command line: 'ssh' is not websocat, wscat or curl"


def test_export_leaves_secrets_out_and_imports_back(cli: Cli, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli("import", "--data-dir", str(first), str(SAMPLES / "insomnia-v4.json")).returncode == 0
    out = tmp_path / "out" / "connections.json"
    result = cli("export", "--data-dir", str(first), str(out), "--json")
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout)["connections"] == ["Ticker stream"]
    assert "tok-live-8f2a" not in out.read_text()
    back = cli("import", "--data-dir", str(second), str(out))
    assert back.returncode == 0, back.output
    assert "fill in token (left out when it was exported)" in back.stdout
    before, after = _saved(first)["Ticker stream"], _saved(second)["Ticker stream"]
    assert after.handshake == before.handshake  # type: ignore[attr-defined]
    assert after.messages == before.messages  # type: ignore[attr-defined]
    assert dict(after.variables) == {**dict(before.variables), "token": ""}  # type: ignore[attr-defined]


def test_export_of_an_unknown_connection_and_an_unwritable_file(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("export", "--data-dir", str(data), str(tmp_path / "x.json"), "--connection", "Nope")
    assert (result.returncode, result.stderr.strip()) == (2, "wsinspector: export: no saved connection named 'Nope'")
    (tmp_path / "dir.json").mkdir()
    result = cli("export", "--data-dir", str(data), str(tmp_path / "dir.json"))
    assert result.returncode == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.output


def test_export_of_a_folder_and_an_unknown_folder(cli: Cli, tmp_path: Path) -> None:
    from wsinspector.core.profiles import ConnectionProfile, Endpoint

    data = tmp_path / "data"
    data.mkdir()
    store = Store(data / "wsinspector.sqlite3")
    for name, folder in (("Orders", "Acme"), ("Quotes", "Acme/Markets"), ("Elsewhere", "")):
        store.save_profile(ConnectionProfile(name=name, endpoint=Endpoint(f"wss://{name.lower()}.example/ws"),
                                             folder=folder))
    store.close()
    out = tmp_path / "acme.json"
    result = cli("export", "--data-dir", str(data), "--folder", "Acme", "--json", str(out))
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout)["connections"] == ["Orders", "Quotes"]
    back = cli("import", "--data-dir", str(tmp_path / "other"), "--json", str(out))
    assert back.returncode == 0, back.output
    assert {p.name: p.folder for p in _saved(tmp_path / "other").values()} == {  # type: ignore[attr-defined]
        "Orders": "Acme", "Quotes": "Acme/Markets"}
    missing = cli("export", "--data-dir", str(data), "--folder", "Nowhere", str(out))
    assert missing.returncode == 2
    assert "there is no folder “Nowhere” (the folders: Acme, Acme/Markets)" in missing.stderr


def test_import_command_without_a_keyring_names_each_secret_it_cannot_keep(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("import-command", "--data-dir", str(data),
                 'websocat -H "Authorization: Bearer SUPERSECRET123" '
                 '"wss://example.com/ws?token=QTOKENSECRET&room=1&apikey=APIKSECRET"',
                 env={"WSINSPECTOR_KEYRING": None})  # keyring's placeholder answers: no keyring
    assert result.returncode == 0, result.output
    # the keyring is said to be missing once, in words for the user, without a stray log line
    assert result.stderr.count("No usable keyring") == 1, result.stderr
    assert "no usable keyring:" not in result.stderr and "placeholder" not in result.stderr
    assert "wss://example.com/ws?token=REDACTED&room=1&apikey=REDACTED" in result.stdout
    assert "kept in the secret variables token, apikey" in result.stdout
    for needed in ("the header Authorization: set WSINSPECTOR_SECRET_HEADER_AUTHORIZATION",
                   "the variable token: set WSINSPECTOR_SECRET_TOKEN",
                   "the variable apikey: set WSINSPECTOR_SECRET_APIKEY"):
        assert needed in result.stdout
    raw = b"".join(path.read_bytes() for path in data.glob("wsinspector.sqlite3*"))
    assert b"example.com/ws" in raw
    for secret in (b"SUPERSECRET123", b"QTOKENSECRET", b"APIKSECRET"):
        assert secret not in raw
    listed = cli("connections", "--data-dir", str(data), "--search", "QTOKENSECRET")
    assert "example.com" not in listed.stdout


def test_an_entry_whose_url_does_not_parse_is_one_line_and_the_others_are_imported(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("import-command", "--data-dir", str(data), "websocat ws://[::1")
    assert result.returncode == 1
    assert result.stderr.strip() == ("wsinspector: Command line (websocat): 'ws://[::1' is not a valid URL: The URL "
                                     "is malformed: Invalid IPv6 URL")
    assert "Traceback" not in result.output
    as_json = cli("import-command", "--data-dir", str(data), "--json", "websocat ws://[::1")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["refused"] == 1
    entries = [{"_resourceType": "websocket", "request": {"url": url, "headers": []}}
               for url in ("wss://[::1/ws", "wss://good.example.com/ws")]
    har = tmp_path / "v6.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    result = cli("import", "--data-dir", str(data), str(har))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"wsinspector: {har}: HAR file: log.entries[0]: 'wss://[::1/ws' is not a valid "
                                     "URL: The URL is malformed: Invalid IPv6 URL")
    assert "+ good.example.com/ws  wss://good.example.com/ws" in result.stdout
    assert set(_saved(data)) == {"good.example.com/ws"}


def test_the_report_shows_folders_as_stored(cli: Cli, tmp_path: Path) -> None:
    entries = [{"folder": ["", "a/b", ".."], "profile": {"name": "b", "endpoint": {"url": "ws://h/x"}}},
               {"folder": ["   "], "profile": {"name": "c", "endpoint": {"url": "ws://h/y"}}}]
    file = tmp_path / "weird.json"
    file.write_text(json.dumps({"format": "wsinspector-connections", "version": 1, "connections": entries}))
    data = tmp_path / "data"
    result = cli("import", "--data-dir", str(data), str(file))
    assert result.returncode == 0, result.output
    assert "  + b  ws://h/x  [a\u2215b / ..]" in result.stdout
    assert "  + c  ws://h/y\n" in result.stdout
    saved = _saved(data)
    assert (saved["b"].folder, saved["c"].folder) == ("a\u2215b/..", "")  # type: ignore[attr-defined]


def test_the_command_line_offers_every_import_format() -> None:
    from wsinspector.cli_transfer import FORMAT_NAMES
    from wsinspector.core.formats import FORMATS

    assert tuple(FORMATS) == FORMAT_NAMES
