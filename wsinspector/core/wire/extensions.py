"""The negotiated extensions as a user reads them: as the answer's ``Sec-WebSocket-Extensions`` header would put
them, whichever side we are."""

from __future__ import annotations

from websockets.extensions.permessage_deflate import PerMessageDeflate

__all__ = ["describe_extensions"]


def describe_extensions(extensions: list[object], server: bool = False) -> str:
    """The negotiated extensions as the response header would put them (``server``: ours is the server's
    side, so the server's parameters are the local ones)."""
    parts = []
    for ext in extensions:
        if isinstance(ext, PerMessageDeflate):
            params = ["permessage-deflate"]
            server_nct, client_nct = ext.remote_no_context_takeover, ext.local_no_context_takeover
            server_bits, client_bits = ext.remote_max_window_bits, ext.local_max_window_bits
            if server:
                server_nct, client_nct = client_nct, server_nct
                server_bits, client_bits = client_bits, server_bits
            if server_nct:
                params.append("server_no_context_takeover")
            if client_nct:
                params.append("client_no_context_takeover")
            params.append(f"server_max_window_bits={server_bits}")
            params.append(f"client_max_window_bits={client_bits}")
            parts.append("; ".join(params))
        else:
            parts.append(getattr(ext, "name", type(ext).__name__))
    return ", ".join(parts)
