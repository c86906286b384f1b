"""Folders of saved connections: the tree, the search filter, a folder's connections, recently used, moves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wsinspector.core import folders as fo
from wsinspector.core.profiles import PROFILE_VERSION, ConnectionProfile, Endpoint, profile_from_dict
from wsinspector.core.store import Store


def _profile(name: str, url: str = "ws://127.0.0.1:9/", folder: str = "") -> ConnectionProfile:
    return ConnectionProfile(name=name, endpoint=Endpoint(url), folder=folder, id=name.lower().replace(" ", "-"))


def _shape(node: fo.FolderNode) -> dict[str, object]:
    """A tree as nested dicts: folder name -> its shape; connections under "*"."""
    shape: dict[str, object] = {f.name: _shape(f) for f in node.folders}
    if node.profiles:
        shape["*"] = [p.name for p in node.profiles]
    return shape


PROFILES = [
    _profile("Echo", "ws://127.0.0.1:9/echo"),
    _profile("Chat prod", "wss://chat.example.com/ws", "Team/Production"),
    _profile("Chat staging", "wss://staging.example.com/ws", "Team/Staging"),
    _profile("Feed", "wss://feed.example.com/live", "Team"),
    _profile("Quotes", "wss://quotes.example.org/v2", "Markets"),
]


def test_the_tree_nests_folders_by_name_and_keeps_the_order_of_connections() -> None:
    profiles = [*PROFILES, _profile("Alpha", folder="Team")]
    tree = fo.build_tree(profiles, ["Archive", "Team/Empty"])
    assert _shape(tree) == {
        "Archive": {},
        "Markets": {"*": ["Quotes"]},
        "Team": {"Empty": {}, "Production": {"*": ["Chat prod"]}, "Staging": {"*": ["Chat staging"]},
                 "*": ["Feed", "Alpha"]},
        "*": ["Echo"],
    }
    assert tree.find("Team/Staging") is not None and tree.find("Team").count() == 4  # type: ignore[union-attr]


def test_paths_are_normalised_and_folders_listed_with_their_parents() -> None:
    assert fo.normal_path(" Team // Staging/ ") == "Team/Staging"
    assert fo.all_folders([_profile("x", folder="b/c")], ["a", " b "]) == ["a", "b", "b/c"]
    assert fo.display_path("Team/Staging") == "Team › Staging"
    assert fo.display_path("") == "(top level)"


@pytest.mark.parametrize(("text", "message"), [("", "A folder needs a name"), ("  ", "A folder needs a name"),
                                               ("a/b", "cannot contain “/”")])
def test_a_folder_name_is_checked(text: str, message: str) -> None:
    with pytest.raises(fo.FolderError, match=message):
        fo.folder_name(text)


def test_search_finds_name_and_url_in_any_case_and_keeps_the_ancestors() -> None:
    tree = fo.build_tree(PROFILES, ["Archive"])
    assert _shape(fo.filter_tree(tree, "STAGING")) == {"Team": {"Staging": {"*": ["Chat staging"]}}}
    # by URL, deep down: the folders above stay, the others go
    assert _shape(fo.filter_tree(tree, "chat.example")) == {"Team": {"Production": {"*": ["Chat prod"]}}}
    # every word must be found, in the name, the URL or the folder
    assert _shape(fo.filter_tree(tree, "team feed")) == {"Team": {"*": ["Feed"]}}
    assert _shape(fo.filter_tree(tree, "example.org")) == {"Markets": {"*": ["Quotes"]}}
    # a folder's name finds the folder, empty or not, with what is in it
    assert _shape(fo.filter_tree(tree, "archive")) == {"Archive": {}}
    assert _shape(fo.filter_tree(tree, "production")) == {"Team": {"Production": {"*": ["Chat prod"]}}}
    assert _shape(fo.filter_tree(tree, "nothing like it")) == {}
    assert fo.filter_tree(tree, "  ") is tree


def test_a_folders_connections_recursively_for_an_export() -> None:
    assert [p.name for p in fo.profiles_in(PROFILES, "Team")] == ["Chat prod", "Chat staging", "Feed"]
    assert [p.name for p in fo.profiles_in(PROFILES, "Team", recursive=False)] == ["Feed"]
    assert [p.name for p in fo.profiles_in(PROFILES, "Team/Staging")] == ["Chat staging"]
    # a folder whose name starts like another's is not inside it
    assert fo.profiles_in([*PROFILES, _profile("Other", folder="Teamwork")], "Team")[-1].name == "Feed"
    assert len(fo.profiles_in(PROFILES, "")) == len(PROFILES)


def test_recent_lists_the_last_used_first() -> None:
    used = {"feed": 30.0, "echo": 10.0, "quotes": 20.0, "gone": 99.0}
    assert [p.name for p in fo.recent(PROFILES, used)] == ["Feed", "Quotes", "Echo"]
    assert [p.name for p in fo.recent(PROFILES, used, count=1)] == ["Feed"]


def test_moved_order_puts_connections_before_one_or_after_the_folders_last() -> None:
    ids = [p.id for p in PROFILES]
    assert fo.moved_order(PROFILES, ["echo"], "Team") == ["chat-prod", "chat-staging", "feed", "echo", "quotes"]
    assert fo.moved_order(PROFILES, ["quotes", "echo"], "Team", before="chat-staging") == \
        ["chat-prod", "quotes", "echo", "chat-staging", "feed"]
    assert fo.moved_order(PROFILES, ["echo"], "New") == [*ids[1:], "echo"]


def test_rebase_moves_a_folder_and_what_is_inside_only() -> None:
    assert fo.rebase("Team/Staging/eu", "Team/Staging", "Old") == "Old/eu"
    assert fo.rebase("Team/Staging", "Team/Staging", "") == ""
    assert fo.rebase("Team/Stagingx", "Team/Staging", "Old") == "Team/Stagingx"
    assert fo.rebase("Team/Staging/eu", "Team", "") == "Staging/eu"


def test_damaged_settings_read_as_nothing() -> None:
    assert fo.folders_from_json("not json") == []
    assert fo.folders_from_json('{"a": 1}') == []
    assert fo.folders_from_json('["b", 3, "a//c", ""]') == ["a/c", "b"]
    assert fo.last_used_from_json("[") == {}
    assert fo.last_used_from_json('{"a": 1, "b": "x", "c": true}') == {"a": 1.0}


def test_the_folder_is_kept_in_the_stored_profile(open_store: Callable[[Path], Store], db_path: Path) -> None:
    store = open_store(db_path)
    store.save_profile(_profile("Deep", folder="Team/Staging"))
    store.close()
    [profile] = open_store(db_path).profiles()
    assert profile.folder == "Team/Staging"
    # a newer version's folder of another kind is kept as it is, not read
    newer = profile_from_dict("n", {"version": PROFILE_VERSION + 1, "name": "Later", "folder": ["a", "b"]})
    assert newer.folder == "" and newer.unknown["folder"] == ["a", "b"] and newer.read_only
