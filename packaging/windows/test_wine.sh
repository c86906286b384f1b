#!/usr/bin/env bash
# Exercise the Windows installer's install, upgrade and uninstall logic under wine.
#
#   packaging/windows/test_wine.sh
#
# Builds wsinspector.nsi twice from a placeholder payload (dummy wsinspector.exe, wsinspector-cli.exe and
# _internal\ files: the real bundle is built on Windows), then in a fresh 64-bit wine prefix:
#   1. puts a file in the user's data folder and another application's entries under .yaml and .json;
#   2. installs the older build silently, then the newer one over it (an upgrade);
#   3. checks the files, the Start-menu shortcut and every registry key and value the installer writes,
#      and that a file the newer payload no longer has is gone;
#   4. runs the registered QuietUninstallString and waits until it has finished;
#   5. checks that everything the installer wrote is gone and that the user's file and the other
#      application's entries are untouched.
# Installs wine64 and nsis with apt-get when they are missing. Exits non-zero naming each failed check.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
started=$SECONDS
deadline_s="${WINE_TEST_DEADLINE:-90}"

passed=0
failed=()
ok() { passed=$((passed + 1)); echo "  ok    $1"; }
bad() { failed+=("$1"); echo "  FAIL  $1"; }
check() {
    local what="$1"
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
die() {
    echo "packaging/windows/test_wine.sh: $*" >&2
    exit 1
}

apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "$@" >/dev/null \
        || { $sudo apt-get update -q >/dev/null \
             && $sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "$@" >/dev/null; } \
        || die "could not install $* with apt-get"
}

find_wine() {
    local w
    for w in "$(command -v wine64 || true)" /usr/lib/wine/wine64 "$(command -v wine || true)"; do
        if [ -n "$w" ] && [ -x "$w" ]; then
            echo "$w"
            return 0
        fi
    done
    return 1
}

tools_started=$SECONDS
wine="$(find_wine)" || { apt_install wine64; wine="$(find_wine)" || die "wine64 is not installed"; }
wineserver="$(dirname "$wine")/wineserver"
[ -x "$wineserver" ] || wineserver="$(command -v wineserver || true)"
[ -n "$wineserver" ] || die "wineserver not found next to $wine"
command -v makensis >/dev/null 2>&1 || apt_install nsis
command -v python3 >/dev/null 2>&1 || die "python3 is needed to read the shortcut and write a placeholder icon"
echo "tools ready in $((SECONDS - tools_started)) s: $("$wine" --version), $(makensis -VERSION)"

work="$(mktemp -d "${TMPDIR:-/tmp}/wsinspector-wine.XXXXXX")"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEARCH=win64
# No Mono/Gecko download prompts; no window on a developer's desktop.
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
cleanup() {
    "$wineserver" -k >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

w() { "$wine" "$@" 2>/dev/null; }

# ---- placeholder payloads and installers -------------------------------------------------------------
make_payload() {  # DIR WITH_STALE_FILE
    mkdir -p "$1/_internal/PySide6/plugins/platforms"
    printf 'placeholder windowed executable\n' >"$1/wsinspector.exe"
    printf 'placeholder console executable\n' >"$1/wsinspector-cli.exe"
    printf 'placeholder\n' >"$1/_internal/base_library.zip"
    printf 'placeholder\n' >"$1/_internal/python311.dll"
    printf 'placeholder\n' >"$1/_internal/PySide6/plugins/platforms/qwindows.dll"
    if [ "$2" = yes ]; then printf 'removed in the next version\n' >"$1/_internal/stale.pyd"; fi
}
make_payload "$work/payload-old" yes
make_payload "$work/payload-new" no

icon="$root/build/icons/wsinspector.ico"
if [ ! -f "$icon" ]; then
    icon="$work/placeholder.ico"
    echo "build/icons/wsinspector.ico not built yet: using a placeholder icon"
    python3 - "$icon" <<'PY'
import struct, sys, zlib

def png(size):
    row = b"\x00" + bytes((40, 110, 200, 255)) * size
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b""))

sizes = (16, 32, 48, 256)
images = [png(s) for s in sizes]
offset = 6 + 16 * len(images)
entries = b""
for size, data in zip(sizes, images):
    entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
    offset += len(data)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<HHH", 0, 1, len(images)) + entries + b"".join(images))
