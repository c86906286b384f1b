#!/usr/bin/env bash
# Build the Windows installer from a PyInstaller onedir.
#
#   packaging/windows/build.sh [PAYLOAD_DIR]      (default: dist/wsinspector)
#
# Writes dist/wsinspector-X.Y.Z-setup.exe. Runs on Debian/Ubuntu (installs the `nsis` package when
# makensis is missing) and in Git Bash on Windows (NSIS from https://nsis.sourceforge.io or
# `choco install nsis`). Environment overrides:
#   VERSION   version to stamp (default: $WSINSPECTOR_VERSION, else __version__ in wsinspector/__init__.py)
#   ICON      installer icon (default: build/icons/wsinspector.ico)
#   OUTFILE   output path (default: dist/wsinspector-$VERSION-setup.exe)
#   MAKENSIS  makensis executable
#
# The same build without this script, from the repository root:
#   makensis -DVERSION=X.Y.Z -DPAYLOAD=dist/wsinspector -DOUTFILE=dist/wsinspector-X.Y.Z-setup.exe \
#            -DICON=build/icons/wsinspector.ico packaging/windows/wsinspector.nsi
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

fail() {
    echo "packaging/windows/build.sh: $*" >&2
    exit 1
}

payload="${1:-dist/wsinspector}"
for entry in wsinspector.exe wsinspector-cli.exe _internal; do
    [ -e "$payload/$entry" ] || fail "payload $payload has no $entry (build the onedir on Windows first: python packaging/build.py onedir)"
done

version="${VERSION:-${WSINSPECTOR_VERSION:-$(sed -n 's/^__version__ = "\([^"]*\)"\r\{0,1\}$/\1/p' wsinspector/__init__.py)}}"
[ -n "$version" ] || fail "no __version__ in wsinspector/__init__.py; set VERSION"
# Windows version resources need four numbers: 1.2.3rc1 -> 1.2.3.0
if [[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
    viversion="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}.0"
else
    fail "version '$version' does not start with X.Y.Z"
fi

icon="${ICON:-build/icons/wsinspector.ico}"
[ -f "$icon" ] || fail "icon $icon is missing (python packaging/build.py icons makes it)"

outfile="${OUTFILE:-dist/wsinspector-$version-setup.exe}"
mkdir -p "$(dirname "$outfile")"

makensis="${MAKENSIS:-}"
if [ -z "$makensis" ]; then
    if command -v makensis >/dev/null 2>&1; then
        makensis=makensis
    elif [ -x "/c/Program Files (x86)/NSIS/makensis.exe" ]; then
        makensis="/c/Program Files (x86)/NSIS/makensis.exe"
    elif command -v apt-get >/dev/null 2>&1; then
        echo "installing nsis with apt-get"
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends nsis >/dev/null \
            || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends nsis >/dev/null; } \
            || fail "could not install nsis with apt-get"
        makensis=makensis
    else
        fail "makensis not found: install NSIS 3 (choco install nsis) or set MAKENSIS"
    fi
fi

# Windows-native paths for makensis.exe under Git Bash.
native() {
    if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi
}

rm -f "$outfile"
"$makensis" -V2 -NOCD \
    "-DVERSION=$version" \
    "-DVIVERSION=$viversion" \
    "-DPAYLOAD=$(native "$payload")" \
    "-DOUTFILE=$(native "$outfile")" \
    "-DICON=$(native "$icon")" \
    "$(native "$here/wsinspector.nsi")"
[ -s "$outfile" ] || fail "makensis reported success but $outfile is missing"
echo "built $outfile ($(du -h "$outfile" | cut -f1))"
