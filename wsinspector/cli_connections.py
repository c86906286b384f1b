"""``wsinspector connections``: the saved connections and their folders, headless (text or ``--json``)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsinspector.cli_output import err

if TYPE_CHECKING:
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.core.store import Store

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "connections", help="list the saved connections by folder (the window's list, headless)",
        description="List the saved connections with their folders, in the window's order. Exit status: 0 listed, "
                    "1 no connection matches, 2 the folder or the data folder cannot be used.")
    parser.add_argument("--folder", default="", metavar="PATH",
                        help='only this folder and the folders inside it ("Team/Staging")')
    parser.add_argument("--search", default="", metavar="TEXT",
                        help="only connections whose name, URL or folder holds every word (any case)")
    parser.add_argument("--recent", action="store_true", help="only the recently used ones, the latest first")
    parser.add_argument("--json", action="store_true", help="print JSON")


def list_connections(args: argparse.Namespace) -> int:
    # imported here: the window's start does not need them
    from wsinspector.app.context import DB_NAME, default_data_dir
    from wsinspector.core.store import Store, StoreError

    path = (args.data_dir or default_data_dir()) / DB_NAME
    listing: Listing = ([], [], {})
    if Path(path).is_file():
        try:
            store = Store(path)
        except StoreError as exc:
            err(str(exc))
            return EXIT_USAGE
        try:
            listing = read_listing(store)
        finally:
            store.close()
    try:
        folders, rows = listed(listing, args.folder, args.search, args.recent)
    except ValueError as exc:
        err(f"--folder: {exc}")
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"folders": folders, "connections": rows}, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            where = f"{row['folder']}/" if row["folder"] else ""
            print(f"{where}{row['name']}\t{row['url']}")
    return EXIT_OK if rows else EXIT_NOT_FOUND


#: a store's saved connections, the folders kept even while empty, and when each connection was last used
Listing = tuple[list["ConnectionProfile"], list[str], dict[str, float]]


def read_listing(store: Store) -> Listing:
    """What :func:`listed` lists, read from a store."""
    from wsinspector.core import folders as fo

    return (store.profiles(), fo.folders_from_json(store.setting(fo.FOLDERS_SETTING)),
            fo.last_used_from_json(store.setting(fo.LAST_USED_SETTING)))


def listed(listing: Listing, folder: str = "", search: str = "",
           recent: bool = False) -> tuple[list[str], list[dict[str, Any]]]:
    """The folders within ``folder`` and the connections in it (and in its folders) whose name, URL or folder
    holds every word of ``search``, in the window's order (``recent``: the recently used only, the latest
    first), each as id, name, folder, its URL redacted and when it was last used. ValueError names an unknown
    folder."""
    from wsinspector.core import folders as fo
    from wsinspector.core.redact import redact_url

    profiles, kept, last_used = listing
    folder = fo.normal_path(folder)
    folders = fo.all_folders(profiles, kept)
    if folder and folder not in folders:
        known = ", ".join(f"“{f}”" for f in folders) or "none yet"
        raise ValueError(f"there is no folder “{folder}” (the folders: {known})")
    chosen = fo.profiles_in(profiles, folder)
    if recent:
        chosen = fo.recent(chosen, last_used, count=len(chosen))
    words = fo.search_words(search)
    rows = [{"id": p.id, "name": p.name, "folder": fo.normal_path(p.folder), "url": redact_url(p.url),
             "last_used": _iso(last_used.get(p.id))} for p in chosen if fo.matches(p, words)]
    return [f for f in folders if fo.is_within(f, folder)], rows


def _iso(wall: float | None) -> str | None:
    return None if wall is None else datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")
