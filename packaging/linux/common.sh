# shellcheck shell=bash
# Shared by build.sh and test.sh (sourced). PROG names the script in messages.

die() { echo "$PROG: $*" >&2; exit 1; }
say() { echo "$PROG: $*"; }

# Installs the Debian packages that are missing, with apt-get as root; elsewhere names them and stops.
ensure_packages() {
    local missing=() pkg log
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep "ok installed" >/dev/null || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        die "missing Debian packages: ${missing[*]} (install them with apt-get)"
    fi
    say "installing ${missing[*]}"
    log=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "apt-get install ${missing[*]} failed"
    fi
    rm -f "$log"
}
