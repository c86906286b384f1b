#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build the Linux artifacts from the frozen app and the generated icons.
#
#   packaging/linux/build.sh deb      -> dist/wsinspector_X.Y.Z_ARCH.deb
#   packaging/linux/build.sh tarball  -> dist/wsinspector-X.Y.Z-linux-MACHINE.tar.gz
#
# Options (before or after the step):
#   --onedir DIR   the PyInstaller onedir holding wsinspector and wsinspector-cli (default: dist/wsinspector)
#   --icons DIR    wsinspector-SIZE.png and wsinspector.svg (default: build/icons)
#   --out DIR      where the artifact is written (default: dist)
#   --work DIR     where it is staged (default: build/linux)
#   --fast         deb: compress with zstd -3 (seconds instead of a minute or two, about 40% larger) for a
#                  package that is only tested and thrown away; the default is xz -6. WSINSPECTOR_DEB_FAST=1
#                  in the environment does the same.
# The version is the project's (pyproject.toml, or wsinspector.__version__); the frozen app must report the same.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

APP_ID=io.github.wsinspector.wsinspector
ICON_SIZES=(16 24 32 48 64 128 256 512)
MAINTAINER="The wsinspector authors <wsinspector@users.noreply.github.com>"
# Loaded only on a desktop that asks for it (GNOME's GTK theme), so only suggested when the bundle has it;
# everything else the bundle loads is a dependency.
OPTIONAL_ELF_PATTERN='/platformthemes/libqgtk3\.so$'
OPTIONAL_DEPENDS="libgtk-3-0"
# Needed at run time but never linked, so dpkg-shlibdeps cannot see them: TLS through OpenSSL loaded by
# Qt's TLS backend, the system CA store, fontconfig's configuration and a font (without one every glyph
# is a box), and OpenGL/EGL for Qt's xcb GL integrations.
RUNTIME_DEPENDS=(ca-certificates "libssl3 | libssl3t64" fontconfig-config
                 "fonts-dejavu-core | fonts-liberation2 | fonts-noto-core" libegl1 libgl1)
# Libraries the bundle links to but does not carry: dpkg-shlibdeps must find them on the build machine.
BUILD_HOST_PACKAGES=(dpkg-dev libwayland-client0 libwayland-cursor0 libwayland-egl1 libegl1 libgl1 libxcb1)

PROG=build.sh
# shellcheck source=common.sh
. "$here/common.sh"

step=""
onedir="$root/dist/wsinspector"
icons="$root/build/icons"
out="$root/dist"
work="$root/build/linux"
fast=no
[ "${WSINSPECTOR_DEB_FAST:-0}" = 1 ] && fast=yes
while [ $# -gt 0 ]; do
    case "$1" in
        deb|tarball) [ -z "$step" ] || die "one step at a time (got $step and $1)"; step=$1 ;;
        --onedir) onedir=${2:?--onedir needs a directory}; shift ;;
        --icons) icons=${2:?--icons needs a directory}; shift ;;
        --out) out=${2:?--out needs a directory}; shift ;;
        --work) work=${2:?--work needs a directory}; shift ;;
        --fast) fast=yes ;;
        -h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (steps: deb, tarball)" ;;
    esac
    shift
done
[ -n "$step" ] || die "usage: build.sh deb|tarball [--onedir DIR] [--icons DIR] [--out DIR]"
onedir=$(realpath -m "$onedir")
icons=$(realpath -m "$icons")
out=$(realpath -m "$out")
work=$(realpath -m "$work")
mkdir -p "$work"

# The version pyproject.toml declares, or (with a dynamic version) wsinspector.__version__.
project_version() {
    local v
    v=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$root/pyproject.toml" | head -n 1)
    [ -n "$v" ] || v=$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' "$root/wsinspector/__init__.py" | head -n 1)
    echo "$v"
}

