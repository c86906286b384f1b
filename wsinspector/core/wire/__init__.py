"""The sans-I/O WebSocket core for both roles: bytes in, frames and events out, bytes to send.

:class:`~wsinspector.core.wire.engine.WireEngine` makes every protocol decision; an I/O layer (``net``) only
moves bytes, keeps time and arms timers at the deadlines the engine names.
"""
