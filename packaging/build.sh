#!/bin/sh
# Build the Linux bundle: dist/hearth/ (one folder: Python, Qt, llama.cpp, both models) and
# dist/hearth-linux-x86_64.tar.gz with install.sh / uninstall.sh and the .desktop entry.
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
rm -rf build/embedder-onnx build/hearth dist/hearth
$PY packaging/export_embedder.py build/embedder-onnx
$PY -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/hearth.spec
cp packaging/linux/install.sh packaging/linux/uninstall.sh dist/hearth/
cp packaging/linux/hearth.desktop dist/hearth/hearth.desktop.in
tar -C dist -czf dist/hearth-linux-x86_64.tar.gz hearth
du -sh dist/hearth dist/hearth-linux-x86_64.tar.gz
