#!/usr/bin/env bash
# Install the node programs some tests run, each folder from its lock file, once; again only when the lock file
# changed. tests/node_peers: the servers the decoder tests talk to (graphql-ws over ws, socket.io, stomp).
# tests/node_tools: the tools that run what wsinspector writes (Artillery for an exported load test, wscat for
# a copied command); Artillery is large (about 600 MB, a minute or two to install).
# Needs node and npm (Debian: apt-get install nodejs npm).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v npm >/dev/null 2>&1; then
    echo "node-peers: npm is not installed (apt-get install nodejs npm): the GraphQL over WebSocket, load test" \
         "export and Copy as wscat tests need it" >&2
    exit 1
fi
# Artillery depends on its Playwright engine, whose install would download a browser: no test needs it
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for folder in tests/node_peers tests/node_tools; do
    cd "$root/$folder"
    stamp=node_modules/.installed-from-lock
    if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
        continue
    fi
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    cp package-lock.json "$stamp"
done
