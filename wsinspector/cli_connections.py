"""``wsinspector connections``: the saved connections and their folders, headless (text or ``--json``)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from wsinspector import APP_NAME

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
    from wsinspector.core import folders as fo
    from wsinspector.core.redact import redact_url
    from wsinspector.core.store import Store, StoreError

    path = (args.data_dir or default_data_dir()) / DB_NAME
    if not Path(path).is_file():
        profiles, kept, last_used = [], [], {}
    else:
        try:
            store = Store(path)
        except StoreError as exc:
            print(f"{APP_NAME}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            profiles = store.profiles()
            kept = fo.folders_from_json(store.setting(fo.FOLDERS_SETTING))
            last_used = fo.last_used_from_json(store.setting(fo.LAST_USED_SETTING))
        finally:
            store.close()
    folder = fo.normal_path(args.folder)
    folders = fo.all_folders(profiles, kept)
    if folder and folder not in folders:
        known = ", ".join(f"“{f}”" for f in folders) or "none yet"
        print(f"{APP_NAME}: --folder: there is no folder “{folder}” (the folders: {known})", file=sys.stderr)
        return EXIT_USAGE
    chosen = fo.profiles_in(profiles, folder)
    if args.recent:
        chosen = fo.recent(chosen, last_used, count=len(chosen))
    words = fo.search_words(args.search)
    chosen = [p for p in chosen if fo.matches(p, words)]
    rows = [{"id": p.id, "name": p.name, "folder": fo.normal_path(p.folder), "url": redact_url(p.url),
             "last_used": _iso(last_used.get(p.id))} for p in chosen]
    if args.json:
        print(json.dumps({"folders": [f for f in folders if fo.is_within(f, folder)], "connections": rows},
                         ensure_ascii=False, indent=2))
    else:
        for row in rows:
            where = f"{row['folder']}/" if row["folder"] else ""
            print(f"{where}{row['name']}\t{row['url']}")
    return EXIT_OK if rows else EXIT_NOT_FOUND


def _iso(wall: float | None) -> str | None:
    return None if wall is None else datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")
