"""Long-term memory: what the chat session asks of it — recall before a reply, learn after one.

Memory is never allowed to take the chat down with it: a memory database that cannot be opened, a
vector store that fails, or extraction output that does not parse each leave chat working. A
failure costs only the turn it happens in: the next turn tries again. ``problem`` says what went
wrong until memory works again, and ``take_notice`` hands the front ends one message per streak of
failures (and one when it recovers), not one per turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.config import MemorySettings, read_section
from assistant.core.cancel import Cancelled, CancelToken
from assistant.core.database import Database
from assistant.core.errors import HearthError, StorageError
from assistant.core.messages import ChatMessage
from assistant.engine.base import Engine
from assistant.knowledge.embedder import Embedder
from assistant.memory.extraction import (
    Candidate,
    Relation,
    explicit_memory,
    extract,
    grounded,
    relation,
    support,
    worth_extracting,
)
from assistant.memory.profiles import Profile, ProfileStore
from assistant.memory.store import ConversationDigest, Memory, MemoryStore, MemoryVectors

log = logging.getLogger(__name__)

# Cosine similarity (all-MiniLM-L6-v2) above which a candidate is the same fact in other words,
# and above which the model is asked whether the new fact replaces the old one.
DUPLICATE_SIMILARITY = 0.9
RELATED_SIMILARITY = 0.6
RECALLED_CONVERSATIONS = 2


@dataclass(frozen=True)
class MemoryChange:
    action: str  # "added" | "updated" | "replaced" | "kept" (a weaker contradiction left the old fact alone)
    memory: Memory


@dataclass
class Recalled:
    memories: list[Memory] = field(default_factory=list)
    conversations: list[ConversationDigest] = field(default_factory=list)

    def section(self) -> str:
        lines = [f"- {m.text}" for m in self.memories]
        for digest in self.conversations:
            day = time.strftime("%d %b %Y", time.localtime(digest.updated_at))
            lines.append(f'- An earlier conversation, "{digest.title}" ({day}): {digest.summary}')
        return "\n".join(lines)

    def to_list(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = [
            {"id": m.id, "text": m.text, "kind": m.kind, "similarity": round(m.similarity or 0.0, 4)}
            for m in self.memories
        ]
        items += [
            {
                "conversation_id": d.conversation_id,
                "title": d.title,
                "text": f"{d.title}: {d.summary}",
                "kind": "conversation",
                "similarity": round(d.similarity, 4),
            }
            for d in self.conversations
        ]
        return items


class MemoryDatabase(Database):
    what = "The memory database"


class LongTermMemory:
    def __init__(
        self, home: Path, settings: MemorySettings | Callable[[], MemorySettings], embedder: Callable[[], Embedder]
    ) -> None:
        """``settings``: fixed, or a getter of the live ones (the window's, which change while it runs)."""
        self._settings = settings
        self.problem: str | None = None
        self._problem_said = False
        self._recovered = False
        self._failed_this_turn = False
        self._swept = False
        self._checked = False  # the vectors against the memories, once a run (store.restore_vectors)
        self._notices: list[str] = []
        self.duplicate_similarity = DUPLICATE_SIMILARITY
        self.related_similarity = RELATED_SIMILARITY
        try:
            self.db = MemoryDatabase(home / "memory.db")
            self.profiles = ProfileStore(self.db)
            self.store = MemoryStore(self.db, MemoryVectors(home / "vectors", embedder))
        except StorageError as exc:
            raise type(exc)(exc.message, f"Memory and profiles are off until then. {exc.hint}") from exc

    @property
    def settings(self) -> MemorySettings:
        """Read at each use: pausing memory or changing its limits applies from the next turn."""
        return read_section(self._settings)

    def use_settings(self, settings: MemorySettings | Callable[[], MemorySettings]) -> None:
        """Read these from now on (the window hands its live settings to a memory built before it)."""
        self._settings = settings

    @property
    def active(self) -> bool:
        return self.settings.enabled

    def close(self) -> None:
        self.store.vectors.close()
        self.db.close()

    def _failed(self, what: str, exc: Exception) -> None:
        log.exception("memory %s failed", what)
        message = exc.message if isinstance(exc, HearthError) else f"{type(exc).__name__}: {exc}"
        self.problem = f"Memory was not used for this reply: {what} failed ({message}). It will try again next turn."
        self._recovered = False
        self._failed_this_turn = True

    def _worked(self) -> None:
        """A turn's learning, its last step, went through: if nothing else failed in the turn, a
        streak of failures already told ends."""
        if self.problem is not None and self._problem_said and not self._failed_this_turn:
            self.problem, self._problem_said, self._recovered = None, False, True

    def take_notice(self) -> str | None:
        """What the user should hear about memory now: a failure once per streak, then its recovery once."""
        if self.problem is not None and not self._problem_said:
            self._problem_said = True
            return self.problem
        if self._recovered:
            self._recovered = False
            return "Memory works again."
        return self._notices.pop(0) if self._notices else None

    # ----- before a reply -----------------------------------------------------------------------

    def recall(
        self,
        profile_id: int,
        query: str,
        count_tokens: Callable[[str], int],
        exclude_conversation: int | None = None,
    ) -> Recalled:
        """The most relevant memories and past conversations, above the threshold, within the budget.
        Recall is a turn's first use of memory: the turn's failures are counted from here."""
        self._failed_this_turn = False
        recalled = Recalled()
        if not self.active or not query.strip() or self.settings.recall_k == 0:
            return recalled
        if not self._has_anything(profile_id):
            return recalled  # nothing to find: spare the embedder (and torch's import) entirely
        try:
            self._check_vectors()
            memories = self.store.similar(profile_id, query, self.settings.recall_k)
            digests = self.store.similar_conversations(profile_id, query, RECALLED_CONVERSATIONS + 1)
        except Exception as exc:
            self._failed("recall", exc)
            return recalled
        threshold = self.settings.min_similarity
        candidates: list[Memory | ConversationDigest] = [m for m in memories if (m.similarity or 0) >= threshold]
        candidates += [d for d in digests if d.similarity >= threshold and d.conversation_id != exclude_conversation][
            :RECALLED_CONVERSATIONS
        ]
        candidates.sort(key=lambda c: -(c.similarity or 0.0))
        for item in candidates:
            trial = Recalled(list(recalled.memories), list(recalled.conversations))
            if isinstance(item, Memory):
                trial.memories.append(item)
            else:
                trial.conversations.append(item)
            if count_tokens(trial.section()) > self.settings.max_tokens:
                continue  # over budget: a shorter one further down may still fit
            recalled = trial
        return recalled

    def _check_vectors(self) -> None:
        """Once a run, at the first recall: memories whose vectors the store lost are given them
        again from their text, and the user is told."""
        if self._checked:
            return
        restored = self.store.restore_vectors()
        self._checked = True
        if restored:
            log.warning("memory: %d lost vectors rebuilt", restored)
            self._notices.append(
                f"{restored} saved memories had no vectors (the vector store lost them, or a failure kept them "
                "from being written), so recall could not find them; they were rebuilt from the saved text."
            )

    def _has_anything(self, profile_id: int) -> bool:
        rows = self.db.rows(
            "SELECT EXISTS (SELECT 1 FROM memories WHERE profile_id = ?)"
            " OR EXISTS (SELECT 1 FROM conversation_digests WHERE profile_id = ?)",
            (profile_id, profile_id),
        )
        return bool(rows[0][0])

    # ----- after a reply ------------------------------------------------------------------------

    def remember(
        self,
        profile_id: int,
        candidate: Candidate,
        conversation_id: int | None = None,
        message_id: int | None = None,
        judge: Callable[[str, str], Relation] | None = None,
    ) -> MemoryChange:
        """Store a fact, unless it is one already known (then that one is updated) or it replaces one
        (then the old text goes into the memory's history). Only a fact wholly in the user's words
        replaces one: a paraphrase that contradicts an old fact leaves it alone ("kept"), since a
        small model's paraphrase is the likelier to be wrong."""
        source = {"conversation_id": conversation_id, "message_id": message_id}
        nearest = self.store.similar(profile_id, candidate.text, 1)
        if nearest:
            old = nearest[0]
            similarity = old.similarity or 0.0
            verdict: Relation | None = "same" if similarity >= self.duplicate_similarity else None
            if verdict is None and judge is not None and similarity >= self.related_similarity:
                verdict = judge(old.text, candidate.text)
            if verdict == "same":
                return MemoryChange("updated", self.store.update(old.id, candidate.text, "restated", **source))
            if verdict == "contradicts" and candidate.support < 1.0:
                log.info("memory: a less grounded contradiction of memory %d was not saved", old.id)
                return MemoryChange("kept", old)
            if verdict == "contradicts":
                return MemoryChange("replaced", self.store.update(old.id, candidate.text, "contradicted", **source))
        memory = self.store.add(profile_id, candidate.text, candidate.kind, conversation_id, message_id)
        return MemoryChange("added", memory)

    def learn(
        self,
        engine: Engine,
        profile_id: int,
        conversation_id: int,
        title: str,
        user_text: str,
        reply_text: str,
        message_id: int | None,
        cancel: CancelToken | None = None,
        conversation: Sequence[ChatMessage] = (),
    ) -> list[MemoryChange]:
        """After an exchange: store what the user asked to be remembered or what the model found worth
        remembering, and refresh the conversation's digest so it can be recalled later."""
        if not self.active:
            return []

        def judge(old: str, new: str) -> Relation:
            return relation(engine, old, new, cancel, conversation, reply_text)

        changes: list[MemoryChange] = []
        try:
            summary = ""
            explicit = explicit_memory(user_text)
            candidates: list[Candidate] = [explicit] if explicit else []
            if not explicit and self.settings.extract and worth_extracting(user_text):
                extraction = extract(engine, user_text, reply_text, cancel, conversation)
                summary = extraction.summary
                candidates = [
                    replace(c, support=support(c.text, user_text))
                    for c in extraction.candidates
                    if grounded(c, user_text)
                ]
                dropped = len(extraction.candidates) - len(candidates)
                if dropped:
                    log.info("memory: %d proposed facts not grounded in the user's words were dropped", dropped)
            for candidate in candidates:
                change = self.remember(profile_id, candidate, conversation_id, message_id, judge)
                if change.action != "kept":
                    changes.append(change)
            if not self._swept:
                # Once a run, where the vectors are open anyway: drop any a crash left without a row.
                self._swept = True
                swept = self.store.sweep_orphan_vectors()
                if swept:
                    log.info("memory: %d orphan vectors removed", swept)
            previous = self.store.digest(conversation_id)
            digest = summary or _plain_digest(previous.summary if previous else "", user_text)
            self.store.set_digest(conversation_id, profile_id, title, digest, user_text)
        except Cancelled:
            return changes
        except Exception as exc:
            self._failed("saving memories", exc)
            return changes
        self._worked()
        return changes

    def delete_profile(self, key: int | str) -> Profile:
        """Delete a profile and what it remembered; its conversations fall back to the first profile."""
        profile = self.profiles.get(key)
        if len(self.profiles.all()) == 1:
            return self.profiles.delete(key)  # refused, with the reason
        self.store.delete([m.id for m in self.store.memories(profile.id)])
        for row in self.db.rows("SELECT conversation_id FROM conversation_digests WHERE profile_id = ?", (profile.id,)):
            self.store.forget_digest(row["conversation_id"])
        return self.profiles.delete(profile.id)

    def forget_conversation(self, conversation_id: int) -> int:
        return self.store.forget_conversation(conversation_id)


def _plain_digest(previous: str, user_text: str, limit: int = 400) -> str:
    """Without a model summary: the user's own words, newest last, within a few hundred characters."""
    said = " ".join(user_text.split())[:200]
    return (f"{previous} / {said}" if previous else said)[-limit:]
