"""Saved connections organised: folders (nested, by path), the tree the connections panel shows, its search
filter, the connections of a folder, and the recently used ones.

A connection's folder is its ``folder`` setting: the folder names from the top, joined by "/" ("" is the top
level). A folder exists while a connection is in it or below it, or while it is in the list of folders the store
keeps (an empty folder the user made). Connections keep the order of the store within each folder; folders are
listed by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wsinspector.core.profiles import ConnectionProfile, ProfileError

SEPARATOR = "/"
#: the store's settings: the folders (a JSON list of paths), and when each connection was last used (a JSON
#: object of profile id to wall-clock seconds)
FOLDERS_SETTING = "connections.folders"
LAST_USED_SETTING = "connections.last_used"
#: how many connections the Recent group lists
RECENT_COUNT = 5
#: the longest folder name (characters): enough for any name a person types, short enough for the tree
NAME_MAX = 100
#: control characters (C0, DEL, C1) and the line and paragraph separators: nothing a name shows on one line
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class FolderError(ProfileError):
    """A folder name or move that cannot be; the message is meant for the user."""


def folder_name(text: str) -> str:
    """A folder's name as typed, stripped; FolderError when it cannot name a folder."""
    name = text.strip()
    if not name:
        raise FolderError("A folder needs a name")
    if SEPARATOR in name:
        raise FolderError(f"A folder name cannot contain “{SEPARATOR}”: {name!r}")
    if CONTROL.search(name):
        raise FolderError(f"A folder name is one line of text, without control characters: {name[:40]!r}")
    if len(name) > NAME_MAX:
        raise FolderError(f"A folder name can be at most {NAME_MAX} characters long (this one has {len(name)})")
    return name


def normal_path(path: str) -> str:
    """A folder path with its names stripped and empty names dropped: " a//b " → "a/b"."""
    return SEPARATOR.join(part.strip() for part in path.split(SEPARATOR) if part.strip())


def one_line(text: str) -> str:
    """``text`` with its control characters as spaces, its runs of space as one, stripped."""
    return " ".join(CONTROL.sub(" ", text).split())


def usable_name(text: str) -> str:
    """A name from another tool's file made into one a folder can have: a "/" inside it becomes "∕" (so that it
    stays one folder), control characters become spaces, runs of space one, and a name longer than
    :data:`NAME_MAX` is cut (ending "…"); "" when nothing is left."""
    name = one_line(text).replace(SEPARATOR, "\u2215")
    return name if len(name) <= NAME_MAX else name[:NAME_MAX - 1].rstrip() + "…"


def usable_names(names: Iterable[str]) -> tuple[str, ...]:
    """The folder names of a path given name by name (as another tool's collection nests them), each made
    usable; the empty ones left out: what :func:`path_of` joins, name for name."""
    return tuple(name for name in map(usable_name, names) if name)


def path_of(names: Iterable[str]) -> str:
    """The folder path of names given one by one (as another tool's collection nests them), each made usable
    (:func:`usable_name`)."""
    return SEPARATOR.join(usable_names(names))


def join(parent: str, name: str) -> str:
    return f"{parent}{SEPARATOR}{name}" if parent else name


def parent_of(path: str) -> str:
    return path.rpartition(SEPARATOR)[0]


def leaf(path: str) -> str:
    return path.rpartition(SEPARATOR)[2]


