"""What ``wsinspector proxy`` prints while it runs: the proxy's lines as text, or with ``--json`` one JSON object a
line (``event`` and its fields, the names ``serve --json`` uses where they mean the same). Secrets are left out of
both alike: the fields come from the same place as the text (``ProxiedClient.told``), masked the same way."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from wsinspector.cli_output import say

if TYPE_CHECKING:
    from wsinspector.app.proxy import ProxiedClient
    from wsinspector.app.proxy_server import ProxyController
    from wsinspector.core.proxy.breakpoints import Held


class ProxyStatus:
    """Prints the proxy's status lines (text, or JSON objects with ``--json``) and counts its clients."""

    def __init__(self, controller: ProxyController, as_json: bool, previews: bool = False) -> None:
        self.as_json = as_json
        #: the clients that connected
        self.clients = 0
        self._previews = previews
        controller.client_added.connect(self._client)
        if as_json:
            controller.paused.connect(self._paused)
        else:
            controller.said.connect(self._said)

    def line(self, event: str, text: str, **fields: object) -> None:
        """One status line: ``text`` (none when empty), or ``{"event": event, **fields}``."""
        from wsinspector.cli import printable  # noqa: PLC0415 (cli imports every command's module)

        if self.as_json:
            say(json.dumps({"event": event, **fields}, ensure_ascii=False))
        elif text:
            say(printable(text))

    def _said(self, text: str) -> None:
        self.line("", text)

    def _client(self, client: ProxiedClient) -> None:
        self.clients += 1
        if self.as_json:
            self.line("connected", "", peer=client.peer)
            client.told.connect(self._told)
        client.finished.connect(lambda: self._finished(client))

    def _told(self, event: str, fields: dict[str, Any]) -> None:
        self.line(event, "", **fields)

    def _paused(self, client: ProxiedClient, held: Held) -> None:
        if held.rule is None:
            return  # waiting behind a paused one: not paused by a rule of its own
        fields: dict[str, object] = {
            "peer": client.peer, "id": held.id, "direction": held.direction.value, "rule": held.rule.describe(),
            "opcode": held.opcode.name.lower(), "length": len(held.payload)}
        if self._previews:  # asked about: what the text prompt shows of it
            fields["preview"] = (held.payload[:120].decode("utf-8", "replace") if held.opcode.name == "TEXT"
                                 else held.payload[:32].hex(" "))
        self.line("paused", "", **fields, session=client.recorded)

    def _finished(self, client: ProxiedClient) -> None:
        if client.recorded:
            self.line("recorded", f"{client.peer}: recorded as session {client.recorded}", peer=client.peer,
                      session=client.recorded)