PY
fi

old_version=0.0.1
new_version="$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' "$root/wsinspector/__init__.py")"
[ -n "$new_version" ] || die "no __version__ in wsinspector/__init__.py"
[ "$new_version" != "$old_version" ] || new_version=0.0.2
old_setup="$work/wsinspector-$old_version-setup.exe"
new_setup="$work/wsinspector-$new_version-setup.exe"
VERSION="$old_version" ICON="$icon" OUTFILE="$old_setup" bash "$here/build.sh" "$work/payload-old" >/dev/null \
    || die "makensis failed for the placeholder payload"
VERSION="$new_version" ICON="$icon" OUTFILE="$new_setup" bash "$here/build.sh" "$work/payload-new" \
    || die "makensis failed for the placeholder payload"

# ---- the prefix ---------------------------------------------------------------------------------------
prefix_started=$SECONDS
mkdir -p "$WINEPREFIX"
"$wineserver" -p  # stays up until `wineserver -k`: every later call is fast
w wineboot --init >/dev/null || die "wineboot --init failed"
localappdata_win="$(w cmd /c 'echo %LOCALAPPDATA%' | tr -d '\r')"
appdata_win="$(w cmd /c 'echo %APPDATA%' | tr -d '\r')"
localappdata="$(w winepath -u "$localappdata_win" | tr -d '\r')"
appdata="$(w winepath -u "$appdata_win" | tr -d '\r')"
localappdata="${localappdata%/}"
appdata="${appdata%/}"
[ -d "$localappdata" ] || die "the prefix has no %LOCALAPPDATA% ($localappdata_win -> $localappdata)"
echo "wine prefix ready in $((SECONDS - prefix_started)) s"

instdir_win="$localappdata_win\\Programs\\wsinspector"
instdir="$localappdata/Programs/wsinspector"
shortcut="$appdata/Microsoft/Windows/Start Menu/Programs/wsinspector.lnk"
datadir="$localappdata/wsinspector"

HKCU='HKCU\Software'
CLASSES="$HKCU\\Classes"
UNINST="$HKCU\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\wsinspector"
APP_PATHS="$HKCU\\Microsoft\\Windows\\CurrentVersion\\App Paths"

# reg_value KEY NAME: prints the data ("" for the default value), fails when the value is absent.
reg_value() {
    local out
    if [ -z "$2" ]; then out="$(w reg query "$1" /ve)" || return 1
    else out="$(w reg query "$1" /v "$2")" || return 1
    fi
    # lines read "    NAME    REG_TYPE    DATA"
    printf '%s\n' "$out" | tr -d '\r' | awk -F '    ' '{
        for (i = 2; i <= NF; i++) if ($i ~ /^REG_[A-Z_]+$/) {
            data = ""; for (j = i + 1; j <= NF; j++) data = data (j > i + 1 ? FS : "") $j
            print data; exit
        }
    }'
}
value_is() {  # KEY NAME EXPECTED
    local got
    got="$(reg_value "$1" "$2")" || { echo "        $1 [${2:-(Default)}] is missing"; return 1; }
    [ "$got" = "$3" ] || { echo "        $1 [${2:-(Default)}] is '$got', expected '$3'"; return 1; }
}
value_matches() {  # KEY NAME REGEX
    local got
    got="$(reg_value "$1" "$2")" || { echo "        $1 [${2:-(Default)}] is missing"; return 1; }
    [[ "$got" =~ $3 ]] || { echo "        $1 [${2:-(Default)}] is '$got'"; return 1; }
}
value_absent() {  # KEY NAME ("" for the default value, which reg shows as "(value not set)")
    local got
    if [ -z "$2" ]; then
        got="$(reg_value "$1" "")" || return 0
        [ "$got" = "(value not set)" ] || { echo "        $1 [(Default)] is '$got'"; return 1; }
    else
        if w reg query "$1" /v "$2" >/dev/null; then return 1; fi
    fi
}
key_absent() { ! w reg query "$1" >/dev/null; }

# poll CONDITION...: true as soon as the condition holds, false after the deadline.
poll() {
    local until=$((SECONDS + deadline_s))
    while ! "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$until" ]; then
            echo "        still false after ${deadline_s} s: $*"
            "$@" || true
            return 1
        fi
        sleep 0.2
    done
}

