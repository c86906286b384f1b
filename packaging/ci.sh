#!/usr/bin/env bash
# The packaging checks CI runs after the test suite (.ci/run): build the wheel, the sdist, the frozen onedir,
# the .deb and the portable tarball from this checkout, and check each as a user would meet it.
# Each stage prints its duration; the first failure stops the run with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."

python=.venv/bin/python
[ -x "$python" ] || scripts/bootstrap.sh test
total_start=$SECONDS

stage() {
    local name=$1
    shift
    local start=$SECONDS
    echo "== packaging: $name"
    if ! "$@"; then
        echo "== packaging: $name FAILED after $((SECONDS - start)) s" >&2
        exit 1
    fi
    echo "== packaging: $name passed in $((SECONDS - start)) s"
}

# what the window checks need: Qt's X11 libraries and a virtual display; the keyring tests: a Secret Service
scripts/qt-system-packages.sh xvfb xauth gnome-keyring dbus

rm -rf dist
# the .deb CI tests is compressed with zstd in seconds; a release's (xz) takes about two minutes more
stage "build: icons, wheel and sdist, onedir, tarball, .deb" \
    env WSINSPECTOR_DEB_FAST=1 "$python" packaging/build.py icons wheel onedir tarball deb
stage "wheel and sdist: metadata, Windows/macOS/Linux dependencies, pipx, the sdist's core tests" \
    "$python" packaging/check_dist.py
stage "the onedir: contents, plugins, highest GLIBC" "$python" packaging/check_bundle.py dist/wsinspector
stage "the onedir as a user runs it: --version, serve, run over ws and wss, the window" \
    xvfb-run -a "$python" packaging/smoke.py --bin-dir dist/wsinspector
stage ".deb and tarball: validated, installed into fresh Debian 12 and 13, smoke-tested, purged" \
    packaging/linux/test.sh --suite bookworm --suite trixie
stage "Windows installer: install, associations, uninstall under wine" packaging/windows/test_wine.sh

echo "== packaging: every check passed in $((SECONDS - total_start)) s"
