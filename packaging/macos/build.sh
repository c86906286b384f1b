#!/usr/bin/env bash
# Sign, package, notarize and staple the macOS app bundle.
#
#   packaging/macos/build.sh [APP]      (default: dist/wsinspector.app, from the spec's BUNDLE)
#
# Writes dist/wsinspector-X.Y.Z-macos-$(uname -m).dmg: the app and an /Applications link, compressed (UDZO).
# Each step that needs secrets runs only when they are in the environment, and says so when skipped:
#
#   codesign (hardened runtime, secure timestamp), the .app and then the .dmg:
#     MACOS_SIGN_IDENTITY            e.g. "Developer ID Application: Name (TEAMID)" or its SHA-1; optional
#                                    when a certificate is imported below (its first identity is used)
#     MACOS_CERTIFICATE_P12_BASE64   a Developer ID Application certificate with its key, base64 of the .p12
#     MACOS_CERTIFICATE_PASSWORD     its password; both go into a temporary keychain deleted on exit
#     MACOS_ENTITLEMENTS             an entitlements plist for the executables; none by default: the onedir
#                                    bundle loads only libraries signed with the same identity, and neither
#                                    Qt Widgets nor CPython needs JIT or unsigned executable memory
#   notarization (needs a signed bundle), with an app-specific password:
#     APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD
#   or with an App Store Connect API key:
#     APPLE_API_KEY_BASE64 (the .p8, base64), APPLE_API_KEY_ID, APPLE_API_ISSUER
#   stapling follows a successful notarization.
#
# Without any secrets the .dmg holds the bundle as PyInstaller signed it (ad hoc): it runs on the build
# machine and, after the user allows it in System Settings > Privacy & Security, on others.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

fail() {
    echo "packaging/macos/build.sh: $*" >&2
    exit 1
}
step() { echo "== $*"; }
skip() { echo "== skipped: $*"; }

[ "$(uname -s)" = Darwin ] || fail "runs on macOS only (hdiutil, codesign, notarytool)"

app="${1:-dist/wsinspector.app}"
[ -d "$app/Contents/MacOS" ] || fail "$app is not an app bundle (build it first: python packaging/build.py onedir)"
app="$(cd "$(dirname "$app")" && pwd)/$(basename "$app")"

version="${VERSION:-${WSINSPECTOR_VERSION:-$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' wsinspector/__init__.py)}}"
[ -n "$version" ] || fail "no __version__ in wsinspector/__init__.py; set VERSION"
bundle_version="$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist" 2>/dev/null || true)"
[ "$bundle_version" = "$version" ] \
    || fail "$app has CFBundleShortVersionString '$bundle_version' but the project is $version: rebuild it"

