"""wsinspector: a native desktop inspector for WebSocket endpoints."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wsinspector")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

APP_NAME = "wsinspector"