# ---- what belongs to the user and to other applications -------------------------------------------------
mkdir -p "$datadir"
printf 'a session the user recorded\n' >"$datadir/keep-me.txt"
w reg add "$CLASSES\\.yaml\\OpenWithProgids" /v OtherEditor.yaml /t REG_SZ /d "" /f >/dev/null
w reg add "$CLASSES\\.json" /ve /t REG_SZ /d OtherEditor.json /f >/dev/null
w reg add "$CLASSES\\.json\\OpenWithProgids" /v OtherEditor.json /t REG_SZ /d "" /f >/dev/null

# ---- install, then upgrade ------------------------------------------------------------------------------
echo "install $old_version: setup.exe /S"
w "$(w winepath -w "$old_setup" | tr -d '\r')" /S || bad "setup $old_version /S exited non-zero"
check "install $old_version registered its version" poll value_is "$UNINST" DisplayVersion "$old_version"
check "install $old_version put _internal\\stale.pyd in place" test -f "$instdir/_internal/stale.pyd"

echo "upgrade to $new_version: setup.exe /S"
w "$(w winepath -w "$new_setup" | tr -d '\r')" /S || bad "setup $new_version /S exited non-zero"
check "upgrade registered version $new_version" poll value_is "$UNINST" DisplayVersion "$new_version"

echo "after install:"
exe="$instdir_win\\wsinspector.exe"
open_cmd="\"$exe\" \"%1\""
check "wsinspector.exe installed" cmp -s "$instdir/wsinspector.exe" "$work/payload-new/wsinspector.exe"
check "wsinspector-cli.exe installed" cmp -s "$instdir/wsinspector-cli.exe" "$work/payload-new/wsinspector-cli.exe"
check "_internal tree installed" diff -r "$instdir/_internal" "$work/payload-new/_internal"
check "upgrade removed a file the new payload no longer has" test ! -e "$instdir/_internal/stale.pyd"
check "uninstall.exe written" test -s "$instdir/uninstall.exe"
check "nothing else in the install folder" test "$(find "$instdir" -mindepth 1 -maxdepth 1 | wc -l)" -eq 4
check "Start-menu shortcut exists" test -s "$shortcut"
check "shortcut points at wsinspector.exe" python3 - "$shortcut" "$exe" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
target = sys.argv[2]
sys.exit(0 if target.encode("utf-16-le") in data or target.encode("latin-1") in data else 1)
PY

check "Uninstall DisplayName" value_is "$UNINST" DisplayName wsinspector
check "Uninstall Publisher" value_is "$UNINST" Publisher "The wsinspector authors"
check "Uninstall DisplayIcon" value_is "$UNINST" DisplayIcon "$exe,0"
check "Uninstall InstallLocation" value_is "$UNINST" InstallLocation "$instdir_win"
check "Uninstall UninstallString" value_is "$UNINST" UninstallString "\"$instdir_win\\uninstall.exe\""
check "Uninstall QuietUninstallString" value_is "$UNINST" QuietUninstallString "\"$instdir_win\\uninstall.exe\" /S"
check "Uninstall EstimatedSize is a DWORD" value_matches "$UNINST" EstimatedSize '^0x[0-9a-f]+$'
check "Uninstall URLInfoAbout" value_is "$UNINST" URLInfoAbout "https://github.com/wsinspector/wsinspector"
check "ProgID wsinspector.test opens with wsinspector.exe" value_is "$CLASSES\\wsinspector.test\\shell\\open\\command" "" "$open_cmd"
check "ProgID wsinspector.test icon" value_is "$CLASSES\\wsinspector.test\\DefaultIcon" "" "$exe,0"
check "ProgID wsinspector.test name" value_is "$CLASSES\\wsinspector.test" "" "wsinspector test"
check "ProgID wsinspector.session opens with wsinspector.exe" value_is "$CLASSES\\wsinspector.session\\shell\\open\\command" "" "$open_cmd"
check "ProgID wsinspector.session name" value_is "$CLASSES\\wsinspector.session" "" "wsinspector session"
check ".yaml offers wsinspector.test" value_is "$CLASSES\\.yaml\\OpenWithProgids" wsinspector.test ""
check ".json offers wsinspector.session" value_is "$CLASSES\\.json\\OpenWithProgids" wsinspector.session ""
check ".json default handler left to the user" value_is "$CLASSES\\.json" "" OtherEditor.json
check ".yaml default handler not taken" value_absent "$CLASSES\\.yaml" ""
check "Applications\\wsinspector.exe open command" value_is "$CLASSES\\Applications\\wsinspector.exe\\shell\\open\\command" "" "$open_cmd"
check "Applications\\wsinspector.exe supports .yaml" value_is "$CLASSES\\Applications\\wsinspector.exe\\SupportedTypes" .yaml ""
check "Applications\\wsinspector.exe supports .json" value_is "$CLASSES\\Applications\\wsinspector.exe\\SupportedTypes" .json ""
check "Capabilities map .yaml" value_is "$HKCU\\wsinspector\\Capabilities\\FileAssociations" .yaml wsinspector.test
check "Capabilities map .json" value_is "$HKCU\\wsinspector\\Capabilities\\FileAssociations" .json wsinspector.session
check "RegisteredApplications entry" value_is "$HKCU\\RegisteredApplications" wsinspector 'Software\wsinspector\Capabilities'
check "App Paths wsinspector.exe" value_is "$APP_PATHS\\wsinspector.exe" "" "$exe"
check "App Paths wsinspector-cli.exe" value_is "$APP_PATHS\\wsinspector-cli.exe" "" "$instdir_win\\wsinspector-cli.exe"

