#!/bin/bash
# Build Hearth.app and a .dmg on macOS, signed for the hardened runtime and optionally notarized.
#
#   packaging/macos/build_dmg.sh
#
# Environment (all optional):
#   HEARTH_SIGN_IDENTITY   "Developer ID Application: Name (TEAMID)"; unset = ad-hoc signature,
#                          which runs on this Mac only (Gatekeeper blocks it elsewhere)
#   HEARTH_NOTARY_PROFILE  a `xcrun notarytool store-credentials` profile; set = notarize + staple
#   HEARTH_TEST_MODEL      a small .gguf: the frozen --self-test then also loads it
# Needs: the .venv with the packaging extra (python3 packaging/dev.py run --version, then
# .venv/bin/pip install -e '.[packaging]'), Xcode command line tools. Not run in CI (Linux only).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
python=.venv/bin/python
version=$("$python" -c 'import wizard; print(wizard.__version__)')
app=build/dist/Hearth.app
dmg=dist/Hearth-$version-macos-$(uname -m).dmg
identity=${HEARTH_SIGN_IDENTITY:--}

# 1. The icon: an .icns from the rendered PNGs (assets/icons, see packaging/render_icons.py).
iconset=build/hearth.iconset
rm -rf "$iconset" && mkdir -p "$iconset"
for size in 16 32 128 256 512; do
    cp "assets/icons/hearth-$size.png" "$iconset/icon_${size}x${size}.png"
done
for size in 16 128 256; do
    cp "assets/icons/hearth-$((size * 2)).png" "$iconset/icon_${size}x${size}@2x.png"
done
cp assets/icons/hearth-64.png "$iconset/icon_32x32@2x.png"
iconutil -c icns "$iconset" -o build/hearth.icns

# 2. Freeze (packaging/hearth.spec makes the .app on macOS).
HEARTH_ICNS="$repo/build/hearth.icns" "$python" -m PyInstaller --noconfirm \
    --distpath build/dist --workpath build/work packaging/hearth.spec

# 3. Sign inside out: every Mach-O file (libraries, Python, Qt's frameworks), each framework, the
#    executable, then the bundle; hardened runtime, entitlements on the programs.
bash packaging/macos/sign_app.sh "$app" "$identity" packaging/macos/entitlements.plist

# 4. Prove the signed app works before shipping it (offscreen, private data folder).
test_home=$(mktemp -d)
model_args=()
if [ -n "${HEARTH_TEST_MODEL:-}" ]; then model_args=(--model "$HEARTH_TEST_MODEL"); fi
# ${a[@]+"${a[@]}"}: macOS's bash 3.2 calls an empty array unbound under `set -u`.
QT_QPA_PLATFORM=offscreen HEARTH_HOME="$test_home" "$app/Contents/MacOS/Hearth" --self-test \
    ${model_args[@]+"${model_args[@]}"}
rm -rf "$test_home"

# 5. The disk image: the app and a link to /Applications to drag it onto.
staging=build/dmg
rm -rf "$staging" && mkdir -p "$staging" dist
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Hearth $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
if [ "$identity" != "-" ]; then codesign --force --timestamp --sign "$identity" "$dmg"; fi

# 6. Notarize and staple, so Gatekeeper opens it without a warning on any Mac.
if [ -n "${HEARTH_NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$dmg" --keychain-profile "$HEARTH_NOTARY_PROFILE" --wait
    xcrun stapler staple "$dmg"
fi
echo "Built $dmg ($(du -h "$dmg" | cut -f1))"
