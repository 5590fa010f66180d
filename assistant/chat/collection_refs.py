"""Which collections a conversation searches, stored by their ids.

A conversation's ``options["collections"]`` lists collection ids (``CollectionInfo.uid``), so a
rename changes nothing. Names are still accepted where they come from: conversations saved before
ids (migrated at start-up by ``migrate_collection_refs``), profiles' default collections (typed by
the user) and ``--collection NAME``; each is replaced by its id the first time it is resolved. A
collection that no longer exists is left out of the turn with a one-line notice, never an error.
"""

from __future__ import annotations

from typing import Any

from assistant.core.store import ConversationStore
from assistant.knowledge.library_index import CollectionInfo
from assistant.knowledge.retriever import Passage, Retrieved


def collection_refs(options: dict[str, Any]) -> list[str]:
    return [str(ref) for ref in options.get("collections", []) if str(ref)]


def default_collections(profile: list[str], last: list[str], known: list[str]) -> list[str]:
    """The collections a new conversation searches (docs/documents.md): the profile's own defaults
    when it names any; else those ticked in the conversation used last, where any still exist; else,
    when the library has exactly one collection, that one; else none (the user ticks them)."""
    if profile:
        return list(profile)
    still_there = [ref for ref in last if ref in known]
    if still_there:
        return still_there
    return list(known) if len(known) == 1 else []


def as_retrieved(found: list[Passage] | Retrieved) -> Retrieved:
    """A retriever's answer: a plain list of passages (a test's fake) means nothing was missing."""
    return found if isinstance(found, Retrieved) else Retrieved(list(found))


def _is_uid(ref: str) -> bool:
    return len(ref) == 32 and all(c in "0123456789abcdef" for c in ref)


def missing_label(ref: str) -> str:
    """How a collection that no longer exists is shown: its name if it was stored by name."""
    return "A removed collection" if _is_uid(ref) else f"{ref} (removed)"


def missing_notice(missing: list[str]) -> str:
    """One line for the turn: which collections were left out, and how to stop it."""
    names = [f"'{ref}'" for ref in missing if not _is_uid(ref)]
    unnamed = len(missing) - len(names)
    parts = names + ([f"{unnamed} removed collection{'s' if unnamed > 1 else ''}"] if unnamed else [])
    return (
        f"Not searched, no longer in the library: {', '.join(parts)}. "
        "Untick it in the conversation's side panel (or leave out --collection)."
    )


def with_ids(options: dict[str, Any], ids: dict[str, str]) -> dict[str, Any] | None:
    """``options`` with each ref in ``ids`` replaced by its collection id; None when nothing changes."""
    refs = collection_refs(options)
    replaced = list(dict.fromkeys(ids.get(ref, ref) for ref in refs))
    if replaced == refs:
        return None
    return {**options, "collections": replaced}


def migrate_collection_refs(store: ConversationStore, collections: list[CollectionInfo]) -> int:
    """Replace collection names stored by conversations from before ids with the ids; returns how
    many conversations changed. Names that match no collection are kept (shown as missing)."""
    by_name = {c.name: c.uid for c in collections}
    uids = {c.uid for c in collections}
    changed = 0
    for conversation in store.conversations():
        ids = {ref: by_name[ref] for ref in collection_refs(conversation.options) if ref not in uids and ref in by_name}
        updated = with_ids(conversation.options, ids) if ids else None
        if updated is not None:
            store.set_options(conversation.id, updated, touch=False)
            changed += 1
    return changed
