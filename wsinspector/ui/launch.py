"""Starting the window: the application object, logging, the main window, files to open, the smoke test."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication, QWidget

from wsinspector import APP_ID, APP_NAME, __version__
from wsinspector.app.signals import SignalWatcher
from wsinspector.ui.main_window import MainWindow, app_icon
from wsinspector.ui.window_state import app_settings, restore_geometry

if TYPE_CHECKING:
    from wsinspector.app.context import AppContext

SMOKE_SHOWN = f"{APP_NAME}: smoke test: window shown"
SMOKE_READY = f"{APP_NAME}: smoke test: window ready"
EXIT_OK = 0
EXIT_FAILED = 1
#: how long the smoke test may take before it gives up: a window that never paints is a failure, not a hang
SMOKE_DEADLINE_MS = 60_000


def paint_on_one_thread() -> None:
    """Qt's raster painting splits a fill of more than a few dozen lines (a gradient, a blend) into pieces for
    a pool of threads and waits for them: the scroll bar's groove, repainted whenever the timeline scrolls,
    is such a fill, and handing it out and waiting costs more than it saves (most of all when the cores are
    busy). The window paints on its own thread; QT_NO_GUI_THREADPOOL set by the user is left as it is."""
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def run_gui(data_dir: Path | None, files: Sequence[Path] = (), smoke_test: bool = False) -> int:
    """Open the main window (with ``files`` in it) and run until it closes. With ``smoke_test`` the window
    is shown, every page visited and checked, and the app quits on its own: 0 when all was well."""
    paint_on_one_thread()
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # the desktop entry's ID: Wayland and the dock find our icon by it
    # macOS hands files over as events, early: catch them before the loop runs. Only macOS sends them, and
    # an application-wide filter sees every event of every object: elsewhere it would only slow each one
    opener = FileOpenFilter(app) if sys.platform == "darwin" else None
    with contextlib.ExitStack() as stack:
        if smoke_test:
            _reopen_standard_streams()
        if smoke_test and data_dir is None:  # a check leaves the user's data alone
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wsinspector-smoke-")))
        return _run_window(app, data_dir, files, smoke_test, opener)


def _start_logging() -> Path:
    """Log to the platform's log folder (standard error when it cannot be made); returns the log file."""
    import platformdirs  # noqa: PLC0415  (after the first paint)

    log_dir = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    log_path = log_dir / "wsinspector.log"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=log_path, level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    except OSError:
        logging.basicConfig(level=logging.WARNING)
    return log_path


def _run_window(app: QApplication, data_dir: Path | None, files: Sequence[Path], smoke_test: bool,
                opener: FileOpenFilter | None) -> int:
    window = MainWindow()  # the frame paints first; its icon, the store and the pages follow
    settings = None if smoke_test else app_settings()  # a check leaves the user's settings alone
    if settings is not None:
        restore_geometry(window, settings)
    smoke = SmokeTest(window) if smoke_test else None
    if smoke is not None:
        smoke.finished.connect(lambda _code: app.quit())
    start = Startup(window, data_dir, files, opener, settings)
    FirstPaint(window, start.populate)
    window.show()
    watcher = SignalWatcher(app)
    watcher.received.connect(lambda _signum: app.quit())
    app.exec()
    watcher.close()
    if window.window_state is not None and not window.window_state.saved:  # quit without closing (Ctrl+C)
        window.window_state.save()
    if start.context is not None:
        start.context.shutdown()
    if smoke is not None:
        return smoke.exit_code
    return EXIT_OK


