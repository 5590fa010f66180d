#!/bin/sh
# macOS: Hearth.app and Hearth.dmg (not built or tested here: these machines are Linux).
# Needs Python 3.11+ from python.org or Homebrew, and Xcode's command line tools.
# llama-cpp-python builds with Metal on Apple silicon by default.
set -eu
cd "$(dirname "$0")/../.."
python3 -m venv .venv && .venv/bin/pip install -e '.[package]'
.venv/bin/python packaging/export_embedder.py build/embedder-onnx
# The icon: an .icns from the PNG sizes in resources/icons.
mkdir -p build/hearth.iconset
for size in 16 32 64 128 256 512; do
    cp "resources/icons/hearth-$size.png" "build/hearth.iconset/icon_${size}x${size}.png"
done
iconutil -c icns build/hearth.iconset -o build/hearth.icns
# The spec adds a BUNDLE step on macOS: dist/Hearth.app, with the same models, resources and ONNX embedder.
.venv/bin/pyinstaller --noconfirm packaging/hearth.spec
# Sign (optional, needs a Developer ID) and wrap in a disk image.
# codesign --deep --force --options runtime --sign "Developer ID Application: NAME" dist/Hearth.app
hdiutil create -volname Hearth -srcfolder dist/Hearth.app -ov -format UDZO dist/Hearth.dmg
