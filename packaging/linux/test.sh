#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Prove the Linux artifacts the way a user meets them.
#
#   packaging/linux/test.sh [--suite bookworm] [--suite trixie] [--deb FILE] [--tarball FILE] [--keep]
#
# 1. The .deb: its control fields (version, the dependencies dpkg-shlibdeps cannot see), its file list, and the
#    desktop entry, AppStream metainfo and MIME types it carries (desktop-file-validate, appstreamcli,
#    update-mime-database). The tarball: its file list.
# 2. For each suite (default: bookworm), a fresh Debian minbase chroot made with debootstrap from the mirror
#    this machine's apt uses. In it: apt-get install ./wsinspector_*.deb; both commands run; the menu entry,
#    icon and file types are registered (xdg-mime); a font and the CA store came with it; packaging/smoke.py
#    runs against the installed app, its window under Xvfb; apt-get purge leaves no file of the package.
#    Then the tarball's install.sh for an ordinary user: the commands, menu entry and file types work, a
#    second install replaces the first, and --uninstall leaves the home folder as it was. Last,
#    apt-get autoremove --purge leaves the system as it was before the package came.
# The chroots live in build/linux/test/ for the run only (--keep leaves them, unmounted, for a look).
# Needs root, the network to the Debian mirror, and .venv with websockets and cryptography (scripts/bootstrap.sh test).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd -P)
PROG=test.sh
# shellcheck source=common.sh
. "$here/common.sh"

APP_ID=io.github.wsinspector.wsinspector
ICON_SIZES=(16 24 32 48 64 128 256 512)
TEST_TYPE=application/x-wsinspector-test+yaml
SESSION_TYPE=application/x-wsinspector-session+json
# Packages every deb must declare because nothing links to them (see build.sh).
REQUIRED_DEPENDS=(libc6 ca-certificates libssl3 fontconfig-config fonts-dejavu-core libegl1 libgl1 libxcb1)
# In the chroot before the package: what a desktop has (the MIME and desktop databases whose dpkg triggers
# register the package), and what the checks use.
CHROOT_TOOLS=(shared-mime-info desktop-file-utils xdg-utils libfile-mimeinfo-perl xvfb xauth)
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

suites=()
deb=""
tarball=""
keep=no
while [ $# -gt 0 ]; do
    case "$1" in
        --suite) suites+=("${2:?--suite needs a Debian codename}"); shift ;;
        --deb) deb=${2:?--deb needs a file}; shift ;;
        --tarball) tarball=${2:?--tarball needs a file}; shift ;;
        --keep) keep=yes ;;
        -h|--help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done
