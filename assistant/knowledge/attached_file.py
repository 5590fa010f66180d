"""A file attached to one conversation: read and cut into passages once, ranked for each question.

No collection, no vectors: the file is read by the same limited reader processes as the library
(parse_pool.py), cut by the same chunker, and its passages are kept with the conversation. Each
turn picks the passages that share the most distinctive words with the question (BM25 over the
attachment's own passages); a question with no word in common (say "summarise this") gets the
opening passages, and a file of a few passages is given whole.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.core.attachment_store import Attachment
from assistant.core.errors import HearthError
from assistant.knowledge.chunking import chunk_sections
from assistant.knowledge.documents import SUPPORTED_SUFFIXES, LoadError
from assistant.knowledge.library_index import STOPWORDS
from assistant.knowledge.parse_pool import ParsePool
from assistant.knowledge.retriever import Passage

MAX_PASSAGES = 2000  # about 1.5 MB of text: more belongs in a collection, with its vector index
BM25_K1, BM25_B = 1.2, 0.75


class AttachmentError(HearthError):
    pass


@dataclass(frozen=True)
class AttachedPassage:
    text: str
    page: int | None
    heading: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttachedPassage:
        page = data.get("page")
        return cls(
            str(data.get("text", "")),
            int(page) if isinstance(page, int) else None,
            str(data.get("heading", "")),
            int(data.get("start", 0)),
            int(data.get("end", 0)),
        )


def read_attachment(path: Path, pool: ParsePool, max_bytes: int) -> tuple[list[AttachedPassage], list[str]]:
    """The file's passages and the reader's warnings; AttachmentError says, in plain words, why not."""
    hint = "Nothing was attached; the conversation is as it was."
    if path.is_dir():
        raise AttachmentError(
            f"{path.name} is a folder.", "To answer from a folder, add it to a collection in the Library."
        )
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        known = ", ".join(sorted(s for s in SUPPORTED_SUFFIXES if s in {".pdf", ".docx", ".txt", ".md", ".html"}))
        raise AttachmentError(f"Hearth cannot read '{path.suffix or path.name}' files (it reads {known}, …).", hint)
    try:
        info = path.stat()
    except OSError as exc:
        raise AttachmentError(f"{path.name} cannot be opened: {exc.strerror or exc}.", hint) from None
    if not path.is_file():
        raise AttachmentError(f"{path.name} is not a regular file.", hint)
    if info.st_size == 0:
        raise AttachmentError(f"{path.name} is empty.", hint)
    if info.st_size > max_bytes:
        raise AttachmentError(f"{path.name} is larger than the {max_bytes // (1024 * 1024)} MB limit.", hint)
    loaded = pool.load(path)
    if isinstance(loaded, LoadError):
        raise AttachmentError(f"{path.name} could not be read: {loaded.reason}.", hint)
    passages = [AttachedPassage(c.text, c.page, c.heading, c.start, c.end) for c in chunk_sections(loaded.sections)]
    if not passages:
        raise AttachmentError(f"{path.name} has no text to read.", hint)
    if len(passages) > MAX_PASSAGES:
        raise AttachmentError(
            f"{path.name} is too long to attach ({len(passages)} passages; at most {MAX_PASSAGES}).",
            "Add it to a collection in the Library instead: collections index long documents for search.",
        )
    return passages, list(loaded.warnings)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if len(w) > 1 and w not in STOPWORDS]


def pick(question: str, texts: list[str], k: int) -> list[tuple[int, float]]:
    """(index, score) of the ``k`` passages for ``question``, best first; the opening passages,
    in order, when no passage shares a word with it."""
    if len(texts) <= k:
        return [(i, 0.0) for i in range(len(texts))]
    terms = set(_words(question))
    documents = [Counter(_words(text)) for text in texts]
    average = sum(sum(d.values()) for d in documents) / len(documents) or 1.0
    frequency = {t: sum(1 for d in documents if t in d) for t in terms}
    scores: list[tuple[float, int]] = []
    for i, counts in enumerate(documents):
        length = sum(counts.values())
        score = 0.0
        for term in terms:
            tf = counts.get(term, 0)
            if tf:
                idf = math.log(1 + (len(documents) - frequency[term] + 0.5) / (frequency[term] + 0.5))
                score += idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length / average))
        if score > 0:
            scores.append((score, i))
    ranked = [(i, round(score, 5)) for score, i in sorted(scores, key=lambda s: (-s[0], s[1]))[:k]]
    chosen = {i for i, _ in ranked}
    return ranked + [(i, 0.0) for i in range(len(texts)) if i not in chosen][: k - len(ranked)]


def attached_passages(files: list[Attachment], question: str, k: int) -> list[Passage]:
    """The ``k`` passages of a conversation's attached files for ``question``, numbered from 1."""
    flat = [(item, i, AttachedPassage.from_dict(p)) for item in files for i, p in enumerate(item.passages)]
    picked = pick(question, [passage.text for _, _, passage in flat], k) if flat else []
    found = []
    for rank, (index, score) in enumerate(picked):
        item, position, passage = flat[index]
        found.append(
            Passage(
                n=rank + 1,
                path=item.path,
                page=passage.page,
                heading=passage.heading,
                score=score,
                text=passage.text,
                start=passage.start,
                end=passage.end,
                chunk_id=f"attachment-{item.id}-{position}",
            )
        )
    return found
