"""No secret of a connection reaches a log line, the database file, a session export or a test file made by
Save as test: headers and variables marked secret whatever their names, a proxy password, a passphrase."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wsinspector.app.context import DB_NAME, AppContext
from wsinspector.app.tests import live_session_test, stored_session_test
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake, Tls
from wsinspector.core.scenario.yaml_io import write_test

WAIT_MS = 10_000
PROOF = "proof-5e1f0a9c"
PIN = "pin-83b2d7e4"
PASSPHRASE = "phrase-c0ffee12"


@pytest.fixture
def context(qtbot: Any, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir)
    yield ctx
    ctx.shutdown()
    ctx.deleteLater()


def test_secrets_stay_out_of_logs_files_exports_and_tests(qtbot: Any, context: AppContext, data_dir: Path,
                                                          tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert context.echo_url is not None
    # names that do not look secret: only the user's marks make them so
    profile = context.connections.save(ConnectionProfile(
        name="Marked", endpoint=Endpoint(context.echo_url + "?client={{pin}}"),
        handshake=Handshake(headers=(("X-Client-Proof", PROOF),), secret_headers=("X-Client-Proof",)),
        variables=(("pin", PIN),), secret_variables=("pin",), tls=Tls(passphrase=PASSPHRASE)))
    controller = context.session
    with qtbot.waitSignal(controller.opened, timeout=WAIT_MS):
        assert controller.connect_to(profile)
    controller.send(b"hello", True)
    qtbot.waitUntil(lambda: len(controller.log) == 2, timeout=WAIT_MS)

    live = live_session_test(controller)
    live_file = tmp_path / "live.wstest.yaml"
    write_test(live_file, live.test)
    assert dict(live.secrets) and set(dict(live.secrets).values()) == {PROOF, PIN}  # handed back apart

    session_id = controller.session_id
    assert session_id is not None
    with qtbot.waitSignal(controller.session_saved, timeout=WAIT_MS):
        controller.disconnect()
    stored = stored_session_test(context.sessions, context.connections.profiles, session_id)
    stored_file = tmp_path / "stored.wstest.yaml"
    write_test(stored_file, stored.test)
    export = tmp_path / "session.wssession.json"
    task = context.sessions.export_task(session_id, export)
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS):
        task.start()
    context.shutdown()

    written = {"the live test": live_file.read_bytes(), "the stored session's test": stored_file.read_bytes(),
               "the export": export.read_bytes(), "the log": caplog.text.encode(),
               "the database": b"".join(p.read_bytes() for p in data_dir.glob(f"{DB_NAME}*") if p.is_file())}
    assert b"X-Client-Proof" in written["the live test"] and b"hello" in written["the export"]
    assert b"?client={{pin}}" in written["the stored session's test"]  # the saved connection's URL, as written
    assert b"?client=REDACTED" in written["the database"]
    for where, data in written.items():
        for secret in (PROOF, PIN, PASSPHRASE):
            assert secret.encode() not in data, f"{secret} in {where}"
