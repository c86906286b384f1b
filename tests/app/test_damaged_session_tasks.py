"""Export and Save as test of a session damaged inside the file: both finish, the damaged frame is named in the
export and takes no part in the test; a test of a stored session keeps the saved connection's URL."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.damage import SECRET, column_of, recorded_file, where, write_into
from wsinspector.app.sessions import SessionsController
from wsinspector.app.tests import stored_session_test
from wsinspector.core.export import read_session
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.scenario.model import ExpectStep, TextMatcher
from wsinspector.core.store import Store, StoreError

WAIT_MS = 10_000


@pytest.fixture
def sessions(qtbot: Any, data_dir: Path) -> Iterator[tuple[SessionsController, int]]:
    """A stored session whose frame 7 (an incoming text, "frame 007 ") holds opcode 7 in the file."""
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path)
    write_into(path, where(path, column_of(path, "meta")) + 4 * 7, (0x27).to_bytes(4, "little"))
    store = Store(path)
    controller = SessionsController(store)
    yield controller, session_id
    controller.deleteLater()
    store.close()


def test_a_damaged_session_exports_whole_with_its_damaged_frame_named(
        qtbot: Any, sessions: tuple[SessionsController, int], tmp_path: Path) -> None:
    controller, session_id = sessions
    target = tmp_path / "damaged.wssession.json"
    task = controller.export_task(session_id, target)
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS):
        task.start()
    frames = json.loads(target.read_text(encoding="utf-8"))["frames"]
    assert len(frames) == 24
    assert "damaged in the file" in frames[7]["note"] and frames[7]["text"] == "frame 007 "
    assert "note" not in frames[6] and frames[6]["opcode"] == "text"
    with target.open(encoding="utf-8") as fp:
        _, read_back = read_session(fp)
        assert len(list(read_back)) == 24  # the file reads back


def test_save_as_test_leaves_the_damaged_frame_out(sessions: tuple[SessionsController, int]) -> None:
    controller, session_id = sessions
    made = stored_session_test(controller, [], session_id)
    expected = [step.matcher for step in made.test.steps if isinstance(step, ExpectStep)]
    assert TextMatcher("frame 001 ") in expected
    assert TextMatcher("frame 007 ") not in expected


def test_a_test_of_a_stored_session_connects_where_its_saved_connection_does(qtbot: Any, data_dir: Path) -> None:
    store = Store(data_dir / "wsinspector.sqlite3")
    controller = SessionsController(store)
    try:
        url = f"wss://api.example.com/feed?room=7&access_token={SECRET}"
        profile = ConnectionProfile(name="feed", endpoint=Endpoint(url.replace(SECRET, "{{token}}")),
                                    variables=(("token", SECRET),))
        session_id = store.create_session("feed", url, 0.0, 0, profile.id)  # the URL it connected to
        made = stored_session_test(controller, [profile], session_id)
        assert made.test.url == profile.url
        assert SECRET not in made.test.url
    finally:
        controller.deleteLater()
        store.close()


@pytest.mark.parametrize("seed", range(8))
def test_export_and_save_as_test_finish_over_random_bytes_in_a_chunk(qtbot: Any, data_dir: Path, tmp_path: Path,
                                                                    seed: int) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path)
    rng = random.Random(seed)
    start = where(path, column_of(path, rng.choice(["ts", "meta", "ends", "payload"])))
    for _ in range(rng.randrange(1, 10)):
        write_into(path, start + rng.randrange(0, 100), rng.randbytes(rng.randrange(1, 5)))
    try:
        store = Store(path)
    except StoreError as exc:
        assert "damaged" in str(exc) and "left untouched" in str(exc)
        return
    controller = SessionsController(store)
    try:
        target = tmp_path / "out.wssession.json"
        task = controller.export_task(session_id, target)
        with qtbot.waitSignal(task.finished, timeout=WAIT_MS):
            task.start()
        with target.open(encoding="utf-8") as fp:
            _, frames = read_session(fp)
            assert len(list(frames)) == 24
        stored_session_test(controller, [], session_id)
    finally:
        controller.deleteLater()
        store.close()
