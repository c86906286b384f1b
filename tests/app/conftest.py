"""What the app tests over a real data folder share: app contexts shut down after the test, a store, and
recording proxies stopped after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wsinspector.app.context import AppContext
from wsinspector.app.proxy_server import ProxyController
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.proxy.breakpoints import BreakRule
from wsinspector.core.store import Store


@pytest.fixture
def contexts(qtbot: Any) -> Iterator[list[AppContext]]:
    """The app contexts a test starts (``stored_files.start``), shut down after it."""
    made: list[AppContext] = []
    yield made
    for context in made:
        context.shutdown()
        context.deleteLater()


@pytest.fixture
def proxies(qtbot: Any) -> Iterator[Callable[..., tuple[ProxyController, str]]]:
    """``proxies(upstream_url, profile=None, rules=(), store=None)``: a listening proxy and its URL; each is
    stopped (and its clients' sessions saved) after the test."""
    made: list[ProxyController] = []

    def start(url: str, profile: ConnectionProfile | None = None, rules: list[BreakRule] | None = None,
              store: Store | None = None, **kwargs: Any) -> tuple[ProxyController, str]:
        controller = ProxyController(url, profile or ConnectionProfile(name=""), rules or [], store, **kwargs)
        made.append(controller)
        return controller, controller.listen("127.0.0.1", 0)

    yield start
    for controller in made:
        if controller.clients or controller.listening:
            with qtbot.waitSignal(controller.stopped, timeout=5000):
                controller.stop()
        controller.deleteLater()