arch="$(uname -m)"
dmg="$root/dist/wsinspector-$version-macos-$arch.dmg"
work="$(mktemp -d "${TMPDIR:-/tmp}/wsinspector-dmg.XXXXXX")"
keychain=""
cleanup() {
    if [ -n "$keychain" ]; then
        security delete-keychain "$keychain" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---- signing identity -------------------------------------------------------------------------------
identity="${MACOS_SIGN_IDENTITY:-}"
if [ -n "${MACOS_CERTIFICATE_P12_BASE64:-}" ]; then
    step "importing the signing certificate into a temporary keychain"
    [ -n "${MACOS_CERTIFICATE_PASSWORD:-}" ] || fail "MACOS_CERTIFICATE_P12_BASE64 is set but MACOS_CERTIFICATE_PASSWORD is not"
    keychain="$work/signing.keychain-db"
    keychain_password="$(uuidgen)"
    security create-keychain -p "$keychain_password" "$keychain"
    security set-keychain-settings -lut 3600 "$keychain"
    security unlock-keychain -p "$keychain_password" "$keychain"
    printf '%s' "$MACOS_CERTIFICATE_P12_BASE64" | base64 --decode >"$work/certificate.p12"
    security import "$work/certificate.p12" -k "$keychain" -f pkcs12 -P "$MACOS_CERTIFICATE_PASSWORD" \
        -T /usr/bin/codesign -T /usr/bin/security >/dev/null
    rm -f "$work/certificate.p12"
    security set-key-partition-list -S apple-tool:,apple: -s -k "$keychain_password" "$keychain" >/dev/null
    # codesign finds identities only in keychains on the search list.
    existing=()
    while IFS= read -r line; do
        line="${line#"${line%%[![:space:]]*}"}"
        existing+=("${line//\"/}")
    done < <(security list-keychains -d user)
    security list-keychains -d user -s "$keychain" ${existing[@]+"${existing[@]}"}
    if [ -z "$identity" ]; then
        identity="$(security find-identity -v -p codesigning "$keychain" | awk 'NR == 1 && $2 ~ /^[0-9A-F]+$/ && length($2) == 40 { print $2 }')"
        [ -n "$identity" ] || fail "the imported certificate holds no valid code-signing identity"
    fi
fi

signed=no
if [ -n "$identity" ]; then
    step "codesign $app (hardened runtime)"
    entitlements=()
    if [ -n "${MACOS_ENTITLEMENTS:-}" ]; then
        [ -f "$MACOS_ENTITLEMENTS" ] || fail "MACOS_ENTITLEMENTS=$MACOS_ENTITLEMENTS does not exist"
        entitlements=(--entitlements "$MACOS_ENTITLEMENTS")
    fi
    # As PyInstaller signs the .app it builds: every nested binary and framework, then the bundle.
    codesign --force --deep --options runtime --timestamp ${entitlements[@]+"${entitlements[@]}"} \
        --sign "$identity" "$app"
    codesign --verify --deep --strict --verbose=2 "$app"
    signed=yes
else
    skip "codesign (no MACOS_SIGN_IDENTITY or MACOS_CERTIFICATE_P12_BASE64)"
fi

# ---- disk image ---------------------------------------------------------------------------------------
step "disk image $dmg"
stage="$work/stage"
mkdir -p "$stage"
ditto "$app" "$stage/wsinspector.app"
ln -s /Applications "$stage/Applications"
mkdir -p "$(dirname "$dmg")"
rm -f "$dmg"
# hdiutil now and then fails with "Resource busy" on CI machines; it succeeds when tried again.
attempt=1
until hdiutil create -volname "wsinspector $version" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"; do
    [ "$attempt" -lt 5 ] || fail "hdiutil create failed $attempt times"
    attempt=$((attempt + 1))
    echo "hdiutil create failed; attempt $attempt"
done
hdiutil verify "$dmg"

if [ "$signed" = yes ]; then
    step "codesign $dmg"
    codesign --force --timestamp --sign "$identity" "$dmg"
    codesign --verify --verbose=2 "$dmg"
fi

# ---- notarization and stapling --------------------------------------------------------------------------
notary=()
if [ -n "${APPLE_API_KEY_BASE64:-}" ] && [ -n "${APPLE_API_KEY_ID:-}" ] && [ -n "${APPLE_API_ISSUER:-}" ]; then
    printf '%s' "$APPLE_API_KEY_BASE64" | base64 --decode >"$work/AuthKey_$APPLE_API_KEY_ID.p8"
    notary=(--key "$work/AuthKey_$APPLE_API_KEY_ID.p8" --key-id "$APPLE_API_KEY_ID" --issuer "$APPLE_API_ISSUER")
elif [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    notary=(--apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" --password "$APPLE_APP_PASSWORD")
fi

if [ "${#notary[@]}" -eq 0 ]; then
    skip "notarization and stapling (no APPLE_ID/APPLE_TEAM_ID/APPLE_APP_PASSWORD or APPLE_API_KEY_*)"
elif [ "$signed" = no ]; then
    skip "notarization and stapling (Apple notarizes signed code only; no signing identity)"
else
    step "notarytool submit --wait"
    xcrun notarytool submit "$dmg" "${notary[@]}" --wait --timeout 45m --output-format json \
        >"$work/notary.json" || true
    cat "$work/notary.json"
    status="$(plutil -extract status raw -o - "$work/notary.json" 2>/dev/null || true)"
    if [ "$status" != Accepted ]; then
        submission="$(plutil -extract id raw -o - "$work/notary.json" 2>/dev/null || true)"
        [ -z "$submission" ] || xcrun notarytool log "$submission" "${notary[@]}" || true
        fail "notarization ended with status '${status:-unknown}'"
    fi
    step "stapler staple"
    xcrun stapler staple "$dmg"
    xcrun stapler validate "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
fi

echo "built $dmg ($(du -h "$dmg" | cut -f1))"
