#!/bin/sh
# Install Hearth for this user only (no administrator password needed):
#   ./install.sh              copy Hearth to ~/.local/share/Hearth-app and add it to the app menu
#   ./install.sh --uninstall  remove the program and its menu entry
# Your models, chats and settings (~/.local/share/Hearth, ~/.config/Hearth) are never touched
# by either; delete those folders yourself if you want them gone.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
app_dir=$data_home/Hearth-app
desktop_file=$data_home/applications/hearth.desktop
icon_file=$data_home/icons/hicolor/256x256/apps/hearth.png

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app_dir"
    rm -f "$desktop_file" "$icon_file"
    echo "Hearth was removed. Your models and chats are still in $data_home/Hearth."
    exit 0
fi

if [ ! -x "$here/Hearth/Hearth" ]; then
    echo "This folder does not hold Hearth (Hearth/Hearth is missing). Unpack the whole archive first." >&2
    exit 1
fi

# Copy next to the old version first, then swap, so a failed copy leaves the old one working.
mkdir -p "$data_home"
rm -rf "$app_dir.new"
cp -R "$here/Hearth" "$app_dir.new"
rm -rf "$app_dir.old"
if [ -e "$app_dir" ]; then mv "$app_dir" "$app_dir.old"; fi
mv "$app_dir.new" "$app_dir"
rm -rf "$app_dir.old"

mkdir -p "$(dirname "$desktop_file")" "$(dirname "$icon_file")"
cp "$here/hearth.png" "$icon_file"
sed "s|@APP_DIR@|$app_dir|g" "$here/hearth.desktop" > "$desktop_file"
chmod 644 "$desktop_file"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_home/applications" || true

echo "Hearth is installed. Open it from your applications menu, or run: $app_dir/Hearth"
