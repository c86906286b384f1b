"""Start-up and the desktop: files opened from a file manager or the command line, About, pages built on
first use, and what the first window leaves unloaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QFileOpenEvent, QGuiApplication

import wsinspector
from tests.ui.helpers import WAIT_MS
from tests.ui.helpers_sessions import show_tab
from wsinspector.app.context import AppContext
from wsinspector.core.export import SessionInfo, write_session
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.ui.about import AboutDialog
from wsinspector.ui.launch import FileOpenFilter
from wsinspector.ui.main_window import MainWindow

TEST_FILE = """\
version: 1
name: Greeting
url: ws://127.0.0.1:9/
steps:
  - send:
      text: hello
  - expect:
      text: hello
"""


def _session_file(path: Path, name: str = "From a file") -> Path:
    frames = [Frame(seq=i, ts_ns=1_000_000 * i, direction=Direction.OUT if i % 2 == 0 else Direction.IN,
                    opcode=Opcode.TEXT, fin=True, payload=f"message {i}".encode()) for i in range(6)]
    info = SessionInfo(name=name, url="ws://127.0.0.1:9/", started_wall=1_700_000_000.0)
    with path.open("w", encoding="utf-8") as fp:
        for _ in write_session(fp, info, frames, 0):
            pass
    return path


def test_a_test_file_opens_on_the_tests_page(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "greeting.wstest.yaml"
    path.write_text(TEST_FILE, encoding="utf-8")
    window.open_paths([path])
    assert window.tabs.currentWidget() is window.tests_page
    assert window.tests_view.path == path
    assert window.tests_view.editor.name.text() == "Greeting"


def test_a_session_file_is_imported_and_shown(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    # named like any JSON file: recognised by how it starts
    path = _session_file(tmp_path / "capture.json")
    window.open_paths([path])
    qtbot.waitUntil(lambda: window.inspector.viewing_bar.isVisible(), timeout=WAIT_MS)  # noqa: PLW0108  (the tab opened later)
    assert "From a file" in window.inspector.viewing_label.text()
    assert window.inspector.model.rowCount() == 6
    assert window.tabs.currentIndex() == 0


def test_missing_and_surplus_files_are_named(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    first = tmp_path / "a.wstest.yaml"
    second = tmp_path / "b.wstest.yaml"
    for path in (first, second):
        path.write_text(TEST_FILE, encoding="utf-8")
    window.open_paths([tmp_path / "gone.wstest.yaml", first, second])
    assert window.tests_view.path == first
    assert f"Cannot open {tmp_path / 'gone.wstest.yaml'}: no such file" in window.banner.text
    assert "b.wstest.yaml not opened" in window.banner.text


def test_files_the_system_sends_as_events_are_opened(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    """macOS hands a double-clicked file to the running app as a QFileOpenEvent, possibly before the window
    exists: it is kept until then."""
    path = tmp_path / "early.wstest.yaml"
    path.write_text(TEST_FILE, encoding="utf-8")
    app = QCoreApplication.instance()
    assert app is not None
    opener = FileOpenFilter(app)
    try:
        QCoreApplication.sendEvent(app, QFileOpenEvent(str(path)))
        assert not window.tests_page.loaded
        opener.target = window.open_paths
        qtbot.waitUntil(lambda: window.tests_page.loaded and window.tests_view.path == path, timeout=WAIT_MS)
        later = tmp_path / "later.wstest.yaml"
        later.write_text(TEST_FILE.replace("Greeting", "Later"), encoding="utf-8")
        QCoreApplication.sendEvent(app, QFileOpenEvent(str(later)))
        assert window.tests_view.path == later
    finally:
        app.removeEventFilter(opener)
        opener.deleteLater()


def test_about_says_what_runs_and_copies_it(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    window.show_about()
    qtbot.waitUntil(lambda: window.findChild(AboutDialog, "aboutDialog") is not None, timeout=WAIT_MS)
    dialog = window.findChild(AboutDialog, "aboutDialog")
    text = dialog.label.text()
    # where this run keeps secrets, not only what the build could use (the suite keeps them in memory)
    assert "Secret Service" in text and "memory, only while wsinspector runs" in text
    assert f"wsinspector {wsinspector.__version__}" in text
    assert "6.11.2" in text and "MIT" in text and str(context.data_dir) in text
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied.splitlines()[0] == f"wsinspector {wsinspector.__version__}"
    assert f"Data folder: {context.data_dir}" in copied
    assert f"Secrets kept in: {context.secrets.where}" in copied
    dialog.close()


def test_the_health_page_shows_what_came_before_it_was_first_opened(qtbot: Any, window: MainWindow) -> None:
    page = window.graph
    assert not page.loaded
    page.add_rtts([0.5, 1.0, 1.5], [2.0, 3.0, 4.0])
    page.add_marker(1.2, "disconnect", "lost")
    page.add_rates(1.0, 10.0, 5.0, 1000.0, 500.0)
    show_tab(qtbot, window, "Health")
    assert page.loaded
    graph = page.content()
    assert graph.sample_count == 3  # type: ignore[attr-defined]
    assert [kind for _, kind, _ in graph.markers()] == ["disconnect"]  # type: ignore[attr-defined]
    page.add_rtts([2.0], [5.0])  # once built, straight through
    assert graph.sample_count == 4  # type: ignore[attr-defined]


def test_the_first_window_leaves_the_heavy_parts_unloaded(tmp_path: Path) -> None:
    """The graph library, numpy, YAML, the Tests page and the WebSocket library load when first needed,
    not before the first window is shown; opening the pages loads them."""
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from PySide6.QtWidgets import QApplication
        from wsinspector.app import context as context_module
        from wsinspector.app.context import AppContext
        from wsinspector.ui.main_window import MainWindow
        # numpy is preloaded on purpose a second after start-up: on a loaded machine the first window can take
        # longer than that, so the preload is put off here; what is asked is what the window itself loads
        context_module.PRELOAD_AFTER_MS = 600_000
        app = QApplication([])
        context = AppContext(Path(sys.argv[1]))
        window = MainWindow(context)
        window.show()
        app.processEvents()
        heavy = ("pyqtgraph", "numpy", "yaml", "websockets", "wsinspector.ui.tests_view", "wsinspector.core.scenario",
                 "mcp", "qasync", "wsinspector.mcp_server")
        print(" ".join(name for name in heavy if name in sys.modules) or "-")
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            app.processEvents()
        print(" ".join(name for name in heavy if name in sys.modules) or "-")
        window.close()
        context.shutdown()
    """)
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    at_start, after_pages = result.stdout.splitlines()
    assert at_start == "-"
    assert set(after_pages.split()) >= {"pyqtgraph", "numpy", "yaml", "wsinspector.ui.tests_view"}
