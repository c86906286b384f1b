"""Widgets only: they talk to app controllers, never to sockets or the store."""
