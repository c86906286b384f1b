"""Tokens clients send as subprotocols (a browser can set no Authorization header) are kept out of what is
recorded, and ordinary subprotocol lists are left as they are."""

from __future__ import annotations

import pytest

from wsinspector.core.handshake import Handshake
from wsinspector.core.redact import redact_subprotocols, subprotocol_secrets

JWT_LIKE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"


@pytest.mark.parametrize(("offered", "kept"), [
    ("access_token, eyJraWQ", "access_token, REDACTED"),
    ("Authorization, abc123, chat", "Authorization, REDACTED, chat"),
    ("base64url.bearer.authorization.k8s.io.dG9rZW4, v4.channel.k8s.io",
     "base64url.bearer.authorization.k8s.io.REDACTED, v4.channel.k8s.io"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln, graphql-ws", "REDACTED, graphql-ws"),
    ("graphql-transport-ws, graphql-ws", "graphql-transport-ws, graphql-ws"),
    ("v2.chat, mqtt", "v2.chat, mqtt"),
], ids=["after-access_token", "after-Authorization", "k8s-bearer-prefix", "jwt", "graphql", "plain"])
def test_credentials_offered_as_subprotocols_are_redacted(offered: str, kept: str) -> None:
    assert redact_subprotocols(offered) == kept


def test_a_kept_handshake_holds_no_subprotocol_token() -> None:
    handshake = Handshake(url="ws://h/", request_line="GET / HTTP/1.1",
                          request_headers=(("Sec-WebSocket-Protocol", "access_token, tok-5e1"),),
                          response_headers=(("Sec-WebSocket-Protocol", "access_token"),), status=101)
    kept = handshake.without_secrets(())
    assert "tok-5e1" not in kept.to_json()
    assert kept.request_headers == (("Sec-WebSocket-Protocol", "access_token, REDACTED"),)


def test_the_credentials_among_offered_subprotocols_are_named_for_masking_one_quoted_alone() -> None:
    offered = ("chat", "access_token", "tok-123", "base64url.bearer.authorization.k8s.io.k8s-tok", JWT_LIKE)
    assert subprotocol_secrets(offered) == {"tok-123", "k8s-tok", JWT_LIKE}
    assert subprotocol_secrets(("chat", "v2.json")) == set()