class Startup(QObject):
    """What follows the window's first paint: the window's icon, the store (``AppContext``), the pages, files
    to open, and, once the pages have painted, the echo server."""

    def __init__(self, window: MainWindow, data_dir: Path | None, files: Sequence[Path],
                 opener: FileOpenFilter | None, settings: QSettings | None = None) -> None:
        super().__init__(window)
        self._settings = settings
        self.window = window
        self.context: AppContext | None = None
        self._data_dir = data_dir
        self._files = list(files)
        self._opener = opener

    def populate(self) -> None:
        from wsinspector.app.context import AppContext  # noqa: PLC0415  (the store: after the first paint)

        window = self.window
        # the icon (the SVG icon engine, QtSvg) after the first paint too: the application's, and the window's
        icon = app_icon()
        QApplication.setWindowIcon(icon)
        window.setWindowIcon(icon)
        log_path = _start_logging()
        context = self.context = AppContext(self._data_dir, start_echo=False)
        window.populate(context)
        if self._settings is not None:
            from wsinspector.ui.window_state import WindowState  # noqa: PLC0415  (with the pages)

            window.window_state = WindowState(window, self._settings)
            window.window_state.restore()
        _install_excepthook(log_path, lambda message: window.banner.show_message(message, "error"))
        # the echo server does not delay the pages' paint
        FirstPaint(window.centralWidget(), context.start_echo_server)
        if self._opener is not None:
            self._opener.target = window.open_paths
        if self._files:
            files = self._files
            QTimer.singleShot(0, lambda: window.open_paths(files))
        if sys.stderr is not None:  # a Windows gui-script has no console
            def say_where() -> None:
                echo = context.echo_url or "not running"
                _say(f"{APP_NAME} {__version__}: data in {context.data_dir}; built-in echo server at {echo}",
                     sys.stderr)

            context.echo_started.connect(say_where)
            context.echo_failed.connect(say_where)
        # Everything built so far lives as long as the app: out of the collector's sight, a full collection
        # during a fast feed scans only what the session itself allocates.
        gc.collect()
        gc.freeze()


class FirstPaint(QObject):
    """Calls ``callback`` once ``widget`` first paints: right after that turn of the event loop, or, with
    ``at_once``, from inside the paint event (for what only reports it)."""

    def __init__(self, widget: QWidget, callback: Callable[[], object], *, at_once: bool = False) -> None:
        super().__init__(widget)
        self._callback = callback
        self._at_once = at_once
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            if self._at_once:
                self._callback()
            else:
                QTimer.singleShot(0, self._callback)
        return False


