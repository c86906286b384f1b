#!/usr/bin/env bash
# Install wsinspector for the current user from this unpacked archive (no root needed).
#
#   ./install.sh               the app into ~/.local/lib/wsinspector, the commands wsinspector and
#                              wsinspector-cli into ~/.local/bin, the menu entry, icons and file types into
#                              ${XDG_DATA_HOME:-~/.local/share}
#   ./install.sh --uninstall   remove exactly what the install put there
#                              (also: ~/.local/lib/wsinspector/install.sh --uninstall)
#   --prefix DIR               use DIR/lib/wsinspector and DIR/bin instead of ~/.local
#
# Installing again replaces the earlier installation.
set -euo pipefail

APP_ID=io.github.wsinspector.wsinspector
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "  $*"; }

action=install
prefix="$HOME/.local"
while [ $# -gt 0 ]; do
    case "$1" in
        --uninstall) action=uninstall ;;
        --prefix) prefix=${2:?--prefix needs a directory}; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done
[ "$(id -u)" -ne 0 ] || [ -n "${WSINSPECTOR_INSTALL_AS_ROOT:-}" ] \
    || die "this installs for one user; as root, install the .deb package instead (or set WSINSPECTOR_INSTALL_AS_ROOT=1)"
case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac
# XDG_DATA_HOME counts only when it is an absolute path (XDG Base Directory specification).
data="$HOME/.local/share"
case "${XDG_DATA_HOME:-}" in /*) data=$XDG_DATA_HOME ;; esac

appdir="$prefix/lib/wsinspector"
bindir="$prefix/bin"
manifest="$appdir/.install-manifest"
commands=(wsinspector wsinspector-cli)
ICON_SIZES=(16 24 32 48 64 128 256 512)
created_dirs=()

# Creates DIR and its missing parents, remembering each one made (so that uninstalling removes them).
make_dir() {
    local dir=$1 missing=()
    while [ ! -d "$dir" ]; do
        missing=("$dir" "${missing[@]}")
        dir=$(dirname "$dir")
    done
    for dir in "${missing[@]}"; do
        mkdir "$dir"
        created_dirs+=("$dir")
    done
}

# PATH as a desktop entry's Exec argument (Desktop Entry Specification, "The Exec key"): quoted when it
# holds anything but plain characters, then escaped as a string value.
desktop_exec_arg() {
    if [[ $1 =~ ^[A-Za-z0-9/._+-]+$ ]]; then
        printf '%s' "$1"
    else
        printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"`$]/\\&/g')" | sed -e 's/\\/\\\\/g' -e 's/%/%%/g'
    fi
}

# PATH as a desktop entry string value (TryExec).
desktop_string() {
    printf '%s' "$1" | sed 's/\\/\\\\/g'
}

# Copies the desktop entry, pointing Exec and TryExec at the installed app.
write_desktop_entry() {
    local source=$1 target=$2 exe=$3 line exec_arg try_exec
    exec_arg=$(desktop_exec_arg "$exe")
    try_exec=$(desktop_string "$exe")
    while IFS= read -r line; do
        case "$line" in
            "Exec=wsinspector "*) printf 'Exec=%s %s\n' "$exec_arg" "${line#Exec=wsinspector }" ;;
            "TryExec=wsinspector") printf 'TryExec=%s\n' "$try_exec" ;;
            *) printf '%s\n' "$line" ;;
        esac
    done <"$source" >"$target"
}

update_caches() {
    if command -v update-mime-database >/dev/null && [ -d "$data/mime/packages" ]; then
        update-mime-database "$data/mime"
    fi
    if command -v update-desktop-database >/dev/null && [ -d "$data/applications" ]; then
        update-desktop-database -q "$data/applications"
    fi
    if [ -d "$data/icons/hicolor" ]; then
        touch "$data/icons/hicolor"  # icon theme caches are rebuilt when the theme directory changes
    fi
}

uninstall() {
    [ -f "$manifest" ] || die "no installation of wsinspector in $appdir (its $manifest is missing)"
    local kind path made_mime_db=no made_mimeinfo_cache=no
    local -a dirs=()
    while IFS=' ' read -r kind path; do
        case "$kind" in
            app) ;;
            data) data=$path ;;
            file) rm -f "$path" ;;
            link)
                if [ -L "$path" ] && [[ $(readlink "$path") == "$appdir/"* ]]; then
                    rm -f "$path"
                elif [ -e "$path" ] || [ -L "$path" ]; then
                    say "left $path: it no longer points into $appdir"
                fi ;;
            generated)
                case "$path" in
                    */mime) made_mime_db=yes ;;
                    */mimeinfo.cache) made_mimeinfo_cache=yes ;;
                esac ;;
            dir) dirs=("$path" "${dirs[@]}") ;;
            *) die "$manifest: unexpected line: $kind $path" ;;
        esac
    done <"$manifest"
    rm -rf "$appdir"
    # The databases go back to what they were: regenerated, or gone when the install brought them into being.
    if [ "$made_mime_db" = yes ] && [ -z "$(ls -A "$data/mime/packages" 2>/dev/null)" ]; then
        find "$data/mime" -mindepth 1 -maxdepth 1 ! -name packages -exec rm -rf {} +
    elif command -v update-mime-database >/dev/null && [ -d "$data/mime/packages" ]; then
        update-mime-database "$data/mime"
    fi
    if [ "$made_mimeinfo_cache" = yes ]; then
        rm -f "$data/applications/mimeinfo.cache"
    elif command -v update-desktop-database >/dev/null && [ -d "$data/applications" ]; then
        update-desktop-database -q "$data/applications"
    fi
    for path in "${dirs[@]}"; do
        rmdir "$path" 2>/dev/null || true
    done
}

