"""Conversations refer to collections by id: renaming one changes nothing, removing one drops it
from the turn with a notice, and conversations saved with names are migrated."""

from __future__ import annotations

from pathlib import Path

from assistant.chat.collection_refs import migrate_collection_refs
from assistant.chat.events import TurnFinished, TurnNotice
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore
from tests.fakes import ScriptedEngine


def _library_with_boiler(make_library, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "boiler.txt").write_text("The boiler is serviced every October by Priya Nair.")
    library = make_library()
    library.add("home", [folder])
    library.sync("home")
    return library


def _session(library, store: ConversationStore, engine: ScriptedEngine) -> ChatSession:  # type: ignore[no-untyped-def]
    return ChatSession(store, engine, Settings(), retrieve=lambda refs, q: library.retrieve(q, refs))


def test_a_renamed_collection_is_still_searched_and_a_removed_one_is_left_out_with_a_notice(  # type: ignore[no-untyped-def]
    make_library, store: ConversationStore, tmp_path: Path
) -> None:
    library = _library_with_boiler(make_library, tmp_path)
    engine = ScriptedEngine(["Every October [1].", "I do not know."])
    session = _session(library, store, engine)
    conversation = store.create()
    store.set_options(conversation.id, {"collections": [library.collection("home").uid]})

    library.rename("home", "house")
    events = list(session.send(conversation.id, "When is the boiler serviced?"))
    finished = events[-1]
    assert isinstance(finished, TurnFinished) and finished.sources
    assert not [e for e in events if isinstance(e, TurnNotice)]

    library.remove("house")
    events = list(session.send(conversation.id, "When is the boiler serviced?"))
    notices = [e.text for e in events if isinstance(e, TurnNotice)]
    assert len(notices) == 1 and "no longer in the library" in notices[0] and "\n" not in notices[0]
    finished = events[-1]
    assert isinstance(finished, TurnFinished) and finished.reply.status is MessageStatus.COMPLETE
    assert finished.sources == [] and "<<<passage" not in engine.history[-1][-1].content


def test_conversations_saved_with_names_are_migrated_to_ids(  # type: ignore[no-untyped-def]
    make_library, store: ConversationStore, tmp_path: Path
) -> None:
    library = _library_with_boiler(make_library, tmp_path)
    uid = library.collection("home").uid
    older = store.create()
    store.set_options(older.id, {"collections": ["home", "gone"], "temperature": 0.2})
    newer = store.create()
    order = [c.id for c in store.conversations()]
    assert migrate_collection_refs(store, library.collections()) == 1
    assert store.get(older.id).options == {"collections": [uid, "gone"], "temperature": 0.2}
    assert [c.id for c in store.conversations()] == order  # a migration does not reorder the list
    assert migrate_collection_refs(store, library.collections()) == 0
    assert store.get(newer.id).options == {}

    library.rename("home", "house")
    engine = ScriptedEngine(["Every October [1]."])
    events = list(_session(library, store, engine).send(older.id, "When is the boiler serviced?"))
    assert [e.text for e in events if isinstance(e, TurnNotice)] == [
        "Not searched, no longer in the library: 'gone'. "
        "Untick it in the conversation's side panel (or leave out --collection)."
    ]
    assert isinstance(events[-1], TurnFinished) and events[-1].sources


def test_a_collection_given_by_name_is_stored_by_id_at_the_first_turn(  # type: ignore[no-untyped-def]
    make_library, store: ConversationStore, tmp_path: Path
) -> None:
    """A profile's default collections are names the user typed: the first turn stores their ids."""
    library = _library_with_boiler(make_library, tmp_path)
    conversation = store.create()
    store.set_options(conversation.id, {"collections": ["home"]})
    list(_session(library, store, ScriptedEngine(["Every October [1]."])).send(conversation.id, "Boiler?"))
    assert store.get(conversation.id).options == {"collections": [library.collection("home").uid]}


def test_a_new_conversations_collections_follow_profile_then_last_chat_then_the_only_one() -> None:
    from assistant.chat.collection_refs import default_collections

    a, b, c = "a" * 32, "b" * 32, "c" * 32
    assert default_collections([b], [a], [a, b]) == [b]  # the profile's defaults first
    assert default_collections([], [a, c], [a, b]) == [a]  # the last chat's, those still there
    assert default_collections([], [c], [a]) == [a]  # the only collection
    assert default_collections([], [], [a, b]) == []  # several and no choice yet: none
    assert default_collections([], [], []) == []