check_inputs() {
    local size exe
    for exe in wsinspector wsinspector-cli; do
        [ -x "$onedir/$exe" ] || die "no executable $onedir/$exe (build it with: python packaging/build.py onedir)"
    done
    for size in "${ICON_SIZES[@]}"; do
        [ -f "$icons/wsinspector-$size.png" ] || die "no $icons/wsinspector-$size.png (build it with: python packaging/build.py icons)"
    done
    [ -f "$icons/wsinspector.svg" ] || die "no $icons/wsinspector.svg"
    version=${WSINSPECTOR_VERSION:-$(project_version)}
    [ -n "$version" ] || die "no version in pyproject.toml or wsinspector/__init__.py"
    local reported
    reported=$("$onedir/wsinspector-cli" --version | head -n 1)
    [[ $reported == "wsinspector $version" || $reported == "wsinspector $version "* ]] \
        || die "$onedir reports '$reported' but the project says $version: rebuild the onedir"
    grep -q "<release version=\"$version\"" "$here/$APP_ID.metainfo.xml" \
        || die "$APP_ID.metainfo.xml has no <release version=\"$version\">: describe the release there first"
    if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
        SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
        export SOURCE_DATE_EPOCH
    fi
}

# Copies the frozen app to DEST: directories 755, executables 755, everything else 644.
copy_app() {
    local dest=$1
    mkdir -p "$dest"
    cp -a "$onedir/." "$dest/"
    find "$dest" -type d -exec chmod 755 {} +
    find "$dest" -type f -exec chmod 644 {} +
    chmod 755 "$dest/wsinspector" "$dest/wsinspector-cli"
}

# Installs the desktop entry, MIME type, icons (and, with a metainfo directory, the metainfo) under SHARE.
copy_desktop_files() {
    local share=$1 with_metainfo=$2 size
    install -D -m 644 "$here/$APP_ID.desktop" "$share/applications/$APP_ID.desktop"
    install -D -m 644 "$here/$APP_ID.xml" "$share/mime/packages/$APP_ID.xml"
    for size in "${ICON_SIZES[@]}"; do
        install -D -m 644 "$icons/wsinspector-$size.png" "$share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
    done
    install -D -m 644 "$icons/wsinspector.svg" "$share/icons/hicolor/scalable/apps/$APP_ID.svg"
    if [ "$with_metainfo" = yes ]; then
        install -D -m 644 "$here/$APP_ID.metainfo.xml" "$share/metainfo/$APP_ID.metainfo.xml"
    fi
}

