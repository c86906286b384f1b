"""Defaults the command line names in its help, kept apart so that building the parser imports nothing else."""

from __future__ import annotations

#: how long connecting, TLS and the opening handshake may take, in seconds
DEFAULT_HANDSHAKE_TIMEOUT_S = 10.0