[ ${#suites[@]} -gt 0 ] || suites=(bookworm)
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"

version=${WSINSPECTOR_VERSION:-$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' "$root/wsinspector/__init__.py")}
[ -n "$version" ] || die "no __version__ in wsinspector/__init__.py"
deb=$(realpath -m "${deb:-$root/dist/wsinspector_${version}_$(dpkg --print-architecture).deb}")
tarball=$(realpath -m "${tarball:-$root/dist/wsinspector-$version-linux-$(uname -m).tar.gz}")
[ -f "$deb" ] || die "no $deb (build it with: python packaging/build.py deb)"
[ -f "$tarball" ] || die "no $tarball (build it with: python packaging/build.py tarball)"
python=$root/.venv/bin/python
"$python" -c 'import websockets, cryptography' 2>/dev/null \
    || die "packaging/smoke.py needs $python with websockets and cryptography (scripts/bootstrap.sh test)"
[ -f "$root/packaging/smoke.py" ] || die "packaging/smoke.py is missing"

work="$root/build/linux/test"
mkdir -p "$work"
failures=0
timings=()

fail() { echo "$PROG: FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "$PROG: ok: $*"; }
check() {  # check DESCRIPTION COMMAND...: runs the command, reports ok or FAIL
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
timed() {  # timed LABEL COMMAND...: runs the command and records how long it took (when it succeeds)
    local label=$1 start
    shift
    start=$(date +%s%N)
    "$@"
    timings+=("$(printf '%-56s %6.1f s' "$label" "$((($(date +%s%N) - start) / 1000000))e-3")")
}

# --- 1. the artifacts themselves -----------------------------------------------------------------------------

mime_db_knows() {  # mime_db_knows XML: our types in a MIME database built from it and freedesktop.org.xml
    local data db
    data=$(mktemp -d)
    db="$data/mime"
    mkdir -p "$db/packages"
    cp /usr/share/mime/packages/freedesktop.org.xml "$1" "$db/packages/"
    # update-mime-database exits 0 even when it rejects a definition: any message is an error here.
    XDG_DATA_DIRS="$data" update-mime-database "$db" >"$data/log" 2>&1 && [ ! -s "$data/log" ] \
        && grep -qx "50:$TEST_TYPE:\*\.wstest\.yaml" "$db/globs2" \
        && grep -qx "50:$SESSION_TYPE:\*\.wssession\.json" "$db/globs2" \
        && grep -qx "$TEST_TYPE application/yaml" "$db/subclasses" \
        && grep -qx "$SESSION_TYPE application/json" "$db/subclasses" \
        && grep -qa "$SESSION_TYPE" "$db/magic"
    local status=$?
    [ $status -eq 0 ] || cat "$data/log" >&2
    rm -rf "$data"
    return $status
}

check_deb() {
    say "checking $deb"
    local field value dep listing extracted
    check "deb: Package is wsinspector" test "$(dpkg-deb -f "$deb" Package)" = wsinspector
    check "deb: Version is $version" test "$(dpkg-deb -f "$deb" Version)" = "$version"
    check "deb: Architecture is $(dpkg --print-architecture)" \
        test "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)"
    for field in Maintainer Description Homepage Installed-Size; do
        value=$(dpkg-deb -f "$deb" "$field")
        check "deb: has $field" test -n "$value"
    done
    value=$(dpkg-deb -f "$deb" Depends)
    for dep in "${REQUIRED_DEPENDS[@]}"; do
        check "deb: Depends names $dep" grep -Eq "(^|[ ,|])$dep( |,|$)" <<<"$value"
    done
    listing=$(dpkg-deb -c "$deb" | awk '{ if ($1 ~ /^l/) print $6 " -> " $8; else print $6 }')
    local expected=(
        "./usr/bin/wsinspector -> ../lib/wsinspector/wsinspector"
        "./usr/bin/wsinspector-cli -> ../lib/wsinspector/wsinspector-cli"
        ./usr/lib/wsinspector/wsinspector ./usr/lib/wsinspector/wsinspector-cli
        "./usr/share/applications/$APP_ID.desktop" "./usr/share/metainfo/$APP_ID.metainfo.xml"
        "./usr/share/mime/packages/$APP_ID.xml" "./usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
        ./usr/share/doc/wsinspector/copyright ./usr/share/doc/wsinspector/changelog.gz)
    local size
    for size in "${ICON_SIZES[@]}"; do expected+=("./usr/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"); done
    for value in "${expected[@]}"; do
        check "deb: contains $value" grep -qxF "$value" <<<"$listing"
    done
    check "deb: installs nothing outside /usr" test -z "$(grep -vE '^\./(usr/.*)?$' <<<"$listing")"
    check "deb: executables are executable" test "$(dpkg-deb -c "$deb" | awk '$6 == "./usr/lib/wsinspector/wsinspector" {print $1}')" = -rwxr-xr-x

    extracted=$(mktemp -d)
    dpkg-deb -x "$deb" "$extracted"
    check "desktop-file-validate $APP_ID.desktop" desktop-file-validate "$extracted/usr/share/applications/$APP_ID.desktop"
    check "appstreamcli validate --no-net $APP_ID.metainfo.xml" \
        appstreamcli validate --no-net "$extracted/usr/share/metainfo/$APP_ID.metainfo.xml"
    check "xmllint $APP_ID.xml (well-formed)" xmllint --noout "$extracted/usr/share/mime/packages/$APP_ID.xml"
    check "update-mime-database takes $APP_ID.xml: globs, parents and magic" \
        mime_db_knows "$extracted/usr/share/mime/packages/$APP_ID.xml"
    check "changelog.gz names $version" bash -c "zcat '$extracted/usr/share/doc/wsinspector/changelog.gz' | head -n 1 | grep -qF '($version)'"
    rm -rf "$extracted"
}

check_tarball() {
    say "checking $tarball"
    local name listing entry
    name=$(basename "$tarball" .tar.gz)
    listing=$(tar -tzf "$tarball")
    for entry in install.sh wsinspector wsinspector-cli _internal/ LICENSE "share/applications/$APP_ID.desktop" \
            "share/mime/packages/$APP_ID.xml" "share/icons/hicolor/48x48/apps/$APP_ID.png" \
            "share/icons/hicolor/scalable/apps/$APP_ID.svg"; do
        check "tarball: contains $name/$entry" grep -qxF "$name/$entry" <<<"$listing"
    done
    check "tarball: everything is under $name/" test -z "$(grep -v "^$name/" <<<"$listing")"
}

# --- 2. a fresh Debian in a chroot ------------------------------------------------------------------------------

# The Debian archive this machine's apt uses (deb822 .sources first, then one-line .list entries).
host_mirror() {
    local uri
    uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -E '/debian/?$' | head -n 1 || true)
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\/debian\/\{0,1\}\) .*/\2/p' | head -n 1 || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

chroot_dir=""
mounts=()

# Mounts below the chroot, innermost last (from /proc/self/mountinfo, so none is missed).
mounts_below() {
    awk -v dir="$1" '$5 == dir || index($5, dir "/") == 1 {print $5}' /proc/self/mountinfo
}

# Ends the processes still running inside the chroot (an interrupted apt-get, an Xvfb), by their ids.
stop_chroot_processes() {
    local deadline=$((SECONDS + 15)) proc
    local -a pids
    while :; do
        pids=()
        for proc in /proc/[0-9]*; do
            [ "$(readlink "$proc/root" 2>/dev/null)" = "$chroot_dir" ] && pids+=("${proc#/proc/}")
        done
        [ ${#pids[@]} -gt 0 ] || return 0
        if [ $SECONDS -ge $deadline ]; then
            echo "$PROG: processes ${pids[*]} are still running in $chroot_dir" >&2
            return 1
        fi
        kill -KILL "${pids[@]}" 2>/dev/null || true
        sleep 0.2  # poll interval until they are gone (deadline above)
    done
}

unmount_chroot() {
    [ -n "$chroot_dir" ] || return 0
    local i mount
    stop_chroot_processes || true
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
    mounts=()
    # Anything else mounted below it (a process started inside may have done so): deepest first.
    while read -r mount; do
        umount -l "$mount" 2>/dev/null || true
    done < <(mounts_below "$chroot_dir" | sort -r)
}

remove_chroot() {
    [ -n "$chroot_dir" ] && [ -d "$chroot_dir" ] || return 0
    if [ -n "$(mounts_below "$chroot_dir")" ]; then
        echo "$PROG: $chroot_dir still has mounts below it; leaving it in place:" >&2
        mounts_below "$chroot_dir" >&2
        return 1
    fi
    rm -rf --one-file-system "$chroot_dir"
}

cleanup() {
    local status=$?
    unmount_chroot
    if [ "$keep" = yes ] && [ -n "$chroot_dir" ]; then
        echo "$PROG: kept $chroot_dir"
    else
        remove_chroot || status=1
    fi
    chroot_dir=""
    return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount_into() {  # mount_into TARGET MOUNT-ARGS...
    local target=$1
    shift
    mount "$@" "$target"
    mounts+=("$target")
}

says_version() {  # says_version COMMAND...: the first line of its output is "wsinspector VERSION[ ...]"
    local first
    first=$("$@" | sed -n 1p)
    [[ $first == "wsinspector $version" || $first == "wsinspector $version "* ]]
}

has_libssl3() { chroot "$chroot_dir" /sbin/ldconfig -p | grep 'libssl\.so\.3 ' >/dev/null; }

in_chroot() {  # runs a command as root in the chroot with a clean environment
    chroot "$chroot_dir" /usr/bin/env -i HOME=/root PATH="$CHROOT_PATH" LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

as_user() {  # as_user SCRIPT: runs a bash script as the chroot's ordinary user
    chroot --userspec=tester:tester "$chroot_dir" /usr/bin/env -i HOME=/home/tester USER=tester \
        PATH="/home/tester/.local/bin:$CHROOT_PATH" LANG=C.UTF-8 /bin/bash -euo pipefail -c "$1"
}

make_chroot() {
    local suite=$1 mirror
    mirror=$(host_mirror)
    chroot_dir="$work/chroot-$suite"
    if [ -e "$chroot_dir" ]; then  # left by an interrupted run
        unmount_chroot
        remove_chroot || die "cannot remove the old $chroot_dir"
    fi
    say "debootstrap --variant=minbase $suite from $mirror"
    if ! debootstrap --variant=minbase "$suite" "$chroot_dir" "$mirror" >"$work/debootstrap-$suite.log" 2>&1; then
        tail -n 20 "$work/debootstrap-$suite.log" >&2
        die "debootstrap $suite failed (log: $work/debootstrap-$suite.log)"
    fi
    mount_into "$chroot_dir/proc" -t proc proc
    mount_into "$chroot_dir/sys" -t sysfs sysfs
    mount_into "$chroot_dir/dev" --bind /dev
    mount_into "$chroot_dir/dev/pts" -t devpts -o newinstance,ptmxmode=0666 devpts
    mount_into "$chroot_dir/dev/shm" -t tmpfs -o mode=1777 tmpfs
    printf '#!/bin/sh\nexit 101\n' >"$chroot_dir/usr/sbin/policy-rc.d"  # no services start in here
    chmod 755 "$chroot_dir/usr/sbin/policy-rc.d"
    # The mirror may serve a dated snapshot of the archive, whose Release files are past their Valid-Until.
    echo 'Acquire::Check-Valid-Until "false";' >"$chroot_dir/etc/apt/apt.conf.d/99snapshot"
}

chroot_install_tools() {
    in_chroot apt-get update -qq
    in_chroot apt-get install -y -qq --no-install-recommends "${CHROOT_TOOLS[@]}" >"$work/tools.log" 2>&1 \
        || { tail -n 20 "$work/tools.log" >&2; return 1; }
}

# Every file and directory of the system, less what changes on its own (logs, caches, apt's and dpkg's state,
# /tmp, the homes), one path a line.
snapshot() {
    (cd "$chroot_dir" && find . -xdev \
        \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp -o -path ./root \
           -o -path ./home -o -path ./var/log -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/dpkg \
           -o -path ./etc/ld.so.cache -o -regex '\./etc/[a-z]*-' \) -prune -o -print | sort)
}

chroot_deb() {
    local suite=$1 name
    name=$(basename "$deb")
    cp "$deb" "$chroot_dir/tmp/$name"
    snapshot >"$work/before-deb-$suite.txt"
    timed "$suite: apt-get install ./$name" \
        in_chroot apt-get install -y -qq "/tmp/$name" >"$work/install-$suite.log" 2>&1 \
        || { tail -n 30 "$work/install-$suite.log" >&2; fail "$suite: apt-get install ./$name"; return 1; }
    pass "$suite: apt-get install ./$name ($(grep -c '^Setting up' "$work/install-$suite.log") packages set up)"

    check "$suite: wsinspector --version says $version" says_version in_chroot wsinspector --version
    check "$suite: wsinspector-cli --version says $version" says_version in_chroot wsinspector-cli --version
    check "$suite: a font came with it" test -n "$(find "$chroot_dir/usr/share/fonts" -name '*.ttf' -print -quit)"
    check "$suite: the CA store came with it" test -s "$chroot_dir/etc/ssl/certs/ca-certificates.crt"
    check "$suite: libssl.so.3 is there for Qt's TLS backend" has_libssl3
    check "$suite: the installed desktop entry validates" \
        in_chroot desktop-file-validate "/usr/share/applications/$APP_ID.desktop"
    check "$suite: the icon is in the hicolor theme" \
        test -f "$chroot_dir/usr/share/icons/hicolor/48x48/apps/$APP_ID.png"
    check "$suite: the desktop database lists it for $TEST_TYPE" \
        grep -q "^$TEST_TYPE=.*$APP_ID.desktop" "$chroot_dir/usr/share/applications/mimeinfo.cache"
    check "$suite: the MIME database knows $TEST_TYPE" \
        test -f "$chroot_dir/usr/share/mime/${TEST_TYPE}.xml"
    printf 'version: 1\nname: t\nurl: ws://127.0.0.1:1/\nsteps: []\n' >"$chroot_dir/tmp/x.wstest.yaml"
    printf '{"format": "wsinspector-session", "version": 1, "session": {}, "frames": []}\n' \
        >"$chroot_dir/tmp/exported-session"
    check "$suite: xdg-mime: x.wstest.yaml is $TEST_TYPE" \
        test "$(in_chroot xdg-mime query filetype /tmp/x.wstest.yaml)" = "$TEST_TYPE"
    check "$suite: xdg-mime: a session export without its extension is $SESSION_TYPE (magic)" \
        test "$(in_chroot xdg-mime query filetype /tmp/exported-session)" = "$SESSION_TYPE"
    check "$suite: xdg-mime: wsinspector opens $TEST_TYPE" \
        test "$(in_chroot xdg-mime query default "$TEST_TYPE")" = "$APP_ID.desktop"
    check "$suite: xdg-mime: wsinspector opens $SESSION_TYPE" \
        test "$(in_chroot xdg-mime query default "$SESSION_TYPE")" = "$APP_ID.desktop"

    say "$suite: packaging/smoke.py against the installed app"
    if timed "$suite: smoke.py (installed .deb)" \
        "$python" "$root/packaging/smoke.py" \
            --prefix "chroot $chroot_dir /usr/bin/env -i HOME=/root PATH=$CHROOT_PATH LANG=C.UTF-8" \
            --root "$chroot_dir" --trust-ca system --gui-wrapper "xvfb-run -a" --expect-version "$version"; then
        pass "$suite: smoke.py"
    else
        fail "$suite: smoke.py"
    fi

    local files
    files=$(in_chroot dpkg-query -L wsinspector)
    timed "$suite: apt-get purge wsinspector" \
        in_chroot apt-get purge -y -qq wsinspector >"$work/purge-$suite.log" 2>&1 \
        || { tail -n 30 "$work/purge-$suite.log" >&2; fail "$suite: apt-get purge wsinspector"; return 1; }
    check "$suite: dpkg no longer knows wsinspector" bash -c "! chroot '$chroot_dir' dpkg-query -W wsinspector 2>/dev/null"
    local path left=()
    while IFS= read -r path; do
        if [ -z "$path" ] || [ "$path" = /. ]; then continue; fi
        if [ -L "$chroot_dir$path" ] || [ -f "$chroot_dir$path" ]; then
            left+=("$path")
        elif [ -d "$chroot_dir$path" ] && ! in_chroot dpkg-query -S "$path" >/dev/null 2>&1 \
                && [ -z "$(ls -A "$chroot_dir$path")" ]; then
            left+=("$path/")
        fi
    done <<<"$files"
    check "$suite: purge left no file of the package" test ${#left[@]} -eq 0
    [ ${#left[@]} -eq 0 ] || printf '  left: %s\n' "${left[@]}" >&2
    check "$suite: the desktop database no longer lists it" \
        bash -c "! grep -q '$APP_ID' '$chroot_dir/usr/share/applications/mimeinfo.cache'"
    check "$suite: the MIME database no longer knows $TEST_TYPE" test ! -e "$chroot_dir/usr/share/mime/${TEST_TYPE}.xml"
}

chroot_tarball() {
    local suite=$1 name dir
    name=$(basename "$tarball")
    dir=$(basename "$tarball" .tar.gz)
    in_chroot useradd --create-home --shell /bin/bash tester
    cp "$tarball" "$chroot_dir/tmp/$name"
    chmod 644 "$chroot_dir/tmp/$name"
    as_user "find ~ | sort" >"$work/home-before-$suite.txt"
    # The app's dependencies are still there from the .deb (purged, not yet autoremoved).
    timed "$suite: tarball install.sh (user)" \
        as_user "mkdir /tmp/unpacked && tar -xzf /tmp/$name -C /tmp/unpacked && /tmp/unpacked/$dir/install.sh" \
        >"$work/user-install-$suite.log" 2>&1 \
        || { cat "$work/user-install-$suite.log" >&2; fail "$suite: install.sh"; return 1; }
    pass "$suite: install.sh as an ordinary user"
    sed 's/^/  /' "$work/user-install-$suite.log"
    check "$suite: ~/.local/bin/wsinspector-cli --version says $version" says_version as_user 'wsinspector-cli --version'
    check "$suite: the user's menu entry runs the installed app" \
        as_user "grep -qx 'Exec=/home/tester/.local/lib/wsinspector/wsinspector %f' ~/.local/share/applications/$APP_ID.desktop"
    check "$suite: the user's menu entry validates" \
        as_user "desktop-file-validate ~/.local/share/applications/$APP_ID.desktop"
    check "$suite: xdg-mime (user): x.wstest.yaml is $TEST_TYPE" \
        test "$(as_user 'xdg-mime query filetype /tmp/x.wstest.yaml')" = "$TEST_TYPE"
    check "$suite: xdg-mime (user): wsinspector opens $SESSION_TYPE" \
        test "$(as_user "xdg-mime query default $SESSION_TYPE")" = "$APP_ID.desktop"
    check "$suite: the user-installed window opens (--smoke-test under Xvfb)" \
        as_user "HOME=/tmp/gui-home xvfb-run -a wsinspector --smoke-test --data-dir /tmp/gui-data >/tmp/gui.out 2>&1 \
                 && grep -x 'wsinspector: smoke test: window shown' /tmp/gui.out >/dev/null \
                 || { cat /tmp/gui.out >&2; false; }"
    check "$suite: install.sh again replaces the installation" \
        as_user "/tmp/unpacked/$dir/install.sh >/dev/null && test -x ~/.local/bin/wsinspector"
    check "$suite: install.sh --uninstall" as_user "/home/tester/.local/lib/wsinspector/install.sh --uninstall >/dev/null"
    as_user "find ~ | sort" >"$work/home-after-$suite.txt"
    check "$suite: the home folder is as it was before install.sh" \
        diff -u "$work/home-before-$suite.txt" "$work/home-after-$suite.txt"
    in_chroot userdel --remove tester 2>/dev/null
}

chroot_autoremove() {
    local suite=$1
    # Recommends do not keep a package here: minbase's apt recommends ca-certificates, which came with wsinspector.
    in_chroot apt-get autoremove --purge -y -qq -o APT::AutoRemove::RecommendsImportant=false >"$work/autoremove-$suite.log" 2>&1 \
        || { tail -n 30 "$work/autoremove-$suite.log" >&2; fail "$suite: apt-get autoremove --purge"; return 1; }
    snapshot >"$work/after-$suite.txt"
    check "$suite: after purge and autoremove the system is as it was" \
        diff -u "$work/before-deb-$suite.txt" "$work/after-$suite.txt"
}

test_suite() {
    local suite=$1 start=$SECONDS
    timed "$suite: debootstrap minbase" make_chroot "$suite"
    timed "$suite: install the test tools" chroot_install_tools
    if chroot_deb "$suite"; then
        chroot_tarball "$suite"
        chroot_autoremove "$suite"
    fi
    timings+=("$(printf '%-56s %6d s' "$suite: all" $((SECONDS - start)))")
    unmount_chroot
    if [ "$keep" = yes ]; then
        say "kept $chroot_dir"
    else
        remove_chroot || fail "$suite: removing $chroot_dir"
    fi
    chroot_dir=""
}

started=$(date +%s)
ensure_packages debootstrap desktop-file-utils appstream libxml2-utils shared-mime-info
check_deb
check_tarball
for suite in "${suites[@]}"; do
    test_suite "$suite"
done
echo
echo "$PROG: timings"
printf '  %s\n' "${timings[@]}"
echo "$PROG: $(($(date +%s) - started)) s in all"
if [ "$failures" -gt 0 ]; then
    echo "$PROG: $failures check(s) FAILED"
    exit 1
fi
echo "$PROG: all checks passed"
