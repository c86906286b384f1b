#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Qt's X11 platform plugin needs (minimal systems lack a few xcb
# libraries), plus any packages named as arguments; as root, with sudo, or by saying what to install.
# Does nothing where dpkg is absent.
set -euo pipefail

command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=()
for pkg in libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
           libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -gt 0 ] || exit 0
install() {
    "$@" apt-get install -y -qq "${missing[@]}" >/dev/null \
        || { "$@" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "$@" apt-get install -y -qq "${missing[@]}"; }
}
if [ "$(id -u)" = 0 ]; then
    install env DEBIAN_FRONTEND=noninteractive
elif sudo -n true 2>/dev/null; then
    install sudo DEBIAN_FRONTEND=noninteractive
else
    echo "Qt needs these system packages: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