def is_within(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or a folder inside it (every path is within the top level, "")."""
    return not folder or path == folder or path.startswith(folder + SEPARATOR)


def rebase(path: str, old: str, new: str) -> str:
    """``path`` with the folder ``old`` it is within moved to ``new``; any other path as it is."""
    if not old or not is_within(path, old):
        return path
    return new + path[len(old):] if new else path[len(old) + 1:]


def ancestors(path: str) -> list[str]:
    """The folders ``path`` is in, from the top, itself included: "a/b" → ["a", "a/b"]."""
    parts = path.split(SEPARATOR) if path else []
    return [SEPARATOR.join(parts[:i]) for i in range(1, len(parts) + 1)]


def display_path(path: str) -> str:
    """For the user: "Team › Staging"; the top level is "(top level)"."""
    return " › ".join(path.split(SEPARATOR)) if path else "(top level)"


@dataclass(slots=True)
class FolderNode:
    """One folder of the tree: its folders (by name) and its connections (in the store's order)."""

    path: str = ""
    folders: list[FolderNode] = field(default_factory=list)
    profiles: list[ConnectionProfile] = field(default_factory=list)

    @property
    def name(self) -> str:
        return leaf(self.path)

    def is_empty(self) -> bool:
        return not self.folders and not self.profiles

    def walk(self) -> Iterable[FolderNode]:
        """This folder and every folder below it, depth first."""
        yield self
        for folder in self.folders:
            yield from folder.walk()

    def find(self, path: str) -> FolderNode | None:
        return next((node for node in self.walk() if node.path == path), None)

    def count(self) -> int:
        """The connections in this folder and below."""
        return sum(len(node.profiles) for node in self.walk())


def all_folders(profiles: Iterable[ConnectionProfile], folders: Iterable[str]) -> list[str]:
    """Every folder that exists: the kept ones, the connections' and all their parents; sorted by name."""
    paths: set[str] = set()
    for path in [*(normal_path(f) for f in folders), *(normal_path(p.folder) for p in profiles)]:
        paths.update(ancestors(path))
    return sorted(paths, key=_sort_key)


def _sort_key(path: str) -> list[tuple[str, str]]:
    return [(name.casefold(), name) for name in path.split(SEPARATOR)]


def build_tree(profiles: Sequence[ConnectionProfile], folders: Iterable[str] = ()) -> FolderNode:
    """The tree of folders and connections, from the top level."""
    root = FolderNode()
    nodes = {"": root}
    for path in all_folders(profiles, folders):  # sorted: a parent comes before its folders
        node = FolderNode(path)
        nodes[parent_of(path)].folders.append(node)
        nodes[path] = node
    for profile in profiles:
        nodes[normal_path(profile.folder)].profiles.append(profile)
    return root


def search_words(text: str) -> list[str]:
    return text.casefold().split()


def matches(profile: ConnectionProfile, words: Sequence[str]) -> bool:
    """Every word of the search is in the connection's name, its URL or its folder's path (any case)."""
    haystack = f"{profile.name}\n{profile.url}\n{profile.folder}".casefold()
    return all(word in haystack for word in words)


def filter_tree(root: FolderNode, text: str) -> FolderNode:
    """The tree cut down to what the search ``text`` finds: the connections that match, and the folders they
    are in, up to the top; a folder whose path matches is kept even when empty. No words: the whole tree."""
    words = search_words(text)
    if not words:
        return root
    return _filtered(root, words) or FolderNode(root.path)


def _filtered(node: FolderNode, words: Sequence[str]) -> FolderNode | None:
    folders = [kept for child in node.folders if (kept := _filtered(child, words)) is not None]
    profiles = [p for p in node.profiles if matches(p, words)]
    path = node.path.casefold()
    if folders or profiles or (node.path and all(word in path for word in words)):
        return FolderNode(node.path, folders, profiles)
    return None


def profiles_in(profiles: Iterable[ConnectionProfile], folder: str, recursive: bool = True) -> list[ConnectionProfile]:
    """The connections of ``folder`` ("" the top level) in the store's order; with ``recursive``, the ones in its
    folders too (an export of a folder)."""
    folder = normal_path(folder)
    if recursive:
        return [p for p in profiles if is_within(normal_path(p.folder), folder)]
    return [p for p in profiles if normal_path(p.folder) == folder]


class UniqueNames:
    """Names not taken yet: :meth:`take` gives the name wanted, or, once that is taken, the first of "name 2",
    "name 3", … that is not. Each in about constant time, so that thousands of connections of one name come in
    in linear time."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)
        #: for each name wanted, the number to try first
        self._next: dict[str, int] = {}

    def take(self, wanted: str) -> str:
        if wanted not in self._taken:
            self._taken.add(wanted)
            return wanted
        n = self._next.get(wanted, 2)
        while f"{wanted} {n}" in self._taken:
            n += 1
        self._next[wanted] = n + 1
        name = f"{wanted} {n}"
        self._taken.add(name)
        return name


def recent(profiles: Iterable[ConnectionProfile], last_used: Mapping[str, float],
           count: int = RECENT_COUNT) -> list[ConnectionProfile]:
    """The ``count`` connections used last, the latest first."""
    used = [p for p in profiles if p.id in last_used]
    used.sort(key=lambda p: last_used[p.id], reverse=True)
    return used[:count]


def moved_order(profiles: Sequence[ConnectionProfile], moving: Sequence[str], folder: str,
                before: str | None = None) -> list[str]:
    """The ids of all connections in their new order once ``moving`` (ids, in this order) go to ``folder``:
    just before the connection ``before`` when given (and not itself moving), else after the folder's last
    connection (at the end when it has none)."""
    moving_set = set(moving)
    rest = [p for p in profiles if p.id not in moving_set]
    index = next((i for i, p in enumerate(rest) if p.id == before), None)
    if index is None:
        in_folder = [i for i, p in enumerate(rest) if normal_path(p.folder) == folder]
        index = in_folder[-1] + 1 if in_folder else len(rest)
    known = {p.id for p in profiles}
    order = [p.id for p in rest]
    order[index:index] = [pid for pid in moving if pid in known]
    return order


# -- the store's settings ------------------------------------------------------------------------------


def folders_from_json(text: str | None) -> list[str]:
    """The kept folders a setting holds; a damaged or missing one holds none (the connections' folders still
    show)."""
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return sorted({normal_path(item) for item in data if isinstance(item, str) and normal_path(item)}, key=_sort_key)


def folders_to_json(folders: Iterable[str]) -> str:
    return json.dumps(sorted(set(folders), key=_sort_key), ensure_ascii=False)


def last_used_from_json(text: str | None) -> dict[str, float]:
    """When each connection was last used (wall-clock seconds); a damaged or missing setting: none yet."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): float(value) for key, value in data.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}


def last_used_to_json(last_used: Mapping[str, float]) -> str:
    return json.dumps(dict(last_used))
