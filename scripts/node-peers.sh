#!/usr/bin/env bash
# Install the node servers some tests talk to (tests/node_peers: graphql-ws over ws) from their lock file, once;
# again only when the lock file changed. Needs node and npm (Debian: apt-get install nodejs npm).
set -euo pipefail
cd "$(dirname "$0")/../tests/node_peers"
if ! command -v npm >/dev/null 2>&1; then
    echo "node-peers: npm is not installed (apt-get install nodejs npm): the GraphQL over WebSocket tests need it" >&2
    exit 1
fi
stamp=node_modules/.installed-from-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
cp package-lock.json "$stamp"
