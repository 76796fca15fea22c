#!/bin/bash
# Sign a frozen Hearth.app inside out for the hardened runtime (packaging/macos/build_dmg.sh runs it).
#
#   packaging/macos/sign_app.sh APP IDENTITY ENTITLEMENTS
#
# Every Mach-O file in the bundle is signed, whatever its name: the .dylib/.so libraries, the
# `Python` library, the binaries inside Qt's .framework bundles, any helper program. Then each
# .framework as a bundle (nested ones first), then the main executable and the app. Programs get
# the entitlements (libraries cannot use them). Written for macOS's /bin/bash 3.2.
set -euo pipefail

app=$1
identity=$2
entitlements=$3
main=$app/Contents/MacOS/$(basename "$app" .app)

sign() { codesign --force --timestamp --options runtime --sign "$identity" "$@"; }

# 1. Every Mach-O file but the main executable; file(1) tells code from data (symlinks are skipped:
#    what they point to is signed once, where it is).
find "$app/Contents" -type f ! -path "$main" -print0 | while IFS= read -r -d '' path; do
    case $(file -b "$path") in
        *Mach-O*executable*) sign --entitlements "$entitlements" "$path" ;;
        *Mach-O*) sign "$path" ;;
    esac
done

# 2. Each framework as a bundle, which seals its Info.plist and resources; -depth lists nested
#    frameworks before the one holding them. A folder without Info.plist is no bundle to codesign:
#    its binary was signed in step 1.
find "$app/Contents" -depth -type d -name '*.framework' -print0 | while IFS= read -r -d '' framework; do
    if [ -f "$framework/Resources/Info.plist" ]; then sign "$framework"; fi
done

# 3. The program, then the app around it (which seals everything inside).
sign --entitlements "$entitlements" "$main"
sign --entitlements "$entitlements" "$app"
codesign --verify --deep --strict --verbose=2 "$app"