# ---- uninstall ---------------------------------------------------------------------------------------------
quiet="$(reg_value "$UNINST" QuietUninstallString)" || die "no QuietUninstallString: cannot uninstall"
uninstaller="${quiet%\" /S}"
uninstaller="${uninstaller#\"}"
echo "uninstall: $quiet"
w "$uninstaller" /S || bad "uninstaller /S exited non-zero"
# The uninstaller copies itself to %TEMP% and returns at once; wait for the copy to finish.
uninstalled() { [ ! -e "$instdir" ] && key_absent "$UNINST"; }
check "uninstaller finished (install folder and Uninstall key gone)" poll uninstalled

echo "after uninstall:"
check "install folder removed" test ! -e "$instdir"
check "Start-menu shortcut removed" test ! -e "$shortcut"
check "Uninstall key removed" key_absent "$UNINST"
check "ProgID wsinspector.test removed" key_absent "$CLASSES\\wsinspector.test"
check "ProgID wsinspector.session removed" key_absent "$CLASSES\\wsinspector.session"
check "Applications\\wsinspector.exe removed" key_absent "$CLASSES\\Applications\\wsinspector.exe"
check ".yaml no longer offers wsinspector.test" value_absent "$CLASSES\\.yaml\\OpenWithProgids" wsinspector.test
check ".json no longer offers wsinspector.session" value_absent "$CLASSES\\.json\\OpenWithProgids" wsinspector.session
check "Software\\wsinspector removed" key_absent "$HKCU\\wsinspector"
check "RegisteredApplications entry removed" value_absent "$HKCU\\RegisteredApplications" wsinspector
check "App Paths removed" key_absent "$APP_PATHS\\wsinspector.exe"
check "App Paths (cli) removed" key_absent "$APP_PATHS\\wsinspector-cli.exe"
check "user's data file untouched" test "$(cat "$datadir/keep-me.txt" 2>/dev/null)" = 'a session the user recorded'
check "other application's .yaml entry kept" value_is "$CLASSES\\.yaml\\OpenWithProgids" OtherEditor.yaml ""
check "other application's .json entry kept" value_is "$CLASSES\\.json\\OpenWithProgids" OtherEditor.json ""
check ".json default handler kept" value_is "$CLASSES\\.json" "" OtherEditor.json
check "Start-menu Programs folder kept" test -d "$(dirname "$shortcut")"

elapsed=$((SECONDS - started))
if [ "${#failed[@]}" -gt 0 ]; then
    echo "windows installer under wine: ${#failed[@]} of $((passed + ${#failed[@]})) checks FAILED in ${elapsed} s:" >&2
    printf '  - %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "windows installer under wine: all $passed checks passed in ${elapsed} s"
