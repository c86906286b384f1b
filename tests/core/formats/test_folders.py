"""Collection folders on disk: an OpenCollection folder (``opencollection.yml`` beside one YAML file per request,
as usebruno/bruno packages/bruno-filestore/src/formats/yml writes them) and a folder that is no collection."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsinspector.core.formats import ImportFormatError, import_path


def test_an_opencollection_folder_gives_its_websocket_requests_with_their_folders(tmp_path: Path) -> None:
    root = tmp_path / "realtime"
    (root / "streams").mkdir(parents=True)
    (root / "opencollection.yml").write_text("opencollection: 1.0.0\ninfo:\n  name: realtime\n")
    (root / "streams" / "socket.yml").write_text(
        "info:\n  name: Socket\n  type: websocket\n  seq: 1\nwebsocket:\n  url: ws://localhost:8080\n"
        "  message:\n    type: text\n    data: hello\n")
    (root / "health.yml").write_text("info:\n  name: Health\n  type: http\n  seq: 2\nhttp:\n  method: get\n"
                                     "  url: https://example.test/health\n")
    result = import_path(root)
    [imported] = result.connections
    assert (imported.profile.name, imported.folder) == ("Socket", ("realtime", "streams"))
    assert imported.profile.messages == (("Message 1", "text", "hello"),)
    assert result.warnings == ("1 request of other kinds left out",)


def test_a_broken_request_in_a_folder_is_named_with_its_file_and_the_others_come_in(tmp_path: Path) -> None:
    (tmp_path / "bad.bru").write_text("meta {\n  name: x\n  type: ws\n}\n")
    (tmp_path / "latin1.bru").write_bytes("meta {\n  name: caf\xe9\n  type: ws\n}\n".encode("latin-1"))
    (tmp_path / "good.bru").write_text("meta {\n  name: good\n  type: ws\n}\nws {\n  url: ws://h/g\n}\n")
    result = import_path(tmp_path)
    assert [c.profile.name for c in result.connections] == ["good"]
    assert result.errors == ("Bruno request (.bru) bad.bru: the ws block (with the url) is missing",
                             "latin1.bru: not UTF-8 text")


def test_a_folder_of_another_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="only Postman, Bruno and OpenCollection collections are folders"):
        import_path(tmp_path, "har")