class FileOpenFilter(QObject):
    """Files the system asks us to open (macOS sends them as ``QFileOpenEvent``): kept until the window
    exists, then handed to ``target``."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._pending: list[Path] = []
        self._target: Callable[[list[Path]], None] | None = None
        app.installEventFilter(self)

    @property
    def target(self) -> Callable[[list[Path]], None] | None:
        return self._target

    @target.setter
    def target(self, target: Callable[[list[Path]], None]) -> None:
        self._target = target
        if self._pending:
            pending, self._pending = self._pending, []
            QTimer.singleShot(0, lambda: target(pending))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent) and event.file():
            path = Path(event.file())
            if self._target is None:
                self._pending.append(path)
            else:
                self._target([path])
            return True
        return False


class SmokeTest(QObject):
    """``--smoke-test``: prints that the window was shown once it has painted, then visits every page and
    checks what an installed build most often lacks (icons, the TLS library, the echo server, the pages
    loaded on first use), prints the result and closes the window.

    Signals: ``finished(int)``, the exit code (0 when all was well).
    """

    finished = Signal(int)

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.exit_code = EXIT_FAILED
        self.problems: list[str] = []
        self._shown = False
        self._pages_painted = False
        self._echo = False
        self._pages_done = False
        self._deadline = QTimer(self)
        self._deadline.setObjectName("smokeTestDeadline")
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._on_deadline)
        self._deadline.start(SMOKE_DEADLINE_MS)
        window.populated.connect(self._on_populated)
        FirstPaint(window, self._on_first_paint, at_once=True)

    def _on_first_paint(self) -> None:
        self._shown = True
        _say(SMOKE_SHOWN)

    def _on_populated(self) -> None:
        self.window.context.echo_started.connect(self._on_echo)
        self.window.context.echo_failed.connect(self._on_echo)
        FirstPaint(self.window.centralWidget(), self._on_pages_painted, at_once=True)

    def _on_pages_painted(self) -> None:
        self._pages_painted = True
        _say(SMOKE_READY)
        QTimer.singleShot(0, lambda: self._visit(0))

    def _on_echo(self) -> None:
        self._echo = True
        if self._pages_done:
            self._check()

    def _on_deadline(self) -> None:
        step = ("visiting the pages" if self._pages_painted else "waiting for the pages" if self._shown
                else "waiting for the window to be painted")
        _say(f"{APP_NAME}: smoke test: FAILED: no result after {SMOKE_DEADLINE_MS // 1000} s, {step}", sys.stderr)
        self.finished.emit(self.exit_code)

    def _visit(self, index: int) -> None:
        tabs = self.window.tabs
        if index < tabs.count():
            tabs.setCurrentIndex(index)
            QTimer.singleShot(0, lambda: self._visit(index + 1))
        else:
            self._pages_done = True
            if self._echo:  # else once it has started (after the first paint)
                self._check()

    def _check(self) -> None:
        from PySide6.QtNetwork import QSslSocket  # noqa: PLC0415  (not needed before the check)

        window = self.window
        if window.windowIcon().pixmap(32, 32).isNull():
            self.problems.append("the window icon did not load (resources or the SVG icon plugin missing)")
        if not QSslSocket.supportsSsl():
            self.problems.append("no TLS backend: wss:// would fail (OpenSSL not found)")
        if window.context.echo_url is None:
            self.problems.append("the built-in echo server did not start")
        for index in range(window.tabs.count()):
            page = window.tabs.widget(index)
            if not getattr(page, "loaded", True):
                self.problems.append(f"the {window.tabs.tabText(index)} page did not load")
        pages = ", ".join(window.tabs.tabText(i) for i in range(window.tabs.count()))
        _say(f"{APP_NAME}: smoke test: pages shown: {pages}")
        tls = QSslSocket.sslLibraryVersionString() or "none"
        _say(f"{APP_NAME}: smoke test: TLS library: {tls}; echo server: {window.context.echo_url}")
        if self.problems:
            for problem in self.problems:
                _say(f"{APP_NAME}: smoke test: FAILED: {problem}", sys.stderr)
        else:
            self.exit_code = EXIT_OK
            _say(f"{APP_NAME}: smoke test: passed")
        self._deadline.stop()
        window.close()
        self.finished.emit(self.exit_code)


def _reopen_standard_streams() -> None:
    """A windowed build (Windows) starts with no sys.stdout/sys.stderr even when whoever started it reads
    its output: for the smoke test's lines, write to the file descriptors it was handed, where they exist."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        if getattr(sys, name) is None:
            with contextlib.suppress(OSError, ValueError):
                setattr(sys, name, open(fd, "w", encoding="utf-8", errors="replace", closefd=False))  # noqa: SIM115


def _say(line: str, stream: TextIO | None = None) -> None:
    """Print a line; a console that went away (a closed pipe, no console at all) never stops the app."""
    stream = sys.stdout if stream is None else stream
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):  # BrokenPipeError; a closed file
        print(line, file=stream, flush=True)


def _install_excepthook(log_path: Path, report: Callable[[str], object]) -> None:
    """An unexpected error is logged with its traceback and reported in one line; the app keeps running."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        from wsinspector.core.secrets import SecretError  # noqa: PLC0415
        from wsinspector.core.store import StoreError  # noqa: PLC0415  (the store loads after the first paint)

        if isinstance(exc, StoreError | SecretError):
            # the store or the keyring refused to save (a damaged file, a full disk, a locked keyring): its
            # message is already the user's
            logging.getLogger(APP_NAME).warning("not saved: %s", exc)
            with contextlib.suppress(Exception):
                report(str(exc))
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        logging.getLogger(APP_NAME).error("unexpected error\n%s", text)
        with contextlib.suppress(Exception):  # the hook itself must never raise
            report(f"Unexpected error: {exc_type.__name__}: {exc}. Details in {log_path}")

    sys.excepthook = hook
