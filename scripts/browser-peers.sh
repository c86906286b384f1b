#!/usr/bin/env bash
# Install what the HAR round trip with a real browser needs (tests/browser_har): Debian's Chromium, and
# playwright-core and har-validator from their lock file (again only when the lock file changed). Idempotent;
# needs apt (as root or with sudo) and node with npm (Debian: apt-get install nodejs npm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/qt-system-packages.sh chromium
cd tests/browser_har
if ! command -v npm >/dev/null 2>&1; then
    echo "browser-peers: npm is not installed (apt-get install nodejs npm): the HAR browser tests need it" >&2
    exit 1
fi
stamp=node_modules/.installed-from-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
cp package-lock.json "$stamp"
