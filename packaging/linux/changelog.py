"""Write the Debian changelog of the .deb from the releases in the AppStream metainfo.

The metainfo's <releases> is the one place a release is described; the Debian changelog repeats it in
Debian's format. Usage: changelog.py METAINFO MAINTAINER  (prints the changelog on stdout).
"""

from __future__ import annotations

import datetime
import sys
import textwrap
import xml.etree.ElementTree as ET


def release_items(release: ET.Element) -> list[str]:
    """The release's description as a list of changelog items: each paragraph and list item is one."""
    description = release.find("description")
    if description is None:
        return [f"Release {release.get('version')}."]
    items = []
    for element in description.iter():
        if element.tag in ("p", "li"):
            text = " ".join("".join(element.itertext()).split())
            if text:
                items.append(text)
    return items or [f"Release {release.get('version')}."]


def changelog(metainfo_path: str, maintainer: str) -> str:
    root = ET.parse(metainfo_path).getroot()
    entries = []
    for release in root.iterfind("releases/release"):
        version, date = release.get("version"), release.get("date")
        if not version or not date:
            raise SystemExit(f"{metainfo_path}: every <release> needs a version and a date")
        when = datetime.datetime.strptime(date, "%Y-%m-%d").replace(hour=12, tzinfo=datetime.UTC)
        lines = [f"wsinspector ({version}) unstable; urgency=medium", ""]
        for item in release_items(release):
            lines.append(textwrap.fill(item, width=78, initial_indent="  * ", subsequent_indent="    "))
        lines += ["", f" -- {maintainer}  {when.strftime('%a, %d %b %Y %H:%M:%S %z')}", ""]
        entries.append("\n".join(lines))
    if not entries:
        raise SystemExit(f"{metainfo_path}: no <release> in <releases>")
    return "\n".join(entries)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: changelog.py METAINFO MAINTAINER")
    sys.stdout.write(changelog(sys.argv[1], sys.argv[2]))
