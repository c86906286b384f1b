"""Check the frozen onedir bundle (dist/wsinspector) before it is packaged.

    python packaging/check_bundle.py [BUNDLE] [--max-glibc 2.36]

Checks: both executables are there and executable; the application's resources (the SVG icon) and its
metadata; the Qt modules pyqtgraph needs at start (QtOpenGL, QtOpenGLWidgets); the platform, TLS, image
format and icon engine plugins; nothing of QtWebEngine, Qt Quick/QML or Qt 3D. On Linux it also prints the
highest GLIBC symbol version any ELF file in the bundle needs and fails above --max-glibc (default: the glibc
of this machine). Exit status 1 with the list of what failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IS_WIN = sys.platform == "win32"
IS_MAC = sys.platform == "darwin"
IS_LINUX = sys.platform.startswith("linux")
EXE = ".exe" if IS_WIN else ""

# plugin folder -> alternatives, one of which must be there (names without "lib" and suffix)
if IS_WIN:
    PLATFORMS = [("qwindows",), ("qoffscreen",)]
    TLS = [("qschannelbackend", "qopensslbackend")]
elif IS_MAC:
    PLATFORMS = [("qcocoa",), ("qoffscreen",)]
    TLS = [("qsecuretransportbackend", "qopensslbackend")]
else:
    PLATFORMS = [("qxcb",), ("qoffscreen",)]
    TLS = [("qopensslbackend",)]
PLUGINS = {
    "platforms": PLATFORMS,
    "tls": TLS,
    "imageformats": [("qsvg",), ("qico",)],
    "iconengines": [("qsvgicon",)],
}
REQUIRED_QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtNetwork", "QtWebSockets", "QtSvg", "QtOpenGL",
                       "QtOpenGLWidgets")
FORBIDDEN = re.compile(r"WebEngine|Qt63D|Qt3D|Qt6Quick|QtQuick|Qt6Qml|QtQml|Qt6Pdf|QtPdf|tkinter|_tkinter")
GLIBC = re.compile(rb"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?")


def plugin_name(path: Path) -> str:
    stem = path.name.split(".")[0]
    return stem[3:] if stem.startswith("lib") else stem


def contents_dir(bundle: Path) -> Path:
    internal = bundle / "_internal"
    return internal if internal.is_dir() else bundle


def find_one(base: Path, pattern: str) -> Path | None:
    return next(iter(sorted(base.glob(pattern))), None)


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def this_glibc() -> tuple[int, ...] | None:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""  # "glibc 2.36"
    except (ValueError, OSError, AttributeError):
        return None
    match = re.search(r"(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def objdump() -> str | None:
    tool = shutil.which("objdump")
    if tool is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "binutils"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        tool = shutil.which("objdump")
    return tool


def highest_glibc(files: list[Path]) -> tuple[tuple[int, ...], Path | None, list[str]]:
    """The highest GLIBC_x.y[.z] version any of the files needs, the file needing it, and errors."""
    tool = objdump()
    if tool is None:
        return (0,), None, ["objdump (binutils) is not installed: the GLIBC check cannot run"]
    best: tuple[int, ...] = (0,)
    where: Path | None = None
    errors = []
    for start in range(0, len(files), 50):
        batch = files[start:start + 50]
        done = subprocess.run([tool, "-T", *map(str, batch)], capture_output=True, check=False)
        if done.returncode != 0:
            errors.append(f"objdump -T failed: {done.stderr.decode('utf-8', 'replace').strip()[:500]}")
        current: Path | None = None
        for line in done.stdout.splitlines():
            if b":     file format " in line:  # "PATH:     file format elf64-x86-64" starts each file
                current = Path(line.split(b":     file format ")[0].decode())
                continue
            for match in GLIBC.finditer(line):
                version = tuple(int(part) for part in match.groups() if part is not None)
                if version > best:
                    best, where = version, current
    return best, where, errors


def check(bundle: Path, max_glibc: tuple[int, ...] | None) -> list[str]:  # noqa: C901, PLR0912
    problems: list[str] = []
    if not bundle.is_dir():
        return [f"{bundle} is not a folder: build it with `python packaging/build.py onedir`"]
    internal = contents_dir(bundle)

    for name in ("wsinspector", "wsinspector-cli"):
        exe = bundle / f"{name}{EXE}"
        if not exe.is_file():
            problems.append(f"executable {exe.name} is missing")
        elif not IS_WIN and not os.access(exe, os.X_OK):
            problems.append(f"{exe.name} is not executable")
        else:
            print(f"ok: executable {exe.name}")

    icon = internal / "wsinspector" / "resources" / "wsinspector.svg"
    if icon.is_file():
        print(f"ok: resources ({icon.relative_to(bundle)})")
    else:
        problems.append(f"{icon.relative_to(bundle)} is missing (collect wsinspector/resources)")
    metadata = find_one(internal, "wsinspector-*.dist-info/METADATA")
    if metadata is None:
        problems.append("wsinspector-*.dist-info/METADATA is missing (copy_metadata)")
    else:
        version = re.search(r"^Version: (\S+)", metadata.read_text(encoding="utf-8"), re.MULTILINE)
        print(f"ok: metadata {metadata.parent.name} (version {version.group(1) if version else '?'})")

    pyside = internal / "PySide6"
    missing = [module for module in REQUIRED_QT_MODULES if find_one(pyside, f"{module}.*") is None]
    problems += [f"PySide6.{module} is missing" for module in missing]
    if not missing:
        print(f"ok: Qt modules {', '.join(REQUIRED_QT_MODULES)}")

    plugins = find_one(internal, "PySide6/Qt/plugins") or find_one(internal, "PySide6/plugins")
    if plugins is None:
        problems.append("no Qt plugins folder (PySide6/Qt/plugins)")
    else:
        for kind, wanted in PLUGINS.items():
            present = {plugin_name(p) for p in (plugins / kind).glob("*") if p.is_file()}
            for alternatives in wanted:
                if present.isdisjoint(alternatives):
                    problems.append(f"Qt plugin {kind}/{' or '.join(alternatives)} is missing")
            print(f"{'ok' if present else '--'}: plugins {kind}: {', '.join(sorted(present)) or 'none'}")

    forbidden = sorted({str(p.relative_to(bundle)) for p in bundle.rglob("*") if FORBIDDEN.search(p.name)})
    if forbidden:
        shown = ", ".join(forbidden[:10]) + (f" and {len(forbidden) - 10} more" if len(forbidden) > 10 else "")
        problems.append(f"unused Qt parts are in the bundle: {shown}")
    else:
        print("ok: no QtWebEngine, Qt Quick/QML, Qt 3D, Qt PDF or tkinter")

    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(p.stat().st_size for p in files)
    print(f"size: {size / 1e6:.1f} MB in {len(files)} files")

    if IS_LINUX:
        elves = [p for p in files if is_elf(p)]
        version, where, errors = highest_glibc(elves)
        problems += errors
        if not errors:
            needed = version_text(version)
            which = f" ({where.relative_to(bundle)})" if where else ""
            print(f"glibc: the bundle's {len(elves)} ELF files need at most GLIBC_{needed}{which}")
            if max_glibc is None:
                problems.append("the highest allowed glibc is unknown (give --max-glibc)")
            elif version[:len(max_glibc)] > max_glibc:
                problems.append(f"GLIBC_{needed}{which} is needed, above the allowed {version_text(max_glibc)}")
    return problems


def parse_version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version like 2.36") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the frozen onedir bundle.")
    parser.add_argument("bundle", nargs="?", type=Path, default=ROOT / "dist" / "wsinspector",
                        help="the onedir folder (default dist/wsinspector)")
    parser.add_argument("--max-glibc", type=parse_version, default=None,
                        help="highest GLIBC symbol version allowed (Linux; default: this machine's glibc)")
    args = parser.parse_args(argv)
    max_glibc = args.max_glibc or (this_glibc() if IS_LINUX else None)
    problems = check(args.bundle, max_glibc)
    if problems:
        print(f"check_bundle: {len(problems)} problem(s) in {args.bundle}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"check_bundle: {args.bundle} is complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