install_app() {
    local exe size path name
    for exe in "${commands[@]}"; do
        [ -x "$here/$exe" ] || die "$here/$exe is missing: run the install.sh of the unpacked archive"
    done
    [ -f "$here/share/applications/$APP_ID.desktop" ] || die "$here/share is missing: run the install.sh of the unpacked archive"
    if [ -f "$manifest" ]; then
        echo "Replacing the wsinspector installed in $appdir"
        uninstall >/dev/null
    elif [ -e "$appdir" ]; then
        die "$appdir exists but was not installed by this script: move it away first"
    fi
    local -a targets=("$data/applications/$APP_ID.desktop" "$data/mime/packages/$APP_ID.xml"
                      "$data/icons/hicolor/scalable/apps/$APP_ID.svg")
    for size in "${ICON_SIZES[@]}"; do targets+=("$data/icons/hicolor/${size}x${size}/apps/$APP_ID.png"); done
    for exe in "${commands[@]}"; do targets+=("$bindir/$exe"); done
    for path in "${targets[@]}"; do
        if [ -e "$path" ] || [ -L "$path" ]; then die "$path exists and was not installed by this script: remove it first"; fi
    done

    echo "Installing wsinspector for $(id -un)"
    make_dir "$(dirname "$appdir")"
    local staging="$appdir.installing.$$"
    rm -rf "$staging"
    mkdir "$staging"
    trap 'rm -rf "$staging"' EXIT
    cp -a "$here/wsinspector" "$here/wsinspector-cli" "$here/_internal" "$staging/"
    install -m 755 "$here/install.sh" "$staging/install.sh"
    [ -f "$here/LICENSE" ] && install -m 644 "$here/LICENSE" "$staging/LICENSE"
    mv "$staging" "$appdir"
    trap - EXIT
    say "app: $appdir"

    local entries=("app $appdir" "data $data")
    make_dir "$bindir"
    for exe in "${commands[@]}"; do
        ln -s "$appdir/$exe" "$bindir/$exe"
        entries+=("link $bindir/$exe")
    done
    say "commands: $bindir/wsinspector, $bindir/wsinspector-cli"

    make_dir "$data/applications"
    write_desktop_entry "$here/share/applications/$APP_ID.desktop" "$data/applications/$APP_ID.desktop" \
        "$appdir/wsinspector"
    entries+=("file $data/applications/$APP_ID.desktop")
    say "menu entry: $data/applications/$APP_ID.desktop"

    make_dir "$data/mime/packages"
    install -m 644 "$here/share/mime/packages/$APP_ID.xml" "$data/mime/packages/$APP_ID.xml"
    entries+=("file $data/mime/packages/$APP_ID.xml")
    say "file types (*.wstest.yaml, *.wssession.json): $data/mime/packages/$APP_ID.xml"

    local dir
    for size in "${ICON_SIZES[@]}" scalable; do
        if [ "$size" = scalable ]; then
            dir=scalable/apps; name="$APP_ID.svg"
        else
            dir="${size}x${size}/apps"; name="$APP_ID.png"
        fi
        make_dir "$data/icons/hicolor/$dir"
        install -m 644 "$here/share/icons/hicolor/$dir/$name" "$data/icons/hicolor/$dir/$name"
        entries+=("file $data/icons/hicolor/$dir/$name")
    done
    say "icons: $data/icons/hicolor/*/apps/$APP_ID.{png,svg}"

    for dir in "${created_dirs[@]}"; do entries+=("dir $dir"); done
    [ -e "$data/mime/mime.cache" ] || entries+=("generated $data/mime")
    [ -e "$data/applications/mimeinfo.cache" ] || entries+=("generated $data/applications/mimeinfo.cache")
    printf '%s\n' "${entries[@]}" >"$manifest"
    update_caches
    say "updated the MIME and desktop databases in $data where their tools exist"
    local again="$appdir/install.sh --uninstall"
    [ "$prefix" = "$HOME/.local" ] || again="$again --prefix $prefix"
    echo "Done. To uninstall: $again"
    case ":$PATH:" in
        *":$bindir:"*) ;;
        *) echo "Note: $bindir is not on your PATH; add it to run wsinspector from a terminal." ;;
    esac
}

case "$action" in
    install) install_app ;;
    uninstall)
        echo "Uninstalling wsinspector from $appdir"
        uninstall
        echo "Done." ;;
esac