# Prints the ELF files under DIR, one per line.
elf_files() {
    python3 - "$1" <<'EOF'
import os, sys
for top, _dirs, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        path = os.path.join(top, name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    print(path)
EOF
}

# Prints dpkg-shlibdeps' "shlibs:Depends=..." for the ELF files under PKGROOT (a debian/PACKAGE directory).
# The shared libraries the bundle carries are private to the package (given with -l as paths inside it),
# so only what it does not carry becomes a dependency. The optional plugins are left out.
shlib_depends() {
    local pkgroot=$1 log=$2
    local -a elves=() libdirs=()
    local file
    while IFS= read -r file; do
        [[ $file =~ $OPTIONAL_ELF_PATTERN ]] || elves+=("debian/wsinspector/${file#"$pkgroot"/}")
    done < <(elf_files "$pkgroot")
    [ ${#elves[@]} -gt 0 ] || die "no ELF files in $pkgroot"
    while IFS= read -r file; do libdirs+=("-l${file#debian/wsinspector}"); done \
        < <(printf '%s\n' "${elves[@]}" | grep -E '\.so(\.|$)' | xargs -r -n1 dirname | sort -u)
    (cd "$pkgroot/../.." && dpkg-shlibdeps -O "${libdirs[@]}" "${elves[@]}") 2>"$log" \
        || { grep -v ': warning: ' "$log" >&2; die "dpkg-shlibdeps failed (all its messages: $log)"; }
}

build_deb() {
    ensure_packages "${BUILD_HOST_PACKAGES[@]}"
    check_inputs
    local arch deb pkgroot app
    arch=$(dpkg --print-architecture)
    deb="$out/wsinspector_${version}_${arch}.deb"
    rm -rf "$work/deb"
    pkgroot="$work/deb/debian/wsinspector"
    app="$pkgroot/usr/lib/wsinspector"
    mkdir -p "$pkgroot/DEBIAN" "$pkgroot/usr/bin" "$out"
    printf 'Source: wsinspector\n\nPackage: wsinspector\nArchitecture: any\n' >"$work/deb/debian/control"

    say "staging $onedir into /usr/lib/wsinspector"
    copy_app "$app"
    ln -s ../lib/wsinspector/wsinspector "$pkgroot/usr/bin/wsinspector"
    ln -s ../lib/wsinspector/wsinspector-cli "$pkgroot/usr/bin/wsinspector-cli"
    copy_desktop_files "$pkgroot/usr/share" yes
    local doc="$pkgroot/usr/share/doc/wsinspector"
    mkdir -p "$doc"
    python3 "$here/changelog.py" "$here/$APP_ID.metainfo.xml" "$MAINTAINER" | gzip -9n >"$doc/changelog.gz"
    sed -e 's/^$/./' -e 's/^/ /' "$root/LICENSE" >"$work/deb/license.txt"
    sed -e "/^@LICENSE@$/{r $work/deb/license.txt" -e 'd}' "$here/copyright.in" >"$doc/copyright"
    chmod 644 "$doc/changelog.gz" "$doc/copyright"

    say "computing dependencies (dpkg-shlibdeps over the bundle's ELF files)"
    local shlibs depends extra name
    shlibs=$(shlib_depends "$pkgroot" "$work/deb/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p')
    [ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies"
    depends=$shlibs
    for extra in "${RUNTIME_DEPENDS[@]}"; do
        name=${extra%% *}
        grep -Eq "(^|, )$name( |,|$)" <<<"$depends" || depends="$depends, $extra"
    done

    local suggests=""
    if elf_files "$app" | grep -E "$OPTIONAL_ELF_PATTERN" >/dev/null; then suggests=$OPTIONAL_DEPENDS; fi

    local installed_size
    installed_size=$(du -sk --exclude=DEBIAN "$pkgroot" | cut -f1)
    cat >"$pkgroot/DEBIAN/control" <<EOF
Package: wsinspector
Version: $version
Architecture: $arch
Maintainer: $MAINTAINER
Installed-Size: $installed_size
Depends: $depends
${suggests:+Suggests: $suggests
}Section: net
Priority: optional
Homepage: https://github.com/wsinspector/wsinspector
Description: inspect and test WebSocket endpoints
 wsinspector connects to ws:// and wss:// endpoints, sends text, JSON or
 binary messages and shows every frame in and out with timestamps, opcode,
 FIN bit and size, fragments included. Sessions are recorded and can be
 exported and imported; test files replay messages and check the answers,
 from the window or from the command line (wsinspector-cli).
EOF
    (cd "$pkgroot" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
        | xargs -0 md5sum >DEBIAN/md5sums)
    chmod 644 "$pkgroot/DEBIAN/control" "$pkgroot/DEBIAN/md5sums"

    say "writing $deb"
    rm -f "$deb"
    local -a compression=(-Zxz -z6)
    [ "$fast" = yes ] && compression=(-Zzstd -z3)
    if dpkg-deb --help | grep -- --threads-max >/dev/null; then
        compression+=("--threads-max=$(nproc)")
    fi
    dpkg-deb --root-owner-group "${compression[@]}" --build "$pkgroot" "$deb" >/dev/null
    say "built $deb ($(du -h "$deb" | cut -f1))"
    say "Depends: $depends"
}

build_tarball() {
    check_inputs
    local machine name stage tarball
    machine=$(uname -m)
    name="wsinspector-$version-linux-$machine"
    tarball="$out/$name.tar.gz"
    rm -rf "$work/tarball"
    stage="$work/tarball/$name"
    say "staging $onedir into $name/"
    copy_app "$stage"
    copy_desktop_files "$stage/share" no
    install -m 755 "$here/install.sh" "$stage/install.sh"
    install -m 644 "$root/LICENSE" "$stage/LICENSE"
    mkdir -p "$out"
    say "writing $tarball"
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
        -C "$work/tarball" -cf - "$name" | gzip -6n >"$tarball.part"
    mv "$tarball.part" "$tarball"
    say "built $tarball ($(du -h "$tarball" | cut -f1))"
}

case "$step" in
    deb) build_deb ;;
    tarball) build_tarball ;;
esac
