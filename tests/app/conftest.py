"""What the app tests over a real data folder share: app contexts shut down after the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wsinspector.app.context import AppContext


@pytest.fixture
def contexts(qtbot: Any) -> Iterator[list[AppContext]]:
    """The app contexts a test starts (``stored_files.start``), shut down after it."""
    made: list[AppContext] = []
    yield made
    for context in made:
        context.shutdown()
        context.deleteLater()
