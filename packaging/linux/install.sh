#!/bin/sh
# Install Hearth for this user: the app folder, a launcher in the applications menu, and the icon.
# Run from the unpacked bundle: ./install.sh   (nothing is written outside your home directory)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
prefix="$data/hearth-app"
mkdir -p "$prefix" "$data/applications"
if [ "$here" != "$prefix" ]; then
    rm -rf "$prefix"
    cp -a "$here" "$prefix"
fi
for size in 16 24 32 48 64 128 256 512; do
    dir="$data/icons/hicolor/${size}x${size}/apps"
    mkdir -p "$dir"
    cp "$prefix/_internal/resources/icons/hearth-$size.png" "$dir/hearth.png"
done
mkdir -p "$data/icons/hicolor/scalable/apps"
cp "$prefix/_internal/resources/icons/hearth.svg" "$data/icons/hicolor/scalable/apps/hearth.svg"
sed "s|@EXEC@|$prefix/hearth|" "$prefix/hearth.desktop.in" > "$data/applications/hearth.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$data/icons/hicolor" || true
echo "Hearth is installed: find it in your applications menu, or run $prefix/hearth"
echo "Your conversations stay in ${HEARTH_HOME:-$data/Hearth} and survive uninstalling."
