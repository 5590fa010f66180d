#!/bin/sh
# Remove the app, its launcher and its icon. Your conversations, memories and libraries stay
# (in the data directory) unless you delete that folder yourself.
set -eu
data=${XDG_DATA_HOME:-$HOME/.local/share}
rm -rf "$data/hearth-app"
rm -f "$data/applications/hearth.desktop" "$data/icons/hicolor/scalable/apps/hearth.svg"
for size in 16 24 32 48 64 128 256 512; do
    rm -f "$data/icons/hicolor/${size}x${size}/apps/hearth.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "Hearth is uninstalled. Your data is still in ${HEARTH_HOME:-$data/Hearth}."
