"""Counting text the way the embedder does, so that every passage is embedded whole.

all-MiniLM-L6-v2 reads at most 256 word-pieces, [CLS] and [SEP] included, and silently drops
the rest: a 1,400-character passage of English is about 300 of them, of Japanese about 1,400.
Chunks are therefore sized with the embedder's own tokenizer (its tokenizer.json, read by the
``tokenizers`` library, which the ONNX runner uses too). Where that file is missing, a
conservative estimate stands in: one token per CJK character, one per three other characters.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Protocol

from assistant.knowledge.bundled_embedder import MINILM_NAME, bundled_embedder_path

MINILM_MAX_TOKENS = 256  # the model's max_seq_length
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
_WIDE = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


class TokenCounter(Protocol):
    @property
    def name(self) -> str: ...

    def counts(self, texts: list[str]) -> list[int]:
        """Tokens in each text, without the special tokens."""
        ...

    def starts(self, text: str) -> list[int]:
        """The character offset where each token of ``text`` starts."""
        ...


class WordPieceCounter:
    def __init__(self, tokenizer_file: Path, name: str) -> None:
        from tokenizers import Tokenizer

        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.name = name

    def counts(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]

    def starts(self, text: str) -> list[int]:
        return [int(start) for start, _ in self._tokenizer.encode(text, add_special_tokens=False).offsets]

    def unknown_shares(self, texts: list[str]) -> list[float]:
        """The share of each text's tokens that the model does not know ([UNK]); 1.0 for none."""
        unknown = self._tokenizer.token_to_id("[UNK]")
        if not texts or unknown is None:
            return [0.0] * len(texts)
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [e.ids.count(unknown) / len(e.ids) if e.ids else 1.0 for e in encodings]


class EstimatingCounter:
    """For an embedder whose tokenizer is not at hand: errs on the side of smaller chunks."""

    name = "estimate"

    def counts(self, texts: list[str]) -> list[int]:
        return [self._count(text) for text in texts]

    @staticmethod
    def _count(text: str) -> int:
        wide = len(_WIDE.findall(text))
        return wide + -(-(len(text) - wide) // 3)

    def starts(self, text: str) -> list[int]:
        starts: list[int] = []
        run = 0  # narrow characters since the last token start
        for index, char in enumerate(text):
            if _WIDE.match(char) or run % 3 == 0:
                starts.append(index)
            run = 0 if _WIDE.match(char) else run + 1
        return starts


@functools.cache
def _bundled_counter() -> TokenCounter:
    path = bundled_embedder_path()
    if path is not None and (path / "tokenizer.json").is_file():
        return WordPieceCounter(path / "tokenizer.json", f"{MINILM_NAME} word-pieces")
    return EstimatingCounter()


def counter_for(embedder: object) -> TokenCounter:
    """The embedder's own counter where it offers one (``token_counter``), MiniLM's otherwise:
    every runner of the bundled model shares its tokenizer."""
    own = getattr(embedder, "token_counter", None)
    return own if own is not None else _bundled_counter()
