"""wsinspector: a native desktop inspector for WebSocket endpoints."""

#: the one place the version is written (pyproject.toml reads it from here)
__version__ = "0.1.0"

APP_NAME = "wsinspector"
#: reverse-DNS application ID: desktop entry, AppStream metainfo, macOS bundle identifier
APP_ID = "io.github.wsinspector.wsinspector"
