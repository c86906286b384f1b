#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install wsinspector into it, editable.
# Usage: scripts/bootstrap.sh [extras]   e.g. "test"
# Installs again only when pyproject.toml (dependencies, entry points) or the extras changed: the install is
# editable, so changes to the code need none. FORCE=1 installs anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "wsinspector needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=.venv/.installed-from-pyproject
wanted="$spec $(cksum < pyproject.toml)"
if [ -z "${FORCE:-}" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
printf '%s\n' "$wanted" > "$stamp"
